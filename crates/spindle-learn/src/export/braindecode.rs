//! A run as a braindecode state dict: braindecode's exact keys and shapes
//! (`braindecode.models.EEGNet`, `ShallowFBCSPNet`, `Deep4Net`,
//! `SleepStagerChambon2018` of braindecode 1.8), with the constructor arguments, the input unit, the
//! scale from MNE's volts and the normalization as safetensors metadata.
//! `tools/load_in_braindecode.py` builds the model from it.
//!
//! Where Spindle's network differs from braindecode's (another batch-norm
//! epsilon, an architecture braindecode lacks), the export is refused.
//!
//! braindecode's EEGNet keeps its spatial filters behind a `MaxNorm`
//! parametrization that rescales them on every forward pass (norm over
//! axis 0 of `[F1*D, 1, C, 1]`, clamped to `[max/2, max]`, divided by the
//! norm + 1e-5). The exported `...weight.original` is the pre-image of
//! Spindle's weight under it, and `conv_spatial_max_norm` is raised above
//! 1 when a column's norm exceeds 1, so braindecode computes with
//! Spindle's weights exactly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde_json::{Value, json};
use spindle_signals::recording::microvolts_per_unit;

use super::{ExportError, check_preprocessing, load_weights, onnx_layers::Weights};
use crate::dataset::Normalization;
use crate::train::{DeviceChoice, RunInfo, load_run};

/// braindecode's `MaxNorm` epsilon.
const MAX_NORM_EPS: f64 = 1e-5;

/// A braindecode state dict and what a loader needs to use it.
pub struct BraindecodeExport {
    /// Tensors by braindecode's names.
    pub tensors: HashMap<String, Tensor>,
    /// Safetensors metadata: `braindecode_class`, `constructor` (JSON),
    /// `input_unit`, `scale_from_volts`, `normalization` (JSON), `channels`,
    /// `rate_hz`, `window_samples`, `classes`, `spindle_version`.
    pub metadata: BTreeMap<String, String>,
}

/// The factor from volts to `unit` (`1e6` for µV), when the unit is one.
fn scale_from_volts(unit: &str) -> Option<f64> {
    microvolts_per_unit(unit).map(|uv| 1e6 / uv)
}

struct Builder<'a> {
    w: &'a Weights,
    out: HashMap<String, Tensor>,
}

impl Builder<'_> {
    /// Copies `from` as `to`, reshaped to `dims`.
    fn put(&mut self, from: &str, to: &str, dims: &[usize]) -> Result<(), String> {
        let (_, v) = self.w.get(from)?;
        self.put_values(to, dims, v.clone())
    }

    fn put_values(&mut self, to: &str, dims: &[usize], v: Vec<f32>) -> Result<(), String> {
        let t = Tensor::from_vec(v, dims, &Device::Cpu).map_err(|e| format!("{to}: {e}"))?;
        self.out.insert(to.to_string(), t);
        Ok(())
    }

    /// A batch norm's four tensors and braindecode's `num_batches_tracked`.
    fn batch_norm(&mut self, from: &str, to: &str) -> Result<(), String> {
        for part in ["weight", "bias", "running_mean", "running_var"] {
            let (d, _) = self.w.get(&format!("{from}.{part}"))?;
            let d = d.clone();
            self.put(&format!("{from}.{part}"), &format!("{to}.{part}"), &d)?;
        }
        let zero = Tensor::new(0i64, &Device::Cpu)
            .and_then(|t| t.to_dtype(DType::I64))
            .map_err(|e| e.to_string())?;
        self.out.insert(format!("{to}.num_batches_tracked"), zero);
        Ok(())
    }

    fn dims(&self, name: &str) -> Result<Vec<usize>, String> {
        Ok(self.w.get(name)?.0.clone())
    }
}

fn int(spec: &Value, key: &str) -> usize {
    spec.get(key).and_then(Value::as_u64).unwrap_or(0) as usize
}

