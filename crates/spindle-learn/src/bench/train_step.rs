//! Training throughput of the eight standard configurations (see
//! [`STANDARD_CONFIGS`], the same as the PyTorch baseline scripts): batch 64,
//! AdamW lr 1e-3 (the trainer's, `train::adamw`), cross-entropy, random data. Each result carries the wall
//! time of the median step, the process CPU time per step (`getrusage`, all
//! threads) and the instruction set the kernels ran.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{ParamsAdamW, VarMap};
use spindle_signals::rng::Rng;

use crate::model::{
    self, InputShape, ModelError, ModelSpec, count_trainable_params, seeded_var_builder,
    trainable_vars,
};

use super::cpu_time::process_cpu_seconds;
use crate::train::adamw::AdamW;

/// One standard configuration.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The name printed (`eegnet`, `shallow`, `deep4`, `lstm`, `gru`,
    /// `cnn1d-audio`, `crnn`, `sleep`).
    pub name: &'static str,
    /// The model name for [`ModelSpec::by_name`].
    pub model: &'static str,
    /// Input channels.
    pub channels: usize,
    /// Input samples.
    pub samples: usize,
    /// Classes.
    pub classes: usize,
    /// Sampling rate the model is built for (Hz).
    pub rate_hz: f64,
}

/// The eight standard configurations: EEGNet, ShallowConvNet and Deep4Net on
/// 22 x 1000 (250 Hz), LSTM and GRU (2 x 64) on 22 x 250, M5 on 1 x 16000
/// raw audio, the CRNN with its defaults (convolutions 32-32-64, kernel 7,
/// pool 3, bidirectional GRU 64) on 22 x 1000, and the Chambers 2018 sleep
/// stager on 2 channels x 30 s at 100 Hz, 5 stages.
pub const STANDARD_CONFIGS: [BenchConfig; 8] = [
    BenchConfig {
        name: "eegnet",
        model: "eegnet",
        channels: 22,
        samples: 1000,
        classes: 4,
        rate_hz: 250.0,
    },
    BenchConfig {
        name: "shallow",
        model: "shallow",
        channels: 22,
        samples: 1000,
        classes: 4,
        rate_hz: 250.0,
    },
    BenchConfig {
        name: "deep4",
        model: "deep4",
        channels: 22,
        samples: 1000,
        classes: 4,
        rate_hz: 250.0,
    },
    BenchConfig {
        name: "lstm",
        model: "lstm",
        channels: 22,
        samples: 250,
        classes: 4,
        rate_hz: 250.0,
    },
    BenchConfig {
        name: "gru",
        model: "gru",
        channels: 22,
        samples: 250,
        classes: 4,
        rate_hz: 250.0,
    },
    BenchConfig {
        name: "cnn1d-audio",
        model: "m5",
        channels: 1,
        samples: 16_000,
        classes: 10,
        rate_hz: 16_000.0,
    },
    BenchConfig {
        name: "crnn",
        model: "crnn",
        channels: 22,
        samples: 1000,
        classes: 4,
        rate_hz: 250.0,
    },
    BenchConfig {
        name: "sleep",
        model: "sleep",
        channels: 2,
        samples: 3000,
        classes: 5,
        rate_hz: 100.0,
    },
];

/// What one training benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainBenchResult {
    /// Configuration name.
    pub name: String,
    /// Training windows per second.
    pub samples_per_s: f64,
    /// Median milliseconds per optimizer step (wall clock).
    pub step_ms: f64,
    /// CPU milliseconds per step of the whole process, all threads
    /// (`getrusage(RUSAGE_SELF)` over the timed steps; 0 where unavailable).
    pub cpu_ms_per_step: f64,
    /// The instruction set the kernels ran (`avx512`, `avx2`, `portable`).
    pub isa: String,
    /// Trainable parameters.
    pub params: usize,
    /// Compute threads.
    pub threads: usize,
    /// Device name.
    pub device: String,
}

