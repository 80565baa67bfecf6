//! Errors from building a network.

/// Why a network could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The window is shorter than the architecture's convolutions and pools need.
    #[error("{model} needs windows of at least {min_samples} samples, got {samples}")]
    InputTooShort {
        /// Display name of the model.
        model: String,
        /// Samples per window that were given.
        samples: usize,
        /// The smallest window length (samples) the model accepts.
        min_samples: usize,
    },
    /// A hyper-parameter is out of range.
    #[error("invalid {model} setting: {reason}")]
    InvalidSpec {
        /// Display name of the model.
        model: String,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// The input shape cannot be used (no channels, no outputs).
    #[error("invalid input shape: {reason}")]
    InvalidInput {
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// A tensor operation failed (shape mismatch, device error, missing weight).
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
}
