//! The error of every fallible function of [`crate::runs::sweep`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a sweep could not be planned, saved, read, run or submitted.
///
/// Messages start with the file or option they are about, e.g.
/// `--lr: invalid value 'abc' for '--lr <LR>'` or
/// `out/sweep.json: task 7 does not exist (the sweep has 4 tasks)`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SweepError {
    /// A grid value or a fixed option is not a valid training option.
    #[error("{option}: {reason}")]
    Option {
        /// The option, as on the command line (e.g. `--lr`).
        option: String,
        /// What is wrong, with the value.
        reason: String,
    },
    /// Reading, writing, creating or running something failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file, folder or program.
        path: PathBuf,
        /// What the operating system said (shared, so that the error clones).
        source: Arc<std::io::Error>,
    },
    /// A file or folder is there but is not what a sweep needs.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file or folder (`sweep.json`, a run folder, the data).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A run folder or its `cv.json` could not be read or written.
    #[error(transparent)]
    Runs(#[from] crate::runs::RunsError),
    /// Slurm refused or failed (sbatch, squeue).
    #[error("{program}: {message}")]
    Slurm {
        /// The Slurm program (`sbatch`, `squeue`).
        program: String,
        /// What it said, or why it could not run.
        message: String,
    },
}

impl SweepError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }

    /// `path` holds something a sweep cannot use.
    pub(crate) fn invalid(path: &Path, message: impl std::fmt::Display) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// A Slurm program's failure.
    pub(crate) fn slurm(program: &str, message: impl std::fmt::Display) -> Self {
        Self::Slurm {
            program: program.to_string(),
            message: message.to_string(),
        }
    }
}

impl From<crate::train::OptionsError> for SweepError {
    fn from(e: crate::train::OptionsError) -> Self {
        Self::Option {
            option: e.option,
            reason: e.reason,
        }
    }
}
