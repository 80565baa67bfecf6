//! The app shell's intake: worker events and the training, explanation
//! and sweep jobs' news, folded into the app's state.

use std::path::{Path, PathBuf};

use spindle_learn::explain::Explanation;
use spindle_learn::jobs::ExplainEvent;
use spindle_learn::runs::RunSnapshot;
use spindle_learn::train::JobState;

use crate::gui::command::{AppCommand, Tab};
use crate::gui::error::{AppError, reason};
use crate::gui::listen::ListenRequest;
use crate::gui::session::Session;
use crate::gui::spectrum::SpectrumPanel;
use crate::gui::training::PreviewState;
use crate::gui::worker::{Command, Event, Loaded};
use crate::playback::{PlaybackError, Player};

use super::{SpindleApp, demo_options};

impl SpindleApp {
    /// Takes what the sweep running here reported.
    pub(super) fn drain_sweep_job(&mut self) {
        let Some(job) = &self.sweep_job else {
            return;
        };
        let dir = job.dir.clone();
        let mut ended = None;
        let mut changed = false;
        while let Ok(event) = job.events.try_recv() {
            match event {
                spindle_learn::jobs::SweepJobEvent::Task(_) => changed = true,
                spindle_learn::jobs::SweepJobEvent::Ended(result) => ended = Some(result),
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

    /// Folds the training job's new events into its history.
    pub(super) fn drain_job(&mut self) {
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

    /// Takes the explanation job's news: progress, then its result.
    pub(super) fn drain_explanation(&mut self) {
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

    /// Folds one worker event into the app's state.
    pub(super) fn on_event(&mut self, event: Event) {
        match event {
            Event::ExplanationLoaded(dir, result) => self.on_explanation_loaded(dir, result),
            Event::Found(root, entry) => self.browser.add(&root, entry),
            Event::ScanDone(root) => self.on_scan_done(&root),
            Event::Opened(loaded) => self.on_opened(*loaded),
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
            Event::Warmed => {}
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
            Event::RunLoaded(snapshot) => self.on_run_loaded(*snapshot),
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
            Event::PlayerOpened(result) => self.on_player_opened(*result),
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
            Event::RunDeleted { dir, error } => self.on_run_deleted(dir, error),
        }
    }

    /// A run's `explain.json`, read when the run shown in Results was first
    /// seen complete.
    fn on_explanation_loaded(
        &mut self,
        dir: PathBuf,
        result: Result<Option<Box<Explanation>>, String>,
    ) {
        if self.results_dir.as_ref() != Some(&dir) {
            return;
        }
        match result {
            Ok(Some(e)) => {
                self.explain.explanation = Some((dir, *e));
                self.explain_generation += 1;
            }
            Ok(None) => {}
            Err(message) => self.explain.failure = Some((dir, message)),
        }
    }

    /// The scan of `root` ended: the Train view gets the recordings; a
    /// pending demo starts, and the first recording opens when asked to.
    fn on_scan_done(&mut self, root: &Path) {
        if self.browser.root.as_deref() == Some(root) {
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

    /// A recording opened: it becomes the session (unless a later open
    /// superseded it), its classes join the scheme.
    fn on_opened(&mut self, loaded: Loaded) {
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
        let mut session = Session::new(loaded, self.settings.window_s);
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

    /// A run folder was read: shown in Results when it is the run asked for
    /// there (its explanation asked for when first seen complete), and kept
    /// for the Runs view.
    fn on_run_loaded(&mut self, snapshot: RunSnapshot) {
        let dir = snapshot.dir.clone();
        if self.results_dir.as_ref() == Some(&dir) {
            let same = self.result_run.as_ref().is_some_and(|r| r.dir == dir);
            if !same {
                self.results.selected = None;
            }
            // A run's explanation is read once, when it is first
            // seen complete (re-reads of a running run have none).
            let was_complete = same && self.result_run.as_ref().is_some_and(|r| r.report.is_some());
            if snapshot.report.is_some() && !was_complete {
                self.send_work(Command::LoadExplanation(dir.clone()));
            }
            self.result_run = Some(snapshot.clone());
        }
        self.runs.snapshots.insert(dir, snapshot);
    }

    /// The audio output opened (a clip waiting for it plays), or why it
    /// cannot.
    fn on_player_opened(&mut self, result: Result<Player, PlaybackError>) {
        self.listening.opening = false;
        match result {
            Ok(player) => {
                self.listening.player = Some(player);
                if std::mem::take(&mut self.listening.play_when_open) {
                    self.listen(ListenRequest::Play);
                }
            }
            Err(e) => self.listening.unavailable = Some(e.to_string()),
        }
    }

    /// A run folder was deleted, or why it could not be.
    fn on_run_deleted(&mut self, dir: PathBuf, error: Option<String>) {
        match error {
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
        }
    }
}
