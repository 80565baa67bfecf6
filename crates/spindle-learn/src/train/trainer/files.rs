//! What the trainer writes into the run folder besides the weights and
//! `metrics.csv`: `run.json`, `report.json` and `predictions.tsv`.

use std::path::Path;

use candle_core::Device;
use crossbeam_channel::Sender;

use super::super::device::device_name;
use super::super::file_hash::{NOTED_FROM_BYTES, sha256_file};
use super::super::run_folder::{DataFile, RunInfo};
use crate::dataset::{Dataset, DatasetConfig};
use crate::model::{self, ModelSpec};
use crate::train::{Event, Outcome, Predictions, TrainConfig, TrainError};

/// `run.json` of a run about to train: its data files (hashed, a note on
/// `events` before a large file is read whole), settings, dataset facts and
/// model.
pub(super) fn run_info(
    ds: &Dataset,
    dataset_config: &DatasetConfig,
    spec: &ModelSpec,
    summary: &model::ModelSummary,
    config: &TrainConfig,
    device: &Device,
    events: &Sender<Event>,
) -> Result<RunInfo, TrainError> {
    let data = ds
        .files
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(DataFile {
                path: p.clone(),
                role: if i < ds.train_files {
                    "train"
                } else if i < ds.train_files + ds.validation_files {
                    "validation"
                } else {
                    "test"
                }
                .into(),
                sha256: sha256_file(p, |bytes, remembered| {
                    if bytes >= NOTED_FROM_BYTES {
                        let _ = events.send(Event::Note(hashing_note(p, bytes, remembered)));
                    }
                })?,
                labels: None,
            })
        })
        .collect::<Result<Vec<_>, TrainError>>()?;
    let versions = [
        ("spindle".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("candle".to_string(), "0.11.1".to_string()),
    ]
    .into_iter()
    .collect();
    Ok(RunInfo {
        spindle_version: env!("CARGO_PKG_VERSION").into(),
        data,
        dataset_config: dataset_config.clone(),
        channels: ds.channels.clone(),
        rate_hz: ds.rate_hz,
        window_len: ds.window_len,
        stride_len: ds.stride_len,
        input_channels: ds.input_channels,
        input_len: ds.input_len,
        input_rate_hz: ds.input_rate_hz,
        normalization_mode: ds.normalization,
        classes: ds.classes.clone(),
        regression: ds.regression,
        whole_file: ds.whole_file,
        normalization: ds.stats.clone(),
        model: spec.clone(),
        model_summary: summary.clone(),
        train: config.clone(),
        device: device_name(device),
        split: ds.summary.clone(),
        versions,
        input_unit: ds.input_unit.clone(),
        final_fit: None,
        target_scale: None,
        kept_by: None,
    })
}

/// What a run says before it reads a large data file whole for its
/// checksum (a pause of about a second per GB before the first epoch).
fn hashing_note(path: &Path, bytes: u64, remembered: bool) -> String {
    let name = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    let later = if remembered {
        "; later runs on the unchanged file reuse it"
    } else {
        ""
    };
    format!(
        "checksumming {name} ({:.1} GB) for run.json, about a second per GB{later}",
        bytes as f64 / 1e9
    )
}

/// `report.json`: test and validation scores, best epoch, training time.
pub(super) fn write_report(path: &Path, o: &Outcome) -> Result<(), TrainError> {
    let regression = o.test_regression.is_some() || o.validation_regression.is_some();
    let scores = |r: serde_json::Value, c: serde_json::Value| if regression { r } else { c };
    let mut value = serde_json::json!({
        "test": scores(serde_json::json!(o.test_regression), serde_json::json!(o.test)),
        "validation": scores(
            serde_json::json!(o.validation_regression),
            serde_json::json!(o.validation)
        ),
        "best_epoch": o.best_epoch,
        "epochs_run": o.epochs_run,
        "stopped_early": o.stopped_early,
        "train_seconds": o.train_seconds,
        "normalization": o.normalization,
        "final_fit": o.final_fit,
        "kept_by": o.kept_by,
        "timings": o.timings,
    });
    if regression {
        value["target_scale"] = serde_json::json!(o.target_scale);
    }
    let text = serde_json::to_string_pretty(&value).map_err(|e| TrainError::run_folder(path, e))?;
    spindle_signals::recording::write_atomic(path, text.as_bytes())
        .map_err(|e| TrainError::run_folder(path, e))
}

/// `predictions.tsv`: one row per test window.
pub(super) fn write_predictions(
    path: &Path,
    ds: &Dataset,
    p: &Predictions,
) -> Result<(), TrainError> {
    use std::fmt::Write as _;
    let mut s = String::from("file\tonset\tduration\ttrue\tpredicted");
    let duration = ds.window_len as f64 / ds.rate_hz;
    if ds.regression {
        s.push('\n');
        for (i, w) in ds.test.windows.iter().enumerate() {
            let pred = p.outputs.get(i * p.k).copied().unwrap_or(f32::NAN);
            let _ = writeln!(
                s,
                "{}\t{:.3}\t{duration:.3}\t{}\t{pred}",
                ds.files[w.source].display(),
                w.onset_s,
                w.class
            );
        }
    } else {
        for c in &ds.classes {
            let _ = write!(s, "\tp_{c}");
        }
        s.push('\n');
        let probs = p.probabilities();
        let classes = p.classes();
        for (i, w) in ds.test.windows.iter().enumerate() {
            let _ = write!(
                s,
                "{}\t{:.3}\t{duration:.3}\t{}\t{}",
                ds.files[w.source].display(),
                w.onset_s,
                w.class,
                ds.classes[classes[i]]
            );
            for q in &probs[i] {
                let _ = write!(s, "\t{q:.4}");
            }
            s.push('\n');
        }
    }
    spindle_signals::recording::write_atomic(path, s.as_bytes())
        .map_err(|e| TrainError::run_folder(path, e))
}
