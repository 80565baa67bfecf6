//! The error every reader and writer returns.
//!
//! Every message follows the CLI contract `FILE: what is wrong`: the path
//! first, then `: `, then the problem, on one line; the CLI prints it as
//! `error: FILE: what is wrong`. A new variant must keep this order and carry
//! the path it is about.

use std::path::{Path, PathBuf};

/// Why a recording (or a label file) could not be read or written.
///
/// The message names the file first and the problem after it, e.g.
/// `data/x.edf: header claims 600 data records but the file holds 12`,
/// shown by the CLI as `error: data/x.edf: header claims ...`.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Which variant `e` is; the match is exhaustive, so a new variant fails
    /// to compile here until the test below builds one.
    fn variant(e: &RecordingError) -> usize {
        match e {
            RecordingError::Io { .. } => 0,
            RecordingError::Invalid { .. } => 1,
            RecordingError::Unsupported { .. } => 2,
        }
    }

    #[test]
    fn every_message_starts_with_the_path_and_is_one_line() {
        let path = Path::new("/data/x.edf");
        // Every variant carries a path; none is without one.
        let errors = [
            RecordingError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
            ),
            RecordingError::invalid(path, "header claims 600 data records but the file holds 12"),
            RecordingError::unsupported(path, "frequency-domain data"),
        ];
        let mut seen: Vec<usize> = errors.iter().map(variant).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, [0, 1, 2], "build one value of every variant");
        for e in &errors {
            let message = e.to_string();
            assert!(
                message.starts_with("/data/x.edf: "),
                "{message:?} should start with the path"
            );
            assert!(!message.contains('\n'), "{message:?} should be one line");
            assert_eq!(e.path(), path);
        }
        assert_eq!(
            errors[0].to_string(),
            "/data/x.edf: No such file or directory"
        );
        assert_eq!(
            errors[1].to_string(),
            "/data/x.edf: header claims 600 data records but the file holds 12"
        );
        assert_eq!(
            errors[2].to_string(),
            "/data/x.edf: unsupported: frequency-domain data"
        );
    }
}
