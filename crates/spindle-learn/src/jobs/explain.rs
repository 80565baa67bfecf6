//! An explanation of a run computed on its own thread (a [`RunJob`]):
//! progress over a bounded channel, cancellation by a flag, `explain.json`
//! written into the run folder before the result is reported.

use std::path::PathBuf;

use super::run_job::{RunJob, RunJobEvent};
use crate::explain::{ExplainOptions, ExplainProgress, Explanation, explain_run};

/// What an explanation job reports; `Finished` comes after `explain.json`
/// is saved in the run folder.
pub type ExplainEvent = RunJobEvent<ExplainProgress, Explanation>;

/// A running explanation. Dropping the handle cancels it.
pub type ExplainJob = RunJob<ExplainProgress, Explanation>;

impl RunJob<ExplainProgress, Explanation> {
    /// Explains the run in `run_dir` with `options` on a new thread and
    /// saves the explanation; `on_event` is called after each event is
    /// queued (to wake a GUI).
    pub fn spawn(
        run_dir: PathBuf,
        options: ExplainOptions,
        on_event: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        Self::start(
            "spindle-explain",
            "explaining the run",
            run_dir,
            on_event,
            Box::new(move |dir, progress, cancel| {
                let explanation = explain_run(dir, &options, progress, cancel)?;
                explanation.save(dir)?;
                Ok(explanation)
            }),
        )
    }
}
