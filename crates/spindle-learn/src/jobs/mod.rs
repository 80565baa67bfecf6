//! Background services, each a handle with typed events over a bounded
//! channel, a thread of its own and cancel by flag or by dropping the
//! handle: [`TrainJob`] (training, taking [`Command`]s), [`ExplainJob`],
//! [`MapJob`] (the maps of what a network learned to see),
//! [`CvJob`] (cross-validation, fold after fold), [`SweepJob`] (a sweep's
//! tasks run here); and the one-shot work a caller runs on a worker of its
//! own: [`preview()`], [`suggest_labels`], [`SweepTaskRun`]. The GUI and the
//! CLI both drive training through these.

mod cv;
mod explain;
mod guard;
mod maps;
mod preview;
mod run_job;
mod suggest;
mod sweep;
mod train_run;

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::dataset::{Dataset, DatasetConfig, build_dataset_with_roles, load_sources};
use crate::model::ModelSpec;
use crate::train::{
    Command, DataRoles, Event, Failure, FailureStage, OptionsError, Timings, TrainConfig,
    TrainOptions, TrainRequest, timings, train,
};

pub use cv::{CvEvent, CvJob, CvJobSpec};
pub use explain::{ExplainEvent, ExplainJob};
pub use guard::{Panicked, catch_panic, panic_message};
pub use maps::{LearnedMaps, MapEvent, MapJob};
pub use preview::{Preview, preview};
pub use run_job::{RunJob, RunJobEvent};
pub use suggest::{MIN_SUGGESTION_CONFIDENCE, suggest_labels};
pub use sweep::{SweepJob, SweepJobEvent, SweepTaskDone, SweepTaskRun};

/// Events buffered before batch events are dropped (epoch and final events
/// are never dropped: the worker waits for room).
const EVENT_CAPACITY: usize = 256;

/// What to train: data paths and every setting.
#[derive(Debug, Clone)]
pub struct TrainJobSpec {
    /// Training, validation and test recordings, folders or audio folders.
    pub data: DataRoles,
    /// Windows, splits, normalization.
    pub dataset: DatasetConfig,
    /// The architecture.
    pub model: ModelSpec,
    /// Optimizer and loop settings.
    pub train: TrainConfig,
    /// Where to write the run folder.
    pub run_dir: RunFolder,
    /// Fine-tune from this run folder's weights.
    pub init_from: Option<PathBuf>,
}

impl TrainJobSpec {
    /// The job that `options` describe on `data`, writing to `run_dir`;
    /// fails naming the first option that is wrong.
    pub fn from_options(
        data: DataRoles,
        options: &TrainOptions,
        run_dir: Option<PathBuf>,
    ) -> Result<Self, OptionsError> {
        let r = options.resolve()?;
        Ok(Self {
            data,
            dataset: r.dataset,
            model: r.model,
            train: r.train,
            run_dir: run_dir.map_or(RunFolder::None, RunFolder::At),
            init_from: None,
        })
    }

    /// The same job writing to a new run folder in `runs_dir`, named for
    /// `model_name` and the start time, which the job makes on its own
    /// thread (so that a window asking for it never touches the disk).
    #[must_use]
    pub fn in_new_run_folder(self, runs_dir: PathBuf, model_name: String) -> Self {
        Self {
            run_dir: RunFolder::NewIn {
                runs_dir,
                model_name,
            },
            ..self
        }
    }
}

/// Where a training job writes its run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFolder {
    /// Nowhere: the trained model stays in memory.
    None,
    /// This folder, which the caller made.
    At(PathBuf),
    /// A new folder in `runs_dir` ([`crate::runs::create_run_dir`]), made
    /// by the job before it reads any data.
    NewIn {
        /// The runs folder.
        runs_dir: PathBuf,
        /// The model's name, which the folder's name ends with.
        model_name: String,
    },
}

