//! The background services beside `TrainJob`: cross-validation (`CvJob`:
//! its events in order, cancel, a failure naming the fold's folder), one
//! sweep task trained in this process, and labels suggested by a run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use spindle_learn::dataset::CvScheme;
use spindle_learn::jobs::{CvEvent, CvJob, CvJobSpec, SweepTaskRun, suggest_labels};
use spindle_learn::runs::sweep::{GridAxis, SweepPlan, TaskData, TaskFiles, plan_new_sweep};
use spindle_learn::runs::{CV_JSON, CvSummary};
use spindle_learn::train::{DataRoles, Event, TrainOptions};

use crate::support::teaching_eeg;

/// A small, fast setting: an MLP for `epochs` epochs.
fn options(epochs: usize) -> TrainOptions {
    TrainOptions {
        model: "mlp".into(),
        epochs,
        batch: Some(8),
        ..TrainOptions::default()
    }
}

fn cv_spec(eeg: &Path, out: &Path, epochs: usize) -> CvJobSpec {
    CvJobSpec {
        data: DataRoles {
            train: vec![eeg.to_path_buf()],
            ..DataRoles::default()
        },
        options: options(epochs),
        scheme: CvScheme::Folds(2),
        out: out.to_path_buf(),
        init_from: None,
        new_folder: None,
    }
}

fn next(job: &CvJob) -> CvEvent {
    job.events
        .recv_timeout(Duration::from_secs(120))
        .expect("an event within two minutes")
}

/// The kind of an event, for checking their order.
fn kind(e: &CvEvent) -> String {
    match e {
        CvEvent::Planned { .. } => "planned".into(),
        CvEvent::FoldStarted { fold, .. } => format!("fold {} started", fold.number),
        CvEvent::Training { fold, event } => match **event {
            Event::Finished(_) => format!("fold {fold} trained"),
            _ => format!("fold {fold} training"),
        },
        CvEvent::FoldFinished { fold, .. } => format!("fold {fold} finished"),
        CvEvent::Finished { .. } => "finished".into(),
        CvEvent::Failed(m) => format!("failed: {m}"),
        CvEvent::Cancelled => "cancelled".into(),
    }
}

#[test]
fn a_cross_validation_trains_its_folds_in_order_and_writes_cv_json() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_eeg(dir.path());
    let out = dir.path().join("cv");
    let job = CvJob::spawn(cv_spec(&eeg, &out, 1), || {});
    let mut kinds: Vec<String> = Vec::new();
    let summary = loop {
        let e = next(&job);
        if let CvEvent::FoldFinished {
            fold,
            run_dir,
            outcome,
        } = &e
        {
            assert_eq!(*run_dir, out.join(format!("fold-{fold}")));
            assert!(run_dir.join("report.json").is_file());
            assert!(outcome.test.is_some());
        }
        let k = kind(&e);
        if kinds.last() != Some(&k) {
            kinds.push(k);
        }
        match e {
            CvEvent::Finished { summary, path } => {
                assert_eq!(path, out.join(CV_JSON));
                break summary;
            }
            CvEvent::Failed(m) => panic!("{m}"),
            _ => {}
        }
    };
    assert_eq!(
        kinds,
        [
            "planned",
            "fold 1 started",
            "fold 1 training",
            "fold 1 trained",
            "fold 1 finished",
            "fold 2 started",
            "fold 2 training",
            "fold 2 trained",
            "fold 2 finished",
            "finished"
        ]
    );
    assert_eq!(summary.folds.len(), 2);
    // cv.json is the summary, and reads back (serde_json without its
    // float_roundtrip feature may parse a float one unit in the last place
    // off, so the text is compared, not the parsed values).
    let text = std::fs::read_to_string(out.join(CV_JSON)).unwrap();
    assert_eq!(text, serde_json::to_string_pretty(&*summary).unwrap());
    let on_disk: CvSummary = serde_json::from_str(&text).unwrap();
    assert_eq!(on_disk.folds, summary.folds);
    job.join();
}

#[test]
fn a_cancelled_cross_validation_ends_with_cancelled_and_writes_no_summary() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_eeg(dir.path());
    let out = dir.path().join("cv");
    let job = CvJob::spawn(cv_spec(&eeg, &out, 50), || {});
    loop {
        match next(&job) {
            CvEvent::Training { event, .. } if matches!(*event, Event::Batch { .. }) => break,
            CvEvent::Failed(m) => panic!("{m}"),
            _ => {}
        }
    }
    job.cancel();
    let last = loop {
        let e = next(&job);
        if matches!(
            e,
            CvEvent::Cancelled | CvEvent::Finished { .. } | CvEvent::Failed(_)
        ) {
            break e;
        }
        assert!(
            !matches!(e, CvEvent::FoldStarted { .. }),
            "no fold starts after the cancel"
        );
    };
    assert!(matches!(last, CvEvent::Cancelled), "{}", kind(&last));
    assert!(!out.join(CV_JSON).exists());
    job.join();
}

