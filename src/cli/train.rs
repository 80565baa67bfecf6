//! `spindle train`: a dataset from labeled recordings, a model, a run folder.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spindle::dataset::{DatasetConfig, Normalization, Representation};
use spindle::dsp::DisplayFilter;
use spindle::jobs::{TrainJob, TrainJobSpec};
use spindle::model::ModelSpec;
use spindle::train::{DeviceChoice, Event, Outcome, Schedule, TrainConfig};

/// Arguments of `spindle train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data: recordings (EDF, BDF, .vhdr, WAV), folders of them, or
    /// labeled audio folders (`root/<class>/*.wav`).
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Test recordings, scored once at the end (default: hold out a share of --data).
    #[arg(long, num_args = 1..)]
    test: Vec<PathBuf>,
    /// Model: eegnet, shallow, lstm, gru, bilstm, bigru, cnn1d, m5 (cnn1d-audio), mlp.
    #[arg(long)]
    model: String,
    /// Folder for the run (created; files in it are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Passes over the training windows.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Windows per step (default: 8 to 64, so that an epoch has about 25 steps).
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 1e-2)]
    weight_decay: f64,
    /// Learning-rate schedule: constant, cosine, or step:EPOCHS:GAMMA.
    #[arg(long, default_value = "constant")]
    schedule: String,
    /// Stop after this many epochs without a better validation loss.
    #[arg(long)]
    patience: Option<usize>,
    /// Weight the loss by inverse class frequency.
    #[arg(long)]
    class_weights: bool,
    /// Window length in seconds (default: the median labeled segment).
    #[arg(long)]
    window: Option<f64>,
    /// Step between windows in seconds (default: the window length).
    #[arg(long)]
    stride: Option<f64>,
    /// Only these classes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    classes: Vec<String>,
    /// Merge labels: FROM=TO (repeatable).
    #[arg(long = "merge", value_parser = parse_merge)]
    merge: Vec<(String, String)>,
    /// Treat unlabeled time as a class of this name.
    #[arg(long)]
    unlabeled_class: Option<String>,
    /// What the model sees: raw, spectrogram (EEG: 0.5-s frames to 45 Hz), or logmel (audio: 40 bands).
    #[arg(long, default_value = "raw")]
    representation: String,
    /// Standardization: baseline (remove each window's mean, scale by training std), zscore,
    /// ems (exponential moving standardization of whole recordings), or none.
    #[arg(long, default_value = "baseline")]
    normalization: String,
    /// Zero-phase high-pass filter before windowing, Hz.
    #[arg(long)]
    highpass: Option<f32>,
    /// Zero-phase low-pass filter before windowing, Hz.
    #[arg(long)]
    lowpass: Option<f32>,
    /// Zero-phase notch filter before windowing, Hz (mains: 50 or 60).
    #[arg(long)]
    notch: Option<f32>,
    /// Only these channels (comma-separated labels).
    #[arg(long, value_delimiter = ',')]
    channels: Vec<String>,
    /// The labels are numbers: train a regressor (MSE loss) instead of a classifier.
    #[arg(long)]
    regression: bool,
    /// Seed: the same seed repeats a CPU run exactly.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Start from the weights of a previous run where shapes match.
    #[arg(long)]
    init: Option<PathBuf>,
}

fn parse_merge(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .ok_or_else(|| format!("{s:?} is not FROM=TO"))
}

fn parse_schedule(s: &str) -> anyhow::Result<Schedule> {
    Ok(match s {
        "cosine" => Schedule::Cosine,
        "constant" => Schedule::Constant,
        other => {
            let parts: Vec<&str> = other.split(':').collect();
            match parts.as_slice() {
                ["step", every, gamma] => Schedule::Step {
                    every_epochs: every
                        .parse()
                        .context("step schedule: EPOCHS is not a whole number")?,
                    gamma: gamma
                        .parse()
                        .context("step schedule: GAMMA is not a number")?,
                },
                _ => bail!("unknown schedule {other:?}: use cosine, constant or step:EPOCHS:GAMMA"),
            }
        }
    })
}

