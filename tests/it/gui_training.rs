//! Drives the real app headless with egui_kittest through training: build a
//! dataset from a folder of labeled recordings, pick a model, start (with the
//! map of the validation windows as it learns), pause,
//! resume, stop; train again to the end; read the results, click a cell of
//! the confusion matrix and jump to one of its windows; compare runs made by
//! the CLI; run the demo.

#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use spindle_app::gui::training::PreviewState;
use spindle_app::gui::{AppCommand, SpindleApp, Tab};
use spindle_learn::train::{JobState, TrainOptions};

use crate::support::app::{AppHarness, step_until};
use crate::support::gui::{app_with_runs, preview_ready, shows, teaching_data};
use crate::support::{self, spindle};

fn state(app: &SpindleApp) -> Option<&JobState> {
    app.parts()
        .training
        .panel
        .history
        .as_ref()
        .map(|h| &h.state)
}

/// Changes the Train view's settings as a saved form would (the command
/// is carried out at the next logic step).
fn set_options(h: &mut AppHarness, change: impl FnOnce(&mut TrainOptions)) {
    let mut options = h.state().parts().training.panel.options.clone();
    change(&mut options);
    h.state_mut()
        .command(AppCommand::SetTrainOptions(Box::new(options)));
}

/// The app on `paths` with its runs in `runs`, in a 1400 x 900 window.
fn harness(paths: Vec<PathBuf>, runs: &Path) -> AppHarness {
    support::app::harness(app_with_runs(paths, runs), 1400.0, 900.0)
}

#[test]
fn builds_a_dataset_trains_with_pause_resume_stop_then_reads_results() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_data(dir.path()).join("eeg");
    let runs = dir.path().join("runs");
    let mut h = harness(vec![eeg.clone()], &runs);
    step_until(&mut h, "the folder scan", 30, |a| {
        !a.is_busy() && a.parts().shell.browser.entries.len() == 5
    });

    // The Train view builds the dataset preview by itself.
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().shell.tab, Tab::Train);
    step_until(&mut h, "the dataset preview", 60, preview_ready);
    assert!(shows(&h, "windows of 2.00 s"));
    assert!(shows(&h, "whole recordings"));

    // Open the registry-driven list (scrolled into view first: the dataset
    // form above it is long) and pick a small model by mouse.
    h.get_by_label("architecture").scroll_to_me();
    h.run_steps(2);
    h.get_by_label("architecture").click_accesskit();
    h.run_steps(2);
    h.get_by_label_contains("MLP").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().training.panel.options.model, "mlp");
    set_options(&mut h, |o| o.epochs = 400);
    step_until(&mut h, "the preview for the MLP", 60, preview_ready);
    assert!(shows(&h, "Layers:"));

    h.get_by_label("Show the map as it learns").click();
    h.run_steps(1);
    assert!(h.state().parts().training.panel.live_map);
    h.get_by_label("Start training").click();
    step_until(&mut h, "training to start", 60, |a| {
        a.parts()
            .training
            .panel
            .history
            .as_ref()
            .is_some_and(|h| !h.batches.is_empty())
    });
    h.get_by_label("Pause").click();
    step_until(&mut h, "the pause", 30, |a| {
        matches!(state(a), Some(JobState::Paused))
    });
    let batches = h
        .state()
        .parts()
        .training
        .panel
        .history
        .as_ref()
        .unwrap()
        .batches
        .len();
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        h.state()
            .parts()
            .training
            .panel
            .history
            .as_ref()
            .unwrap()
            .batches
            .len(),
        batches,
        "no batch while paused"
    );
    h.get_by_label("Resume").click();
    step_until(&mut h, "the resume", 30, |a| {
        a.parts()
            .training
            .panel
            .history
            .as_ref()
            .is_some_and(|h| matches!(h.state, JobState::Running) && h.epochs.len() >= 2)
    });
    h.get_by_label("Stop").click();
    step_until(&mut h, "the stop", 60, |a| {
        matches!(state(a), Some(JobState::Finished(_)))
    });
    {
        let history = h.state().parts().training.panel.history.as_ref().unwrap();
        assert!(history.epochs.len() >= 2 && history.epochs.len() < 400);
        assert!(!history.batches.is_empty(), "the loss chart got its points");
        let JobState::Finished(o) = &history.state else {
            unreachable!()
        };
        assert!(o.stopped_early);
        let map = history
            .live_map
            .as_ref()
            .expect("a map of the validation windows");
        assert!(map.epoch >= 1, "a map after an epoch: {}", map.epoch);
        assert_eq!(map.points.len(), map.n_validation.min(500));
        assert_eq!(map.classes.len(), map.points.len());
    }
    assert!(shows(&h, "The map as it learns:"));
    // The coach and the kept epoch are stated in words.
    assert!(shows(&h, "Coach:"));
    assert!(shows(&h, "are kept"));

    // Results: the score card and the confusion matrix of the stopped run.
    step_until(&mut h, "the run's results", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_some())
    });
    h.get_by_label("See the results").click();
    h.run_steps(3);
    assert_eq!(h.state().parts().shell.tab, Tab::Results);
    assert!(shows(&h, "Test accuracy"));
    assert!(shows(&h, "chance"));
    let cell = "windows of eyes_closed predicted as eyes_closed";
    h.get_by_label_contains(cell).click();
    h.run_steps(3);
    assert!(shows(&h, "of true class eyes_closed called eyes_closed"));
    // A window of that cell opens the viewer at it.
    let row = h
        .state()
        .parts()
        .runs
        .result_run
        .as_ref()
        .unwrap()
        .predictions
        .iter()
        .find(|r| r.truth == "eyes_closed" && r.predicted == "eyes_closed")
        .cloned()
        .expect("a correctly classified eyes_closed window");
    h.get_all_by_label_contains("% sure")
        .next()
        .unwrap()
        .click();
    step_until(&mut h, "the jump to the window", 30, |a| {
        a.parts().shell.tab == Tab::Viewer && a.parts().recording.path().is_some() && !a.is_busy()
    });
    assert_eq!(h.state().parts().recording.path(), Some(row.file.as_path()));
    let (a, b) = h.state().parts().recording.view_range().unwrap();
    assert!(
        a <= row.onset_s && row.onset_s + row.duration_s <= b,
        "window at {} not in view {a}..{b}",
        row.onset_s
    );
    // The run's predictions are drawn under the traces of that recording.
    assert!(
        h.state()
            .parts()
            .derived
            .ribbons
            .iter()
            .any(|r| r.title == "predicted")
    );

    train_again_to_the_end(&mut h);
}

