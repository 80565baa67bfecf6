//! The long jobs the app starts and follows, each a library handle with its
//! own typed events drained once per logic step: training (`TrainJob`),
//! explanations (`ExplainJob`), cross-validation (`CvJob`), a sweep run
//! here (`SweepJob`); and the polling of runs and sweeps written by other
//! processes.

use std::path::PathBuf;
use std::time::Duration;

use eframe::egui;
use spindle_learn::dataset::CvScheme;
use spindle_learn::explain::ExplainOptions;
use spindle_learn::jobs::{
    CvEvent, CvJob, CvJobSpec, ExplainEvent, ExplainJob, MapEvent, MapJob, SweepJob, SweepJobEvent,
    TrainJob, TrainJobSpec,
};
use spindle_learn::runs::RunStatus;
use spindle_learn::runs::sweep::{GridAxis, LocalRunner, SweepPlan, TaskData, without_options};
use spindle_learn::train::{Event, JobState, RunHistory};

use crate::gui::command::{NewSweep, Tab};
use crate::gui::error::{AppError, reason};

use super::state::CrossValidation;
use super::{LIVE_RUN_POLL_S, RUNS_LIST_POLL_S, SpindleApp};

impl SpindleApp {
    /// Takes the news of every running job.
    pub(super) fn drain_jobs(&mut self) {
        self.drain_training();
        self.drain_explanation();
        self.drain_maps();
        self.drain_sweep_job();
        self.drain_cross_validation();
        let failure = self
            .recording
            .session
            .as_mut()
            .and_then(|s| s.poll_overview());
        if let Some(e) = failure {
            self.report(e);
        }
    }

    /// Starts training with the Train view's form, into a new run folder.
    pub(super) fn start_training(&mut self) {
        if self.training.panel.is_training() {
            return;
        }
        let data = self.training.panel.data_roles();
        if data.train.is_empty() {
            self.report(AppError::Training(
                "choose at least one recording for training".into(),
            ));
            return;
        }
        let options = &self.training.panel.options;
        // The job makes the run folder on its own thread: this one never
        // touches the disk.
        let mut spec = match TrainJobSpec::from_options(data, options, None) {
            Ok(s) => s.in_new_run_folder(self.runs.dir.clone(), options.model.clone()),
            Err(e) => {
                self.report(AppError::Training(e.to_string()));
                return;
            }
        };
        spec.init_from = self.training.panel.init_from.clone();
        spec.train.live_map = self
            .training
            .panel
            .live_map
            .then(spindle_learn::train::LiveMapOptions::default);
        let epochs = spec.train.epochs;
        let job = TrainJob::spawn(spec, self.workers.waker().as_fn());
        self.training.panel.job = Some(job);
        self.training.panel.history = Some(RunHistory::new(None, epochs));
        self.shell.tab = Tab::Train;
        self.list_runs();
    }

    /// Folds the training job's new events into its history.
    fn drain_training(&mut self) {
        let Some(job) = &self.training.panel.job else {
            return;
        };
        let events: Vec<Event> = job.events.try_iter().collect();
        let Some(history) = &mut self.training.panel.history else {
            return;
        };
        for e in events {
            history.apply(e);
        }
        if !history.state.is_over() {
            return;
        }
        let finished = match &history.state {
            JobState::Finished(o) => o.run_dir.clone(),
            _ => None,
        };
        if self.shell.print_frame_stats
            && let Some(stats) = &self.shell.frame_stats
        {
            eprintln!("{}", stats.report());
        }
        self.training.panel.job = None;
        self.list_runs();
        if let Some(dir) = finished {
            self.runs.results_dir = Some(dir.clone());
            self.load_run(dir);
            if self.shell.presenting {
                self.shell.tab = Tab::Results;
            }
        }
    }

    /// Explains the run in `dir` with `options`.
    pub(super) fn start_explaining(&mut self, dir: PathBuf, options: ExplainOptions) {
        let explain = &mut self.training.explain;
        if explain.job.is_some() {
            self.shell.notice = Some("an explanation is already running".into());
            return;
        }
        explain.failure = None;
        explain.progress = None;
        explain.job = Some(ExplainJob::spawn(
            dir,
            options,
            self.workers.waker().as_fn(),
        ));
    }

