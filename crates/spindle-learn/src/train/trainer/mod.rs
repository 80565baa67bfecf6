//! The training loop.

mod files;
mod init_from;
mod live_map;
mod refit;

pub use refit::merged_train;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{ParamsAdamW, VarMap};
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use spindle_signals::eval::{ClassificationReport, RegressionReport};
use spindle_signals::recording::AUDIO_RATE_HZ;
use spindle_signals::rng::Rng;

use super::adamw::AdamW;
use super::device::device_name;
use super::evaluate::{Predictions, predict_windows};
use super::final_fit::{FinalFit, KeptBy, SmoothedKeeper, smoothed_best_epoch};
use super::loss;
use super::memory;
use super::run_folder::{MetricsLog, RunInfo, RunPaths};
use super::timings::{self as phase, Timings};
use super::{
    Command, EpochMetrics, Event, Outcome, StartInfo, TargetScale, TrainConfig, TrainError,
    select_device,
};
use crate::dataset::augment::{Transform, batch_seed};
use crate::dataset::{Dataset, DatasetConfig, DatasetError, Representation, SplitData};
use crate::model::{self, InputShape, ModelSpec, seeded_var_builder, trainable_vars};
use files::{run_info, write_predictions, write_report};
use init_from::load_matching;

/// Everything one training run needs.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// The windows, already split and normalized.
    pub dataset: Dataset,
    /// The settings the dataset was built with (saved in `run.json`).
    pub dataset_config: DatasetConfig,
    /// The architecture.
    pub model: ModelSpec,
    /// Optimizer and loop settings.
    pub config: TrainConfig,
    /// Where to write the run folder; `None` trains without writing files.
    pub run_dir: Option<PathBuf>,
    /// Start from the weights of this run folder where names and shapes match.
    pub init_from: Option<PathBuf>,
    /// Label files given explicitly (recording -> label file), recorded in
    /// `run.json` so that the run's windows can be rebuilt.
    pub label_files: std::collections::BTreeMap<PathBuf, PathBuf>,
    /// Where the time went before training (loading, windowing, the
    /// normalization probes); the run adds its own phases.
    pub timings: Timings,
}

/// A snapshot of every variable (weights and batch-norm statistics).
pub(super) type Snapshot = HashMap<String, Tensor>;

/// Trains as `req` says, sending progress on `events` and obeying `commands`.
///
/// Returns the outcome (also sent as [`Event::Finished`]); on failure the
/// error is returned and [`Event::Failed`] sent. A run folder, when asked for,
/// is complete when this returns `Ok`.
pub fn train(
    req: TrainRequest,
    events: &Sender<Event>,
    commands: &Receiver<Command>,
) -> Result<Option<Outcome>, TrainError> {
    let requested_batch = req.config.batch_for(req.dataset.train.len());
    let batch = requested_batch.min(req.dataset.train.len()).max(1);
    let device = req.config.device;
    let result = run(req, events, commands).map_err(|e| match e {
        // A GPU allocation that failed: the same advice as the check before
        // training, with half the batch to try.
        TrainError::Compute(c) if memory::is_out_of_memory(&c) => TrainError::OutOfMemory(
            memory::device_ran_out(requested_batch, batch, gpu_name(device)),
        ),
        e => e,
    });
    match &result {
        Ok(Some(outcome)) => {
            let _ = events.send(Event::Finished(Box::new(outcome.clone())));
        }
        Ok(None) => {
            let _ = events.send(Event::Cancelled);
        }
        Err(e) => {
            let _ = events.send(Event::Failed(e.into()));
        }
    }
    result
}

/// The device an out-of-memory error came from (the CPU's allocator aborts
/// instead of returning one).
fn gpu_name(choice: super::DeviceChoice) -> &'static str {
    use super::DeviceChoice as D;
    match choice {
        D::Cuda => "cuda:0",
        D::Metal => "metal:0",
        D::Auto | D::Cpu if candle_core::utils::cuda_is_available() => "cuda:0",
        D::Auto | D::Cpu if candle_core::utils::metal_is_available() => "metal:0",
        D::Auto | D::Cpu => "cpu",
    }
}

