//! Background work: a training job on its own thread, reporting [`Event`]s
//! over a bounded channel and taking [`Command`]s. The GUI and the CLI both
//! drive training through this.

use std::path::PathBuf;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::dataset::{DatasetConfig, build_dataset, load_sources};
use crate::model::ModelSpec;
use crate::train::{Command, Event, TrainConfig, TrainError, TrainRequest, train};

/// Events buffered before batch events are dropped (epoch and final events
/// are never dropped: the worker waits for room).
const EVENT_CAPACITY: usize = 256;

/// What to train: data paths and every setting.
#[derive(Debug, Clone)]
pub struct TrainJobSpec {
    /// Training recordings, folders or audio folders.
    pub data: Vec<PathBuf>,
    /// Test recordings (optional; else a share of the data is held out).
    pub test: Vec<PathBuf>,
    /// Windows, splits, normalization.
    pub dataset: DatasetConfig,
    /// The architecture.
    pub model: ModelSpec,
    /// Optimizer and loop settings.
    pub train: TrainConfig,
    /// Where to write the run folder.
    pub run_dir: Option<PathBuf>,
    /// Fine-tune from this run folder's weights.
    pub init_from: Option<PathBuf>,
}

/// A running training job.
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
            .spawn(move || run_job(spec, &notify, &command_rx))
            .ok();
        Self {
            events: event_rx,
            commands: command_tx,
            handle,
        }
    }

    /// Sends a command; ignored when the job has ended.
    pub fn send(&self, command: Command) {
        let _ = self.commands.try_send(command);
    }

    /// Waits for the worker thread to end.
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Forwards events and calls a wake-up function after each.
struct NotifyingSender {
    inner: Sender<Event>,
    notify: Box<dyn Fn() + Send + Sync>,
}

fn run_job(spec: TrainJobSpec, events: &NotifyingSender, commands: &Receiver<Command>) {
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
        if let Err(message) = prepare_and_train(spec, &tx, commands) {
            let _ = tx.send(Event::Failed(message));
        }
        drop(tx);
    });
}

/// Loads the data, builds the dataset and trains. Failures before training
/// are returned as messages; `train` reports its own outcome as events.
fn prepare_and_train(
    spec: TrainJobSpec,
    events: &Sender<Event>,
    commands: &Receiver<Command>,
) -> Result<(), String> {
    let mut warnings = Vec::new();
    let load = |paths: &[PathBuf], warnings: &mut Vec<String>| {
        load_sources(paths, warnings).map_err(|e| TrainError::from(e).to_string())
    };
    let train_sources = load(&spec.data, &mut warnings)?;
    let test_sources = load(&spec.test, &mut warnings)?;
    for w in warnings {
        let _ = events.send(Event::Warning(w));
    }
    // Whole audio files shorter than the model's reach are padded up to it.
    let config = DatasetConfig {
        min_window_samples: spec.model.min_samples(),
        ..spec.dataset
    };
    let dataset = build_dataset(train_sources, test_sources, &config)
        .map_err(|e| TrainError::from(e).to_string())?;
    let request = TrainRequest {
        dataset,
        dataset_config: config,
        model: spec.model,
        config: spec.train,
        run_dir: spec.run_dir,
        init_from: spec.init_from,
    };
    let _ = train(request, events, commands);
    Ok(())
}
