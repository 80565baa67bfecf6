//! Why a dataset could not be built.

use std::path::PathBuf;

use spindle_signals::recording::RecordingError;

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
    /// A channel chosen for training holds NaN or infinite samples.
    #[error(
        "{}: channel {channel} has {value} at {} s{}{}; training needs a number at every sample, so repair or re-export the recording, or train without that channel (name the others in --channels, or in the Train view's channels field)",
        path.display(),
        seconds_text(*onset_s),
        more_text(*more),
        others_text(*other_files)
    )]
    NonFinite {
        /// The recording.
        path: PathBuf,
        /// The channel's label.
        channel: String,
        /// The first bad value as text: `NaN`, `inf` or `-inf`.
        value: String,
        /// When the first bad sample is, seconds from the start of the recording.
        onset_s: f64,
        /// Non-finite samples after the first in the chosen channels of this recording.
        more: usize,
        /// Other recordings given whose chosen channels also hold non-finite samples.
        other_files: usize,
    },
    /// The data cannot make a dataset (no labels, no windows, mismatched channels ...).
    #[error("{0}")]
    Invalid(String),
}

/// Seconds with up to three decimals and no trailing zeros (`12.5`, `3`).
fn seconds_text(s: f64) -> String {
    let text = format!("{s:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn more_text(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more non-finite sample)".to_owned(),
        n => format!(" (and {n} more non-finite samples)"),
    }
}

fn others_text(other_files: usize) -> String {
    match other_files {
        0 => String::new(),
        1 => "; 1 other recording has them too".to_owned(),
        n => format!("; {n} other recordings have them too"),
    }
}
