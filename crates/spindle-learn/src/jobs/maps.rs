//! The maps of what a run's network learned to see, computed on their own
//! thread (a [`RunJob`]): the embedding of every window (input and learned
//! maps, suspects) and the first layer's filters, with progress over a
//! bounded channel and cancellation by a flag. Nothing is written into the
//! run folder.

use std::path::PathBuf;

use super::run_job::{RunJob, RunJobEvent};
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
pub type MapEvent = RunJobEvent<EmbedProgress, LearnedMaps>;

/// A running map job. Dropping the handle cancels it.
pub type MapJob = RunJob<EmbedProgress, LearnedMaps>;

impl RunJob<EmbedProgress, LearnedMaps> {
    /// Maps the run in `run_dir` with `options` on a new thread;
    /// `on_event` is called after each event is queued (to wake a GUI).
    pub fn spawn(
        run_dir: PathBuf,
        options: EmbedOptions,
        on_event: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        Self::start(
            "spindle-maps",
            "mapping the run's windows",
            run_dir,
            on_event,
            Box::new(move |dir, progress, cancel| {
                let embedding = embed_run(dir, &options, progress, cancel)?;
                let filters = run_filters(dir, options.device).map_err(|e| e.to_string());
                Ok(LearnedMaps { embedding, filters })
            }),
        )
    }
}
