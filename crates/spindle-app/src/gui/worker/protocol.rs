//! What the app and its workers say to each other: the [`Command`]s it
//! queues and the [`Event`]s they answer with, and the values they carry.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use eframe::egui;
use spindle_learn::explain::Explanation;
use spindle_learn::jobs::{Preview, TrainJobSpec};
use spindle_learn::runs::sweep::{SweepPlan, SweepSnapshot};
use spindle_learn::runs::{RunEntry, RunSnapshot};
use spindle_learn::train::Failure;
use spindle_signals::dsp::{MinMaxPyramid, SpanSpectra, SpectraRequest};
use spindle_signals::labeling::{DamagedSidecar, JournalReplay, Suggestions};
use spindle_signals::recording::{LabelSet, LabelSource, Recording, SampleStore};

use crate::playback::{PlaybackError, Player};

/// Tells a folder scan that a newer one replaced it.
#[derive(Debug, Clone)]
pub struct ScanTicket {
    pub(super) mine: u64,
    pub(super) latest: Arc<AtomicU64>,
}

impl ScanTicket {
    /// True once a newer scan was asked for.
    pub(super) fn is_stale(&self) -> bool {
        self.latest.load(Ordering::Relaxed) != self.mine
    }
}

/// Stops the overview of a recording being built once its session is gone.
#[derive(Debug, Default)]
pub struct OverviewGuard(pub(super) Arc<AtomicBool>);

impl Drop for OverviewGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A recording listed in the browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The file.
    pub path: PathBuf,
    /// Path relative to the scanned folder, for display.
    pub name: String,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Number of data channels.
    pub channels: usize,
    /// Highest channel rate, Hz.
    pub rate_hz: f64,
    /// Number of labels (sidecar or file annotations).
    pub labels: usize,
    /// The class of a file in an audio folder (`root/<class>/x.wav`).
    pub class: Option<String>,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

/// A recording read and prepared for viewing.
#[derive(Debug)]
pub struct Loaded {
    /// The recording (for one read on demand: its header facts and
    /// annotations, without samples).
    pub recording: Arc<Recording>,
    /// Its samples.
    pub samples: SampleStore,
    /// One min/max pyramid per channel; empty ones while the overview of a
    /// recording read on demand is built ([`Event::OverviewReady`]).
    pub pyramids: Vec<MinMaxPyramid>,
    /// Stops that overview when dropped.
    pub overview: OverviewGuard,
    /// Robust amplitude per channel, physical units (for default scaling).
    pub amplitudes: Vec<f32>,
    /// Its labels.
    pub labels: LabelSet,
    /// Where they came from.
    pub source: LabelSource,
    /// The class of a file in an audio folder.
    pub class: Option<String>,
    /// A problem with the labels that did not stop the opening.
    pub warning: Option<String>,
    /// The sidecar, when it exists but could not be read.
    pub damaged: Option<DamagedSidecar>,
    /// Edits an earlier session journaled but did not save.
    pub journal: Option<JournalReplay>,
    /// Seconds spent reading and preparing.
    pub seconds: f64,
}

/// Work for the workers.
#[derive(Debug)]
pub enum Command {
    /// List the recordings under a folder (see [`Workers::scan`](super::Workers::scan)).
    Scan(PathBuf, ScanTicket),
    /// Open a recording.
    Open(PathBuf),
    /// Write a recording with these labels as EDF+ annotations to a path.
    Export(Arc<Recording>, SampleStore, LabelSet, PathBuf),
    /// Build the dataset and model summary a training job would use.
    Preview(Box<TrainJobSpec>),
    /// List the runs of a runs folder.
    ListRuns(PathBuf),
    /// Read a run folder (settings, curves, report, predictions).
    LoadRun(PathBuf),
    /// Read the `explain.json` of a run folder.
    LoadExplanation(PathBuf),
    /// Delete a run folder.
    DeleteRun(PathBuf),
    /// Read a sweep folder: its tasks' status, running curves, comparison.
    ReadSweep(PathBuf),
    /// Submit the remaining tasks of a sweep folder to Slurm.
    SubmitSweep(PathBuf),
    /// Plan a new sweep and write its `sweep.json`.
    PlanSweep(Box<SweepPlan>),
    /// Compute the spectra of a view of a recording.
    Spectra(Arc<Recording>, SampleStore, SpectraRequest),
    /// Open the audio output: this device, or the default one.
    OpenPlayer(Option<String>),
    /// Make the samples to play for `start_s..end_s` of one channel: audio
    /// at normal speed, EEG sped up by `speed`.
    PrepareClip {
        /// The recording.
        recording: Arc<Recording>,
        /// Its samples.
        samples: SampleStore,
        /// The channel.
        channel: usize,
        /// Start of the span, seconds.
        start_s: f64,
        /// End of the span, seconds.
        end_s: f64,
        /// Speed-up for EEG channels.
        speed: f64,
    },
    /// Decode the samples of a recording read on demand around the view
    /// (channel, sample range) into its cache, ahead of drawing.
    Warm(SampleStore, usize, std::ops::Range<usize>),
    /// Write bytes to a file atomically.
    WriteFile(PathBuf, Vec<u8>),
    /// Encode the part `rect` (points, at `pixels_per_point`) of a
    /// screenshot as PNG and write it.
    SavePng {
        /// The screenshot.
        image: Arc<egui::ColorImage>,
        /// The part to keep, points.
        rect: egui::Rect,
        /// Pixels per point of the screenshot.
        pixels_per_point: f32,
        /// The file.
        path: PathBuf,
    },
    /// Run a run's model on a recording and turn its predictions into
    /// suggested labels (none overlapping `existing`).
    Suggest {
        /// The run folder.
        run_dir: PathBuf,
        /// The recording.
        file: PathBuf,
        /// The recording's labels now (`None`: read them from its files).
        existing: Option<LabelSet>,
    },
}

