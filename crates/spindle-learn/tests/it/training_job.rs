//! The background training job: its events, pause/resume, stop and cancel.

use std::time::Duration;

use spindle_learn::dataset::DatasetConfig;
use spindle_learn::jobs::{JobError, RunFolder, TrainJob, TrainJobSpec};
use spindle_learn::model::ModelSpec;
use spindle_learn::train::{
    Command, DataRoles, Event, FailureStage, LiveMap, LiveMapOptions, TrainConfig,
};

use crate::support::teaching_eeg;

fn job(dir: &std::path::Path, epochs: usize) -> TrainJob {
    TrainJob::spawn(spec(dir, epochs), || {})
}

fn spec(dir: &std::path::Path, epochs: usize) -> TrainJobSpec {
    let eeg = teaching_eeg(dir);
    TrainJobSpec {
        data: DataRoles {
            train: vec![eeg],
            ..DataRoles::default()
        },
        dataset: DatasetConfig::default(),
        model: ModelSpec::by_name("mlp").unwrap(),
        train: TrainConfig {
            epochs,
            batch_size: Some(8),
            ..TrainConfig::default()
        },
        run_dir: RunFolder::At(dir.join("run")),
        init_from: None,
    }
}

fn next(job: &TrainJob) -> Event {
    job.events
        .recv_timeout(Duration::from_secs(60))
        .expect("an event within a minute")
}

#[test]
fn a_job_asked_for_a_new_run_folder_makes_it_itself() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let spec = spec(dir.path(), 1).in_new_run_folder(runs.clone(), "mlp".into());
    assert!(!runs.exists(), "nothing is made before the job runs");
    let job = TrainJob::spawn(spec, || {});
    let made = loop {
        if let Event::Finished(o) = next(&job) {
            break o.run_dir.expect("a run folder");
        }
    };
    job.join();
    assert_eq!(made.parent(), Some(runs.as_path()));
    assert!(
        made.to_string_lossy().ends_with("_mlp"),
        "{}",
        made.display()
    );
    assert!(made.join("report.json").exists());
}

#[test]
fn events_arrive_in_order_and_a_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), 2);
    let mut kinds = Vec::new();
    loop {
        let e = next(&job);
        let kind = match &e {
            Event::Started(info) => {
                assert_eq!(info.classes.len(), 4);
                assert!(info.n_train > 0 && info.n_validation > 0 && info.n_test > 0);
                "started"
            }
            Event::Batch { .. } => "batch",
            Event::Epoch(m) => {
                assert!(m.train_loss.is_finite() && m.val_loss.is_some());
                "epoch"
            }
            Event::NewBest { .. } => "best",
            Event::Warning(_) => continue,
            Event::Note(n) => {
                assert!(n.starts_with("refit: continuing from epoch"), "{n}");
                "note"
            }
            Event::Finished(o) => {
                assert!(o.test.is_some());
                assert_eq!(o.epochs_run, 2);
                "finished"
            }
            other => panic!("unexpected {other:?}"),
        };
        if kinds.last() != Some(&kind) {
            kinds.push(kind);
        }
        if kind == "finished" {
            break;
        }
    }
    assert_eq!(kinds.first(), Some(&"started"));
    // The sample set is small: the refit's note comes after the epochs,
    // just before the end (the refit's own steps send no events).
    assert!(kinds.ends_with(&["note", "finished"]), "{kinds:?}");
    assert!(kinds.contains(&"batch") && kinds.contains(&"epoch") && kinds.contains(&"best"));
    job.join();
    assert!(dir.path().join("run/report.json").exists());
}

#[test]
fn pause_resume_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), 500);
    while !matches!(next(&job), Event::Batch { .. }) {}
    job.send(Command::Pause).unwrap();
    while !matches!(next(&job), Event::Paused) {}
    // While paused no batch arrives.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        job.events
            .try_iter()
            .all(|e| !matches!(e, Event::Batch { .. }))
    );
    job.send(Command::Resume).unwrap();
    while !matches!(next(&job), Event::Resumed) {}
    while !matches!(next(&job), Event::Batch { .. }) {}
    job.send(Command::Cancel).unwrap();
    loop {
        match next(&job) {
            Event::Cancelled => break,
            Event::Finished(_) | Event::Failed(_) => panic!("cancel must not finish the run"),
            _ => {}
        }
    }
    job.join();
    assert!(
        !dir.path().join("run/report.json").exists(),
        "a cancelled run is not evaluated"
    );
}

