//! `spindle hypnogram` and `spindle agree` end to end: the real binary on
//! the bundled nights and on hand-made scorings whose expected numbers were
//! worked out on paper (in the comments), or by YASA for the bundled nights.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spindle_signals::recording::{Annotation, EdfWriteOptions, Recording, sidecar_path, write_edf};
use spindle_signals::testdata::sample;

use crate::support::{json, one_error_line, run_ok, spindle, stdout_json};

fn night(n: usize) -> PathBuf {
    sample(&format!("sleep/sub-0{n}_night.edf"))
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-4)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// An events.tsv of 30-s epochs from stage names.
fn events_tsv(dir: &Path, name: &str, stages: &[&str]) -> PathBuf {
    let mut text = String::from("onset\tduration\ttrial_type\n");
    for (i, s) in stages.iter().enumerate() {
        text.push_str(&format!("{}\t30\t{s}\n", i * 30));
    }
    write(dir, name, &text)
}

/// Sleep statistics of a hand-made night of 15 epochs given as YASA codes:
///
/// ```text
/// epoch 0  1  2  3  4  5  6  7  8   9   10 11 12  13 14
///       W  W  N1 N2 N2 N3 N3 N2 REM REM W  N2 REM ?  W
/// ```
///
/// By hand: time in bed 15 epochs = 7.5 min; sleep N1 1 + N2 4 + N3 2 +
/// REM 3 = 10 epochs = 5.0 min, so efficiency 66.67 %; onset at epoch 2
/// (1.0 min), last sleep at 12: sleep period 11 epochs = 5.5 min; W inside
/// it at 10 only (WASO 0.5 min, 1 awakening), W after it 0.5 min, unscored
/// 0.5 min; first N2 at 3 (1.5 min); first REM at 8, 6 epochs after onset
/// (3.0 min); N1 10 %, N2 40 %, N3 20 %, REM 30 % of sleep; changes W->N1,
/// N1->N2, N2->N3, N3->N2, N2->REM twice, REM->W, W->N2.
#[test]
fn hypnogram_gives_the_hand_counted_statistics_of_a_yasa_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "hand.csv",
        "0\n0\n1\n2\n2\n3\n3\n2\n4\n4\n0\n2\n4\n-2\n0\n",
    );
    let v = stdout_json(
        spindle()
            .arg("hypnogram")
            .arg(night(1))
            .arg("--labels")
            .arg(&csv)
            .arg("--json"),
    );
    for (key, want) in [
        ("time_in_bed_min", 7.5),
        ("total_sleep_time_min", 5.0),
        ("sleep_efficiency_pct", 100.0 * 5.0 / 7.5),
        ("sleep_onset_latency_min", 1.0),
        ("sleep_period_time_min", 5.5),
        ("waso_min", 0.5),
        ("wake_after_final_awakening_min", 0.5),
        ("unscored_min", 0.5),
        ("n2_latency_min", 1.5),
        ("rem_latency_min", 3.0),
        ("awakenings", 1.0),
    ] {
        assert!(close(&v[key], want), "{key}: {} != {want}", v[key]);
    }
    assert!(v["persistent_sleep_latency_min"].is_null());
    for (stage, pct) in [("N1", 10.0), ("N2", 40.0), ("N3", 20.0), ("REM", 30.0)] {
        assert!(close(&v["stages"][stage]["percent_of_tst"], pct), "{stage}");
    }
    let t = &v["transitions"];
    assert_eq!(t["N2->REM"], 2);
    assert_eq!(
        t.as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum::<u64>(),
        8
    );
    assert_eq!(v["source"], csv.display().to_string());
}

