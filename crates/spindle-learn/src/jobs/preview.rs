//! A dry run of a training job: the dataset it would build and the model's
//! layers for it, without training — what the app's dataset and model panels
//! show before the user presses Start.

use candle_core::{DType, Device};
use candle_nn::VarMap;

use super::{TrainJobSpec, build_job_dataset};
use crate::dataset::{DatasetSummary, SplitName};
use crate::model::{self, InputShape, ModelSummary};
use crate::train::{DeviceChoice, Failure, available_memory_bytes, check_step_fits};

/// What a training job would work with.
#[derive(Debug, Clone)]
pub struct Preview {
    /// Window counts per split and class, how splits were made, warnings.
    pub summary: DatasetSummary,
    /// Class names (empty for regression).
    pub classes: Vec<String>,
    /// Channel labels in model input order.
    pub channels: Vec<String>,
    /// Common sample rate, Hz.
    pub rate_hz: f64,
    /// Window length, seconds.
    pub window_s: f64,
    /// Step between windows, seconds.
    pub stride_s: f64,
    /// Windows per split: training, validation, test.
    pub windows: [usize; 3],
    /// Where each window lies: `(file, split, onset_s)`, for drawing them on the traces.
    pub placements: Vec<(std::path::PathBuf, SplitName, f64)>,
    /// The model's layers for these windows, or why it cannot take them.
    pub model: Result<ModelSummary, String>,
    /// Share of the validation windows in its most common class (chance level).
    pub chance: Option<f64>,
    /// Warnings from reading the recordings.
    pub load_warnings: Vec<String>,
}

/// Builds the dataset of `spec` and its model's summary (on the CPU, from a
/// zero window). Slow for large data: call it on a worker thread.
pub fn preview(spec: &TrainJobSpec) -> Result<Preview, Failure> {
    let mut load_warnings = Vec::new();
    let (dataset, _config) = build_job_dataset(spec, &mut load_warnings, &mut Default::default())?;
    let input = InputShape {
        channels: dataset.input_channels,
        samples: dataset.input_len,
        rate_hz: dataset.input_rate_hz,
        n_outputs: if dataset.regression {
            1
        } else {
            dataset.classes.len()
        },
    };
    let varmap = VarMap::new();
    let vb = model::seeded_var_builder(&varmap, DType::F32, &Device::Cpu, 0);
    let model = model::build(&spec.model, &input, vb)
        .map(|(_, summary)| summary)
        .map_err(|e| e.to_string());
    let mut summary = dataset.summary.clone();
    if let Ok(layers) = &model {
        summary.warnings.extend(memory_warning(
            layers,
            input.channels * input.samples,
            spec.train.batch_for(dataset.train.len()),
            dataset.train.len(),
            trains_on_cpu(spec.train.device)
                .then(available_memory_bytes)
                .flatten(),
        ));
    }
    let chance = dataset
        .summary
        .counts
        .get(&SplitName::Validation)
        .and_then(|counts| {
            let total: usize = counts.values().sum();
            let max = counts.values().copied().max()?;
            (total > 0).then(|| max as f64 / total as f64)
        });
    let files = &dataset.files;
    let placements = [
        (SplitName::Train, &dataset.train),
        (SplitName::Validation, &dataset.validation),
        (SplitName::Test, &dataset.test),
    ]
    .into_iter()
    .flat_map(|(split, data)| {
        data.windows
            .iter()
            .map(move |w| (files[w.source].clone(), split, w.onset_s))
    })
    .collect();
    Ok(Preview {
        summary,
        classes: dataset.classes.clone(),
        channels: dataset.channels.clone(),
        rate_hz: dataset.rate_hz,
        window_s: dataset.window_len as f64 / dataset.rate_hz,
        stride_s: dataset.stride_len as f64 / dataset.rate_hz,
        windows: [
            dataset.train.len(),
            dataset.validation.len(),
            dataset.test.len(),
        ],
        placements,
        model,
        chance,
        load_warnings,
    })
}

/// True when training on `choice` runs on the CPU (whose free memory the
/// check knows): asked for, or `auto` in a build or on a machine without GPU.
fn trains_on_cpu(choice: DeviceChoice) -> bool {
    match choice {
        DeviceChoice::Cpu => true,
        DeviceChoice::Auto => {
            !candle_core::utils::cuda_is_available() && !candle_core::utils::metal_is_available()
        }
        DeviceChoice::Cuda | DeviceChoice::Metal => false,
    }
}

/// The warning that training will stop at once because one step of `batch`
/// windows does not fit in `available_bytes` (`None`: not known, no warning).
fn memory_warning(
    layers: &ModelSummary,
    input_values_per_window: usize,
    batch: usize,
    n_train: usize,
    available_bytes: Option<u64>,
) -> Option<String> {
    check_step_fits(
        layers,
        input_values_per_window,
        batch,
        n_train,
        available_bytes,
        "cpu",
    )
    .err()
    .map(|shortfall| format!("training would stop at once: {shortfall}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerInfo;

    #[test]
    fn the_preview_warns_of_a_batch_that_will_not_fit() {
        // 100 input values and 100 outputs a window: 1,600 bytes; no parameters.
        let layers = ModelSummary::new(
            vec![LayerInfo {
                name: "conv".into(),
                output_shape: vec![100],
                params: 0,
            }],
            1,
            100.0,
        );
        assert_eq!(
            memory_warning(&layers, 100, 64, 1000, Some(16_000)).as_deref(),
            Some(
                "training would stop at once: --batch: one training step on a batch of 64 windows needs at least 102 kB (the windows and every layer's output with their gradients, and the weights with AdamW's state), but only 16 kB of memory is free; set the batch size to 10 or less (--batch 10), or use shorter windows or a smaller model"
            )
        );
        assert_eq!(memory_warning(&layers, 100, 10, 1000, Some(16_000)), None);
        assert_eq!(memory_warning(&layers, 100, 64, 1000, None), None);
    }
}
