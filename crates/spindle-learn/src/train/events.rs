//! What the trainer reports and what it obeys.

use std::path::PathBuf;

use spindle_signals::eval::{ClassificationReport, RegressionReport};

use crate::dataset::DatasetSummary;
use crate::model::ModelSummary;

/// Commands a running training job accepts; each is honored within one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Hold after the current batch.
    Pause,
    /// Continue after a pause.
    Resume,
    /// End training now, keep the best checkpoint, evaluate it and write the run.
    Stop,
    /// Abandon the run: no evaluation, nothing more written.
    Cancel,
}

/// Facts known when training starts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StartInfo {
    /// Layers, parameter counts and receptive field.
    pub model: ModelSummary,
    /// Window counts per split and class, and how splits were made.
    pub dataset: DatasetSummary,
    /// Class names (empty for regression).
    pub classes: Vec<String>,
    /// Training, validation and test windows.
    pub n_train: usize,
    /// Validation windows.
    pub n_validation: usize,
    /// Test windows.
    pub n_test: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// The device, e.g. `cpu`.
    pub device: String,
}

/// The scores of one epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Training accuracy (classification) over the epoch's batches, in training mode.
    pub train_accuracy: Option<f64>,
    /// Validation loss.
    pub val_loss: Option<f64>,
    /// Validation accuracy (classification).
    pub val_accuracy: Option<f64>,
    /// Validation balanced accuracy (classification).
    pub val_balanced_accuracy: Option<f64>,
    /// Learning rate used in this epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// How a run ended well.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// The run folder, when one was written.
    pub run_dir: Option<PathBuf>,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// True when early stopping or a Stop command ended training before the last epoch.
    pub stopped_early: bool,
    /// Seconds spent training (not evaluating).
    pub train_seconds: f64,
    /// Scores on the test windows (classification).
    pub test: Option<ClassificationReport>,
    /// Scores on the validation windows (classification).
    pub validation: Option<ClassificationReport>,
    /// Scores on the test windows (regression).
    pub test_regression: Option<RegressionReport>,
    /// Scores on the validation windows (regression).
    pub validation_regression: Option<RegressionReport>,
    /// What `--normalization auto` chose and why (`None` for a fixed choice).
    pub normalization: Option<crate::dataset::NormalizationChoice>,
    /// What the final model was trained on when it was refitted on training
    /// plus validation (`None`: the first pass's kept epoch).
    pub final_fit: Option<super::FinalFit>,
    /// A regression's target standardization (`None` for a classifier).
    pub target_scale: Option<super::TargetScale>,
    /// The rule that chose the kept epoch (`best_epoch`).
    pub kept_by: Option<super::KeptBy>,
    /// Where the run's time went, phase by phase.
    pub timings: super::Timings,
}

/// The validation windows mapped by what the network's penultimate layer
/// makes of them, projected to 2-D by PCA, at the end of an epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveMap {
    /// The epoch just finished (0: before training).
    pub epoch: usize,
    /// One point per window mapped.
    pub points: Vec<[f32; 2]>,
    /// Each window's class index (classification; empty for regression).
    pub classes: Vec<usize>,
    /// Each window's target value (regression; empty for classification).
    pub values: Vec<f32>,
    /// The class names (empty for regression).
    pub class_names: Vec<String>,
    /// Validation windows in all (more than mapped when capped).
    pub n_validation: usize,
}

/// Progress of a training job, sent over a channel.
#[derive(Debug, Clone)]
pub enum Event {
    /// The dataset and model are ready; training begins.
    Started(Box<StartInfo>),
    /// One optimizer step finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The batch's loss.
        loss: f64,
    },
    /// One epoch finished.
    Epoch(EpochMetrics),
    /// The map of the validation windows as the network sees them now
    /// (only when [`super::TrainConfig::live_map`] asks for it).
    Map(Box<LiveMap>),
    /// The validation loss improved; the checkpoint was saved.
    NewBest {
        /// 1-based epoch.
        epoch: usize,
        /// Its validation loss.
        val_loss: f64,
    },
    /// Something the user should know that does not stop training.
    Warning(String),
    /// What the run does next, worth a line but not a problem (the refit
    /// starting).
    Note(String),
    /// Training is paused.
    Paused,
    /// Training resumed.
    Resumed,
    /// Training and evaluation finished; the run folder is complete.
    Finished(Box<Outcome>),
    /// Training failed; the failure says at which stage, why and what to try.
    Failed(Failure),
    /// The run was cancelled.
    Cancelled,
}

/// Where a training job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureStage {
    /// Reading the recordings or their labels.
    Loading,
    /// Turning labeled recordings into windows and splits.
    Dataset,
    /// Building the model for the data.
    Model,
    /// The loss became NaN or infinite.
    Diverged,
    /// A training step would not fit in memory (or the device ran out).
    Memory,
    /// The device, a computation or the run folder failed.
    Training,
}

/// Why a training job ended without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The stage that failed.
    pub stage: FailureStage,
    /// What went wrong and what to try, naming the file where there is one.
    pub message: String,
}

impl Failure {
    /// A failure at `stage`.
    pub fn new(stage: FailureStage, message: impl Into<String>) -> Self {
        Self {
            stage,
            message: message.into(),
        }
    }
}

impl From<&super::TrainError> for Failure {
    fn from(e: &super::TrainError) -> Self {
        use super::TrainError as E;
        let stage = match e {
            E::Dataset(_) => FailureStage::Dataset,
            E::Model(_) => FailureStage::Model,
            E::Diverged(_) => FailureStage::Diverged,
            E::OutOfMemory(_) => FailureStage::Memory,
            E::Device(_) | E::Compute(_) | E::RunFolder { .. } | E::Eval(_) => {
                FailureStage::Training
            }
        };
        Failure::new(stage, e.to_string())
    }
}
