//! A run folder travels between people, so the app reads it as hostile
//! input: a `run.json` edited to an EEGNet of four million filters (which
//! once aborted the process on an allocation of 128 TB) is opened in
//! Results, explained and used for suggestions, and each loader answers
//! with a message naming the file and the setting while the window stays.

#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};

use spindle_app::gui::{AppCommand, Tab};
use spindle_learn::explain::ExplainOptions;
use spindle_signals::testdata::sample;

use crate::support::app::{self, step_until};
use crate::support::gui::{app_with_runs, shows};
use crate::support::{crafted, run_ok, spindle};

/// A two-epoch EEGNet run of the sample EEG in `runs/good`, and a copy of
/// it in `runs/huge` whose run.json claims `f1 = 4000000`.
fn good_and_crafted(runs: &Path) -> (PathBuf, PathBuf) {
    let good = runs.join("good");
    run_ok(
        spindle()
            .args(["train", "--model", "eegnet", "--epochs", "2", "--data"])
            .arg(sample("eeg"))
            .arg("--out")
            .arg(&good),
    );
    let huge = crafted(&good, "huge", |j| j["model"]["f1"] = 4_000_000.into());
    (good, huge)
}

/// True when `text` names the file and the setting, as the CLI's error does.
fn names_the_problem(text: &str) -> bool {
    text.contains("run.json") && text.contains("f1") && text.contains("4000000")
}

#[test]
fn a_crafted_run_folder_gets_a_clear_message_from_every_loader_of_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let (_good, huge) = good_and_crafted(&runs);
    let recording = sample("eeg/sub-05.edf");
    let mut h = app::harness(
        app_with_runs(vec![recording.clone()], &runs),
        1400.0,
        1000.0,
    );

    // Runs: the folder is listed; Results: the problem is shown.
    h.state_mut().command(AppCommand::OpenRun(huge.clone()));
    step_until(&mut h, "the crafted run read", 60, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.dir == huge)
    });
    let run = h.state().parts().runs.result_run.clone().unwrap();
    assert!(run.info.is_none(), "its settings are not trusted");
    let problems: String = run.problems.iter().map(ToString::to_string).collect();
    assert!(names_the_problem(&problems), "{problems}");
    h.state_mut().command(AppCommand::ShowTab(Tab::Results));
    h.run_steps(2);
    assert!(shows(&h, "4000000"), "Results shows the problem");

    // Explain: the job fails with the same message, the window stays.
    h.state_mut()
        .command(AppCommand::Explain(huge.clone(), ExplainOptions::default()));
    step_until(&mut h, "the explanation refused", 60, |a| {
        a.parts().training.explain.failure.is_some()
    });
    let (failed_dir, message) = h.state().parts().training.explain.failure.clone().unwrap();
    assert_eq!(failed_dir, huge);
    assert!(names_the_problem(&message), "{message}");

    // Suggestions: applying the run to a recording is refused the same way.
    step_until(&mut h, "the recording open", 60, |a| {
        a.parts().recording.path() == Some(recording.as_path())
    });
    h.state_mut()
        .command(AppCommand::SuggestLabels(recording.clone()));
    step_until(&mut h, "the suggestion refused", 60, |a| {
        a.parts()
            .shell
            .errors
            .iter()
            .any(|e| names_the_problem(&e.to_string()))
    });
    // The window goes on drawing, and the good run is untouched.
    h.run_steps(2);
    assert!(shows(&h, "4000000"), "the error is listed in the window");
}
