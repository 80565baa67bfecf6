//! `spindle train`: a dataset from labeled recordings, a model, a run folder.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spindle_learn::dataset::CvScheme;
use spindle_learn::jobs::{CvEvent, CvJob, CvJobSpec, TrainJob, TrainJobSpec};
use spindle_learn::model::architectures;
use spindle_learn::train::{DataRoles, Event, Outcome, TrainOptions};

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
    /// Cross-validate: K folds (whole recordings when --data has at least K,
    /// else contiguous blocks of each class's trials), or `loso` (leave one
    /// subject out, by the BIDS sub- part of the file names). Each fold is a
    /// run folder --out/fold-N; --out/cv.json holds the scores per fold with
    /// mean and standard deviation.
    #[arg(long, value_name = "K|loso")]
    cv: Option<CvScheme>,
    /// Label files, one per --data recording in the same order: EDF+ files
    /// of annotations alone (hypnograms), events.tsv or CSV tables. Without
    /// it, a recording's labels are its events.tsv, else a label file beside
    /// it that pairs by name (SC4001EC-Hypnogram.edf for SC4001E0-PSG.edf,
    /// X-Hypnogram.edf for X.edf), else its own annotations.
    #[arg(long, num_args = 1..)]
    labels: Vec<PathBuf>,
    #[command(flatten)]
    options: TrainOptions,
}

