//! Command-line front end: `spindle [FILE...]` opens the GUI, subcommands run
//! headless. Errors print one line `error: <file>: <problem>` on stderr and
//! exit with code 2.

mod agree;
mod assets;
mod bench;
mod compare;
mod explain;
mod explain_maps;
mod export;
mod hypnogram;
mod inspect;
mod predict;
mod sweep;
mod synth;
mod train;
mod version;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Spindle: deep learning on EEG and audio recordings.
#[derive(Debug, Parser)]
#[command(
    name = "spindle",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Recordings or folders to open in the app (none: the start screen).
    paths: Vec<PathBuf>,
    /// Compute threads for training (default: all cores headless; all but one in the app, to keep it smooth).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// The runs folder: where the app lists runs and where `spindle train`
    /// without --out writes (default: the platform data folder, e.g.
    /// ~/.local/share/spindle/runs).
    #[arg(long, global = true)]
    runs: Option<PathBuf>,
    /// Print frame-time statistics of the app when its window closes.
    #[arg(long, global = true)]
    frame_stats: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the header, channels, annotations and warnings of recordings.
    Inspect(inspect::InspectArgs),
    /// Train a model on labeled recordings and write a run folder.
    Train(Box<train::TrainArgs>),
    /// Predict labels of recordings with a trained run.
    Predict(predict::PredictArgs),
    /// Explain what a trained run's model relies on: channels, frequency
    /// bands, channel × frequency and time in the window (writes explain.json
    /// into the run folder).
    Explain(explain::ExplainArgs),
    /// Export a trained run: an ONNX model (raw windows in, probabilities
    /// out) or a braindecode state dict.
    Export(export::ExportArgs),
    /// Measure training and reading throughput.
    Bench(bench::BenchArgs),
    /// Write the teaching datasets (EEG as EDF+ with labels, audio as WAV folders).
    Synth(synth::SynthArgs),
    /// Train a grid of settings (and cross-validation folds) here or on a Slurm cluster.
    Sweep(Box<sweep::SweepArgs>),
    /// Compare runs: the settings that differ, the scores, the time.
    Compare(compare::CompareArgs),
    /// Sleep statistics of a recording's scoring (its labels, a label file
    /// or a sleep run's stages); writes the hypnogram as EDF+ or CSV.
    Hypnogram(Box<hypnogram::HypnogramArgs>),
    /// Agreement between two or more scorings of one recording (kappa,
    /// per-stage agreement, confusion matrix; event labels by overlap).
    Agree(agree::AgreeArgs),
    /// Run one task of a sweep.json (what the sweep's runners call).
    #[command(hide = true)]
    SweepTask(sweep::SweepTaskArgs),
    /// Open the app in presentation mode and train the bundled EEG demo at once.
    Demo,
    /// Write the man pages and shell completions (what the packages install).
    #[command(hide = true)]
    GenerateAssets(assets::GenerateAssetsArgs),
}

