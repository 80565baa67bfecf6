//! `spindle sweep`: a grid of training options (and cross-validation folds)
//! as tasks in `DIR/sweep.json`, run here (`--local`) or as one Slurm job
//! array (`--slurm`); and `spindle sweep-task`, which runs one task of a
//! `sweep.json` by its index (what the local runner and the batch script call).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use spindle_learn::dataset::CvScheme;
use spindle_learn::jobs::SweepTaskRun;
use spindle_learn::runs::compare_runs;
use spindle_learn::runs::sweep::{
    GridAxis, LocalEvent, LocalRunner, SWEEP_JSON, Sweep, TaskData, TaskStatus, failure_message,
    statuses, submit, tasks_to_run, wait_for_job, write_point_summary, write_sbatch,
};

/// How often `--wait` asks Slurm whether the array has ended.
const WAIT_POLL: Duration = Duration::from_secs(2);

/// Arguments of `spindle sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Training data: recordings, folders of them, or labeled audio folders.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Validation recordings shared by every task (default: held out of --data).
    #[arg(long, num_args = 1..)]
    validation: Vec<PathBuf>,
    /// Test recordings shared by every task (default: held out of --data).
    #[arg(long, num_args = 1..)]
    test: Vec<PathBuf>,
    /// Label files, one per --data recording in the same order (see `spindle train --help`).
    #[arg(long, num_args = 1..)]
    labels: Vec<PathBuf>,
    /// The sweep folder: sweep.json, one run folder per task, logs/.
    /// Running a sweep again into the same folder goes on where it stopped.
    #[arg(long)]
    out: PathBuf,
    /// Cross-validate every setting: K folds or `loso`; each fold is a task.
    #[arg(long, value_name = "K|loso")]
    cv: Option<CvScheme>,
    #[command(flatten)]
    grid: GridArgs,
    /// Run the tasks on this machine.
    #[arg(long, conflicts_with = "slurm")]
    local: bool,
    /// Tasks at a time: with --local, each gets its share of the cores
    /// (default 1, with every core); with --slurm, the array's limit of
    /// tasks running at once (default 16).
    #[arg(long)]
    jobs: Option<usize>,
    /// Submit the tasks to Slurm as one job array (sweep.sbatch).
    #[arg(long)]
    slurm: bool,
    /// Extra arguments for sbatch, split at spaces, e.g. "--partition=gpu --time=02:00:00".
    #[arg(long, requires = "slurm", allow_hyphen_values = true)]
    sbatch_args: Option<String>,
    /// Wait for the array to end; exit with an error if a task failed.
    #[arg(long, requires = "slurm")]
    wait: bool,
    /// Write sweep.sbatch without submitting it (to edit it first).
    #[arg(long, requires = "slurm", conflicts_with = "wait")]
    emit_only: bool,
}

/// The training options of a sweep: comma-separated values expand into a
/// grid of every combination; options not given keep `spindle train`'s
/// defaults.
#[derive(Debug, Args)]
struct GridArgs {
    /// Models, e.g. `mlp,eegnet`.
    #[arg(long, value_delimiter = ',')]
    model: Vec<String>,
    /// Epochs.
    #[arg(long, value_delimiter = ',')]
    epochs: Vec<String>,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',')]
    batch: Vec<String>,
    /// Learning rates, e.g. `1e-3,1e-2`.
    #[arg(long, value_delimiter = ',')]
    lr: Vec<String>,
    /// Weight decays.
    #[arg(long, value_delimiter = ',')]
    weight_decay: Vec<String>,
    /// Schedules: constant, cosine, step:EPOCHS:GAMMA.
    #[arg(long, value_delimiter = ',')]
    schedule: Vec<String>,
    /// Early-stopping patiences.
    #[arg(long, value_delimiter = ',')]
    patience: Vec<String>,
    /// Window lengths, seconds.
    #[arg(long, value_delimiter = ',')]
    window: Vec<String>,
    /// Strides, seconds.
    #[arg(long, value_delimiter = ',')]
    stride: Vec<String>,
    /// Representations: raw, spectrogram, logmel.
    #[arg(long, value_delimiter = ',')]
    representation: Vec<String>,
    /// Normalizations: auto, baseline, zscore, ems, none.
    #[arg(long, value_delimiter = ',')]
    normalization: Vec<String>,
    /// High-pass filters, Hz.
    #[arg(long, value_delimiter = ',')]
    highpass: Vec<String>,
    /// Low-pass filters, Hz.
    #[arg(long, value_delimiter = ',')]
    lowpass: Vec<String>,
    /// Notch filters, Hz.
    #[arg(long, value_delimiter = ',')]
    notch: Vec<String>,
    /// Augmentation probabilities.
    #[arg(long, value_delimiter = ',')]
    augment_p: Vec<String>,
    /// Seeds, e.g. `0,1,2`: repeats of each setting.
    #[arg(long, value_delimiter = ',')]
    seed: Vec<String>,
    /// Devices: auto, cpu, cuda, metal.
    #[arg(long, value_delimiter = ',')]
    device: Vec<String>,
    /// The class of unlabeled time (one value; see `spindle train --help`).
    #[arg(long)]
    unlabeled_class: Option<String>,
    /// A model hyper-parameter KEY=VALUE for every task (repeatable; not expanded).
    #[arg(long = "model-param")]
    model_params: Vec<String>,
    /// Only these classes, comma-separated (one list for every task).
    #[arg(long)]
    classes: Option<String>,
    /// Merge labels FROM=TO (repeatable; every task).
    #[arg(long)]
    merge: Vec<String>,
    /// Only these channels, comma-separated (one list for every task).
    #[arg(long)]
    channels: Option<String>,
    /// Augmentations, comma-separated (one list for every task).
    #[arg(long)]
    augment: Option<String>,
    /// Weight the loss by inverse class frequency (every task).
    #[arg(long)]
    class_weights: bool,
    /// Train regressors (every task).
    #[arg(long)]
    regression: bool,
}

