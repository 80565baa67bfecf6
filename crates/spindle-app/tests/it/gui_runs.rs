//! The Runs view with many runs, driven by accessible labels: sorted by a
//! click on a column's header, filtered as the user types, a
//! cross-validation's runs nested under their folder with the mean ± sd of
//! their scores, a run pinned, tagged and annotated (`note.json` in its
//! folder, read again by a new app), a damaged note shown, not fatal; and
//! fine-tuning started from a run, naming the layers re-initialized.

use std::path::{Path, PathBuf};

use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{AppCommand, RunsListSettings, Settings, SortKey, SpindleApp};
use spindle_learn::runs::RunNote;
use spindle_learn::train::JobState;
use spindle_signals::eval::ClassificationReport;
use spindle_signals::recording::{EdfWriteOptions, sidecar_path, write_edf, write_events_tsv};
use spindle_signals::synth::{SAMPLE_SEED, synth_subject};

use crate::support::app::{AppHarness, harness, step_until};

/// The app on runs folder `runs` (and `paths`), in a 1400 x 900 window.
fn app(paths: Vec<PathBuf>, runs: &Path) -> AppHarness {
    let settings = Settings {
        runs_dir: Some(runs.to_path_buf()),
        ..Settings::default()
    };
    harness(SpindleApp::new(paths, settings), 1400.0, 900.0)
}

/// Writes a run folder `runs/rel` as training leaves it, as far as the list
/// reads it: `run.json` (model `kind`, one data file), `metrics.csv` and a
/// `report.json` with test accuracy `correct` in 10, `seconds` of training,
/// its files `age_h` hours old.
fn craft(runs: &Path, rel: &str, kind: &str, correct: usize, seconds: f64, age_h: u64) -> PathBuf {
    let dir = runs.join(rel);
    std::fs::create_dir_all(&dir).unwrap();
    let info = serde_json::json!({
        "model": {"kind": kind},
        "data": [{"path": format!("/data/{kind}-subject.edf"), "role": "train", "sha256": ""}],
    });
    std::fs::write(dir.join("run.json"), info.to_string()).unwrap();
    std::fs::write(dir.join("metrics.csv"), "epoch\n").unwrap();
    let truth = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
    let predicted: Vec<usize> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| if i < correct { t } else { 1 - t })
        .collect();
    let test = ClassificationReport::new(&["a", "b"], &truth, &predicted, None).unwrap();
    let report = serde_json::json!({
        "test": test, "validation": test, "best_epoch": 1, "epochs_run": 2,
        "stopped_early": false, "train_seconds": seconds,
    });
    std::fs::write(dir.join("report.json"), report.to_string()).unwrap();
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(age_h * 3600);
    for f in ["run.json", "metrics.csv", "report.json"] {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(f))
            .unwrap();
        file.set_modified(t).unwrap();
    }
    dir
}

/// Shows the Runs view and waits for `n` runs to be listed.
fn show_runs(h: &mut AppHarness, n: usize) {
    h.get_by_label("Runs").click();
    step_until(h, "the runs listed", 30, |a| {
        a.parts().runs.panel.entries().len() == n && !a.is_busy()
    });
}

/// The height at which the widget labeled `label` is drawn.
fn y(h: &AppHarness, label: &str) -> f32 {
    h.get_by_label(label).rect().center().y
}