    /// Maps the windows of the run in `dir` (Feature explorer, filters).
    pub(super) fn start_mapping(
        &mut self,
        dir: PathBuf,
        projection: spindle_learn::explain::embedding::Projection,
    ) {
        let maps = &mut self.training.explain.maps;
        if maps.job.is_some() {
            self.shell.notice = Some("the windows are already being mapped".into());
            return;
        }
        maps.failure = None;
        maps.progress = None;
        let options = spindle_learn::explain::embedding::EmbedOptions {
            projection,
            data: Vec::new(),
            device: spindle_learn::train::DeviceChoice::Auto,
        };
        maps.job = Some(MapJob::spawn(dir, options, self.workers.waker().as_fn()));
    }

    /// Takes the map job's news: progress, then its result.
    fn drain_maps(&mut self) {
        let Some(job) = &self.training.explain.maps.job else {
            return;
        };
        let dir = job.run_dir.clone();
        let events: Vec<MapEvent> = job.events.try_iter().collect();
        let maps = &mut self.training.explain.maps;
        for e in events {
            match e {
                MapEvent::Progress(p) => maps.progress = Some(p),
                MapEvent::Finished(found) => {
                    maps.maps = Some((dir.clone(), *found));
                    maps.selection.clear();
                    maps.job = None;
                    self.shell.notice = Some(format!("mapped the windows of {}", dir.display()));
                }
                MapEvent::Failed(message) => {
                    maps.failure = Some((dir.clone(), message));
                    maps.job = None;
                }
                MapEvent::Cancelled => {
                    maps.job = None;
                    self.shell.notice = Some("mapping cancelled".into());
                }
            }
        }
    }

    /// Takes the explanation job's news: progress, then its result.
    fn drain_explanation(&mut self) {
        let Some(job) = &self.training.explain.job else {
            return;
        };
        let dir = job.run_dir.clone();
        let events: Vec<ExplainEvent> = job.events.try_iter().collect();
        let explain = &mut self.training.explain;
        for e in events {
            match e {
                ExplainEvent::Progress(p) => explain.progress = Some(p),
                ExplainEvent::Finished(explanation) => {
                    explain.explanation.set(Some((dir.clone(), *explanation)));
                    explain.job = None;
                    self.shell.notice = Some(format!("explained {}", dir.display()));
                }
                ExplainEvent::Failed(message) => {
                    explain.failure = Some((dir.clone(), message));
                    explain.job = None;
                }
                ExplainEvent::Cancelled => {
                    explain.job = None;
                    self.shell.notice = Some("explanation cancelled".into());
                }
            }
        }
    }

    /// Cross-validates the Train view's settings over its training
    /// recordings, into a new folder of the runs folder.
    pub(super) fn start_cross_validation(&mut self, scheme: CvScheme) {
        if self.training.cv.as_ref().is_some_and(|cv| !cv.over) {
            self.shell.notice = Some("a cross-validation is already running".into());
            return;
        }
        let mut data = self.training.panel.data_roles();
        if data.train.is_empty() {
            self.report(AppError::Training(
                "choose at least one recording for training".into(),
            ));
            return;
        }
        // Each fold's test set comes from the training recordings.
        data.test.clear();
        let options = self.training.panel.options.clone();
        let name = format!("{}-cv{scheme}", options.model);
        // The job makes the folder on its own thread: this one never
        // touches the disk.
        let spec = CvJobSpec {
            data,
            options,
            scheme,
            out: PathBuf::new(),
            init_from: self.training.panel.init_from.clone(),
            new_folder: None,
        }
        .in_new_run_folder(self.runs.dir.clone(), name);
        self.training.cv = Some(CrossValidation {
            job: CvJob::spawn(spec, self.workers.waker().as_fn()),
            events: Vec::new(),
            over: false,
        });
    }

    /// Takes the cross-validation's news; when it ends, the runs are listed
    /// again and the result said.
    fn drain_cross_validation(&mut self) {
        let Some(cv) = &mut self.training.cv else {
            return;
        };
        let mut ended = None;
        for event in cv.job.events.try_iter() {
            if let CvEvent::Training { event, .. } = &event
                && matches!(**event, Event::Batch { .. })
            {
                continue;
            }
            match &event {
                CvEvent::Finished { path, .. } => {
                    ended = Some(Ok(format!("cross-validation: {}", path.display())));
                }
                CvEvent::Failed(message) => ended = Some(Err(message.clone())),
                CvEvent::Cancelled => ended = Some(Ok("cross-validation cancelled".into())),
                _ => {}
            }
            cv.events.push(event);
        }
        let Some(ended) = ended else {
            return;
        };
        cv.over = true;
        let out = cv.out().unwrap_or(&cv.job.out).to_path_buf();
        match ended {
            Ok(notice) => self.shell.notice = Some(notice),
            Err(message) => self.report(AppError::Run {
                reason: reason(&out, message),
                path: out,
            }),
        }
        self.list_runs();
    }

