//! Where each task of a sweep stands, read from the files the tasks leave:
//! `report.json` in the run folder (done), `logs/task-N.failed` (failed, with
//! the error), `logs/task-N.alive`, touched every few seconds while the task
//! runs (running; left behind stale when the process was killed). The tasks
//! never rewrite `sweep.json`, so concurrent tasks cannot corrupt it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Sender, bounded};

use super::{SweepError, SweepTask, TaskStatus};
use crate::train::RunPaths;

/// How often a running task touches its `alive` file.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// An `alive` file older than this belongs to a task that stopped.
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(30);

/// The folder of the tasks' logs and markers in a sweep folder.
pub const LOGS_DIR: &str = "logs";

/// The files a task leaves in the sweep folder besides its run folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFiles {
    /// Everything the task printed (`logs/task-N.out`).
    pub log: PathBuf,
    /// The task's error, when it failed (`logs/task-N.failed`).
    pub failed: PathBuf,
    /// Touched while it runs (`logs/task-N.alive`).
    pub alive: PathBuf,
}

impl TaskFiles {
    /// The files of task `index` of the sweep in `sweep_dir`.
    pub fn new(sweep_dir: &Path, index: usize) -> Self {
        let logs = sweep_dir.join(LOGS_DIR);
        Self {
            log: logs.join(format!("task-{index}.out")),
            failed: logs.join(format!("task-{index}.failed")),
            alive: logs.join(format!("task-{index}.alive")),
        }
    }
}

/// Where `task` of the sweep in `sweep_dir` stands now.
pub fn task_status(sweep_dir: &Path, task: &SweepTask) -> TaskStatus {
    status_at(sweep_dir, task, SystemTime::now())
}

/// [`task_status`] as seen at time `now`.
fn status_at(sweep_dir: &Path, task: &SweepTask, now: SystemTime) -> TaskStatus {
    let run_dir = sweep_dir.join(&task.run_dir);
    if RunPaths::new(&run_dir).report_json().is_file() {
        return TaskStatus::Done;
    }
    let files = TaskFiles::new(sweep_dir, task.index);
    if files.failed.is_file() {
        return TaskStatus::Failed;
    }
    let alive = std::fs::metadata(&files.alive).and_then(|m| m.modified());
    let fresh = |t: SystemTime| {
        now.duration_since(t)
            .map_or(true, |age| age <= HEARTBEAT_STALE)
    };
    match alive {
        Ok(t) if fresh(t) => TaskStatus::Running,
        Ok(_) => TaskStatus::Failed,
        // Not started, or its run folder lost its report: to be run.
        Err(_) => TaskStatus::Pending,
    }
}

/// Why `task` failed, in words: its error, or that its process ended without
/// a report; `None` when it has not failed.
pub fn failure_message(sweep_dir: &Path, task: &SweepTask) -> Option<String> {
    if task_status(sweep_dir, task) != TaskStatus::Failed {
        return None;
    }
    let files = TaskFiles::new(sweep_dir, task.index);
    match std::fs::read_to_string(&files.failed) {
        Ok(text) => Some(text.trim().to_string()),
        Err(_) => Some(format!(
            "stopped without a report (killed, out of time or out of memory?); see {}",
            files.log.display()
        )),
    }
}

/// Records that task `index` failed with `message` (replacing an older
/// record) and that it no longer runs.
pub fn mark_failed(sweep_dir: &Path, index: usize, message: &str) -> Result<(), SweepError> {
    let files = TaskFiles::new(sweep_dir, index);
    create_logs(sweep_dir)?;
    spindle_signals::recording::write_atomic(&files.failed, format!("{message}\n").as_bytes())
        .map_err(|e| SweepError::invalid(&files.failed, e))?;
    let _ = std::fs::remove_file(&files.alive);
    Ok(())
}

/// Creates the sweep's `logs/` folder.
pub(crate) fn create_logs(sweep_dir: &Path) -> Result<PathBuf, SweepError> {
    let logs = sweep_dir.join(LOGS_DIR);
    std::fs::create_dir_all(&logs).map_err(|e| SweepError::io(&logs, e))?;
    Ok(logs)
}

