//! Background work for the GUI: scanning folders, opening recordings (with
//! their pyramids) and exporting, on worker threads that report [`Event`]s
//! over bounded channels and wake the UI.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use eframe::egui;

use crate::playback::{DEFAULT_OUTPUT_RATE_HZ, PlaybackError, Player, prepare_audio, sonify};
use spindle_learn::dataset::CvScheme;
use spindle_learn::explain::Explanation;
use spindle_learn::jobs::{Preview, TrainJobSpec, preview};
use spindle_learn::runs::sweep::{
    GridAxis, SWEEP_JSON, Sweep, SweepError, SweepSnapshot, TaskData, load_sweep_snapshot, submit,
    tasks_to_run, write_sbatch,
};
use spindle_learn::runs::{RunEntry, RunSnapshot, list_runs, load_run_snapshot};
use spindle_learn::train::{DeviceChoice, Failure, FailureStage, RunPaths, load_run, predict_file};
use spindle_signals::dsp::{
    MinMaxPyramid, PyramidBuilder, SpanSpectra, SpectraRequest, peak_amplitude, robust_amplitude,
    span_spectra,
};
use spindle_signals::labeling::{
    ClassifiedWindow, DamagedSidecar, JournalReplay, Suggestions, open_labels,
};
use spindle_signals::recording::{
    EdfWriteOptions, LabelSet, LabelSource, READ_ON_DEMAND_BYTES, Recording, SampleStore,
    is_audio_folder, is_recording_path, labels_for_recording, open_for_viewing, read_recording,
    read_summary, write_atomic, write_edf,
};

/// Windows less sure than this are not suggested.
const MIN_SUGGESTION_CONFIDENCE: f32 = 0.5;

/// Folders deeper than this below the opened one are not scanned.
const MAX_SCAN_DEPTH: usize = 4;

/// The pyramids of a recording read on demand take about this many bytes
/// in all (their finest blocks grow with the recording).
const OVERVIEW_BYTES: usize = 16 << 20;

/// Seconds of each channel read to scale a recording read on demand.
const SCALING_SPAN_S: f64 = 30.0;

/// Tells a folder scan that a newer one replaced it.
#[derive(Debug, Clone)]
pub struct ScanTicket {
    mine: u64,
    latest: Arc<AtomicU64>,
}

impl ScanTicket {
    /// True once a newer scan was asked for.
    fn is_stale(&self) -> bool {
        self.latest.load(Ordering::Relaxed) != self.mine
    }
}

/// Stops the overview of a recording being built once its session is gone.
#[derive(Debug, Default)]
pub struct OverviewGuard(Arc<AtomicBool>);

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
    /// List the recordings under a folder (see [`Workers::scan`]).
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
        /// Samples at [`DEFAULT_OUTPUT_RATE_HZ`], -1..1.
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

/// Wakes the UI when an event arrives; the context is set on the first frame.
#[derive(Clone, Default)]
struct Waker(Arc<OnceLock<egui::Context>>);

impl Waker {
    fn wake(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}

/// The GUI's handle on its worker threads.
pub struct Workers {
    scan_tx: Sender<Command>,
    load_tx: Sender<Command>,
    work_tx: Sender<Command>,
    events: Receiver<Event>,
    waker: Waker,
    busy: usize,
    latest_scan: Arc<AtomicU64>,
}

impl Workers {
    /// Starts the scanner and loader threads.
    pub fn spawn() -> Self {
        let (event_tx, events) = bounded(256);
        let waker = Waker::default();
        let scan_tx = spawn_worker("spindle-scan", event_tx.clone(), waker.clone());
        let load_tx = spawn_worker("spindle-load", event_tx.clone(), waker.clone());
        let work_tx = spawn_worker("spindle-work", event_tx, waker.clone());
        Self {
            scan_tx,
            load_tx,
            work_tx,
            events,
            waker,
            busy: 0,
            latest_scan: Arc::default(),
        }
    }

