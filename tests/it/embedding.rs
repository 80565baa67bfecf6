//! `spindle explain --embedding` and `--filters` on generated data whose
//! answer is known: two classes that differ only in one band (a 10 Hz
//! rhythm on every channel in "alpha" trials, broadband noise in both), and
//! one trial in twelve of the training file labeled wrong on purpose. What
//! the network learned must separate the classes far better than its input
//! does, its first-layer filters must lean to 8–13 Hz more than a fresh
//! network's, and the flipped trials must be the ones offered to check.

use std::collections::BTreeSet;
use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use spindle_learn::explain::embedding::{
    EMBEDDING_HEADER, EmbedOptions, Projection, embed_run, silhouette,
};
use spindle_learn::explain::filters::{FILTERS_HEADER, initial_filters, run_filters};
use spindle_learn::model::{InputShape, ModelSpec};
use spindle_learn::train::DeviceChoice;
use spindle_signals::recording::{
    Channel, EdfWriteOptions, Label, LabelSet, Recording, sidecar_path, write_edf, write_events_tsv,
};
use spindle_signals::rng::Rng;

use crate::support::{fails, run_ok, spindle};

const RATE_HZ: f64 = 128.0;
const TRIAL_S: f64 = 2.0;
const CHANNELS: [&str; 3] = ["C3", "Cz", "C4"];

/// `trials` 2-s trials, "alpha" and "rest" in shuffled pairs: noise with a
/// slow drift on every channel, plus a 10 Hz rhythm in "alpha" trials.
/// Every `flip_every`-th trial (0: none) gets the other label; their onsets
/// are returned.
fn write_recording(path: &Path, trials: usize, seed: u64, flip_every: usize) -> BTreeSet<u64> {
    let mut rng = Rng::new(seed);
    let per_trial = (TRIAL_S * RATE_HZ) as usize;
    let mut classes: Vec<&str> = Vec::new();
    while classes.len() < trials {
        let mut pair = ["alpha", "rest"];
        rng.shuffle(&mut pair);
        classes.extend(pair);
    }
    let mut channels: Vec<Vec<f32>> = vec![Vec::new(); CHANNELS.len()];
    for class in &classes {
        let phase = rng.range(0.0, TAU);
        let amplitude = rng.range(8.0, 12.0);
        for (c, samples) in channels.iter_mut().enumerate() {
            for i in 0..per_trial {
                let mut v = 6.0 * rng.normal();
                if *class == "alpha" {
                    let t = i as f64 / RATE_HZ;
                    v += amplitude * (TAU * 10.0 * t + phase + c as f64 * 0.3).sin();
                }
                samples.push(v as f32);
            }
        }
    }
    let mut flipped = BTreeSet::new();
    let labels = LabelSet::new(
        classes
            .iter()
            .enumerate()
            .map(|(t, class)| {
                let flip = flip_every > 0 && t % flip_every == flip_every / 2;
                let class = match (flip, *class) {
                    (false, c) => c,
                    (true, "alpha") => "rest",
                    (true, _) => "alpha",
                };
                if flip {
                    flipped.insert((t as f64 * TRIAL_S * 1000.0) as u64);
                }
                Label::new(t as f64 * TRIAL_S, TRIAL_S, class)
            })
            .collect(),
    );
    let channels = channels
        .into_iter()
        .zip(CHANNELS)
        .map(|(samples, label)| Channel {
            physical_min: -200.0,
            physical_max: 200.0,
            ..Channel::new(label, RATE_HZ, samples)
        })
        .collect();
    let recording = Recording {
        patient: "X X X X".into(),
        ..Recording::from_channels(channels)
    };
    write_edf(path, &recording, &EdfWriteOptions::default()).unwrap();
    write_events_tsv(&sidecar_path(path), &labels).unwrap();
    flipped
}

/// A run of EEGNet trained by the CLI on the generated training file (with
/// its flipped labels) and tested on a clean one.
fn trained_run(dir: &Path) -> (PathBuf, PathBuf, BTreeSet<u64>) {
    let (train, test) = (dir.join("train.edf"), dir.join("test.edf"));
    let flipped = write_recording(&train, 240, 11, 12);
    write_recording(&test, 60, 12, 0);
    let run = dir.join("run");
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(&train)
            .arg("--test")
            .arg(&test)
            .args([
                "--model", "eegnet", "--epochs", "15", "--seed", "3", "--out",
            ])
            .arg(&run),
    );
    (run, train, flipped)
}

/// The TSV's rows as (label, split, input point, learned point).
fn read_embedding(path: &Path) -> Vec<(String, String, [f32; 2], [f32; 2])> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(EMBEDDING_HEADER));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "{line}");
            let num = |i: usize| f[i].parse::<f32>().unwrap();
            (
                f[3].to_string(),
                f[4].to_string(),
                [num(5), num(6)],
                [num(7), num(8)],
            )
        })
        .collect()
}

