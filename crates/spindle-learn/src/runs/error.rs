//! The error of every fallible function of [`crate::runs`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a runs folder, a run folder or one of its files could not be read.
///
/// Messages start with the file, then say what is wrong, e.g.
/// `runs/2026-12-02_05-31-07_eegnet/predictions.tsv: line 7: expected 8 columns, found 7`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunsError {
    /// Reading, opening or creating a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said (shared, so that the error clones).
        source: Arc<std::io::Error>,
    },
    /// One line of a text file (`metrics.csv`, `predictions.tsv`) is malformed.
    #[error("{}: line {line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// A JSON file (`run.json`, `report.json`) is not what Spindle writes.
    #[error("{}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong, including serde's position.
        message: String,
    },
    /// A file or folder is not what was expected (a folder that is not a
    /// run folder).
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file's contents are well-formed but cannot be evaluated (e.g. a
    /// probability that is not a finite number).
    #[error("{}: {source}", path.display())]
    Eval {
        /// The file the values came from.
        path: PathBuf,
        /// What the metric found.
        source: spindle_signals::eval::EvalError,
    },
}

impl RunsError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }

    /// A malformed line `line` (1-based) of `path`.
    pub(crate) fn line(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::Line {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A JSON file `path` that does not parse as expected.
    pub(crate) fn json(path: &Path, message: impl std::fmt::Display) -> Self {
        Self::Json {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::Line { path, .. }
            | Self::Json { path, .. }
            | Self::Invalid { path, .. }
            | Self::Eval { path, .. } => path,
        }
    }
}