fn run(
    req: TrainRequest,
    events: &Sender<Event>,
    commands: &Receiver<Command>,
) -> Result<Option<Outcome>, TrainError> {
    let TrainRequest {
        dataset: mut ds,
        dataset_config,
        model: spec,
        config,
        run_dir,
        init_from,
        label_files,
        timings,
    } = req;
    let device = select_device(config.device)?;
    let built = Instant::now();
    let mut session = Session::new(&ds, &spec, &config, device, init_from.as_deref(), events)?;
    session.timings = timings;
    session
        .timings
        .add(phase::MODEL_BUILD, built.elapsed().as_secs_f64());
    session.announce(&spec, &dataset_config, events)?;
    let writing = Instant::now();
    let paths = run_dir.as_deref().map(RunPaths::new);
    let mut weights_meta = BTreeMap::new();
    let mut run_info_saved = None;
    let mut metrics_log = match &paths {
        Some(p) => {
            std::fs::create_dir_all(&p.dir).map_err(|e| TrainError::run_folder(&p.dir, e))?;
            let summary = &session.summary;
            let mut info = run_info(
                &ds,
                &dataset_config,
                &spec,
                summary,
                &config,
                &session.device,
                events,
            )?
            .with_label_files(&label_files);
            info.target_scale = ds.regression.then_some(session.target);
            info.kept_by = Some(KeptBy::for_validation(!ds.validation.is_empty()));
            info.save(&p.dir)?;
            weights_meta = super::weights_metadata(&info);
            run_info_saved = Some(info);
            Some(MetricsLog::create(&p.metrics_csv())?)
        }
        None => None,
    };
    session
        .timings
        .add(phase::WRITING, writing.elapsed().as_secs_f64());
    let started = Instant::now();
    let Some(progress) = session.train_epochs(
        paths.as_ref(),
        &weights_meta,
        &mut metrics_log,
        commands,
        events,
    )?
    else {
        return Ok(None);
    };
    let refit_epochs = (!progress.user_stopped
        && config.refit.applies(ds.train.len(), ds.validation.len()))
    .then(|| smoothed_best_epoch(&progress.val_losses))
    .flatten();
    let evaluating = Instant::now();
    let (mut outcome, mut test_pred) = session.evaluate_kept(progress, 0.0, run_dir)?;
    let mut timings = std::mem::take(&mut session.timings);
    timings.add(phase::TEST_EVALUATION, evaluating.elapsed().as_secs_f64());
    let refitting = Instant::now();
    if let Some(max_epochs) = refit_epochs {
        let (batch, refit_device, target) = (session.batch, session.device.clone(), session.target);
        // The kept weights (restored by `evaluate_kept`) and how well they
        // fit the training windows: the level the validation windows are
        // trained to.
        let kept = snapshot(&session.varmap)?;
        let from_epoch = outcome.best_epoch;
        let target_loss = session.loss_of(&ds.train, 0..ds.train.len())?;
        let validation_windows = ds.validation.len();
        // The first pass's network is done with; its windows move into the
        // refit's (held once, not twice, for a large set).
        drop(session);
        let all = refit::take_merged(&mut ds);
        let _ = events.send(Event::Note(format!(
            "refit: continuing from epoch {from_epoch}'s weights on all {} training and validation windows until the validation windows fit as well as the training windows (loss {target_loss:.4}), at most {max_epochs} epochs; validation scores are the first pass's",
            all.train.len()
        )));
        let plan = refit::RefitPlan {
            spec: &spec,
            config: &config,
            batch,
            device: refit_device,
            start: (kept, from_epoch),
            max_epochs,
            target_loss,
            validation_windows,
            target,
        };
        match refit::refit(&all, plan, commands, events)? {
            refit::RefitEnd::Done(snap, predictions, run) => {
                let split_only_test_score = outcome
                    .test
                    .as_ref()
                    .map(|t| t.balanced_accuracy)
                    .or_else(|| outcome.test_regression.as_ref().and_then(|r| r.r2));
                (outcome.test, outcome.test_regression) = score_split(&ds, &ds.test, &predictions)?;
                test_pred = predictions;
                let fit = FinalFit {
                    trained_on: "train+validation".into(),
                    windows: all.train.len(),
                    epochs: run.epochs,
                    split_only_test_score,
                    continued_from_epoch: Some(from_epoch),
                    target_loss: Some(target_loss),
                    validation_loss: Some(run.validation_loss),
                };
                if let Some(p) = &paths {
                    super::save_weights(&snap, &weights_meta, &p.weights())?;
                    if let Some(mut info) = run_info_saved.take() {
                        info.final_fit = Some(fit.clone());
                        info.save(&p.dir)?;
                    }
                }
                outcome.final_fit = Some(fit);
            }
            refit::RefitEnd::Stopped => {
                let _ = events.send(Event::Warning(
                    "refit stopped: keeping the first pass's model".into(),
                ));
            }
            refit::RefitEnd::Cancelled => return Ok(None),
        }
    }
    if refit_epochs.is_some() {
        timings.add(phase::REFIT, refitting.elapsed().as_secs_f64());
    }
    outcome.train_seconds = started.elapsed().as_secs_f64();
    if let Some(p) = &paths {
        // The report marks the run complete: everything else is written
        // first. Its own writing is the one thing its timings cannot hold.
        let writing = Instant::now();
        write_predictions(&p.predictions_tsv(), &ds, &test_pred)?;
        timings.add(phase::WRITING, writing.elapsed().as_secs_f64());
        outcome.timings = timings;
        write_report(&p.report_json(), &outcome)?;
    } else {
        outcome.timings = timings;
    }
    Ok(Some(outcome))
}

