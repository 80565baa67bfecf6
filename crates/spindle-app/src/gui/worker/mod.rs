//! Background work for the GUI: scanning folders, opening recordings (with
//! their pyramids) and exporting, on worker threads that report [`Event`]s
//! over bounded channels and wake the UI.

//!
//! The parts: `protocol` (the commands and events), `run` (carrying out one
//! command), `task` (what a command is about, for its failure event),
//! `scan`, `open` (with the overview job),
//! `image` (charts as PNG), and `waker`.

mod image;
mod open;
mod protocol;
mod run;
mod scan;
mod task;
#[cfg(test)]
mod tests;
mod waker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use eframe::egui;

pub use protocol::{Command, Entry, Event, Loaded, OverviewGuard, ScanTicket};
use run::run;
use task::Task;
use waker::Waker;

/// The GUI's handle on its worker threads.
pub struct Workers {
    scan_tx: Sender<Command>,
    load_tx: Sender<Command>,
    work_tx: Sender<Command>,
    events: Receiver<Event>,
    waker: Waker,
    busy: usize,
    latest_scan: Arc<AtomicU64>,
}

impl Workers {
    /// Starts the scanner and loader threads.
    pub fn spawn() -> Self {
        let (event_tx, events) = bounded(256);
        let waker = Waker::default();
        let scan_tx = spawn_worker("spindle-scan", event_tx.clone(), waker.clone());
        let load_tx = spawn_worker("spindle-load", event_tx.clone(), waker.clone());
        let work_tx = spawn_worker("spindle-work", event_tx, waker.clone());
        Self {
            scan_tx,
            load_tx,
            work_tx,
            events,
            waker,
            busy: 0,
            latest_scan: Arc::default(),
        }
    }

    /// Queues a scan of `root`, cancelling any scan still running.
    pub fn scan(&mut self, root: PathBuf) -> Result<(), String> {
        let ticket = ScanTicket {
            mine: self.latest_scan.fetch_add(1, Ordering::Relaxed) + 1,
            latest: self.latest_scan.clone(),
        };
        self.send(Command::Scan(root, ticket))
    }

    /// Lets the workers wake `ctx` when they have news.
    pub fn set_context(&self, ctx: &egui::Context) {
        let _ = self.waker.0.set(ctx.clone());
    }

    /// A sender for work that a callback on another thread must queue (a
    /// screenshot to save).
    pub fn work_sender(&self) -> Sender<Command> {
        self.work_tx.clone()
    }

    /// Queues `command`; an error message when the queue is full or the worker is gone.
    pub fn send(&mut self, command: Command) -> Result<(), String> {
        let tx = match command {
            Command::Scan(..) => &self.scan_tx,
            Command::Open(_) | Command::Export(..) => &self.load_tx,
            Command::Preview(_)
            | Command::ListRuns(_)
            | Command::LoadRun(_)
            | Command::LoadExplanation(_)
            | Command::DeleteRun(_)
            | Command::ReadSweep(_)
            | Command::SubmitSweep(_)
            | Command::PlanSweep(_)
            | Command::WriteFile(..)
            | Command::Warm(..)
            | Command::OpenPlayer(_)
            | Command::Spectra(..)
            | Command::PrepareClip { .. }
            | Command::SavePng { .. }
            | Command::Suggest { .. } => &self.work_tx,
        };
        let counts = matches!(
            command,
            Command::Scan(..) | Command::Open(_) | Command::Export(..)
        );
        match tx.try_send(command) {
            Ok(()) => {
                if counts {
                    self.busy += 1;
                }
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err("too many jobs queued; try again in a moment".into()),
            Err(TrySendError::Disconnected(_)) => Err("the background worker stopped".into()),
        }
    }

    /// The events that arrived since the last call.
    pub fn drain(&mut self) -> Vec<Event> {
        let events: Vec<Event> = self.events.try_iter().collect();
        for e in &events {
            // Only file work counts as busy; previews and run reads do not.
            if matches!(
                e,
                Event::ScanDone(_)
                    | Event::Opened(_)
                    | Event::OpenFailed { .. }
                    | Event::Exported(_)
                    | Event::ExportFailed { .. }
            ) {
                self.busy = self.busy.saturating_sub(1);
            }
        }
        events
    }

    /// True while a queued job has not reported its end.
    pub fn is_busy(&self) -> bool {
        self.busy > 0
    }
}

fn spawn_worker(name: &str, events: Sender<Event>, waker: Waker) -> Sender<Command> {
    let (tx, rx) = bounded::<Command>(16);
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            for command in rx {
                if !run_guarded(command, &events, &waker) {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        // Without the thread the channel is disconnected and `send` reports it.
        eprintln!("error: could not start the {name} thread: {e}");
    }
    tx
}

/// Runs one command like [`run()`], turning a panic while handling it into
/// the command's failure event (naming the file and what was being done),
/// so that the app shows it and the worker goes on with the next command.
fn run_guarded(command: Command, events: &Sender<Event>, waker: &Waker) -> bool {
    let task = Task::of(&command);
    let (path, doing) = task.describe();
    match spindle_learn::jobs::catch_panic(path, doing, || run(command, events, waker)) {
        Ok(alive) => alive,
        Err(panicked) => {
            let mut alive = true;
            for event in task.failed(panicked) {
                alive &= events.send(event).is_ok();
            }
            waker.wake();
            alive
        }
    }
}