impl GridArgs {
    /// The options with values, in a fixed order, as grid axes.
    fn axes(&self) -> Vec<GridAxis> {
        [
            ("--model", &self.model),
            ("--epochs", &self.epochs),
            ("--batch", &self.batch),
            ("--lr", &self.lr),
            ("--weight-decay", &self.weight_decay),
            ("--schedule", &self.schedule),
            ("--patience", &self.patience),
            ("--window", &self.window),
            ("--stride", &self.stride),
            ("--representation", &self.representation),
            ("--normalization", &self.normalization),
            ("--highpass", &self.highpass),
            ("--lowpass", &self.lowpass),
            ("--notch", &self.notch),
            ("--augment-p", &self.augment_p),
            ("--seed", &self.seed),
            ("--device", &self.device),
        ]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(option, values)| GridAxis {
            option: option.to_string(),
            values: values.iter().map(|v| v.trim().to_string()).collect(),
        })
        .collect()
    }

    /// The options every task shares, as `spindle train` arguments.
    fn fixed(&self) -> Vec<String> {
        let mut a = Vec::new();
        let mut push = |flag: &str, value: &str| a.push(format!("{flag}={value}"));
        for p in &self.model_params {
            push("--model-param", p);
        }
        for m in &self.merge {
            push("--merge", m);
        }
        for (flag, value) in [
            ("--unlabeled-class", &self.unlabeled_class),
            ("--classes", &self.classes),
            ("--channels", &self.channels),
            ("--augment", &self.augment),
        ] {
            if let Some(v) = value {
                push(flag, v);
            }
        }
        if self.class_weights {
            a.push("--class-weights".into());
        }
        if self.regression {
            a.push("--regression".into());
        }
        a
    }
}

/// Plans the sweep (or takes up the one in `--out`), then runs or submits it.
pub fn run(args: &SweepArgs, threads: Option<usize>) -> anyhow::Result<()> {
    if !args.labels.is_empty() && args.labels.len() != args.data.len() {
        bail!(
            "--labels: {} label file(s) for {} --data recording(s); give one per recording, in the same order",
            args.labels.len(),
            args.data.len()
        );
    }
    let data = TaskData {
        train: args.data.clone(),
        validation: args.validation.clone(),
        test: args.test.clone(),
        labels: args
            .data
            .iter()
            .cloned()
            .zip(args.labels.iter().cloned())
            .collect(),
    };
    let planned = Sweep::plan(&data, &args.grid.axes(), &args.grid.fixed(), args.cv)?;
    let dir = &args.out;
    let json = dir.join(SWEEP_JSON);
    let mut sweep = if json.is_file() {
        let existing = Sweep::load(&json)?;
        if !existing.same_work(&planned) {
            bail!(
                "{}: holds a different sweep ({} tasks); give another --out, or remove the folder to start over",
                json.display(),
                existing.tasks.len()
            );
        }
        existing
    } else {
        planned
    };
    sweep.save(dir)?;
    let folds = match sweep.cv {
        Some(_) => format!(" ({} settings x their folds)", sweep.points.len()),
        None => String::new(),
    };
    eprintln!(
        "sweep: {} task(s){folds} in {}",
        sweep.tasks.len(),
        dir.display()
    );
    let exe = std::env::current_exe().context("finding the spindle executable")?;
    if args.local {
        let cores = threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        let runner = LocalRunner::new(exe, args.jobs.unwrap_or(1), cores);
        run_local(dir, &mut sweep, &runner)
    } else if args.slurm {
        run_slurm(args, dir, &mut sweep, &exe)
    } else {
        println!(
            "planned {} task(s) in {}; run them with --local or --slurm",
            sweep.tasks.len(),
            json.display()
        );
        Ok(())
    }
}

