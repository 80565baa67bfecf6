//! The app's worker: a small scheduler. A piece of background work is a
//! closure queued on a [`Lane`] (a named thread with a bounded queue),
//! with the file it is about and what it is doing (for the message of a
//! panic); it returns a typed value, which a handler folds into the app on
//! the UI thread ([`Scheduler::run`]). The services themselves live in the
//! library (`spindle_signals::viewing`, `spindle_learn::jobs`, ...): a task
//! only calls one and hands its result on.
//!
//! Queues are bounded and filled with `try_send`: a full lane is the
//! error "too many jobs queued", never a wait. Results come back over one
//! bounded channel; each wakes the UI. A panic in a task becomes
//! [`Host::panicked`] (or the task's own failure value, [`Scheduler::run_or`])
//! with a message naming the file and what was being done; the lane goes
//! on with its next task.

mod image;
#[cfg(test)]
mod tests;
mod waker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use eframe::egui;
use spindle_learn::jobs::{Panicked, catch_panic};

pub use image::encode_png;
pub use waker::Waker;

/// Tasks each lane holds before it is "too many jobs queued".
const LANE_CAPACITY: usize = 16;

/// Results held for the UI before a lane waits for it to take them.
const RESULT_CAPACITY: usize = 256;

/// The worker threads, one per kind of work, each taking its tasks in
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Folder listings from headers (`spindle-scan`); a newer scan makes an
    /// older one stop ([`ScanTicket`]).
    Scan,
    /// Opening recordings and exporting them (`spindle-load`).
    Load,
    /// Samples read on demand and display filtering for the view
    /// (`spindle-read`): short, and what the viewer waits for.
    Read,
    /// Everything else (`spindle-work`): previews, run and sweep folders,
    /// spectra, suggestions, audio, label schemes, CSV and PNG files.
    Work,
    /// File dialogs (`spindle-dialog`), which wait for the user.
    Dialog,
}

impl Lane {
    const ALL: [Lane; 5] = [Lane::Scan, Lane::Load, Lane::Read, Lane::Work, Lane::Dialog];

