//! Sweeps as background services: [`SweepJob`] runs the pending and failed
//! tasks of a sweep folder on this machine (the local runner on a thread of
//! its own, typed [`SweepJobEvent`]s, stop by flag or by dropping the
//! handle), and [`SweepTaskRun`] is one task, trained in this process, as
//! `spindle sweep-task` runs it for the runners.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, bounded};

use super::TrainJobSpec;
use super::train_run::{RunEnd, drive};
use crate::runs::sweep::{
    Heartbeat, LocalEvent, LocalRunner, LocalSummary, SWEEP_JSON, Sweep, SweepError, SweepTask,
    mark_failed, write_point_summary,
};
use crate::train::{Event, Outcome};

/// What a sweep running here reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepJobEvent {
    /// A task started, ended or was skipped.
    Task(LocalEvent),
    /// The run ended: what it did, or why it could not run (naming the
    /// sweep folder or file).
    Ended(Result<LocalSummary, String>),
}

/// The handle of a sweep running on this machine. Dropping it stops the
/// sweep (the running task is killed).
#[derive(Debug)]
pub struct SweepJob {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Task news, then one `Ended`.
    pub events: Receiver<SweepJobEvent>,
    stop: Arc<AtomicBool>,
}

impl SweepJob {
    /// Runs the pending and failed tasks of the sweep in `dir` with
    /// `runner` (the tasks are `runner.exe sweep-task` children) on a
    /// `spindle-sweep` thread; `on_event` is called after each event.
    pub fn spawn(
        dir: &Path,
        runner: LocalRunner,
        on_event: impl Fn() + Send + 'static,
    ) -> Result<Self, SweepError> {
        let (tx, events) = bounded(256);
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let folder = dir.to_path_buf();
        std::thread::Builder::new()
            .name("spindle-sweep".into())
            .spawn(move || {
                let ended = Sweep::load(&folder.join(SWEEP_JSON))
                    .and_then(|mut sweep| {
                        runner.run(&folder, &mut sweep, &thread_stop, |e| {
                            // The listener may be gone; the run goes on regardless.
                            let _ = tx.send(SweepJobEvent::Task(e.clone()));
                            on_event();
                        })
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(SweepJobEvent::Ended(ended));
                on_event();
            })
            .map_err(|e| SweepError::io(dir, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            events,
            stop,
        })
    }

    /// Asks the run to kill its running task and start no more.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for SweepJob {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a sweep task left: its run folder and outcome, and its setting's
/// `cv.json` when it was the setting's last fold to finish.
#[derive(Debug, Clone)]
pub struct SweepTaskDone {
    /// The task's run folder.
    pub run_dir: PathBuf,
    /// Its kept epoch and test scores.
    pub outcome: Box<Outcome>,
    /// The setting's `cv.json`, when this task completed it.
    pub cv_json: Option<PathBuf>,
}

/// One task of a sweep, ready to train in this process.
#[derive(Debug)]
pub struct SweepTaskRun {
    /// The sweep folder.
    pub dir: PathBuf,
    /// The sweep's `sweep.json`, as read.
    pub sweep: Sweep,
    /// The task.
    pub task: SweepTask,
    /// Its run folder.
    pub run_dir: PathBuf,
}

impl SweepTaskRun {
    /// Task `index` of the sweep whose `sweep.json` is `sweep_json`.
    pub fn prepare(sweep_json: &Path, index: usize) -> Result<Self, SweepError> {
        let sweep = Sweep::load(sweep_json)?;
        let dir = sweep_json
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let task = sweep.task(index, sweep_json)?.clone();
        let run_dir = dir.join(&task.run_dir);
        Ok(Self {
            dir,
            sweep,
            task,
            run_dir,
        })
    }

    /// Trains the task into its run folder, its heartbeat beating
    /// meanwhile, handing each training event to `each`; a failure is
    /// recorded in the sweep's `logs/` and returned naming the run folder.
    /// When the task was its setting's last fold, writes `cv.json`.
    pub fn run(self, each: impl FnMut(&Event) -> bool) -> Result<SweepTaskDone, SweepError> {
        let heartbeat = Heartbeat::start(&self.dir, self.task.index)?;
        let never = AtomicBool::new(false);
        let end = match TrainJobSpec::from_options(
            self.task.data.roles(),
            &self.task.options,
            Some(self.run_dir.clone()),
        ) {
            Ok(mut spec) => {
                if let Some(fold) = &self.task.fold {
                    spec.dataset.test_trials = fold.test_trials.clone();
                }
                drive(spec, &never, each)
            }
            Err(e) => RunEnd::Failed(e.to_string()),
        };
        drop(heartbeat);
        let outcome = match end {
            RunEnd::Finished(outcome) => outcome,
            RunEnd::Failed(message) => return Err(self.failed(&message)),
            RunEnd::Cancelled => return Err(self.failed("training was cancelled")),
        };
        let cv_json = write_point_summary(&self.dir, &self.sweep, self.task.point)?;
        Ok(SweepTaskDone {
            run_dir: self.run_dir,
            outcome,
            cv_json,
        })
    }

    /// Records `message` as the task's failure; the error to return.
    fn failed(&self, message: &str) -> SweepError {
        let error = SweepError::invalid(&self.run_dir, message);
        if let Err(e) = mark_failed(&self.dir, self.task.index, &error.to_string()) {
            return e;
        }
        error
    }
}
