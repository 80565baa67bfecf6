//! Drives the real app headless with egui_kittest through an explanation: a
//! run made by the CLI is opened, explained from the Explain view (progress,
//! then the bars, the scalp map and the saliency map), a window is opened
//! in the viewer with its saliency drawn over the traces, and an explanation
//! in progress is cancelled.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen
#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{AppCommand, Settings, SpindleApp, Tab};

fn harness(paths: Vec<PathBuf>, runs: &Path) -> Harness<'static, SpindleApp> {
    let settings = Settings {
        runs_dir: Some(runs.to_path_buf()),
        ..Settings::default()
    };
    let app = SpindleApp::new(paths, settings);
    Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(
            |ui, app: &mut SpindleApp| {
                app.run_logic(ui.ctx());
                app.show(ui);
            },
            app,
        )
}

fn step_until(
    h: &mut Harness<'static, SpindleApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&SpindleApp) -> bool,
) {
    let started = Instant::now();
    while !done(h.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(limit_s),
            "{what} did not happen within {limit_s} s; errors: {:?}",
            h.state().errors()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

fn shows(h: &Harness<'static, SpindleApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// A small run on the teaching EEG, trained by the CLI into `dir/run`.
fn trained_run(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    spindle_signals::synth::write_teaching_data(&data, 5).unwrap();
    let eeg = data.join("eeg");
    let run = dir.join("runs").join("run");
    let out = Process::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["train", "--model", "eegnet", "--epochs", "4", "--out"])
        .arg(&run)
        .arg("--data")
        .arg(&eeg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (eeg, run)
}

#[test]
fn a_run_is_explained_from_the_app_and_its_saliency_drawn_over_the_traces() {
    let dir = tempfile::tempdir().unwrap();
    let (eeg, run) = trained_run(dir.path());
    let runs = dir.path().join("runs");
    let mut h = harness(vec![eeg], &runs);
    h.state_mut().command(AppCommand::OpenRun(run.clone()));
    step_until(&mut h, "the run read", 30, |a| {
        a.result_run().is_some_and(|r| r.report.is_some())
    });
    h.get_by_label("Explain").click();
    h.run_steps(2);
    assert_eq!(h.state().tab(), Tab::Explain);
    assert!(shows(&h, "not what the brain does"), "the caveat is shown");
    assert!(shows(&h, "has not been explained yet"));
    // The quick methods only: the bands and the channel × frequency map
    // have their own tests.
    h.get_by_label("Frequency bands").click();
    h.get_by_label("Channel × frequency").click();
    h.run_steps(1);
    h.get_by_label("Explain this run").click();
    step_until(&mut h, "the explanation's start", 30, |a| a.is_explaining());
    h.run_steps(1);
    assert!(
        shows(&h, "Cancel explanation") || h.state().explanation().is_some(),
        "progress and a way out while it runs"
    );
    step_until(&mut h, "the explanation", 120, |a| {
        a.explanation().is_some_and(|(d, _)| d == run)
    });
    assert!(
        run.join("explain.json").exists(),
        "written into the run folder"
    );
    let (_, e) = h.state().explanation().unwrap();
    let channels = e.channels.as_ref().expect("channel importance");
    assert_eq!(channels.len(), 12, "one bar per channel of the run");
    assert!(e.bands.is_none() && e.amplitude.is_none());
    assert!(shows(&h, "Channel importance:"));
    assert!(shows(&h, "The network relies most on") || shows(&h, "No single channel"));
    assert!(shows(&h, "Saliency over time for"));
    assert!(h.query_by_label("Explain again").is_some());

    // A window of the list opens in the viewer with its saliency over it.
    h.get_by_label_contains("Explained windows").scroll_to_me();
    h.run_steps(2);
    h.get_by_label_contains("Explained windows")
        .click_accesskit();
    h.run_steps(2);
    h.get_all_by_label_contains("predicted")
        .next()
        .expect("the explained windows listed")
        .scroll_to_me();
    h.run_steps(2);
    h.get_all_by_label_contains("predicted")
        .next()
        .unwrap()
        .click_accesskit();
    step_until(&mut h, "the window in the viewer", 30, |a| {
        a.tab() == Tab::Viewer && a.open_recording().is_some() && !a.heat().is_empty()
    });
    let open = h.state().open_recording().unwrap().to_path_buf();
    let (_, e) = h.state().explanation().unwrap();
    let on_file = e
        .saliency
        .as_ref()
        .unwrap()
        .windows
        .iter()
        .filter(|w| w.file == open)
        .count();
    assert_eq!(
        h.state().heat().len(),
        on_file,
        "one span per explained window of the file"
    );

    // Reopening the app finds the explanation in the run folder.
    drop(h);
    let mut h = harness(Vec::new(), &runs);
    h.state_mut().command(AppCommand::OpenRun(run.clone()));
    step_until(&mut h, "the saved explanation", 30, |a| {
        a.explanation().is_some_and(|(d, _)| d == run)
    });

    // An explanation can be cancelled.
    h.get_by_label("Explain").click();
    h.run_steps(2);
    h.get_by_label("Explain again").click();
    step_until(&mut h, "the second explanation's start", 30, |a| {
        a.is_explaining()
    });
    h.run_steps(1);
    h.get_by_label("Cancel explanation").click();
    step_until(&mut h, "the cancellation", 60, |a| !a.is_explaining());
    assert!(shows(&h, "explanation cancelled"));
    assert!(
        h.state().explanation().is_some(),
        "the earlier explanation stays"
    );
}
