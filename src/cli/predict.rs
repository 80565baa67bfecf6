//! `spindle predict`: a saved run applied to new recordings.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use spindle_learn::train::{
    DeviceChoice, PREDICT_CHUNK_WINDOWS, PredictedWindow, load_run, predict_file,
    predict_file_in_chunks,
};
use spindle_signals::recording::{Label, LabelSet, write_atomic, write_events_tsv};

/// Arguments of `spindle predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run folder written by `spindle train` (or the app).
    #[arg(long)]
    run: PathBuf,
    /// Recordings to predict.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write an events.tsv of predicted labels (needs --out and one file);
    /// consecutive windows of one class become one event.
    #[arg(long)]
    events: bool,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Predicts each file and writes the table (or the events file).
pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    if args.events && (args.out.is_none() || args.files.len() != 1) {
        bail!("--events writes one events.tsv: give exactly one recording and --out FILE");
    }
    let run = load_run(&args.run, args.device)?;
    let mut table = String::from("file\tonset\tduration\ttrial_type");
    for c in &run.info.classes {
        let _ = write!(table, "\tp_{c}");
    }
    table.push('\n');
    for file in &args.files {
        if args.events {
            let windows = predict_file(&run, file)?;
            let out = args.out.as_deref().unwrap_or(file);
            let merged = merge_runs(&windows);
            write_events_tsv(out, &merged)?;
            println!(
                "wrote {} predicted events to {}",
                merged.len(),
                out.display()
            );
            return Ok(());
        }
        // A chunk of windows at a time: a long recording is never held whole.
        predict_file_in_chunks(&run, file, PREDICT_CHUNK_WINDOWS, |chunk| {
            for w in chunk {
                write_row(&mut table, file, w);
            }
            if args.out.is_none() {
                print!("{table}");
                table.clear();
            }
            Ok(())
        })?;
    }
    match &args.out {
        Some(out) => write_atomic(out, table.as_bytes())?,
        None => print!("{table}"),
    }
    Ok(())
}

/// One row of the table: file, onset, duration, label, then the class
/// probabilities.
fn write_row(table: &mut String, file: &std::path::Path, w: &PredictedWindow) {
    let _ = write!(
        table,
        "{}\t{:.3}\t{:.3}\t{}",
        file.display(),
        w.onset_s,
        w.duration_s,
        w.label
    );
    for p in &w.probabilities {
        let _ = write!(table, "\t{p:.4}");
    }
    table.push('\n');
}

/// One label per run of back-to-back windows predicted as the same class.
fn merge_runs(windows: &[PredictedWindow]) -> LabelSet {
    let mut labels: Vec<Label> = Vec::new();
    for w in windows {
        match labels.last_mut() {
            Some(last)
                if last.trial_type == w.label
                    && (last.onset_s + last.duration_s - w.onset_s).abs() < 1e-6 =>
            {
                last.duration_s += w.duration_s;
            }
            _ => labels.push(Label::new(w.onset_s, w.duration_s, w.label.clone())),
        }
    }
    LabelSet::new(labels)
}