/// Touches a task's `alive` file every [`HEARTBEAT_EVERY`] on a thread of
/// its own while it lives; dropping it stops the thread and removes the file.
#[derive(Debug)]
pub struct Heartbeat {
    stop: Option<Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    alive: PathBuf,
}

impl Heartbeat {
    /// Starts the heartbeat of task `index` of the sweep in `sweep_dir`,
    /// clearing an older failure record of the task.
    pub fn start(sweep_dir: &Path, index: usize) -> Result<Self, SweepError> {
        create_logs(sweep_dir)?;
        let files = TaskFiles::new(sweep_dir, index);
        match std::fs::remove_file(&files.failed) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(SweepError::io(&files.failed, e));
            }
            _ => {}
        }
        let alive = files.alive;
        touch(&alive)?;
        let (stop, stopped) = bounded::<()>(1);
        let path = alive.clone();
        let thread = std::thread::Builder::new()
            .name("spindle-heartbeat".into())
            .spawn(move || {
                // Ends when the sender is dropped (or sends).
                while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(HEARTBEAT_EVERY)
                {
                    // Best effort: a missed beat only makes the task look
                    // stopped after HEARTBEAT_STALE.
                    let _ = touch(&path);
                }
            })
            .map_err(|e| SweepError::io(&alive, e))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
            alive,
        })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.alive);
    }
}

/// Writes the process id and the time into `path`, which updates its
/// modification time.
fn touch(path: &Path) -> Result<(), SweepError> {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    std::fs::write(path, format!("pid {} at {seconds}\n", std::process::id()))
        .map_err(|e| SweepError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::sweep::TaskData;
    use crate::train::TrainOptions;

    fn task(index: usize) -> SweepTask {
        SweepTask {
            index,
            point: 0,
            run_dir: PathBuf::from(format!("{index:03}")),
            settings: Default::default(),
            options: TrainOptions::default(),
            data: TaskData::default(),
            fold: None,
            status: TaskStatus::Pending,
        }
    }

    #[test]
    fn status_follows_the_files_a_task_leaves() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path();
        let t = task(3);
        assert_eq!(task_status(dir, &t), TaskStatus::Pending);
        assert_eq!(failure_message(dir, &t), None);

        let beat = Heartbeat::start(dir, 3)?;
        assert_eq!(task_status(dir, &t), TaskStatus::Running);
        // A heartbeat not renewed for longer than HEARTBEAT_STALE: killed.
        let later = SystemTime::now() + HEARTBEAT_STALE + Duration::from_secs(1);
        assert_eq!(status_at(dir, &t, later), TaskStatus::Failed);
        drop(beat);
        assert!(!TaskFiles::new(dir, 3).alive.exists());
        assert_eq!(task_status(dir, &t), TaskStatus::Pending);

        mark_failed(dir, 3, "data/x.edf: no labels")?;
        assert_eq!(task_status(dir, &t), TaskStatus::Failed);
        assert_eq!(
            failure_message(dir, &t).as_deref(),
            Some("data/x.edf: no labels")
        );
        // Starting again clears the failure.
        let beat = Heartbeat::start(dir, 3)?;
        assert_eq!(task_status(dir, &t), TaskStatus::Running);
        drop(beat);

        std::fs::create_dir_all(dir.join("003"))?;
        std::fs::write(dir.join("003/report.json"), "{}")?;
        mark_failed(dir, 3, "ignored: the report wins")?;
        assert_eq!(task_status(dir, &t), TaskStatus::Done);
        // Another task's files say nothing about this one.
        assert_eq!(task_status(dir, &task(4)), TaskStatus::Pending);
        Ok(())
    }

    #[test]
    fn a_stale_heartbeat_without_an_error_reads_as_stopped()
    -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let t = task(0);
        create_logs(tmp.path())?;
        let alive = TaskFiles::new(tmp.path(), 0).alive;
        std::fs::write(&alive, "pid 1\n")?;
        let old = SystemTime::now() - HEARTBEAT_STALE - Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&alive)?
            .set_modified(old)?;
        assert_eq!(task_status(tmp.path(), &t), TaskStatus::Failed);
        let message = failure_message(tmp.path(), &t).unwrap_or_default();
        assert!(message.starts_with("stopped without a report"), "{message}");
        Ok(())
    }
}
