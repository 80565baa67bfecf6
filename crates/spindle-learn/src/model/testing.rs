//! Helpers shared by the model tests: building on the CPU, gradient checks,
//! a tiny separable dataset and an overfitting loop.

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::VarMap;
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};

use super::{
    InputShape, ModelSpec, ModelSummary, Network, build, count_trainable_params,
    seeded_var_builder, trainable_vars,
};

/// A built network with its variables.
pub(crate) struct Built {
    pub varmap: VarMap,
    pub net: Box<dyn Network>,
    pub summary: ModelSummary,
}

/// Builds `spec` on the CPU with seeded weights.
pub(crate) fn build_cpu(spec: &ModelSpec, input: &InputShape, seed: u64) -> Built {
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, DType::F32, &Device::Cpu, seed);
    let (net, summary) = match build(spec, input, vb) {
        Ok(built) => built,
        Err(e) => panic!("building {}: {e}", spec.display_name()),
    };
    Built {
        varmap,
        net,
        summary,
    }
}

/// An input shape.
pub(crate) fn shape(channels: usize, samples: usize, n_outputs: usize) -> InputShape {
    InputShape {
        channels,
        samples,
        rate_hz: 250.0,
        n_outputs,
    }
}

/// The trainable parameter count of `name`'s default spec, with its
/// published kernels and poolings (`size_to_window` off), on `input`
/// equals `expected` (PyTorch's count), in the `VarMap` and in the summary.
pub(crate) fn assert_param_count(name: &str, input: &InputShape, expected: usize) {
    let Some(spec) = ModelSpec::by_name(name) else {
        panic!("unknown model {name}")
    };
    let mut json = serde_json::to_value(&spec).unwrap_or_default();
    if let Some(sized) = json.get_mut("size_to_window") {
        *sized = serde_json::Value::Bool(false);
    }
    let Ok(spec) = serde_json::from_value::<ModelSpec>(json) else {
        panic!("{name}: the spec does not read back")
    };
    let built = build_cpu(&spec, input, 0);
    assert_eq!(
        count_trainable_params(&built.varmap),
        expected,
        "{name}: VarMap count"
    );
    assert_eq!(
        built.summary.trainable_params, expected,
        "{name}: summary count"
    );
}

/// Output of a forward pass is `[batch, n_outputs]` in both modes.
pub(crate) fn assert_output_shape(
    spec: &ModelSpec,
    input: &InputShape,
    batch: usize,
) -> Result<()> {
    let built = build_cpu(spec, input, 1);
    let x = Tensor::randn(
        0f32,
        1.,
        (batch, input.channels, input.samples),
        &Device::Cpu,
    )?;
    for train in [true, false] {
        let y = built.net.forward_t(&x, train)?;
        assert_eq!(
            y.dims(),
            [batch, input.n_outputs],
            "{} train={train}",
            spec.display_name()
        );
    }
    Ok(())
}

/// One backward pass of a cross-entropy loss gives every trainable variable
/// a non-zero gradient. Variables named in `bias_before_batch_norm` only get
/// a (numerically zero) gradient in training mode, because the following
/// batch norm removes any constant shift; for them a gradient must exist in
/// training mode and be non-zero in evaluation mode.
pub(crate) fn assert_every_var_gets_gradient(
    spec: &ModelSpec,
    input: &InputShape,
    bias_before_batch_norm: &[&str],
) -> Result<()> {
    let built = build_cpu(spec, input, 2);
    let batch = 6;
    let x = Tensor::randn(
        0f32,
        1.,
        (batch, input.channels, input.samples),
        &Device::Cpu,
    )?;
    let labels: Vec<u32> = (0..batch as u32)
        .map(|i| i % input.n_outputs as u32)
        .collect();
    let y = Tensor::new(labels.as_slice(), &Device::Cpu)?;
    let vars = trainable_vars(&built.varmap);
    assert!(!vars.is_empty());
    for train in [true, false] {
        let loss = candle_nn::loss::cross_entropy(&built.net.forward_t(&x, train)?, &y)?;
        let grads = loss.backward()?;
        for (name, var) in &vars {
            let Some(g) = grads.get(var.as_tensor()) else {
                panic!(
                    "{}: no gradient for {name} (train={train})",
                    spec.display_name()
                )
            };
            assert_eq!(g.dims(), var.dims(), "{name}");
            let max = g.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
            assert!(
                max.is_finite(),
                "{}: gradient of {name} is not finite",
                spec.display_name()
            );
            let exempt = train && bias_before_batch_norm.contains(&name.as_str());
            if !exempt {
                assert!(
                    max > 0.0,
                    "{}: zero gradient for {name} (train={train})",
                    spec.display_name()
                );
            }
        }
    }
    Ok(())
}