    /// Queues a scan of `root`, cancelling any scan still running.
    pub fn scan(&mut self, root: PathBuf) -> Result<(), String> {
        let ticket = ScanTicket {
            mine: self.latest_scan.fetch_add(1, Ordering::Relaxed) + 1,
            latest: self.latest_scan.clone(),
        };
        self.send(Command::Scan(root, ticket))
    }

    /// Lets the workers wake `ctx` when they have news.
    pub fn set_context(&self, ctx: &egui::Context) {
        let _ = self.waker.0.set(ctx.clone());
    }

    /// A sender for work that a callback on another thread must queue (a
    /// screenshot to save).
    pub fn work_sender(&self) -> Sender<Command> {
        self.work_tx.clone()
    }

    /// Queues `command`; an error message when the queue is full or the worker is gone.
    pub fn send(&mut self, command: Command) -> Result<(), String> {
        let tx = match command {
            Command::Scan(..) => &self.scan_tx,
            Command::Open(_) | Command::Export(..) => &self.load_tx,
            Command::Preview(_)
            | Command::ListRuns(_)
            | Command::LoadRun(_)
            | Command::LoadExplanation(_)
            | Command::DeleteRun(_)
            | Command::ReadSweep(_)
            | Command::SubmitSweep(_)
            | Command::PlanSweep(_)
            | Command::WriteFile(..)
            | Command::Warm(..)
            | Command::OpenPlayer(_)
            | Command::Spectra(..)
            | Command::PrepareClip { .. }
            | Command::SavePng { .. }
            | Command::Suggest { .. } => &self.work_tx,
        };
        let counts = matches!(
            command,
            Command::Scan(..) | Command::Open(_) | Command::Export(..)
        );
        match tx.try_send(command) {
            Ok(()) => {
                if counts {
                    self.busy += 1;
                }
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err("too many jobs queued; try again in a moment".into()),
            Err(TrySendError::Disconnected(_)) => Err("the background worker stopped".into()),
        }
    }

    /// The events that arrived since the last call.
    pub fn drain(&mut self) -> Vec<Event> {
        let events: Vec<Event> = self.events.try_iter().collect();
        for e in &events {
            // Only file work counts as busy; previews and run reads do not.
            if matches!(
                e,
                Event::ScanDone(_)
                    | Event::Opened(_)
                    | Event::OpenFailed { .. }
                    | Event::Exported(_)
                    | Event::ExportFailed { .. }
            ) {
                self.busy = self.busy.saturating_sub(1);
            }
        }
        events
    }

    /// True while a queued job has not reported its end.
    pub fn is_busy(&self) -> bool {
        self.busy > 0
    }
}

fn spawn_worker(name: &str, events: Sender<Event>, waker: Waker) -> Sender<Command> {
    let (tx, rx) = bounded::<Command>(16);
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            for command in rx {
                if !run_guarded(command, &events, &waker) {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        // Without the thread the channel is disconnected and `send` reports it.
        eprintln!("error: could not start the {name} thread: {e}");
    }
    tx
}

/// Runs one command like [`run`], turning a panic while handling it into
/// the command's failure event (naming the file and what was being done),
/// so that the app shows it and the worker goes on with the next command.
fn run_guarded(command: Command, events: &Sender<Event>, waker: &Waker) -> bool {
    let task = Task::of(&command);
    let (path, doing) = task.describe();
    match spindle_learn::jobs::catch_panic(path, doing, || run(command, events, waker)) {
        Ok(alive) => alive,
        Err(panicked) => {
            let mut alive = true;
            for event in task.failed(panicked) {
                alive &= events.send(event).is_ok();
            }
            waker.wake();
            alive
        }
    }
}

/// What a command was about, kept to report a panic while handling it.
#[derive(Debug, Clone)]
enum Task {
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
    fn of(command: &Command) -> Self {
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
    fn describe(&self) -> (Option<&Path>, &'static str) {
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
    fn failed(self, panicked: spindle_learn::jobs::Panicked) -> Vec<Event> {
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

/// Runs one command; false when the UI has gone away.
fn run(command: Command, events: &Sender<Event>, waker: &Waker) -> bool {
    let send = |e: Event| {
        let ok = events.send(e).is_ok();
        waker.wake();
        ok
    };
    match command {
        Command::Scan(root, ticket) => {
            let mut files = Vec::new();
            collect_recordings(&root, 0, &mut files);
            // Recordings first, then audio folders; by path within each.
            files.sort_by_key(|p| {
                (
                    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")),
                    p.clone(),
                )
            });
            for path in files {
                if ticket.is_stale() {
                    break;
                }
                if !send(Event::Found(root.clone(), describe(&root, &path))) {
                    return false;
                }
            }
            send(Event::ScanDone(root))
        }
        Command::Open(path) => match open(&path) {
            Ok((loaded, overview)) => {
                let sent = send(Event::Opened(Box::new(loaded)));
                if let Some(job) = overview {
                    job.spawn(events.clone(), waker.clone());
                }
                sent
            }
            Err(error) => send(Event::OpenFailed { path, error }),
        },
        Command::Export(rec, samples, labels, path) => {
            let whole = match &samples {
                SampleStore::Memory(rec) => Ok(rec.clone()),
                SampleStore::Paged(_) => read_recording(&rec.path).map(Arc::new),
            };
            let written = whole.and_then(|whole| {
                let mut out = (*whole).clone();
                out.annotations = labels.to_annotations();
                write_edf(&path, &out, &EdfWriteOptions::default())
            });
            match written {
                Ok(()) => send(Event::Exported(path)),
                Err(e) => send(Event::ExportFailed {
                    path,
                    error: e.to_string(),
                }),
            }
        }
        Command::Preview(spec) => send(Event::Previewed(Box::new(preview(&spec)))),
        Command::ListRuns(dir) => {
            let runs = list_runs(&dir);
            send(Event::RunsListed(dir, runs))
        }
        Command::LoadRun(dir) => match load_run_snapshot(&dir) {
            Ok(snapshot) => send(Event::RunLoaded(Box::new(snapshot))),
            Err(e) => send(Event::RunFailed {
                dir,
                error: e.to_string(),
            }),
        },
        Command::LoadExplanation(dir) => {
            let explanation = Explanation::load(&dir)
                .map(|e| e.map(Box::new))
                .map_err(|e| e.to_string());
            send(Event::ExplanationLoaded(dir, explanation))
        }
        Command::DeleteRun(dir) => {
            let error = delete_run(&dir).err();
            send(Event::RunDeleted { dir, error })
        }
        Command::ReadSweep(dir) => match load_sweep_snapshot(&dir, true) {
            Ok(snapshot) => send(Event::SweepRead(Box::new(snapshot))),
            Err(e) => send(Event::SweepFailed {
                dir,
                error: e.to_string(),
            }),
        },
        Command::PlanSweep(plan) => match plan_sweep(&plan) {
            Ok(()) => send(Event::SweepPlanned(plan.out)),
            Err(e) => send(Event::SweepFailed {
                dir: plan.out,
                error: e.to_string(),
            }),
        },
        Command::SubmitSweep(dir) => match submit_sweep(&dir) {
            Ok((job_id, tasks)) => send(Event::SweepSubmitted { dir, job_id, tasks }),
            Err(e) => send(Event::SweepFailed {
                dir,
                error: e.to_string(),
            }),
        },
        Command::Spectra(recording, samples, request) => {
            match span_spectra(&recording, &samples, &request) {
                Ok(spectra) => send(Event::SpectraReady {
                    path: recording.path.clone(),
                    request,
                    spectra: Box::new(spectra),
                }),
                Err(e) => send(Event::ReadFailed {
                    path: recording.path.clone(),
                    error: e.to_string(),
                }),
            }
        }
        Command::OpenPlayer(device) => {
            let player = match device {
                Some(name) => Player::with_device(&name),
                None => Player::new(),
            };
            send(Event::PlayerOpened(Box::new(player)))
        }
        Command::PrepareClip {
            recording,
            samples,
            channel,
            start_s,
            end_s,
            speed,
        } => {
            let Some(ch) = recording.channels.get(channel) else {
                return true;
            };
            let len = samples.len(channel);
            let i0 = ((start_s.max(0.0) * ch.rate_hz) as usize).min(len);
            let i1 = ((end_s.max(0.0) * ch.rate_hz) as usize).clamp(i0, len);
            let mut span = Vec::new();
            if let Err(e) = samples.read(channel, i0..i1, &mut span) {
                return send(Event::ReadFailed {
                    path: recording.path.clone(),
                    error: e.to_string(),
                });
            }
            let (samples, speed) = if ch.is_audio() {
                (
                    prepare_audio(&span, ch.rate_hz, DEFAULT_OUTPUT_RATE_HZ),
                    1.0,
                )
            } else {
                (
                    sonify(&span, ch.rate_hz, speed, DEFAULT_OUTPUT_RATE_HZ),
                    speed,
                )
            };
            send(Event::ClipReady {
                samples,
                start_s: i0 as f64 / ch.rate_hz,
                speed,
            })
        }
        Command::Warm(samples, channel, range) => match samples.warm(channel, range) {
            Ok(()) => true,
            Err(e) => send(Event::ReadFailed {
                path: samples_path(&samples),
                error: e.to_string(),
            }),
        },
        Command::WriteFile(path, bytes) => match write_atomic(&path, &bytes) {
            Ok(()) => send(Event::Written(path)),
            Err(e) => send(Event::WriteFailed {
                path,
                error: e.to_string(),
            }),
        },
        Command::SavePng {
            image,
            rect,
            pixels_per_point,
            path,
        } => match encode_png(&image.region(&rect, Some(pixels_per_point)))
            .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()))
        {
            Ok(()) => send(Event::Written(path)),
            Err(error) => send(Event::WriteFailed { path, error }),
        },
        Command::Suggest {
            run_dir,
            file,
            existing,
        } => match suggest(&run_dir, &file, &existing) {
            Ok(suggestions) => send(Event::Suggested { file, suggestions }),
            Err(error) => send(Event::SuggestFailed { file, error }),
        },
    }
}

fn collect_recordings(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            if depth < MAX_SCAN_DEPTH {
                collect_recordings(&path, depth + 1, out);
            }
        } else if is_recording_path(&path) {
            out.push(path);
        }
    }
}

/// The class of `path` when it sits in an audio folder (`root/<class>/x.wav`).
fn audio_class(path: &Path) -> Option<String> {
    let class_dir = path.parent()?;
    let root = class_dir.parent()?;
    let is_wav = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    (is_wav && is_audio_folder(root)).then(|| class_dir.file_name()?.to_str().map(str::to_owned))?
}

fn describe(root: &Path, path: &Path) -> Entry {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let mut entry = Entry {
        path: path.to_path_buf(),
        name,
        duration_s: 0.0,
        channels: 0,
        rate_hz: 0.0,
        labels: 0,
        class: audio_class(path),
        error: None,
    };
    match read_summary(path) {
        Ok(summary) => {
            entry.duration_s = summary.duration_s;
            entry.channels = summary.channels;
            entry.rate_hz = summary.rate_hz;
            match labels_for_recording(path, &summary.annotations) {
                Ok((labels, _)) => entry.labels = labels.len(),
                Err(e) => entry.error = Some(e.to_string()),
            }
        }
        Err(e) => entry.error = Some(e.to_string()),
    }
    entry
}

/// Opens `path` for viewing; for a recording read on demand, also the job
/// that builds its overview.
fn open(path: &Path) -> Result<(Loaded, Option<OverviewJob>), String> {
    let started = Instant::now();
    let (recording, samples) =
        open_for_viewing(path, READ_ON_DEMAND_BYTES).map_err(|e| e.to_string())?;
    let guard = OverviewGuard::default();
    let (pyramids, amplitudes, overview) = match &samples {
        SampleStore::Memory(rec) => {
            let pyramids = rec
                .channels
                .iter()
                .map(|c| MinMaxPyramid::build(&c.samples))
                .collect();
            let amplitudes = rec
                .channels
                .iter()
                .map(|c| scale_of(c.is_audio(), &c.samples))
                .collect();
            (pyramids, amplitudes, None)
        }
        SampleStore::Paged(_) => {
            let mut amplitudes = Vec::with_capacity(recording.channels.len());
            let mut first = Vec::new();
            for (c, ch) in recording.channels.iter().enumerate() {
                first.clear();
                let n = (SCALING_SPAN_S * ch.rate_hz) as usize;
                samples
                    .read(c, 0..n, &mut first)
                    .map_err(|e| e.to_string())?;
                amplitudes.push(scale_of(ch.is_audio(), &first));
            }
            let job = OverviewJob {
                path: path.to_path_buf(),
                samples: samples.clone(),
                stop: guard.0.clone(),
            };
            let empty = vec![MinMaxPyramid::default(); recording.channels.len()];
            (empty, amplitudes, Some(job))
        }
    };
    let labels = open_labels(path, &recording.annotations);
    let loaded = Loaded {
        recording,
        samples,
        pyramids,
        overview: guard,
        amplitudes,
        labels: labels.labels,
        source: labels.source,
        class: audio_class(path),
        warning: labels.warning,
        damaged: labels.damaged,
        journal: labels.journal,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((loaded, overview))
}

/// The file a store reads from (empty for samples in memory, which never
/// fail to read).
fn samples_path(samples: &SampleStore) -> PathBuf {
    match samples {
        SampleStore::Memory(rec) => rec.path.clone(),
        SampleStore::Paged(paged) => paged.path().to_path_buf(),
    }
}

/// The default scale of a channel: audio calls sit in near-silence, so
/// they are scaled to their peak; EEG to its robust amplitude.
fn scale_of(is_audio: bool, samples: &[f32]) -> f32 {
    if is_audio {
        peak_amplitude(samples)
    } else {
        robust_amplitude(samples)
    }
}

/// Builds the pyramids of a recording read on demand by streaming its file
/// once, on a thread of its own, reporting progress.
struct OverviewJob {
    path: PathBuf,
    samples: SampleStore,
    stop: Arc<AtomicBool>,
}

impl OverviewJob {
    fn spawn(self, events: Sender<Event>, waker: Waker) {
        let spawned = std::thread::Builder::new()
            .name("spindle-overview".into())
            .spawn(move || {
                let event = self.run(&events, &waker);
                if let Some(event) = event {
                    let _ = events.send(event);
                    waker.wake();
                }
            });
        if let Err(e) = spawned {
            eprintln!("error: could not start the overview thread: {e}");
        }
    }

    /// The final event, or `None` when stopped.
    fn run(&self, events: &Sender<Event>, waker: &Waker) -> Option<Event> {
        let SampleStore::Paged(paged) = &self.samples else {
            return None;
        };
        let n = paged.channel_count();
        let budget = OVERVIEW_BYTES / n.max(1);
        let total: usize = (0..n).map(|c| paged.len(c)).sum();
        let mut builders: Vec<PyramidBuilder> = (0..n)
            .map(|c| PyramidBuilder::new(PyramidBuilder::base_block_for(paged.len(c), budget)))
            .collect();
        let mut done = 0usize;
        let mut reported = 0.0;
        let finished = paged.stream(|piece| {
            for (builder, samples) in builders.iter_mut().zip(piece) {
                builder.push(samples);
                done += samples.len();
            }
            let fraction = done as f64 / total.max(1) as f64;
            if fraction - reported >= 0.05 {
                reported = fraction;
                // Progress is news, not a duty: a full queue drops it.
                if events
                    .try_send(Event::OverviewProgress {
                        path: self.path.clone(),
                        fraction,
                    })
                    .is_ok()
                {
                    waker.wake();
                }
            }
            !self.stop.load(Ordering::Relaxed)
        });
        match finished {
            Ok(true) => Some(Event::OverviewReady {
                path: self.path.clone(),
                pyramids: builders.into_iter().map(PyramidBuilder::finish).collect(),
            }),
            Ok(false) => None,
            Err(e) => Some(Event::ReadFailed {
                path: self.path.clone(),
                error: e.to_string(),
            }),
        }
    }
}

/// A new sweep as the app asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlan {
    /// Its recordings.
    pub data: TaskData,
    /// The grid.
    pub axes: Vec<GridAxis>,
    /// The options every task shares.
    pub fixed: Vec<String>,
    /// Cross-validation of each setting.
    pub cv: Option<CvScheme>,
    /// The sweep folder to create.
    pub out: PathBuf,
}

/// Plans `plan` (reading the recordings for cross-validation) and writes
/// its `sweep.json`, refusing a folder that already holds a sweep.
fn plan_sweep(plan: &SweepPlan) -> Result<(), SweepError> {
    let json = plan.out.join(SWEEP_JSON);
    if json.exists() {
        return Err(SweepError::Invalid {
            path: json,
            message: "already holds a sweep; open it instead, or choose another folder".into(),
        });
    }
    Sweep::plan(&plan.data, &plan.axes, &plan.fixed, plan.cv)?.save(&plan.out)?;
    Ok(())
}

/// Writes the batch script of the tasks of the sweep in `dir` still to run
/// and submits it with `sbatch`; the job id and the number of tasks.
fn submit_sweep(dir: &Path) -> Result<(String, usize), SweepError> {
    let sweep = Sweep::load(&dir.join(SWEEP_JSON))?;
    let todo = tasks_to_run(dir, &sweep);
    if todo.is_empty() {
        return Err(SweepError::Invalid {
            path: dir.to_path_buf(),
            message: "every task is done or running; nothing to submit".into(),
        });
    }
    write_sbatch(dir, &todo, SLURM_MAX_RUNNING)?;
    let exe = std::env::current_exe().map_err(|e| SweepError::Io {
        path: dir.to_path_buf(),
        source: Arc::new(e),
    })?;
    Ok((submit(dir, &exe, &[])?, todo.len()))
}

/// The most tasks of a sweep the app lets Slurm run at once.
const SLURM_MAX_RUNNING: usize = 16;

/// Deletes a run folder, refusing folders that are not runs.
fn delete_run(dir: &Path) -> Result<(), String> {
    let paths = RunPaths::new(dir);
    if !paths.run_json().exists() && !paths.metrics_csv().exists() {
        return Err(format!(
            "{}: not a run folder; nothing deleted",
            dir.display()
        ));
    }
    std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Runs the model of `run_dir` over `file` and makes suggestions of its windows.
fn suggest(
    run_dir: &Path,
    file: &Path,
    existing: &Option<LabelSet>,
) -> Result<Suggestions, String> {
    let existing = match existing {
        Some(l) => l.clone(),
        None => labels_for_recording(file, &[])
            .map(|(l, _)| l)
            .map_err(|e| e.to_string())?,
    };
    let run = load_run(run_dir, DeviceChoice::Cpu).map_err(|e| e.to_string())?;
    if run.info.regression {
        return Err(format!(
            "{}: a regression run predicts numbers, not labels",
            run_dir.display()
        ));
    }
    let windows: Vec<ClassifiedWindow> = predict_file(&run, file)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|w| ClassifiedWindow {
            onset_s: w.onset_s,
            duration_s: w.duration_s,
            confidence: w.probabilities.iter().copied().fold(0.0, f32::max),
            class: w.label,
        })
        .collect();
    let name = run_dir.file_name().map_or_else(
        || run_dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Suggestions::from_windows(
        name,
        &windows,
        &existing,
        MIN_SUGGESTION_CONFIDENCE,
    ))
}

/// An RGBA image as PNG bytes.
fn encode_png(image: &egui::ColorImage) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgba))
        .map_err(|e| format!("PNG encoding failed: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_lists_from_headers_and_stops_when_a_newer_one_is_asked_for() {
        use spindle_signals::recording::{Channel, EdfWriteOptions, Format, Segment};
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.edf", "b.edf", "c.edf"] {
            let path = dir.path().join(name);
            let rec = Recording {
                path: path.clone(),
                format: Format::EdfPlusC,
                patient: String::new(),
                recording_id: String::new(),
                start: None,
                channels: vec![Channel {
                    label: "Cz".into(),
                    unit: "uV".into(),
                    rate_hz: 100.0,
                    physical_min: -1.0,
                    physical_max: 1.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples: vec![0.0; 1000],
                }],
                annotations: Vec::new(),
                segments: vec![Segment {
                    onset_s: 0.0,
                    duration_s: 10.0,
                }],
                warnings: Vec::new(),
            };
            write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
        }
        let latest = Arc::new(AtomicU64::new(1));
        let ticket = || ScanTicket {
            mine: 1,
            latest: latest.clone(),
        };
        let root = dir.path().to_path_buf();
        let (tx, rx) = bounded(16);
        assert!(run(
            Command::Scan(root.clone(), ticket()),
            &tx,
            &Waker::default()
        ));
        let found: Vec<Entry> = rx
            .try_iter()
            .filter_map(|e| match e {
                Event::Found(_, entry) => Some(entry),
                _ => None,
            })
            .collect();
        assert_eq!(found.len(), 3);
        assert!(
            found
                .iter()
                .all(|e| e.channels == 1 && e.duration_s == 10.0)
        );
        // A newer scan was asked for: this one reports only that it ended.
        latest.store(2, Ordering::Relaxed);
        assert!(run(
            Command::Scan(root.clone(), ticket()),
            &tx,
            &Waker::default()
        ));
        let events: Vec<Event> = rx.try_iter().collect();
        assert!(matches!(events.as_slice(), [Event::ScanDone(r)] if *r == root));
    }