#[test]
fn stop_keeps_the_best_checkpoint_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), 500);
    while !matches!(next(&job), Event::NewBest { .. }) {}
    job.send(Command::Stop).unwrap();
    let outcome = loop {
        match next(&job) {
            Event::Finished(o) => break o,
            Event::Failed(m) => panic!("{m}"),
            _ => {}
        }
    };
    assert!(outcome.stopped_early);
    assert!(outcome.epochs_run < 500);
    job.join();
    assert!(dir.path().join("run/report.json").exists());
    assert!(dir.path().join("run/model.safetensors").exists());
}

#[test]
fn a_dropped_handle_cancels_its_job_and_commands_to_an_ended_job_fail() {
    let dir = tempfile::tempdir().unwrap();
    let running = job(dir.path(), 500);
    while !matches!(next(&running), Event::Batch { .. }) {}
    let events = running.events.clone();
    drop(running);
    // The job ends on its own: its event channel closes, cancelled, unevaluated.
    let mut cancelled = false;
    while let Ok(e) = events.recv_timeout(Duration::from_secs(60)) {
        cancelled |= matches!(e, Event::Cancelled);
    }
    assert!(cancelled);
    assert!(!dir.path().join("run/report.json").exists());

    let finished = job(dir.path(), 1);
    while !matches!(next(&finished), Event::Finished(_)) {}
    while !finished.is_finished() {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(finished.send(Command::Pause), Err(JobError::Ended));
}

#[test]
fn a_failure_is_typed_by_stage() {
    let dir = tempfile::tempdir().unwrap();
    let job = TrainJob::spawn(
        TrainJobSpec {
            data: DataRoles {
                train: vec![dir.path().join("missing.edf")],
                ..DataRoles::default()
            },
            dataset: DatasetConfig::default(),
            model: ModelSpec::by_name("mlp").unwrap(),
            train: TrainConfig::default(),
            run_dir: RunFolder::None,
            init_from: None,
        },
        || {},
    );
    loop {
        match next(&job) {
            Event::Failed(f) => {
                assert_eq!(f.stage, FailureStage::Loading);
                assert!(f.message.contains("missing.edf"), "{f}");
                break;
            }
            Event::Warning(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The maps of the validation windows a job of two epochs sends.
fn live_maps(dir: &std::path::Path, live_map: Option<LiveMapOptions>) -> Vec<LiveMap> {
    let mut spec = spec(dir, 2);
    spec.train.live_map = live_map;
    spec.run_dir = RunFolder::None;
    let job = TrainJob::spawn(spec, || {});
    let mut maps = Vec::new();
    loop {
        match next(&job) {
            Event::Map(m) => maps.push(*m),
            Event::Finished(_) => break,
            Event::Failed(f) => panic!("{}", f.message),
            _ => {}
        }
    }
    job.join();
    maps
}

#[test]
fn a_live_map_of_the_validation_windows_comes_every_few_epochs_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let options = LiveMapOptions {
        every_epochs: 2,
        max_windows: 20,
    };
    let maps = live_maps(dir.path(), Some(options));
    let epochs: Vec<usize> = maps.iter().map(|m| m.epoch).collect();
    assert_eq!(
        epochs,
        [0, 1, 2],
        "before training, after the first and the last"
    );
    for m in &maps {
        assert!(m.n_validation > 20, "{}", m.n_validation);
        assert_eq!(m.points.len(), 20, "capped to max_windows");
        assert_eq!(m.classes.len(), 20);
        assert!(m.values.is_empty());
        assert_eq!(m.class_names.len(), 4);
        assert!(m.points.iter().flatten().all(|v| v.is_finite()));
        let spread: f32 = m.points.iter().map(|p| p[0].abs()).sum();
        assert!(spread > 0.0, "the windows do not all sit on one point");
    }
    assert_ne!(
        maps[0].points, maps[2].points,
        "the map moves as the network learns"
    );
    let dir = tempfile::tempdir().unwrap();
    assert!(
        live_maps(dir.path(), None).is_empty(),
        "no maps unless asked"
    );
}