/// What the workers report.
#[derive(Debug)]
pub enum Event {
    /// A recording found while scanning `root`.
    Found(PathBuf, Entry),
    /// Scanning `root` finished.
    ScanDone(PathBuf),
    /// A recording is open.
    Opened(Box<Loaded>),
    /// Part of the overview (pyramids) of a recording read on demand is built.
    OverviewProgress {
        /// The recording.
        path: PathBuf,
        /// How much, 0..=1.
        fraction: f64,
    },
    /// The overview of a recording read on demand is built.
    OverviewReady {
        /// The recording.
        path: PathBuf,
        /// One pyramid per channel.
        pyramids: Vec<MinMaxPyramid>,
    },
    /// Samples of a recording read on demand are in its cache now (the
    /// next frame draws them).
    Warmed,
    /// Reading a recording on demand failed (it changed or vanished).
    ReadFailed {
        /// The recording.
        path: PathBuf,
        /// Why, naming the file.
        error: String,
    },
    /// A recording could not be opened.
    OpenFailed {
        /// The recording.
        path: PathBuf,
        /// Why, naming the file.
        error: String,
    },
    /// An export finished at this path.
    Exported(PathBuf),
    /// An export failed.
    ExportFailed {
        /// The file that was to be written.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// A dataset preview is ready (or failed).
    Previewed(Box<Result<Preview, Failure>>),
    /// The runs of a runs folder, newest first.
    RunsListed(PathBuf, Vec<RunEntry>),
    /// A run folder was read.
    RunLoaded(Box<RunSnapshot>),
    /// The `explain.json` of a run folder was read: `None` when
    /// the run has not been explained, an error naming the file when it
    /// does not read.
    ExplanationLoaded(PathBuf, Result<Option<Box<Explanation>>, String>),
    /// A run folder could not be read.
    RunFailed {
        /// The run folder.
        dir: PathBuf,
        /// Why.
        error: String,
    },
    /// Suggested labels for a recording are ready.
    Suggested {
        /// The recording.
        file: PathBuf,
        /// The suggestions.
        suggestions: Suggestions,
    },
    /// A run could not be applied to a recording.
    SuggestFailed {
        /// The recording.
        file: PathBuf,
        /// Why.
        error: String,
    },
    /// The spectra of a view are ready.
    SpectraReady {
        /// The recording they belong to.
        path: PathBuf,
        /// What was asked.
        request: SpectraRequest,
        /// The result.
        spectra: Box<SpanSpectra>,
    },
    /// The audio output opened, or why it cannot.
    PlayerOpened(Box<Result<Player, PlaybackError>>),
    /// A clip is ready to play.
    ClipReady {
        /// Samples at [`DEFAULT_OUTPUT_RATE_HZ`](crate::playback::DEFAULT_OUTPUT_RATE_HZ), -1..1.
        samples: Vec<f32>,
        /// Recording time of the first sample, seconds.
        start_s: f64,
        /// Recording seconds per second heard.
        speed: f64,
    },
    /// A file was written.
    Written(PathBuf),
    /// A file could not be written.
    WriteFailed {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// A run folder was deleted (or could not be: `error`).
    RunDeleted {
        /// The run folder.
        dir: PathBuf,
        /// Why it could not be deleted.
        error: Option<String>,
    },
    /// A sweep folder was read.
    SweepRead(Box<SweepSnapshot>),
    /// A sweep folder could not be read, or its tasks not submitted.
    SweepFailed {
        /// The sweep folder.
        dir: PathBuf,
        /// Why.
        error: String,
    },
    /// A new sweep was planned into this folder.
    SweepPlanned(PathBuf),
    /// A sweep's remaining tasks went to Slurm as job `job_id`.
    SweepSubmitted {
        /// The sweep folder.
        dir: PathBuf,
        /// Slurm's job id.
        job_id: String,
        /// Tasks submitted.
        tasks: usize,
    },
    /// Work without a failure event of its own stopped on an internal error
    /// (a panic); the message names the file and what was being done.
    Crashed(String),
}