/// The architecture `name` with the papers' sizes in samples, not sized to
/// the window and rate: the networks the PyTorch side of the comparison
/// builds, so that both sides do the same work.
fn paper_spec(name: &str) -> Result<ModelSpec, ModelError> {
    let unknown = |detail: String| ModelError::InvalidInput {
        reason: format!("unknown model {name}{detail}"),
    };
    let spec = ModelSpec::by_name(name).ok_or_else(|| unknown(String::new()))?;
    let mut value = serde_json::to_value(&spec).map_err(|e| unknown(format!(": {e}")))?;
    if let Some(sized) = value.get_mut("size_to_window") {
        *sized = serde_json::Value::Bool(false);
    }
    serde_json::from_value(value).map_err(|e| unknown(format!(": {e}")))
}

/// Times training steps of `config` with batch 64 on `device`: `warmup`
/// untimed steps, then at least `min_steps` timed steps and at least
/// `min_seconds` of them; the median step time gives the throughput.
pub fn bench_train_step(
    config: &BenchConfig,
    device: &Device,
    warmup: usize,
    min_steps: usize,
    min_seconds: f64,
) -> Result<TrainBenchResult, ModelError> {
    let batch = 64;
    let spec = paper_spec(config.model)?;
    let input = InputShape {
        channels: config.channels,
        samples: config.samples,
        rate_hz: config.rate_hz,
        n_outputs: config.classes,
    };
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, DType::F32, device, 0);
    let (net, _) = model::build(&spec, &input, vb)?;
    let params = count_trainable_params(&varmap);
    let vars = trainable_vars(&varmap)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let mut rng = Rng::new(0);
    let x: Vec<f32> = (0..batch * config.channels * config.samples)
        .map(|_| rng.normal() as f32)
        .collect();
    let y: Vec<u32> = (0..batch)
        .map(|_| rng.below(config.classes) as u32)
        .collect();
    let x = Tensor::from_vec(x, (batch, config.channels, config.samples), device)?;
    let y = Tensor::from_vec(y, batch, device)?;
    let mut step = || -> Result<f64, ModelError> {
        let t = Instant::now();
        let logits = net.forward_t(&x, true)?;
        let loss = crate::train::cross_entropy(&logits, &y, None)?;
        opt.step(&loss.backward()?)?;
        device.synchronize()?;
        Ok(t.elapsed().as_secs_f64())
    };
    for _ in 0..warmup {
        step()?;
    }
    let mut times = Vec::new();
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    while times.len() < min_steps || started.elapsed().as_secs_f64() < min_seconds {
        times.push(step()?);
    }
    let cpu_s = match (cpu_before, process_cpu_seconds()) {
        (Some(a), Some(b)) => (b - a) / times.len() as f64,
        _ => 0.0,
    };
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    Ok(TrainBenchResult {
        name: config.name.to_string(),
        samples_per_s: batch as f64 / median,
        step_ms: median * 1000.0,
        cpu_ms_per_step: cpu_s * 1000.0,
        isa: spindle_kernels::isa::Isa::best().name().to_string(),
        params,
        threads: candle_core::utils::get_num_threads(),
        device: crate::train::device_name(device),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configurations_build_the_papers_sizes_as_the_pytorch_side_does() {
        for config in &STANDARD_CONFIGS {
            let spec = paper_spec(config.model).unwrap();
            let input = InputShape {
                channels: config.channels,
                samples: config.samples,
                rate_hz: config.rate_hz,
                n_outputs: config.classes,
            };
            let (_, notes) = spec.sized_for(&input);
            assert!(notes.is_empty(), "{}: {notes:?}", config.name);
        }
        // Sized, EEGNet's temporal kernel at 250 Hz would be 125 samples.
        let (_, sized) = ModelSpec::by_name("eegnet")
            .unwrap()
            .sized_for(&InputShape {
                channels: 22,
                samples: 1000,
                rate_hz: 250.0,
                n_outputs: 4,
            });
        assert!(!sized.is_empty());
        assert!(paper_spec("nonesuch").is_err());
    }
}