/// True when the labels are drawn in this order from the top.
fn top_to_bottom(h: &AppHarness, labels: &[&str]) -> bool {
    let ys: Vec<f32> = labels.iter().map(|l| y(h, l)).collect();
    ys.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn runs_sort_by_a_header_click_filter_as_typed_and_nest_a_cross_validation() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    craft(&runs, "2026-01-01_a", "eegnet", 4, 10.0, 5);
    craft(&runs, "2026-01-02_b", "crnn", 10, 20.0, 4);
    craft(&runs, "2026-01-03_c", "deep4", 3, 30.0, 3);
    for (k, correct) in [(1, 8), (2, 7), (3, 6)] {
        craft(
            &runs,
            &format!("cv-eegnet/fold-{k}"),
            "eegnet",
            correct,
            5.0,
            2,
        );
    }
    let mut h = app(Vec::new(), &runs);
    show_runs(&mut h, 6);

    // The cross-validation is one row: its runs' mean ± sd, closed.
    assert!(h.query_by_label("0.700 ± 0.100").is_some());
    assert!(h.query_by_label("3 runs").is_some());
    assert!(h.query_by_label_contains("fold-2").is_none());
    // Newest first: the cross-validation (2 h), then c, b, a.
    assert!(top_to_bottom(
        &h,
        &["cv-eegnet", "2026-01-03_c", "2026-01-02_b", "2026-01-01_a"]
    ));

    // Best score first, then worst first.
    h.get_by_label("score").click();
    h.run_steps(2);
    assert!(top_to_bottom(
        &h,
        &["1.000", "0.700 ± 0.100", "0.400", "0.300"]
    ));
    h.get_by_label("score").click();
    h.run_steps(2);
    assert!(top_to_bottom(
        &h,
        &["0.300", "0.400", "0.700 ± 0.100", "1.000"]
    ));

    // Opened, the folds are listed under it, best first here too... in the
    // order asked for (worst first).
    h.get_by_label("⏵").click();
    h.run_steps(2);
    assert!(top_to_bottom(
        &h,
        &["0.700 ± 0.100", "0.600", "0.700", "0.800", "1.000"]
    ));

    // Typing filters: a model, then a data file, then nothing matches.
    let field = h.get_by_label("Filter");
    field.click();
    h.run_steps(1);
    h.get_by_label("Filter").type_text("crnn");
    h.run_steps(2);
    assert!(h.query_by_label("1.000").is_some());
    assert!(h.query_by_label("0.400").is_none());
    assert!(h.query_by_label("0.700 ± 0.100").is_none());
    assert!(h.query_by_label_contains("1 of 6 runs").is_some());
    h.get_by_label("Clear").click();
    h.run_steps(2);
    h.get_by_label("Filter").click();
    h.run_steps(1);
    h.get_by_label("Filter").type_text("eegnet-subject fold-3");
    h.run_steps(2);
    assert!(h.query_by_label("0.600 ± 0.000").is_some());
    assert!(h.query_by_label("0.400").is_none());
    assert!(h.state().parts().shell.errors.is_empty());
}

#[test]
fn the_runs_list_order_and_filter_come_back_from_the_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    craft(&runs, "2026-01-01_a", "eegnet", 4, 10.0, 5);
    craft(&runs, "2026-01-02_b", "crnn", 10, 20.0, 4);
    craft(&runs, "2026-01-03_c", "eegnet", 9, 30.0, 3);
    let settings = Settings {
        runs_dir: Some(runs.clone()),
        runs_list: RunsListSettings {
            sort: SortKey::Score,
            descending: false,
            filter: "eegnet".into(),
        },
        ..Settings::default()
    };
    let mut h = harness(SpindleApp::new(Vec::new(), settings), 1400.0, 900.0);
    show_runs(&mut h, 3);
    h.run_steps(2);
    // Filtered and worst score first, as the last session left it.
    assert!(h.query_by_label("2026-01-02_b").is_none());
    assert!(top_to_bottom(&h, &["2026-01-01_a", "2026-01-03_c"]));
    // A click changes the order the next session gets.
    h.get_by_label("score").click();
    h.run_steps(2);
    assert!(top_to_bottom(&h, &["2026-01-03_c", "2026-01-01_a"]));
    let view = &h.state().parts().runs.panel.view;
    assert_eq!((view.sort, view.descending), (SortKey::Score, true));
}

