//! The app shell: the state of the whole app, its logic step (opening,
//! autosave, polling) and its accessors. What arrives from workers and jobs
//! is in `events`, what panels ask for in `commands`, the drawing of the
//! window in `draw`.

mod commands;
mod draw;
mod events;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, ThemePreference, Ui};

use super::browser::Browser;
use super::command::{AppCommand, Commands, Tab};
use super::error::{AppError, reason};
use super::explain::{ExplainPanel, HeatSpan, Overlay, heat_spans};
use super::frame_stats::FrameStats;
use super::labels::LabelsPanel;
use super::listen::Listening;
use super::results::ResultsPanel;
use super::ribbons;
use super::runs::RunsPanel;
use super::session::Session;
use super::settings::{Settings, ThemeChoice};
use super::spectrum::SpectrumPanel;
use super::training::{PreviewState, TrainingPanel};
use super::viewer::Ribbon;
use super::worker::{Command, Entry, Workers};
use spindle_learn::jobs::SweepJob;
use spindle_learn::runs::sweep::LocalRunner;
use spindle_learn::runs::{RunSnapshot, RunStatus};
use spindle_signals::labeling::{LabelScheme, Suggestions};
use spindle_signals::recording::{Label, LabelSet};

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
    sweep_job: Option<spindle_learn::jobs::SweepJob>,
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
            runs_dir: spindle_learn::runs::default_runs_dir(),
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
            .unwrap_or_else(spindle_learn::runs::default_runs_dir);
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
    pub fn explanation(&self) -> Option<(&Path, &spindle_learn::explain::Explanation)> {
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
        if path.join(spindle_learn::runs::sweep::SWEEP_JSON).is_file() {
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

    /// Asks the work worker to plan the sweep of `form` over the Train
    /// view's recordings and settings.
    fn plan_sweep(&mut self, form: &super::command::NewSweep) {
        use spindle_learn::runs::sweep::{GridAxis, TaskData, without_options};
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
        let plan = spindle_learn::runs::sweep::SweepPlan {
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
        // One task at a time with every core but one, as the app trains.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let runner = LocalRunner::new(exe, 1, cores.saturating_sub(1).max(1));
        match SweepJob::spawn(&dir, runner, move || waker.request_repaint()) {
            Ok(job) => {
                self.sweep_job = Some(job);
                self.runs.sweep.running_here = true;
            }
            Err(e) => self.report(AppError::Run {
                reason: reason(&dir, &e),
                path: dir,
            }),
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

/// The demo's settings: a small EEGNet for a fast, clear result.
fn demo_options() -> spindle_learn::train::TrainOptions {
    spindle_learn::train::TrainOptions {
        model: "eegnet".into(),
        epochs: 20,
        ..spindle_learn::train::TrainOptions::default()
    }
}