/// Why a command could not reach a training job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The job has ended (finished, failed or cancelled).
    #[error("the training job has already ended")]
    Ended,
    /// The job has not taken its earlier commands yet.
    #[error("the training job is busy; try again in a moment")]
    Busy,
}

/// A running training job. Dropping the handle cancels the job.
pub struct TrainJob {
    /// Progress events; ends with `Finished`, `Failed` or `Cancelled`.
    pub events: Receiver<Event>,
    commands: Sender<Command>,
    handle: Option<JoinHandle<()>>,
}

impl TrainJob {
    /// Loads the data and trains on a new thread. `on_event` is called (on the
    /// worker thread) after each event is queued, e.g. to wake a GUI.
    pub fn spawn(spec: TrainJobSpec, on_event: impl Fn() + Send + Sync + 'static) -> Self {
        let (event_tx, event_rx) = bounded(EVENT_CAPACITY);
        let (command_tx, command_rx) = bounded(16);
        let notify = NotifyingSender {
            inner: event_tx,
            notify: Box::new(on_event),
        };
        let handle = std::thread::Builder::new()
            .name("spindle-train".into())
            .spawn(move || run_job(spec, &notify, &command_rx));
        let handle = match handle {
            Ok(h) => Some(h),
            Err(e) => {
                // The receiver reports the failure like any other.
                let (tx, rx) = bounded(1);
                let _ = tx.send(Event::Failed(Failure::new(
                    FailureStage::Training,
                    format!("could not start the training thread: {e}"),
                )));
                return Self {
                    events: rx,
                    commands: command_tx,
                    handle: None,
                };
            }
        };
        Self {
            events: event_rx,
            commands: command_tx,
            handle,
        }
    }

    /// Sends a command; the job honors it within one batch.
    pub fn send(&self, command: Command) -> Result<(), JobError> {
        self.commands.try_send(command).map_err(|e| match e {
            TrainSendError::Full(_) => JobError::Busy,
            TrainSendError::Disconnected(_) => JobError::Ended,
        })
    }

    /// True when the worker thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the worker thread to end.
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

type TrainSendError = TrySendError<Command>;

impl Drop for TrainJob {
    /// A handle that goes away cancels its job (without waiting for it).
    fn drop(&mut self) {
        if self.handle.as_ref().is_some_and(|h| !h.is_finished()) {
            let _ = self.commands.try_send(Command::Cancel);
        }
    }
}

/// Forwards events and calls a wake-up function after each.
struct NotifyingSender {
    inner: Sender<Event>,
    notify: Box<dyn Fn() + Send + Sync>,
}

fn run_job(spec: TrainJobSpec, events: &NotifyingSender, commands: &Receiver<Command>) {
    relay(events, |tx| prepare_and_train(spec, tx, commands));
}

/// Runs `work` with a sender whose events reach `events`, and ends with
/// `Event::Failed` when `work` fails or panics.
fn relay(events: &NotifyingSender, work: impl FnOnce(&Sender<Event>) -> Result<(), Failure>) {
    // A relay channel lets the trainer use a plain Sender while every event
    // still wakes the listener.
    let (tx, rx) = bounded::<Event>(EVENT_CAPACITY);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for e in rx.iter() {
                let important = !matches!(e, Event::Batch { .. });
                if important {
                    let _ = events.inner.send(e);
                } else {
                    let _ = events.inner.try_send(e);
                }
                (events.notify)();
            }
        });
        // A panic (a bug) ends the job with a failure the listener shows,
        // instead of a thread that vanishes without a last event.
        let result = catch_panic(None, "training", || work(&tx))
            .unwrap_or_else(|p| Err(Failure::new(FailureStage::Training, p.to_string())));
        if let Err(failure) = result {
            let _ = tx.send(Event::Failed(failure));
        }
        drop(tx);
    });
}