#[test]
fn a_pin_tags_and_note_are_saved_in_the_run_folder_and_read_again() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let old = craft(&runs, "old-run", "eegnet", 6, 10.0, 5);
    craft(&runs, "new-run", "crnn", 7, 10.0, 1);
    let damaged = craft(&runs, "damaged-run", "deep4", 5, 10.0, 3);
    std::fs::write(damaged.join("note.json"), "{\"pinned\": tru").unwrap();
    let mut h = app(Vec::new(), &runs);
    show_runs(&mut h, 3);
    assert!(top_to_bottom(&h, &["new-run", "damaged-run", "old-run"]));
    // The damaged note is said, nothing else breaks.
    assert!(h.query_by_label("⚠ note.json unreadable").is_some());

    // The old run's note: pinned, two tags, a line of text.
    h.get_all_by_label("Note…").nth(2).unwrap().click();
    h.run_steps(2);
    assert!(h.query_by_label("Note on old-run").is_some());
    h.get_by_label("Pinned on top").click();
    h.get_by_label("Tags").click();
    h.run_steps(1);
    h.get_by_label("Tags").type_text("baseline, paper");
    h.get_by_label("Note").click();
    h.run_steps(1);
    h.get_by_label("Note").type_text("lr too high?");
    h.run_steps(1);
    h.get_by_label("Save note").click();
    step_until(&mut h, "the note saved", 30, |a| {
        a.parts()
            .runs
            .panel
            .entries()
            .iter()
            .any(|e| e.dir == old && e.note.pinned)
    });
    let expected = RunNote {
        pinned: true,
        tags: vec!["baseline".into(), "paper".into()],
        note: "lr too high?".into(),
    };
    assert_eq!(RunNote::load(&old).unwrap(), Some(expected));
    assert!(top_to_bottom(&h, &["old-run", "new-run", "damaged-run"]));

    // Compared, the note is shown beside the other run's scores.
    for i in [0, 1] {
        h.get_all_by_role(Role::CheckBox).nth(i).unwrap().click();
        h.run_steps(1);
    }
    step_until(&mut h, "the runs read for comparison", 30, |a| {
        a.parts().runs.panel.snapshots.len() == 2
    });
    assert!(h.query_by_label("Comparing 2 runs").is_some());
    assert!(h.query_by_label("lr too high?").is_some());
    drop(h);

    // A new app reads it back: pinned on top, its tags found by the filter.
    let mut h = app(Vec::new(), &runs);
    show_runs(&mut h, 3);
    assert!(top_to_bottom(&h, &["old-run", "new-run", "damaged-run"]));
    assert!(h.query_by_label("baseline, paper ✏ lr too high?").is_some());
    h.get_by_label("Filter").click();
    h.run_steps(1);
    h.get_by_label("Filter").type_text("paper");
    h.run_steps(2);
    assert!(h.query_by_label("old-run").is_some());
    assert!(h.query_by_label("new-run").is_none());
    assert!(h.state().parts().shell.errors.is_empty());
}

/// Writes generated subjects 1 and 2 (60 s each) with their labels into
/// `dir`.
fn write_subjects(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for subject in [1, 2] {
        let path = dir.join(format!("sub-0{subject}.edf"));
        let (recording, labels) = synth_subject(subject, 60.0, SAMPLE_SEED);
        write_edf(&path, &recording, &EdfWriteOptions::default()).unwrap();
        write_events_tsv(&sidecar_path(&path), &labels).unwrap();
    }
}

/// The app on generated subjects 1 and 2 written under `dir` (runs in
/// `dir/runs`, returned), once its folder scan has listed them.
fn two_subjects(dir: &Path) -> (AppHarness, PathBuf) {
    let data = dir.join("eeg");
    write_subjects(&data);
    let runs = dir.join("runs");
    let mut h = app(vec![data], &runs);
    step_until(&mut h, "the folder scan", 30, |a| {
        !a.is_busy() && a.parts().shell.browser.entries.len() == 2
    });
    (h, runs)
}

/// The Train view's dataset preview is ready and nothing else is running.
fn preview_ready(a: &SpindleApp) -> bool {
    matches!(
        *a.parts().training.panel.preview,
        spindle_app::gui::training::PreviewState::Ready(_)
    ) && !a.is_busy()
}

fn finished(a: &SpindleApp, n: usize) -> bool {
    let runs = a.parts().runs.panel.entries();
    a.parts()
        .training
        .panel
        .history
        .as_ref()
        .is_some_and(|h| matches!(h.state, JobState::Finished(_)))
        && runs.len() == n
        && !a.is_busy()
}

