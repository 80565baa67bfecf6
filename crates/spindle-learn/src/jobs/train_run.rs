//! One training run driven to its end from another job's thread (a fold of
//! a cross-validation, a task of a sweep): its events handed on as they
//! come, a cancel flag obeyed within a batch, and how it ended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;

use super::{TrainJob, TrainJobSpec};
use crate::train::{Command, Event, Outcome};

/// How often a waiting driver looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// How a run driven by [`drive`] ended.
#[derive(Debug)]
pub(crate) enum RunEnd {
    /// Trained and evaluated; the run folder is complete.
    Finished(Box<Outcome>),
    /// It failed; the message says why, naming the file where there is one.
    Failed(String),
    /// It stopped because `cancel` was set (or the listener went away).
    Cancelled,
}

/// Trains `spec` on a `spindle-train` thread and hands each of its events
/// to `each` (all of them, `Finished`, `Failed` and `Cancelled` included),
/// until it ends; `each` returning false, or `cancel` being set, cancels
/// the run.
pub(crate) fn drive(
    spec: TrainJobSpec,
    cancel: &AtomicBool,
    mut each: impl FnMut(&Event) -> bool,
) -> RunEnd {
    let job = TrainJob::spawn(spec, || {});
    let mut end = None;
    let mut asked_to_stop = false;
    loop {
        if !asked_to_stop && cancel.load(Ordering::Relaxed) {
            asked_to_stop = true;
            // A full queue already holds commands; the flag is checked again.
            let _ = job.send(Command::Cancel);
        }
        let event = match job.events.recv_timeout(CANCEL_POLL) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if !each(&event) && !asked_to_stop {
            asked_to_stop = true;
            let _ = job.send(Command::Cancel);
        }
        match event {
            Event::Finished(outcome) => end = Some(RunEnd::Finished(outcome)),
            Event::Failed(failure) => end = Some(RunEnd::Failed(failure.message)),
            Event::Cancelled => end = Some(RunEnd::Cancelled),
            _ => {}
        }
    }
    job.join();
    end.unwrap_or_else(|| RunEnd::Failed("training ended without a result".into()))
}
