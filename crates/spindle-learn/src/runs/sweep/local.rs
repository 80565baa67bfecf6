//! Running a sweep's tasks on this machine: N child processes at a time,
//! each `spindle sweep-task` with its share of the cores, output to the
//! task's log. Tasks already done (or running elsewhere) are skipped, so a
//! sweep run again goes on where it stopped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::status::create_logs;
use super::{SWEEP_JSON, Sweep, SweepError, TaskFiles, TaskStatus, mark_failed, task_status};

/// How often the runner looks at its children.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// How to run a sweep here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRunner {
    /// The `spindle` executable the tasks run (usually the running one).
    pub exe: PathBuf,
    /// Tasks at a time (at least 1).
    pub jobs: usize,
    /// Compute threads of each task (at least 1).
    pub threads_per_task: usize,
}

impl LocalRunner {
    /// `jobs` tasks at a time on `exe`, sharing `cores` between them.
    pub fn new(exe: PathBuf, jobs: usize, cores: usize) -> Self {
        let jobs = jobs.max(1);
        Self {
            exe,
            jobs,
            threads_per_task: (cores / jobs).max(1),
        }
    }
}

/// What the local runner did, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalEvent {
    /// Task `index` was not run: it was done already or runs elsewhere.
    Skipped {
        /// The task.
        index: usize,
        /// Where it stands.
        status: TaskStatus,
    },
    /// Task `index` started.
    Started {
        /// The task.
        index: usize,
    },
    /// Task `index` ended.
    Finished {
        /// The task.
        index: usize,
        /// Done or failed.
        status: TaskStatus,
    },
}

/// The tasks of one local run, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalSummary {
    /// Tasks run to a complete run folder.
    pub done: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Tasks skipped (done before, or running elsewhere).
    pub skipped: usize,
    /// Tasks not started because `stop` was set.
    pub not_started: usize,
}

impl LocalRunner {
    /// Runs the tasks of the sweep in `sweep_dir` (its `sweep.json` is
    /// `sweep`) that are pending or failed, [`LocalRunner::jobs`] at a time,
    /// keeping the statuses in `sweep.json` current. Setting `stop` kills the
    /// running tasks and starts no more. `on_event` hears of each start and end.
    pub fn run(
        &self,
        sweep_dir: &Path,
        sweep: &mut Sweep,
        stop: &AtomicBool,
        mut on_event: impl FnMut(&LocalEvent),
    ) -> Result<LocalSummary, SweepError> {
        create_logs(sweep_dir)?;
        let sweep_json = std::path::absolute(sweep_dir.join(SWEEP_JSON))
            .map_err(|e| SweepError::io(sweep_dir, e))?;
        let mut summary = LocalSummary::default();
        let mut queue = Vec::new();
        for t in &mut sweep.tasks {
            let status = task_status(sweep_dir, t);
            t.status = status;
            match status {
                TaskStatus::Done | TaskStatus::Running => {
                    summary.skipped += 1;
                    on_event(&LocalEvent::Skipped {
                        index: t.index,
                        status,
                    });
                }
                TaskStatus::Pending | TaskStatus::Failed => queue.push(t.index),
            }
        }
        sweep.save(sweep_dir)?;
        queue.reverse();
        let mut running: Vec<(usize, Child)> = Vec::new();
        loop {
            if stop.load(Ordering::Relaxed) {
                for (index, mut child) in running.drain(..) {
                    // Best effort: the child may have ended already.
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = mark_failed(sweep_dir, index, "stopped: the sweep was stopped");
                    sweep.tasks[index].status = TaskStatus::Failed;
                }
                summary.not_started += queue.len();
                sweep.save(sweep_dir)?;
                return Ok(summary);
            }
            while running.len() < self.jobs {
                let Some(index) = queue.pop() else { break };
                let child = self.spawn(sweep_dir, &sweep_json, index)?;
                sweep.tasks[index].status = TaskStatus::Running;
                on_event(&LocalEvent::Started { index });
                running.push((index, child));
            }
            if running.is_empty() {
                break;
            }
            let mut ended = Vec::new();
            for (i, (index, child)) in running.iter_mut().enumerate() {
                let exited = child.try_wait().map_err(|e| SweepError::io(&self.exe, e))?;
                if let Some(exit) = exited {
                    ended.push(i);
                    let task = &sweep.tasks[*index];
                    let mut status = task_status(sweep_dir, task);
                    if status != TaskStatus::Done {
                        if !TaskFiles::new(sweep_dir, *index).failed.is_file() {
                            // Died before it could say why (a signal, a crash).
                            mark_failed(
                                sweep_dir,
                                *index,
                                &format!("the task's process ended without a report ({exit})"),
                            )?;
                        }
                        status = TaskStatus::Failed;
                    }
                    match status {
                        TaskStatus::Done => summary.done += 1,
                        _ => summary.failed += 1,
                    }
                    sweep.tasks[*index].status = status;
                    on_event(&LocalEvent::Finished {
                        index: *index,
                        status,
                    });
                }
            }
            if !ended.is_empty() {
                for i in ended.into_iter().rev() {
                    running.remove(i);
                }
                sweep.save(sweep_dir)?;
            } else {
                std::thread::sleep(POLL_EVERY);
            }
        }
        sweep.save(sweep_dir)?;
        Ok(summary)
    }

    /// Starts `spindle sweep-task` for task `index`, its output to the task's log.
    fn spawn(
        &self,
        sweep_dir: &Path,
        sweep_json: &Path,
        index: usize,
    ) -> Result<Child, SweepError> {
        let log_path = TaskFiles::new(sweep_dir, index).log;
        let log = std::fs::File::create(&log_path).map_err(|e| SweepError::io(&log_path, e))?;
        let err = log.try_clone().map_err(|e| SweepError::io(&log_path, e))?;
        Command::new(&self.exe)
            .arg("sweep-task")
            .arg("--sweep")
            .arg(sweep_json)
            .arg("--index")
            .arg(index.to_string())
            .arg("--threads")
            .arg(self.threads_per_task.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| SweepError::io(&self.exe, e))
    }
}
