//! `spindle train`: a dataset from labeled recordings, a model, a run folder.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spindle::jobs::{TrainJob, TrainJobSpec};
use spindle::model::architectures;
use spindle::train::{DataRoles, Event, Outcome, TrainOptions};

/// Arguments of `spindle train`.
#[derive(Debug, Args)]
#[command(after_help = model_help())]
pub struct TrainArgs {
    /// Training data: recordings (EDF, BDF, .vhdr, WAV), folders of them, or
    /// labeled audio folders (`root/<class>/*.wav`).
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Validation recordings, which choose the epoch to keep (default: hold out a share of --data).
    #[arg(long, num_args = 1..)]
    validation: Vec<PathBuf>,
    /// Test recordings, scored once at the end (default: hold out a share of --data).
    #[arg(long, num_args = 1..)]
    test: Vec<PathBuf>,
    /// Folder for the run (created; files in it are replaced). Default: a new
    /// folder in the runs folder (see --runs), where the app lists it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Start from the weights of a previous run where shapes match.
    #[arg(long)]
    init: Option<PathBuf>,
    #[command(flatten)]
    options: TrainOptions,
}

/// The models and their settings, for `spindle train --help`.
fn model_help() -> String {
    use std::fmt::Write as _;
    let mut s = String::from("Models (--model NAME, settings with --model-param KEY=VALUE):\n");
    for a in architectures() {
        let _ = writeln!(
            s,
            "  {:<8} {} ({}): {}",
            a.name,
            a.title,
            a.family.as_str(),
            a.description
        );
        let keys: Vec<String> = a
            .params
            .iter()
            .map(|p| format!("{} [{}-{}]", p.key, p.min, p.max))
            .collect();
        let _ = writeln!(s, "           settings: {}", keys.join(", "));
    }
    s
}

/// Trains and prints progress, then the test scores.
pub fn run(args: &TrainArgs, runs_dir: &Path) -> anyhow::Result<()> {
    let out = match &args.out {
        Some(out) => out.clone(),
        None => spindle::runs::create_run_dir(runs_dir, &args.options.model)?,
    };
    let data = DataRoles {
        train: args.data.clone(),
        validation: args.validation.clone(),
        test: args.test.clone(),
    };
    let mut spec = TrainJobSpec::from_options(data, &args.options, Some(out.clone()))?;
    spec.init_from = args.init.clone();
    let model_name = &args.options.model;
    let epochs = args.options.epochs;
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
                    model_name,
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
                    let b = ProgressBar::new((steps_per_epoch * epochs) as u64);
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
            Event::Failed(f) => failure = Some(f.message),
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
    print_outcome(&o, &out);
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
