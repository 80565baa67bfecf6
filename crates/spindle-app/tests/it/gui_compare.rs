//! The comparison layer on bundled night 1, driven headless through
//! egui_kittest: a second scorer's file (the night's labels with a few
//! epochs changed) opened beside the user's labels, the agreement panel
//! against a hand count, stepping through the disagreements with D and
//! Shift+D, and a small sleep run's stages as a model layer whose least
//! confident epochs are reviewed (accept, correct, undo).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{AppCommand, Tab};
use spindle_learn::jobs::{TrainJob, TrainJobSpec};
use spindle_learn::train::{DataRoles, Event, TrainOptions};
use spindle_signals::recording::read_events_tsv;
use spindle_signals::testdata;

use crate::gui_desk::{copy_night, key, open_night, range, stage_at};
use crate::support::app::{AppHarness, settle, step_until};

/// Another stage for each, so that a changed epoch always disagrees.
fn other_stage(stage: &str) -> &'static str {
    match stage {
        "W" => "N1",
        "N1" => "N2",
        "N2" => "N3",
        "N3" => "N2",
        _ => "W",
    }
}

/// A second scorer's file of the night in `dir`: its labels with the
/// epochs `changed` given another stage, in `dir/other/`. Returns the file
/// and both scorers' stages, epoch by epoch.
fn second_scorer(dir: &Path, changed: &[usize]) -> (PathBuf, Vec<String>, Vec<String>) {
    let labels = read_events_tsv(&dir.join("sub-01_night_events.tsv")).unwrap();
    let mine: Vec<String> = labels.labels.iter().map(|l| l.trial_type.clone()).collect();
    let theirs: Vec<String> = mine
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if changed.contains(&i) {
                other_stage(s).to_owned()
            } else {
                s.clone()
            }
        })
        .collect();
    let mut tsv = String::from("onset\tduration\ttrial_type\n");
    for (l, stage) in labels.labels.iter().zip(&theirs) {
        tsv.push_str(&format!("{:.3}\t{:.3}\t{stage}\n", l.onset_s, l.duration_s));
    }
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let file = other.join("sub-01_night_events.tsv");
    std::fs::write(&file, tsv).unwrap();
    (file, mine, theirs)
}

/// Percent agreement and Cohen's kappa of two lists, counted here:
/// observed agreement against the agreement the two scorers' stage
/// frequencies give by chance.
fn hand_kappa(a: &[String], b: &[String]) -> (f64, f64) {
    let n = a.len() as f64;
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64;
    let mut count_a: BTreeMap<&str, f64> = BTreeMap::new();
    let mut count_b: BTreeMap<&str, f64> = BTreeMap::new();
    for (x, y) in a.iter().zip(b) {
        *count_a.entry(x).or_default() += 1.0;
        *count_b.entry(y).or_default() += 1.0;
    }
    let chance: f64 = count_a
        .iter()
        .map(|(s, ca)| ca * count_b.get(s).copied().unwrap_or(0.0))
        .sum::<f64>()
        / (n * n);
    let observed = agree / n;
    (100.0 * observed, (observed - chance) / (1.0 - chance))
}

fn open_comparison(h: &mut AppHarness, file: &Path) {
    h.state_mut()
        .command(AppCommand::Compare(file.to_path_buf()));
    step_until(h, "the comparison layer", 30, |app| {
        app.parts().derived.agreement.is_some()
    });
}