/// A run being trained: the network with its variables and optimizer, and
/// what every step reads.
pub(super) struct Session<'a> {
    ds: &'a Dataset,
    config: &'a TrainConfig,
    device: Device,
    pub(super) varmap: VarMap,
    net: Box<dyn model::Traced>,
    summary: model::ModelSummary,
    /// The trainable variables, which the optimizer updates.
    vars: Vec<Var>,
    opt: AdamW,
    /// Inverse class frequencies when the loss is weighted by class.
    class_weights: Option<Tensor>,
    /// Windows per step.
    pub(super) batch: usize,
    /// A regression's targets standardized on the training split (identity
    /// for a classifier); predictions are given back in the target's unit.
    pub(super) target: TargetScale,
    /// No `Batch` events (a refit, whose steps the live charts do not show).
    pub(super) quiet_batches: bool,
    /// Where the time went so far.
    pub(super) timings: Timings,
    /// Rows and columns of one window as the model sees it.
    channels: usize,
    samples: usize,
}

/// Where the epochs got to.
struct Progress {
    /// The kept epoch: its number, its validation (or training) loss
    /// (smoothed as `kept_by` says) and its weights.
    best: Option<(usize, f64, Snapshot)>,
    /// The rule that chose it.
    kept_by: KeptBy,
    epochs_run: usize,
    stopped_early: bool,
    /// The validation loss of each epoch run (empty without validation).
    val_losses: Vec<f64>,
    /// A Stop command ended the epochs.
    user_stopped: bool,
}

/// The scores of an epoch on the validation windows.
#[derive(Default)]
struct ValidationScores {
    /// Cross-entropy, or the mean squared error of a regressor.
    loss: Option<f64>,
    /// Classifiers only.
    accuracy: Option<f64>,
    /// Classifiers only.
    balanced_accuracy: Option<f64>,
}

/// How one epoch's training steps ended.
pub(super) enum EpochEnd {
    /// Every step ran: the summed loss, the right answers and the windows seen.
    Done {
        loss_sum: f64,
        correct: usize,
        seen: usize,
    },
    /// A stop came: keep the best epoch so far.
    Stop,
    /// A cancel came: keep nothing.
    Cancel,
}

