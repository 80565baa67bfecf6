//! The app shell: menus, panels, the status bar, worker events, autosave,
//! drag and drop, theme and persistence.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, Modifiers, RichText, ThemePreference, Ui, ViewportCommand};

use super::browser::Browser;
use super::channels;
use super::command::{AppCommand, Commands, Tab};
use super::error::{AppError, reason};
use super::explain::{ExplainPanel, HeatSpan, Overlay, heat_spans};
use super::frame_stats::FrameStats;
use super::keys;
use super::labels::LabelsPanel;
use super::listen::{ListenRequest, Listening, SONIFICATION_SPEED};
use super::results::ResultsPanel;
use super::ribbons;
use super::runs::RunsPanel;
use super::session::Session;
use super::settings::{Settings, ThemeChoice};
use super::spectrum::SpectrumPanel;
use super::training::{PreviewState, TrainingPanel};
use super::viewer::{self, Ribbon, ViewerContext};
use super::worker::{Command, Entry, Event, Workers};
use crate::dsp::format_hms;
use crate::jobs::{ExplainEvent, ExplainJob, TrainJob, TrainJobSpec};
use crate::labeling::{LabelScheme, Suggestions};
use crate::recording::{Label, LabelSet, LabelSource, RECORDING_EXTENSIONS};
use crate::runs::{RunSnapshot, RunStatus, create_run_dir};
use crate::train::{Failure, FailureStage, JobState, RunHistory};

/// Seconds between re-reads of a run another process is still writing.
const LIVE_RUN_POLL_S: f64 = 1.0;
/// Seconds between re-reads of the runs folder while the Runs view is shown.
const RUNS_LIST_POLL_S: f64 = 3.0;

/// The Spindle desktop app: construct it with [`SpindleApp::new`], then call
/// [`SpindleApp::run_logic`] and [`SpindleApp::show`] every frame (the
/// [`eframe::App`] impl does; so can a test harness).
pub struct SpindleApp {
    settings: Settings,
    workers: Workers,
    browser: Browser,
    session: Option<Session>,
    loading: Option<PathBuf>,
    /// Errors listed above the status bar until dismissed.
    errors: Vec<AppError>,
    notice: Option<String>,
    scheme: LabelScheme,
    scheme_folder: Option<PathBuf>,
    labels_panel: LabelsPanel,
    spectrum: SpectrumPanel,
    applied_theme: Option<ThemeChoice>,
    pending: Vec<PathBuf>,
    show_help: bool,
    /// Open the first recording of the scanned folder (startup with folders only).
    auto_open: bool,
    commands: Commands,
    tab: Tab,
    training: TrainingPanel,
    results: ResultsPanel,
    explain: ExplainPanel,
    runs: RunsPanel,
    /// The sweep running on this machine, if any.
    sweep_job: Option<super::sweep_job::SweepJob>,
    last_sweep_poll_s: f64,
    /// The run shown in Results (and drawn on the recording).
    result_run: Option<RunSnapshot>,
    /// The run folder Results should show (loading or loaded).
    results_dir: Option<PathBuf>,
    /// The runs folder.
    runs_dir: PathBuf,
    /// Presentation mode: larger type, thicker lines, fewer panels.
    presenting: bool,
    /// The demo waits for the sample folder's scan to start training.
    demo_pending: bool,
    /// A view to show once its recording is open: `(file, start_s, span_s)`.
    pending_jump: Option<(PathBuf, f64, f64)>,
    /// Bands under the traces: dataset windows and predictions of the open recording.
    ribbons: Vec<Ribbon>,
    /// What the ribbons were built from: `(recording, preview generation,
    /// run, suggestions generation)`.
    ribbons_for: Option<(PathBuf, u64, Option<PathBuf>, u64)>,
    /// Saliency drawn over the traces of the open recording.
    heat: Vec<HeatSpan>,
    /// What the saliency was built from: `(recording, explanation
    /// generation, overlay)`.
    heat_for: Option<(PathBuf, u64, Overlay)>,
    /// Bumped whenever the explanation shown changes.
    explain_generation: u64,
    /// Bumped whenever a new preview arrives.
    preview_generation: u64,
    /// egui time of the last re-read of live runs, seconds.
    last_live_poll_s: f64,
    /// egui time of the last listing of the runs folder, seconds.
    last_list_s: f64,
    /// Audio playback.
    listening: Listening,
    /// Suggested labels waiting for the user, for one recording.
    suggestions: Option<(PathBuf, Suggestions)>,
    /// Bumped whenever the suggestions change (for the ribbons).
    suggestions_generation: u64,
    /// Frame timing, when asked for.
    frame_stats: Option<FrameStats>,
    /// Seconds the last logic step took.
    logic_s: f64,
    /// Print the frame statistics (`--frame-stats`).
    print_frame_stats: bool,
    /// When the recording being opened was asked for, until its first
    /// traces are drawn (printed with `--frame-stats`).
    opening_since: Option<std::time::Instant>,
    /// The frame-time window is open.
    show_frame_stats: bool,
}

impl SpindleApp {
    /// An app that opens `paths` (folders are browsed, files opened) on its
    /// first frame, with `settings` restored from the last run.
    pub fn new(paths: Vec<PathBuf>, settings: Settings) -> Self {
        Self {
            settings,
            workers: Workers::spawn(),
            browser: Browser::default(),
            session: None,
            loading: None,
            errors: Vec::new(),
            notice: None,
            scheme: LabelScheme::default(),
            scheme_folder: None,
            labels_panel: LabelsPanel::default(),
            spectrum: SpectrumPanel::default(),
            applied_theme: None,
            auto_open: !paths.is_empty() && paths.iter().all(|p| p.is_dir()),
            pending: paths,
            show_help: false,
            commands: Commands::default(),
            tab: Tab::Viewer,
            training: TrainingPanel::default(),
            results: ResultsPanel::default(),
            explain: ExplainPanel::default(),
            runs: RunsPanel::default(),
            sweep_job: None,
            last_sweep_poll_s: 0.0,
            result_run: None,
            results_dir: None,
            runs_dir: crate::runs::default_runs_dir(),
            presenting: false,
            demo_pending: false,
            pending_jump: None,
            ribbons: Vec::new(),
            ribbons_for: None,
            heat: Vec::new(),
            heat_for: None,
            explain_generation: 0,
            preview_generation: 0,
            last_live_poll_s: 0.0,
            last_list_s: 0.0,
            listening: Listening::default(),
            suggestions: None,
            suggestions_generation: 0,
            frame_stats: None,
            logic_s: 0.0,
            print_frame_stats: false,
            opening_since: None,
            show_frame_stats: false,
        }
        .with_runs_dir(None)
    }