    fn thread_name(self) -> &'static str {
        match self {
            Lane::Scan => "spindle-scan",
            Lane::Load => "spindle-load",
            Lane::Read => "spindle-read",
            Lane::Work => "spindle-work",
            Lane::Dialog => "spindle-dialog",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What the app (or a test's stand-in) does with a task that panicked
/// and has no failure value of its own.
pub trait Host: 'static {
    /// Shows `panic` (its message names the file and what was being done).
    fn panicked(&mut self, panic: Panicked);
}

/// A result on its way to the UI thread: folds itself into the app.
pub type Done<S> = Box<dyn FnOnce(&mut S) + Send>;

/// Why a task was not queued.
pub type Refused = String;

/// A task's work: may deliver partial results, returns the last.
type Work<S> = Box<dyn FnOnce(&Delivery<S>) -> Done<S> + Send>;

/// What a task's panic becomes.
type OnPanic<S> = Box<dyn FnOnce(Panicked) -> Done<S> + Send>;

/// One queued task.
struct Task<S> {
    about: Option<PathBuf>,
    doing: &'static str,
    work: Work<S>,
    failed: OnPanic<S>,
}

/// Sends results to the UI and wakes it; what a streaming task gets.
pub struct Delivery<S> {
    tx: Sender<Done<S>>,
    waker: Waker,
}

impl<S: 'static> Delivery<S> {
    /// Hands `fold` to the UI now (waiting for room); false when the UI is
    /// gone.
    pub fn send(&self, fold: impl FnOnce(&mut S) + Send + 'static) -> bool {
        let sent = self.tx.send(Box::new(fold)).is_ok();
        self.waker.wake();
        sent
    }
}

/// Tells a folder scan that a newer one replaced it.
#[derive(Debug, Clone)]
pub struct ScanTicket {
    mine: u64,
    latest: Arc<AtomicU64>,
}

impl ScanTicket {
    /// True once a newer scan was asked for.
    pub fn is_stale(&self) -> bool {
        self.latest.load(Ordering::Relaxed) != self.mine
    }
}

/// What queues tasks: cheap to clone and `Send`, so that a callback on
/// another thread (a screenshot) can queue work too.
pub struct Submitter<S> {
    lanes: Arc<[Sender<Task<S>>]>,
    results: Sender<Done<S>>,
    waker: Waker,
    in_flight: Arc<[AtomicUsize]>,
}

impl<S> Clone for Submitter<S> {
    fn clone(&self) -> Self {
        Self {
            lanes: Arc::clone(&self.lanes),
            results: self.results.clone(),
            waker: self.waker.clone(),
            in_flight: Arc::clone(&self.in_flight),
        }
    }
}

impl<S: Host> Submitter<S> {
    /// Queues `work` on `lane`; `about` (the file it concerns) and `doing`
    /// (`"opening the recording"`) name it in the message of a panic. Its
    /// value goes to `then` on the UI thread; a panic goes to
    /// [`Host::panicked`].
    pub fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut S, T) + Send + 'static,
    ) -> Result<(), Refused> {
        self.run_or(lane, about, doing, work, move |s, result| match result {
            Ok(value) => then(s, value),
            Err(panic) => s.panicked(panic),
        })
    }

    /// Like [`Self::run`], for work whose caller waits for its end (an
    /// open, a preview): `then` gets the value, or the panic.
    pub fn run_or<T: Send + 'static>(
        &self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut S, Result<T, Panicked>) + Send + 'static,
    ) -> Result<(), Refused> {
        let then = Arc::new(std::sync::Mutex::new(Some(then)));
        let on_panic = Arc::clone(&then);
        self.stream(
            lane,
            about,
            doing,
            move |_| {
                let value = work();
                Box::new(move |s: &mut S| {
                    if let Some(then) = take(&then) {
                        then(s, Ok(value));
                    }
                }) as Done<S>
            },
            move |panic| {
                Box::new(move |s: &mut S| {
                    if let Some(then) = take(&on_panic) {
                        then(s, Err(panic));
                    }
                })
            },
        )
    }

    /// The general form: `work` may hand partial results to the UI through
    /// its [`Delivery`] (a folder listing, entry by entry) and returns the
    /// last; `failed` turns a panic into the last result.
    pub fn stream(
        &self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce(&Delivery<S>) -> Done<S> + Send + 'static,
        failed: impl FnOnce(Panicked) -> Done<S> + Send + 'static,
    ) -> Result<(), Refused> {
        let task = Task {
            about: about.map(Path::to_path_buf),
            doing,
            work: Box::new(work),
            failed: Box::new(failed),
        };
        let counter = &self.in_flight[lane.index()];
        counter.fetch_add(1, Ordering::Relaxed);
        match self.lanes[lane.index()].try_send(task) {
            Ok(()) => Ok(()),
            Err(e) => {
                counter.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => "too many jobs queued; try again in a moment".into(),
                    TrySendError::Disconnected(_) => "the background worker stopped".into(),
                })
            }
        }
    }

    /// Hands `fold` to the UI without a task (from a callback on another
    /// thread); false when the result queue is full or the UI gone.
    pub fn deliver(&self, fold: impl FnOnce(&mut S) + Send + 'static) -> bool {
        let sent = self.results.try_send(Box::new(fold)).is_ok();
        self.waker.wake();
        sent
    }
}

/// Takes the handler out of its shared slot (exactly one of the value and
/// the panic ever reaches it).
fn take<F>(slot: &std::sync::Mutex<Option<F>>) -> Option<F> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// The app's handle on its worker lanes.
pub struct Scheduler<S> {
    submit: Submitter<S>,
    results: Receiver<Done<S>>,
    latest_scan: Arc<AtomicU64>,
}