/// Trains again with 3 epochs and lets it finish: two runs in the runs
/// folder.
fn train_again_to_the_end(h: &mut AppHarness) {
    h.get_by_label("Train").click();
    h.run_steps(2);
    set_options(h, |o| o.epochs = 3);
    step_until(h, "the preview", 60, preview_ready);
    h.get_by_label("Start training").click();
    step_until(
        h,
        "the second run",
        120,
        |a| matches!(state(a), Some(JobState::Finished(o)) if o.epochs_run == 3),
    );
    step_until(h, "the runs list", 30, |a| {
        a.parts().runs.panel.entries().len() == 2
    });
}

#[test]
fn runs_made_by_the_cli_open_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_data(dir.path()).join("eeg");
    let runs = dir.path().join("runs");
    for lr in ["0.001", "0.003"] {
        let out = spindle()
            .args(["train", "--runs"])
            .arg(&runs)
            .args(["--model", "mlp", "--epochs", "2", "--lr", lr, "--data"])
            .arg(&eeg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut h = harness(vec![eeg], &runs);
    step_until(&mut h, "the runs list", 30, |a| {
        a.parts().runs.panel.entries().len() == 2
    });
    h.get_by_label("Runs").click();
    h.run_steps(3);
    for node in h.get_all_by_label("compare") {
        node.click();
    }
    step_until(&mut h, "both runs read", 30, |a| {
        a.parts().runs.panel.snapshots.len() == 2
    });
    assert!(shows(&h, "Comparing 2 runs"));
    assert!(
        h.query_by_label("train.lr").is_some(),
        "the differing setting is listed"
    );
    assert!(
        h.query_by_label("train.epochs").is_none(),
        "equal settings are not"
    );
    let first = h.state().parts().runs.panel.entries()[0].dir.clone();
    h.get_all_by_label("Open").next().unwrap().click();
    step_until(&mut h, "the opened run", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.dir == first && r.report.is_some())
    });
    assert_eq!(h.state().parts().shell.tab, Tab::Results);
    assert!(shows(&h, "Test accuracy"));

    // Delete asks first.
    h.get_by_label("Runs").click();
    h.run_steps(2);
    h.get_all_by_label("Delete…").next().unwrap().click();
    h.run_steps(2);
    assert!(shows(&h, "cannot be undone"));
    h.get_by_label("Delete").click();
    step_until(&mut h, "the deletion", 30, |a| {
        a.parts().runs.panel.entries().len() == 1
    });
    assert!(!first.exists());
}

