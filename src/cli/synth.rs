//! `spindle synth`: writes the teaching datasets.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use spindle_signals::synth::{SAMPLE_SEED, write_teaching_data};

/// Arguments of `spindle synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Folder to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Seed; the default reproduces the bundled sample_data/ byte for byte.
    #[arg(long, default_value_t = SAMPLE_SEED)]
    seed: u64,
}

/// Writes the datasets and lists the files written.
pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let summary = write_teaching_data(&args.out, args.seed)
        .with_context(|| format!("writing the teaching datasets to {}", args.out.display()))?;
    println!(
        "wrote {} files to {} (seed {})",
        summary.files.len(),
        args.out.display(),
        args.seed
    );
    Ok(())
}
