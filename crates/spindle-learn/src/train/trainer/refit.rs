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

use super::{EpochEnd, Session, Snapshot, snapshot};
use crate::dataset::{Dataset, SplitData};
use crate::model::ModelSpec;
use crate::train::{Command, Event, Predictions, TargetScale, TrainConfig, TrainError};
use spindle_signals::rng::Rng;

/// The dataset with the validation windows moved into the training split.
/// The merged windows are laid out once, at their final size: a large set
/// is then held twice (the first pass's and the merged), never three times.
pub fn merged_train(ds: &Dataset) -> Dataset {
    let mut all = ds.without_windows();
    let (train, validation) = (&ds.train, &ds.validation);
    let mut x = Vec::with_capacity(train.x.len() + validation.x.len());
    x.extend_from_slice(&train.x);
    x.extend_from_slice(&validation.x);
    all.train = SplitData {
        x,
        y: [train.y.as_slice(), &validation.y].concat(),
        values: [train.values.as_slice(), &validation.values].concat(),
        windows: [train.windows.as_slice(), &validation.windows].concat(),
    };
    all.test = ds.test.clone();
    all
}

/// [`merged_train`] for a dataset whose training and validation windows are
/// not needed any more: they are moved out of `ds` (left empty there) rather
/// than copied; the test windows are copied (`ds` keeps them for scoring).
pub(super) fn take_merged(ds: &mut Dataset) -> Dataset {
    let mut all = ds.without_windows();
    let mut train = std::mem::take(&mut ds.train);
    let validation = std::mem::take(&mut ds.validation);
    train.x.reserve_exact(validation.x.len());
    train.x.extend_from_slice(&validation.x);
    drop(validation.x);
    train.y.extend(validation.y);
    train.values.extend(validation.values);
    train.windows.extend(validation.windows);
    all.train = train;
    all.test = ds.test.clone();
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
    /// The first pass's target scale (fitted on the training split, as
    /// `run.json` says), kept for the refit.
    pub target: TargetScale,
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
        target,
    } = plan;
    let mut session = Session::new(all, spec, config, device, None, events)?;
    session.batch = batch;
    session.target = target;
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