impl<'a> Session<'a> {
    /// Builds the network (from `init_from`'s weights where they match), its
    /// optimizer and class weights, and checks on the CPU that a step fits
    /// in memory.
    pub(super) fn new(
        ds: &'a Dataset,
        spec: &ModelSpec,
        config: &'a TrainConfig,
        device: Device,
        init_from: Option<&Path>,
        events: &Sender<Event>,
    ) -> Result<Self, TrainError> {
        let channels = ds.input_channels;
        let samples = ds.input_len;
        let n_outputs = if ds.regression { 1 } else { ds.classes.len() };
        let input = InputShape {
            channels,
            samples,
            rate_hz: ds.input_rate_hz,
            n_outputs,
        };
        let varmap = VarMap::new();
        let vb = seeded_var_builder(&varmap, DType::F32, &device, config.seed);
        let (net, summary) = model::build_traced(spec, &input, vb)?;
        model::seed_dropout(config.seed);
        if let Some(from) = init_from {
            // The run started from is checked as any loaded run is: its
            // run.json's claims and its weights file's header, before reading.
            if RunPaths::new(from).run_json().exists() {
                RunInfo::load(from)?;
            }
            super::read_weights_header(&RunPaths::new(from).weights())?;
            let loaded = load_matching(&varmap, &RunPaths::new(from).weights(), &device)?;
            let _ = events.send(Event::Warning(loaded.message(from)));
        }
        let vars: Vec<Var> = trainable_vars(&varmap)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let opt = AdamW::new(
            vars.clone(),
            ParamsAdamW {
                lr: config.lr,
                weight_decay: config.weight_decay,
                ..Default::default()
            },
        )?;
        let class_weights = if config.class_weights && !ds.regression {
            Some(inverse_frequency_weights(
                &ds.train.y,
                ds.classes.len(),
                &device,
            )?)
        } else {
            None
        };
        let batch = config.batch_for(ds.train.len());
        if device.is_cpu() {
            // On a GPU the host's free memory says nothing; candle's own
            // out-of-memory error is turned into the same advice in `train`.
            memory::check_step_fits(
                &summary,
                channels * samples,
                batch,
                ds.train.len(),
                memory::available_memory_bytes(),
                "cpu",
            )
            .map_err(TrainError::OutOfMemory)?;
        }
        Ok(Session {
            ds,
            config,
            device,
            varmap,
            net,
            summary,
            vars,
            opt,
            class_weights,
            batch,
            target: if ds.regression {
                TargetScale::fit(&ds.train.values)
            } else {
                TargetScale::IDENTITY
            },
            quiet_batches: false,
            timings: Timings::default(),
            channels,
            samples,
        })
    }

    /// Sends `Started` and the warnings of the dataset, of the architecture
    /// for these windows and of the augmentation; refuses augmentation of
    /// anything but raw samples.
    fn announce(
        &self,
        spec: &ModelSpec,
        dataset_config: &DatasetConfig,
        events: &Sender<Event>,
    ) -> Result<(), TrainError> {
        let ds = self.ds;
        let start = StartInfo {
            model: self.summary.clone(),
            dataset: ds.summary.clone(),
            classes: ds.classes.clone(),
            n_train: ds.train.len(),
            n_validation: ds.validation.len(),
            n_test: ds.test.len(),
            steps_per_epoch: ds.train.len().div_ceil(self.batch),
            device: device_name(&self.device),
        };
        let _ = events.send(Event::Started(Box::new(start)));
        for w in &ds.summary.warnings {
            let _ = events.send(Event::Warning(w.clone()));
        }
        let facts = model::WindowFacts {
            steps: ds.input_len,
            rate_hz: ds.input_rate_hz,
            audio: ds.input_rate_hz >= AUDIO_RATE_HZ,
        };
        if let Some(advice) = model::architecture_of(spec).and_then(|a| a.advice(&facts)) {
            let _ = events.send(Event::Warning(advice));
        }
        let augmentation = &self.config.augmentation;
        if !augmentation.is_off() && dataset_config.representation != Representation::Raw {
            return Err(TrainError::Dataset(DatasetError::Invalid(
                "augmentation changes raw samples only; train on the raw representation or turn augmentation off"
                    .into(),
            )));
        }
        if let Some(max_shift_hz) = augmentation.transforms.iter().find_map(|t| match t {
            Transform::FrequencyShift { max_shift_hz } => Some(*max_shift_hz),
            _ => None,
        }) && max_shift_hz >= ds.input_rate_hz / 4.0
        {
            let _ = events.send(Event::Warning(format!(
                "frequency shifts of up to {max_shift_hz} Hz are large for data at {} Hz: content moved past 0 Hz or {} Hz folds back",
                ds.input_rate_hz,
                ds.input_rate_hz / 2.0
            )));
        }
        Ok(())
    }