impl<S: Host> Scheduler<S> {
    /// Starts one thread per lane.
    pub fn spawn() -> Self {
        let (results_tx, results) = bounded(RESULT_CAPACITY);
        let waker = Waker::default();
        let in_flight: Arc<[AtomicUsize]> = Lane::ALL.iter().map(|_| AtomicUsize::new(0)).collect();
        let lanes: Arc<[Sender<Task<S>>]> = Lane::ALL
            .iter()
            .map(|&lane| {
                let delivery = Delivery {
                    tx: results_tx.clone(),
                    waker: waker.clone(),
                };
                spawn_lane(lane, delivery, Arc::clone(&in_flight))
            })
            .collect();
        Self {
            submit: Submitter {
                lanes,
                results: results_tx,
                waker,
                in_flight,
            },
            results,
            latest_scan: Arc::default(),
        }
    }

    /// A handle that queues tasks from anywhere.
    pub fn submitter(&self) -> Submitter<S> {
        self.submit.clone()
    }

    /// See [`Submitter::run`].
    pub fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut S, T) + Send + 'static,
    ) -> Result<(), Refused> {
        self.submit.run(lane, about, doing, work, then)
    }

    /// See [`Submitter::run_or`].
    pub fn run_or<T: Send + 'static>(
        &self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut S, Result<T, Panicked>) + Send + 'static,
    ) -> Result<(), Refused> {
        self.submit.run_or(lane, about, doing, work, then)
    }

    /// See [`Submitter::stream`].
    pub fn stream(
        &self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce(&Delivery<S>) -> Done<S> + Send + 'static,
        failed: impl FnOnce(Panicked) -> Done<S> + Send + 'static,
    ) -> Result<(), Refused> {
        self.submit.stream(lane, about, doing, work, failed)
    }

    /// A ticket for a new folder scan; every older ticket is stale from now.
    pub fn newer_scan(&self) -> ScanTicket {
        ScanTicket {
            mine: self.latest_scan.fetch_add(1, Ordering::Relaxed) + 1,
            latest: Arc::clone(&self.latest_scan),
        }
    }

    /// Lets the lanes wake `ctx` when they have news.
    pub fn set_context(&self, ctx: &egui::Context) {
        self.submit.waker.set(ctx);
    }

    /// The waker the lanes use, for library jobs that report to the UI.
    pub fn waker(&self) -> &Waker {
        &self.submit.waker
    }

    /// The results that arrived since the last call, oldest first; fold
    /// each into the app with `done(app)`.
    pub fn drain(&self) -> Vec<Done<S>> {
        self.results.try_iter().collect()
    }

    /// True while a task of `lane` is queued, running, or its result not
    /// yet folded in.
    pub fn is_busy(&self, lane: Lane) -> bool {
        self.submit.in_flight[lane.index()].load(Ordering::Relaxed) > 0
    }
}

/// Starts the thread of `lane`; its sender (disconnected when the thread
/// could not start, which `stream` then reports).
fn spawn_lane<S: 'static>(
    lane: Lane,
    delivery: Delivery<S>,
    in_flight: Arc<[AtomicUsize]>,
) -> Sender<Task<S>> {
    let (tx, rx) = bounded::<Task<S>>(LANE_CAPACITY);
    let spawned = std::thread::Builder::new()
        .name(lane.thread_name().into())
        .spawn(move || {
            for task in rx {
                let Task {
                    about,
                    doing,
                    work,
                    failed,
                } = task;
                let done =
                    catch_panic(about.as_deref(), doing, || work(&delivery)).unwrap_or_else(failed);
                let counter = Arc::clone(&in_flight);
                let alive = delivery.send(move |s| {
                    done(s);
                    counter[lane.index()].fetch_sub(1, Ordering::Relaxed);
                });
                if !alive {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        // Without the thread the channel is disconnected and every task
        // queued on it is refused with the reason.
        eprintln!(
            "error: could not start the {} thread: {e}",
            lane.thread_name()
        );
    }
    tx
}
