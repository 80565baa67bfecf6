//! Using a saved run on new recordings.

use std::path::Path;

use candle_core::Device;
use spindle_signals::recording::{LabelSet, read_recording_channels};

use super::run_folder::{RunInfo, RunPaths};
use super::{DeviceChoice, TrainError, predict_windows, select_device};
use crate::dataset::{LoadedSource, normalize_windows, prepare_signals};
use crate::model::{self, Network};

/// A run loaded for prediction.
pub struct LoadedRun {
    /// The run's settings.
    pub info: RunInfo,
    /// The network with the run's best weights.
    pub net: Box<dyn Network>,
    /// Where it computes.
    pub device: Device,
}

/// One predicted window.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedWindow {
    /// Onset, seconds from the recording's start.
    pub onset_s: f64,
    /// Duration, seconds.
    pub duration_s: f64,
    /// The predicted class, or the predicted value as text (regression).
    pub label: String,
    /// Class probabilities in the run's class order (empty for regression).
    pub probabilities: Vec<f32>,
}

/// Loads `run.json` and `model.safetensors` of `dir`.
pub fn load_run(dir: &Path, device: DeviceChoice) -> Result<LoadedRun, TrainError> {
    let (info, net, device) = load_run_traced(dir, device)?;
    Ok(LoadedRun { info, net, device })
}

/// [`load_run`], keeping the network's traced side (explanations read its
/// layers' outputs).
pub(crate) fn load_run_traced(
    dir: &Path,
    device: DeviceChoice,
) -> Result<(RunInfo, Box<dyn model::Traced>, Device), TrainError> {
    let info = RunInfo::load(dir)?;
    let device = select_device(device)?;
    let weights = RunPaths::new(dir).weights();
    if !weights.exists() {
        return Err(TrainError::run_folder(
            &weights,
            "missing: the run has no saved weights (did it finish an epoch?)",
        ));
    }
    let header = super::weights_file::read_weights_header(&weights)?;
    let (net, _) = super::run_check::build_checked(&info, &header, &weights, &device)?;
    Ok((info, net, device))
}

/// Predicts every window of the recording at `path`: the whole file as one
/// window for runs trained on audio folders, else windows of the run's length
/// every stride across the recording (never across a gap).
pub fn predict_file(run: &LoadedRun, path: &Path) -> Result<Vec<PredictedWindow>, TrainError> {
    let info = &run.info;
    // Only the run's channels are decoded (a large EDF/BDF file is read on
    // demand, channel by channel).
    let recording = read_recording_channels(path, &info.channels)
        .map_err(crate::dataset::DatasetError::from)?;
    let source = LoadedSource {
        recording,
        labels: LabelSet::default(),
        whole_file: info.whole_file,
    };
    let signals = prepare_signals(
        &source,
        &info.channels,
        info.rate_hz,
        &info.dataset_config.filter,
        info.dataset_config.normalization,
    )?;
    let (len, stride) = (info.window_len, info.stride_len.max(1));
    let n_samples = signals.first().map_or(0, Vec::len);
    let mut starts: Vec<(usize, f64)> = Vec::new();
    if info.whole_file {
        starts.push((0, 0.0));
    } else {
        let rec = &source.recording;
        let mut covered = 0usize;
        for seg in &rec.segments {
            let seg_len = ((seg.duration_s * info.rate_hz).round() as usize)
                .min(n_samples.saturating_sub(covered));
            let mut s = 0;
            while s + len <= seg_len {
                starts.push((covered + s, seg.onset_s + s as f64 / info.rate_hz));
                s += stride;
            }
            covered += seg_len;
        }
    }
    let mut x = Vec::with_capacity(starts.len() * len * signals.len());
    for &(start, _) in &starts {
        for ch in &signals {
            let end = (start + len).min(ch.len());
            x.extend_from_slice(&ch[start.min(end)..end]);
            x.resize(x.len() + len - (end - start.min(end)), 0.0);
        }
    }
    if let Some(bad) = x.iter().position(|v| !v.is_finite()) {
        let w = bad / (len * signals.len());
        return Err(TrainError::Dataset(crate::dataset::DatasetError::Invalid(
            format!(
                "{}: a non-finite value (NaN or infinity) in the window at {:.3} s",
                path.display(),
                starts[w].1
            ),
        )));
    }
    let mut x = info
        .dataset_config
        .representation
        .apply(&x, signals.len(), len, info.rate_hz);
    normalize_windows(
        &mut x,
        info.input_len,
        info.normalization_mode,
        &info.normalization,
    );
    let p = predict_windows(
        run.net.as_ref(),
        &x,
        info.input_channels,
        info.input_len,
        64,
        &run.device,
    )?;
    let duration_s = len as f64 / info.rate_hz;
    let probs = if info.regression {
        Vec::new()
    } else {
        p.probabilities()
    };
    let classes = p.classes();
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &(_, onset_s))| PredictedWindow {
            onset_s,
            duration_s,
            label: if info.regression {
                format!("{}", p.outputs[i * p.k])
            } else {
                info.classes[classes[i]].clone()
            },
            probabilities: probs.get(i).cloned().unwrap_or_default(),
        })
        .collect())
}