    /// The sweep `form` asks for over the Train view's recordings and
    /// settings.
    pub(super) fn sweep_plan(&self, form: &NewSweep) -> Result<SweepPlan, AppError> {
        let out = if form.out.trim().is_empty() {
            let seconds = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            self.runs.dir.join(format!("sweep-{seconds}"))
        } else {
            PathBuf::from(form.out.trim())
        };
        let cv = match form.cv.trim() {
            "" => None,
            text => match text.parse() {
                Ok(cv) => Some(cv),
                Err(reason) => return Err(AppError::Run { path: out, reason }),
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
        let roles = self.training.panel.data_roles();
        if roles.train.is_empty() {
            return Err(AppError::Run {
                path: out,
                reason: "no training recordings: choose them in the Train view first".into(),
            });
        }
        let varied: Vec<&str> = axes.iter().map(|a| a.option.as_str()).collect();
        Ok(SweepPlan {
            data: TaskData {
                train: roles.train,
                validation: roles.validation,
                test: roles.test,
                labels: roles.labels,
            },
            fixed: without_options(&self.training.panel.options.to_args(), &varied),
            axes,
            cv,
            out,
        })
    }

    /// Starts the local runner on the sweep in `dir`, one task at a time.
    pub(super) fn run_sweep_here(&mut self, dir: PathBuf) {
        if self.runs.sweep_job.is_some() {
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
        // One task at a time with every core but one, as the app trains.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let runner = LocalRunner::new(exe, 1, cores.saturating_sub(1).max(1));
        match SweepJob::spawn(&dir, runner, self.workers.waker().as_fn()) {
            Ok(job) => {
                self.runs.sweep_job = Some(job);
                self.runs.panel.sweep.running_here = true;
            }
            Err(e) => self.report(AppError::Run {
                reason: reason(&dir, &e),
                path: dir,
            }),
        }
    }

    /// Takes what the sweep running here reported.
    fn drain_sweep_job(&mut self) {
        let Some(job) = &self.runs.sweep_job else {
            return;
        };
        let dir = job.dir.clone();
        let mut ended = None;
        let mut changed = false;
        for event in job.events.try_iter() {
            match event {
                SweepJobEvent::Task(_) => changed = true,
                SweepJobEvent::Ended(result) => ended = Some(result),
            }
        }
        if let Some(result) = ended {
            self.runs.sweep_job = None;
            self.runs.panel.sweep.running_here = false;
            changed = true;
            match result {
                Ok(s) => {
                    self.shell.notice = Some(format!(
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
        if changed && self.runs.panel.sweep.open.as_ref() == Some(&dir) {
            self.read_sweep(dir);
        }
    }

    /// Reads the open sweep folder again once a second while it has tasks
    /// running or pending (on a cluster, or here).
    pub(super) fn poll_sweep(&mut self, now_s: f64, ctx: &egui::Context) {
        if !self.runs.panel.sweep.is_live() {
            return;
        }
        ctx.request_repaint_after(Duration::from_secs_f64(LIVE_RUN_POLL_S));
        if now_s - self.runs.last_sweep_poll_s < LIVE_RUN_POLL_S {
            return;
        }
        self.runs.last_sweep_poll_s = now_s;
        if let Some(dir) = self.runs.panel.sweep.open.clone() {
            self.read_sweep(dir);
        }
    }

    pub(super) fn runs_have_running(&self) -> bool {
        self.runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_none())
            && self
                .runs
                .panel
                .entries()
                .iter()
                .any(|e| e.status == RunStatus::Running)
    }

    /// Re-reads runs that another process is still writing, once a second,
    /// and the runs list every few seconds while it is shown (so that a run
    /// started in a terminal appears).
    pub(super) fn poll_live_runs(&mut self, now_s: f64) {
        if self.shell.tab == Tab::Runs && now_s - self.runs.last_list_s >= RUNS_LIST_POLL_S {
            self.runs.last_list_s = now_s;
            self.list_runs();
        }
        if now_s - self.runs.last_live_poll_s < LIVE_RUN_POLL_S {
            return;
        }
        let mut dirs = self.runs.panel.live_runs();
        if let Some(r) = self.runs.result_run.as_ref()
            && r.report.is_none()
        {
            dirs.push(r.dir.clone());
        }
        if dirs.is_empty() {
            return;
        }
        self.runs.last_live_poll_s = now_s;
        for dir in dirs {
            self.load_run(dir);
        }
        if self.shell.tab == Tab::Runs {
            self.list_runs();
        }
    }
}