    /// Uses `dir` as the runs folder (else the one in the settings, else the
    /// platform data folder) and lists it.
    pub fn with_runs_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.runs_dir = dir
            .or_else(|| self.settings.runs_dir.clone())
            .unwrap_or_else(crate::runs::default_runs_dir);
        self.runs.dir = self.runs_dir.clone();
        self.commands.push(AppCommand::RefreshRuns);
        self
    }

    /// Collects frame times and prints them on stderr when a training job
    /// ends and when the window closes.
    pub fn with_frame_stats(mut self) -> Self {
        self.frame_stats = Some(FrameStats::default());
        self.print_frame_stats = true;
        self
    }

    /// Frame-time statistics so far, when collected.
    pub fn frame_report(&self) -> Option<String> {
        self.frame_stats.as_ref().map(FrameStats::report)
    }

    /// Records the CPU time of a frame (seconds): the logic step and UI pass
    /// measured here, and eframe's figure for the previous frame (which adds
    /// tessellation and painting).
    pub fn record_frame(&mut self, logic_and_ui_s: f64, previous_frame_cpu_s: Option<f32>) {
        let training = self.training.is_training();
        if let Some(stats) = &mut self.frame_stats {
            stats.record(
                logic_and_ui_s,
                previous_frame_cpu_s.map(f64::from),
                training,
            );
        }
    }

    /// Queues a command as a panel would (tests drive the app with these too).
    pub fn command(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    /// The view shown.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// The Train view's state: form, preview, job and curves.
    pub fn training(&self) -> &TrainingPanel {
        &self.training
    }

    /// The Train view's state, to edit the form.
    pub fn training_mut(&mut self) -> &mut TrainingPanel {
        &mut self.training
    }

    /// The run shown in Results.
    pub fn result_run(&self) -> Option<&RunSnapshot> {
        self.result_run.as_ref()
    }

    /// The runs listed in Runs.
    pub fn runs(&self) -> &RunsPanel {
        &self.runs
    }

    /// The runs folder.
    pub fn runs_dir(&self) -> &Path {
        &self.runs_dir
    }

    /// True while sound plays.
    pub fn is_listening(&self) -> bool {
        self.listening.is_playing()
    }

    /// Why playback is not available, once the app has tried.
    pub fn playback_unavailable(&self) -> Option<&str> {
        self.listening.unavailable.as_deref()
    }

    /// The recording time being heard, seconds.
    pub fn listening_position_s(&self) -> Option<f64> {
        self.listening.position_s()
    }

    /// Clips handed to the audio output so far.
    pub fn clips_played(&self) -> usize {
        self.listening.clips_played
    }

    /// Suggested labels waiting for a decision: the recording and the list.
    pub fn suggestions(&self) -> Option<(&Path, &Suggestions)> {
        self.suggestions.as_ref().map(|(p, s)| (p.as_path(), s))
    }

    /// The explanation shown in the Explain view, with its run folder.
    pub fn explanation(&self) -> Option<(&Path, &crate::explain::Explanation)> {
        self.explain
            .explanation
            .as_ref()
            .map(|(d, e)| (d.as_path(), e))
    }

    /// True while an explanation is being computed.
    pub fn is_explaining(&self) -> bool {
        self.explain.is_running()
    }

    /// The saliency spans drawn over the traces of the open recording.
    pub fn heat(&self) -> &[HeatSpan] {
        &self.heat
    }

    /// The ribbons drawn under the traces.
    pub fn ribbons(&self) -> &[Ribbon] {
        &self.ribbons
    }

    /// True in presentation mode.
    pub fn is_presenting(&self) -> bool {
        self.presenting
    }

    /// Starts the demo: presentation mode, the sample EEG and a small EEGNet,
    /// training as soon as the folder is listed.
    pub fn start_demo(&mut self) {
        self.commands.push(AppCommand::StartDemo);
    }

    /// The settings (persisted by eframe).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True while a folder scan or a file open is in progress, or a command
    /// waits for the next logic step.
    pub fn is_busy(&self) -> bool {
        !self.pending.is_empty()
            || !self.commands.is_empty()
            || self.workers.is_busy()
            || self.loading.is_some()
            || self.spectrum.is_pending()
    }

    /// The open recording's path.
    pub fn open_recording(&self) -> Option<&Path> {
        self.session.as_ref().map(|s| s.recording.path.as_path())
    }

    /// The visible time range of the viewer, seconds.
    pub fn view_range(&self) -> Option<(f64, f64)> {
        self.session.as_ref().map(Session::view_range)
    }

    /// For an open recording read on demand, how much of its overview is
    /// built (0..=1) while it is being built; `None` otherwise.
    pub fn overview_progress(&self) -> Option<f64> {
        self.session.as_ref().and_then(|s| s.overview_fraction)
    }

    /// True when the open recording's samples are read from its file on
    /// demand (a large EDF/BDF file) rather than held in memory.
    pub fn reads_on_demand(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.samples.is_paged())
    }

    /// The open recording's labels.
    pub fn labels(&self) -> Option<&LabelSet> {
        self.session.as_ref().map(|s| s.doc.labels())
    }

    /// The selected label.
    pub fn selection(&self) -> Option<&Label> {
        self.session.as_ref().and_then(|s| s.selection.as_ref())
    }

    /// Errors listed in the window (a failed label save is shown in the
    /// status bar instead, while its recording is open).
    pub fn errors(&self) -> &[AppError] {
        &self.errors
    }

    /// Where labels go that could not be saved beside their recording when
    /// the app closed: `rescued-labels/` beside the runs folder.
    pub fn rescue_dir(&self) -> PathBuf {
        self.runs_dir
            .parent()
            .map_or_else(|| self.runs_dir.clone(), Path::to_path_buf)
            .join("rescued-labels")
    }

    /// Lists `error` in the window, once: the same error again (a file that
    /// fails every time it is read) adds nothing.
    fn report(&mut self, error: AppError) {
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
    }

    /// Names of the channels drawn, in drawing order.
    pub fn visible_channels(&self) -> Vec<String> {
        let Some(s) = &self.session else {
            return Vec::new();
        };
        s.order
            .iter()
            .filter(|&&c| s.channels[c].visible)
            .map(|&c| s.recording.channels[c].label.clone())
            .collect()
    }

    /// The recordings listed in the browser.
    pub fn entries(&self) -> &[Entry] {
        &self.browser.entries
    }

    /// The label classes in use.
    pub fn scheme(&self) -> &LabelScheme {
        &self.scheme
    }

    /// Turns epoch-scoring mode on or off (as the toolbar toggle does).
    pub fn set_epoch_mode(&mut self, on: bool) {
        let page_s = self.settings.page_s;
        if let Some(s) = &mut self.session {
            s.epoch_mode = on;
            if on {
                let page = s.page(page_s);
                s.go_to_page(page, page_s);
            }
        }
    }

    /// Saves the open recording's labels now if they changed. The error
    /// names the sidecar; the labels stay in memory, unsaved.
    pub fn save_labels(&mut self) -> Result<(), AppError> {
        let Some(s) = &mut self.session else {
            return Ok(());
        };
        s.save()?;
        let (path, n) = (s.recording.path.clone(), s.doc.labels().len());
        self.browser.set_label_count(&path, n);
        Ok(())
    }

    /// Opens a folder (browse it) or a recording (browse its folder and view it).
    ///
    /// Opening another recording closes the open one: when its labels cannot
    /// be saved first, it stays open (its labels would otherwise be lost)
    /// and the window says why.
    /// A sweep folder (one holding `sweep.json`) opens in the Runs view.
    pub fn open_path(&mut self, path: &Path) {
        if path.join(crate::runs::sweep::SWEEP_JSON).is_file() {
            // A sweep folder opens in the Runs view, not as recordings.
            self.commands
                .push(AppCommand::OpenSweep(path.to_path_buf()));
            self.commands.push(AppCommand::ShowTab(Tab::Runs));
            return;
        }
        self.settings.push_recent(path);
        if path.is_dir() {
            self.browse(path);
            return;
        }
        let switching = self
            .session
            .as_ref()
            .is_some_and(|s| s.recording.path != path);
        if switching && let Err(e) = self.save_labels() {
            let recording = self.session.as_mut().map(|s| {
                s.last_save_error = Some(e);
                s.recording.path.clone()
            });
            if let Some(recording) = recording {
                self.report(AppError::KeptOpen {
                    path: recording,
                    wanted: path.to_path_buf(),
                });
            }
            return;
        }
        let inside = self
            .browser
            .root
            .as_deref()
            .is_some_and(|r| path.starts_with(r));
        if !inside && let Some(parent) = path.parent() {
            self.browse(parent);
        }
        match self.workers.send(Command::Open(path.to_path_buf())) {
            Ok(()) => {
                self.loading = Some(path.to_path_buf());
                self.opening_since = Some(std::time::Instant::now());
            }
            Err(reason) => self.report(AppError::Open {
                path: path.to_path_buf(),
                reason,
            }),
        }
    }

    /// Saves the labels where a failure can stay in the status bar: the
    /// session keeps it until a later save succeeds.
    fn save_labels_in_place(&mut self) {
        if let Err(e) = self.save_labels()
            && let Some(s) = &mut self.session
        {
            s.last_save_error = Some(e);
        }
    }

    /// Acts on the user's answer to a question of the recovery lines (see
    /// `recovery.rs`) about the open recording's labels.
    fn recover(&mut self, command: &AppCommand, now_s: f64) {
        let Some(s) = &mut self.session else { return };
        let done = match command {
            AppCommand::RestoreBackup => s.restore_backup(now_s).map(|aside| {
                format!(
                    "labels restored from the backup; the damaged file is kept as {}",
                    aside.display()
                )
            }),
            AppCommand::SetDamagedAside => s
                .set_damaged_aside()
                .map(|aside| format!("the damaged labels file is kept as {}", aside.display())),
            AppCommand::RestoreJournal => s
                .restore_journal(now_s)
                .map(|()| "unsaved edits of an earlier session restored".to_owned()),
            AppCommand::DiscardJournal => s
                .discard_journal()
                .map(|()| "unsaved edits of an earlier session discarded".to_owned()),
            _ => return,
        };
        let (path, n) = (s.recording.path.clone(), s.doc.labels().len());
        for class in s.doc.labels().classes() {
            self.scheme.ensure(&class);
        }
        match done {
            Ok(notice) => {
                self.browser.set_label_count(&path, n);
                self.notice = Some(notice);
            }
            Err(e) => self.report(e),
        }
    }

    fn send_work(&mut self, command: Command) {
        if let Err(e) = self.workers.send(command) {
            self.report(AppError::Busy(e));
        }
    }

    fn browse(&mut self, folder: &Path) {
        self.browser.reset(folder);
        if let Err(reason) = self.workers.scan(folder.to_path_buf()) {
            self.report(AppError::Open {
                path: folder.to_path_buf(),
                reason,
            });
        }
        self.scheme_folder = Some(folder.to_path_buf());
        match LabelScheme::load(folder) {
            Ok(scheme) => self.scheme = scheme,
            Err(e) => self.report(AppError::SchemeNotRead {
                path: e.path().to_path_buf(),
                reason: reason(e.path(), &e),
            }),
        }
    }

    /// Drains worker events, applies drops and the theme, and autosaves. Call
    /// once per frame before [`Self::show`].
    pub fn run_logic(&mut self, ctx: &egui::Context) {
        self.workers.set_context(ctx);
        for path in std::mem::take(&mut self.pending) {
            self.open_path(&path);
        }
        if self.applied_theme != Some(self.settings.theme) {
            ctx.set_theme(match self.settings.theme {
                ThemeChoice::System => ThemePreference::System,
                ThemeChoice::Light => ThemePreference::Light,
                ThemeChoice::Dark => ThemePreference::Dark,
            });
            self.applied_theme = Some(self.settings.theme);
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for path in dropped {
            self.open_path(&path);
        }
        for event in self.workers.drain() {
            self.on_event(event);
        }
        self.drain_job();
        self.drain_explanation();
        self.drain_sweep_job();
        for command in self.commands.take() {
            self.on_command(command, ctx);
        }
        let now = ctx.input(|i| i.time);
        self.poll_live_runs(now);
        self.poll_sweep(now, ctx);
        self.refresh_ribbons();
        self.refresh_heat();
        if let Some(s) = &mut self.session {
            if s.doc.is_dirty() && s.autosave.is_due(now) {
                match s.save() {
                    Ok(()) => {
                        let (path, n) = (s.recording.path.clone(), s.doc.labels().len());
                        self.browser.set_label_count(&path, n);
                    }
                    Err(e) => {
                        // Shown in the status bar until a save succeeds; the
                        // next edit schedules another try.
                        s.autosave.saved();
                        s.last_save_error = Some(e);
                    }
                }
            } else if let Some(due) = s.autosave.due_at() {
                ctx.request_repaint_after(Duration::from_secs_f64((due - now).max(0.0)));
            }
        }
        if self.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        if self.listening.is_playing() {
            ctx.request_repaint();
        }
        if self.tab == Tab::Runs {
            ctx.request_repaint_after(Duration::from_secs_f64(RUNS_LIST_POLL_S));
        }
        if let Some(e) = self.listening.player.as_mut().and_then(|p| p.take_error()) {
            self.report(AppError::Playback(e.to_string()));
        }
        if !self.runs.live_runs().is_empty() || self.runs_have_running() {
            ctx.request_repaint_after(Duration::from_secs_f64(LIVE_RUN_POLL_S));
        }
    }

    /// Reads the open sweep folder again once a second while it has tasks
    /// running or pending (on a cluster, or here).
    fn poll_sweep(&mut self, now_s: f64, ctx: &egui::Context) {
        if !self.runs.sweep.is_live() {
            return;
        }
        ctx.request_repaint_after(Duration::from_secs_f64(LIVE_RUN_POLL_S));
        if now_s - self.last_sweep_poll_s < LIVE_RUN_POLL_S {
            return;
        }
        self.last_sweep_poll_s = now_s;
        if let Some(dir) = self.runs.sweep.open.clone() {
            self.send_work(Command::ReadSweep(dir));
        }
    }

    /// Takes what the sweep running here reported.
    fn drain_sweep_job(&mut self) {
        let Some(job) = &self.sweep_job else {
            return;
        };
        let dir = job.dir.clone();
        let mut ended = None;
        let mut changed = false;
        while let Ok(event) = job.events.try_recv() {
            match event {
                super::sweep_job::SweepJobEvent::Task(_) => changed = true,
                super::sweep_job::SweepJobEvent::Ended(result) => ended = Some(result),
            }
        }
        if let Some(result) = ended {
            self.sweep_job = None;
            self.runs.sweep.running_here = false;
            changed = true;
            match result {
                Ok(s) => {
                    self.notice = Some(format!(
                        "sweep {}: {} done, {} failed, {} skipped",
                        dir.display(),
                        s.done,
                        s.failed,
                        s.skipped
                    ));
                }
                Err(e) => self.report(AppError::Run {
                    reason: reason(&dir, e),
                    path: dir.clone(),
                }),
            }
        }
        if changed && self.runs.sweep.open.as_ref() == Some(&dir) {
            self.send_work(Command::ReadSweep(dir));
        }
    }

    /// Asks the work worker to plan the sweep of `form` over the Train
    /// view's recordings and settings.
    fn plan_sweep(&mut self, form: &super::sweep_view::NewSweep) {
        use crate::runs::sweep::{GridAxis, TaskData, without_options};
        let out = if form.out.trim().is_empty() {
            let seconds = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            self.runs_dir.join(format!("sweep-{seconds}"))
        } else {
            PathBuf::from(form.out.trim())
        };
        let cv = match form.cv.trim() {
            "" => None,
            text => match text.parse() {
                Ok(cv) => Some(cv),
                Err(reason) => {
                    self.report(AppError::Run { path: out, reason });
                    return;
                }
            },
        };
        let axes: Vec<GridAxis> = [
            ("--model", &form.models),
            ("--lr", &form.lrs),
            ("--seed", &form.seeds),
        ]
        .into_iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(option, text)| GridAxis {
            option: option.into(),
            values: text.split(',').map(|v| v.trim().to_string()).collect(),
        })
        .collect();
        let roles = self.training.data_roles();
        if roles.train.is_empty() {
            self.report(AppError::Run {
                path: out,
                reason: "no training recordings: choose them in the Train view first".into(),
            });
            return;
        }
        let varied: Vec<&str> = axes.iter().map(|a| a.option.as_str()).collect();
        let plan = super::worker::SweepPlan {
            data: TaskData {
                train: roles.train,
                validation: roles.validation,
                test: roles.test,
                labels: roles.labels,
            },
            fixed: without_options(&self.training.options.to_args(), &varied),
            axes,
            cv,
            out,
        };
        self.send_work(Command::PlanSweep(Box::new(plan)));
    }

    /// Starts the local runner on the sweep in `dir`, one task at a time.
    fn run_sweep_here(&mut self, dir: PathBuf, ctx: &egui::Context) {
        if self.sweep_job.is_some() {
            self.report(AppError::Run {
                path: dir,
                reason: "a sweep is already running here; stop it first".into(),
            });
            return;
        }
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                self.report(AppError::Run {
                    path: dir,
                    reason: format!("the spindle program could not be found: {e}"),
                });
                return;
            }
        };
        let waker = ctx.clone();
        match super::sweep_job::SweepJob::spawn(&dir, exe, move || waker.request_repaint()) {
            Ok(job) => {
                self.sweep_job = Some(job);
                self.runs.sweep.running_here = true;
            }
            Err(reason) => self.report(AppError::Run { path: dir, reason }),
        }
    }

    fn runs_have_running(&self) -> bool {
        self.result_run.as_ref().is_some_and(|r| r.report.is_none())
            && self
                .runs
                .entries
                .iter()
                .any(|e| e.status == RunStatus::Running)
    }

    /// Re-reads runs that another process is still writing, once a second,
    /// and the runs list every few seconds while it is shown (so that a run
    /// started in a terminal appears).
    fn poll_live_runs(&mut self, now_s: f64) {
        if self.tab == Tab::Runs && now_s - self.last_list_s >= RUNS_LIST_POLL_S {
            self.last_list_s = now_s;
            let dir = self.runs_dir.clone();
            self.send_work(Command::ListRuns(dir));
        }
        if now_s - self.last_live_poll_s < LIVE_RUN_POLL_S {
            return;
        }
        let mut dirs = self.runs.live_runs();
        if let Some(r) = &self.result_run
            && r.report.is_none()
        {
            dirs.push(r.dir.clone());
        }
        if dirs.is_empty() {
            return;
        }
        self.last_live_poll_s = now_s;
        for dir in dirs {
            self.send_work(Command::LoadRun(dir));
        }
        if self.tab == Tab::Runs {
            let dir = self.runs_dir.clone();
            self.send_work(Command::ListRuns(dir));
        }
    }

    /// Folds the training job's new events into its history.
    fn drain_job(&mut self) {
        let Some(job) = &self.training.job else {
            return;
        };
        let events: Vec<_> = job.events.try_iter().collect();
        let Some(history) = &mut self.training.history else {
            return;
        };
        let mut finished = None;
        for e in events {
            history.apply(e);
        }
        if history.state.is_over() {
            if let JobState::Finished(o) = &history.state {
                finished = o.run_dir.clone();
            }
            if self.print_frame_stats
                && let Some(stats) = &self.frame_stats
            {
                eprintln!("{}", stats.report());
            }
            self.training.job = None;
            let dir = self.runs_dir.clone();
            self.send_work(Command::ListRuns(dir));
        }
        if let Some(dir) = finished {
            self.results_dir = Some(dir.clone());
            self.send_work(Command::LoadRun(dir));
            if self.presenting {
                self.tab = Tab::Results;
            }
        }
    }

    fn on_command(&mut self, command: AppCommand, ctx: &egui::Context) {
        match command {
            AppCommand::Open(path) => self.open_path(&path),
            AppCommand::ShowTab(tab) => self.tab = tab,
            AppCommand::Report(e) => self.report(e),
            AppCommand::Preview => self.request_preview(),
            AppCommand::StartTraining => self.start_training(ctx),
            AppCommand::Explain(dir, options) => {
                if self.explain.job.is_some() {
                    self.notice = Some("an explanation is already running".into());
                    return;
                }
                let repaint = ctx.clone();
                self.explain.failure = None;
                self.explain.progress = None;
                self.explain.job = Some(ExplainJob::spawn(dir, options, move || {
                    repaint.request_repaint();
                }));
            }
            AppCommand::Training(c) => {
                if let Some(job) = &self.training.job
                    && let Err(e) = job.send(c)
                {
                    self.report(AppError::Training(e.to_string()));
                }
            }
            AppCommand::StartDemo => {
                self.presenting = true;
                self.demo_pending = true;
                self.tab = Tab::Train;
                if let Some(sample) = super::find_sample_data() {
                    self.open_path(&sample);
                } else {
                    self.demo_pending = false;
                    self.report(AppError::NoSampleData);
                }
            }
            AppCommand::RefreshRuns => {
                let dir = self.runs_dir.clone();
                self.send_work(Command::ListRuns(dir));
            }
            AppCommand::OpenRun(dir) => {
                self.results_dir = Some(dir.clone());
                self.send_work(Command::LoadRun(dir));
            }
            AppCommand::ReadRun(dir) => self.send_work(Command::LoadRun(dir)),
            AppCommand::DeleteRun(dir) => self.send_work(Command::DeleteRun(dir)),
            AppCommand::OpenSweep(dir) => {
                self.runs.sweep.path_text = dir.display().to_string();
                self.runs.sweep.open = Some(dir.clone());
                self.runs.sweep.snapshot = None;
                self.send_work(Command::ReadSweep(dir));
            }
            AppCommand::RunSweepHere(dir) => self.run_sweep_here(dir, ctx),
            AppCommand::SubmitSweep(dir) => {
                self.notice = Some(format!("submitting {} to Slurm…", dir.display()));
                self.send_work(Command::SubmitSweep(dir));
            }
            AppCommand::PlanSweep(form) => self.plan_sweep(&form),
            AppCommand::StopSweep => {
                if let Some(job) = &self.sweep_job {
                    job.stop();
                }
            }
            AppCommand::JumpTo {
                file,
                onset_s,
                duration_s,
            } => {
                self.tab = Tab::Viewer;
                let span = (duration_s * 3.0).max(1.0);
                let start = (onset_s - duration_s).max(0.0);
                if self.open_recording() == Some(file.as_path()) {
                    if let Some(s) = &mut self.session {
                        s.set_view(start, span);
                    }
                } else {
                    self.pending_jump = Some((file.clone(), start, span));
                    self.open_path(&file);
                }
            }
            AppCommand::SetPresentation(on) => self.presenting = on,
            AppCommand::RestoreBackup
            | AppCommand::SetDamagedAside
            | AppCommand::RestoreJournal
            | AppCommand::DiscardJournal => self.recover(&command, ctx.input(|i| i.time)),
            AppCommand::SaveChartPng { name, rect } => {
                let Some(path) = rfd::FileDialog::new()
                    .set_file_name(format!("{name}.png"))
                    .add_filter("PNG image", &["png"])
                    .save_file()
                else {
                    return;
                };
                let tx = self.workers.work_sender();
                let pixels_per_point = ctx.pixels_per_point();
                ctx.request_screenshot(move |image| {
                    // The queue is short and drains fast: wait for room rather
                    // than drop the picture.
                    let _ = tx.send_timeout(
                        Command::SavePng {
                            image,
                            rect,
                            pixels_per_point,
                            path,
                        },
                        Duration::from_secs(5),
                    );
                });
            }
            AppCommand::ExportCurves(dirs) => self.export_curves(&dirs),
            AppCommand::SuggestLabels(file) => {
                let Some(run) = &self.results_dir else {
                    self.report(AppError::NoRun);
                    return;
                };
                let existing = match &self.session {
                    Some(s) if s.recording.path == file => Some(s.doc.labels().clone()),
                    _ => None,
                };
                let command = Command::Suggest {
                    run_dir: run.clone(),
                    file: file.clone(),
                    existing,
                };
                self.send_work(command);
                self.notice = Some(format!("applying the run to {}…", file.display()));
                if self.open_recording() != Some(file.as_path()) {
                    self.open_path(&file);
                }
            }
        }
    }

    /// Asks where to save the curves of `dirs` and writes them as CSV.
    fn export_curves(&mut self, dirs: &[PathBuf]) {
        let snapshots: Vec<&RunSnapshot> = dirs
            .iter()
            .filter_map(|d| {
                self.runs
                    .snapshots
                    .get(d)
                    .or(self.result_run.as_ref().filter(|r| &r.dir == d))
            })
            .collect();
        let names: Vec<String> = snapshots
            .iter()
            .map(|r| {
                r.dir
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let table: Vec<(&str, &[crate::train::EpochMetrics])> = names
            .iter()
            .zip(&snapshots)
            .map(|(n, r)| (n.as_str(), r.epochs.as_slice()))
            .collect();
        let csv = crate::runs::curves_csv(&table);
        let Some(path) = rfd::FileDialog::new()
            .set_file_name("curves.csv")
            .add_filter("CSV", &["csv"])
            .save_file()
        else {
            return;
        };
        self.send_work(Command::WriteFile(path, csv.into_bytes()));
    }

    /// Starts or stops playback of the visible span.
    fn listen(&mut self, request: ListenRequest) {
        match request {
            ListenRequest::Stop => {
                self.listening.preparing = false;
                if let Some(p) = &mut self.listening.player {
                    p.stop();
                }
            }
            ListenRequest::Play => {
                if self.listening.unavailable.is_some() {
                    return;
                }
                if self.listening.player.is_none() {
                    if !self.listening.opening {
                        self.listening.opening = true;
                        let device = self.settings.audio_device.clone();
                        self.send_work(Command::OpenPlayer(device));
                    }
                    self.listening.play_when_open = true;
                    return;
                }
                let Some(s) = &self.session else { return };
                let channel = if s.is_audio() {
                    0
                } else {
                    self.listening
                        .channel
                        .min(s.recording.channels.len().saturating_sub(1))
                };
                let command = Command::PrepareClip {
                    recording: s.recording.clone(),
                    samples: s.samples.clone(),
                    channel,
                    start_s: s.view.start_s,
                    end_s: s.view.start_s + s.view.span_s,
                    speed: SONIFICATION_SPEED,
                };
                self.listening.preparing = true;
                self.send_work(command);
            }
        }
    }

    fn request_preview(&mut self) {
        let data = self.training.data_roles();
        match TrainJobSpec::from_options(data, &self.training.options, None) {
            Ok(spec) => {
                self.training.preview_requested();
                self.send_work(Command::Preview(Box::new(spec)));
            }
            Err(e) => {
                self.training.preview_requested();
                self.training.preview =
                    PreviewState::Failed(Failure::new(FailureStage::Dataset, e.to_string()));
            }
        }
    }

    fn start_training(&mut self, ctx: &egui::Context) {
        if self.training.is_training() {
            return;
        }
        let data = self.training.data_roles();
        if data.train.is_empty() {
            self.report(AppError::Training(
                "choose at least one recording for training".into(),
            ));
            return;
        }
        let run_dir = match create_run_dir(&self.runs_dir, &self.training.options.model) {
            Ok(d) => d,
            Err(e) => {
                self.report(AppError::RunFolder {
                    reason: reason(&self.runs_dir, &e),
                    path: self.runs_dir.clone(),
                });
                return;
            }
        };
        let spec =
            match TrainJobSpec::from_options(data, &self.training.options, Some(run_dir.clone())) {
                Ok(s) => s,
                Err(e) => {
                    self.report(AppError::Training(e.to_string()));
                    return;
                }
            };
        let epochs = spec.train.epochs;
        let waker = ctx.clone();
        self.training.job = Some(TrainJob::spawn(spec, move || waker.request_repaint()));
        self.training.history = Some(RunHistory::new(Some(run_dir), epochs));
        self.tab = Tab::Train;
        let dir = self.runs_dir.clone();
        self.send_work(Command::ListRuns(dir));
    }

    /// Rebuilds the ribbons when the open recording, the preview or the run changes.
    fn refresh_ribbons(&mut self) {
        let Some(path) = self.open_recording().map(Path::to_path_buf) else {
            self.ribbons.clear();
            return;
        };
        let key = (
            path.clone(),
            self.preview_generation,
            self.result_run.as_ref().map(|r| r.dir.clone()),
            self.suggestions_generation,
        );
        if self.ribbons_for.as_ref() == Some(&key) {
            return;
        }
        self.ribbons.clear();
        if let PreviewState::Ready(p) = &self.training.preview {
            self.ribbons.extend(ribbons::dataset_windows(p, &path));
        }
        if let Some(run) = &self.result_run {
            self.ribbons
                .extend(ribbons::predictions(run, &path, &self.scheme));
        }
        if let Some((file, s)) = &self.suggestions
            && *file == path
        {
            self.ribbons.extend(ribbons::suggestions(s, &self.scheme));
        }
        self.ribbons_for = Some(key);
    }

    /// Takes the explanation job's news: progress, then its result.
    fn drain_explanation(&mut self) {
        let Some(job) = &self.explain.job else {
            return;
        };
        let dir = job.run_dir.clone();
        let events: Vec<ExplainEvent> = job.events.try_iter().collect();
        for e in events {
            match e {
                ExplainEvent::Progress(p) => self.explain.progress = Some(p),
                ExplainEvent::Finished(explanation) => {
                    self.explain.explanation = Some((dir.clone(), *explanation));
                    self.explain_generation += 1;
                    self.explain.job = None;
                    self.notice = Some(format!("explained {}", dir.display()));
                }
                ExplainEvent::Failed(message) => {
                    self.explain.failure = Some((dir.clone(), message));
                    self.explain.job = None;
                }
                ExplainEvent::Cancelled => {
                    self.explain.job = None;
                    self.notice = Some("explanation cancelled".into());
                }
            }
        }
    }

    /// Rebuilds the saliency over the traces when the open recording, the
    /// explanation or the overlay choice changes.
    fn refresh_heat(&mut self) {
        let Some(path) = self.open_recording().map(Path::to_path_buf) else {
            self.heat.clear();
            return;
        };
        let key = (path.clone(), self.explain_generation, self.explain.overlay);
        if self.heat_for.as_ref() == Some(&key) {
            return;
        }
        self.heat = self
            .explain
            .explanation
            .as_ref()
            .map(|(_, e)| heat_spans(e, &path, self.explain.overlay))
            .unwrap_or_default();
        self.heat_for = Some(key);
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::ExplanationLoaded(dir, result) => {
                if self.results_dir.as_ref() != Some(&dir) {
                    return;
                }
                match result {
                    Ok(Some(e)) => {
                        let same = self.explain.of(&dir) == Some(&*e);
                        if !same {
                            self.explain.explanation = Some((dir, *e));
                            self.explain_generation += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(message) => self.explain.failure = Some((dir, message)),
                }
            }
            Event::Found(root, entry) => self.browser.add(&root, entry),
            Event::ScanDone(root) => {
                if self.browser.root.as_deref() == Some(root.as_path()) {
                    self.browser.scanning = false;
                    self.training.set_entries(&self.browser.entries);
                    if std::mem::take(&mut self.demo_pending) {
                        self.training.use_only(false);
                        self.training.options = demo_options();
                        self.training.reset_model_values();
                        self.commands.push(AppCommand::StartTraining);
                    }
                    if std::mem::take(&mut self.auto_open)
                        && self.session.is_none()
                        && self.loading.is_none()
                    {
                        // Prefer a multichannel recording (EEG) over a single audio call.
                        let first = self
                            .browser
                            .entries
                            .iter()
                            .filter(|e| e.error.is_none())
                            .max_by_key(|e| (e.channels > 1, std::cmp::Reverse(e.name.clone())))
                            .map(|e| e.path.clone());
                        if let Some(path) = first {
                            self.open_path(&path);
                        }
                    }
                }
            }
            Event::Opened(loaded) => {
                if self.loading.as_deref() != Some(loaded.recording.path.as_path()) {
                    return; // superseded by a later open
                }
                self.loading = None;
                if let Some(w) = &loaded.warning {
                    let path = loaded.recording.path.clone();
                    self.report(AppError::OpenWarning {
                        reason: reason(&path, w),
                        path,
                    });
                }
                for class in loaded.labels.classes() {
                    self.scheme.ensure(&class);
                }
                if let Some(c) = &loaded.class {
                    self.scheme.ensure(c);
                }
                let mut session = Session::new(*loaded, self.settings.window_s);
                if let Some((file, start, span)) = self.pending_jump.take()
                    && file == session.recording.path
                {
                    session.set_view(start, span);
                }
                self.notice = Some(format!("opened in {:.2} s", session.load_s));
                self.spectrum = SpectrumPanel::default();
                if session.is_audio() {
                    self.settings.show_spectrum = true;
                }
                self.session = Some(session);
            }
            Event::OverviewProgress { path, fraction } => {
                if let Some(s) = self.session.as_mut().filter(|s| s.recording.path == path) {
                    s.overview_fraction = Some(fraction);
                }
            }
            Event::OverviewReady { path, pyramids } => {
                if let Some(s) = self.session.as_mut().filter(|s| s.recording.path == path) {
                    s.pyramids = pyramids;
                    s.overview_fraction = None;
                }
            }
            Event::ReadFailed { path, error } => self.report(AppError::ReadFailed {
                reason: reason(&path, error),
                path,
            }),
            Event::Exported(path) => self.notice = Some(format!("exported {}", path.display())),
            Event::OpenFailed { path, error } => {
                if self.loading.as_deref() == Some(path.as_path()) {
                    self.loading = None;
                }
                self.report(AppError::Open {
                    reason: reason(&path, error),
                    path,
                });
            }
            Event::ExportFailed { path, error } => {
                self.report(AppError::Export {
                    reason: reason(&path, error),
                    path,
                });
            }
            Event::Previewed(result) => {
                self.preview_generation += 1;
                self.training.preview = match *result {
                    Ok(p) => PreviewState::Ready(Box::new(p)),
                    Err(f) => PreviewState::Failed(f),
                };
            }
            Event::RunsListed(dir, entries) => {
                if dir == self.runs_dir {
                    self.runs.entries = entries;
                }
            }
            Event::RunLoaded(snapshot) => {
                let dir = snapshot.dir.clone();
                if self.results_dir.as_ref() == Some(&dir) {
                    let same = self.result_run.as_ref().is_some_and(|r| r.dir == dir);
                    if !same {
                        self.results.selected = None;
                    }
                    self.result_run = Some((*snapshot).clone());
                }
                self.runs.snapshots.insert(dir, *snapshot);
            }
            Event::Suggested { file, suggestions } => {
                self.notice = Some(format!(
                    "{} suggested labels for {}",
                    suggestions.items.len(),
                    file.display()
                ));
                self.suggestions = Some((file, suggestions));
                self.suggestions_generation += 1;
                self.tab = Tab::Viewer;
            }
            Event::SuggestFailed { file, error } => {
                self.report(AppError::Suggest {
                    reason: reason(&file, error),
                    path: file,
                });
            }
            Event::SpectraReady {
                path,
                request,
                spectra,
            } => {
                if self.open_recording() == Some(path.as_path()) {
                    self.spectrum.receive(request, *spectra);
                }
            }
            Event::PlayerOpened(result) => {
                self.listening.opening = false;
                match *result {
                    Ok(player) => {
                        self.listening.player = Some(player);
                        if std::mem::take(&mut self.listening.play_when_open) {
                            self.listen(ListenRequest::Play);
                        }
                    }
                    Err(e) => self.listening.unavailable = Some(e.to_string()),
                }
            }
            Event::ClipReady {
                samples,
                start_s,
                speed,
            } => {
                self.listening.preparing = false;
                if let Some(player) = &mut self.listening.player {
                    self.listening.clips_played += 1;
                    player.play_with_speed(
                        samples,
                        crate::playback::DEFAULT_OUTPUT_RATE_HZ,
                        start_s,
                        speed,
                    );
                }
            }
            Event::Written(path) => self.notice = Some(format!("saved {}", path.display())),
            Event::WriteFailed { path, error } => {
                self.report(AppError::Write {
                    reason: reason(&path, error),
                    path,
                });
            }
            Event::SweepRead(snapshot) => {
                if self.runs.sweep.open.as_ref() == Some(&snapshot.dir) {
                    self.runs.sweep.snapshot = Some(*snapshot);
                }
            }
            Event::SweepFailed { dir, error } => {
                self.report(AppError::Run {
                    reason: reason(&dir, error),
                    path: dir,
                });
            }
            Event::SweepPlanned(dir) => self.commands.push(AppCommand::OpenSweep(dir)),
            Event::SweepSubmitted { dir, job_id, tasks } => {
                self.notice = Some(format!(
                    "{}: {tasks} task(s) submitted to Slurm as job {job_id}",
                    dir.display()
                ));
                self.send_work(Command::ReadSweep(dir));
            }
            Event::RunFailed { dir, error } => {
                self.report(AppError::Run {
                    reason: reason(&dir, error),
                    path: dir,
                });
            }
            Event::Crashed(error) => self.report(AppError::Internal(error)),
            Event::RunDeleted { dir, error } => match error {
                Some(e) => self.report(AppError::Run {
                    reason: reason(&dir, e),
                    path: dir,
                }),
                None => {
                    self.runs.remove(&dir);
                    if self.result_run.as_ref().is_some_and(|r| r.dir == dir) {
                        self.result_run = None;
                    }
                    self.notice = Some(format!("deleted {}", dir.display()));
                }
            },
        }
    }

    fn save_scheme(&mut self) {
        let Some(folder) = &self.scheme_folder else {
            return;
        };
        if let Err(e) = self.scheme.save(folder) {
            let error = AppError::SchemeNotSaved {
                path: e.path().to_path_buf(),
                reason: reason(e.path(), &e),
            };
            self.report(error);
        }
    }

    /// Draws the whole window into `ui`.
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let zoom = if self.presenting { 1.35 } else { 1.0 };
        if (ctx.zoom_factor() - zoom).abs() > 1e-3 {
            ctx.set_zoom_factor(zoom);
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F5)) {
            self.presenting = !self.presenting;
        }
        if self.tab == Tab::Viewer
            && let Some(s) = &mut self.session
        {
            keys::handle(
                &ctx,
                s,
                &self.scheme,
                self.settings.page_s,
                &mut self.commands,
            );
            if !ctx.egui_wants_keyboard_input()
                && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::N))
            {
                self.next_disagreement();
            }
            if !ctx.egui_wants_keyboard_input()
                && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Space))
            {
                let request = self.listening.toggle();
                self.listen(request);
            }
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::S)) {
            self.save_labels_in_place();
        }
        egui::Panel::top("menu_bar").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::top("tab_bar").show(ui, |ui| self.tab_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        let viewer = self.tab == Tab::Viewer;
        if viewer && !self.presenting {
            egui::Panel::left("browser_panel")
                .resizable(true)
                .default_size(250.0)
                .show(ui, |ui| {
                    let open = self.session.as_ref().map(|s| s.recording.path.clone());
                    if let Some(path) = self.browser.ui(ui, open.as_deref()) {
                        self.commands.push(AppCommand::Open(path));
                    }
                });
        }
        if viewer && self.settings.show_labels && !self.presenting {
            egui::Panel::right("labels_panel")
                .resizable(true)
                .default_size(350.0)
                .min_size(330.0)
                .show(ui, |ui| {
                    self.suggestions_ui(ui);
                    let out = self.labels_panel.ui(
                        ui,
                        self.session.as_mut(),
                        &mut self.scheme,
                        self.settings.page_s,
                        &mut self.commands,
                        |ui, s| {
                            egui::CollapsingHeader::new("Channels")
                                .default_open(false)
                                .show(ui, |ui| {
                                    egui::ScrollArea::vertical()
                                        .id_salt("channel_scroll")
                                        .max_height(260.0)
                                        .show(ui, |ui| channels::ui(ui, s));
                                });
                        },
                    );
                    if out.scheme_changed {
                        self.save_scheme();
                    }
                });
        }
        if viewer
            && self.settings.show_spectrum
            && let Some(s) = &self.session
        {
            let request = egui::Panel::bottom("spectrum_panel")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| self.spectrum.ui(ui, s))
                .inner;
            if let Some(request) = request {
                let command = Command::Spectra(s.recording.clone(), s.samples.clone(), request);
                self.send_work(command);
            }
        }
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            Tab::Viewer => self.viewer(ui),
            Tab::Train => self.training.ui(ui, &mut self.commands, self.presenting),
            Tab::Results => {
                let open = self.session.as_ref().map(|s| s.recording.path.clone());
                self.results.ui(
                    ui,
                    self.result_run.as_ref(),
                    open.as_deref(),
                    &mut self.commands,
                    self.presenting,
                )
            }
            Tab::Explain => self
                .explain
                .ui(ui, self.result_run.as_ref(), &mut self.commands),
            Tab::Runs => self.runs.ui(ui, &mut self.commands),
        });
        if !self.commands.is_empty() {
            ctx.request_repaint();
        }

        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop"),
            ));
            let rect = ctx.content_rect();
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop recordings or folders to open them",
                egui::FontId::proportional(22.0),
                egui::Color32::WHITE,
            );
        }
        if self.show_frame_stats {
            let report = self
                .frame_stats
                .as_ref()
                .map_or_else(String::new, FrameStats::report);
            egui::Window::new("Frame times")
                .open(&mut self.show_frame_stats)
                .show(&ctx, |ui| {
                    ui.label("CPU time per frame; under 16 ms keeps the window smooth.");
                    for line in report.lines() {
                        ui.monospace(line);
                    }
                });
        }
        if self.show_help {
            egui::Window::new("Keyboard and mouse")
                .open(&mut self.show_help)
                .show(&ctx, |ui| {
                    for line in HELP {
                        ui.label(*line);
                    }
                });
        }
    }

    /// The suggestions for the open recording, above the label table.
    fn suggestions_ui(&mut self, ui: &mut Ui) {
        let open = self.open_recording().map(Path::to_path_buf);
        let Some((file, list)) = &mut self.suggestions else {
            return;
        };
        if open.as_ref() != Some(file) {
            return;
        }
        let before = list.items.len();
        let edit = super::suggestions::ui(ui, list);
        if list.items.len() != before {
            self.suggestions_generation += 1;
        }
        if list.items.is_empty() {
            self.suggestions = None;
        }
        ui.separator();
        if let (Some(edit), Some(s)) = (edit, &mut self.session) {
            let now = ui.input(|i| i.time);
            if let Err(e) = s.apply(edit, now) {
                self.errors.push(e);
            }
        }
    }

    fn tab_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                let title = match tab {
                    Tab::Train if self.training.is_training() => "Train (running)".to_string(),
                    Tab::Explain if self.explain.is_running() => "Explain (running)".to_string(),
                    _ => tab.title().to_string(),
                };
                if ui
                    .selectable_label(self.tab == tab, RichText::new(title).size(15.0))
                    .clicked()
                {
                    self.tab = tab;
                    if tab == Tab::Runs {
                        self.commands.push(AppCommand::RefreshRuns);
                    }
                }
            }
            ui.separator();
            if ui
                .add_enabled(
                    !self.training.is_training(),
                    egui::Button::new("Demo: train on the sample EEG"),
                )
                .on_hover_text("Opens the bundled EEG, trains a small EEGNet and shows how well it does, in under half a minute.")
                .clicked()
            {
                self.commands.push(AppCommand::StartDemo);
            }
            if self.presenting && ui.button("Leave presentation mode").clicked() {
                self.presenting = false;
            }
        });
    }

    /// Jumps to the next window after the view where the run's prediction
    /// disagrees with the label.
    fn next_disagreement(&mut self) {
        let (Some(run), Some(s)) = (&self.result_run, &self.session) else {
            return;
        };
        let here = s.view.start_s + s.view.span_s / 2.0;
        let path = s.recording.path.clone();
        let mut wrong: Vec<_> = run
            .predictions
            .iter()
            .filter(|r| r.file == path && r.truth != r.predicted)
            .collect();
        wrong.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        let Some(next) = wrong
            .iter()
            .find(|r| r.onset_s > here + 1e-6)
            .or_else(|| wrong.first())
        else {
            self.notice = Some("no disagreement between predictions and labels here".into());
            return;
        };
        self.commands.push(AppCommand::JumpTo {
            file: next.file.clone(),
            onset_s: next.onset_s,
            duration_s: next.duration_s,
        });
    }

    fn viewer(&mut self, ui: &mut Ui) {
        let Some(s) = &mut self.session else {
            ui.centered_and_justified(|ui| {
                if let Some(p) = &self.loading {
                    ui.label(format!("Opening {}…", p.display()));
                } else {
                    ui.label("Choose a recording on the left, or open one with File > Open file.");
                }
            });
            return;
        };
        viewer::toolbar(ui, s, &mut self.settings, &self.scheme);
        let names: Vec<String> = s
            .recording
            .channels
            .iter()
            .map(|c| c.label.clone())
            .collect();
        let audio = s.is_audio();
        let request = ui
            .horizontal(|ui| self.listening.ui(ui, &names, audio))
            .inner;
        if let Some(r) = request {
            self.listen(r);
        }
        let Some(s) = &mut self.session else { return };
        if let Some(class) = &s.class {
            ui.label(RichText::new(format!("Audio file of class `{class}`")).strong());
        }
        if !self.heat.is_empty() {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new("Red tint: how much each moment of each channel moved the network's output (saliency, from the Explain view)")
                        .small(),
                );
                if ui.small_button("Hide saliency").clicked() {
                    self.explain.overlay = Overlay::Off;
                }
            });
        }
        let Some(s) = &mut self.session else { return };
        let now_s = ui.input(|i| i.time);
        let cx = ViewerContext {
            scheme: &self.scheme,
            filter: self.settings.filter,
            page_s: self.settings.page_s,
            now_s,
            commands: &mut self.commands,
            ribbons: &self.ribbons,
            heat: &self.heat,
            cursor_s: self.listening.position_s(),
        };
        viewer::traces(ui, s, cx);
        if let Some(range) = s.span_to_warm() {
            let command = Command::Warm(s.samples.clone(), 0, range);
            // Reading ahead is a favour: a full queue just skips it.
            let _ = self.workers.send(command);
        }
        if let Some(since) = self.opening_since
            && s.traces.iter().any(|t| !t.pieces.is_empty())
        {
            self.opening_since = None;
            if self.print_frame_stats {
                eprintln!(
                    "{}: first traces drawn {:.3} s after the open command (reading and preparing: {:.3} s)",
                    s.recording.path.display(),
                    since.elapsed().as_secs_f64(),
                    s.load_s
                );
            }
        }
    }

    fn menu_bar(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file…").clicked() {
                    ui.close();
                    if let Some(p) = rfd::FileDialog::new()
                        .add_filter("Recordings", RECORDING_EXTENSIONS)
                        .pick_file()
                    {
                        self.open_path(&p);
                    }
                }
                if ui.button("Open folder…").clicked() {
                    ui.close();
                    if let Some(p) = rfd::FileDialog::new().pick_folder() {
                        self.open_path(&p);
                    }
                }
                ui.menu_button("Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.label("nothing yet");
                    }
                    for p in self.settings.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open_path(&p);
                        }
                    }
                });
                ui.separator();
                if ui
                    .add_enabled(self.session.is_some(), egui::Button::new("Save labels"))
                    .on_hover_text("Ctrl+S")
                    .clicked()
                {
                    ui.close();
                    self.save_labels_in_place();
                }
                if ui
                    .add_enabled(
                        self.session.is_some(),
                        egui::Button::new("Export EDF+ with labels…"),
                    )
                    .clicked()
                {
                    ui.close();
                    self.export();
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.radio_value(
                    &mut self.settings.theme,
                    ThemeChoice::System,
                    "System theme",
                );
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Light, "Light");
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Dark, "Dark");
                ui.separator();
                ui.checkbox(&mut self.settings.show_labels, "Labels panel");
                ui.checkbox(&mut self.settings.show_spectrum, "Spectrum panel");
                ui.separator();
                ui.checkbox(&mut self.presenting, "Presentation mode (F5)");
                ui.separator();
                for tab in Tab::ALL {
                    if ui.button(tab.title()).clicked() {
                        ui.close();
                        self.commands.push(AppCommand::ShowTab(tab));
                    }
                }
            });
            ui.menu_button("Training", |ui| {
                if ui.button("Run the demo").clicked() {
                    ui.close();
                    self.commands.push(AppCommand::StartDemo);
                }
                if ui.button("Runs folder…").clicked() {
                    ui.close();
                    if let Some(dir) = rfd::FileDialog::new()
                        .set_directory(&self.runs_dir)
                        .pick_folder()
                    {
                        self.settings.runs_dir = Some(dir.clone());
                        self.runs_dir = dir.clone();
                        self.runs.dir = dir;
                        self.commands.push(AppCommand::RefreshRuns);
                    }
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Keyboard and mouse").clicked() {
                    ui.close();
                    self.show_help = true;
                }
                if ui.button("Frame times").clicked() {
                    ui.close();
                    self.frame_stats.get_or_insert_with(FrameStats::default);
                    self.show_frame_stats = true;
                }
            });
        });
    }

    fn export(&mut self) {
        let Some(s) = &self.session else { return };
        let stem = s
            .recording
            .path
            .file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(path) = rfd::FileDialog::new()
            .set_file_name(format!("{stem}-labeled.edf"))
            .add_filter("EDF+", &["edf"])
            .save_file()
        else {
            return;
        };
        let command = Command::Export(
            s.recording.clone(),
            s.samples.clone(),
            s.doc.labels().clone(),
            path,
        );
        if let Err(e) = self.workers.send(command) {
            self.report(AppError::Busy(e));
        }
    }

    fn status_bar(&mut self, ui: &mut Ui) {
        let mut dismiss = None;
        for (i, e) in self.errors.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui
                    .small_button("x")
                    .on_hover_text("Dismiss this message")
                    .clicked()
                {
                    dismiss = Some(i);
                }
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            });
        }
        if let Some(i) = dismiss {
            self.errors.remove(i);
        }
        if let Some(s) = &self.session {
            super::recovery::ui(ui, s, &mut self.commands);
        }
        ui.horizontal(|ui| {
            if let Some(p) = &self.loading {
                ui.spinner();
                ui.label(format!("opening {}", p.display()));
            }
            if let Some(s) = &self.session {
                let r = &s.recording;
                let name = r
                    .path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let source = match &s.source {
                    LabelSource::Sidecar(_) => "labels from events.tsv".to_owned(),
                    LabelSource::FileAnnotations => "labels from file annotations".to_owned(),
                    LabelSource::LabelFile(file) => format!(
                        "labels from {} (edits are saved to events.tsv)",
                        file.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    LabelSource::None => "no labels yet".to_owned(),
                };
                ui.label(format!(
                    "{name} · {} · {} ch · {} · {source}",
                    r.format,
                    r.channels.len(),
                    format_hms(r.duration_s())
                ));
                if r.has_gaps() {
                    ui.label("· has gaps");
                }
                if let Some(e) = &s.last_save_error {
                    ui.colored_label(ui.visuals().error_fg_color, format!("· {e}"))
                        .on_hover_text("Spindle keeps trying at every edit and on exit; fix the folder's permissions or disk space, or use File > Save labels.");
                }
                if let Some(e) = &s.journal_error {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("· {e}"))
                        .on_hover_text("Edits are still saved to the labels file; only the crash journal beside it is missing.");
                }
            }
            if let Some(n) = &self.notice {
                ui.label(RichText::new(n).weak());
            }
        });
    }
}