    /// Runs the epochs: training steps, validation, `metrics.csv`, the best
    /// weights kept (and saved into the run folder, with `weights_meta` in
    /// the file's header), early stopping. `None` when cancelled.
    fn train_epochs(
        &mut self,
        paths: Option<&RunPaths>,
        weights_meta: &BTreeMap<String, String>,
        metrics_log: &mut Option<MetricsLog>,
        commands: &Receiver<Command>,
        events: &Sender<Event>,
    ) -> Result<Option<Progress>, TrainError> {
        let config = self.config;
        let kept_by = KeptBy::for_validation(!self.ds.validation.is_empty());
        let mut keeper = SmoothedKeeper::new(kept_by);
        let mut progress = Progress {
            best: None,
            kept_by,
            epochs_run: 0,
            stopped_early: false,
            val_losses: Vec::new(),
            user_stopped: false,
        };
        // Early stopping counts epochs since the raw loss last improved.
        let (mut since_best, mut lowest) = (0, f64::INFINITY);
        // The kept epoch whose weights are in the run folder.
        let mut saved_epoch = None;
        let mut step_total = 0;
        let mut rng = Rng::new(config.seed ^ 0x5EED);
        let mut order: Vec<usize> = (0..self.ds.train.len()).collect();
        self.send_live_map(0, events);
        for epoch in 1..=config.epochs {
            let t_epoch = Instant::now();
            let lr = config.schedule.rate(config.lr, epoch - 1, config.epochs);
            self.opt.set_learning_rate(lr);
            rng.shuffle(&mut order);
            let stepping = Instant::now();
            let end = self.train_epoch(epoch, &order, &mut step_total, commands, events)?;
            self.timings
                .add(phase::TRAINING_STEPS, stepping.elapsed().as_secs_f64());
            let (loss_sum, correct, seen) = match end {
                EpochEnd::Done {
                    loss_sum,
                    correct,
                    seen,
                } => (loss_sum, correct, seen),
                EpochEnd::Stop => {
                    progress.stopped_early = true;
                    progress.user_stopped = true;
                    break;
                }
                EpochEnd::Cancel => return Ok(None),
            };
            progress.epochs_run = epoch;
            let train_loss = loss_sum / seen.max(1) as f64;
            let validating = Instant::now();
            let validation = self.validate()?;
            self.timings
                .add(phase::VALIDATION, validating.elapsed().as_secs_f64());
            let checkpointing = Instant::now();
            let val_loss = validation.loss;
            progress.val_losses.extend(val_loss);
            let metrics = EpochMetrics {
                epoch,
                train_loss,
                train_accuracy: (!self.ds.regression).then(|| correct as f64 / seen.max(1) as f64),
                val_loss,
                val_accuracy: validation.accuracy,
                val_balanced_accuracy: validation.balanced_accuracy,
                lr,
                seconds: t_epoch.elapsed().as_secs_f64(),
            };
            if let Some(log) = metrics_log {
                log.append(&metrics, step_total)?;
            }
            let _ = events.send(Event::Epoch(metrics));
            self.send_live_map(epoch, events);

            let score = val_loss.unwrap_or(train_loss);
            // Every epoch's weights wait until its smoothed loss is known.
            if let Some((kept, value)) = keeper.push(score, snapshot(&self.varmap)?) {
                saved_epoch = self.save_kept(&keeper, paths, weights_meta)?;
                let _ = events.send(Event::NewBest {
                    epoch: kept,
                    val_loss: value,
                });
            }
            self.timings
                .add(phase::CHECKPOINTS, checkpointing.elapsed().as_secs_f64());
            if score < lowest {
                (lowest, since_best) = (score, 0);
            } else {
                since_best += 1;
                if config.patience.is_some_and(|p| since_best >= p) {
                    let _ = events.send(Event::Warning(format!(
                        "early stopping: no better validation loss for {since_best} epochs"
                    )));
                    progress.stopped_early = epoch < config.epochs;
                    break;
                }
            }
        }
        // The last epochs' smoothed losses (their windows cut by the end).
        let before = keeper.kept_epoch();
        progress.best = keeper.finish();
        if let Some((epoch, value, snap)) = &progress.best {
            if Some(*epoch) != before {
                let _ = events.send(Event::NewBest {
                    epoch: *epoch,
                    val_loss: *value,
                });
            }
            if let Some(p) = paths
                && Some(*epoch) != saved_epoch
            {
                super::save_weights(snap, weights_meta, &p.weights())?;
            }
        }
        Ok(Some(progress))
    }

