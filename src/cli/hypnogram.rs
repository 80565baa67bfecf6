//! `spindle hypnogram`: the sleep statistics of a recording's scoring (its
//! labels, a label file, or a run's predictions), and the hypnogram written
//! for other sleep tools (EDF+ or CSV).

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use spindle_learn::train::{DeviceChoice, run_stages};
use spindle_signals::scoring::{
    EpochScoring, HypnogramHeader, SleepStatistics, read_hypnogram_header, read_recording_scoring,
    write_hypnogram_csv, write_hypnogram_edf,
};

/// Arguments of `spindle hypnogram`.
#[derive(Debug, Args)]
pub struct HypnogramArgs {
    /// The scored recording (EDF, BDF, BrainVision, WAV).
    recording: PathBuf,
    /// The scoring to use instead of the recording's own labels: an
    /// events.tsv, an EDF+ hypnogram or a CSV.
    #[arg(long, value_name = "FILE", conflicts_with = "run")]
    labels: Option<PathBuf>,
    /// Score the recording with this sleep run's model instead.
    #[arg(long, value_name = "RUN_DIR")]
    run: Option<PathBuf>,
    /// Epoch length in seconds (default: 30 s when the labels fit it, else
    /// the shortest stage label).
    #[arg(long, value_name = "S")]
    epoch: Option<f64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write the hypnogram: FILE.edf (EDF+, one annotation per epoch as
    /// Sleep-EDF names them) or FILE.csv (one row per epoch).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Where the run's model computes.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// A scoring, where it came from and how it was read.
struct Scored {
    scoring: EpochScoring,
    source: String,
    notes: Vec<String>,
    header: HypnogramHeader,
}

/// Prints the statistics and writes the hypnogram when asked.
pub fn run(args: &HypnogramArgs) -> anyhow::Result<()> {
    let out_kind = match &args.out {
        Some(out) => Some(out_kind(out)?),
        None => None,
    };
    if let Some(s) = args.epoch
        && !(s.is_finite() && s > 0.0)
    {
        bail!("--epoch: {s} is not a positive number of seconds");
    }
    let scored = load(args)?;
    let stats = SleepStatistics::of(&scored.scoring);
    if let (Some(out), Some(kind)) = (&args.out, out_kind) {
        match kind {
            OutKind::Edf => write_hypnogram_edf(out, &scored.scoring, &scored.header)?,
            OutKind::Csv => write_hypnogram_csv(out, &scored.scoring)?,
        }
    }
    if args.json {
        let mut value = serde_json::to_value(&stats)?;
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "recording".into(),
                args.recording.display().to_string().into(),
            );
            map.insert("source".into(), scored.source.clone().into());
            map.insert("notes".into(), scored.notes.clone().into());
            let written = args.out.as_ref().map(|p| p.display().to_string());
            map.insert("written".into(), written.into());
        }
        println!("{}", serde_json::to_string(&value)?);
        return Ok(());
    }
    println!(
        "{}: stages from {}",
        args.recording.display(),
        scored.source
    );
    for note in &scored.notes {
        println!("note: {note}");
    }
    print!("{}", stats.text());
    if let Some(out) = &args.out {
        println!("wrote {} epochs to {}", scored.scoring.len(), out.display());
    }
    Ok(())
}

/// The scoring the arguments ask for.
fn load(args: &HypnogramArgs) -> anyhow::Result<Scored> {
    if let Some(run_dir) = &args.run {
        let header = read_hypnogram_header(&args.recording)?;
        let scoring = run_stages(run_dir, &args.recording, args.device)?;
        return Ok(Scored {
            scoring,
            source: format!("the model of {}", run_dir.display()),
            notes: Vec::new(),
            header,
        });
    }
    let read = read_recording_scoring(&args.recording, args.labels.as_deref(), args.epoch)?;
    Ok(Scored {
        scoring: read.scoring,
        source: read.source.display().to_string(),
        notes: read.labels.notes,
        header: read.header,
    })
}

/// What `--out` writes.
#[derive(Clone, Copy)]
enum OutKind {
    Edf,
    Csv,
}

/// The kind of file `out` names by its extension.
fn out_kind(out: &Path) -> anyhow::Result<OutKind> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("edf") => Ok(OutKind::Edf),
        Some("csv") => Ok(OutKind::Csv),
        _ => bail!(
            "--out: {}: name a .edf (EDF+ hypnogram) or .csv file",
            out.display()
        ),
    }
}
