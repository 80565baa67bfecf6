//! `spindle sweep --local` end to end on the bundled sample data: a grid of
//! run folders, `--cv loso` folds with their `cv.json`, resuming where a
//! sweep stopped, recordings with hostile names, `spindle compare`, and
//! one-line errors.

use std::path::Path;
use std::process::Output;
use std::time::SystemTime;

use serde_json::Value;

use spindle_signals::testdata::sample;

use crate::support::{fails, json, spindle};

fn ok(out: Output) -> (String, String) {
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// A tiny local sweep of `data` into `out` with `extra` arguments.
fn sweep(data: &Path, out: &Path, extra: &[&str]) -> (String, String) {
    ok(spindle()
        .args(["sweep", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(["--model", "mlp", "--epochs", "2", "--local", "--jobs", "2"])
        .args(extra)
        .output()
        .unwrap())
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

const RUN_FILES: [&str; 5] = [
    "run.json",
    "metrics.csv",
    "model.safetensors",
    "predictions.tsv",
    "report.json",
];

#[test]
fn a_grid_becomes_complete_run_folders_and_a_second_run_skips_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let args = ["--lr", "0.001,0.01", "--seed", "0,1"];
    let (stdout, _) = sweep(&sample("eeg"), &out, &args);
    let plan = json(&out.join("sweep.json"));
    let tasks = plan["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4);
    let expected = [
        ("000_lr=0.001_seed=0", 0.001, 0),
        ("001_lr=0.001_seed=1", 0.001, 1),
        ("002_lr=0.01_seed=0", 0.01, 0),
        ("003_lr=0.01_seed=1", 0.01, 1),
    ];
    for (task, (name, lr, seed)) in tasks.iter().zip(expected) {
        assert_eq!(task["run_dir"], name);
        assert_eq!(task["status"], "done");
        assert_eq!(task["options"]["lr"], lr);
        assert_eq!(task["options"]["epochs"], 2);
        let dir = out.join(name);
        for f in RUN_FILES {
            assert!(dir.join(f).is_file(), "{name}: {f} missing");
        }
        // Each task is an ordinary run with its own settings.
        let run = json(&dir.join("run.json"));
        assert_eq!(run["train"]["lr"], lr);
        assert_eq!(run["train"]["seed"], seed);
        assert!(stdout.contains(name), "{stdout}");
    }

    // Run again: nothing is trained twice.
    let before = modified(&out.join("002_lr=0.01_seed=0/report.json"));
    let (_, stderr) = sweep(&sample("eeg"), &out, &args);
    assert_eq!(stderr.matches("(skipped)").count(), 4, "{stderr}");
    assert_eq!(
        modified(&out.join("002_lr=0.01_seed=0/report.json")),
        before
    );

    // A task whose run stopped without a report is trained again, alone.
    std::fs::remove_file(out.join("001_lr=0.001_seed=1/report.json")).unwrap();
    let (_, stderr) = sweep(&sample("eeg"), &out, &args);
    assert_eq!(stderr.matches("(skipped)").count(), 3, "{stderr}");
    assert!(
        stderr.contains("task 1 (001_lr=0.001_seed=1): done"),
        "{stderr}"
    );
    assert!(out.join("001_lr=0.001_seed=1/report.json").is_file());
    assert_eq!(
        modified(&out.join("002_lr=0.01_seed=0/report.json")),
        before
    );

    // compare: one JSON object per run, the learning rate among the settings.
    let (stdout, _) = ok(spindle()
        .args(["compare", "--json", "--sort", "balanced_accuracy"])
        .arg(&out)
        .output()
        .unwrap());
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    let scores: Vec<f64> = rows
        .iter()
        .map(|r| r["test"]["balanced_accuracy"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(rows.iter().all(|r| r["settings"]["train.lr"].is_string()));
    // A different grid into the same folder is refused, naming sweep.json.
    let out2 = spindle()
        .args(["sweep", "--data"])
        .arg(sample("eeg"))
        .arg("--out")
        .arg(&out)
        .args(["--model", "mlp", "--lr", "0.1", "--local"])
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(2));
    let stderr = String::from_utf8(out2.stderr).unwrap();
    assert!(
        stderr.starts_with("error: ") && stderr.contains("sweep.json: holds a different sweep")
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn leave_one_subject_out_runs_each_fold_as_a_task_and_writes_cv_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("loso");
    let (stdout, _) = sweep(
        &sample("eeg"),
        &out,
        &["--cv", "loso", "--lr", "0.001,0.01"],
    );
    let plan = json(&out.join("sweep.json"));
    let tasks = plan["tasks"].as_array().unwrap();
    // Two settings, five subjects each.
    assert_eq!(tasks.len(), 10);
    for point in ["000_lr=0.001", "001_lr=0.01"] {
        let cv = json(&out.join(point).join("cv.json"));
        assert_eq!(cv["kind"], "subjects");
        let folds = cv["folds"].as_array().unwrap();
        assert_eq!(folds.len(), 5);
        let mut subjects: Vec<&str> = folds
            .iter()
            .map(|f| f["subject"].as_str().unwrap())
            .collect();
        subjects.sort();
        assert_eq!(subjects, ["01", "02", "03", "04", "05"]);
        for n in 1..=5 {
            let dir = out.join(point).join(format!("fold-{n}"));
            for f in RUN_FILES {
                assert!(dir.join(f).is_file(), "{}: {f} missing", dir.display());
            }
            // The fold tests on its subject's recording alone.
            let run = json(&dir.join("run.json"));
            let test: Vec<&str> = run["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["role"] == "test")
                .map(|d| d["path"].as_str().unwrap())
                .collect();
            assert_eq!(test.len(), 1);
            let subject = folds[n - 1]["subject"].as_str().unwrap();
            assert!(test[0].ends_with(&format!("sub-{subject}.edf")), "{test:?}");
        }
        let mean = cv["scores"]["balanced_accuracy"]["mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&mean));
        // compare prints the mean ± sd over the folds of each setting.
        let line = stdout
            .lines()
            .find(|l| l.starts_with(point) && l.contains("5/5"))
            .unwrap_or_else(|| panic!("{point} missing in:\n{stdout}"));
        assert!(line.contains(&format!("{mean:.3} ±")), "{line}");
    }
}

#[test]
fn recordings_with_hostile_names_train_and_run_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (from, to) in [
        ("sub-01", "$(touch pwned)"),
        ("sub-02", "a b;c"),
        ("sub-03", "`touch pwned2`'\""),
    ] {
        let src = sample("eeg");
        std::fs::copy(
            src.join(format!("{from}.edf")),
            data.join(format!("{to}.edf")),
        )
        .unwrap();
        std::fs::copy(
            src.join(format!("{from}_events.tsv")),
            data.join(format!("{to}_events.tsv")),
        )
        .unwrap();
    }
    let out = tmp.path().join("sweep $(touch pwned3)");
    let run = spindle()
        .current_dir(tmp.path())
        .args(["sweep", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args([
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--local",
            "--unlabeled-class",
            "$(touch pwned4)",
        ])
        .output()
        .unwrap();
    ok(run);
    let dir = out.join("000");
    for f in RUN_FILES {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let info = json(&dir.join("run.json"));
    let paths: Vec<&str> = info["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with("$(touch pwned).edf")),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p.ends_with("a b;c.edf")), "{paths:?}");
    for name in ["pwned", "pwned2", "pwned3", "pwned4"] {
        assert!(!tmp.path().join(name).exists(), "{name} was created");
        assert!(!data.join(name).exists(), "{name} was created");
    }
}

#[test]
fn bad_sweeps_are_one_line_errors_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample("eeg");
    let data = data.to_str().unwrap();
    let out = tmp.path().join("s");
    let out = out.to_str().unwrap();
    let e = fails(&[
        "sweep", "--data", data, "--out", out, "--lr", "0.01,abc", "--local",
    ]);
    assert!(e.starts_with("error: --lr: "), "{e}");
    let e = fails(&[
        "sweep",
        "--data",
        data,
        "--out",
        out,
        "--model",
        "mlp,resnet",
    ]);
    assert!(e.starts_with("error: --model: "), "{e}");
    let one = format!("{data}/sub-01.edf");
    let e = fails(&["sweep", "--data", &one, "--out", out, "--cv", "loso"]);
    assert!(e.starts_with("error: --cv: "), "{e}");
    // Planning alone writes sweep.json; a task that does not exist is refused.
    ok(spindle()
        .args(["sweep", "--data", data, "--out", out, "--model", "mlp"])
        .output()
        .unwrap());
    let json = format!("{out}/sweep.json");
    let e = fails(&["sweep-task", "--sweep", &json, "--index", "5"]);
    assert!(
        e.contains("sweep.json: task 5 does not exist (the sweep has 1 tasks)"),
        "{e}"
    );
    let e = fails(&["compare", out, "--sort", "wobble"]);
    assert!(e.contains("no run folders found"), "{e}");
    let e = fails(&["compare", &format!("{out}/missing")]);
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn a_failed_task_is_named_recorded_and_the_sweep_exits_with_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    // Windows of 5000 s fit no trial of the sample recordings.
    let run = spindle()
        .args(["sweep", "--data"])
        .arg(sample("eeg"))
        .arg("--out")
        .arg(&out)
        .args([
            "--model", "mlp", "--epochs", "2", "--window", "2,5000", "--local",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: ") && last.contains("1 of 2 task(s) not done (1 failed)"),
        "{stderr}"
    );
    let why = std::fs::read_to_string(out.join("logs/task-1.failed")).unwrap();
    assert!(why.contains("001_window=5000: "), "{why}");
    assert!(
        stderr.contains(&format!("task 1: {}", why.trim())),
        "{stderr}"
    );
    let plan = json(&out.join("sweep.json"));
    assert_eq!(plan["tasks"][0]["status"], "done");
    assert_eq!(plan["tasks"][1]["status"], "failed");
    assert!(out.join("000_window=2/report.json").is_file());
}
