//! The errors the window shows. Panels report one by pushing
//! [`AppCommand::Report`](super::AppCommand::Report); the shell keeps them and
//! lists them above the status bar (a failed label save instead stays in the
//! status bar's line of the open recording until a later save succeeds).
//! Each reads as the CLI contract does, `FILE: what is wrong`, path first,
//! wherever a file is concerned.

use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Something the window tells the user went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// A recording or folder could not be opened, or its scan or load not
    /// queued.
    #[error("{}: {reason}", path.display())]
    Open {
        /// The recording or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A recording opened, but with a problem worth knowing (e.g. the edit
    /// journal beside its labels could not be read).
    #[error("{}: {reason}", path.display())]
    OpenWarning {
        /// The recording.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A recording's labels could not be written to their sidecar.
    #[error("{}: labels not saved: {reason}", path.display())]
    LabelsNotSaved {
        /// The sidecar (`X_events.tsv`).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The edit journal beside a sidecar could not be written or removed.
    #[error("{}: edit journal not written: {reason}", path.display())]
    JournalNotWritten {
        /// The journal (`X_events.tsv.journal`).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Restoring labels from a backup, or setting a damaged labels file
    /// aside, failed.
    #[error("{}: labels not restored: {reason}", path.display())]
    Recovery {
        /// The sidecar (`X_events.tsv`).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another recording was asked for, but the open one's labels could not
    /// be saved, so it stays open rather than lose them.
    #[error(
        "{}: its labels could not be saved, so it stays open instead of {}; fix the problem shown in the status bar (a read-only folder, a full disk) and save with Ctrl+S, then open the other recording",
        path.display(),
        wanted.display()
    )]
    KeptOpen {
        /// The open recording.
        path: PathBuf,
        /// The recording asked for.
        wanted: PathBuf,
    },
    /// The samples of the open recording could not be read: the file changed
    /// or vanished since it was opened (it is read on demand).
    #[error("{}: {reason}", path.display())]
    ReadFailed {
        /// The recording.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The folder's label classes could not be read.
    #[error("{}: {reason}", path.display())]
    SchemeNotRead {
        /// The scheme file (`spindle_labels.json`).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The folder's label classes could not be saved.
    #[error("{}: label classes not saved: {reason}", path.display())]
    SchemeNotSaved {
        /// The scheme file (`spindle_labels.json`).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A label edit was refused.
    #[error("{}: {reason}", path.display())]
    Edit {
        /// The recording whose labels were edited.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An EDF+ export failed.
    #[error("{}: export failed: {reason}", path.display())]
    Export {
        /// The file that was to be written.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A CSV or PNG file could not be written.
    #[error("{}: not saved: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A run folder could not be read or deleted.
    #[error("{}: {reason}", path.display())]
    Run {
        /// The run folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No new run folder could be made for a training job.
    #[error("{}: the run folder could not be made: {reason}", path.display())]
    RunFolder {
        /// The runs folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A run could not be applied to a recording.
    #[error("{}: could not suggest labels: {reason}", path.display())]
    Suggest {
        /// The recording.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another scorer's file, or a run's stages, could not be read as a
    /// comparison layer of the open recording.
    #[error("{}: not compared: {reason}", path.display())]
    Compare {
        /// The scorer's file or the run folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A training job was refused (nothing to train on, a bad option) or
    /// did not take a command.
    #[error("{0}")]
    Training(String),
    /// Audio playback failed.
    #[error("{0}")]
    Playback(String),
    /// Background work stopped on an internal error (a panic, caught); the
    /// message names the file and what was being done.
    #[error("{0}")]
    Internal(String),
    /// A background worker could not take a job (queue full, or stopped).
    #[error("{0}")]
    Busy(String),
    /// A class hotkey was pressed that no class has.
    #[error("no label class has hotkey {0}; set one in the Labels panel")]
    NoHotkey(u8),
    /// Labels were to be suggested before any run was open.
    #[error("open a run first (Runs, or train one)")]
    NoRun,
    /// The demo could not find the bundled sample data.
    #[error(
        "the demo needs the bundled sample_data folder, which was not found beside the program"
    )]
    NoSampleData,
}

/// What `error` says about `path`, without the leading `PATH: ` that the
/// library's errors start with (the [`AppError`] puts the path first itself).
pub fn reason(path: &Path, error: impl Display) -> String {
    let message = error.to_string();
    let prefix = format!("{}: ", path.display());
    match message.strip_prefix(&prefix) {
        Some(rest) => rest.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_name_the_file_first_once() {
        let path = Path::new("/data/x_events.tsv");
        let io = spindle_signals::recording::RecordingError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied"),
        );
        let e = AppError::LabelsNotSaved {
            path: path.to_path_buf(),
            reason: reason(path, &io),
        };
        assert_eq!(
            e.to_string(),
            "/data/x_events.tsv: labels not saved: Permission denied"
        );
        // A message about another file keeps that file's name.
        let other = reason(Path::new("/data"), &io);
        assert_eq!(other, "/data/x_events.tsv: Permission denied");
    }
}
