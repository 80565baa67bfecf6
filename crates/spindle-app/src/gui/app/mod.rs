//! The app shell: the app's state in named parts (`state`), its logic step
//! and public face (here), what panels ask for (`commands`), background
//! work queued on the scheduler with the handler of its result (`tasks`),
//! the long jobs' news (`jobs`), the label files' flows (`labels`), the
//! comparison layer's flows and its confidence review (`compare`) and the
//! drawing of the window (`draw`).

mod commands;
mod compare;
mod dialogs;
mod draw;
mod fit;
mod jobs;
mod labels;
mod state;
mod tasks;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, ThemePreference, Ui};
use spindle_learn::jobs::Panicked;
use spindle_signals::io_guard::UiThread;

use super::browser::Browser;
use super::command::{AppCommand, Commands, Tab};
use super::error::AppError;
use super::frame_stats::FrameStats;
use super::runs::RunsPanel;
use super::settings::{RunsListSettings, Settings, ThemeChoice};
use super::worker::{Host, Scheduler};

pub use state::{
    CrossValidation, Derived, LaneInfo, OpenRecording, Parts, RunsPart, Shell, TrainingPart,
};

/// Seconds between re-reads of a run another process is still writing.
const LIVE_RUN_POLL_S: f64 = 1.0;
/// Seconds between re-reads of the runs folder while the Runs view is shown.
const RUNS_LIST_POLL_S: f64 = 3.0;
/// The longest the app waits for its label files when it closes.
const EXIT_FLUSH: Duration = Duration::from_secs(5);

/// The Spindle desktop app: construct it with [`SpindleApp::new`], then call
/// [`SpindleApp::run_logic`] and [`SpindleApp::show`] every frame (the
/// [`eframe::App`] impl does; so can a test harness). Its state is read
/// through [`SpindleApp::parts`]; it is changed by [`AppCommand`]s
/// ([`SpindleApp::command`]) and by opening paths.
pub struct SpindleApp {
    shell: Shell,
    recording: OpenRecording,
    runs: RunsPart,
    training: TrainingPart,
    derived: Derived,
    workers: Scheduler<SpindleApp>,
    commands: Commands,
}

impl Host for SpindleApp {
    fn panicked(&mut self, panic: Panicked) {
        self.report(AppError::Internal(panic.to_string()));
    }
}

impl SpindleApp {
    /// An app that opens `paths` (folders are browsed, files opened) on its
    /// first frame, with `settings` restored from the last run.
    pub fn new(paths: Vec<PathBuf>, settings: Settings) -> Self {
        let runs_dir = spindle_learn::runs::default_runs_dir();
        Self {
            shell: Shell {
                settings,
                tab: Tab::Viewer,
                presenting: false,
                errors: Vec::new(),
                notice: None,
                browser: Browser::default(),
                // Folders only: open the first recording once listed (read
                // before the first frame, not on it).
                auto_open: !paths.is_empty() && paths.iter().all(|p| p.is_dir()),
                pending: paths,
                demo_pending: None,
                asking: false,
                screenshot: None,
                applied_theme: None,
                show_help: false,
                frame_stats: None,
                print_frame_stats: false,
                show_frame_stats: false,
                logic_s: 0.0,
                thread_cpu_mark_s: None,
                previous_frame_thread_cpu_s: None,
            },
            recording: OpenRecording::default(),
            runs: RunsPart {
                panel: RunsPanel::default(),
                dir: runs_dir,
                result_run: Default::default(),
                results_dir: None,
                results: Default::default(),
                sweep_job: None,
                last_sweep_poll_s: 0.0,
                last_live_poll_s: 0.0,
                last_list_s: 0.0,
            },
            training: TrainingPart::default(),
            derived: Derived::default(),
            workers: Scheduler::spawn(),
            commands: Commands::default(),
        }
        .with_runs_dir(None)
        .with_runs_list_settings()
    }

    /// Restores the Runs view's order and filter from the settings.
    fn with_runs_list_settings(mut self) -> Self {
        let saved = &self.shell.settings.runs_list;
        let view = &mut self.runs.panel.view;
        view.sort = saved.sort;
        view.descending = saved.descending;
        view.filter = saved.filter.clone();
        self
    }

