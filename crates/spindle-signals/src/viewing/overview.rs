//! The overview of a recording read on demand: its file streamed once into
//! one min/max pyramid per channel, on a `spindle-overview` thread of its
//! own, with progress; dropping the handle stops it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, bounded};

use crate::dsp::{MinMaxPyramid, PyramidBuilder};
use crate::recording::PagedEdf;

/// The pyramids of a recording read on demand take about this many bytes
/// in all (their finest blocks grow with the recording).
const OVERVIEW_BYTES: usize = 16 << 20;

/// What an overview job reports: progress, then `Ready` or `Failed` (nothing
/// more once it was stopped).
#[derive(Debug, Clone)]
pub enum OverviewEvent {
    /// This much of the file is read, 0..=1. Dropped when the listener is
    /// behind.
    Progress(f64),
    /// The overview is built: one pyramid per data channel.
    Ready(Vec<MinMaxPyramid>),
    /// The file could not be read to its end (it changed or vanished); the
    /// message names it.
    Failed(String),
}

/// A running overview job. Dropping the handle stops it.
#[derive(Debug)]
pub struct OverviewJob {
    /// See [`OverviewEvent`].
    pub events: Receiver<OverviewEvent>,
    stop: Arc<AtomicBool>,
}

impl OverviewJob {
    /// Builds the overview of `paged` on a `spindle-overview` thread;
    /// `on_event` is called after each event is queued (to wake a GUI).
    pub fn spawn(paged: Arc<PagedEdf>, on_event: impl Fn() + Send + 'static) -> Self {
        let (tx, events) = bounded(16);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("spindle-overview".into())
            .spawn(move || {
                let report = |e| {
                    if tx.try_send(e).is_ok() {
                        on_event();
                    }
                };
                if let Some(last) = build(&paged, &flag, &report) {
                    // The last event waits for room: it is the result.
                    let _ = tx.send(last);
                    on_event();
                }
            });
        if let Err(e) = spawned {
            let (tx, rx) = bounded(1);
            let _ = tx.send(OverviewEvent::Failed(format!(
                "could not start the overview thread: {e}"
            )));
            return Self { events: rx, stop };
        }
        Self { events, stop }
    }

    /// Asks the job to stop; it then reports nothing more.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for OverviewJob {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Streams the file into pyramids, reporting progress every 5 %; the last
/// event, or `None` when stopped.
fn build(
    paged: &PagedEdf,
    stop: &AtomicBool,
    report: &impl Fn(OverviewEvent),
) -> Option<OverviewEvent> {
    let n = paged.channel_count();
    let budget = OVERVIEW_BYTES / n.max(1);
    let total: usize = (0..n).map(|c| paged.len(c)).sum();
    let mut builders: Vec<PyramidBuilder> = (0..n)
        .map(|c| PyramidBuilder::new(PyramidBuilder::base_block_for(paged.len(c), budget)))
        .collect();
    let mut done = 0usize;
    let mut reported = 0.0;
    let finished = paged.stream(|piece| {
        for (builder, samples) in builders.iter_mut().zip(piece) {
            builder.push(samples);
            done += samples.len();
        }
        let fraction = done as f64 / total.max(1) as f64;
        if fraction - reported >= 0.05 {
            reported = fraction;
            report(OverviewEvent::Progress(fraction));
        }
        !stop.load(Ordering::Relaxed)
    });
    match finished {
        Ok(true) => Some(OverviewEvent::Ready(
            builders.into_iter().map(PyramidBuilder::finish).collect(),
        )),
        Ok(false) => None,
        Err(e) => Some(OverviewEvent::Failed(e.to_string())),
    }
}
