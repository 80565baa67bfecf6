//! A sweep run from the app on this machine: the local runner on a
//! `spindle-sweep` thread of its own, reporting over a bounded channel and
//! waking the UI after each event; dropping the handle stops it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, bounded};

use spindle_learn::runs::sweep::{LocalEvent, LocalRunner, LocalSummary, SWEEP_JSON, Sweep};

/// What the sweep thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepJobEvent {
    /// A task started, ended or was skipped.
    Task(LocalEvent),
    /// The run ended: what it did, or why it could not run.
    Ended(Result<LocalSummary, String>),
}

/// The handle of a sweep running here.
#[derive(Debug)]
pub struct SweepJob {
    /// The sweep folder.
    pub dir: PathBuf,
    /// What the thread reports.
    pub events: Receiver<SweepJobEvent>,
    stop: Arc<AtomicBool>,
}

impl SweepJob {
    /// Runs the pending and failed tasks of the sweep in `dir`, one at a
    /// time with every core but one (as the app trains), `exe` being the
    /// `spindle` the tasks run; `wake` is called after each event.
    pub fn spawn(
        dir: &Path,
        exe: PathBuf,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let runner = LocalRunner::new(exe, 1, cores.saturating_sub(1).max(1));
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
                            // The app may be gone; the run goes on regardless.
                            let _ = tx.send(SweepJobEvent::Task(e.clone()));
                            wake();
                        })
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(SweepJobEvent::Ended(ended));
                wake();
            })
            .map_err(|e| format!("{}: the sweep could not start: {e}", dir.display()))?;
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