    /// Uses `dir` as the runs folder (else the one in the settings, else the
    /// platform data folder) and lists it.
    pub fn with_runs_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.runs.dir = dir
            .or_else(|| self.shell.settings.runs_dir.clone())
            .unwrap_or_else(spindle_learn::runs::default_runs_dir);
        self.runs.panel.dir = self.runs.dir.clone();
        self.commands.push(AppCommand::RefreshRuns);
        self
    }

    /// Collects frame times and prints them on stderr when a training job
    /// ends and when the window closes.
    pub fn with_frame_stats(mut self) -> Self {
        self.shell.frame_stats = Some(FrameStats::default());
        self.shell.print_frame_stats = true;
        self
    }

    /// Frame-time statistics so far, when collected.
    pub fn frame_report(&self) -> Option<String> {
        self.shell.frame_stats.as_ref().map(FrameStats::report)
    }

    /// Records the CPU time of a frame (seconds): the logic step and UI pass
    /// measured here, eframe's figure for the previous frame (which adds
    /// tessellation and painting) and the UI thread's CPU time over the
    /// previous frame.
    pub fn record_frame(&mut self, logic_and_ui_s: f64, previous_frame_cpu_s: Option<f32>) {
        let training = self.training.panel.is_training();
        let thread_cpu_s = self.shell.previous_frame_thread_cpu_s;
        if let Some(stats) = &mut self.shell.frame_stats {
            stats.record(
                logic_and_ui_s,
                previous_frame_cpu_s.map(f64::from),
                thread_cpu_s,
                training,
            );
        }
    }

    /// The app's state, read-only, in its named parts (see `app/state.rs`).
    pub fn parts(&self) -> Parts<'_> {
        Parts {
            shell: &self.shell,
            recording: &self.recording,
            runs: &self.runs,
            training: &self.training,
            derived: &self.derived,
        }
    }

    /// Queues a command as a panel would (tests drive the app with these too).
    pub fn command(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    /// Starts the demo: presentation mode, the sample EEG and a small EEGNet,
    /// training as soon as the folder is listed.
    pub fn start_demo(&mut self) {
        self.commands.push(AppCommand::StartDemo);
    }

    /// True while a folder scan, a file open or a label save is in
    /// progress, or a command waits for the next logic step.
    pub fn is_busy(&self) -> bool {
        !self.shell.pending.is_empty()
            || !self.commands.is_empty()
            || self.workers.is_busy(super::worker::Lane::Scan)
            || self.workers.is_busy(super::worker::Lane::Load)
            || self.recording.loading.is_some()
            || self.recording.switch_to.is_some()
            || self.recording.spectrum.is_pending()
            || self
                .recording
                .session
                .as_ref()
                .is_some_and(|s| s.saver.is_busy())
    }

    /// Where labels go that could not be saved beside their recording when
    /// the app closed: `rescued-labels/` beside the runs folder.
    pub fn rescue_dir(&self) -> PathBuf {
        self.runs
            .dir
            .parent()
            .map_or_else(|| self.runs.dir.clone(), Path::to_path_buf)
            .join("rescued-labels")
    }

    /// Lists `error` in the window, once: the same error again (a file that
    /// fails every time it is read) adds nothing.
    fn report(&mut self, error: AppError) {
        if !self.shell.errors.contains(&error) {
            self.shell.errors.push(error);
        }
    }

    /// Applies drops, pending opens, the theme and the workers' and jobs'
    /// news, carries out the commands, polls live runs, refreshes the
    /// derived caches and autosaves. Call once per frame before
    /// [`Self::show`]. Runs marked as the UI thread ([`UiThread`]): it
    /// touches no file.
    pub fn run_logic(&mut self, ctx: &egui::Context) {
        let _ui = UiThread::enter();
        self.workers.set_context(ctx);
        for path in std::mem::take(&mut self.shell.pending) {
            self.open_path(&path);
        }
        self.apply_theme(ctx);
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
        for done in self.workers.drain() {
            done(self);
        }
        self.drain_jobs();
        for command in self.commands.take() {
            self.on_command(command, ctx);
        }
        let now = ctx.input(|i| i.time);
        self.poll_live_runs(now);
        self.poll_sweep(now, ctx);
        self.derived
            .refresh(&self.recording, &self.runs, &self.training);
        self.poll_labels(now, ctx);
        self.take_screenshot(ctx);
        self.request_repaints(ctx);
    }

    fn apply_theme(&mut self, ctx: &egui::Context) {
        if self.shell.applied_theme != Some(self.shell.settings.theme) {
            ctx.set_theme(match self.shell.settings.theme {
                ThemeChoice::System => ThemePreference::System,
                ThemeChoice::Light => ThemePreference::Light,
                ThemeChoice::Dark => ThemePreference::Dark,
            });
            self.shell.applied_theme = Some(self.shell.settings.theme);
        }
    }

    /// Asks for the frames that polling and playback need.
    fn request_repaints(&mut self, ctx: &egui::Context) {
        if self.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        if self.recording.listening.is_playing() {
            ctx.request_repaint();
        }
        if self.shell.tab == Tab::Runs {
            ctx.request_repaint_after(Duration::from_secs_f64(RUNS_LIST_POLL_S));
        }
        if let Some(e) = self
            .recording
            .listening
            .player
            .as_mut()
            .and_then(|p| p.take_error())
        {
            self.report(AppError::Playback(e.to_string()));
        }
        if !self.runs.panel.live_runs().is_empty() || self.runs_have_running() {
            ctx.request_repaint_after(Duration::from_secs_f64(LIVE_RUN_POLL_S));
        }
    }

    /// The labels' last chance when the app goes away: saves them, waiting
    /// up to [`EXIT_FLUSH`] for the label thread (the one wait the app
    /// allows itself, on the way out), and with `rescue` writes what could
    /// not be saved to [`Self::rescue_dir`].
    fn close(&mut self, rescue: bool) {
        let rescue_dir = self.rescue_dir();
        let Some(s) = &mut self.recording.session else {
            return;
        };
        if let Err(e) = s.save() {
            s.last_save_error = Some(e);
        }
        s.flush_labels(EXIT_FLUSH);
        if !s.doc.is_dirty() || !rescue {
            return;
        }
        if let Some(e) = &s.last_save_error {
            eprintln!("error: {e}");
        }
        match s.rescue(&rescue_dir) {
            Ok(file) => eprintln!(
                "the unsaved labels were written to {} instead",
                file.display()
            ),
            Err(e) => eprintln!("error: {e}"),
        }
    }
}