#[test]
fn another_scorers_file_is_a_layer_with_its_agreement_and_its_disagreements_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let night = copy_night(dir.path());
    let changed = [10, 50, 51, 200];
    let (file, mine, theirs) = second_scorer(dir.path(), &changed);
    let sidecar = dir.path().join("sub-01_night_events.tsv");
    let before = std::fs::read(&sidecar).unwrap();
    let mut h = open_night(&night);
    open_comparison(&mut h, &file);

    // The layer: its bar and ribbon, named by the file; the user's labels
    // untouched.
    assert!(
        h.query_by_label("Compared with sub-01_night_events.tsv")
            .is_some()
    );
    assert!(h.query_by_label("Close comparison").is_some());
    let ribbons = &h.state().parts().derived.ribbons;
    assert_eq!(ribbons[0].title, "sub-01_night_e");
    let flagged: Vec<f64> = ribbons[0]
        .spans
        .iter()
        .filter(|s| s.flagged)
        .map(|s| s.start_s)
        .collect();
    let onsets: Vec<f64> = changed.iter().map(|&i| i as f64 * 30.0).collect();
    assert_eq!(flagged, onsets);
    assert_eq!(
        h.state().parts().recording.labels().unwrap().len(),
        mine.len()
    );

    // The agreement panel says what a hand count says.
    let (percent, kappa) = hand_kappa(&mine, &theirs);
    assert!((percent - 100.0 * 319.0 / 323.0).abs() < 1e-9);
    assert!(h.query_by_label("Percent agreement").is_some());
    assert!(h.query_by_label(&format!("{percent:.1} %")).is_some());
    assert!(h.query_by_label("Cohen's kappa").is_some());
    assert!(
        h.query_by_label(&format!("{kappa:.3}")).is_some(),
        "{kappa}"
    );
    let a = h.state().parts().derived.agreement.clone().unwrap();
    let a = a.result.unwrap();
    assert!((a.kappa - kappa).abs() < 1e-12);
    assert_eq!(a.epochs_compared, 323);

    // D steps the epochs of the disagreements, Shift+D back, each selected.
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    for &want in &onsets {
        key(&mut h, Key::D);
        h.run_steps(1);
        assert_eq!(range(&h), (want, want + 30.0));
        let selected = h.state().parts().recording.selection().unwrap().onset_s;
        assert_eq!(selected, want);
    }
    key(&mut h, Key::D);
    h.run_steps(1);
    assert_eq!(range(&h).0, onsets[3], "none after the last");
    h.key_press_modifiers(Modifiers::SHIFT, Key::D);
    h.run_steps(2);
    assert_eq!(range(&h).0, onsets[2]);
    h.key_press_modifiers(Modifiers::SHIFT, Key::D);
    h.run_steps(2);
    assert_eq!(range(&h).0, onsets[1]);

    // Scoring an epoch as the other scorer did removes its disagreement.
    key(&mut h, Key::Escape);
    let stage_key = match theirs[50].as_str() {
        "W" => Key::Num0,
        "N1" => Key::Num1,
        "N2" => Key::Num2,
        "N3" => Key::Num3,
        _ => Key::Num5,
    };
    key(&mut h, stage_key);
    h.run_steps(1);
    let left = h
        .state()
        .parts()
        .derived
        .agreement
        .as_ref()
        .unwrap()
        .disagreements
        .clone();
    assert_eq!(left, vec![onsets[0], onsets[2], onsets[3]]);

    // Closing the layer leaves the user's labels file as the user made it.
    h.get_by_label("Close comparison").click();
    h.run_steps(2);
    assert!(h.state().parts().recording.comparison().is_none());
    assert!(h.state().parts().derived.agreement.is_none());
    settle(&mut h);
    let after = read_events_tsv(&sidecar).unwrap();
    assert_eq!(after.len(), mine.len());
    assert_eq!(stage_at(&h, 1500.0).as_deref(), Some(theirs[50].as_str()));
    assert_ne!(
        std::fs::read(&sidecar).unwrap(),
        before,
        "the edit was saved"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().lines().count(),
        324,
        "the other scorer's file is not written"
    );
}

/// Trains a one-epoch sleep stager on the bundled nights into `dir/run`
/// (about two seconds).
fn sleep_run(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    let options = TrainOptions {
        model: "sleep".to_owned(),
        epochs: 1,
        seed: 1,
        ..TrainOptions::default()
    };
    let data = DataRoles {
        train: vec![testdata::sample("sleep")],
        ..DataRoles::default()
    };
    let spec = TrainJobSpec::from_options(data, &options, Some(run.clone())).unwrap();
    let job = TrainJob::spawn(spec, || {});
    for event in job.events.iter() {
        match event {
            Event::Failed(f) => panic!("training failed: {f:?}"),
            Event::Finished(_) | Event::Cancelled => break,
            _ => {}
        }
    }
    job.join();
    run
}