fn run_local(dir: &Path, sweep: &mut Sweep, runner: &LocalRunner) -> anyhow::Result<()> {
    eprintln!(
        "running {} task(s) at a time, {} thread(s) each",
        runner.jobs, runner.threads_per_task
    );
    let names: Vec<String> = sweep
        .tasks
        .iter()
        .map(|t| t.run_dir.display().to_string())
        .collect();
    let stop = AtomicBool::new(false);
    let summary = runner.run(dir, sweep, &stop, |event| match event {
        LocalEvent::Skipped { index, status } => {
            eprintln!(
                "task {index} ({}): {} (skipped)",
                names[*index],
                status.label()
            );
        }
        LocalEvent::Started { index } => eprintln!("task {index} ({}): started", names[*index]),
        LocalEvent::Finished { index, status } => {
            eprintln!("task {index} ({}): {}", names[*index], status.label());
        }
    })?;
    eprintln!(
        "{} done, {} failed, {} skipped",
        summary.done, summary.failed, summary.skipped
    );
    finish(dir, sweep)
}

fn run_slurm(args: &SweepArgs, dir: &Path, sweep: &mut Sweep, exe: &Path) -> anyhow::Result<()> {
    let todo = tasks_to_run(dir, sweep);
    if todo.is_empty() {
        eprintln!("every task is done or running; nothing to submit");
        return finish(dir, sweep);
    }
    let script = write_sbatch(dir, &todo, args.jobs.unwrap_or(16))?;
    let extra: Vec<String> = args
        .sbatch_args
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if args.emit_only {
        println!("batch script: {}", script.display());
        println!(
            "submit it from the sweep folder: cd {} && SPINDLE_EXE={} sbatch {}{}",
            dir.display(),
            exe.display(),
            extra.join(" "),
            if extra.is_empty() {
                "sweep.sbatch"
            } else {
                " sweep.sbatch"
            }
        );
        return Ok(());
    }
    let id = submit(dir, exe, &extra)?;
    println!("submitted job {id}: {} task(s)", todo.len());
    if !args.wait {
        return Ok(());
    }
    let mut last = Vec::new();
    wait_for_job(&id, WAIT_POLL, || {
        let counts = counts(&statuses(dir, sweep));
        if counts != last {
            eprintln!("{}", counts.join(", "));
            last = counts;
        }
    })?;
    finish(dir, sweep)
}

/// `N pending, N running, ...` of the statuses.
fn counts(all: &[TaskStatus]) -> Vec<String> {
    [
        TaskStatus::Pending,
        TaskStatus::Running,
        TaskStatus::Done,
        TaskStatus::Failed,
    ]
    .into_iter()
    .map(|s| format!("{} {}", all.iter().filter(|&&x| x == s).count(), s.label()))
    .collect()
}

/// Records the statuses in sweep.json, writes the cross-validation
/// summaries, prints the comparison; fails when a task failed.
fn finish(dir: &Path, sweep: &mut Sweep) -> anyhow::Result<()> {
    let now = statuses(dir, sweep);
    for (t, s) in sweep.tasks.iter_mut().zip(&now) {
        t.status = *s;
    }
    sweep.save(dir)?;
    for point in 0..sweep.points.len() {
        if let Some(path) = write_point_summary(dir, sweep, point)? {
            eprintln!("cross-validation: {}", path.display());
        }
    }
    let comparison = compare_runs(&[dir.to_path_buf()])?;
    print!("{}", comparison.table());
    let failed: Vec<String> = sweep
        .tasks
        .iter()
        .filter_map(|t| Some(format!("task {}: {}", t.index, failure_message(dir, t)?)))
        .collect();
    for f in &failed {
        eprintln!("{f}");
    }
    let not_done = now.iter().filter(|s| **s != TaskStatus::Done).count();
    if not_done > 0 {
        bail!(
            "{}: {} of {} task(s) not done ({} failed); see {}",
            dir.display(),
            not_done,
            now.len(),
            failed.len(),
            dir.join("logs").display()
        );
    }
    Ok(())
}

/// Arguments of `spindle sweep-task` (run by the sweep's runners).
#[derive(Debug, Args)]
pub struct SweepTaskArgs {
    /// The sweep's sweep.json.
    #[arg(long)]
    sweep: PathBuf,
    /// The task's index (the Slurm array task id).
    #[arg(long)]
    index: usize,
}

/// Trains task `--index` of `--sweep` into its run folder (the library's
/// [`SweepTaskRun`]: a failure is recorded in the sweep's logs/), then
/// writes its setting's `cv.json` when it was the last fold.
pub fn run_task(args: &SweepTaskArgs) -> anyhow::Result<()> {
    let task = SweepTaskRun::prepare(&args.sweep, args.index)?;
    eprintln!("task {}: {}", task.task.index, task.run_dir.display());
    let mut progress = super::train::Progress::new(&task.task.options);
    let done = task.run(|event| {
        progress.show(event.clone());
        true
    });
    progress.finish();
    let done = done?;
    super::train::print_outcome(&done.outcome, &done.run_dir);
    if let Some(path) = done.cv_json {
        println!("cross-validation: {}", path.display());
    }
    Ok(())
}
