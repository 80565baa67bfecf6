//! What a watcher of a training job knows so far: the events folded into
//! curves, the best epoch, the state and the time left. The app's charts and
//! progress bar read this; it holds no drawing.

use std::path::PathBuf;

use super::{EpochMetrics, Event, Failure, LiveMap, Outcome, StartInfo};

/// Weight of the newest batch in the smoothed batch loss.
const SMOOTHING: f64 = 0.1;
/// Batch points kept for the chart (older ones are thinned by half).
const MAX_BATCH_POINTS: usize = 4000;

/// Where a job stands.
#[derive(Debug, Clone)]
pub enum JobState {
    /// Reading recordings and building the dataset.
    Preparing,
    /// Training.
    Running,
    /// Held by a Pause command.
    Paused,
    /// Done; the run folder is complete.
    Finished(Box<Outcome>),
    /// Ended with an error.
    Failed(Failure),
    /// Cancelled by the user.
    Cancelled,
}

impl JobState {
    /// True once the job will send nothing more.
    pub fn is_over(&self) -> bool {
        matches!(
            self,
            JobState::Finished(_) | JobState::Failed(_) | JobState::Cancelled
        )
    }
}

/// One optimizer step on the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchPoint {
    /// Position in epochs (e.g. 2.5 is halfway through epoch 3).
    pub epoch_x: f64,
    /// The batch's loss.
    pub loss: f64,
    /// Exponentially smoothed loss up to this batch.
    pub smoothed: f64,
}

/// The curves and state of one training job, built from its events.
#[derive(Debug, Clone)]
pub struct RunHistory {
    /// Where the run is written.
    pub run_dir: Option<PathBuf>,
    /// Epochs asked for.
    pub epochs_planned: usize,
    /// Dataset and model facts, once training starts.
    pub start: Option<Box<StartInfo>>,
    /// Scores of every finished epoch.
    pub epochs: Vec<EpochMetrics>,
    /// Steps, thinned to at most a few thousand points.
    pub batches: Vec<BatchPoint>,
    /// The epoch whose weights are kept so far, and its validation loss.
    pub best: Option<(usize, f64)>,
    /// Warnings the job sent.
    pub warnings: Vec<String>,
    /// Notes the job sent (what it does next, not problems).
    pub notes: Vec<String>,
    /// Where the job stands.
    pub state: JobState,
    /// Seconds spent in finished epochs.
    pub seconds: f64,
    /// The newest map of the validation windows (when the job sends maps).
    pub live_map: Option<Box<LiveMap>>,
}