    /// Writes the kept epoch's weights into the run folder (when there is
    /// one); the epoch written.
    fn save_kept(
        &self,
        keeper: &SmoothedKeeper<Snapshot>,
        paths: Option<&RunPaths>,
        weights_meta: &BTreeMap<String, String>,
    ) -> Result<Option<usize>, TrainError> {
        match (paths, keeper.kept()) {
            (Some(p), Some((epoch, _, snap))) => {
                super::save_weights(snap, weights_meta, &p.weights())?;
                Ok(Some(*epoch))
            }
            _ => Ok(None),
        }
    }

    /// The training steps of `epoch` over the windows in `order`, obeying
    /// the commands before each step.
    pub(super) fn train_epoch(
        &mut self,
        epoch: usize,
        order: &[usize],
        step_total: &mut usize,
        commands: &Receiver<Command>,
        events: &Sender<Event>,
    ) -> Result<EpochEnd, TrainError> {
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (step, idx) in order.chunks(self.batch).enumerate() {
            match obey(commands, events) {
                Flow::Continue => {}
                Flow::Stop => return Ok(EpochEnd::Stop),
                Flow::Cancel => return Ok(EpochEnd::Cancel),
            }
            let (loss_value, right) = self.step(epoch, step, idx, *step_total)?;
            correct += right;
            let b = idx.len();
            loss_sum += loss_value * b as f64;
            seen += b;
            *step_total += 1;
            if !self.quiet_batches {
                let _ = events.try_send(Event::Batch {
                    epoch,
                    step: step + 1,
                    loss: loss_value,
                });
            }
        }
        Ok(EpochEnd::Done {
            loss_sum,
            correct,
            seen,
        })
    }

    /// One optimizer step on the training windows `idx` (augmented): the
    /// loss and, for a classifier, how many of them it got right. A loss
    /// that is not finite stops the run with advice.
    fn step(
        &mut self,
        epoch: usize,
        step: usize,
        idx: &[usize],
        step_total: usize,
    ) -> Result<(f64, usize), TrainError> {
        let (ds, config, device) = (self.ds, self.config, &self.device);
        let (channels, samples) = (self.channels, self.samples);
        let per = channels * samples;
        let b = idx.len();
        let mut xb = Vec::with_capacity(b * per);
        for &i in idx {
            xb.extend_from_slice(&ds.train.x[i * per..(i + 1) * per]);
        }
        config.augmentation.apply(
            &mut xb,
            channels,
            samples,
            ds.input_rate_hz,
            batch_seed(config.seed, epoch, step),
        );
        let xb = Tensor::from_vec(xb, (b, channels, samples), device)?;
        let out = self.net.forward_t(&xb, true)?;
        let mut correct = 0;
        let loss = if ds.regression {
            let y: Vec<f32> = idx
                .iter()
                .map(|&i| self.target.standardize(ds.train.values[i]))
                .collect();
            loss::mse(&out, &Tensor::from_vec(y, b, device)?)?
        } else {
            let y: Vec<u32> = idx.iter().map(|&i| ds.train.y[i] as u32).collect();
            let yt = Tensor::from_vec(y, b, device)?;
            let l = loss::cross_entropy(&out, &yt, self.class_weights.as_ref())?;
            let pred = out.argmax(1)?.to_vec1::<u32>()?;
            correct = pred
                .iter()
                .zip(idx)
                .filter(|(p, i)| **p as usize == ds.train.y[**i])
                .count();
            l
        };
        let loss_value = loss.to_scalar::<f32>()? as f64;
        if !loss_value.is_finite() && step_total == 0 {
            // No weight has been updated yet: the learning rate is not the cause.
            return Err(TrainError::Diverged(format!(
                "the training loss was {loss_value} on the first batch, before any weight was updated: \
                 the windows hold values too large to compute with (e.g. recordings in the wrong unit \
                 without normalization); check the data"
            )));
        }
        if !loss_value.is_finite() {
            return Err(TrainError::Diverged(format!(
                "the training loss became {loss_value} at epoch {epoch}, step {}: the model diverged; \
                 try a lower learning rate (e.g. --lr {:.0e}), gradient clipping, or check the data for extreme values",
                step + 1,
                config.lr / 10.0
            )));
        }
        let mut grads = loss.backward()?;
        if let Some(max_norm) = config.grad_clip {
            clip_gradients(&mut grads, &self.vars, max_norm)?;
        }
        self.opt.step(&grads)?;
        // A regression's loss in the target's unit squared, as validation's.
        let loss_value = if ds.regression {
            self.target.unscale_mse(loss_value)
        } else {
            loss_value
        };
        Ok((loss_value, correct))
    }

