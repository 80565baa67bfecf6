//! Drives the real app headless with egui_kittest through an explanation: a
//! run made by the CLI is opened, explained from the Explain view (progress,
//! then the bars, the scalp map and the saliency map), a window is opened
//! in the viewer with its saliency drawn over the traces, and an explanation
//! in progress is cancelled; the Feature explorer maps a run (the spatial
//! filters as scalp maps, a box selection, windows to check).

#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{AppCommand, Tab};

use crate::support::app::{AppHarness, step_until};
use crate::support::gui::{app_with_runs, shows, teaching_data};
use crate::support::{self, spindle};

/// A small run on the teaching EEG, trained by the CLI into `dir/run`.
fn trained_run(dir: &Path) -> (PathBuf, PathBuf) {
    let eeg = teaching_data(dir).join("eeg");
    let run = dir.join("runs").join("run");
    let out = spindle()
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

/// EEGNet's spatial filters on the teaching EEG (10-20 names): one scalp
/// map each, named for screen readers.
fn spatial_filters_are_scalp_maps(h: &mut AppHarness, run: &Path) {
    let maps = h.state().parts().training.explain.maps.of(run).unwrap();
    let filters = maps.filters.as_ref().unwrap();
    assert_eq!(
        filters.spatial.len(),
        16,
        "EEGNet: D = 2 per temporal filter"
    );
    assert!(shows(h, "Spatial filters"));
    assert_eq!(
        h.get_all_by_label_contains("on the scalp").count(),
        16,
        "one scalp map per spatial filter"
    );
    assert!(
        h.query_by_label_contains("Spatial filter 3 (after temporal filter 1")
            .is_some()
    );
    assert!(shows(h, "negative weight") && shows(h, "positive weight"));
    assert!(!shows(h, "are not electrodes of the 10-20 system"));
}

/// A box dragged on the learned map selects exactly the windows of a
/// rectangle of it; they are listed with their counts, and Clear selection
/// empties the list.
fn a_box_on_the_learned_map_selects_the_windows_inside(h: &mut AppHarness, run: &Path) {
    let n = h
        .state()
        .parts()
        .training
        .explain
        .maps
        .of(run)
        .unwrap()
        .embedding
        .windows
        .len();
    let map = format!("Learned map of {n} windows");
    h.get_by_label(&map).scroll_to_me();
    // Until the scrolling has settled.
    let mut r = h.get_by_label(&map).rect();
    for _ in 0..60 {
        h.run_steps(1);
        let now = h.get_by_label(&map).rect();
        if now == r {
            break;
        }
        r = now;
    }
    // From the top left corner to the middle.
    let from = egui::pos2(r.left() + 2.0, r.top() + 2.0);
    let to = r.center();
    h.hover_at(from);
    h.run_steps(1);
    h.drag_at(from);
    h.run_steps(1);
    for k in 1..=4 {
        h.hover_at(from + (to - from) * (k as f32 / 4.0));
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run_steps(2);
    let maps = &h.state().parts().training.explain.maps;
    let e = &maps.of(run).unwrap().embedding;
    let chosen = maps.selection.windows().to_vec();
    assert!(
        !chosen.is_empty() && chosen.len() < n,
        "some windows, not all: {} of {n}",
        chosen.len()
    );
    // The windows chosen are those of a rectangle of the learned map: no
    // other window lies within their bounding box.
    let p = |i: usize| e.windows[i].learned;
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for &i in &chosen {
        for d in 0..2 {
            lo[d] = lo[d].min(p(i)[d]);
            hi[d] = hi[d].max(p(i)[d]);
        }
    }
    let inside = |i: usize| (0..2).all(|d| (lo[d]..=hi[d]).contains(&p(i)[d]));
    let strays: Vec<usize> = (0..n)
        .filter(|&i| inside(i) && !chosen.contains(&i))
        .collect();
    assert!(strays.is_empty(), "windows in the box left out: {strays:?}");
    let per_label = |name: &str| {
        chosen
            .iter()
            .filter(|&&i| e.windows[i].label == name)
            .count()
    };
    let mut counts: Vec<(String, usize)> = e
        .classes
        .iter()
        .map(|c| (c.clone(), per_label(c)))
        .filter(|(_, k)| *k > 0)
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let counted: Vec<String> = counts.iter().map(|(c, k)| format!("{c} {k}")).collect();
    let first = e.windows[chosen[0]].clone();
    assert!(shows(h, &format!("Selected windows ({})", chosen.len())));
    assert!(
        h.query_by_label(&format!("Per label: {}", counted.join(", ")))
            .is_some(),
        "{counted:?}"
    );
    assert!(shows(h, "Per recording:"));
    let name = first
        .file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(shows(
        h,
        &format!(
            "{name} at {:.1} s ({}): labeled {}, predicted {}",
            first.onset_s, first.split, first.label, first.predicted
        )
    ));
    h.get_by_label("Clear selection").click();
    h.run_steps(2);
    assert!(
        h.state()
            .parts()
            .training
            .explain
            .maps
            .selection
            .windows()
            .is_empty()
    );
    assert!(!shows(h, "Selected windows ("));
}

/// The app on `paths` with its runs in `runs`, in a 1400 x 1000 window.
fn harness(paths: Vec<PathBuf>, runs: &Path) -> AppHarness {
    support::app::harness(app_with_runs(paths, runs), 1400.0, 1000.0)
}

#[test]
fn a_run_is_explained_from_the_app_and_its_saliency_drawn_over_the_traces() {
    let dir = tempfile::tempdir().unwrap();
    let (eeg, run) = trained_run(dir.path());
    let runs = dir.path().join("runs");
    let mut h = harness(vec![eeg], &runs);
    h.state_mut().command(AppCommand::OpenRun(run.clone()));
    step_until(&mut h, "the run read", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_some())
    });
    h.get_by_label("Explain").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().shell.tab, Tab::Explain);
    assert!(shows(&h, "not what the brain does"), "the caveat is shown");
    assert!(shows(&h, "has not been explained yet"));
    // The quick methods only: the bands and the channel × frequency map
    // have their own tests.
    h.get_by_label("Frequency bands").click();
    h.get_by_label("Channel × frequency").click();
    h.run_steps(1);
    h.get_by_label("Explain this run").click();
    step_until(&mut h, "the explanation's start", 30, |a| {
        a.parts().training.explain.is_running()
    });
    h.run_steps(1);
    assert!(
        shows(&h, "Cancel explanation")
            || h.state()
                .parts()
                .training
                .explain
                .explanation
                .as_ref()
                .is_some(),
        "progress and a way out while it runs"
    );
    step_until(&mut h, "the explanation", 120, |a| {
        a.parts()
            .training
            .explain
            .explanation
            .as_ref()
            .is_some_and(|(d, _)| *d == run)
    });
    assert!(
        run.join("explain.json").exists(),
        "written into the run folder"
    );
    let (_, e) = h
        .state()
        .parts()
        .training
        .explain
        .explanation
        .as_ref()
        .unwrap();
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
        a.parts().shell.tab == Tab::Viewer
            && a.parts().recording.path().is_some()
            && !a.parts().derived.heat.is_empty()
    });
    let open = h.state().parts().recording.path().unwrap().to_path_buf();
    let (_, e) = h
        .state()
        .parts()
        .training
        .explain
        .explanation
        .as_ref()
        .unwrap();
    let on_file = e
        .saliency
        .as_ref()
        .unwrap()
        .windows
        .iter()
        .filter(|w| w.file == open)
        .count();
    assert_eq!(
        h.state().parts().derived.heat.len(),
        on_file,
        "one span per explained window of the file"
    );

    // Reopening the app finds the explanation in the run folder.
    drop(h);
    let mut h = harness(Vec::new(), &runs);
    h.state_mut().command(AppCommand::OpenRun(run.clone()));
    step_until(&mut h, "the saved explanation", 30, |a| {
        a.parts()
            .training
            .explain
            .explanation
            .as_ref()
            .is_some_and(|(d, _)| *d == run)
    });

    // An explanation can be cancelled.
    h.get_by_label("Explain").click();
    h.run_steps(2);
    h.get_by_label("Explain again").click();
    step_until(&mut h, "the second explanation's start", 30, |a| {
        a.parts().training.explain.is_running()
    });
    h.run_steps(1);
    h.get_by_label("Cancel explanation").click();
    step_until(&mut h, "the cancellation", 60, |a| {
        !a.parts().training.explain.is_running()
    });
    assert!(shows(&h, "explanation cancelled"));
    assert!(
        h.state()
            .parts()
            .training
            .explain
            .explanation
            .as_ref()
            .is_some(),
        "the earlier explanation stays"
    );
}

