//! A job about one run folder on a thread of its own: progress over a
//! bounded channel, then one last event (the result, a failure or
//! `Cancelled`); cancellation by a flag or by dropping the handle; a panic
//! becomes a failure naming the folder. [`ExplainJob`](super::ExplainJob)
//! and [`MapJob`](super::MapJob) are two such jobs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, bounded};

use super::catch_panic;
use crate::explain::ExplainError;

/// Progress events queued before the listener must catch up (later ones are
/// dropped; the last event never is).
const PROGRESS_CAPACITY: usize = 64;

/// What a run job reports: progress of type `P`, then its result `R`, a
/// failure or `Cancelled`.
#[derive(Debug, Clone)]
pub enum RunJobEvent<P, R> {
    /// A step is done. Dropped when the listener is behind.
    Progress(P),
    /// The result.
    Finished(Box<R>),
    /// It failed: the message names the file or the step.
    Failed(String),
    /// It stopped because it was asked to.
    Cancelled,
}

/// A running job about one run folder. Dropping the handle cancels it.
pub struct RunJob<P, R> {
    /// The run folder the job is about.
    pub run_dir: PathBuf,
    /// Progress, then one of `Finished`, `Failed` or `Cancelled`.
    pub events: Receiver<RunJobEvent<P, R>>,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The work of a run job: given the run folder, a progress callback and the
/// cancel flag, its result or why there is none.
type Work<P, R> =
    dyn FnOnce(&Path, &mut dyn FnMut(P), &AtomicBool) -> Result<R, ExplainError> + Send;

impl<P: Send + 'static, R: Send + 'static> RunJob<P, R> {
    /// Runs `work` on a thread named `thread_name`; `doing` names the work in
    /// a panic's message (`explaining the run`). `on_event` is called after
    /// each event is queued (to wake a GUI).
    pub(super) fn start(
        thread_name: &str,
        doing: &'static str,
        run_dir: PathBuf,
        on_event: impl Fn() + Send + Sync + 'static,
        work: Box<Work<P, R>>,
    ) -> Self {
        let (tx, rx) = bounded(PROGRESS_CAPACITY);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let dir = run_dir.clone();
        let spawned = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                let mut progress = |p: P| {
                    if tx.try_send(RunJobEvent::Progress(p)).is_ok() {
                        on_event();
                    }
                };
                let last = match catch_panic(Some(&dir), doing, || work(&dir, &mut progress, &flag))
                {
                    Ok(Ok(result)) => RunJobEvent::Finished(Box::new(result)),
                    Ok(Err(ExplainError::Cancelled)) => RunJobEvent::Cancelled,
                    Ok(Err(e)) => RunJobEvent::Failed(e.to_string()),
                    Err(p) => RunJobEvent::Failed(p.to_string()),
                };
                let _ = tx.send(last);
                on_event();
            });
        match spawned {
            Ok(h) => Self {
                run_dir,
                events: rx,
                cancel,
                handle: Some(h),
            },
            Err(e) => {
                let (tx, rx) = bounded(1);
                let _ = tx.send(RunJobEvent::Failed(format!(
                    "{}: could not start a thread for {doing}: {e}",
                    run_dir.display()
                )));
                Self {
                    run_dir,
                    events: rx,
                    cancel,
                    handle: None,
                }
            }
        }
    }
}

impl<P, R> RunJob<P, R> {
    /// Asks the job to stop; it ends with `Cancelled` soon after.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// True when the worker thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl<P, R> Drop for RunJob<P, R> {
    /// A handle that goes away cancels its job (without waiting for it).
    fn drop(&mut self) {
        self.cancel();
    }
}
