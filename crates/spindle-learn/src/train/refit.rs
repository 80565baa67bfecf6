//! Using every training trial: after the first pass has chosen the number of
//! epochs on the validation windows, a fresh network is trained on the
//! training and validation windows together for that many epochs, with the
//! first pass's batch size and learning rates epoch by epoch (so an epoch of
//! the larger set has proportionally more steps, as adding data would give).
//!
//! On a small set the validation split costs a fifth of the data, and the
//! epoch kept on a few dozen validation windows is noise; the refit keeps
//! the honest choice of *how long* to train and gives the model every trial.
//! The number of epochs is the minimum of the validation loss smoothed over
//! five epochs (centred), not of the raw curve: one lucky epoch of a noisy
//! curve does not decide it. The first pass's curves stay in `metrics.csv`
//! and its validation scores in the report (the refit model has seen the
//! validation windows, so they cannot score it).

use candle_core::Device;
use crossbeam_channel::{Receiver, Sender};

use super::trainer::{EpochEnd, Session, Snapshot, snapshot};
use super::{Command, Event, Predictions, TrainConfig, TrainError};
use crate::dataset::{Dataset, SplitData};
use crate::model::ModelSpec;
use spindle_signals::rng::Rng;

/// Largest number of training plus validation windows for which `auto`
/// refits: below it a fifth of the data is worth having and another pass
/// costs little (a set of a few thousand windows trains in minutes on a
/// CPU); above it the validation split is a small share of what the model
/// learns from, and a second pass would double a long run.
pub const REFIT_MAX_WINDOWS: usize = 5_000;

/// Epochs on each side of an epoch in the smoothed validation curve.
const SMOOTH_HALF_WIDTH: usize = 2;

/// Whether the final model is trained again on training plus validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Refit {
    /// Refit when there are validation windows and fewer than
    /// `REFIT_MAX_WINDOWS` training plus validation windows.
    #[default]
    Auto,
    /// Refit whenever there are validation windows.
    On,
    /// Keep the first pass's best epoch (runs made before refitting existed
    /// read as this).
    Off,
}

impl Refit {
    /// Every choice, in menu order.
    pub const ALL: [Refit; 3] = [Refit::Auto, Refit::On, Refit::Off];

    /// `auto`, `on` or `off`.
    pub fn name(self) -> &'static str {
        match self {
            Refit::Auto => "auto",
            Refit::On => "on",
            Refit::Off => "off",
        }
    }

    /// What runs made before this setting existed did.
    pub fn before_refit() -> Self {
        Refit::Off
    }

    /// Whether a run with `n_train` training and `n_validation` validation
    /// windows refits.
    pub fn applies(self, n_train: usize, n_validation: usize) -> bool {
        n_validation > 0
            && match self {
                Refit::Auto => n_train + n_validation < REFIT_MAX_WINDOWS,
                Refit::On => true,
                Refit::Off => false,
            }
    }
}

impl std::fmt::Display for Refit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Refit {
    type Err = String;

    /// One of the [`Refit::name`]s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Refit::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("{s:?} is not one of auto, on, off"))
    }
}

/// What the final model was trained on, when it was refitted (`run.json`'s
/// and `report.json`'s `final_fit`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinalFit {
    /// `train+validation`.
    pub trained_on: String,
    /// Windows the final model was trained on.
    pub windows: usize,
    /// Epochs it was trained for: the minimum of the smoothed validation
    /// loss of the first pass.
    pub epochs: usize,
    /// The first pass's test score (balanced accuracy, or R²) before the
    /// refit, for comparison; `None` without test windows.
    pub split_only_test_score: Option<f64>,
}

/// The 1-based epoch at which the validation loss, averaged over
/// `SMOOTH_HALF_WIDTH` epochs on each side (fewer at the ends), is lowest;
/// `None` for an empty curve. Ties go to the earlier epoch.
pub fn smoothed_best_epoch(losses: &[f64]) -> Option<usize> {
    let n = losses.len();
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(SMOOTH_HALF_WIDTH);
            let hi = (i + SMOOTH_HALF_WIDTH + 1).min(n);
            let window = &losses[lo..hi];
            (i, window.iter().sum::<f64>() / window.len() as f64)
        })
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i + 1)
}

