//! Why a dataset could not be built.

use std::path::PathBuf;

use crate::recording::RecordingError;

/// A problem with the data given for training, in words a biologist can act on.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A recording or label file could not be read.
    #[error(transparent)]
    Recording(#[from] RecordingError),
    /// A recording chosen for training is not there (any more).
    #[error(
        "{}: not found: the recording was deleted, moved or renamed since it was chosen (or the path is mistyped); check it and choose the data again",
        .0.display()
    )]
    Missing(PathBuf),
    /// The data cannot make a dataset (no labels, no windows, mismatched channels ...).
    #[error("{0}")]
    Invalid(String),
}
