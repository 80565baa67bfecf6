//! The run folder: `run.json`, `metrics.csv` (appended live),
//! `model.safetensors` (best checkpoint), `report.json`, `predictions.tsv`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{EpochMetrics, TrainConfig, TrainError};
use crate::dataset::{ChannelStats, DatasetConfig, DatasetSummary};
use crate::model::{ModelSpec, ModelSummary};

/// The paths of a run folder's files.
#[derive(Debug, Clone)]
pub struct RunPaths {
    /// The folder.
    pub dir: PathBuf,
}

impl RunPaths {
    /// The files of the run folder `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    /// `run.json`.
    pub fn run_json(&self) -> PathBuf {
        self.dir.join("run.json")
    }
    /// `metrics.csv`.
    pub fn metrics_csv(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    /// `model.safetensors`.
    pub fn weights(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }
    /// `report.json`.
    pub fn report_json(&self) -> PathBuf {
        self.dir.join("report.json")
    }
    /// `predictions.tsv`.
    pub fn predictions_tsv(&self) -> PathBuf {
        self.dir.join("predictions.tsv")
    }
}

/// One data file of a run and its role.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataFile {
    /// The path as given.
    pub path: PathBuf,
    /// `train`, `validation` or `test`.
    pub role: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// The label file given for it (`--labels`), when its labels came from
    /// one rather than from beside it or inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
}

/// Everything needed to understand and reuse a run (`run.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    /// Spindle's version that made the run.
    pub spindle_version: String,
    /// The data files with hashes.
    pub data: Vec<DataFile>,
    /// The dataset settings as given.
    pub dataset_config: DatasetConfig,
    /// Channel labels in model input order.
    pub channels: Vec<String>,
    /// Common sample rate, Hz.
    pub rate_hz: f64,
    /// Window length in samples.
    pub window_len: usize,
    /// Step between windows in samples.
    pub stride_len: usize,
    /// Model input rows per window (channels, or channels x bins).
    pub input_channels: usize,
    /// Model input columns per window (samples, or frames).
    pub input_len: usize,
    /// Model input columns per second, Hz.
    pub input_rate_hz: f64,
    /// The standardization applied to windows.
    pub normalization_mode: crate::dataset::Normalization,
    /// Class names (empty for regression).
    pub classes: Vec<String>,
    /// True for regression.
    pub regression: bool,
    /// True when each file is one example (labeled audio folders): files are
    /// padded or cropped to one window instead of being tiled.
    pub whole_file: bool,
    /// Normalization fitted on the training windows.
    pub normalization: ChannelStats,
    /// The model.
    pub model: ModelSpec,
    /// The model's layers and parameter counts.
    pub model_summary: ModelSummary,
    /// Optimizer and loop settings.
    pub train: TrainConfig,
    /// The device trained on.
    pub device: String,
    /// Split counts and decisions.
    pub split: DatasetSummary,
    /// Versions of the libraries that computed it.
    pub versions: std::collections::BTreeMap<String, String>,
    /// The physical unit of the channels the network was fed (e.g. `uV`,
    /// as the recordings' headers give it), when all share one; `None` for
    /// runs made before it was recorded and for channels without a unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_unit: Option<String>,
    /// What the final model was trained on when it was refitted on training
    /// plus validation after the first pass chose its epoch
    /// (written when the refit ends); `None`: the first pass's kept epoch,
    /// as in every run made before refitting existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_fit: Option<super::FinalFit>,
    /// The standardization of a regression's targets on the training split
    /// (the network learns `(value - mean) / sd`; loaded networks give the
    /// target's unit again); `None`: identity, as in every run made before
    /// targets were standardized, and in classifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_scale: Option<super::TargetScale>,
    /// The rule that chooses the kept epoch of the first pass (the smoothed
    /// validation minimum, or the lowest training loss without validation);
    /// `None` in runs made before it was recorded, which kept the raw
    /// minimum of the validation loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_by: Option<super::KeptBy>,
}

impl RunInfo {
    /// The same with each data file's explicitly given label file noted.
    pub fn with_label_files(mut self, label_files: &BTreeMap<PathBuf, PathBuf>) -> Self {
        for d in &mut self.data {
            d.labels = label_files.get(&d.path).cloned();
        }
        self
    }

    /// The target scale of a regression (identity when none was stored).
    pub fn target_scale(&self) -> super::TargetScale {
        self.target_scale.unwrap_or_default()
    }

    /// The label files given for the data files (recording -> label file).
    pub fn label_files(&self) -> BTreeMap<PathBuf, PathBuf> {
        self.data
            .iter()
            .filter_map(|d| Some((d.path.clone(), d.labels.clone()?)))
            .collect()
    }

    /// Writes `run.json` into `dir` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        let path = RunPaths::new(dir).run_json();
        let text =
            serde_json::to_string_pretty(self).map_err(|e| TrainError::run_folder(&path, e))?;
        spindle_signals::recording::write_atomic(&path, text.as_bytes())
            .map_err(|e| TrainError::run_folder(&path, e))
    }
}

/// Appends one row per split and epoch to `metrics.csv`, flushing each time
/// so that another process can follow the run.
pub struct MetricsLog {
    file: File,
    path: PathBuf,
}

/// The header of `metrics.csv`.
pub const METRICS_HEADER: &str = "epoch,step,split,loss,accuracy,balanced_accuracy,lr,seconds";

impl MetricsLog {
    /// Creates (truncates) `metrics.csv` and writes the header.
    pub fn create(path: &Path) -> Result<Self, TrainError> {
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|e| TrainError::run_folder(path, e))?;
        writeln!(file, "{METRICS_HEADER}").map_err(|e| TrainError::run_folder(path, e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends the train and validation rows of `m` after `step` optimizer steps.
    pub fn append(&mut self, m: &EpochMetrics, step: usize) -> Result<(), TrainError> {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        let rows = [
            format!(
                "{},{step},train,{:.6},{},,{:.8},{:.3}",
                m.epoch,
                m.train_loss,
                opt(m.train_accuracy),
                m.lr,
                m.seconds
            ),
            format!(
                "{},{step},validation,{},{},{},{:.8},{:.3}",
                m.epoch,
                opt(m.val_loss),
                opt(m.val_accuracy),
                opt(m.val_balanced_accuracy),
                m.lr,
                m.seconds
            ),
        ];
        for row in rows {
            writeln!(self.file, "{row}").map_err(|e| TrainError::run_folder(&self.path, e))?;
        }
        self.file
            .flush()
            .map_err(|e| TrainError::run_folder(&self.path, e))
    }
}
