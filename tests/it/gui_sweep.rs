//! The real app under egui_kittest opens a sweep folder made by `spindle
//! sweep`: its tasks with their status, and the comparison of the finished
//! ones with the setting the grid varied.

#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use spindle_signals::testdata::sample;

use crate::support::app::harness;
use crate::support::gui::{app_with_runs, shows};
use crate::support::spindle;

#[test]
fn the_runs_view_opens_a_sweep_folder_with_its_tasks_and_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    let data = sample("eeg");
    let out = spindle()
        .env("RAYON_NUM_THREADS", "1")
        .args(["sweep", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&sweep)
        .args([
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--lr",
            "0.001,0.01,0.1",
            "--local",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The last task lost its report: it is to be run again.
    std::fs::remove_file(sweep.join("002_lr=0.1/report.json")).unwrap();

    let mut h = harness(
        app_with_runs(Vec::new(), &tmp.path().join("runs")),
        1400.0,
        1000.0,
    );
    h.get_by_label("Runs").click();
    h.run_steps(3);
    assert!(shows(&h, "Open its folder to follow its tasks"));
    let field = h.get_by_label("Sweep folder");
    field.click();
    field.type_text(&sweep.display().to_string());
    h.run_steps(2);
    h.get_by_label("Open sweep").click();
    let started = Instant::now();
    while h.state().parts().runs.panel.sweep.snapshot.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sweep was not read; errors: {:?}",
            h.state().parts().shell.errors
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(3);
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
    assert!(
        shows(&h, "3 tasks, 2 done, 0 running, 1 pending, 0 failed"),
        "the task counts"
    );
    for name in ["000_lr=0.001", "001_lr=0.01", "002_lr=0.1"] {
        assert!(shows(&h, name), "{name} listed");
    }
    assert!(shows(&h, "pending") && shows(&h, "done"));
    assert!(h.query_by_label("Run remaining tasks here").is_some());
    assert!(shows(&h, "Finished tasks compared"));
    assert!(h.query_by_label("train.lr").is_some(), "the varied setting");
    let snapshot = h.state().parts().runs.panel.sweep.snapshot.clone().unwrap();
    let scored = snapshot
        .comparison
        .runs
        .iter()
        .filter(|r| !r.test.is_empty())
        .count();
    assert_eq!(scored, 2);

    // A finished task opens in Results.
    let first = snapshot
        .comparison
        .runs
        .iter()
        .find(|r| !r.test.is_empty())
        .unwrap()
        .dir
        .clone();
    h.get_all_by_label("Open").next().unwrap().click();
    let started = Instant::now();
    while !h
        .state()
        .parts()
        .runs
        .result_run
        .as_ref()
        .is_some_and(|r| r.dir == first && r.report.is_some())
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the task's run did not open"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(h.state().parts().shell.tab, spindle_app::gui::Tab::Results);
    h.get_by_label("Runs").click();
    h.run_steps(3);

    // A folder that holds no sweep is reported, naming it.
    let field = h.get_by_label("Sweep folder");
    field.click();
    field.type_text("/nonexistent");
    h.run_steps(2);
    h.get_by_label("Open sweep").click();
    let started = Instant::now();
    while h.state().parts().shell.errors.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no error shown"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let error = h.state().parts().shell.errors[0].to_string();
    assert!(error.contains("sweep.json"), "{error}");
}

#[test]
fn a_new_sweep_is_planned_from_the_train_views_recordings_and_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample("eeg");
    let mut h = harness(
        app_with_runs(vec![data], &tmp.path().join("runs")),
        1400.0,
        1000.0,
    );
    let started = Instant::now();
    while h
        .state()
        .parts()
        .training
        .panel
        .data_roles()
        .train
        .is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(30), "no recordings");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.get_by_label("Runs").click();
    h.run_steps(3);
    h.get_by_label("New sweep from the Train view's settings")
        .click();
    h.run_steps(3);
    let sweep = tmp.path().join("planned");
    for (field, text) in [
        ("models", "mlp".to_string()),
        ("learning rates", "0.001,0.01".to_string()),
        ("seeds", "0,1".to_string()),
        ("sweep folder", sweep.display().to_string()),
    ] {
        let node = h.get_by_label(field);
        node.click();
        node.type_text(&text);
        h.run_steps(2);
    }
    h.get_by_label("Plan sweep").click();
    let started = Instant::now();
    while h.state().parts().runs.panel.sweep.snapshot.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not planned; errors: {:?}",
            h.state().parts().shell.errors
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(3);
    assert!(shows(&h, "4 tasks, 0 done, 0 running, 4 pending, 0 failed"));
    assert!(h.query_by_label("Run remaining tasks here").is_some());
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sweep.join("sweep.json")).unwrap()).unwrap();
    let tasks = plan["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4);
    assert_eq!(tasks[3]["options"]["lr"], 0.01);
    assert_eq!(tasks[3]["options"]["seed"], 1);
    assert_eq!(tasks[3]["options"]["model"], "mlp");
    assert!(!tasks[0]["data"]["train"].as_array().unwrap().is_empty());
}