/// Two classes told apart by frequency (3 vs 12 cycles per window) and by the
/// sign of an offset on channel 0, plus noise: `([n, C, T], [n])`.
pub(crate) fn separable_data(
    n: usize,
    channels: usize,
    samples: usize,
) -> Result<(Tensor, Tensor)> {
    let mut x = Vec::with_capacity(n * channels * samples);
    let mut y = Vec::with_capacity(n);
    let mut state = 12345u64;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    for i in 0..n {
        let class = i % 2;
        let cycles = if class == 0 { 3.0 } else { 12.0 };
        let phase = noise() * 6.0;
        for c in 0..channels {
            let offset = if c == 0 {
                if class == 0 { -0.5 } else { 0.5 }
            } else {
                0.0
            };
            for t in 0..samples {
                let s = (2.0 * std::f64::consts::PI * cycles * t as f64 / samples as f64
                    + phase
                    + c as f64)
                    .sin();
                x.push((s + offset + 0.3 * noise()) as f32);
            }
        }
        y.push(class as u32);
    }
    Ok((
        Tensor::from_vec(x, (n, channels, samples), &Device::Cpu)?,
        Tensor::from_vec(y, n, &Device::Cpu)?,
    ))
}

/// Fraction of `x` classified as `y`.
pub(crate) fn accuracy(net: &dyn Network, x: &Tensor, y: &Tensor, train: bool) -> Result<f32> {
    let pred = net.forward_t(x, train)?.argmax(1)?;
    let correct = pred
        .eq(y)?
        .to_dtype(DType::F32)?
        .sum_all()?
        .to_scalar::<f32>()?;
    Ok(correct / y.dim(0)? as f32)
}

/// Trains `spec` (dropout-free) with AdamW on 16 windows of two classes until
/// the training accuracy (batch statistics, as trained) reaches 100% and the
/// cross-entropy falls below 0.1, within `max_steps`; returns the steps taken.
pub(crate) fn assert_overfits(
    spec: &ModelSpec,
    channels: usize,
    samples: usize,
    lr: f64,
    max_steps: usize,
) -> Result<usize> {
    let input = shape(channels, samples, 2);
    let built = build_cpu(spec, &input, 3);
    let (x, y) = separable_data(16, channels, samples)?;
    let vars = trainable_vars(&built.varmap)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr,
            ..Default::default()
        },
    )?;
    for step in 1..=max_steps {
        let loss = candle_nn::loss::cross_entropy(&built.net.forward_t(&x, true)?, &y)?;
        opt.backward_step(&loss)?;
        if step % 5 == 0 {
            // Dropout-free spec: the training-mode forward is deterministic.
            let loss = candle_nn::loss::cross_entropy(&built.net.forward_t(&x, true)?, &y)?
                .to_scalar::<f32>()?;
            if loss < 0.1 && accuracy(built.net.as_ref(), &x, &y, true)? == 1.0 {
                return Ok(step);
            }
        }
    }
    let acc = accuracy(built.net.as_ref(), &x, &y, true)?;
    panic!(
        "{} reached only {acc} training accuracy in {max_steps} steps",
        spec.display_name()
    )
}