#[test]
fn the_demo_reaches_a_clear_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Vec::new(), &dir.path().join("runs"));
    h.state_mut().command(AppCommand::StartDemo);
    let started = Instant::now();
    step_until(&mut h, "the demo's result", 120, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_some())
    });
    let seconds = started.elapsed().as_secs_f64();
    assert!(h.state().parts().shell.presenting);
    assert_eq!(h.state().parts().shell.tab, Tab::Results);
    let run = h.state().parts().runs.result_run.as_ref().unwrap();
    let test = run
        .report
        .as_ref()
        .and_then(|r| r.test.as_ref())
        .and_then(|s| s.classification())
        .expect("a classification report");
    assert!(
        test.accuracy > test.chance_level + 0.4,
        "accuracy {} against chance {}",
        test.accuracy,
        test.chance_level
    );
    assert!(shows(&h, "Test accuracy"));
    eprintln!("demo result after {seconds:.1} s (test build, shared machine)");
}

#[test]
fn suggested_labels_are_accepted_one_by_one_or_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_data(dir.path()).join("eeg");
    let runs = dir.path().join("runs");
    let out = spindle()
        .args(["train", "--runs"])
        .arg(&runs)
        .args(["--model", "eegnet", "--epochs", "8", "--data"])
        .arg(&eeg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A recording without labels.
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let recording = fresh.join("sub-05.edf");
    let mut unlabeled =
        spindle_signals::recording::read_recording(&eeg.join("sub-05.edf")).unwrap();
    unlabeled.annotations.clear();
    spindle_signals::recording::write_edf(
        &recording,
        &unlabeled,
        &spindle_signals::recording::EdfWriteOptions::default(),
    )
    .unwrap();

    let mut h = harness(vec![recording.clone()], &runs);
    step_until(&mut h, "the recording and the runs", 30, |a| {
        !a.is_busy()
            && a.parts().recording.path().is_some()
            && a.parts().runs.panel.entries().len() == 1
    });
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), 0);
    h.get_by_label("Runs").click();
    h.run_steps(2);
    h.get_by_label("Open").click();
    step_until(&mut h, "the run", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_some())
    });
    h.get_by_label("Suggest labels for sub-05.edf").click();
    step_until(&mut h, "the suggestions", 60, |a| {
        a.parts().recording.suggestions.as_ref().is_some()
    });
    assert_eq!(h.state().parts().shell.tab, Tab::Viewer);
    let n = h
        .state()
        .parts()
        .recording
        .suggestions
        .as_ref()
        .unwrap()
        .1
        .items
        .len();
    assert!(n >= 3, "{n} suggestions");
    // Suggestions are not labels until accepted; they are drawn apart.
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), 0);
    assert!(
        h.state()
            .parts()
            .derived
            .ribbons
            .iter()
            .any(|r| r.title == "suggested")
    );
    assert!(shows(&h, &format!("Suggestions ({n})")));

    h.get_all_by_label("Accept").next().unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), 1);
    h.get_all_by_label("Reject").next().unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), 1);
    assert_eq!(
        h.state()
            .parts()
            .recording
            .suggestions
            .as_ref()
            .unwrap()
            .1
            .items
            .len(),
        n - 2
    );
    h.get_by_label("Accept all").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n - 1);
    assert!(h.state().parts().recording.suggestions.as_ref().is_none());
    // Accepting all is one undo step.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), 1);
}

