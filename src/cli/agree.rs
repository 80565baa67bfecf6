//! `spindle agree`: how well two or more scorings of one recording agree
//! (epoch by epoch for sleep stages, by overlap for event labels), and
//! their consensus.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use spindle_learn::train::{DeviceChoice, run_stages};
use spindle_signals::recording::write_events_tsv;
use spindle_signals::scoring::{
    Consensus, EpochScoring, ScoredLabels, ScoringError, epoch_agreement, events, match_events,
    read_scoring_file,
};

/// Arguments of `spindle agree`.
#[derive(Debug, Args)]
pub struct AgreeArgs {
    /// Scorings of one recording: events.tsv, EDF+ hypnograms, CSV.
    #[arg(required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    /// Add this sleep run's model as one more scorer (needs --recording).
    #[arg(long, value_name = "RUN_DIR", requires = "recording")]
    run: Option<PathBuf>,
    /// The recording the run scores.
    #[arg(long, value_name = "FILE", requires = "run")]
    recording: Option<PathBuf>,
    /// Epoch length in seconds (default: 30 s when the labels fit it, else
    /// the shortest stage label; a CSV of codes only uses it).
    #[arg(long, value_name = "S")]
    epoch: Option<f64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write the consensus of the epoch scorings as an events.tsv (majority
    /// per epoch; ties as `review`, with the columns votes and tied).
    #[arg(long, value_name = "CONSENSUS.tsv")]
    out: Option<PathBuf>,
    /// Where the run's model computes.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Compares the scorings and prints the agreement.
pub fn run(args: &AgreeArgs) -> anyhow::Result<()> {
    if let Some(s) = args.epoch
        && !(s.is_finite() && s > 0.0)
    {
        bail!("--epoch: {s} is not a positive number of seconds");
    }
    let count = args.files.len() + usize::from(args.run.is_some());
    if count < 2 {
        bail!("give at least two scorings: two files, or a file and --run");
    }
    let mut names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let mut read: Vec<ScoredLabels> = Vec::with_capacity(count);
    for file in &args.files {
        read.push(read_scoring_file(file, args.epoch)?);
    }
    let staged = read.iter().filter(|r| r.scoring.is_some()).count();
    if staged == 0 && args.run.is_none() {
        return events_mode(args, &names, &read);
    }
    if let Some(i) = read.iter().position(|r| r.scoring.is_none()) {
        let other = read
            .iter()
            .position(|r| r.scoring.is_some())
            .map_or_else(|| "the run".to_owned(), |k| names[k].clone());
        bail!(
            "{}: holds no sleep-stage labels, while {other} is an epoch scoring",
            names[i]
        );
    }
    let mut scorings: Vec<EpochScoring> = read.iter().filter_map(|r| r.scoring.clone()).collect();
    if let (Some(run_dir), Some(recording)) = (&args.run, &args.recording) {
        scorings.push(run_stages(run_dir, recording, args.device)?);
        names.push(format!("{} (model)", run_dir.display()));
    }
    let refs: Vec<&EpochScoring> = scorings.iter().collect();
    let agreement = epoch_agreement(&refs).map_err(|e| named(&e, &names))?;
    if let Some(out) = &args.out {
        let consensus = Consensus::of(&refs).map_err(|e| named(&e, &names))?;
        write_events_tsv(out, &consensus.to_labels())?;
        if !args.json {
            println!(
                "wrote the consensus of {} epochs ({} ties marked review) to {}",
                consensus.epochs.iter().filter(|e| e.voters > 0).count(),
                consensus.ties(),
                out.display()
            );
        }
    }
    if args.json {
        let mut value = serde_json::to_value(&agreement)?;
        if let Some(map) = value.as_object_mut() {
            map.insert("kind".into(), "epochs".into());
            map.insert("files".into(), names.clone().into());
            map.insert("notes".into(), notes_json(&names, &read));
        }
        println!("{}", serde_json::to_string(&value)?);
        return Ok(());
    }
    print_notes(&names, &read);
    print!("{}", agreement.text(&names));
    Ok(())
}

/// Event labels: every pair of files matched by overlap.
fn events_mode(args: &AgreeArgs, names: &[String], read: &[ScoredLabels]) -> anyhow::Result<()> {
    if args.out.is_some() {
        bail!("--out: a consensus needs epoch scorings; these files hold event labels");
    }
    let mut pairs = Vec::new();
    for i in 0..read.len() {
        for j in i + 1..read.len() {
            pairs.push((i, j, match_events(&read[i].events, &read[j].events)));
        }
    }
    let rule = format!(
        "same class, overlapping by at least {} of the shorter label (a point event: within {} s); each label matched once, largest overlap first; F1 = 2 matched / (2 matched + unmatched in both)",
        events::MIN_OVERLAP,
        events::POINT_TOLERANCE_S
    );
    if args.json {
        let list: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(i, j, a)| {
                serde_json::json!({
                    "first": names[*i],
                    "second": names[*j],
                    "total": a.total,
                    "per_class": a.per_class,
                })
            })
            .collect();
        let value = serde_json::json!({
            "kind": "events",
            "files": names,
            "rule": rule,
            "pairs": list,
        });
        println!("{}", serde_json::to_string(&value)?);
        return Ok(());
    }
    println!("event labels matched: {rule}");
    for (i, j, a) in &pairs {
        print!("{}", a.text(&names[*i], &names[*j]));
    }
    Ok(())
}

/// `e` with the file it is about in front.
fn named(e: &ScoringError, names: &[String]) -> anyhow::Error {
    match e.scorer() {
        Some(k) => anyhow::anyhow!("{}: {e}", names[k]),
        None => anyhow::anyhow!("{}: {e}", names.join(", ")),
    }
}

/// Each file's reading notes, printed `FILE: note`.
fn print_notes(names: &[String], read: &[ScoredLabels]) {
    for (name, r) in names.iter().zip(read) {
        for note in &r.notes {
            println!("note: {name}: {note}");
        }
    }
}

/// The notes by file, for `--json`.
fn notes_json(names: &[String], read: &[ScoredLabels]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(read)
        .filter(|(_, r)| !r.notes.is_empty())
        .map(|(n, r)| (n.clone(), r.notes.clone().into()))
        .collect();
    map.into()
}
