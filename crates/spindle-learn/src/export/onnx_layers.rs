//! Spindle's architectures as ONNX operators, from a run's weights (named
//! as in `model.safetensors`) and its model settings (the spec's JSON).
//!
//! Each function mirrors the network's evaluation-mode forward pass in
//! `crate::model`: the same padding, pooling that drops the tail, batch
//! norm with the running statistics, and the recurrent layers as ONNX's
//! `LSTM`/`GRU` with PyTorch's gates reordered (LSTM `ifgo` -> `iofc`, GRU
//! `rzn` -> `zrh`, `linear_before_reset = 1`) and the biases laid out
//! `[W_b, R_b]`.

use std::collections::HashMap;

use candle_core::Tensor;
use serde_json::Value;

use super::onnx_graph::{Attr, Graph};

/// A run's weights by name, as `[dims]` and row-major values.
pub struct Weights(HashMap<String, (Vec<usize>, Vec<f32>)>);

impl Weights {
    /// The weights of a safetensors file's tensors.
    pub fn new(tensors: &HashMap<String, Tensor>) -> candle_core::Result<Self> {
        let mut map = HashMap::new();
        for (name, t) in tensors {
            let values = t
                .to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            map.insert(name.clone(), (t.dims().to_vec(), values));
        }
        Ok(Self(map))
    }

    /// The tensor `name`.
    pub fn get(&self, name: &str) -> Result<&(Vec<usize>, Vec<f32>), String> {
        self.0
            .get(name)
            .ok_or_else(|| format!("the weights have no tensor {name}"))
    }
}

/// A whole-number setting of the spec's JSON.
fn int(spec: &Value, key: &str) -> Result<usize, String> {
    spec.get(key)
        .and_then(Value::as_u64)
        .map(|v| v as usize)
        .ok_or_else(|| format!("the model settings have no {key}"))
}

/// A real-number setting of the spec's JSON.
fn real(spec: &Value, key: &str) -> Result<f64, String> {
    spec.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("the model settings have no {key}"))
}

/// A list-of-widths setting of the spec's JSON.
fn widths(spec: &Value, key: &str) -> Result<Vec<usize>, String> {
    spec.get(key)
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|v| v.as_u64().map(|x| x as usize)).collect())
        .ok_or_else(|| format!("the model settings have no {key}"))
}