#[test]
fn a_recording_deleted_after_it_was_chosen_is_named_when_training_and_previewing() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_data(dir.path()).join("eeg");
    let runs = dir.path().join("runs");
    let mut h = harness(vec![eeg.clone()], &runs);
    step_until(&mut h, "the folder scan", 30, |a| {
        !a.is_busy() && a.parts().shell.browser.entries.len() == 5
    });
    h.get_by_label("Train").click();
    h.run_steps(2);
    step_until(&mut h, "the dataset preview", 60, preview_ready);

    // The recording goes away after the dataset was shown.
    let gone = eeg.join("sub-03.edf");
    std::fs::remove_file(&gone).unwrap();
    let expected = format!(
        "{}: not found: the recording was deleted, moved or renamed since it was chosen (or the path is mistyped); check it and choose the data again",
        gone.display()
    );
    h.get_by_label("Start training").click();
    step_until(&mut h, "the training job to fail", 60, |a| {
        matches!(state(a), Some(JobState::Failed(_)))
    });
    match state(h.state()) {
        Some(JobState::Failed(f)) => assert_eq!(f.message, expected),
        other => panic!("unexpected {other:?}"),
    }
    assert!(shows(&h, &format!("Training failed: {expected}")));

    // Building the dataset again says the same.
    h.state_mut().command(AppCommand::Preview);
    step_until(&mut h, "the preview to fail", 60, |a| {
        matches!(*a.parts().training.panel.preview, PreviewState::Failed(_))
    });
    match &*h.state().parts().training.panel.preview {
        PreviewState::Failed(f) => assert_eq!(f.message, expected),
        _ => unreachable!(),
    }
    assert!(shows(&h, &expected));
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
}

/// The Train view cross-validates its settings directly (the library's
/// `CvJob`, as `spindle train --cv` runs it): two folds over the teaching
/// recordings with their progress, each fold's test score listed as it
/// comes, the mean and `cv.json` at the end, the fold runs listed; a
/// second cross-validation is cancelled.
#[test]
fn cross_validates_from_the_train_view_with_fold_results_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let eeg = teaching_data(dir.path()).join("eeg");
    let runs = dir.path().join("runs");
    let mut h = harness(vec![eeg], &runs);
    step_until(&mut h, "the folder scan", 30, |a| {
        !a.is_busy() && a.parts().shell.browser.entries.len() == 5
    });
    h.get_by_label("Train").click();
    h.run_steps(2);
    set_options(&mut h, |o| {
        o.model = "mlp".into();
        o.epochs = 2;
    });
    step_until(&mut h, "the dataset preview", 60, preview_ready);

    let field = h.get_by_label("Folds");
    field.click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Folds").type_text("2");
    h.run_steps(2);
    assert_eq!(h.state().parts().training.panel.cv_folds, "2");
    h.get_by_label("Cross-validate").click();
    step_until(&mut h, "the cross-validation", 120, |a| {
        a.parts().training.cv.as_ref().is_some_and(|cv| cv.over)
    });
    let cv = h.state().parts().training.cv.as_ref().unwrap();
    assert_eq!(cv.folds(), Some(2));
    let folds = cv.finished_folds();
    assert_eq!(
        folds.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        [1, 2],
        "both folds listed in order"
    );
    assert!(
        folds.iter().all(|(_, o)| o.test.is_some()),
        "each fold is tested"
    );
    // The job made the folder and named it when it planned the folds.
    let out = cv.out().expect("the folder made").to_path_buf();
    assert!(out.starts_with(&cv.job.out), "{}", out.display());
    assert!(
        out.join("cv.json").is_file(),
        "cv.json in {}",
        out.display()
    );
    assert!(shows(&h, "Fold 1: test accuracy"));
    assert!(shows(&h, "Fold 2: test accuracy"));
    assert!(shows(&h, "Over 2 folds: test accuracy"));
    assert!(shows(&h, "2 of 2 folds done"));
    assert!(h.state().parts().shell.errors.is_empty());

    // Another one, cancelled while its first fold trains.
    set_options(&mut h, |o| o.epochs = 400);
    step_until(&mut h, "the preview", 60, preview_ready);
    h.get_by_label("Cross-validate").click();
    step_until(&mut h, "the first fold to train", 60, |a| {
        a.parts()
            .training
            .cv
            .as_ref()
            .is_some_and(|cv| cv.out().is_some_and(|o| o != out) && cv.folds().is_some())
    });
    assert!(shows(&h, "fold 1 of 2"));
    h.get_by_label("Cancel cross-validation").click();
    step_until(&mut h, "the cancellation", 60, |a| {
        a.parts().training.cv.as_ref().is_some_and(|cv| cv.over)
    });
    assert!(shows(&h, "Cross-validation cancelled."));
    assert!(h.state().parts().shell.errors.is_empty());
}