#[test]
fn a_sleep_runs_stages_are_reviewed_from_the_least_confident_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let run = sleep_run(dir.path());
    let night = copy_night(dir.path());
    let mut h = open_night(&night);
    // Applying the run (as Results' "Suggest labels" does) makes its stages
    // the comparison layer.
    h.state_mut().command(AppCommand::OpenRun(run.clone()));
    step_until(&mut h, "the run read", 30, |app| {
        app.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.info.is_some())
    });
    // Results: the hypnogram of the test night, true stages and the
    // model's, whose agreement is the kappa of the run's own report.
    h.state_mut().command(AppCommand::ShowTab(Tab::Results));
    h.run_steps(2);
    let nights = h.state().parts().derived.test_nights.clone();
    assert_eq!(nights.len(), 1);
    let name = nights[0]
        .file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        h.query_by_label(&format!("Hypnogram strip of {name}"))
            .is_some()
    );
    let run_shown = h.state().parts().runs.result_run.clone().unwrap();
    let report = run_shown.report.unwrap();
    let test = report
        .test
        .as_ref()
        .and_then(|t| t.classification())
        .unwrap();
    let agreement = nights[0].agreement.as_ref().unwrap();
    assert!(
        (agreement.kappa - test.kappa).abs() < 1e-9,
        "{} != {}",
        agreement.kappa,
        test.kappa
    );
    assert_eq!(agreement.epochs_compared, test.n);
    h.state_mut()
        .command(AppCommand::SuggestLabels(night.clone()));
    step_until(&mut h, "the model layer", 60, |app| {
        app.parts().recording.comparison().is_some()
    });
    h.run_steps(2);
    assert!(h.query_by_label("Compared with run (model)").is_some());
    assert!(h.query_by_label("Hypnogram").is_some(), "the model's line");
    let layer = h.state().parts().recording.comparison().unwrap().clone();
    // The least confident epochs, found here: the smallest top probability.
    let probabilities = layer.scoring.probabilities.clone().unwrap();
    let mut by_confidence: Vec<(f32, usize)> = probabilities
        .per_epoch
        .iter()
        .enumerate()
        .filter(|(_, row)| !row.is_empty())
        .map(|(i, row)| (row.iter().copied().fold(0.0, f32::max), i))
        .collect();
    by_confidence.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (c0, first) = by_confidence[0];
    let (second, third) = (by_confidence[1].1, by_confidence[2].1);
    let onset = |i: usize| layer.scoring.onset_s(i);
    let model_stage = |i: usize| layer.scoring.stages[i].unwrap().name().to_owned();
    let n = by_confidence.len();

    h.get_by_label("Review least confident").click();
    h.run_steps(2);
    assert_eq!(range(&h), (onset(first), onset(first) + 30.0));
    let line = format!(
        "0 of {n} epochs reviewed · {}: {}, confidence {:.0} %",
        spindle_signals::dsp::format_hms(onset(first)),
        model_stage(first),
        c0 * 100.0
    );
    assert!(h.query_by_label(&line).is_some(), "{line}");

    let was = [first, second, third].map(|i| stage_at(&h, onset(i)));
    // The edits made (an epoch already given the stage is left alone).
    let mut edits = Vec::new();

    // Enter accepts the model's stage and moves to the next least confident.
    key(&mut h, Key::Enter);
    h.run_steps(1);
    assert_eq!(stage_at(&h, onset(first)), Some(model_stage(first)));
    assert_eq!(range(&h).0, onset(second));
    assert!(
        h.query_by_label_contains(&format!("1 of {n} epochs reviewed"))
            .is_some()
    );
    if was[0] != Some(model_stage(first)) {
        edits.push((first, was[0].clone()));
    }
    // A stage key corrects it: to a stage neither the model nor the scorer gave.
    let (correct_key, corrected) = [(Key::Num3, "N3"), (Key::Num1, "N1"), (Key::Num5, "REM")]
        .into_iter()
        .find(|(_, s)| *s != model_stage(second) && Some(*s) != was[1].as_deref())
        .unwrap();
    key(&mut h, correct_key);
    h.run_steps(1);
    assert_eq!(stage_at(&h, onset(second)).as_deref(), Some(corrected));
    assert_eq!(range(&h).0, onset(third));
    edits.push((second, was[1].clone()));
    // A accepts too.
    key(&mut h, Key::A);
    h.run_steps(1);
    assert_eq!(stage_at(&h, onset(third)), Some(model_stage(third)));
    if was[2] != Some(model_stage(third)) {
        edits.push((third, was[2].clone()));
    }
    assert!(
        h.query_by_label_contains(&format!("3 of {n} epochs reviewed"))
            .is_some()
    );

    // Each is an ordinary edit: Ctrl+Z undoes them, last first.
    for (i, before) in edits.into_iter().rev() {
        h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
        h.run_steps(1);
        assert_eq!(stage_at(&h, onset(i)), before);
    }
    assert_eq!([first, second, third].map(|i| stage_at(&h, onset(i))), was);
    h.get_by_label("Stop review").click();
    h.run_steps(2);
    assert!(h.state().parts().recording.review.is_none());
    settle(&mut h);
}
