//! What each command is about, so that a panic while handling it becomes
//! the command's own failure event, naming the file and what was being done.

use std::path::{Path, PathBuf};

use spindle_learn::train::{Failure, FailureStage};

use super::open::samples_path;
use super::protocol::{Command, Event};
use crate::playback::PlaybackError;

/// What a command was about, kept to report a panic while handling it.
#[derive(Debug, Clone)]
pub(super) enum Task {
    Scan(PathBuf),
    Open(PathBuf),
    Export(PathBuf),
    Preview,
    ListRuns(PathBuf),
    LoadRun(PathBuf),
    LoadExplanation(PathBuf),
    DeleteRun(PathBuf),
    ReadSweep(PathBuf),
    SubmitSweep(PathBuf),
    PlanSweep(PathBuf),
    Spectra(PathBuf),
    OpenPlayer,
    PrepareClip(PathBuf),
    Warm(PathBuf),
    WriteFile(PathBuf),
    SavePng(PathBuf),
    Suggest(PathBuf),
}

impl Task {
    /// The task of `command`.
    pub(super) fn of(command: &Command) -> Self {
        match command {
            Command::Scan(root, _) => Self::Scan(root.clone()),
            Command::Open(path) => Self::Open(path.clone()),
            Command::Export(_, _, _, path) => Self::Export(path.clone()),
            Command::Preview(_) => Self::Preview,
            Command::ListRuns(dir) => Self::ListRuns(dir.clone()),
            Command::LoadRun(dir) => Self::LoadRun(dir.clone()),
            Command::LoadExplanation(dir) => Self::LoadExplanation(dir.clone()),
            Command::DeleteRun(dir) => Self::DeleteRun(dir.clone()),
            Command::ReadSweep(dir) => Self::ReadSweep(dir.clone()),
            Command::SubmitSweep(dir) => Self::SubmitSweep(dir.clone()),
            Command::PlanSweep(plan) => Self::PlanSweep(plan.out.clone()),
            Command::Spectra(recording, _, _) => Self::Spectra(recording.path.clone()),
            Command::OpenPlayer(_) => Self::OpenPlayer,
            Command::PrepareClip { recording, .. } => Self::PrepareClip(recording.path.clone()),
            Command::Warm(samples, ..) => Self::Warm(samples_path(samples)),
            Command::WriteFile(path, _) => Self::WriteFile(path.clone()),
            Command::SavePng { path, .. } => Self::SavePng(path.clone()),
            Command::Suggest { file, .. } => Self::Suggest(file.clone()),
        }
    }

    /// The file the work is about and what was being done, for the message.
    pub(super) fn describe(&self) -> (Option<&Path>, &'static str) {
        match self {
            Self::Scan(p) => (Some(p), "scanning the folder"),
            Self::Open(p) => (Some(p), "opening the recording"),
            Self::Export(p) => (Some(p), "exporting the recording as EDF+"),
            Self::Preview => (None, "building the dataset preview"),
            Self::ListRuns(p) => (Some(p), "listing the runs"),
            Self::LoadRun(p) => (Some(p), "reading the run"),
            Self::LoadExplanation(p) => (Some(p), "reading the run's explanation"),
            Self::DeleteRun(p) => (Some(p), "deleting the run"),
            Self::ReadSweep(p) => (Some(p), "reading the sweep"),
            Self::SubmitSweep(p) => (Some(p), "submitting the sweep to Slurm"),
            Self::PlanSweep(p) => (Some(p), "planning the sweep"),
            Self::Spectra(p) => (Some(p), "computing the spectra"),
            Self::OpenPlayer => (None, "opening the audio output"),
            Self::PrepareClip(p) => (Some(p), "preparing the clip to play"),
            Self::Warm(p) => (Some(p), "reading ahead of the view"),
            Self::WriteFile(p) => (Some(p), "writing the file"),
            Self::SavePng(p) => (Some(p), "saving the chart as PNG"),
            Self::Suggest(p) => (Some(p), "suggesting labels"),
        }
    }

    /// The events that end this task with `panicked` as its error: the
    /// command's own failure event where it has one, so the app leaves its
    /// waiting state (a scan also reports that it is done).
    pub(super) fn failed(self, panicked: spindle_learn::jobs::Panicked) -> Vec<Event> {
        let error = panicked.to_string();
        match self {
            Self::Scan(root) => vec![Event::Crashed(error), Event::ScanDone(root)],
            Self::Open(path) => vec![Event::OpenFailed { path, error }],
            Self::Export(path) => vec![Event::ExportFailed { path, error }],
            Self::Preview => vec![Event::Previewed(Box::new(Err(Failure::new(
                FailureStage::Dataset,
                error,
            ))))],
            Self::LoadRun(dir) => vec![Event::RunFailed { dir, error }],
            Self::LoadExplanation(dir) => vec![Event::ExplanationLoaded(dir, Err(error))],
            Self::ReadSweep(dir) | Self::SubmitSweep(dir) | Self::PlanSweep(dir) => {
                vec![Event::SweepFailed { dir, error }]
            }
            Self::DeleteRun(dir) => vec![Event::RunDeleted {
                dir,
                error: Some(error),
            }],
            Self::OpenPlayer => vec![Event::PlayerOpened(Box::new(Err(
                PlaybackError::Unavailable(error),
            )))],
            Self::WriteFile(path) | Self::SavePng(path) => {
                vec![Event::WriteFailed { path, error }]
            }
            Self::Suggest(file) => vec![Event::SuggestFailed { file, error }],
            Self::Warm(path) => vec![Event::ReadFailed { path, error }],
            Self::ListRuns(_) | Self::Spectra(_) | Self::PrepareClip(_) => {
                vec![Event::Crashed(error)]
            }
        }
    }
}