    /// The scores of the validation windows (none without them).
    fn validate(&self) -> Result<ValidationScores, TrainError> {
        let ds = self.ds;
        let mut scores = ValidationScores::default();
        if ds.validation.is_empty() {
            return Ok(scores);
        }
        let p = self.predict(&ds.validation)?;
        if ds.regression {
            scores.loss = Some(p.mse(&ds.validation.values));
            return Ok(scores);
        }
        let m = spindle_signals::eval::ConfusionMatrix::from_labels(
            &ds.validation.y,
            &p.classes(),
            ds.classes.len(),
        )?;
        scores.loss = Some(p.cross_entropy(&ds.validation.y));
        scores.accuracy = Some(m.accuracy());
        scores.balanced_accuracy = Some(m.balanced_accuracy());
        Ok(scores)
    }

    /// The evaluation-mode loss of windows `range` of `split`:
    /// cross-entropy, or a regression's squared error in its unit squared
    /// (as the validation loss).
    pub(super) fn loss_of(
        &self,
        split: &SplitData,
        range: Range<usize>,
    ) -> Result<f64, TrainError> {
        let per = self.channels * self.samples;
        let p = self.predict_windows(&split.x[range.start * per..range.end * per])?;
        Ok(if self.ds.regression {
            p.mse(&split.values[range])
        } else {
            p.cross_entropy(&split.y[range])
        })
    }

    /// Loads `weights` into the network (a refit's start).
    pub(super) fn restore_weights(&self, weights: &Snapshot) -> Result<(), TrainError> {
        Ok(restore(&self.varmap, weights)?)
    }

    /// Sets the optimizer's learning rate.
    pub(super) fn set_learning_rate(&mut self, lr: f64) {
        self.opt.set_learning_rate(lr);
    }

    /// The network's outputs for the windows of `split` (a regression's in
    /// the target's unit).
    pub(super) fn predict(&self, split: &SplitData) -> Result<Predictions, TrainError> {
        self.predict_windows(&split.x)
    }

    /// The network's outputs for windows laid out `[n, channels, samples]`
    /// in `x` (a regression's in the target's unit).
    fn predict_windows(&self, x: &[f32]) -> Result<Predictions, TrainError> {
        let mut p = predict_windows(
            self.net.as_ref(),
            x,
            self.channels,
            self.samples,
            self.batch,
            &self.device,
        )?;
        self.target.unscale_predictions(&mut p);
        Ok(p)
    }

    /// Restores the kept weights and scores them on the test and validation
    /// windows: the outcome, and the test predictions.
    fn evaluate_kept(
        &self,
        progress: Progress,
        train_seconds: f64,
        run_dir: Option<PathBuf>,
    ) -> Result<(Outcome, Predictions), TrainError> {
        let ds = self.ds;
        let Some((best_epoch, _, snap)) = progress.best else {
            return Err(TrainError::Diverged(
                "training stopped before the first epoch finished; nothing to keep".into(),
            ));
        };
        restore(&self.varmap, &snap)?;
        let mut outcome = Outcome {
            run_dir,
            best_epoch,
            epochs_run: progress.epochs_run,
            stopped_early: progress.stopped_early,
            train_seconds,
            test: None,
            validation: None,
            test_regression: None,
            validation_regression: None,
            normalization: ds.summary.normalization.clone(),
            final_fit: None,
            target_scale: ds.regression.then_some(self.target),
            kept_by: Some(progress.kept_by),
            timings: Timings::default(),
        };
        let test_pred = self.predict(&ds.test)?;
        let val_pred = self.predict(&ds.validation)?;
        (outcome.test, outcome.test_regression) = score_split(ds, &ds.test, &test_pred)?;
        (outcome.validation, outcome.validation_regression) =
            score_split(ds, &ds.validation, &val_pred)?;
        Ok((outcome, test_pred))
    }
}