/// The bundled nights against YASA 0.8.1 (`yasa.Hypnogram(stages,
/// freq="30s").sleep_statistics()` on each `_events.tsv`, run by hand in a
/// venv): the values it printed are pasted here. YASA's `Lat_REM` counts
/// from the start of the recording; Spindle's REM latency counts from sleep
/// onset (AASM), so it is compared with `Lat_REM - SOL`.
#[test]
fn hypnogram_of_the_bundled_nights_matches_yasa() {
    // TIB, SPT, WASO, TST, SE, SOL, Lat_REM, W, N1, N2, N3, REM, %N1, %N2, %N3, %REM
    let yasa: [[f64; 16]; 3] = [
        [
            161.5, 150.5, 5.0, 145.5, 90.0929, 9.0, 75.5, 16.0, 6.5, 64.5, 46.0, 28.5, 4.4674,
            44.3299, 31.6151, 19.5876,
        ],
        [
            166.0, 159.5, 4.5, 155.0, 93.3735, 5.5, 81.5, 11.0, 6.5, 74.0, 49.5, 25.0, 4.1935,
            47.7419, 31.9355, 16.129,
        ],
        [
            175.5, 163.5, 4.5, 159.0, 90.5983, 10.0, 78.0, 16.5, 7.0, 73.5, 48.0, 30.5, 4.4025,
            46.2264, 30.1887, 19.1824,
        ],
    ];
    for (n, y) in (1..=3).zip(yasa) {
        let v = stdout_json(spindle().arg("hypnogram").arg(night(n)).arg("--json"));
        let got = [
            &v["time_in_bed_min"],
            &v["sleep_period_time_min"],
            &v["waso_min"],
            &v["total_sleep_time_min"],
            &v["sleep_efficiency_pct"],
            &v["sleep_onset_latency_min"],
        ];
        for (g, want) in got.iter().zip(y) {
            assert!(close(g, want), "night {n}: {g} != {want}");
        }
        assert!(close(&v["rem_latency_min"], y[6] - y[5]), "night {n}");
        for (k, stage) in ["W", "N1", "N2", "N3", "REM"].iter().enumerate() {
            assert!(
                close(&v["stages"][*stage]["minutes"], y[7 + k]),
                "night {n} {stage}"
            );
        }
        for (k, stage) in ["N1", "N2", "N3", "REM"].iter().enumerate() {
            let pct = v["stages"][*stage]["percent_of_tst"].as_f64().unwrap();
            assert!((pct - y[12 + k]).abs() < 1e-3, "night {n} {stage}");
        }
    }
}

#[test]
fn the_exported_edf_hypnogram_is_the_recordings_labels_when_paired_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of a night without its events.tsv: only the hypnogram beside it.
    let copy = dir.path().join("night.edf");
    std::fs::copy(night(2), &copy).unwrap();
    let hyp = dir.path().join("night-Hypnogram.edf");
    let text = run_ok(
        spindle()
            .arg("hypnogram")
            .arg(night(2))
            .arg("--out")
            .arg(&hyp),
    );
    assert!(text.contains("wrote 332 epochs to"), "{text}");
    let original = stdout_json(spindle().arg("hypnogram").arg(night(2)).arg("--json"));
    let paired = stdout_json(spindle().arg("hypnogram").arg(&copy).arg("--json"));
    assert_eq!(paired["source"], hyp.display().to_string());
    for key in [
        "time_in_bed_min",
        "total_sleep_time_min",
        "stages",
        "transitions",
        "awakenings",
    ] {
        assert_eq!(paired[key], original[key], "{key}");
    }
    let inspect = run_ok(spindle().arg("inspect").arg(&hyp));
    assert!(
        inspect.contains("EDF+C") && inspect.contains("Sleep stage W"),
        "{inspect}"
    );
    // The CSV: one row per epoch with YASA's codes.
    let csv = dir.path().join("night.csv");
    run_ok(
        spindle()
            .arg("hypnogram")
            .arg(night(2))
            .arg("--out")
            .arg(&csv),
    );
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().count(), 1 + 332);
    assert_eq!(rows.lines().next(), Some("onset_s,duration_s,stage,code"));
    assert_eq!(rows.lines().nth(1), Some("0.000,30.000,W,0"));
}