impl Drop for SpindleApp {
    fn drop(&mut self) {
        // Never lose a label: a last save when the app goes away.
        self.close(false);
    }
}

impl eframe::App for SpindleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        if self.shell.frame_stats.is_some() {
            let now = super::frame_stats::thread_cpu_seconds();
            self.shell.previous_frame_thread_cpu_s = now
                .zip(self.shell.thread_cpu_mark_s)
                .map(|(now, mark)| now - mark);
            self.shell.thread_cpu_mark_s = now;
        }
        self.run_logic(ctx);
        self.shell.logic_s = started.elapsed().as_secs_f64();
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.show(ui);
        let own = self.shell.logic_s + started.elapsed().as_secs_f64();
        self.record_frame(own, frame.info().cpu_usage);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let view = &self.runs.panel.view;
        self.shell.settings.runs_list = RunsListSettings {
            sort: view.sort,
            descending: view.descending,
            filter: view.filter.clone(),
        };
        eframe::set_value(storage, eframe::APP_KEY, &self.shell.settings);
    }

    fn on_exit(&mut self) {
        self.close(true);
        if let Some(report) = self.frame_report() {
            eprintln!("{report}");
        }
    }
}

/// The regression demo's settings: EEGNet predicting the reaction time
/// (R² about 0.96 on the test recording after 10 epochs, the targets
/// standardized; `tests/it/train_cli.rs` checks at least 0.8 with these
/// settings).
fn regression_demo_options() -> spindle_learn::train::TrainOptions {
    spindle_learn::train::TrainOptions {
        model: "eegnet".into(),
        epochs: 10,
        regression: true,
        ..spindle_learn::train::TrainOptions::default()
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
