//! `spindle train --cv` end to end on the bundled sample data: one ordinary
//! run folder per fold, `cv.json` with the per-fold scores and their mean and
//! spread, trial-block folds without leakage, and one-line errors.

use std::path::Path;

use serde_json::Value;

use spindle_signals::testdata::sample;

use crate::support::{fails, json, run_ok, spindle};

/// A quick cross-validation of `data` into `out` with `extra` arguments.
fn cv(data: &Path, out: &Path, extra: &[&str]) -> String {
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(data)
            .args(["--model", "mlp", "--epochs", "2", "--seed", "1", "--out"])
            .arg(out)
            .args(extra),
    )
}

#[test]
fn recording_folds_are_run_folders_and_cv_json_holds_their_mean_and_spread() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cv");
    let stdout = cv(&sample("eeg"), &out, &["--cv", "3"]);
    let summary = json(&out.join("cv.json"));
    assert_eq!(summary["kind"], "recordings");
    let folds = summary["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    // Every recording is tested on exactly once.
    let mut tested: Vec<String> = Vec::new();
    let mut accuracies = Vec::new();
    for (i, fold) in folds.iter().enumerate() {
        let dir = out.join(format!("fold-{}", i + 1));
        for f in [
            "run.json",
            "metrics.csv",
            "model.safetensors",
            "report.json",
        ] {
            assert!(dir.join(f).is_file(), "fold {}: {f} missing", i + 1);
        }
        let run = json(&dir.join("run.json"));
        let test_files: Vec<&Value> = run["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["role"] == "test")
            .map(|d| &d["path"])
            .collect();
        assert_eq!(
            test_files,
            fold["test_files"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>()
        );
        tested.extend(test_files.iter().map(|p| p.as_str().unwrap().to_string()));
        let report = json(&dir.join("report.json"));
        accuracies.push(report["test"]["accuracy"].as_f64().unwrap());
    }
    tested.sort();
    let names: Vec<&str> = tested
        .iter()
        .map(|p| Path::new(p).file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "sub-01.edf",
            "sub-02.edf",
            "sub-03.edf",
            "sub-04.edf",
            "sub-05.edf"
        ]
    );
    // The mean and sample standard deviation are those of the fold reports.
    let acc = &summary["scores"]["accuracy"];
    let per_fold: Vec<f64> = acc["per_fold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(per_fold, accuracies);
    let mean = accuracies.iter().sum::<f64>() / 3.0;
    let sd = (accuracies.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!((acc["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert!((acc["sd"].as_f64().unwrap() - sd).abs() < 1e-12);
    for name in ["balanced_accuracy", "kappa", "f1_macro"] {
        assert_eq!(summary["scores"][name]["n_folds"], 3, "{name}");
    }
    let advice = summary["advice"].as_str().unwrap();
    assert!(advice.contains("new recordings"), "{advice}");
    assert!(stdout.contains("mean ± sd"), "{stdout}");
    assert!(stdout.contains(&format!("{mean:.3} ± {sd:.3}")), "{stdout}");
    assert!(stdout.contains(advice), "{stdout}");
}

#[test]
fn one_recording_is_cut_into_trial_blocks_and_no_test_window_is_trained_on() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for f in ["sub-01.edf", "sub-01_events.tsv"] {
        std::fs::copy(sample("eeg").join(f), data.join(f)).unwrap();
    }
    let out = tmp.path().join("cv");
    // Overlapping windows: 1 s every 0.5 s.
    let stdout = cv(
        &data,
        &out,
        &["--cv", "3", "--window", "1", "--stride", "0.5"],
    );
    assert!(stdout.contains("optimistic"), "{stdout}");
    let summary = json(&out.join("cv.json"));
    assert_eq!(summary["kind"], "trial_blocks");
    let mut all_trials = 0;
    for (i, fold) in summary["folds"].as_array().unwrap().iter().enumerate() {
        let trials = fold["test_trials"].as_array().unwrap();
        all_trials += trials.len();
        let span = |t: &Value| {
            (
                t["onset_s"].as_f64().unwrap(),
                t["onset_s"].as_f64().unwrap() + t["duration_s"].as_f64().unwrap(),
            )
        };
        let dir = out.join(format!("fold-{}", i + 1));
        let run = json(&dir.join("run.json"));
        assert_eq!(run["dataset_config"]["test_trials"], fold["test_trials"]);
        let counts = &run["split"]["counts"];
        for class in ["blink", "eyes_closed", "eyes_open", "jaw_clench"] {
            assert!(
                counts["test"][class].as_u64().unwrap() > 0,
                "fold {i}: {class}"
            );
            assert!(
                counts["train"][class].as_u64().unwrap() > 0,
                "fold {i}: {class}"
            );
        }
        // Every test window lies inside one of the fold's test trials.
        let predictions = std::fs::read_to_string(dir.join("predictions.tsv")).unwrap();
        let rows: Vec<(f64, f64, String)> = predictions
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                (
                    c[1].parse().unwrap(),
                    c[2].parse().unwrap(),
                    c[3].to_string(),
                )
            })
            .collect();
        assert!(!rows.is_empty());
        for (onset, duration, class) in &rows {
            assert!(
                trials.iter().any(|t| {
                    let (a, b) = span(t);
                    t["class"] == class.as_str()
                        && *onset >= a - 0.01
                        && onset + duration <= b + 0.01
                }),
                "fold {}: test window at {onset} s outside the test trials",
                i + 1
            );
        }
    }
    let labels = std::fs::read_to_string(data.join("sub-01_events.tsv")).unwrap();
    assert_eq!(
        all_trials,
        labels.lines().count() - 1,
        "every trial tested once"
    );
}

#[test]
fn impossible_folds_are_one_line_errors_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample("eeg");
    let data = data.to_str().unwrap();
    let one = sample("eeg").join("sub-01.edf");
    let one = one.to_str().unwrap();
    let out = tmp.path().join("cv");
    let out = out.to_str().unwrap();
    let e = fails(&["train", "--data", data, "--cv", "1", "--out", out]);
    assert!(
        e.starts_with("error: --cv: ") && e.contains("at least 2 folds"),
        "{e}"
    );
    let e = fails(&["train", "--data", one, "--cv", "loso", "--out", out]);
    assert!(
        e.starts_with("error: --cv: ") && e.contains("at least 2 subjects"),
        "{e}"
    );
    let e = fails(&["train", "--data", one, "--cv", "20", "--out", out]);
    assert!(e.contains("at most 13 folds"), "{e}");
    let e = fails(&[
        "train", "--data", data, "--test", one, "--cv", "3", "--out", out,
    ]);
    assert!(e.starts_with("error: --test: "), "{e}");
    assert!(!Path::new(out).exists(), "nothing is written for bad input");
}