/// Two scorers of 10 epochs; A as an events.tsv, B as a Sleep-EDF style
/// hypnogram (merged runs, R&K names):
///
/// ```text
/// A  W W  N1 N2 N2 N2 N3 N3 REM REM
/// B  W N1 N1 N2 N2 N3 N3 N3 REM N2
/// ```
///
/// By hand: 7 of 10 agree (70 %); marginals A W2 N1 1 N2 3 N3 2 REM 2 and
/// B W1 N1 2 N2 3 N3 3 REM 1 give p_e = (2 + 2 + 9 + 6 + 2) / 100 = 0.21,
/// kappa = 0.49 / 0.79 = 49/79. W against the rest: a = 1, b = 1, c = 0,
/// d = 8: 2 (8 - 0) / (2·9 + 1·8) = 16/26; positive agreement 2/3.
#[test]
fn agree_gives_the_hand_computed_kappa_of_two_scorers_and_their_consensus() {
    let dir = tempfile::tempdir().unwrap();
    let a = events_tsv(
        dir.path(),
        "a_events.tsv",
        &["W", "W", "N1", "N2", "N2", "N2", "N3", "N3", "REM", "REM"],
    );
    let b = dir.path().join("b-Hypnogram.edf");
    let runs = [
        (0.0, 30.0, "Sleep stage W"),
        (30.0, 60.0, "Sleep stage 1"),
        (90.0, 60.0, "Sleep stage 2"),
        (150.0, 60.0, "Sleep stage 3"),
        (210.0, 30.0, "Sleep stage 4"),
        (240.0, 30.0, "Sleep stage R"),
        (270.0, 30.0, "Sleep stage 2"),
    ];
    let rec = Recording {
        path: b.clone(),
        annotations: runs
            .iter()
            .map(|&(onset_s, d, text)| Annotation {
                onset_s,
                duration_s: Some(d),
                text: text.into(),
            })
            .collect(),
        segments: Vec::new(),
        ..Recording::from_channels(Vec::new())
    };
    write_edf(&b, &rec, &EdfWriteOptions::default()).unwrap();
    let cons = dir.path().join("consensus_events.tsv");
    let v = stdout_json(
        spindle()
            .arg("agree")
            .args([&a, &b])
            .arg("--json")
            .arg("--out")
            .arg(&cons),
    );
    assert_eq!(v["kind"], "epochs");
    assert_eq!(v["kappa_kind"], "cohen");
    assert!(close(&v["percent_agreement"], 70.0));
    assert!(close(&v["kappa"], 49.0 / 79.0));
    assert!(close(&v["per_class"]["W"]["kappa"], 16.0 / 26.0));
    assert!(close(&v["per_class"]["W"]["positive_agreement"], 2.0 / 3.0));
    assert_eq!(
        v["confusion"],
        serde_json::json!([
            [1, 1, 0, 0, 0],
            [0, 1, 0, 0, 0],
            [0, 0, 2, 1, 0],
            [0, 0, 0, 2, 0],
            [0, 0, 1, 0, 1]
        ])
    );
    assert!(
        v["notes"][b.display().to_string()][0]
            .as_str()
            .unwrap()
            .contains("stage 4")
    );
    // Two scorers who disagree tie: those epochs are marked for review.
    let rows = std::fs::read_to_string(&cons).unwrap();
    assert_eq!(
        rows.lines().next(),
        Some("onset\tduration\ttrial_type\tvotes\ttied")
    );
    assert_eq!(
        rows.lines().nth(2),
        Some("30.000\t30.000\treview\t1/2\tW/N1")
    );
    assert_eq!(
        rows.lines().nth(10),
        Some("270.000\t30.000\treview\t1/2\tN2/REM")
    );
    let text = run_ok(spindle().arg("agree").args([&a, &b]));
    assert!(text.contains("Cohen's kappa      0.620"), "{text}");
}

/// Three scorers: A and B above, and C = A. By hand: all three agree on 7
/// epochs; epochs 1, 5, 9 split 2-1, each P_i = 2/6; P̄ = (7 + 1) / 10 =
/// 0.8. Stage totals W 5, N1 4, N2 9, N3 7, REM 5 of 30 give P̄e = 196/900,
/// so Fleiss' kappa = (720 - 196) / (900 - 196) = 524/704. The majority
/// settles every epoch.
#[test]
fn agree_gives_fleiss_kappa_of_three_scorers() {
    let dir = tempfile::tempdir().unwrap();
    let a_stages = ["W", "W", "N1", "N2", "N2", "N2", "N3", "N3", "REM", "REM"];
    let a = events_tsv(dir.path(), "a_events.tsv", &a_stages);
    let b = events_tsv(
        dir.path(),
        "b_events.tsv",
        &["W", "N1", "N1", "N2", "N2", "N3", "N3", "N3", "REM", "N2"],
    );
    let c = events_tsv(dir.path(), "c_events.tsv", &a_stages);
    let cons = dir.path().join("consensus.tsv");
    let v = stdout_json(
        spindle()
            .arg("agree")
            .args([&a, &b, &c])
            .arg("--json")
            .arg("--out")
            .arg(&cons),
    );
    assert_eq!(v["kappa_kind"], "fleiss");
    assert!(close(&v["kappa"], 524.0 / 704.0));
    assert!(close(&v["percent_agreement"], 70.0));
    assert!(close(&v["mean_pairwise_agreement"], 80.0));
    assert!(v["confusion"].is_null());
    let rows = std::fs::read_to_string(&cons).unwrap();
    let stages: Vec<&str> = rows
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(stages, a_stages);
}