    #[test]
    fn a_panic_while_saving_a_chart_is_reported_and_the_worker_goes_on() {
        // A chart region reaching past the screenshot makes egui's
        // `ColorImage::region` panic on a slice index.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.png");
        let image = Arc::new(egui::ColorImage::filled([4, 4], egui::Color32::BLUE));
        let rect = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(40.0, 40.0));
        let (tx, rx) = bounded(4);
        let command = Command::SavePng {
            image,
            rect,
            pixels_per_point: 1.0,
            path: path.clone(),
        };
        assert!(run_guarded(command, &tx, &Waker::default()));
        match rx.try_recv().unwrap() {
            Event::WriteFailed { path: p, error } => {
                assert_eq!(p, path);
                let expected = format!(
                    "{}: saving the chart as PNG stopped on an internal error (a bug in Spindle; please report it with this message): ",
                    path.display()
                );
                assert!(error.starts_with(&expected), "{error}");
                assert!(error.contains("out of range"), "{error}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!path.exists());
        // The same worker handles the next command.
        let bytes = b"ok".to_vec();
        let next = dir.path().join("next.csv");
        assert!(run_guarded(
            Command::WriteFile(next.clone(), bytes),
            &tx,
            &Waker::default()
        ));
        assert!(matches!(rx.try_recv().unwrap(), Event::Written(p) if p == next));
    }

    #[test]
    fn a_panicking_scan_still_ends_the_scan() {
        let root = PathBuf::from("/data");
        let events = Task::Scan(root.clone()).failed(spindle_learn::jobs::Panicked {
            path: Some(root.clone()),
            doing: "scanning the folder".into(),
            message: "boom".into(),
        });
        assert!(
            matches!(&events[0], Event::Crashed(e) if e.starts_with("/data: scanning the folder stopped on an internal error"))
        );
        assert!(matches!(&events[1], Event::ScanDone(r) if *r == root));
    }

    #[test]
    fn a_chart_region_is_saved_as_a_png_of_its_pixels() {
        // 4x2 points at 2 pixels per point: an 8x4 image, left half red.
        let mut image = egui::ColorImage::filled([8, 4], egui::Color32::BLUE);
        for y in 0..4 {
            for x in 0..4 {
                image.pixels[y * 8 + x] = egui::Color32::RED;
            }
        }
        let rect = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(2.0, 2.0));
        let bytes = encode_png(&image.region(&rect, Some(2.0))).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (4, 4));
        assert!(buf.chunks(4).all(|p| p == [255, 0, 0, 255]));
    }
}
