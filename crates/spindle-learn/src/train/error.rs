//! Why training or prediction stopped.

use std::path::PathBuf;

use crate::dataset::DatasetError;
use crate::model::ModelError;

/// A failure of training or prediction, with what to try in the message.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data could not make a dataset.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The model could not be built for this data.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The requested device is not available.
    #[error("{0}")]
    Device(String),
    /// The loss became NaN or infinite.
    #[error("{0}")]
    Diverged(String),
    /// One training step would not fit in memory, or the device ran out.
    #[error("{0}")]
    OutOfMemory(super::memory::MemoryShortfall),
    /// A tensor operation failed.
    #[error("computation failed: {0}")]
    Compute(#[from] candle_core::Error),
    /// A run folder file could not be read or written.
    #[error("{}: {reason}", path.display())]
    RunFolder {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Metrics could not be computed.
    #[error(transparent)]
    Eval(#[from] spindle_signals::eval::EvalError),
}

impl TrainError {
    /// A run-folder error about `path`.
    pub fn run_folder(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Self::RunFolder {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}