/// The dataset with the validation windows moved into the training split.
pub fn merged_train(ds: &Dataset) -> Dataset {
    let mut all = ds.clone();
    let v = std::mem::take(&mut all.validation);
    let SplitData {
        x,
        y,
        values,
        windows,
    } = v;
    all.train.x.extend(x);
    all.train.y.extend(y);
    all.train.values.extend(values);
    all.train.windows.extend(windows);
    all
}

/// How a refit ended.
pub(super) enum RefitEnd {
    /// The refitted weights and their test predictions.
    Done(Snapshot, Predictions),
    /// A Stop came: keep the first pass's model.
    Stopped,
    /// A Cancel came: keep nothing.
    Cancelled,
}

/// What a refit needs from the first pass.
pub(super) struct RefitPlan<'a> {
    /// The architecture.
    pub spec: &'a ModelSpec,
    /// The first pass's settings (seed, learning rates).
    pub config: &'a TrainConfig,
    /// The first pass's batch size.
    pub batch: usize,
    /// Where to compute.
    pub device: Device,
    /// Epochs to train.
    pub epochs: usize,
}

/// Trains a fresh network (same seed) on `all` (training plus validation
/// windows) as `plan` says, without validation, obeying `commands`.
pub(super) fn refit(
    all: &Dataset,
    plan: RefitPlan<'_>,
    commands: &Receiver<Command>,
    events: &Sender<Event>,
) -> Result<RefitEnd, TrainError> {
    let RefitPlan {
        spec,
        config,
        batch,
        device,
        epochs,
    } = plan;
    let mut session = Session::new(all, spec, config, device, None, events)?;
    session.batch = batch;
    session.quiet_batches = true;
    let mut rng = Rng::new(config.seed ^ 0x5EED);
    let mut order: Vec<usize> = (0..all.train.len()).collect();
    let mut step_total = 0;
    for epoch in 1..=epochs {
        // The first pass's rate at this epoch, so the refit repeats the
        // schedule that was validated.
        let lr = config.schedule.rate(config.lr, epoch - 1, config.epochs);
        session.set_learning_rate(lr);
        rng.shuffle(&mut order);
        match session.train_epoch(epoch, &order, &mut step_total, commands, events)? {
            EpochEnd::Done { .. } => {}
            EpochEnd::Stop => return Ok(RefitEnd::Stopped),
            EpochEnd::Cancel => return Ok(RefitEnd::Cancelled),
        }
    }
    let predictions = session.predict(&all.test)?;
    Ok(RefitEnd::Done(snapshot(&session.varmap)?, predictions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoothed_minimum_ignores_one_lucky_epoch() {
        // Epoch 2 is a dip in a curve that is lowest around epochs 7 to 9.
        let losses = [1.0, 0.5, 0.9, 0.8, 0.7, 0.62, 0.6, 0.61, 0.63, 0.66];
        assert_eq!(smoothed_best_epoch(&losses), Some(8));
        assert_eq!(smoothed_best_epoch(&[]), None);
        assert_eq!(smoothed_best_epoch(&[0.3]), Some(1));
    }

    #[test]
    fn auto_refits_small_sets_with_validation_only() {
        assert!(Refit::Auto.applies(200, 50));
        assert!(!Refit::Auto.applies(200, 0));
        assert!(!Refit::Auto.applies(REFIT_MAX_WINDOWS, 1_000));
        assert!(Refit::On.applies(REFIT_MAX_WINDOWS, 1_000));
        assert!(!Refit::Off.applies(200, 50));
        for r in Refit::ALL {
            assert_eq!(r.name().parse::<Refit>(), Ok(r));
        }
    }
}
