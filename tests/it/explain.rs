//! `spindle explain` end to end on generated data whose answer is known:
//! only one channel (Oz) carries the class, only in one band (a 10 Hz alpha
//! burst), and only in the second half of each 2-s window. Every method must
//! find that channel, that band and that half; seeded, so each run repeats.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};

use spindle_learn::explain::{
    EXPLAIN_JSON, ExplainError, ExplainOptions, Explanation, Method, explain_run,
};
use spindle_signals::recording::{
    Channel, EdfWriteOptions, Label, LabelSet, Recording, sidecar_path, write_edf, write_events_tsv,
};
use spindle_signals::rng::Rng;

use crate::support::{json, one_error_line, run_ok, spindle};

const RATE_HZ: f64 = 128.0;
const TRIAL_S: f64 = 2.0;
const CHANNELS: [&str; 4] = ["Fz", "Cz", "Pz", "Oz"];
/// The one channel that carries the class.
const INFORMATIVE: usize = 3;

/// `trials` back-to-back 2-s trials, classes "alpha" and "rest" in shuffled
/// pairs. Every channel: broadband noise with a slow drift. Oz only, in
/// "alpha" trials only, in the trial's second half only: a 10 Hz burst.
fn write_recording(path: &Path, trials: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let per_trial = (TRIAL_S * RATE_HZ) as usize;
    let mut classes: Vec<&str> = Vec::new();
    while classes.len() < trials {
        let mut pair = ["alpha", "rest"];
        rng.shuffle(&mut pair);
        classes.extend(pair);
    }
    let mut channels: Vec<Vec<f32>> = vec![Vec::new(); CHANNELS.len()];
    for (c, samples) in channels.iter_mut().enumerate() {
        let mut drift = 0.0f64;
        for class in &classes {
            let phase = rng.range(0.0, TAU);
            for i in 0..per_trial {
                drift = 0.98 * drift + rng.normal();
                let mut v = 6.0 * rng.normal() + 2.0 * drift;
                let late = i >= per_trial / 2;
                if c == INFORMATIVE && *class == "alpha" && late {
                    v += 12.0 * (TAU * 10.0 * i as f64 / RATE_HZ + phase).sin();
                }
                samples.push(v as f32);
            }
        }
    }
    let labels = LabelSet::new(
        classes
            .iter()
            .enumerate()
            .map(|(t, class)| Label::new(t as f64 * TRIAL_S, TRIAL_S, *class))
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
}

fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap()
}

#[test]
fn every_method_finds_the_channel_the_band_and_the_half_that_carry_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let (run, test, test_score) = trained_run(dir.path());
    let e = explain_as_json(&run, test_score);
    let (drops, band_drops) = check_channels_and_bands(&e);
    let (by_channel, by_band) = check_amplitude(&e);
    let (late, total, cam_late, cam_total) = check_saliency(&e);
    let map = e.amplitude.as_ref().unwrap();
    let alpha = map.classes.iter().position(|c| c == "alpha").unwrap();
    eprintln!(
        "strongest {:?}\nchannel drops {drops:?}\nband drops {band_drops:?}\namplitude by channel {by_channel:?}\namplitude by band {by_band:?}\nsaliency second half {:.3}, Grad-CAM second half {:.3}",
        map.strongest(alpha, 8)
            .iter()
            .map(|&(c, f, r)| (c, map.freqs_hz[f], r))
            .collect::<Vec<_>>(),
        late / total,
        cam_late / cam_total
    );
    check_seeded_and_other_data(&run, &test, &e);
    check_library_progress_and_cancel(&run);
    check_bad_input(dir.path(), &run, &test);
}

/// A run of EEGNet trained by the CLI on generated recordings (training
/// and test files): the run folder, the test file and the test score.
fn trained_run(dir: &Path) -> (PathBuf, PathBuf, f64) {
    let (train, test) = (dir.join("train.edf"), dir.join("test.edf"));
    write_recording(&train, 200, 1);
    write_recording(&test, 100, 2);
    let run = dir.join("run");
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(&train)
            .arg("--test")
            .arg(&test)
            .args([
                "--model", "eegnet", "--epochs", "12", "--seed", "1", "--out",
            ])
            .arg(&run),
    );
    let report = json(&run.join("report.json"));
    let test_score = report["test"]["balanced_accuracy"].as_f64().unwrap();
    assert!(test_score > 0.9, "the model learned the task: {test_score}");

    (run, test, test_score)
}

