//! Why a dataset could not be built.

use crate::recording::RecordingError;

/// A problem with the data given for training, in words a biologist can act on.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A recording or label file could not be read.
    #[error(transparent)]
    Recording(#[from] RecordingError),
    /// The data cannot make a dataset (no labels, no windows, mismatched channels ...).
    #[error("{0}")]
    Invalid(String),
}