fn real(spec: &Value, key: &str) -> f64 {
    spec.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The `MaxNorm` pre-image of `w` `[filters, channels]` (see the module
/// documentation) and the max-norm value to build braindecode's model with.
fn max_norm_preimage(w: &[f32], filters: usize, channels: usize) -> (Vec<f32>, f64) {
    let norms: Vec<f64> = (0..channels)
        .map(|c| {
            (0..filters)
                .map(|f| (w[f * channels + c] as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let largest = norms.iter().copied().fold(0.0, f64::max);
    let max = if largest < 1.0 {
        1.0
    } else {
        (largest * 1.01).ceil()
    };
    let half = max / 2.0;
    let scale: Vec<f64> = norms
        .iter()
        .map(|&n| {
            let below = (half + MAX_NORM_EPS) / half;
            if n == 0.0 || n * below < half {
                below
            } else {
                (n + (n * n + 4.0 * n * MAX_NORM_EPS).sqrt()) / (2.0 * n)
            }
        })
        .collect();
    let out = (0..filters * channels)
        .map(|i| (w[i] as f64 * scale[i % channels]) as f32)
        .collect();
    (out, max)
}

fn eegnet(b: &mut Builder, spec: &Value, info: &RunInfo) -> Result<Value, String> {
    let (f1, d, k, kd) = (
        int(spec, "f1"),
        int(spec, "d"),
        int(spec, "kernel_length"),
        int(spec, "depthwise_kernel_length"),
    );
    let (maps, c) = (f1 * d, info.input_channels);
    b.put(
        "conv_temporal.weight",
        "conv_temporal.weight",
        &[f1, 1, 1, k],
    )?;
    b.batch_norm("bnorm_temporal", "bnorm_temporal")?;
    let (_, sw) = b.w.get("conv_spatial.weight")?;
    let (original, max_norm) = max_norm_preimage(sw, maps, c);
    b.put_values(
        "conv_spatial.parametrizations.weight.original",
        &[maps, 1, c, 1],
        original,
    )?;
    b.batch_norm("bnorm_1", "bnorm_1")?;
    b.put(
        "conv_separable_depth.weight",
        "conv_separable_depth.weight",
        &[maps, 1, 1, kd],
    )?;
    let f2 = b.dims("conv_separable_point.weight")?[0];
    b.put(
        "conv_separable_point.weight",
        "conv_separable_point.weight",
        &[f2, maps, 1, 1],
    )?;
    b.batch_norm("bnorm_2", "bnorm_2")?;
    let fd = b.dims("final_layer.conv_classifier.weight")?;
    b.put(
        "final_layer.conv_classifier.weight",
        "final_layer.conv_classifier.weight",
        &[fd[0], f2, 1, fd[1] / f2.max(1)],
    )?;
    let bd = b.dims("final_layer.conv_classifier.bias")?;
    b.put(
        "final_layer.conv_classifier.bias",
        "final_layer.conv_classifier.bias",
        &bd,
    )?;
    Ok(json!({
        "F1": f1, "D": d, "F2": f2, "kernel_length": k,
        "depthwise_kernel_length": kd,
        "pool1_kernel_size": int(spec, "pool1"), "pool2_kernel_size": int(spec, "pool2"),
        "conv_spatial_max_norm": max_norm,
        "batch_norm_momentum": real(spec, "batch_norm_momentum"),
        "batch_norm_eps": real(spec, "batch_norm_eps"),
        "drop_prob": real(spec, "dropout"),
        "pool_mode": "mean", "final_conv_length": "auto",
    }))
}

/// The split first layer of ShallowFBCSPNet and Deep4Net under `prefix`.
fn time_space(b: &mut Builder, prefix: &str) -> Result<(), String> {
    let td = b.dims("conv_time.weight")?;
    let sd = b.dims("conv_spat.weight")?;
    b.put(
        "conv_time.weight",
        &format!("{prefix}conv_time.weight"),
        &[td[0], 1, td[1], 1],
    )?;
    b.put(
        "conv_time.bias",
        &format!("{prefix}conv_time.bias"),
        &[td[0]],
    )?;
    b.put(
        "conv_spat.weight",
        &format!("{prefix}conv_spat.weight"),
        &[sd[0], sd[1], 1, sd[2]],
    )?;
    b.batch_norm("bnorm", "bnorm")
}

/// The classifier conv `[n, F, T, 1]` from Spindle's `[n, F * T]`.
fn classifier(b: &mut Builder, filters: usize) -> Result<(), String> {
    let fd = b.dims("final_layer.conv_classifier.weight")?;
    b.put(
        "final_layer.conv_classifier.weight",
        "final_layer.conv_classifier.weight",
        &[fd[0], filters, fd[1] / filters.max(1), 1],
    )?;
    b.put(
        "final_layer.conv_classifier.bias",
        "final_layer.conv_classifier.bias",
        &[fd[0]],
    )
}

fn shallow(b: &mut Builder, spec: &Value) -> Result<Value, String> {
    time_space(b, "conv_time_spat.")?;
    classifier(b, int(spec, "n_filters_spat"))?;
    Ok(json!({
        "n_filters_time": int(spec, "n_filters_time"),
        "filter_time_length": int(spec, "filter_time_length"),
        "n_filters_spat": int(spec, "n_filters_spat"),
        "pool_time_length": int(spec, "pool_time_length"),
        "pool_time_stride": int(spec, "pool_time_stride"),
        "batch_norm_alpha": real(spec, "batch_norm_momentum"),
        "drop_prob": real(spec, "dropout"),
        "final_conv_length": "auto",
    }))
}

fn deep4(b: &mut Builder, spec: &Value) -> Result<Value, String> {
    time_space(b, "conv_time_spat.")?;
    for i in 2..=4 {
        let d = b.dims(&format!("conv_{i}.weight"))?;
        b.put(
            &format!("conv_{i}.weight"),
            &format!("conv_{i}.weight"),
            &[d[0], d[1], d[2], 1],
        )?;
        b.batch_norm(&format!("bnorm_{i}"), &format!("bnorm_{i}"))?;
    }
    classifier(b, int(spec, "n_filters_4"))?;
    let mut args = json!({"final_conv_length": "auto", "drop_prob": real(spec, "dropout"),
        "batch_norm_alpha": real(spec, "batch_norm_momentum")});
    for key in [
        "n_filters_time",
        "n_filters_spat",
        "filter_time_length",
        "pool_time_length",
        "pool_time_stride",
        "n_filters_2",
        "filter_length_2",
        "n_filters_3",
        "filter_length_3",
        "n_filters_4",
        "filter_length_4",
    ] {
        args[key] = json!(int(spec, key));
    }
    Ok(args)
}

/// A length in samples as braindecode's sleep stager takes it, in seconds
/// that its `ceil(seconds * sfreq)` turns back into `samples` exactly (a
/// quarter sample under, so rounding in the product cannot add one).
fn seconds_for(samples: usize, sfreq: f64) -> f64 {
    (samples as f64 - 0.25) / sfreq
}

/// `SleepStagerChambon2018`: Spindle's convolutions `[n, c, K]` become
/// braindecode's `[n, c, 1, K]`, its spatial mix `[C, C, 1]` a
/// `[C, 1, C, 1]`; the classifier's inputs are reordered from Spindle's
/// (virtual channel, filter, time) flattening to braindecode's (filter,
/// virtual channel, time).
fn sleep(b: &mut Builder, spec: &Value, info: &RunInfo) -> Result<Value, String> {
    let (filters, kernel, pool) = (int(spec, "filters"), int(spec, "kernel"), int(spec, "pool"));
    let c = info.input_channels;
    if c > 1 {
        b.put("spatial_conv.weight", "spatial_conv.weight", &[c, 1, c, 1])?;
        b.put("spatial_conv.bias", "spatial_conv.bias", &[c])?;
    }
    b.put(
        "feature_extractor.0.weight",
        "feature_extractor.0.weight",
        &[filters, 1, 1, kernel],
    )?;
    b.put(
        "feature_extractor.0.bias",
        "feature_extractor.0.bias",
        &[filters],
    )?;
    b.put(
        "feature_extractor.3.weight",
        "feature_extractor.4.weight",
        &[filters, filters, 1, kernel],
    )?;
    b.put(
        "feature_extractor.3.bias",
        "feature_extractor.4.bias",
        &[filters],
    )?;
    let (dims, w) = b.w.get("fc.1.weight")?;
    let (outputs, inputs) = (dims[0], dims[1]);
    let t = inputs / (c * filters).max(1);
    if t * c * filters != inputs {
        return Err(format!(
            "fc.1.weight has {inputs} inputs, not a multiple of {c} channels x {filters} filters"
        ));
    }
    let mut reordered = vec![0.0f32; w.len()];
    for o in 0..outputs {
        for ch in 0..c {
            for f in 0..filters {
                for s in 0..t {
                    let ours = o * inputs + (ch * filters + f) * t + s;
                    let theirs = o * inputs + (f * c + ch) * t + s;
                    reordered[theirs] = w[ours];
                }
            }
        }
    }
    b.put_values("final_layer.1.weight", &[outputs, inputs], reordered)?;
    b.put("fc.1.bias", "final_layer.1.bias", &[outputs])?;
    let sfreq = info.input_rate_hz;
    Ok(json!({
        "sfreq": sfreq,
        "n_conv_chs": filters,
        "time_conv_size_s": seconds_for(kernel, sfreq),
        "max_pool_size_s": seconds_for(pool, sfreq),
        "pad_size_s": seconds_for(kernel / 2, sfreq),
        "drop_prob": real(spec, "dropout"),
        "apply_batch_norm": false,
        "return_feats": false,
    }))
}

/// The braindecode state dict of the run in `dir`, with its metadata.
/// Refused (one line) for architectures braindecode lacks, settings its
/// models cannot take, and preprocessing over whole recordings that the
/// loader does not repeat (filters, spectrograms).
pub fn export_braindecode(dir: &Path) -> Result<BraindecodeExport, ExportError> {
    let run = load_run(dir, DeviceChoice::Cpu)?;
    let info = &run.info;
    let refuse = |reason: String| ExportError::refused(dir, reason);
    if let Err(e) = check_preprocessing(dir, info)
        && info.normalization_mode != Normalization::Ems
    {
        return Err(e);
    }
    if info.regression {
        return Err(refuse(
            "a regression run has no braindecode classifier to become".into(),
        ));
    }
    let spec = super::built_spec(info);
    let kind = info.model.kind();
    let eps = real(&spec, "batch_norm_eps");
    if matches!(kind, "shallow" | "deep4") && (eps - 1e-5).abs() > 1e-12 {
        return Err(refuse(format!(
            "braindecode's {kind} uses a batch-norm epsilon of 1e-5, this run {eps}"
        )));
    }
    let weights = load_weights(dir)?;
    let mut b = Builder {
        w: &weights,
        out: HashMap::new(),
    };
    let (class, args) = match kind {
        "eegnet" => ("EEGNet", eegnet(&mut b, &spec, info)),
        "shallow" => ("ShallowFBCSPNet", shallow(&mut b, &spec)),
        "deep4" => ("Deep4Net", deep4(&mut b, &spec)),
        "sleep" => ("SleepStagerChambon2018", sleep(&mut b, &spec, info)),
        _ => {
            return Err(refuse(format!(
                "braindecode has no {} (braindecode exports: EEGNet, ShallowConvNet, Deep4Net, the sleep stager; use --to onnx)",
                info.model.display_name()
            )));
        }
    };
    let mut args_value = args.map_err(refuse)?;
    args_value["n_chans"] = json!(info.input_channels);
    args_value["n_outputs"] = json!(info.classes.len());
    args_value["n_times"] = json!(info.input_len);
    let unit = info.input_unit.clone().unwrap_or_default();
    let mut metadata = BTreeMap::new();
    metadata.insert("format".to_string(), "pt".to_string());
    metadata.insert("braindecode_class".into(), class.into());
    metadata.insert("constructor".into(), args_value.to_string());
    metadata.insert("input_unit".into(), unit.clone());
    if let Some(s) = scale_from_volts(&unit) {
        metadata.insert("scale_from_volts".into(), s.to_string());
    }
    metadata.insert(
        "normalization".into(),
        json!({
            "mode": info.normalization_mode,
            "mean": info.normalization.mean,
            "std": info.normalization.std,
        })
        .to_string(),
    );
    metadata.insert("channels".into(), json!(info.channels).to_string());
    metadata.insert("rate_hz".into(), info.rate_hz.to_string());
    metadata.insert("window_samples".into(), info.window_len.to_string());
    metadata.insert("stride_samples".into(), info.stride_len.to_string());
    metadata.insert("classes".into(), json!(info.classes).to_string());
    metadata.insert("spindle_version".into(), info.spindle_version.clone());
    Ok(BraindecodeExport {
        tensors: b.out,
        metadata,
    })
}

impl BraindecodeExport {
    /// Writes the state dict and metadata to `path` (safetensors).
    pub fn save(&self, path: &Path) -> Result<(), ExportError> {
        crate::train::save_weights(&self.tensors, &self.metadata, path).map_err(ExportError::from)
    }
}