/// `spindle explain --json` on the run: what it prints is what it saved,
/// explained on the run's test windows with the same score.
fn explain_as_json(run: &Path, test_score: f64) -> Explanation {
    let stdout = run_ok(
        spindle()
            .args([
                "explain",
                "--json",
                "--repeats",
                "10",
                "--seed",
                "4",
                "--run",
            ])
            .arg(run),
    );
    let e: Explanation = serde_json::from_str(&stdout).unwrap();
    let saved = Explanation::load(run).unwrap().unwrap();
    assert_eq!(saved, e, "explain.json holds what --json printed");
    assert!(run.join(EXPLAIN_JSON).is_file());

    // The explained windows are the run's test windows: same score.
    assert_eq!(e.windows.count, 100);
    assert!(e.windows.description.contains("test windows"));
    assert!(
        (e.baseline_score - test_score).abs() < 1e-9,
        "baseline {} vs report {test_score}",
        e.baseline_score
    );
    assert_eq!(e.chance_score, 0.5);
    assert_eq!(e.caveat, spindle_learn::explain::CAVEAT);

    e
}

/// Channels: Oz first, by far; bands: alpha first. Their drops.
fn check_channels_and_bands(e: &Explanation) -> (Vec<f64>, Vec<f64>) {
    // The others near zero.
    let channels = e.channels.as_ref().unwrap();
    let drops: Vec<f64> = channels.iter().map(|c| c.mean_drop).collect();
    assert_eq!(channels[argmax(&drops)].name, "Oz", "{drops:?}");
    assert!(drops[INFORMATIVE] > 0.25, "{drops:?}");
    assert!(
        drops
            .iter()
            .enumerate()
            .all(|(c, &d)| c == INFORMATIVE || d < 0.1),
        "{drops:?}"
    );
    assert!(channels.iter().all(|c| c.drops.len() == 10));

    // Bands: alpha first.
    let bands = e.bands.as_ref().unwrap();
    let band_drops: Vec<f64> = bands.iter().map(|b| b.mean_drop).collect();
    assert_eq!(bands[argmax(&band_drops)].name, "alpha", "{band_drops:?}");
    assert!(band_drops[argmax(&band_drops)] > 0.25, "{band_drops:?}");
    assert!(e.skipped_bands.is_empty(), "45 Hz is below 64 Hz");

    (drops, band_drops)
}

/// Amplitude perturbation: for class alpha, Oz first and alpha first. The
/// strongest link per channel and the mean per band.
fn check_amplitude(e: &Explanation) -> (Vec<f64>, Vec<f64>) {
    let bands = e.bands.as_ref().unwrap();
    let map = e.amplitude.as_ref().unwrap();
    let alpha = map.classes.iter().position(|c| c == "alpha").unwrap();
    // The channel holding the strongest links.
    let by_channel: Vec<f64> = map.correlation[alpha]
        .iter()
        .map(|row| row.iter().map(|r| f64::from(r.abs())).fold(0.0, f64::max))
        .collect();
    assert_eq!(map.channels[argmax(&by_channel)], "Oz", "{by_channel:?}");
    let by_band: Vec<f64> = bands
        .iter()
        .map(|b| {
            let per_channel = map.mean_abs_by_channel(alpha, b.low_hz, b.high_hz);
            per_channel.iter().sum::<f64>() / per_channel.len() as f64
        })
        .collect();
    assert_eq!(bands[argmax(&by_band)].name, "alpha", "{by_band:?}");
    let (c, f, r) = map.strongest(alpha, 1)[0];
    assert_eq!(map.channels[c], "Oz");
    assert!(
        (8.0..=13.0).contains(&map.freqs_hz[f]) && r > 0.0,
        "{} Hz {r}",
        map.freqs_hz[f]
    );

    (by_channel, by_band)
}

