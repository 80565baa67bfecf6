//! An explanation of a run computed on its own thread: progress over a
//! bounded channel, cancellation by a flag, `explain.json` written into the
//! run folder before the result is reported.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::catch_panic;
use crate::explain::{ExplainError, ExplainOptions, ExplainProgress, Explanation, explain_run};

/// What an explanation job reports.
#[derive(Debug, Clone)]
pub enum ExplainEvent {
    /// A step of a method is done. Dropped when the listener is behind.
    Progress(ExplainProgress),
    /// The explanation, already saved as `explain.json` in the run folder.
    Finished(Box<Explanation>),
    /// It failed: the message names the file or the step.
    Failed(String),
    /// It stopped because it was asked to.
    Cancelled,
}

/// A running explanation. Dropping the handle cancels it.
pub struct ExplainJob {
    /// The run folder being explained.
    pub run_dir: PathBuf,
    /// Progress, then one of `Finished`, `Failed` or `Cancelled`.
    pub events: Receiver<ExplainEvent>,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl ExplainJob {
    /// Explains the run in `run_dir` with `options` on a new thread;
    /// `on_event` is called after each event is queued (to wake a GUI).
    pub fn spawn(
        run_dir: PathBuf,
        options: ExplainOptions,
        on_event: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let (tx, rx) = bounded(64);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let dir = run_dir.clone();
        let handle = std::thread::Builder::new()
            .name("spindle-explain".into())
            .spawn(move || {
                let last = explain_and_save(&dir, &options, &tx, &on_event, &flag);
                let _ = tx.send(last);
                on_event();
            });
        let handle = match handle {
            Ok(h) => Some(h),
            Err(e) => {
                let (tx, rx) = bounded(1);
                let _ = tx.send(ExplainEvent::Failed(format!(
                    "could not start the explanation thread: {e}"
                )));
                return Self {
                    run_dir,
                    events: rx,
                    cancel,
                    handle: None,
                };
            }
        };
        Self {
            run_dir,
            events: rx,
            cancel,
            handle,
        }
    }

    /// Asks the job to stop; it ends with `Cancelled` soon after.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// True when the worker thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for ExplainJob {
    /// A handle that goes away cancels its job (without waiting for it).
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Runs the explanation and saves it; returns the job's last event.
fn explain_and_save(
    dir: &std::path::Path,
    options: &ExplainOptions,
    tx: &Sender<ExplainEvent>,
    on_event: &(impl Fn() + Send + Sync),
    cancel: &AtomicBool,
) -> ExplainEvent {
    let mut progress = |p: ExplainProgress| {
        if tx.try_send(ExplainEvent::Progress(p)).is_ok() {
            on_event();
        }
    };
    let result = catch_panic(Some(dir), "explaining the run", || {
        let explanation = explain_run(dir, options, &mut progress, cancel)?;
        explanation.save(dir)?;
        Ok::<_, ExplainError>(explanation)
    });
    match result {
        Ok(Ok(e)) => ExplainEvent::Finished(Box::new(e)),
        Ok(Err(ExplainError::Cancelled)) => ExplainEvent::Cancelled,
        Ok(Err(e)) => ExplainEvent::Failed(e.to_string()),
        Err(p) => ExplainEvent::Failed(p.to_string()),
    }
}