/// `--labels` paired with the `--data` files, checked.
fn explicit_labels(args: &TrainArgs) -> anyhow::Result<BTreeMap<PathBuf, PathBuf>> {
    if args.labels.is_empty() {
        return Ok(BTreeMap::new());
    }
    if args.labels.len() != args.data.len() {
        bail!(
            "--labels: {} label file(s) for {} --data recording(s); give one per recording, in the same order",
            args.labels.len(),
            args.data.len()
        );
    }
    if let Some(dir) = args.data.iter().find(|p| p.is_dir()) {
        bail!(
            "--labels: {} is a folder; --labels pairs with recording files only",
            dir.display()
        );
    }
    Ok(args
        .data
        .iter()
        .cloned()
        .zip(args.labels.iter().cloned())
        .collect())
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

/// Trains and prints progress, then the test scores; with `--cv`, one run
/// per fold and the cross-validated scores.
pub fn run(args: &TrainArgs, runs_dir: &Path) -> anyhow::Result<()> {
    if let Some(scheme) = args.cv {
        return run_cv(args, scheme, runs_dir);
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => spindle_learn::runs::create_run_dir(runs_dir, &args.options.model)?,
    };
    let data = DataRoles {
        train: args.data.clone(),
        validation: args.validation.clone(),
        test: args.test.clone(),
        labels: explicit_labels(args)?,
    };
    let mut spec = TrainJobSpec::from_options(data, &args.options, Some(out.clone()))?;
    spec.init_from = args.init.clone();
    let o = train_one(spec, &args.options)?;
    print_outcome(&o, &out);
    Ok(())
}

/// Cross-validation: the folds of `scheme` over `--data`, each trained as an
/// ordinary run in `DIR/fold-N` by the library's [`CvJob`], then
/// `DIR/cv.json` and a table of the scores.
fn run_cv(args: &TrainArgs, scheme: CvScheme, runs_dir: &Path) -> anyhow::Result<()> {
    if !args.test.is_empty() {
        bail!("--test: cannot be combined with --cv; each fold's test set comes from --data");
    }
    // Bad options are reported before any data is read or folder made.
    TrainJobSpec::from_options(DataRoles::default(), &args.options, None)?;
    let labels = explicit_labels(args)?;
    let (out, made_here) = match &args.out {
        Some(out) => (out.clone(), false),
        None => (
            spindle_learn::runs::create_run_dir(
                runs_dir,
                &format!("{}-cv{scheme}", args.options.model),
            )?,
            true,
        ),
    };
    let spec = CvJobSpec {
        data: DataRoles {
            train: args.data.clone(),
            validation: args.validation.clone(),
            test: Vec::new(),
            labels,
        },
        options: args.options.clone(),
        scheme,
        out: out.clone(),
        init_from: args.init.clone(),
        new_folder: None,
    };
    let job = CvJob::spawn(spec, || {});
    let mut folds = 0;
    let mut progress = Progress::new(&args.options);
    let mut last = None;
    for event in job.events.iter() {
        match event {
            CvEvent::Planned { folds: n, .. } => folds = n,
            CvEvent::FoldStarted { fold, .. } => {
                eprintln!(
                    "fold {}/{folds}: {}",
                    fold.number,
                    match (&fold.subject, fold.test_trials.len()) {
                        (Some(subject), _) => format!("subject {subject}"),
                        (None, 0) => format!("{} test recording(s)", fold.test_files.len()),
                        (None, t) => format!("{t} test trials"),
                    }
                );
                progress = Progress::new(&args.options);
            }
            CvEvent::Training { event, .. } => progress.show(*event),
            CvEvent::FoldFinished {
                run_dir, outcome, ..
            } => {
                progress.finish();
                print_outcome(&outcome, &run_dir);
            }
            end => last = Some(end),
        }
    }
    progress.finish();
    job.join();
    match last {
        Some(CvEvent::Finished { summary, path }) => {
            println!();
            print!("{}", summary.table());
            println!("{}", summary.advice);
            println!("cross-validation: {}", path.display());
            Ok(())
        }
        Some(CvEvent::Failed(message)) => {
            if made_here && folds == 0 {
                // Nothing is left behind for bad input: the folder is still empty.
                let _ = std::fs::remove_dir(&out);
            }
            bail!("{message}")
        }
        Some(CvEvent::Cancelled) => bail!("cross-validation was cancelled"),
        _ => bail!("cross-validation ended without a result"),
    }
}

/// Runs one training job to its end, printing its progress on stderr.
pub(super) fn train_one(spec: TrainJobSpec, options: &TrainOptions) -> anyhow::Result<Outcome> {
    let job = TrainJob::spawn(spec, || {});
    let mut progress = Progress::new(options);
    let mut outcome: Option<Outcome> = None;
    let mut failure: Option<String> = None;
    for event in job.events.iter() {
        match &event {
            Event::Finished(o) => outcome = Some((**o).clone()),
            Event::Failed(f) => failure = Some(f.message.clone()),
            Event::Cancelled => failure = Some("training was cancelled".into()),
            _ => {}
        }
        progress.show(event);
    }
    progress.finish();
    job.join();
    if let Some(message) = failure {
        bail!("{message}");
    }
    outcome.ok_or_else(|| anyhow!("training ended without a result"))
}

/// A training run's progress on stderr: what is trained, a bar on a
/// terminal, a line per epoch and each warning.
pub(super) struct Progress {
    model_name: String,
    epochs: usize,
    terminal: bool,
    bar: Option<ProgressBar>,
    steps_per_epoch: usize,
}

impl Progress {
    /// The progress of a run with `options`.
    pub(super) fn new(options: &TrainOptions) -> Self {
        Self {
            model_name: options.model.clone(),
            epochs: options.epochs,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            steps_per_epoch: 1,
        }
    }

    /// Shows one training event.
    pub(super) fn show(&mut self, event: Event) {
        match event {
            Event::Started(info) => self.started(&info),
            Event::Batch { epoch, step, loss } => {
                if let Some(b) = &self.bar {
                    b.set_position(((epoch - 1) * self.steps_per_epoch + step) as u64);
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
                self.line(line);
            }
            Event::Warning(w) => self.line(format!("warning: {w}")),
            Event::Note(n) => self.line(format!("note: {n}")),
            Event::NewBest { .. }
            | Event::Map(_)
            | Event::Paused
            | Event::Resumed
            | Event::Finished(_)
            | Event::Failed(_)
            | Event::Cancelled => {}
        }
    }

    fn started(&mut self, info: &spindle_learn::train::StartInfo) {
        self.steps_per_epoch = info.steps_per_epoch.max(1);
        eprintln!(
            "{}: {} parameters on {}; windows: {} train, {} validation, {} test; classes: {}",
            self.model_name,
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
        if self.terminal {
            let b = ProgressBar::new((self.steps_per_epoch * self.epochs) as u64);
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(b);
        }
    }

    fn line(&self, line: String) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Clears the bar.
    pub(super) fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// Prints how a run ended: the kept epoch, normalization, test scores, its folder.
pub(super) fn print_outcome(o: &Outcome, out: &std::path::Path) {
    println!(
        "kept epoch {} of {} ({:.1} s of training){}{}",
        o.best_epoch,
        o.epochs_run,
        o.train_seconds,
        if o.stopped_early {
            ", stopped early"
        } else {
            ""
        },
        o.kept_by
            .map(|k| format!("; chosen by {}", k.describe()))
            .unwrap_or_default()
    );
    if let Some(choice) = &o.normalization {
        println!("normalization: {}", choice.reason);
    }
    if let Some(fit) = &o.final_fit {
        println!(
            "final model: {}; validation scores are the first pass's{}",
            fit.describe(),
            fit.split_only_test_score
                .map(|s| format!("; the first pass alone scored {s:.3} on the test windows"))
                .unwrap_or_default()
        );
    }
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
            "test: MSE {:.4}, MAE {:.4} (in the labels' unit), r {}, R² {}, n = {}",
            r.mse,
            r.mae,
            r.r.map_or("-".into(), |v| format!("{v:.3}")),
            r.r2.map_or("-".into(), |v| format!("{v:.3}")),
            r.n
        );
    }
    if let Some(scale) = o.target_scale.filter(|s| !s.is_identity()) {
        println!(
            "targets: learned standardized on the training windows (mean {:.4}, sd {:.4}); predictions and errors are in the labels' unit",
            scale.mean, scale.sd
        );
    }
    if !o.timings.phases.is_empty() {
        println!("where the time went:\n{}", o.timings.table());
    }
    println!("run folder: {}", out.display());
}

/// The model's layers with output shapes and parameter counts, and its receptive field.
fn layer_table(m: &spindle_learn::model::ModelSummary) -> String {
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
    for note in &m.sizing {
        let _ = writeln!(s, "  sized to the data: {note}");
    }
    s
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, ValueEnum};
    use spindle_learn::dataset::Normalization;
    use spindle_learn::train::{
        DeviceChoice, RepresentationChoice, TRAIN_OPTION_FLAGS, TrainOptions,
    };

    /// `spindle train`'s options alone, as clap reads them.
    #[derive(Debug, Parser)]
    struct OptionsLine {
        #[command(flatten)]
        options: TrainOptions,
    }

    fn clap_names<T: ValueEnum>() -> Vec<String> {
        T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect()
    }

    /// The library reads sweep grids without clap
    /// (`TrainOptions::from_args`); both must know the same options and
    /// read every one of them alike.
    #[test]
    fn clap_and_the_library_read_the_training_options_alike() {
        let mut longs: Vec<String> = OptionsLine::command()
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        longs.sort();
        let mut ours: Vec<String> = TRAIN_OPTION_FLAGS.iter().map(|f| f.to_string()).collect();
        ours.sort();
        assert_eq!(longs, ours);
        let lines = [
            "",
            "--model crnn --model-param hidden=32 --model-param=filters=8,8 --epochs 3",
            "--batch=16 --lr 0.01 --weight-decay 0 --schedule step:5:0.5 --patience 4",
            "--class-weights --window 2.5 --stride=1 --classes a,b --classes c",
            "--merge x=y --unlabeled-class rest --representation spectrogram",
            "--normalization zscore --highpass 0.5 --lowpass=40 --notch 50",
            "--channels Fz,Cz --regression --augment shift,noise=0.1 --augment-p 0.3",
            "--channel-types eeg,EOG --channel-types=emg",
            "--channel-types brain",
            "--seed 7 --device cpu --normalization=ems --representation logmel",
            "--lr abc",
            "--epochs 2.5",
            "--schedule wobbly",
            "--representation wavelet",
            "--normalization z",
            "--device tpu",
            "--merge nothing",
            "--lr 0.1 --lr 0.2",
            "--wobble 3",
        ];
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            let by_clap = OptionsLine::try_parse_from(std::iter::once("t").chain(words.clone()))
                .map(|l| l.options);
            let by_library = TrainOptions::from_args(&words);
            match (by_clap, by_library) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{line}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{line}: clap {a:?}, library {b:?}"),
            }
        }
        let names = |all: &[&str]| all.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            clap_names::<Normalization>(),
            names(&Normalization::ALL.map(Normalization::name))
        );
        assert_eq!(
            clap_names::<DeviceChoice>(),
            names(&DeviceChoice::ALL.map(DeviceChoice::name))
        );
        assert_eq!(
            clap_names::<RepresentationChoice>(),
            names(&RepresentationChoice::ALL.map(RepresentationChoice::name))
        );
    }
}