/// Saliency: Oz first, and most of it (and of Grad-CAM) in the second half,
/// for the alpha class. The second half's share and the whole, of each.
fn check_saliency(e: &Explanation) -> (f64, f64, f32, f32) {
    let sal = e.saliency.as_ref().unwrap();
    assert_eq!(sal.bins, 50);
    assert_eq!(sal.window_s, 2.0);
    let alpha_map = sal.classes.iter().find(|c| c.class == "alpha").unwrap();
    assert_eq!(alpha_map.windows, 50);
    assert_eq!(sal.channels[argmax(&alpha_map.mass_by_channel())], "Oz");
    let over_time = alpha_map.mass_over_time();
    let late: f64 = over_time[25..].iter().sum();
    let total: f64 = over_time.iter().sum();
    assert!(late > 0.6 * total, "second half {late} of {total}");
    let cam = alpha_map
        .grad_cam
        .as_ref()
        .expect("EEGNet has convolutions");
    let cam_late: f32 = cam[25..].iter().sum();
    let cam_total: f32 = cam.iter().sum();
    assert!(
        cam_late > 0.6 * cam_total,
        "Grad-CAM {cam_late} of {cam_total}"
    );
    assert!(sal.grad_cam_layer.is_some());
    assert_eq!(sal.windows.len(), 100);
    assert_eq!(sal.windows[0].gradient_x_input.len(), 4);

    (late, total, cam_late, cam_total)
}

/// Seeded: the same shuffles again give the same drops; `--data`: the
/// windows of other recordings, labeled the same way.
fn check_seeded_and_other_data(run: &Path, test: &Path, e: &Explanation) {
    run_ok(
        spindle()
            .args([
                "explain",
                "--methods",
                "channels",
                "--repeats",
                "10",
                "--seed",
                "4",
                "--run",
            ])
            .arg(run),
    );
    let again = Explanation::load(run).unwrap().unwrap();
    assert_eq!(again.channels, e.channels);
    assert_eq!(again.bands, None);

    // --data: the windows of other recordings, labeled the same way.
    let stdout = run_ok(
        spindle()
            .args(["explain", "--methods", "bands", "--run"])
            .arg(run)
            .arg("--data")
            .arg(test),
    );
    assert!(stdout.contains("100 windows of 1 recording(s)"), "{stdout}");
    assert!(stdout.contains("1. alpha"), "{stdout}");
    assert!(stdout.contains("Haufe"), "the caveat is printed: {stdout}");
}

/// Through the library, as the app calls it: progress per step, and a
/// cancel obeyed at the next step.
fn check_library_progress_and_cancel(run: &Path) {
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let options = ExplainOptions {
        methods: vec![Method::Saliency, Method::Channels],
        repeats: 2,
        ..ExplainOptions::default()
    };
    let result = explain_run(
        run,
        &options,
        &mut |p| {
            seen.push(p);
            if p.done == 1 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert!(matches!(result, Err(ExplainError::Cancelled)), "{result:?}");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method, seen[0].done, seen[0].total),
        (Method::Channels, 0, 8)
    );
    assert_eq!(seen[1].done, 1);
}

/// Bad input: one line, exit code 2.
fn check_bad_input(dir: &Path, run: &Path, test: &Path) {
    let bad_band = spindle()
        .args(["explain", "--bands", "alpha:13-8", "--run"])
        .arg(run)
        .output()
        .unwrap();
    assert!(one_error_line(&bad_band).contains("--bands"));
    let missing = spindle()
        .args(["explain", "--run"])
        .arg(dir.join("nope"))
        .output()
        .unwrap();
    assert!(one_error_line(&missing).contains("nope"));
    write_recording(test, 100, 3);
    let changed = spindle()
        .args(["explain", "--run"])
        .arg(run)
        .output()
        .unwrap();
    let message = one_error_line(&changed);
    assert!(
        message.contains("test.edf: changed since the run was trained"),
        "{message}"
    );
    std::fs::remove_file(run.join("model.safetensors")).unwrap();
    let no_weights = spindle()
        .args(["explain", "--run"])
        .arg(run)
        .output()
        .unwrap();
    assert!(one_error_line(&no_weights).contains("model.safetensors"));
}
