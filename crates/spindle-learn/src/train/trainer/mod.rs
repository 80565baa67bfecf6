//! The training loop.

mod refit;

pub use refit::merged_train;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use spindle_signals::eval::{ClassificationReport, RegressionReport};
use spindle_signals::recording::AUDIO_RATE_HZ;
use spindle_signals::rng::Rng;

use super::device::device_name;
use super::evaluate::{Predictions, predict_windows};
use super::final_fit::{FinalFit, smoothed_best_epoch};
use super::loss;
use super::memory;
use super::run_folder::{DataFile, MetricsLog, RunInfo, RunPaths, sha256_file};
use super::{
    Command, EpochMetrics, Event, Outcome, StartInfo, TrainConfig, TrainError, select_device,
};
use crate::dataset::augment::{Transform, batch_seed};
use crate::dataset::{Dataset, DatasetConfig, DatasetError, Representation, SplitData};
use crate::model::{self, InputShape, ModelSpec, seeded_var_builder, trainable_vars};

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
    } = req;
    let device = select_device(config.device)?;
    let mut session = Session::new(&ds, &spec, &config, device, init_from.as_deref(), events)?;
    session.announce(&spec, &dataset_config, events)?;
    let paths = run_dir.as_deref().map(RunPaths::new);
    let mut weights_meta = BTreeMap::new();
    let mut run_info_saved = None;
    let mut metrics_log = match &paths {
        Some(p) => {
            std::fs::create_dir_all(&p.dir).map_err(|e| TrainError::run_folder(&p.dir, e))?;
            let summary = &session.summary;
            let info = run_info(
                &ds,
                &dataset_config,
                &spec,
                summary,
                &config,
                &session.device,
            )?
            .with_label_files(&label_files);
            info.save(&p.dir)?;
            weights_meta = super::weights_metadata(&info);
            run_info_saved = Some(info);
            Some(MetricsLog::create(&p.metrics_csv())?)
        }
        None => None,
    };
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
    let (mut outcome, mut test_pred) = session.evaluate_kept(progress, 0.0, run_dir)?;
    if let Some(epochs) = refit_epochs {
        let (batch, refit_device) = (session.batch, session.device.clone());
        // The first pass's network is done with; its windows move into the
        // refit's (held once, not twice, for a large set).
        drop(session);
        let all = refit::take_merged(&mut ds);
        let _ = events.send(Event::Warning(format!(
            "refit: training a fresh model on all {} training and validation windows for {epochs} epochs (the smoothed validation minimum); validation scores are the first pass's",
            all.train.len()
        )));
        let plan = refit::RefitPlan {
            spec: &spec,
            config: &config,
            batch,
            device: refit_device,
            epochs,
        };
        match refit::refit(&all, plan, commands, events)? {
            refit::RefitEnd::Done(snap, predictions) => {
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
                    epochs,
                    split_only_test_score,
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
    outcome.train_seconds = started.elapsed().as_secs_f64();
    if let Some(p) = &paths {
        // The report marks the run complete: everything else is written first.
        write_predictions(&p.predictions_tsv(), &ds, &test_pred)?;
        write_report(&p.report_json(), &outcome)?;
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
    net: Box<dyn model::Network>,
    summary: model::ModelSummary,
    /// The trainable variables, which the optimizer updates.
    vars: Vec<Var>,
    opt: AdamW,
    /// Inverse class frequencies when the loss is weighted by class.
    class_weights: Option<Tensor>,
    /// Windows per step.
    pub(super) batch: usize,
    /// No `Batch` events (a refit, whose steps the live charts do not show).
    pub(super) quiet_batches: bool,
    /// Rows and columns of one window as the model sees it.
    channels: usize,
    samples: usize,
}

/// Where the epochs got to.
struct Progress {
    /// The kept epoch: its number, its validation (or training) loss and its
    /// weights.
    best: Option<(usize, f64, Snapshot)>,
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
        let (net, summary) = model::build(spec, &input, vb)?;
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
            quiet_batches: false,
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
        let mut progress = Progress {
            best: None,
            epochs_run: 0,
            stopped_early: false,
            val_losses: Vec::new(),
            user_stopped: false,
        };
        let mut since_best = 0;
        let mut step_total = 0;
        let mut rng = Rng::new(config.seed ^ 0x5EED);
        let mut order: Vec<usize> = (0..self.ds.train.len()).collect();
        for epoch in 1..=config.epochs {
            let t_epoch = Instant::now();
            let lr = config.schedule.rate(config.lr, epoch - 1, config.epochs);
            self.opt.set_learning_rate(lr);
            rng.shuffle(&mut order);
            let (loss_sum, correct, seen) =
                match self.train_epoch(epoch, &order, &mut step_total, commands, events)? {
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
            let validation = self.validate()?;
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

            let score = val_loss.unwrap_or(train_loss);
            if progress.best.as_ref().is_none_or(|(_, b, _)| score < *b) {
                let snap = snapshot(&self.varmap)?;
                if let Some(p) = paths {
                    super::save_weights(&snap, weights_meta, &p.weights())?;
                }
                progress.best = Some((epoch, score, snap));
                since_best = 0;
                let _ = events.send(Event::NewBest {
                    epoch,
                    val_loss: score,
                });
            } else {
                since_best += 1;
                if config.patience.is_some_and(|p| since_best >= p) {
                    let _ = events.send(Event::Warning(format!(
                        "early stopping: no better validation loss for {since_best} epochs; keeping epoch {}",
                        progress.best.as_ref().map_or(0, |b| b.0)
                    )));
                    progress.stopped_early = epoch < config.epochs;
                    break;
                }
            }
        }
        Ok(Some(progress))
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
            let y: Vec<f32> = idx.iter().map(|&i| ds.train.values[i]).collect();
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
                 the windows or the labels hold values too large to compute with (e.g. regression targets \
                 far from 1, or recordings in the wrong unit); check the data, or scale the targets"
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

    /// Sets the optimizer's learning rate.
    pub(super) fn set_learning_rate(&mut self, lr: f64) {
        self.opt.set_learning_rate(lr);
    }

    /// The network's outputs for the windows of `split`.
    pub(super) fn predict(&self, split: &SplitData) -> Result<Predictions, TrainError> {
        Ok(predict_windows(
            self.net.as_ref(),
            &split.x,
            self.channels,
            self.samples,
            self.batch,
            &self.device,
        )?)
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
            total += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
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

/// Copies into `varmap` every tensor of the safetensors file whose name and
/// shape match; returns (copied, total in the map).
fn load_matching(varmap: &VarMap, path: &Path, device: &Device) -> Result<Loaded, TrainError> {
    let tensors = candle_core::safetensors::load(path, device)
        .map_err(|e| TrainError::run_folder(path, e))?;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| TrainError::run_folder(path, "variable map lock poisoned"))?;
    let mut loaded = Loaded {
        copied: 0,
        total: data.len(),
        reinitialized: Vec::new(),
    };
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let Some(var) = data.get(name) else { continue };
        match tensors.get(name) {
            Some(t) if t.dims() == var.dims() => {
                var.set(t)?;
                loaded.copied += 1;
            }
            Some(t) => loaded.reinitialized.push(format!(
                "{name} ({:?} here, {:?} in the run)",
                var.dims(),
                t.dims()
            )),
            None => loaded
                .reinitialized
                .push(format!("{name} (not in the run)")),
        }
    }
    Ok(loaded)
}

/// What [`load_matching`] took from a run's weights.
struct Loaded {
    /// Tensors copied.
    copied: usize,
    /// Tensors of the new network.
    total: usize,
    /// The new network's tensors left as freshly initialized, each with why.
    reinitialized: Vec<String>,
}

impl Loaded {
    /// The warning that says what fine-tuning from `from` kept.
    fn message(&self, from: &Path) -> String {
        let mut m = format!(
            "fine-tuning: started from {} of {} tensors of {}",
            self.copied,
            self.total,
            from.display()
        );
        if !self.reinitialized.is_empty() {
            m.push_str(&format!(
                "; re-initialized (they do not fit the new data): {}",
                self.reinitialized.join(", ")
            ));
        }
        m
    }
}

fn run_info(
    ds: &Dataset,
    dataset_config: &DatasetConfig,
    spec: &ModelSpec,
    summary: &model::ModelSummary,
    config: &TrainConfig,
    device: &Device,
) -> Result<RunInfo, TrainError> {
    let data = ds
        .files
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(DataFile {
                path: p.clone(),
                role: if i < ds.train_files {
                    "train"
                } else if i < ds.train_files + ds.validation_files {
                    "validation"
                } else {
                    "test"
                }
                .into(),
                sha256: sha256_file(p)?,
                labels: None,
            })
        })
        .collect::<Result<Vec<_>, TrainError>>()?;
    let versions = [
        ("spindle".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("candle".to_string(), "0.11.1".to_string()),
    ]
    .into_iter()
    .collect();
    Ok(RunInfo {
        spindle_version: env!("CARGO_PKG_VERSION").into(),
        data,
        dataset_config: dataset_config.clone(),
        channels: ds.channels.clone(),
        rate_hz: ds.rate_hz,
        window_len: ds.window_len,
        stride_len: ds.stride_len,
        input_channels: ds.input_channels,
        input_len: ds.input_len,
        input_rate_hz: ds.input_rate_hz,
        normalization_mode: ds.normalization,
        classes: ds.classes.clone(),
        regression: ds.regression,
        whole_file: ds.whole_file,
        normalization: ds.stats.clone(),
        model: spec.clone(),
        model_summary: summary.clone(),
        train: config.clone(),
        device: device_name(device),
        split: ds.summary.clone(),
        versions,
        input_unit: ds.input_unit.clone(),
        final_fit: None,
    })
}

/// `report.json`: test and validation scores, best epoch, training time.
fn write_report(path: &Path, o: &Outcome) -> Result<(), TrainError> {
    let value = if o.test_regression.is_some() || o.validation_regression.is_some() {
        serde_json::json!({
            "test": o.test_regression,
            "validation": o.validation_regression,
            "best_epoch": o.best_epoch,
            "epochs_run": o.epochs_run,
            "stopped_early": o.stopped_early,
            "train_seconds": o.train_seconds,
            "normalization": o.normalization,
            "final_fit": o.final_fit,
        })
    } else {
        serde_json::json!({
            "test": o.test,
            "validation": o.validation,
            "best_epoch": o.best_epoch,
            "epochs_run": o.epochs_run,
            "stopped_early": o.stopped_early,
            "train_seconds": o.train_seconds,
            "normalization": o.normalization,
            "final_fit": o.final_fit,
        })
    };
    let text = serde_json::to_string_pretty(&value).map_err(|e| TrainError::run_folder(path, e))?;
    spindle_signals::recording::write_atomic(path, text.as_bytes())
        .map_err(|e| TrainError::run_folder(path, e))
}

/// `predictions.tsv`: one row per test window.
fn write_predictions(path: &Path, ds: &Dataset, p: &Predictions) -> Result<(), TrainError> {
    use std::fmt::Write as _;
    let mut s = String::from("file\tonset\tduration\ttrue\tpredicted");
    let duration = ds.window_len as f64 / ds.rate_hz;
    if ds.regression {
        s.push('\n');
        for (i, w) in ds.test.windows.iter().enumerate() {
            let pred = p.outputs.get(i * p.k).copied().unwrap_or(f32::NAN);
            let _ = writeln!(
                s,
                "{}\t{:.3}\t{duration:.3}\t{}\t{pred}",
                ds.files[w.source].display(),
                w.onset_s,
                w.class
            );
        }
    } else {
        for c in &ds.classes {
            let _ = write!(s, "\tp_{c}");
        }
        s.push('\n');
        let probs = p.probabilities();
        let classes = p.classes();
        for (i, w) in ds.test.windows.iter().enumerate() {
            let _ = write!(
                s,
                "{}\t{:.3}\t{duration:.3}\t{}\t{}",
                ds.files[w.source].display(),
                w.onset_s,
                w.class,
                ds.classes[classes[i]]
            );
            for q in &probs[i] {
                let _ = write!(s, "\t{q:.4}");
            }
            s.push('\n');
        }
    }
    spindle_signals::recording::write_atomic(path, s.as_bytes())
        .map_err(|e| TrainError::run_folder(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_tuning_names_the_tensors_that_do_not_fit() {
        let dev = Device::Cpu;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("model.safetensors");
        let saved: HashMap<String, Tensor> = [
            (
                "conv.weight",
                Tensor::ones((4, 2), DType::F32, &dev).unwrap(),
            ),
            (
                "head.weight",
                Tensor::ones((3, 4), DType::F32, &dev).unwrap(),
            ),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), t))
        .collect();
        candle_core::safetensors::save(&saved, &path).unwrap();
        let varmap = VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        vb.get((4, 2), "conv.weight").unwrap();
        vb.get((2, 4), "head.weight").unwrap();
        vb.get(2, "head.bias").unwrap();
        let loaded = load_matching(&varmap, &path, &dev).unwrap();
        assert_eq!((loaded.copied, loaded.total), (1, 3));
        let m = loaded.message(Path::new("old-run"));
        assert!(
            m.starts_with("fine-tuning: started from 1 of 3 tensors of old-run"),
            "{m}"
        );
        assert!(m.contains("head.bias (not in the run)"), "{m}");
        assert!(
            m.contains("head.weight ([2, 4] here, [3, 4] in the run)"),
            "{m}"
        );
        assert!(!m.contains("conv.weight"), "{m}");
    }
}