/// Builds the graph from the preprocessed input `x` (`[batch, channels,
/// samples]`) to the logits `[batch, outputs]`, for the spec kind `kind`.
pub fn network(
    g: &mut Graph,
    w: &Weights,
    kind: &str,
    spec: &Value,
    x: &str,
    shape: (usize, usize),
) -> Result<String, String> {
    let channels = shape.0;
    match kind {
        "eegnet" => eegnet(g, w, spec, x, channels),
        "shallow" => shallow(g, w, spec, x),
        "deep4" => deep4(g, w, spec, x),
        "cnn1d" => {
            // `spec` is the spec as built (`export::built_spec`): the
            // pooling is the one chosen for the window.
            let p = int(spec, "pool")?;
            let body = same_conv_stack(g, w, spec, x, p)?;
            let pooled = g.op(
                "ReduceMean",
                &[&body],
                &[("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(0))],
            );
            dense(g, w, &pooled, "fc")
        }
        "m5" => m5(g, w, spec, x),
        "mlp" => mlp(g, w, spec, x),
        "sleep" => sleep(g, w, spec, x, shape),
        "rnn" => {
            let last = recurrent(g, w, spec, x, "rnn")?;
            dense(g, w, &last, "fc")
        }
        "crnn" => {
            let body = same_conv_stack(g, w, spec, x, int(spec, "pool")?)?;
            let last = recurrent(g, w, spec, &body, "rnn")?;
            dense(g, w, &last, "fc")
        }
        other => Err(format!(
            "the ONNX export does not know the architecture {other}"
        )),
    }
}

/// A 1-D convolution `prefix.weight` `[out, in/groups, k]` (and
/// `prefix.bias` when `bias`).
fn conv1d(
    g: &mut Graph,
    w: &Weights,
    x: &str,
    prefix: &str,
    bias: bool,
    stride: usize,
    pads: (usize, usize),
) -> Result<String, String> {
    let (dims, values) = w.get(&format!("{prefix}.weight"))?;
    let weight = g.constant("w", dims, values.clone());
    let mut inputs = vec![x.to_string(), weight];
    if bias {
        let (bd, bv) = w.get(&format!("{prefix}.bias"))?;
        inputs.push(g.constant("b", bd, bv.clone()));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(g.op(
        "Conv",
        &refs,
        &[
            ("kernel_shape", Attr::Ints(vec![dims[2] as i64])),
            ("strides", Attr::Ints(vec![stride as i64])),
            ("pads", Attr::Ints(vec![pads.0 as i64, pads.1 as i64])),
        ],
    ))
}

/// Batch norm with the running statistics of `prefix`.
fn batch_norm(
    g: &mut Graph,
    w: &Weights,
    x: &str,
    prefix: &str,
    eps: f64,
) -> Result<String, String> {
    let mut inputs = vec![x.to_string()];
    for part in ["weight", "bias", "running_mean", "running_var"] {
        let (d, v) = w.get(&format!("{prefix}.{part}"))?;
        inputs.push(g.constant(part, d, v.clone()));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(g.op(
        "BatchNormalization",
        &refs,
        &[("epsilon", Attr::Float(eps as f32))],
    ))
}

/// A linear layer `prefix.weight` `[out, in]`, `prefix.bias` `[out]`.
fn dense(g: &mut Graph, w: &Weights, x: &str, prefix: &str) -> Result<String, String> {
    let (wd, wv) = w.get(&format!("{prefix}.weight"))?;
    let (bd, bv) = w.get(&format!("{prefix}.bias"))?;
    let weight = g.constant("w", wd, wv.clone());
    let bias = g.constant("b", bd, bv.clone());
    Ok(g.op("Gemm", &[x, &weight, &bias], &[("transB", Attr::Int(1))]))
}

/// Pooling with kernel `k` and stride `s` over the last axis (nothing for
/// `k <= 1`); the tail that fills no window is dropped, as in the model.
fn pool(g: &mut Graph, op: &str, x: &str, k: usize, s: usize) -> String {
    if k <= 1 && s <= 1 {
        return x.to_string();
    }
    g.op(
        op,
        &[x],
        &[
            ("kernel_shape", Attr::Ints(vec![k as i64])),
            ("strides", Attr::Ints(vec![s as i64])),
        ],
    )
}

fn reshape(g: &mut Graph, x: &str, shape: &[i64]) -> String {
    let s = g.ints("shape", shape);
    g.op("Reshape", &[x, &s], &[])
}

fn eegnet(
    g: &mut Graph,
    w: &Weights,
    spec: &Value,
    x: &str,
    channels: usize,
) -> Result<String, String> {
    let (f1, d, k, kd) = (
        int(spec, "f1")?,
        int(spec, "d")?,
        int(spec, "kernel_length")?,
        int(spec, "depthwise_kernel_length")?,
    );
    let eps = real(spec, "batch_norm_eps")?;
    let maps = f1 * d;
    let axes = g.ints("axes", &[1]);
    let x4 = g.op("Unsqueeze", &[x, &axes], &[]); // [B, 1, C, T]
    let (_, tw) = w.get("conv_temporal.weight")?;
    let temporal = g.constant("w", &[f1, 1, 1, k], tw.clone());
    let y = g.op(
        "Conv",
        &[&x4, &temporal],
        &[
            ("kernel_shape", Attr::Ints(vec![1, k as i64])),
            (
                "pads",
                Attr::Ints(vec![0, (k / 2) as i64, 0, (k / 2) as i64]),
            ),
        ],
    ); // [B, F1, C, T']
    let y = batch_norm(g, w, &y, "bnorm_temporal", eps)?;
    let (_, sw) = w.get("conv_spatial.weight")?;
    let spatial = g.constant("w", &[maps, 1, channels, 1], sw.clone());
    let y = g.op(
        "Conv",
        &[&y, &spatial],
        &[
            ("kernel_shape", Attr::Ints(vec![channels as i64, 1])),
            ("group", Attr::Int(f1 as i64)),
        ],
    ); // [B, F1*D, 1, T']
    let y = reshape(g, &y, &[0, maps as i64, -1]); // [B, F1*D, T']
    let y = batch_norm(g, w, &y, "bnorm_1", eps)?;
    let y = g.op("Elu", &[&y], &[("alpha", Attr::Float(1.0))]);
    let p1 = int(spec, "pool1")?;
    let y = pool(g, "AveragePool", &y, p1, p1);
    let (_, dw) = w.get("conv_separable_depth.weight")?;
    let depth = g.constant("w", &[maps, 1, kd], dw.clone());
    let y = g.op(
        "Conv",
        &[&y, &depth],
        &[
            ("kernel_shape", Attr::Ints(vec![kd as i64])),
            ("pads", Attr::Ints(vec![(kd / 2) as i64, (kd / 2) as i64])),
            ("group", Attr::Int(maps as i64)),
        ],
    );
    let (pd, pw) = w.get("conv_separable_point.weight")?;
    let point = g.constant("w", &[pd[0], maps, 1], pw.clone());
    let y = g.op(
        "Conv",
        &[&y, &point],
        &[("kernel_shape", Attr::Ints(vec![1]))],
    );
    let y = batch_norm(g, w, &y, "bnorm_2", eps)?;
    let y = g.op("Elu", &[&y], &[("alpha", Attr::Float(1.0))]);
    let p2 = int(spec, "pool2")?;
    let y = pool(g, "AveragePool", &y, p2, p2);
    let y = g.op("Flatten", &[&y], &[("axis", Attr::Int(1))]);
    dense(g, w, &y, "final_layer.conv_classifier")
}

/// The merged temporal and spatial convolution of ShallowFBCSPNet and
/// Deep4Net: kernel `W[g, c, k] = sum_f spat[g, f, c] * time[f, k]`, bias
/// `sum_f (sum_c spat[g, f, c]) * time_bias[f]`, as the model computes it.
fn time_space_conv(g: &mut Graph, w: &Weights, x: &str) -> Result<String, String> {
    let (td, tw) = w.get("conv_time.weight")?;
    let (_, tb) = w.get("conv_time.bias")?;
    let (sd, sw) = w.get("conv_spat.weight")?;
    let (nf, k) = (td[0], td[1]);
    let (ng, nc) = (sd[0], sd[2]);
    let mut kernel = vec![0f32; ng * nc * k];
    let mut bias = vec![0f32; ng];
    for gi in 0..ng {
        let mut b = 0f64;
        for f in 0..nf {
            let mut spat_sum = 0f64;
            for c in 0..nc {
                let s = sw[(gi * nf + f) * nc + c] as f64;
                spat_sum += s;
                for ki in 0..k {
                    kernel[(gi * nc + c) * k + ki] += (s * tw[f * k + ki] as f64) as f32;
                }
            }
            b += spat_sum * tb[f] as f64;
        }
        bias[gi] = b as f32;
    }
    let weight = g.constant("w", &[ng, nc, k], kernel);
    let bias = g.constant("b", &[ng], bias);
    Ok(g.op(
        "Conv",
        &[x, &weight, &bias],
        &[("kernel_shape", Attr::Ints(vec![k as i64]))],
    ))
}

fn shallow(g: &mut Graph, w: &Weights, spec: &Value, x: &str) -> Result<String, String> {
    let y = time_space_conv(g, w, x)?;
    let y = batch_norm(g, w, &y, "bnorm", real(spec, "batch_norm_eps")?)?;
    let y = g.op("Mul", &[&y, &y], &[]);
    let y = pool(
        g,
        "AveragePool",
        &y,
        int(spec, "pool_time_length")?,
        int(spec, "pool_time_stride")?,
    );
    let floor = g.constant("floor", &[], vec![1e-6]);
    let y = g.op("Max", &[&y, &floor], &[]);
    let y = g.op("Log", &[&y], &[]);
    let y = g.op("Flatten", &[&y], &[("axis", Attr::Int(1))]);
    dense(g, w, &y, "final_layer.conv_classifier")
}

fn deep4(g: &mut Graph, w: &Weights, spec: &Value, x: &str) -> Result<String, String> {
    let eps = real(spec, "batch_norm_eps")?;
    let p = int(spec, "pool_time_length")?;
    let y = time_space_conv(g, w, x)?;
    let y = batch_norm(g, w, &y, "bnorm", eps)?;
    let y = g.op("Elu", &[&y], &[("alpha", Attr::Float(1.0))]);
    let mut y = pool(g, "MaxPool", &y, p, p);
    for i in 2..=4 {
        let c = conv1d(g, w, &y, &format!("conv_{i}"), false, 1, (0, 0))?;
        let c = batch_norm(g, w, &c, &format!("bnorm_{i}"), eps)?;
        let c = g.op("Elu", &[&c], &[("alpha", Attr::Float(1.0))]);
        y = pool(g, "MaxPool", &c, p, p);
    }
    let y = g.op("Flatten", &[&y], &[("axis", Attr::Int(1))]);
    dense(g, w, &y, "final_layer.conv_classifier")
}

/// The 1-D CNN's body and the CRNN's front end: 'same' convolutions
/// without bias, batch norm, ReLU, max pool by `p`.
fn same_conv_stack(
    g: &mut Graph,
    w: &Weights,
    spec: &Value,
    x: &str,
    p: usize,
) -> Result<String, String> {
    let k = int(spec, "kernel")?;
    let total = k.saturating_sub(1);
    let mut y = x.to_string();
    for i in 0..widths(spec, "filters")?.len() {
        let c = conv1d(
            g,
            w,
            &y,
            &format!("block{i}.conv"),
            false,
            1,
            (total / 2, total - total / 2),
        )?;
        let c = batch_norm(g, w, &c, &format!("block{i}.bn"), 1e-5)?;
        let c = g.op("Relu", &[&c], &[]);
        y = pool(g, "MaxPool", &c, p, p);
    }
    Ok(y)
}

fn m5(g: &mut Graph, w: &Weights, spec: &Value, x: &str) -> Result<String, String> {
    let p = int(spec, "pool")?;
    let mut y = x.to_string();
    for i in 0..widths(spec, "filters")?.len() {
        let stride = if i == 0 {
            int(spec, "first_stride")?
        } else {
            1
        };
        let c = conv1d(g, w, &y, &format!("conv{i}"), true, stride, (0, 0))?;
        let c = batch_norm(g, w, &c, &format!("bn{i}"), 1e-5)?;
        let c = g.op("Relu", &[&c], &[]);
        y = pool(g, "MaxPool", &c, p, p);
    }
    let y = g.op(
        "ReduceMean",
        &[&y],
        &[("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(0))],
    );
    dense(g, w, &y, "fc")
}

fn mlp(g: &mut Graph, w: &Weights, spec: &Value, x: &str) -> Result<String, String> {
    let mut y = g.op("Flatten", &[x], &[("axis", Attr::Int(1))]);
    for i in 0..widths(spec, "hidden")?.len() {
        let h = dense(g, w, &y, &format!("hidden{i}"))?;
        y = g.op("Relu", &[&h], &[]);
    }
    dense(g, w, &y, "out")
}

fn sleep(
    g: &mut Graph,
    w: &Weights,
    spec: &Value,
    x: &str,
    shape: (usize, usize),
) -> Result<String, String> {
    let (k, p) = (int(spec, "kernel")?, int(spec, "pool")?);
    let (channels, samples) = shape;
    let y = if channels > 1 {
        conv1d(g, w, x, "spatial_conv", true, 1, (0, 0))? // [B, C, T] virtual channels
    } else {
        x.to_string()
    };
    let mut y = reshape(g, &y, &[-1, 1, samples as i64]); // [B*C, 1, T]
    for name in ["feature_extractor.0", "feature_extractor.3"] {
        let c = conv1d(g, w, &y, name, true, 1, (k / 2, k / 2))?;
        let c = g.op("Relu", &[&c], &[]);
        y = pool(g, "MaxPool", &c, p, p); // [B*C, n, T'']
    }
    let (fc, _) = w.get("fc.1.weight")?;
    let y = reshape(g, &y, &[-1, fc[1] as i64]); // [B, C*n*T'']
    dense(g, w, &y, "fc.1")
}

/// Stacked (bi)directional LSTM/GRU over `x` `[B, features, T]`, read out
/// as the model does: `[B, dirs * H]` from the last layer's final states.
fn recurrent(
    g: &mut Graph,
    w: &Weights,
    spec: &Value,
    x: &str,
    prefix: &str,
) -> Result<String, String> {
    let lstm = spec.get("cell").and_then(Value::as_str) == Some("lstm");
    let bidirectional = spec
        .get("bidirectional")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (h, layers) = (int(spec, "hidden")?, int(spec, "layers")?);
    let order: &[usize] = if lstm { &[0, 3, 1, 2] } else { &[1, 0, 2] };
    let gates = order.len();
    let reorder = |v: &[f32], row: usize| -> Vec<f32> {
        order
            .iter()
            .flat_map(|&gate| v[gate * h * row..(gate + 1) * h * row].iter().copied())
            .collect()
    };
    let mut seq = g.op("Transpose", &[x], &[("perm", Attr::Ints(vec![2, 0, 1]))]); // [T, B, F]
    let mut y_h = String::new();
    for l in 0..layers {
        let suffixes: Vec<String> = if bidirectional {
            vec![format!("_l{l}"), format!("_l{l}_reverse")]
        } else {
            vec![format!("_l{l}")]
        };
        let (mut wv, mut rv, mut bv) = (Vec::new(), Vec::new(), Vec::new());
        let mut input = 0;
        for s in &suffixes {
            let (wd, wi) = w.get(&format!("{prefix}.weight_ih{s}"))?;
            let (_, wh) = w.get(&format!("{prefix}.weight_hh{s}"))?;
            let (_, bi) = w.get(&format!("{prefix}.bias_ih{s}"))?;
            let (_, bh) = w.get(&format!("{prefix}.bias_hh{s}"))?;
            input = wd[1];
            wv.extend(reorder(wi, input));
            rv.extend(reorder(wh, h));
            bv.extend(reorder(bi, 1));
            bv.extend(reorder(bh, 1));
        }
        let dirs = suffixes.len();
        let wc = g.constant("w", &[dirs, gates * h, input], wv);
        let rc = g.constant("r", &[dirs, gates * h, h], rv);
        let bc = g.constant("b", &[dirs, 2 * gates * h], bv);
        let mut attrs = vec![
            ("hidden_size", Attr::Int(h as i64)),
            (
                "direction",
                Attr::Str(
                    if bidirectional {
                        "bidirectional"
                    } else {
                        "forward"
                    }
                    .into(),
                ),
            ),
        ];
        if !lstm {
            attrs.push(("linear_before_reset", Attr::Int(1)));
        }
        let op = if lstm { "LSTM" } else { "GRU" };
        let outs = g.op_n(op, &[&seq, &wc, &rc, &bc], &attrs, 2); // Y [T, dirs, B, H], Y_h [dirs, B, H]
        let y = g.op(
            "Transpose",
            &[&outs[0]],
            &[("perm", Attr::Ints(vec![0, 2, 1, 3]))],
        ); // [T, B, dirs, H]
        seq = reshape(g, &y, &[0, 0, -1]); // [T, B, dirs*H]
        y_h = outs[1].clone();
    }
    let last = g.op("Transpose", &[&y_h], &[("perm", Attr::Ints(vec![1, 0, 2]))]); // [B, dirs, H]
    Ok(reshape(g, &last, &[0, -1])) // [B, dirs*H]
}