#[test]
fn cross_validation_started_from_the_train_view_makes_its_folder_off_the_ui_thread() {
    // The harness fails any frame that touches a file: the folder is made
    // by the job, not by the click's frame.
    let tmp = tempfile::tempdir().unwrap();
    let (mut h, runs) = two_subjects(tmp.path());
    let mut o = h.state().parts().training.panel.options.clone();
    o.model = "mlp".into();
    o.epochs = 1;
    h.state_mut()
        .command(AppCommand::SetTrainOptions(Box::new(o)));
    h.get_by_label("Train").click();
    step_until(&mut h, "the dataset preview", 60, preview_ready);
    h.get_by_label("Folds").click();
    h.run_steps(1);
    h.key_press(eframe::egui::Key::Backspace);
    h.run_steps(1);
    h.get_by_label("Folds").type_text("2");
    h.run_steps(1);
    h.get_by_label("Cross-validate").click();
    step_until(&mut h, "the cross-validation", 240, |a| {
        a.parts().training.cv.as_ref().is_some_and(|cv| cv.over) && !a.is_busy()
    });
    let cv = h.state().parts().training.cv.as_ref().unwrap();
    let out = cv
        .out()
        .expect("the job said which folder it made")
        .to_path_buf();
    assert!(out.starts_with(&runs), "{}", out.display());
    assert!(out.join("cv.json").is_file(), "{}", out.display());
    assert!(out.join("fold-2").is_dir());
    assert!(h.state().parts().shell.errors.is_empty());
}

#[test]
fn fine_tuning_from_a_run_names_the_layers_it_re_initializes() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut h, _) = two_subjects(tmp.path());
    let set = |h: &mut AppHarness, classes: Vec<String>| {
        let mut o = h.state().parts().training.panel.options.clone();
        o.model = "mlp".into();
        o.epochs = 1;
        o.classes = classes;
        h.state_mut()
            .command(AppCommand::SetTrainOptions(Box::new(o)));
    };
    h.get_by_label("Train").click();
    set(&mut h, vec!["blink".into(), "eyes_open".into()]);
    step_until(&mut h, "the dataset preview", 60, preview_ready);
    h.get_by_label("Start training").click();
    step_until(&mut h, "the first run", 120, |a| finished(a, 1));

    // From the Runs view: Fine-tune starts the next run from its weights.
    show_runs(&mut h, 1);
    let first = h.state().parts().runs.panel.entries()[0].dir.clone();
    h.get_by_label("Fine-tune").click();
    h.run_steps(2);
    assert_eq!(
        h.state().parts().training.panel.init_from.as_deref(),
        Some(first.as_path())
    );
    let name = first.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        h.query_by_label(&format!("the weights of {name}"))
            .is_some()
    );

    // All four classes now: the output layer cannot be reused.
    set(&mut h, Vec::new());
    step_until(&mut h, "the preview of four classes", 60, |a| {
        preview_ready(a) && !a.parts().training.panel.preview_is_stale()
    });
    h.get_by_label("Start training").click();
    step_until(&mut h, "the fine-tuned run", 120, |a| finished(a, 2));
    let warnings = &h
        .state()
        .parts()
        .training
        .panel
        .history
        .as_ref()
        .unwrap()
        .warnings;
    let message = warnings
        .iter()
        .find(|w| w.starts_with("fine-tuning: started from"))
        .unwrap_or_else(|| panic!("no fine-tuning message in {warnings:?}"));
    assert!(
        message.contains("re-initialized (they do not fit the new data)"),
        "{message}"
    );
    assert!(
        message.contains("[4, ") && message.contains("[2, "),
        "{message}"
    );
    assert!(
        h.query_by_label_contains("re-initialized (they do not fit")
            .is_some()
    );
}

