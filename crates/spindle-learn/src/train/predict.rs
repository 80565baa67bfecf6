//! Using a saved run on new recordings.

use std::path::Path;

use candle_core::Device;
use spindle_signals::recording::{LabelSet, RecordingError, is_edf_file, read_recording_channels};

use super::run_folder::{RunInfo, RunPaths};
use super::{DeviceChoice, TrainError, predict_windows, select_device};
use crate::dataset::signals::Signals;
use crate::dataset::{
    DatasetError, FileSamples, LoadedSource, READ_ON_DEMAND_BYTES, Representation,
    available_memory_bytes, check_load_fits, normalize_windows, windows_readable_on_demand,
};
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

/// Windows predicted at once by [`predict_file_in_chunks`]: a multiple of
/// the 64 windows of a forward pass, so that chunks change no batch. Their
/// samples (64 channels of 2 s at 512 Hz: 128 MB) bound the memory a long
/// recording read on demand takes.
pub const PREDICT_CHUNK_WINDOWS: usize = 8 * 64;

/// Windows in one forward pass.
const FORWARD_BATCH: usize = 64;

/// Predicts every window of the recording at `path`: the whole file as one
/// window for runs trained on audio folders, else windows of the run's length
/// every stride across the recording (never across a gap).
pub fn predict_file(run: &LoadedRun, path: &Path) -> Result<Vec<PredictedWindow>, TrainError> {
    let mut all = Vec::new();
    predict_file_in_chunks(run, path, PREDICT_CHUNK_WINDOWS, |chunk| {
        all.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok(all)
}

/// [`predict_file`] a chunk of `chunk_windows` windows at a time, handing
/// each chunk's predictions to `each` in order. A large EDF/BDF file is read
/// on demand, each chunk reading only its windows' samples, when the run's
/// windows need no whole channel (no resampling, filter or moving
/// standardization); memory is then bounded by the chunk, not the file.
pub fn predict_file_in_chunks(
    run: &LoadedRun,
    path: &Path,
    chunk_windows: usize,
    mut each: impl FnMut(&[PredictedWindow]) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let info = &run.info;
    let config = &info.dataset_config;
    let source = load_for_prediction(path, info)?;
    let signals = Signals::of(
        &source,
        &info.channels,
        info.rate_hz,
        &config.filter,
        config.normalization,
    )?;
    let starts = window_starts(info, &source, signals.len());
    let (len, n_channels) = (info.window_len, info.channels.len());
    let duration_s = len as f64 / info.rate_hz;
    for chunk in starts.chunks(chunk_windows.max(1)) {
        let mut x = Vec::with_capacity(chunk.len() * len * n_channels);
        let chunk_starts: Vec<usize> = chunk.iter().map(|&(start, _)| start).collect();
        signals.windows(&chunk_starts, len, &mut x)?;
        if let Some(bad) = x.iter().position(|v| !v.is_finite()) {
            let w = bad / (len * n_channels);
            return Err(TrainError::Dataset(crate::dataset::DatasetError::Invalid(
                format!(
                    "{}: a non-finite value (NaN or infinity) in the window at {:.3} s",
                    path.display(),
                    chunk[w].1
                ),
            )));
        }
        if config.representation != Representation::Raw {
            x = config
                .representation
                .apply(&x, n_channels, len, info.rate_hz);
        }
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
            FORWARD_BATCH,
            &run.device,
        )?;
        drop(x);
        let probs = if info.regression {
            Vec::new()
        } else {
            p.probabilities()
        };
        let classes = p.classes();
        let predicted: Vec<PredictedWindow> = chunk
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
            .collect();
        each(&predicted)?;
    }
    Ok(())
}

/// The run's channels of the recording at `path`: left in the file (a large
/// EDF/BDF file) when the run's windows can be read on demand, else decoded.
fn load_for_prediction(path: &Path, info: &RunInfo) -> Result<LoadedSource, TrainError> {
    let config = &info.dataset_config;
    let size = std::fs::metadata(path)
        .map_err(|e| DatasetError::from(RecordingError::io(path, e)))?
        .len();
    if !info.whole_file
        && size > READ_ON_DEMAND_BYTES
        && is_edf_file(path).map_err(DatasetError::from)?
    {
        let (mut recording, file) = FileSamples::open(path).map_err(DatasetError::from)?;
        recording
            .channels
            .retain(|c| info.channels.contains(&c.label));
        let rates = recording.channels.iter().map(|c| c.rate_hz);
        if windows_readable_on_demand(rates, info.rate_hz, &config.filter, config.normalization) {
            return Ok(LoadedSource {
                recording,
                labels: LabelSet::default(),
                whole_file: false,
                file: Some(file),
            });
        }
        let needed = file.whole_bytes(&info.channels);
        check_load_fits(
            needed,
            available_memory_bytes(),
            &format!(
                "{}: decoding the run's channels whole (its resampling, filter or moving standardization needs whole channels)",
                path.display()
            ),
        )?;
    }
    // Only the run's channels are decoded.
    let recording = read_recording_channels(path, &info.channels).map_err(DatasetError::from)?;
    Ok(LoadedSource {
        recording,
        labels: LabelSet::default(),
        whole_file: info.whole_file,
        file: None,
    })
}

/// Where each window starts (sample at the run's rate, onset in seconds):
/// the whole file for runs on audio folders, else every stride inside each
/// contiguous run of data of `n_samples`.
fn window_starts(info: &RunInfo, source: &LoadedSource, n_samples: usize) -> Vec<(usize, f64)> {
    let (len, stride) = (info.window_len, info.stride_len.max(1));
    let mut starts: Vec<(usize, f64)> = Vec::new();
    if info.whole_file {
        starts.push((0, 0.0));
        return starts;
    }
    let mut covered = 0usize;
    for seg in &source.recording.segments {
        let seg_len = ((seg.duration_s * info.rate_hz).round() as usize)
            .min(n_samples.saturating_sub(covered));
        let mut s = 0;
        while s + len <= seg_len {
            starts.push((covered + s, seg.onset_s + s as f64 / info.rate_hz));
            s += stride;
        }
        covered += seg_len;
    }
    starts
}