#[test]
fn what_the_network_learned_separates_the_classes_and_finds_the_flipped_labels() {
    let dir = tempfile::tempdir().unwrap();
    let (run, train, flipped) = trained_run(dir.path());

    // The maps, from the CLI: the learned map separates the classes far
    // better than the input map.
    let out = run_ok(
        spindle()
            .args(["explain", "--embedding", "pca", "--filters", "--run"])
            .arg(&run),
    );
    assert!(out.contains("Silhouette"), "{out}");
    assert!(!run.join("explain.json").exists(), "maps only");
    let rows = read_embedding(&run.join("embedding.tsv"));
    assert_eq!(rows.len(), 300, "every window of every split");
    let splits: BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(splits, BTreeSet::from(["test", "train", "validation"]));
    let labels: Vec<usize> = rows.iter().map(|r| usize::from(r.0 == "alpha")).collect();
    let input: Vec<[f32; 2]> = rows.iter().map(|r| r.2).collect();
    let learned: Vec<[f32; 2]> = rows.iter().map(|r| r.3).collect();
    let (s_in, s_out) = (
        silhouette(&input, &labels).unwrap(),
        silhouette(&learned, &labels).unwrap(),
    );
    eprintln!("silhouette: input {s_in:.3}, learned {s_out:.3}");
    assert!(s_out >= s_in + 0.2, "input {s_in:.3}, learned {s_out:.3}");

    check_flipped_labels_are_suspects(&run, &train, &flipped);
    check_filters_lean_to_the_band(&run);
    check_bad_options(&run);
}

/// The flipped trials are offered to check far more often than the others.
fn check_flipped_labels_are_suspects(run: &Path, train: &Path, flipped: &BTreeSet<u64>) {
    let options = EmbedOptions {
        projection: Projection::Pca,
        data: Vec::new(),
        device: DeviceChoice::Cpu,
    };
    let map = embed_run(run, &options, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    let is_flipped = |i: usize| {
        let w = &map.windows[i];
        w.file == train && flipped.contains(&((w.onset_s * 1000.0).round() as u64))
    };
    let n_flipped = (0..map.windows.len()).filter(|&i| is_flipped(i)).count();
    assert_eq!(n_flipped, flipped.len());
    let caught = map.suspects.iter().filter(|s| is_flipped(s.window)).count();
    let others = map.suspects.len() - caught;
    let flipped_rate = caught as f64 / n_flipped as f64;
    let other_rate = others as f64 / (map.windows.len() - n_flipped) as f64;
    eprintln!(
        "suspects: {caught} of {n_flipped} flipped ({flipped_rate:.2}), {others} others ({other_rate:.3})"
    );
    assert!(flipped_rate >= 0.6, "{flipped_rate}");
    assert!(
        flipped_rate >= 10.0 * other_rate,
        "{flipped_rate} vs {other_rate}"
    );
    // Cancelled before it starts: nothing computed.
    let cancelled = embed_run(run, &options, &mut |_| {}, &AtomicBool::new(true));
    assert!(cancelled.is_err());
}

/// The trained first layer passes 8–13 Hz more than a freshly initialized
/// one; filters.tsv holds every filter.
fn check_filters_lean_to_the_band(run: &Path) {
    let trained = run_filters(run, DeviceChoice::Cpu).unwrap();
    let text = std::fs::read_to_string(run.join("filters.tsv")).unwrap();
    assert!(text.starts_with(FILTERS_HEADER));
    assert_eq!(trained.temporal.len(), 8);
    assert_eq!(trained.spatial.len(), 16);
    let spec = ModelSpec::by_name("eegnet").unwrap();
    let input = InputShape {
        channels: 3,
        samples: 256,
        rate_hz: RATE_HZ,
        n_outputs: 2,
    };
    let channels: Vec<String> = CHANNELS.iter().map(|c| c.to_string()).collect();
    let fresh = initial_filters(&spec, &input, 3, &channels).unwrap();
    let (after, before) = (trained.band_share(8.0, 13.0), fresh.band_share(8.0, 13.0));
    eprintln!("share of filter power in 8-13 Hz: fresh {before:.3}, trained {after:.3}");
    // A fresh filter passes the band about as much as its width (5 of 64
    // Hz, 0.08); training must make it at least half as much again.
    assert!(
        after >= 1.5 * before,
        "fresh {before:.3}, trained {after:.3}"
    );
}

fn check_bad_options(run: &Path) {
    let run = run.to_str().unwrap();
    assert!(fails(&["explain", "--embedding", "umap", "--run", run]).contains("--embedding"));
    let missing = fails(&["explain", "--embedding", "pca", "--run", "/nonexistent/run"]);
    assert!(missing.contains("/nonexistent/run"), "{missing}");
}