#[test]
fn a_fold_run_shows_its_cross_validation_in_results_with_each_fold_a_click_away() {
    use spindle_learn::dataset::{CvScheme, Fold, FoldKind};
    use spindle_learn::runs::{CvFold, CvSummary};
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let cv_dir = runs.join("cv-eegnet");
    let folds: Vec<CvFold> = [(1, 8), (2, 7), (3, 6)]
        .into_iter()
        .map(|(k, correct)| CvFold {
            fold: Fold {
                number: k,
                subject: None,
                test_files: vec![PathBuf::from(format!("sub-0{k}.edf"))],
                train_files: Vec::new(),
                test_trials: Vec::new(),
            },
            run_dir: craft(
                &runs,
                &format!("cv-eegnet/fold-{k}"),
                "eegnet",
                correct,
                5.0,
                2,
            ),
        })
        .collect();
    CvSummary::from_runs(CvScheme::Folds(3), FoldKind::Recordings, folds)
        .unwrap()
        .save(&cv_dir)
        .unwrap();
    let mut h = app(Vec::new(), &runs);
    show_runs(&mut h, 3);
    h.get_by_label("⏵").click();
    h.run_steps(2);
    // The folds in date order: all the same age, so by name (in the
    // sort's direction).
    h.get_all_by_label("Open").next().unwrap().click();
    step_until(&mut h, "the fold shown in Results", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.cv.is_some())
            && !a.is_busy()
    });
    assert!(h.query_by_label("Cross-validation: 3 folds").is_some());
    assert!(
        h.query_all_by_label("0.700 ± 0.100").count() >= 1,
        "the mean ± sd"
    );
    assert!(h.query_by_label("tested on sub-02.edf").is_some());
    assert!(
        h.query_by_label_contains("Quote the cross-validated mean")
            .is_some()
    );
    let shown = h
        .state()
        .parts()
        .runs
        .result_run
        .as_ref()
        .unwrap()
        .dir
        .clone();
    let other = if shown.ends_with("fold-2") {
        "Open fold 3"
    } else {
        "Open fold 2"
    };
    h.get_by_label(other).click();
    step_until(&mut h, "the other fold shown", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.dir != shown)
            && !a.is_busy()
    });
    let now = h
        .state()
        .parts()
        .runs
        .result_run
        .as_ref()
        .unwrap()
        .dir
        .clone();
    assert_eq!(now.parent(), Some(cv_dir.as_path()));
    assert!(h.state().parts().shell.errors.is_empty());
}

/// Not a test: how long listing 400 runs takes and how long a frame of the
/// Runs view takes with them, sorted by date, by score and filtered.
/// `cargo test --release -p spindle-app --test it runs_view_bench -- --ignored --nocapture`
#[test]
#[ignore = "a measurement; run it on its own"]
fn runs_view_bench() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let kinds = ["eegnet", "crnn", "deep4", "shallow", "cnn1d", "mlp"];
    for i in 0..400 {
        let kind = kinds[i % kinds.len()];
        let rel = if i < 60 {
            format!("cv-{}/fold-{}", i / 5, i % 5 + 1)
        } else {
            format!("run-{i:03}_{kind}")
        };
        craft(&runs, &rel, kind, i * 7 % 11, i as f64, (i % 97) as u64);
    }
    let started = std::time::Instant::now();
    let listed = spindle_learn::runs::list_runs(&runs);
    println!(
        "list_runs: {} runs in {:.1} ms",
        listed.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut h = app(Vec::new(), &runs);
    show_runs(&mut h, 400);
    let frames = |h: &mut AppHarness, what: &str| {
        h.run_steps(5);
        let started = std::time::Instant::now();
        for _ in 0..50 {
            h.step();
        }
        println!(
            "{what}: {:.2} ms a frame (logic + drawing, 1400 x 900)",
            started.elapsed().as_secs_f64() * 1e3 / 50.0
        );
    };
    frames(&mut h, "400 runs by date");
    h.get_by_label("score").click();
    frames(&mut h, "400 runs by score");
    h.get_by_label("Filter").click();
    h.run_steps(1);
    h.get_by_label("Filter").type_text("eegnet");
    frames(&mut h, "filtered by eegnet");
}
