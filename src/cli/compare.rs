//! `spindle compare`: runs side by side, from sweep folders or any folders
//! holding run folders.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use clap::Args;
use spindle_learn::runs::compare_runs;

/// Arguments of `spindle compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run folders, sweep folders, or folders holding run folders (up to three levels down).
    #[arg(required = true, num_args = 1..)]
    dirs: Vec<PathBuf>,
    /// One JSON object per run, one per line.
    #[arg(long)]
    json: bool,
    /// Best first by this score: a test score (accuracy, balanced_accuracy,
    /// f1_macro, kappa, r2, mse, ...), val_ + a validation score, or seconds.
    #[arg(long, value_name = "METRIC")]
    sort: Option<String>,
}

/// Prints the comparison of the runs found.
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let mut comparison = compare_runs(&args.dirs)?;
    if comparison.runs.is_empty() {
        let names: Vec<String> = args.dirs.iter().map(|d| d.display().to_string()).collect();
        bail!("{}: no run folders found", names.join(", "));
    }
    if let Some(metric) = &args.sort {
        comparison
            .sort_by(metric)
            .map_err(|e| anyhow!("--sort: {e}"))?;
    }
    if args.json {
        print!("{}", comparison.json_lines());
    } else {
        print!("{}", comparison.table());
    }
    Ok(())
}