#[test]
fn the_feature_explorer_maps_a_run_and_offers_windows_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let (eeg, run) = trained_run(dir.path());
    let runs = dir.path().join("runs");
    let mut h = harness(vec![eeg], &runs);
    h.state_mut().command(AppCommand::OpenRun(run.clone()));
    step_until(&mut h, "the run read", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_some())
    });
    h.get_by_label("Explain").click();
    h.run_steps(2);
    assert!(shows(&h, "What did the network learn to see?"));
    h.get_by_label("Map the windows").click();
    step_until(&mut h, "the maps", 60, |a| {
        a.parts().training.explain.maps.of(&run).is_some()
    });
    h.run_steps(2);
    spatial_filters_are_scalp_maps(&mut h, &run);
    a_box_on_the_learned_map_selects_the_windows_inside(&mut h, &run);
    let maps = h.state().parts().training.explain.maps.of(&run).unwrap();
    let n = maps.embedding.windows.len();
    assert!(n > 200, "every window of the run: {n}");
    assert!(maps.filters.as_ref().is_ok_and(|f| f.temporal.len() == 8));
    let suspects = maps.embedding.suspects.len();
    assert!(shows(&h, "Input map") && shows(&h, "Learned map"));
    assert!(shows(&h, &format!("Check these labels ({suspects})")));
    assert!(shows(&h, "Learned filters"));
    assert!(shows(&h, "Silhouette"));
    // A window to check is one click from the viewer.
    if let Some(first) = maps.embedding.suspects.first() {
        let w = maps.embedding.windows[first.window].clone();
        let name = w.file.file_name().unwrap().to_string_lossy().into_owned();
        h.get_by_label(&format!("Show {name} at {:.1} s", w.onset_s))
            .click();
        step_until(&mut h, "the window in the viewer", 30, |a| {
            a.parts().recording.path() == Some(w.file.as_path())
        });
        assert_eq!(h.state().parts().shell.tab, Tab::Viewer);
    }
}
