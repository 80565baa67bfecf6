//! Using every training trial: after the first pass has chosen its epoch
//! on the validation windows, the network goes on training from the kept
//! weights on the training and validation windows together, with the first
//! pass's batch size and the learning rate of the kept epoch, until the
//! validation windows fit as well as the training windows did: their loss
//! falls to the training windows' loss under the kept weights (at least one
//! epoch, at most as many as the first pass kept). This is the second of
//! the two ways Goodfellow, Bengio and Courville give for using the
//! validation data once early stopping has chosen (Deep Learning, 2016,
//! section 7.8, algorithm 7.3); the first, a fresh network trained on
//! everything for the chosen number of epochs, was this module's rule
//! before, and took as long again as the first pass.
//!
//! On a small set the validation split costs a fifth of the data, and the
//! epoch kept on a few dozen validation windows is noise; the refit keeps
//! the honest choice of *how long* to train and gives the model every
//! trial. The kept epoch is the minimum of the validation loss smoothed over
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
    /// The refitted weights, their test predictions, and how it went.
    Done(Snapshot, Predictions, RefitRun),
    /// A Stop came: keep the first pass's model.
    Stopped,
    /// A Cancel came: keep nothing.
    Cancelled,
}

/// How long a finished refit trained, and how well the validation windows
/// fit at its end.
pub(super) struct RefitRun {
    /// Epochs trained.
    pub epochs: usize,
    /// The validation windows' loss after the last epoch.
    pub validation_loss: f64,
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
    /// The kept weights, and the epoch they come from.
    pub start: (Snapshot, usize),
    /// At most this many epochs (the first pass's kept epoch count).
    pub max_epochs: usize,
    /// The loss the validation windows are to reach: the training windows'
    /// under the kept weights.
    pub target_loss: f64,
    /// How many of the merged training windows, at its end, are the
    /// validation windows.
    pub validation_windows: usize,
    /// The first pass's target scale (fitted on the training split, as
    /// `run.json` says), kept for the refit.
    pub target: TargetScale,
}

/// Trains on from the kept weights on `all` (training plus validation
/// windows, the validation ones last) as `plan` says, obeying `commands`.
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
        start: (weights, from_epoch),
        max_epochs,
        target_loss,
        validation_windows,
        target,
    } = plan;
    let mut session = Session::new(all, spec, config, device, None, events)?;
    session.restore_weights(&weights)?;
    drop(weights);
    session.batch = batch;
    session.target = target;
    session.quiet_batches = true;
    // The kept epoch's rate: the schedule's later, lower rates belong to
    // epochs the validation curve did not choose.
    session.set_learning_rate(
        config
            .schedule
            .rate(config.lr, from_epoch - 1, config.epochs),
    );
    let validation = all.train.len() - validation_windows..all.train.len();
    let mut rng = Rng::new(config.seed ^ 0x5EED);
    let mut order: Vec<usize> = (0..all.train.len()).collect();
    let mut step_total = 0;
    let mut run = RefitRun {
        epochs: 0,
        validation_loss: f64::INFINITY,
    };
    while run.epochs < max_epochs.max(1) {
        rng.shuffle(&mut order);
        match session.train_epoch(run.epochs + 1, &order, &mut step_total, commands, events)? {
            EpochEnd::Done { .. } => {}
            EpochEnd::Stop => return Ok(RefitEnd::Stopped),
            EpochEnd::Cancel => return Ok(RefitEnd::Cancelled),
        }
        run.epochs += 1;
        run.validation_loss = session.loss_of(&all.train, validation.clone())?;
        if run.validation_loss <= target_loss {
            break;
        }
    }
    let predictions = session.predict(&all.test)?;
    Ok(RefitEnd::Done(snapshot(&session.varmap)?, predictions, run))
}