#[test]
fn a_failing_fold_is_reported_naming_its_folder_and_bad_input_before_any_fold() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_eeg(dir.path());
    let out = dir.path().join("cv");
    // Weights to start from that are not there: the first fold fails, named.
    let mut spec = cv_spec(&eeg, &out, 1);
    let nowhere = dir.path().join("no-such-run");
    spec.init_from = Some(nowhere.clone());
    let job = CvJob::spawn(spec, || {});
    let failed = loop {
        match next(&job) {
            CvEvent::Failed(m) => break m,
            CvEvent::FoldStarted { fold, .. } => assert_eq!(fold.number, 1),
            CvEvent::Finished { .. } => panic!("a fold trained from weights that do not exist"),
            _ => {}
        }
    };
    let fold_1 = out.join("fold-1").display().to_string();
    assert!(failed.starts_with(&format!("{fold_1}: ")), "{failed}");
    assert!(failed.contains(&nowhere.display().to_string()), "{failed}");
    assert!(!out.join(CV_JSON).exists());
    job.join();

    // A channel no recording has: the plan names the recording it cannot use.
    let mut spec = cv_spec(&eeg, &dir.path().join("unused"), 1);
    spec.options.channels = vec!["Nowhere".into()];
    let job = CvJob::spawn(spec, || {});
    match next(&job) {
        CvEvent::Failed(m) => assert!(m.contains("sub-0"), "{m}"),
        other => panic!("unexpected {}", kind(&other)),
    }
    assert!(!dir.path().join("unused").exists());

    // Too many folds: a one-line error naming the option; nothing written.
    let mut spec = cv_spec(&eeg, &dir.path().join("never"), 1);
    spec.scheme = CvScheme::Folds(1);
    let job = CvJob::spawn(spec, || {});
    match next(&job) {
        CvEvent::Failed(m) => assert!(m.starts_with("--cv: ") && m.contains("at least 2"), "{m}"),
        other => panic!("unexpected {}", kind(&other)),
    }
    assert!(!dir.path().join("never").exists());
}

/// A one-task sweep over the teaching EEG in `dir/sweep`: its `sweep.json`.
fn one_task_sweep(eeg: &Path, dir: &Path, extra: &[&str]) -> PathBuf {
    let mut fixed = vec!["--model=mlp".to_string(), "--batch=8".into()];
    fixed.extend(extra.iter().map(|s| s.to_string()));
    let plan = SweepPlan {
        data: TaskData {
            train: vec![eeg.to_path_buf()],
            ..TaskData::default()
        },
        axes: vec![GridAxis {
            option: "--epochs".into(),
            values: vec!["1".into()],
        }],
        fixed,
        cv: None,
        out: dir.join("sweep"),
    };
    plan_new_sweep(&plan).unwrap();
    plan.out.join("sweep.json")
}

#[test]
fn a_sweep_task_trains_its_run_folder_and_a_failure_is_recorded_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_eeg(dir.path());
    let json = one_task_sweep(&eeg, dir.path(), &[]);
    let task = SweepTaskRun::prepare(&json, 0).unwrap();
    let run_dir = task.run_dir.clone();
    let mut epochs = 0;
    let done = task
        .run(|e| {
            epochs += usize::from(matches!(e, Event::Epoch(_)));
            true
        })
        .unwrap();
    assert_eq!(epochs, 1);
    assert_eq!(done.run_dir, run_dir);
    assert!(run_dir.join("report.json").is_file());
    assert!(done.cv_json.is_none());
    // No such task: the error names sweep.json.
    let missing = SweepTaskRun::prepare(&json, 7).unwrap_err().to_string();
    assert!(
        missing.starts_with(&json.display().to_string()) && missing.contains("task 7"),
        "{missing}"
    );

    // A task that cannot train: the error names its run folder and is kept
    // in logs/task-0.failed.
    let other = tempfile::tempdir().unwrap();
    let json = one_task_sweep(&eeg, other.path(), &["--channels=Nowhere"]);
    let task = SweepTaskRun::prepare(&json, 0).unwrap();
    let run_dir = task.run_dir.clone();
    let error = task.run(|_| true).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}: ", run_dir.display())) && error.contains("sub-0"),
        "{error}"
    );
    let sweep_dir = json.parent().unwrap();
    let recorded = std::fs::read_to_string(TaskFiles::new(sweep_dir, 0).failed).unwrap();
    assert_eq!(recorded.trim_end(), error);
}

#[test]
fn suggestions_need_a_classifier_run_and_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_eeg(dir.path());
    let recording = eeg.join("sub-01.edf");
    let json = one_task_sweep(&eeg, dir.path(), &[]);
    let task = SweepTaskRun::prepare(&json, 0).unwrap();
    let run_dir = task.run(|_| true).unwrap().run_dir;
    let suggestions = suggest_labels(&run_dir, &recording, None).unwrap();
    assert!(!suggestions.items.is_empty());
    assert!(
        suggestions
            .items
            .iter()
            .all(|s| s.confidence >= spindle_learn::jobs::MIN_SUGGESTION_CONFIDENCE)
    );
    let nowhere = dir.path().join("no-run");
    let error = suggest_labels(&nowhere, &recording, None).unwrap_err();
    assert!(error.starts_with(&nowhere.display().to_string()), "{error}");
}