impl Drop for SpindleApp {
    fn drop(&mut self) {
        // Never lose a label: a last save when the app goes away.
        if let Err(e) = self.save_labels() {
            eprintln!("error: {e}");
        }
    }
}

impl eframe::App for SpindleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.run_logic(ctx);
        self.logic_s = started.elapsed().as_secs_f64();
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.show(ui);
        let own = self.logic_s + started.elapsed().as_secs_f64();
        self.record_frame(own, frame.info().cpu_usage);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }

    fn on_exit(&mut self) {
        if let Err(e) = self.save_labels() {
            eprintln!("error: {e}");
            if let Some(s) = &self.session {
                match s.rescue(&self.rescue_dir()) {
                    Ok(file) => eprintln!(
                        "the unsaved labels were written to {} instead",
                        file.display()
                    ),
                    Err(e) => eprintln!("error: {e}"),
                }
            }
        }
        if let Some(report) = self.frame_report() {
            eprintln!("{report}");
        }
    }
}

const HELP: &[&str] = &[
    "Left / Right: scroll 10%    Page Up / Down: scroll a page    Home / End",
    "+ / -: zoom in / out in time    Ctrl+wheel: zoom at the pointer    wheel: scroll",
    "Up / Down: gain    right-drag or drag the time axis: scroll",
    "Drag on the traces: new label of the current class    drag an edge: resize",
    "Click: select    Shift+click: point marker    Delete: remove the selection",
    "1-9: relabel the selection, or choose the class for new labels",
    "Epoch scoring: 1-9 labels the page and moves to the next",
    "Ctrl+Z: undo    Ctrl+Shift+Z: redo    Ctrl+S: save (autosave runs within 2 s)",
    "N: next window where the open run's prediction disagrees with the label",
    "Space: listen to the visible span (EEG sped up 60 times)",
    "F5: presentation mode",
];

/// The demo's settings: a small EEGNet for a fast, clear result.
fn demo_options() -> crate::train::TrainOptions {
    crate::train::TrainOptions {
        model: "eegnet".into(),
        epochs: 20,
        ..crate::train::TrainOptions::default()
    }
}