/// Blinks matched by overlap: a (1.0, 1 s) and b (1.4, 1 s) overlap 0.6 s,
/// at least half of 1 s: matched. a (5.0, 1 s) and b (5.6, 1 s) overlap
/// 0.4 s: not. a's 9.0 and b's 20.0 have no partner. So 1 matched, 2 only
/// in each: F1 = 2 / (2 + 2 + 2) = 1/3.
#[test]
fn agree_matches_event_labels_by_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a_events.tsv",
        "onset\tduration\ttrial_type\n1.0\t1.0\tblink\n5.0\t1.0\tblink\n9.0\t0.4\tblink\n",
    );
    let b = write(
        dir.path(),
        "b.csv",
        "onset_s,duration_s,label\n1.4,1.0,blink\n5.6,1.0,blink\n20.0,1.0,blink\n",
    );
    let v = stdout_json(spindle().arg("agree").args([&a, &b]).arg("--json"));
    assert_eq!(v["kind"], "events");
    let blink = &v["pairs"][0]["per_class"]["blink"];
    assert_eq!(
        (blink["matched"].as_u64(), blink["only_first"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(blink["only_second"], 2);
    assert!(close(&blink["f1"], 1.0 / 3.0));
    let text = run_ok(spindle().arg("agree").args([&a, &b]));
    assert!(text.contains("at least 0.5 of the shorter label"), "{text}");
}

#[test]
fn bad_scorings_exit_2_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let odd = write(
        dir.path(),
        "odd_events.tsv",
        "onset\tduration\ttrial_type\n0\t30\tW\n40\t30\tN1\n",
    );
    let line = one_error_line(&spindle().arg("agree").args([&odd, &odd]).output().unwrap());
    assert_eq!(
        line,
        format!(
            "error: {}: not a regular epoch scoring: the gap of 10.000 s before label 'N1' at 40.000 s is not a whole number of 30-s epochs",
            odd.display()
        )
    );
    let line = one_error_line(
        &spindle()
            .arg("hypnogram")
            .arg(night(1))
            .arg("--labels")
            .arg(&odd)
            .output()
            .unwrap(),
    );
    assert!(
        line.contains("odd_events.tsv: not a regular epoch scoring"),
        "{line}"
    );
    let blinks = sample("eeg/sub-01_events.tsv");
    let sleep = sample("sleep/sub-01_night_events.tsv");
    let line = one_error_line(
        &spindle()
            .arg("agree")
            .args([&blinks, &sleep])
            .output()
            .unwrap(),
    );
    assert!(
        line.contains("sub-01_events.tsv: holds no sleep-stage labels"),
        "{line}"
    );
    let twenty = events_tsv(dir.path(), "twenty_events.tsv", &["W"]);
    let line = one_error_line(
        &spindle()
            .arg("agree")
            .arg(&sleep)
            .arg(&twenty)
            .args(["--epoch", "20"])
            .output()
            .unwrap(),
    );
    assert!(
        line.contains("lasts 30.000 s, not a whole number of 20-s epochs"),
        "{line}"
    );
    let line = one_error_line(
        &spindle()
            .arg("hypnogram")
            .arg(sample("eeg/sub-01.edf"))
            .output()
            .unwrap(),
    );
    assert!(
        line.contains("sub-01_events.tsv: holds no sleep-stage labels (its classes: blink"),
        "{line}"
    );
    let line = one_error_line(
        &spindle()
            .arg("hypnogram")
            .arg(night(1))
            .args(["--out", "x.txt"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        line,
        "error: --out: x.txt: name a .edf (EDF+ hypnogram) or .csv file"
    );
    let line = one_error_line(&spindle().arg("agree").arg(&sleep).output().unwrap());
    assert!(line.contains("at least two scorings"), "{line}");
}

/// A sleep run scores a night as one more scorer; on its own test
/// recording, its agreement with the scorer is the kappa of its own report
/// (the same windows, the same model).
#[test]
fn a_sleep_run_is_one_more_scorer() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(sample("sleep"))
            .args(["--model", "sleep", "--epochs", "1", "--seed", "1", "--out"])
            .arg(&run),
    );
    // The recording the run tested on: the file of its test predictions.
    let predictions = std::fs::read_to_string(run.join("predictions.tsv")).unwrap();
    let test_file = PathBuf::from(
        predictions
            .lines()
            .nth(1)
            .unwrap()
            .split('\t')
            .next()
            .unwrap(),
    );
    assert!(
        predictions
            .lines()
            .skip(1)
            .all(|l| l.starts_with(&*test_file.to_string_lossy()))
    );
    let csv = dir.path().join("model.csv");
    let v = stdout_json(
        spindle()
            .arg("hypnogram")
            .arg(&test_file)
            .arg("--run")
            .arg(&run)
            .arg("--json")
            .arg("--out")
            .arg(&csv),
    );
    assert!(v["time_in_bed_min"].as_f64().unwrap() > 100.0, "{v}");
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert!(
        rows.starts_with("onset_s,duration_s,stage,code,confidence,p_"),
        "{rows}"
    );
    let labels = sidecar_path(&test_file);
    let a = stdout_json(
        spindle()
            .arg("agree")
            .arg(&labels)
            .arg("--run")
            .arg(&run)
            .arg("--recording")
            .arg(&test_file)
            .arg("--json"),
    );
    let report = json(&run.join("report.json"));
    let want = report["test"]["kappa"].as_f64().unwrap();
    assert!(close(&a["kappa"], want), "{} != {want}", a["kappa"]);
    assert_eq!(a["files"][1], format!("{} (model)", run.display()));
}
