//! A dry run of a training job: the dataset it would build and the model's
//! layers for it, without training — what the app's dataset and model panels
//! show before the user presses Start.

use candle_core::{DType, Device};
use candle_nn::VarMap;

use super::{TrainJobSpec, build_job_dataset};
use crate::dataset::{DatasetSummary, SplitName};
use crate::model::{self, InputShape, ModelSummary};
use crate::train::Failure;

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
    let (dataset, _config) = build_job_dataset(spec, &mut load_warnings)?;
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
        summary: dataset.summary.clone(),
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