impl Cli {
    /// Parses the command line, with the version texts of this build
    /// (commit, features, instruction set) in `-V` and `--version`.
    pub fn parse_args() -> Cli {
        let matches = Cli::command()
            .version(version::short())
            .long_version(version::long())
            .get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Exit code for bad input or a failed command.
const FAILURE: u8 = 2;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let gui = matches!(cli.command, None | Some(Command::Demo));
    if !gui {
        die_quietly_on_closed_pipe();
    }
    set_compute_threads(cli.threads, gui);
    if !gui {
        quiet_panics();
    }
    let doing = match &cli.command {
        Some(Command::Inspect(_)) => "spindle inspect",
        Some(Command::Synth(_)) => "spindle synth",
        Some(Command::Bench(_)) => "spindle bench",
        Some(Command::Train(_)) => "spindle train",
        Some(Command::Predict(_)) => "spindle predict",
        Some(Command::Explain(_)) => "spindle explain",
        Some(Command::Sweep(_)) => "spindle sweep",
        Some(Command::Compare(_)) => "spindle compare",
        Some(Command::Export(_)) => "spindle export",
        Some(Command::Hypnogram(_)) => "spindle hypnogram",
        Some(Command::Agree(_)) => "spindle agree",
        Some(Command::SweepTask(_)) => "spindle sweep-task",
        Some(Command::GenerateAssets(_)) => "spindle generate-assets",
        Some(Command::Demo) | None => "the app",
    };
    let result = spindle_learn::jobs::catch_panic(None, doing, || dispatch(cli))
        .unwrap_or_else(|p| Err(anyhow::Error::new(p)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<Reported>().is_none() {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(FAILURE)
        }
    }
}

/// Lets a closed standard output end the command as it ends `cat` or
/// `grep` (`spindle inspect --json *.edf | head` stops at the first lines,
/// with no "Broken pipe" error or panic): Rust ignores SIGPIPE, which turns
/// every later print into an error; the default action restored ends the
/// process quietly instead.
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler
    // code, and signal() may be called from any thread; it is done first
    // thing on the main thread, before the command starts any other.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Keeps a panic's own report (`thread 'main' panicked at ...`) off stderr
/// in headless commands, where the caught panic becomes the one `error:`
/// line; `RUST_BACKTRACE` set brings the full report back for debugging.
fn quiet_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            report(info);
        }
    }));
}

/// Runs the subcommand (or the app).
fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Inspect(args)) => inspect::run(&args),
        Some(Command::Synth(args)) => synth::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Train(args)) => {
            let runs_dir = cli
                .runs
                .clone()
                .unwrap_or_else(spindle_learn::runs::default_runs_dir);
            train::run(&args, &runs_dir)
        }
        Some(Command::Predict(args)) => predict::run(&args),
        Some(Command::Explain(args)) => explain::run(&args),
        Some(Command::Sweep(args)) => sweep::run(&args, cli.threads),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Hypnogram(args)) => hypnogram::run(&args),
        Some(Command::Agree(args)) => agree::run(&args),
        Some(Command::SweepTask(args)) => sweep::run_task(&args),
        Some(Command::GenerateAssets(args)) => assets::run(&args),
        Some(Command::Demo) => open_gui(cli.paths, cli.runs, true, cli.frame_stats),
        None => open_gui(cli.paths, cli.runs, false, cli.frame_stats),
    }
}

#[cfg(feature = "gui")]
fn open_gui(
    paths: Vec<PathBuf>,
    runs_dir: Option<PathBuf>,
    demo: bool,
    frame_stats: bool,
) -> anyhow::Result<()> {
    spindle_app::gui::run(spindle_app::gui::Launch {
        paths,
        runs_dir,
        demo,
        frame_stats,
    })
}

#[cfg(not(feature = "gui"))]
fn open_gui(
    _paths: Vec<PathBuf>,
    _runs_dir: Option<PathBuf>,
    _demo: bool,
    _frame_stats: bool,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "this build has no GUI (built without the `gui` feature); run `spindle --help` for the commands"
    )
}

/// Failures already reported on stderr (one line per file); only the exit code remains.
#[derive(Debug, thiserror::Error)]
#[error("{0} file(s) failed")]
struct Reported(usize);

/// Sets the compute thread count for candle (read once, at its first use).
/// Must run before any other thread starts.
fn set_compute_threads(requested: Option<usize>, gui: bool) {
    let already = std::env::var_os("RAYON_NUM_THREADS").is_some();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = match requested {
        Some(n) => n.max(1),
        None if already => return,
        // The app keeps a core for drawing; headless commands use them all.
        None if gui => cores.saturating_sub(1).max(1),
        None => cores,
    };
    // SAFETY: called from `main` before any thread is spawned, so nothing can
    // read the environment concurrently.
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        std::env::set_var("CANDLE_NUM_THREADS", n.to_string());
    }
}