/// Trains and prints progress, then the test scores.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let Some(model) = ModelSpec::by_name(&args.model) else {
        bail!(
            "unknown model {:?}; choose one of {}",
            args.model,
            ModelSpec::names().join(", ")
        );
    };
    let dataset = DatasetConfig {
        window_s: args.window,
        stride_s: args.stride,
        classes: args.classes.clone(),
        merge: args.merge.iter().cloned().collect::<BTreeMap<_, _>>(),
        unlabeled_class: args.unlabeled_class.clone(),
        channels: args.channels.clone(),
        seed: args.seed,
        regression: args.regression,
        representation: match args.representation.as_str() {
            "raw" => Representation::Raw,
            "spectrogram" => Representation::eeg_spectrogram(),
            "logmel" => Representation::audio_log_mel(),
            other => bail!("unknown representation {other:?}: use raw, spectrogram or logmel"),
        },
        normalization: match args.normalization.as_str() {
            "baseline" => Normalization::Baseline,
            "zscore" => Normalization::ZScore,
            "ems" => Normalization::Ems,
            "none" => Normalization::None,
            other => bail!("unknown normalization {other:?}: use baseline, zscore, ems or none"),
        },
        filter: DisplayFilter {
            highpass_hz: args.highpass,
            lowpass_hz: args.lowpass,
            notch_hz: args.notch,
        },
        ..DatasetConfig::default()
    };
    let train = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch,
        lr: args.lr,
        weight_decay: args.weight_decay,
        schedule: parse_schedule(&args.schedule)?,
        patience: args.patience,
        class_weights: args.class_weights,
        seed: args.seed,
        device: args.device,
        ..TrainConfig::default()
    };
    let spec = TrainJobSpec {
        data: args.data.clone(),
        test: args.test.clone(),
        dataset,
        model,
        train,
        run_dir: Some(args.out.clone()),
        init_from: args.init.clone(),
    };
    let job = TrainJob::spawn(spec, || {});
    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<ProgressBar> = None;
    let mut steps_per_epoch = 1;
    let mut outcome: Option<Outcome> = None;
    let mut failure: Option<String> = None;
    for event in job.events.iter() {
        match event {
            Event::Started(info) => {
                steps_per_epoch = info.steps_per_epoch.max(1);
                eprintln!(
                    "{}: {} parameters on {}; windows: {} train, {} validation, {} test; classes: {}",
                    args.model,
                    info.model.trainable_params,
                    info.device,
                    info.n_train,
                    info.n_validation,
                    info.n_test,
                    if info.classes.is_empty() {
                        "regression".into()
                    } else {
                        info.classes.join(", ")
                    }
                );
                eprintln!(
                    "  validation: {}; test: {}",
                    info.dataset.validation_method, info.dataset.test_method
                );
                eprint!("{}", layer_table(&info.model));
                if terminal {
                    let b = ProgressBar::new((steps_per_epoch * args.epochs) as u64);
                    b.set_style(
                        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar = Some(b);
                }
            }
            Event::Batch { epoch, step, loss } => {
                if let Some(b) = &bar {
                    b.set_position(((epoch - 1) * steps_per_epoch + step) as u64);
                    b.set_message(format!("epoch {epoch} loss {loss:.4}"));
                }
            }
            Event::Epoch(m) => {
                let line = format!(
                    "epoch {:>3}  train loss {:.4}{}  val loss {}{}  lr {:.2e}  {:.1}s",
                    m.epoch,
                    m.train_loss,
                    m.train_accuracy
                        .map_or(String::new(), |a| format!(" acc {a:.3}")),
                    m.val_loss.map_or("-".into(), |l| format!("{l:.4}")),
                    m.val_accuracy
                        .map_or(String::new(), |a| format!(" acc {a:.3}")),
                    m.lr,
                    m.seconds
                );
                match &bar {
                    Some(b) => b.println(line),
                    None => eprintln!("{line}"),
                }
            }
            Event::Warning(w) => match &bar {
                Some(b) => b.println(format!("warning: {w}")),
                None => eprintln!("warning: {w}"),
            },
            Event::NewBest { .. } | Event::Paused | Event::Resumed => {}
            Event::Finished(o) => outcome = Some(*o),
            Event::Failed(message) => failure = Some(message),
            Event::Cancelled => failure = Some("training was cancelled".into()),
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    job.join();
    if let Some(message) = failure {
        bail!("{message}");
    }
    let Some(o) = outcome else {
        bail!("training ended without a result");
    };
    print_outcome(&o, &args.out);
    Ok(())
}

fn print_outcome(o: &Outcome, out: &std::path::Path) {
    println!(
        "kept epoch {} of {} ({:.1} s of training){}",
        o.best_epoch,
        o.epochs_run,
        o.train_seconds,
        if o.stopped_early {
            ", stopped early"
        } else {
            ""
        }
    );
    if let Some(t) = &o.test {
        println!(
            "test: accuracy {:.3} (95% CI {:.3}-{:.3}), balanced accuracy {:.3}, macro F1 {:.3}, kappa {:.3}, n = {}",
            t.accuracy,
            t.accuracy_ci95[0],
            t.accuracy_ci95[1],
            t.balanced_accuracy,
            t.f1_macro,
            t.kappa,
            t.n
        );
        println!("{}", t.verdict);
    }
    if let Some(r) = &o.test_regression {
        println!(
            "test: MSE {:.4}, MAE {:.4}, r {:?}, R2 {:?}, n = {}",
            r.mse, r.mae, r.r, r.r2, r.n
        );
    }
    println!("run folder: {}", out.display());
}

/// The model's layers with output shapes and parameter counts, and its receptive field.
fn layer_table(m: &spindle::model::ModelSummary) -> String {
    use std::fmt::Write as _;
    let width = m
        .layers
        .iter()
        .map(|l| l.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!(
        "  {:<width$}  {:<18} {:>8}\n",
        "layer", "output shape", "params"
    );
    for l in &m.layers {
        let shape = format!("{:?}", l.output_shape);
        let _ = writeln!(s, "  {:<width$}  {:<18} {:>8}", l.name, shape, l.params);
    }
    let _ = writeln!(
        s,
        "  receptive field: {} samples ({:.0} ms)",
        m.receptive_field_samples, m.receptive_field_ms
    );
    s
}