/// The scores of predictions `p` of the windows of `split`: a
/// classification report, or a regression report (none without windows).
fn score_split(
    ds: &Dataset,
    split: &SplitData,
    p: &Predictions,
) -> Result<(Option<ClassificationReport>, Option<RegressionReport>), TrainError> {
    if ds.regression {
        let pred: Vec<f32> = p.outputs.chunks_exact(p.k.max(1)).map(|r| r[0]).collect();
        return Ok((None, RegressionReport::new(&split.values, &pred).ok()));
    }
    if split.is_empty() {
        return Ok((None, None));
    }
    let report = ClassificationReport::new(
        &ds.classes,
        &split.y,
        &p.classes(),
        Some(&p.probabilities()),
    )?;
    Ok((Some(report), None))
}

/// What the command channel says to do next.
enum Flow {
    Continue,
    Stop,
    Cancel,
}

/// Drains pending commands; while paused, waits for the next one.
fn obey(commands: &Receiver<Command>, events: &Sender<Event>) -> Flow {
    let mut paused = false;
    loop {
        let next = if paused {
            commands.recv().map_err(|_| TryRecvError::Disconnected)
        } else {
            commands.try_recv()
        };
        match next {
            Ok(Command::Pause) => {
                if !paused {
                    paused = true;
                    let _ = events.send(Event::Paused);
                }
            }
            Ok(Command::Resume) => {
                if paused {
                    paused = false;
                    let _ = events.send(Event::Resumed);
                }
            }
            Ok(Command::Stop) => return Flow::Stop,
            Ok(Command::Cancel) => return Flow::Cancel,
            Err(TryRecvError::Empty) => return Flow::Continue,
            // Nobody can send commands any more: a pause could never end.
            Err(TryRecvError::Disconnected) => {
                return if paused { Flow::Stop } else { Flow::Continue };
            }
        }
    }
}

/// Scales all gradients so that their global L2 norm is at most `max_norm`.
fn clip_gradients(
    grads: &mut candle_core::backprop::GradStore,
    vars: &[Var],
    max_norm: f64,
) -> candle_core::Result<()> {
    let mut total = 0.0f64;
    for v in vars {
        if let Some(g) = grads.get(v.as_tensor()) {
            total += sum_of_squares(g)?;
        }
    }
    let norm = total.sqrt();
    if norm > max_norm && norm.is_finite() {
        let scale = max_norm / norm;
        for v in vars {
            if let Some(g) = grads.remove(v.as_tensor()) {
                grads.insert(v.as_tensor(), (g * scale)?);
            }
        }
    }
    Ok(())
}

/// The sum of the squares of `t`'s values: read in place for an f32 CPU
/// tensor (no tensors built: this runs for every variable at every step),
/// else with tensor ops.
fn sum_of_squares(t: &Tensor) -> candle_core::Result<f64> {
    if spindle_kernels::is_cpu_f32(t) && t.is_contiguous() {
        let (storage, layout) = t.storage_and_layout();
        if let (candle_core::Storage::Cpu(candle_core::CpuStorage::F32(values)), Some((a, b))) =
            (&*storage, layout.contiguous_offsets())
        {
            return Ok(values[a..b].iter().map(|&v| (v * v) as f64).sum());
        }
    }
    Ok(t.sqr()?.sum_all()?.to_scalar::<f32>()? as f64)
}

/// Class weights `n / (k * count)` for the classes present.
fn inverse_frequency_weights(
    y: &[usize],
    k: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let mut counts = vec![0usize; k];
    for &c in y {
        if c < k {
            counts[c] += 1;
        }
    }
    let n = y.len() as f32;
    let w: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                n / (k as f32 * c as f32)
            }
        })
        .collect();
    Tensor::from_vec(w, k, device)
}

pub(super) fn snapshot(varmap: &VarMap) -> candle_core::Result<Snapshot> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
    data.iter()
        .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
        .collect()
}

fn restore(varmap: &VarMap, snap: &Snapshot) -> candle_core::Result<()> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
    for (k, v) in data.iter() {
        if let Some(t) = snap.get(k) {
            v.set(t)?;
        }
    }
    Ok(())
}
