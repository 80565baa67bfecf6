//! The error every reader and writer returns.

use std::path::{Path, PathBuf};

/// Why a recording (or a label file) could not be read or written.
///
/// The message names the problem first and the file last, e.g.
/// `header claims 600 data records but the file holds 12: data/x.edf`
/// is shown by the CLI as `error: data/x.edf: header claims ...`.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The operating system refused a read or write.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's content breaks its format's rules.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong, in words a user understands.
        reason: String,
    },
    /// The file is valid but uses something Spindle does not read.
    #[error("{}: unsupported: {reason}", path.display())]
    Unsupported {
        /// The file concerned.
        path: PathBuf,
        /// What is not supported.
        reason: String,
    },
}

impl RecordingError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A format violation in `path`.
    pub fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// A valid but unsupported feature of `path`.
    pub fn unsupported(path: &Path, reason: impl Into<String>) -> Self {
        Self::Unsupported {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Invalid { path, .. } | Self::Unsupported { path, .. } => {
                path
            }
        }
    }
}