impl RunHistory {
    /// A history for a job just started.
    pub fn new(run_dir: Option<PathBuf>, epochs_planned: usize) -> Self {
        Self {
            run_dir,
            epochs_planned,
            start: None,
            epochs: Vec::new(),
            batches: Vec::new(),
            best: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            state: JobState::Preparing,
            seconds: 0.0,
            live_map: None,
        }
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Started(info) => {
                self.start = Some(info);
                self.state = JobState::Running;
            }
            Event::Batch { epoch, step, loss } => {
                let steps = self.start.as_ref().map_or(1, |s| s.steps_per_epoch.max(1));
                let smoothed = match self.batches.last() {
                    Some(p) if loss.is_finite() => p.smoothed + SMOOTHING * (loss - p.smoothed),
                    _ => loss,
                };
                self.batches.push(BatchPoint {
                    epoch_x: (epoch - 1) as f64 + step as f64 / steps as f64,
                    loss,
                    smoothed,
                });
                if self.batches.len() > MAX_BATCH_POINTS {
                    // Keep every other point: the chart's shape stays, memory is bounded.
                    let mut i = 0;
                    self.batches.retain(|_| {
                        i += 1;
                        i % 2 == 0
                    });
                }
            }
            Event::Epoch(m) => {
                self.seconds += m.seconds;
                self.epochs.push(m);
            }
            Event::Map(map) => self.live_map = Some(map),
            Event::NewBest { epoch, val_loss } => self.best = Some((epoch, val_loss)),
            Event::Warning(w) => self.warnings.push(w),
            Event::Note(n) => self.notes.push(n),
            Event::Paused => self.state = JobState::Paused,
            Event::Resumed => self.state = JobState::Running,
            Event::Finished(o) => {
                self.best = Some((o.best_epoch, self.best.map_or(f64::NAN, |b| b.1)));
                self.state = JobState::Finished(o);
            }
            Event::Failed(f) => self.state = JobState::Failed(f),
            Event::Cancelled => self.state = JobState::Cancelled,
        }
    }

    /// Share of the planned work done (0..=1), counting steps of the current epoch.
    pub fn progress(&self) -> f64 {
        if matches!(self.state, JobState::Finished(_)) {
            return 1.0;
        }
        let planned = self.epochs_planned.max(1) as f64;
        let x = self.batches.last().map_or(0.0, |b| b.epoch_x);
        (x.max(self.epochs.len() as f64) / planned).clamp(0.0, 1.0)
    }

    /// Seconds left at the pace of the finished epochs (`None` before the first).
    pub fn seconds_left(&self) -> Option<f64> {
        if self.state.is_over() || self.epochs.is_empty() {
            return None;
        }
        let per_epoch = self.seconds / self.epochs.len() as f64;
        let left = self.epochs_planned as f64 - self.batches.last().map_or(0.0, |b| b.epoch_x);
        Some((left.max(0.0) * per_epoch).max(0.0))
    }

    /// The share of the validation set's most common class: the accuracy of
    /// always guessing it (classification only).
    pub fn chance_level(&self) -> Option<f64> {
        let start = self.start.as_ref()?;
        let counts = start
            .dataset
            .counts
            .get(&crate::dataset::SplitName::Validation)?;
        let total: usize = counts.values().sum();
        let max = counts.values().copied().max()?;
        (total > 0 && !start.classes.is_empty()).then(|| max as f64 / total as f64)
    }

    /// What the kept weights are, in one sentence.
    pub fn kept_weights(&self) -> Option<String> {
        let (epoch, loss) = self.best?;
        Some(if loss.is_finite() {
            format!(
                "The weights of epoch {epoch} are kept: its validation loss, averaged with its neighbours' ({loss:.3}), is the lowest so far."
            )
        } else {
            format!(
                "The weights of epoch {epoch} are kept (the lowest validation loss, averaged with its neighbours')."
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::DatasetSummary;
    use crate::model::ModelSummary;

    fn start(steps: usize) -> Event {
        let mut dataset = DatasetSummary::default();
        dataset.counts.insert(
            crate::dataset::SplitName::Validation,
            [("a".to_string(), 30), ("b".to_string(), 10)].into(),
        );
        Event::Started(Box::new(StartInfo {
            model: ModelSummary::new(Vec::new(), 1, 1.0),
            dataset,
            classes: vec!["a".into(), "b".into()],
            n_train: 100,
            n_validation: 40,
            n_test: 40,
            steps_per_epoch: steps,
            device: "cpu".into(),
        }))
    }

    fn epoch(n: usize, loss: f64) -> Event {
        Event::Epoch(EpochMetrics {
            epoch: n,
            train_loss: loss,
            train_accuracy: Some(0.5),
            val_loss: Some(loss),
            val_accuracy: Some(0.6),
            val_balanced_accuracy: Some(0.6),
            lr: 1e-3,
            seconds: 2.0,
        })
    }

    #[test]
    fn events_become_curves_progress_and_time_left() {
        let mut h = RunHistory::new(None, 10);
        assert!(matches!(h.state, JobState::Preparing));
        h.apply(start(4));
        assert!(matches!(h.state, JobState::Running));
        assert_eq!(h.chance_level(), Some(0.75));
        for step in 1..=4 {
            h.apply(Event::Batch {
                epoch: 1,
                step,
                loss: 1.0,
            });
        }
        h.apply(epoch(1, 0.9));
        h.apply(Event::NewBest {
            epoch: 1,
            val_loss: 0.9,
        });
        h.apply(Event::Batch {
            epoch: 2,
            step: 2,
            loss: 0.0,
        });
        assert!((h.progress() - 0.15).abs() < 1e-9, "{}", h.progress());
        // 8.5 epochs left at 2 s each.
        assert_eq!(h.seconds_left(), Some(17.0));
        let last = h.batches[h.batches.len() - 1];
        assert!((last.smoothed - 0.9).abs() < 1e-9, "{last:?}");
        assert!(h.kept_weights().is_some_and(|s| s.contains("epoch 1")));
        h.apply(Event::Paused);
        assert!(matches!(h.state, JobState::Paused));
        h.apply(Event::Cancelled);
        assert!(h.state.is_over());
        assert_eq!(h.seconds_left(), None);
    }

    #[test]
    fn batch_points_stay_bounded() {
        let mut h = RunHistory::new(None, 1000);
        h.apply(start(100));
        for i in 0..20_000 {
            h.apply(Event::Batch {
                epoch: i / 100 + 1,
                step: i % 100 + 1,
                loss: 1.0,
            });
        }
        assert!(h.batches.len() <= MAX_BATCH_POINTS);
        assert!(h.batches.windows(2).all(|w| w[0].epoch_x < w[1].epoch_x));
    }
}
