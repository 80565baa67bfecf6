//! Labels kept in files of their own: EDF+ files of annotations alone
//! (hypnograms) found beside their recordings by name, and `--labels`
//! naming them explicitly, through the real `spindle train`.

use std::path::{Path, PathBuf};

use spindle_signals::recording::{
    Annotation, EdfWriteOptions, Recording, read_events_tsv, read_recording, write_edf,
};

use spindle_signals::testdata::sample;

use crate::support::spindle;

/// Writes the labels of `events` as an EDF+ file of annotations alone,
/// renaming each class through `rename`.
fn write_scoring(path: &Path, events: &Path, rename: impl Fn(&str) -> String) {
    let labels = read_events_tsv(events).unwrap();
    let rec = Recording {
        path: path.to_path_buf(),
        annotations: labels
            .labels
            .iter()
            .map(|l| Annotation {
                onset_s: l.onset_s,
                duration_s: Some(l.duration_s),
                text: rename(&l.trial_type),
            })
            .collect(),
        segments: Vec::new(),
        ..Recording::from_channels(Vec::new())
    };
    write_edf(path, &rec, &EdfWriteOptions::default()).unwrap();
}

/// Writes sample subject `n`'s signals, without its labels (neither its
/// events.tsv nor its annotations), into `dir` as `name`.
fn copy_recording(n: usize, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    let mut rec = read_recording(&sample(&format!("eeg/sub-0{n}.edf"))).unwrap();
    rec.annotations.clear();
    write_edf(&to, &rec, &EdfWriteOptions::default()).unwrap();
    to
}

fn train(args: &[&std::ffi::OsStr]) -> std::process::Output {
    spindle()
        .arg("train")
        .args(args)
        .args(["--model", "mlp", "--epochs", "1", "--seed", "1"])
        .output()
        .unwrap()
}

#[test]
fn hypnograms_beside_their_recordings_are_found_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for n in 1..=3 {
        copy_recording(n, dir.path(), &format!("SC40{n}1E0-PSG.edf"));
        write_scoring(
            &dir.path().join(format!("SC40{n}1EC-Hypnogram.edf")),
            &sample(&format!("eeg/sub-0{n}_events.tsv")),
            |c| format!("stage {c}"),
        );
    }
    let out_dir = dir.path().join("run");
    let out = train(&[
        "--data".as_ref(),
        dir.path().as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The classes are the hypnograms' (renamed), and the hypnogram files
    // were not taken for recordings.
    assert!(stderr.contains("classes: stage blink"), "{stderr}");
    let run = std::fs::read_to_string(out_dir.join("run.json")).unwrap();
    assert_eq!(run.matches("-PSG.edf").count(), 3, "{run}");
    assert!(!run.contains("Hypnogram.edf"), "{run}");
}

#[test]
fn labels_given_explicitly_replace_those_found_beside_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_recording(1, dir.path(), "a.edf");
    let b = copy_recording(2, dir.path(), "b.edf");
    let la = dir.path().join("scores-a.edf");
    let lb = dir.path().join("scores-b.edf");
    write_scoring(&la, &sample("eeg/sub-01_events.tsv"), |c| format!("x-{c}"));
    write_scoring(&lb, &sample("eeg/sub-02_events.tsv"), |c| format!("x-{c}"));
    let out = train(&[
        "--data".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--labels".as_ref(),
        la.as_os_str(),
        lb.as_os_str(),
        "--out".as_ref(),
        dir.path().join("run").as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("classes: x-blink"), "{stderr}");
    // run.json names the label files, so the run's windows can be rebuilt:
    // explaining the run scores its test windows as training did.
    let run_dir = dir.path().join("run");
    let info = spindle_learn::train::RunInfo::load(&run_dir).unwrap();
    let given: Vec<_> = info.data.iter().map(|d| d.labels.clone()).collect();
    assert_eq!(given, [Some(la.clone()), Some(lb.clone())]);
    let out = spindle()
        .args([
            "explain",
            "--methods",
            "channels",
            "--repeats",
            "1",
            "--json",
            "--run",
        ])
        .arg(&run_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap())
            .unwrap();
    let test = report["test"]["balanced_accuracy"].as_f64().unwrap();
    let baseline = explained["baseline_score"].as_f64().unwrap();
    assert!((baseline - test).abs() < 1e-9, "{baseline} against {test}");

    // One label file for two recordings: refused before anything is read.
    let out = train(&[
        "--data".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--labels".as_ref(),
        la.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--labels: 1 label file(s) for 2"),
        "{stderr}"
    );
}

#[test]
fn a_file_of_annotations_alone_opens_but_is_not_training_data() {
    let dir = tempfile::tempdir().unwrap();
    let hyp = dir.path().join("night-Hypnogram.edf");
    write_scoring(&hyp, &sample("eeg/sub-01_events.tsv"), str::to_owned);
    let inspect = spindle().arg("inspect").arg(&hyp).output().unwrap();
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(inspect.status.success(), "{text}");
    assert!(text.contains("EDF+C"), "{text}");

    let out = train(&["--data".as_ref(), hyp.as_os_str()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("night-Hypnogram.edf") && stderr.contains("annotations only"),
        "{stderr}"
    );
}