/// Loads the data and builds the dataset a job trains on; warnings from
/// reading are pushed onto `warnings`.
fn build_job_dataset(
    spec: &TrainJobSpec,
    warnings: &mut Vec<String>,
    timings: &mut Timings,
) -> Result<(Dataset, DatasetConfig), Failure> {
    let load = |paths: &[PathBuf], warnings: &mut Vec<String>| {
        load_sources(paths, &spec.data.labels, &spec.dataset.channels, warnings)
            .map_err(|e| Failure::new(FailureStage::Loading, e.to_string()))
    };
    let started = Instant::now();
    let train_sources = load(&spec.data.train, warnings)?;
    let validation_sources = load(&spec.data.validation, warnings)?;
    let test_sources = load(&spec.data.test, warnings)?;
    timings.add(timings::LOADING, started.elapsed().as_secs_f64());
    // Whole audio files shorter than the model's reach are padded up to it.
    let config = DatasetConfig {
        min_window_samples: spec.model.min_samples(),
        ..spec.dataset.clone()
    };
    let started = Instant::now();
    let dataset =
        build_dataset_with_roles(train_sources, validation_sources, test_sources, &config)
            .map_err(|e| Failure::new(FailureStage::Dataset, e.to_string()))?;
    let probes = dataset
        .summary
        .normalization
        .as_ref()
        .and_then(|c| c.probe_seconds)
        .unwrap_or(0.0);
    timings.add(
        timings::WINDOWING,
        (started.elapsed().as_secs_f64() - probes).max(0.0),
    );
    if probes > 0.0 {
        timings.add(timings::NORMALIZATION_PROBES, probes);
    }
    Ok((dataset, config))
}

/// Loads the data, builds the dataset and trains. Failures before training
/// are returned; `train` reports its own outcome as events.
fn prepare_and_train(
    spec: TrainJobSpec,
    events: &Sender<Event>,
    commands: &Receiver<Command>,
) -> Result<(), Failure> {
    let run_dir = match &spec.run_dir {
        RunFolder::None => None,
        RunFolder::At(dir) => Some(dir.clone()),
        RunFolder::NewIn {
            runs_dir,
            model_name,
        } => Some(
            crate::runs::create_run_dir(runs_dir, model_name)
                .map_err(|e| Failure::new(FailureStage::Training, e.to_string()))?,
        ),
    };
    let mut warnings = Vec::new();
    let mut timings = Timings::default();
    let built = build_job_dataset(&spec, &mut warnings, &mut timings);
    for w in warnings {
        let _ = events.send(Event::Warning(w));
    }
    let (dataset, config) = built?;
    let request = TrainRequest {
        dataset,
        dataset_config: config,
        model: spec.model,
        config: spec.train,
        run_dir,
        init_from: spec.init_from,
        label_files: spec.data.labels,
        timings,
    };
    let _ = train(request, events, commands);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_panic_in_the_job_ends_it_with_a_failure_event() {
        let (tx, rx) = bounded(EVENT_CAPACITY);
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&wakes);
        let events = NotifyingSender {
            inner: tx,
            notify: Box::new(move || {
                counted.fetch_add(1, Ordering::Relaxed);
            }),
        };
        relay(&events, |tx| {
            let _ = tx.send(Event::Warning("before".into()));
            let windows: Vec<f32> = Vec::new();
            let i = windows.len() + 2;
            let _ = windows[i]; // index out of bounds: a bug
            Ok(())
        });
        drop(events);
        let got: Vec<Event> = rx.iter().collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(&got[0], Event::Warning(w) if w == "before"));
        match &got[1] {
            Event::Failed(f) => {
                assert_eq!(f.stage, FailureStage::Training);
                assert_eq!(
                    f.message,
                    "training stopped on an internal error (a bug in Spindle; please report it with this message): index out of bounds: the len is 0 but the index is 2"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            wakes.load(Ordering::Relaxed),
            2,
            "each event wakes the listener"
        );
    }
}
