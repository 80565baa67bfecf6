//! The maps of what a run's network learned to see, computed on their own
//! thread: the embedding of every window (input and learned maps, suspects)
//! and the first layer's filters, with progress over a bounded channel and
//! cancellation by a flag. Nothing is written into the run folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::catch_panic;
use crate::explain::ExplainError;
use crate::explain::embedding::{EmbedOptions, EmbedProgress, Embedding, embed_run};
use crate::explain::filters::{LearnedFilters, run_filters};

/// What a map job found.
#[derive(Debug, Clone)]
pub struct LearnedMaps {
    /// Both maps of every window.
    pub embedding: Embedding,
    /// The first layer's filters, or why there are none (an architecture
    /// without a temporal convolution first, a spectrogram input).
    pub filters: Result<LearnedFilters, String>,
}

/// What a map job reports.
#[derive(Debug, Clone)]
pub enum MapEvent {
    /// A step is done. Dropped when the listener is behind.
    Progress(EmbedProgress),
    /// The maps.
    Finished(Box<LearnedMaps>),
    /// It failed: the message names the file or the step.
    Failed(String),
    /// It stopped because it was asked to.
    Cancelled,
}

/// A running map job. Dropping the handle cancels it.
pub struct MapJob {
    /// The run folder being mapped.
    pub run_dir: PathBuf,
    /// Progress, then one of `Finished`, `Failed` or `Cancelled`.
    pub events: Receiver<MapEvent>,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl MapJob {
    /// Maps the run in `run_dir` with `options` on a new thread;
    /// `on_event` is called after each event is queued (to wake a GUI).
    pub fn spawn(
        run_dir: PathBuf,
        options: EmbedOptions,
        on_event: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let (tx, rx) = bounded(64);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let dir = run_dir.clone();
        let handle = std::thread::Builder::new()
            .name("spindle-maps".into())
            .spawn(move || {
                let last = map_run(&dir, &options, &tx, &on_event, &flag);
                let _ = tx.send(last);
                on_event();
            });
        match handle {
            Ok(h) => Self {
                run_dir,
                events: rx,
                cancel,
                handle: Some(h),
            },
            Err(e) => {
                let (tx, rx) = bounded(1);
                let _ = tx.send(MapEvent::Failed(format!(
                    "could not start the map thread: {e}"
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

    /// Asks the job to stop; it ends with `Cancelled` soon after.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// True when the worker thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for MapJob {
    /// A handle that goes away cancels its job (without waiting for it).
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Computes the maps; returns the job's last event.
fn map_run(
    dir: &Path,
    options: &EmbedOptions,
    tx: &Sender<MapEvent>,
    on_event: &(impl Fn() + Send + Sync),
    cancel: &AtomicBool,
) -> MapEvent {
    let mut progress = |p: EmbedProgress| {
        if tx.try_send(MapEvent::Progress(p)).is_ok() {
            on_event();
        }
    };
    let result = catch_panic(Some(dir), "mapping the run's windows", || {
        let embedding = embed_run(dir, options, &mut progress, cancel)?;
        let filters = run_filters(dir, options.device).map_err(|e| e.to_string());
        Ok::<_, ExplainError>(LearnedMaps { embedding, filters })
    });
    match result {
        Ok(Ok(maps)) => MapEvent::Finished(Box::new(maps)),
        Ok(Err(ExplainError::Cancelled)) => MapEvent::Cancelled,
        Ok(Err(e)) => MapEvent::Failed(e.to_string()),
        Err(p) => MapEvent::Failed(p.to_string()),
    }
}
