//! The scoring desk, driven headless through egui_kittest on a bundled
//! night: traces kept in their lanes at the scales of their channel kinds,
//! Fit, scoring epoch by epoch with and without advancing, the hypnogram
//! strip and the night's statistics, and the label classes a night and
//! the next recording offer.

use std::path::{Path, PathBuf};

use eframe::egui::{
    Event, Key, Modifiers, MouseWheelSource, MouseWheelUnit, Pos2, Rect, Shape, TouchPhase, pos2,
    vec2,
};
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{Settings, SpindleApp};
use spindle_signals::dsp::format_hms;
use spindle_signals::labeling::LabelScheme;
use spindle_signals::recording::{ChannelKind, read_events_tsv};
use spindle_signals::testdata;

use crate::support::app::{AppHarness, harness, settle, step_until};

/// Copies bundled night 1 and its scoring into `dir` (scoring writes the
/// labels beside the recording); the copy's path.
pub fn copy_night(dir: &Path) -> PathBuf {
    let to = dir.join("sub-01_night.edf");
    std::fs::copy(testdata::sample("sleep/sub-01_night.edf"), &to).unwrap();
    std::fs::copy(
        testdata::sample("sleep/sub-01_night_events.tsv"),
        dir.join("sub-01_night_events.tsv"),
    )
    .unwrap();
    to
}

/// The app with the night at `path` open and idle.
pub fn open_night(path: &Path) -> AppHarness {
    let mut h = harness(
        SpindleApp::new(vec![path.to_path_buf()], Settings::default()),
        1280.0,
        800.0,
    );
    step_until(&mut h, "the night to open", 30, |app| {
        !app.is_busy() && app.parts().recording.view_range().is_some()
    });
    h
}

pub fn range(h: &AppHarness) -> (f64, f64) {
    h.state().parts().recording.view_range().unwrap()
}

pub fn key(h: &mut AppHarness, k: Key) {
    h.key_press(k);
    h.run_steps(1);
}

/// The class of the label starting at `onset_s` (a scored epoch).
pub fn stage_at(h: &AppHarness, onset_s: f64) -> Option<String> {
    let labels = h.state().parts().recording.labels()?;
    labels
        .labels
        .iter()
        .find(|l| (l.onset_s - onset_s).abs() < 1e-6)
        .map(|l| l.trial_type.clone())
}

#[test]
fn a_night_opens_with_each_trace_in_its_lane_at_the_scale_of_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_night(&copy_night(dir.path()));
    assert!(h.state().parts().recording.clips_to_lanes());
    let lanes: Vec<_> = h
        .state()
        .parts()
        .recording
        .lanes()
        .into_iter()
        .map(|l| (l.name, l.kind, l.scale))
        .collect();
    assert_eq!(
        lanes,
        [
            (
                "Fpz-Cz".to_owned(),
                ChannelKind::Eeg,
                "100 µV/div".to_owned()
            ),
            (
                "Pz-Oz".to_owned(),
                ChannelKind::Eeg,
                "100 µV/div".to_owned()
            ),
            (
                "EOG horizontal".to_owned(),
                ChannelKind::Eog,
                "100 µV/div".to_owned()
            ),
            (
                "EMG submental".to_owned(),
                ChannelKind::Emg,
                "50 µV/div".to_owned()
            ),
        ]
    );
    // Scrolling up over a channel's name raises its gain alone.
    let traces = h.get_by_label("Signal traces").rect();
    let lane_h = traces.height() / 4.0;
    h.hover_at(pos2(traces.left() + 20.0, traces.top() + lane_h * 0.5));
    h.event(Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: vec2(0.0, 60.0),
        phase: TouchPhase::Move,
        source: MouseWheelSource::Wheel,
        modifiers: Modifiers::NONE,
    });
    step_until(&mut h, "the gain of Fpz-Cz", 10, |app| {
        app.parts().recording.lanes()[0].gain > 1.0
    });
    let gains: Vec<f32> = h
        .state()
        .parts()
        .recording
        .lanes()
        .iter()
        .map(|l| l.gain)
        .collect();
    assert_eq!(gains[1..], [1.0, 1.0, 1.0]);
    assert_eq!(range(&h), (0.0, 10.0));
    // The view may let the traces overflow.
    h.get_by_label("Let traces overflow their lanes").click();
    h.run_steps(2);
    assert!(!h.state().parts().recording.clips_to_lanes());
}

/// The lanes the last frame drew traces in (shapes clipped to a rect a
/// quarter of the traces high), each with how many points it drew; fails
/// when a point lies outside its lane by more than the pixel an envelope
/// column is widened to (the clip rect cuts that pixel).
fn drawn_lanes(h: &AppHarness) -> Vec<(Rect, usize)> {
    let traces = h.get_by_label("Signal traces").rect();
    let lane_h = traces.height() / 4.0;
    let mut lanes: Vec<(Rect, usize)> = Vec::new();
    for clipped in &h.output().shapes {
        let lane = clipped.clip_rect;
        if (lane.height() - lane_h).abs() > 0.5 || !traces.contains_rect(lane) {
            continue;
        }
        let points: Vec<Pos2> = match &clipped.shape {
            Shape::Path(p) => p.points.clone(),
            Shape::Mesh(m) => m.vertices.iter().map(|v| v.pos).collect(),
            _ => continue,
        };
        for p in &points {
            assert!(
                (lane.top() - 1.0..=lane.bottom() + 1.0).contains(&p.y),
                "{p:?} outside lane {lane:?}"
            );
        }
        match lanes.iter_mut().find(|(r, _)| *r == lane) {
            Some((_, n)) => *n += points.len(),
            None => lanes.push((lane, points.len())),
        }
    }
    lanes
}

#[test]
fn every_trace_is_drawn_inside_its_lane_at_the_default_gain() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_night(&copy_night(dir.path()));
    // 10 s as lines, then a 30-s epoch as envelopes.
    for _ in 0..2 {
        h.run_steps(1);
        let lanes = drawn_lanes(&h);
        assert_eq!(lanes.len(), 4, "{lanes:?}");
        assert!(lanes.iter().all(|(_, n)| *n > 100), "{lanes:?}");
        h.get_by_label("Epoch scoring").click();
        h.run_steps(2);
    }
}

#[test]
fn fit_sets_each_gain_from_what_is_visible() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_night(&copy_night(dir.path()));
    let before = h.state().parts().recording.lanes();
    assert!(before.iter().all(|l| l.gain == 1.0));
    h.get_by_label("Fit").click();
    step_until(&mut h, "the fitted gains", 30, |app| {
        app.parts().recording.lanes().iter().all(|l| l.gain != 1.0)
    });
    let after = h.state().parts().recording.lanes();
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(a.scale, b.scale, "{}", a.name);
        assert!(a.gain > 0.01 && a.gain < 100.0, "{}: {}", a.name, a.gain);
    }
}

#[test]
fn scoring_an_epoch_moves_to_the_next_unless_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_night(&copy_night(dir.path()));
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    assert_eq!(range(&h), (0.0, 30.0));
    // 2 is N2 in the sleep scheme: the first epoch becomes N2, the view moves on.
    key(&mut h, Key::Num2);
    assert_eq!(range(&h), (30.0, 60.0));
    assert_eq!(stage_at(&h, 0.0).as_deref(), Some("N2"));
    // Without advancing, the view stays on the epoch just scored.
    h.get_by_label("Advance after scoring").click();
    h.run_steps(2);
    assert!(!h.state().parts().shell.settings.auto_advance);
    key(&mut h, Key::Num1);
    assert_eq!(range(&h), (30.0, 60.0));
    assert_eq!(stage_at(&h, 30.0).as_deref(), Some("N1"));
    settle(&mut h);
}

#[test]
fn the_hypnogram_strip_shows_the_night_its_statistics_and_jumps_where_clicked() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_night(dir.path());
    let mut h = open_night(&path);
    // Total sleep time counted by hand from the label file: 30-s epochs in
    // a sleep stage.
    let labels = read_events_tsv(&dir.path().join("sub-01_night_events.tsv")).unwrap();
    let asleep_min = labels
        .labels
        .iter()
        .filter(|l| ["N1", "N2", "N3", "REM"].contains(&l.trial_type.as_str()))
        .map(|l| l.duration_s / 60.0)
        .sum::<f64>();
    let night = h.state().parts().derived.night.clone().unwrap();
    assert_eq!(night.scoring.len(), labels.len());
    assert!((night.statistics.total_sleep_time_min - asleep_min).abs() < 1e-9);
    assert!(h.query_by_label("Total sleep time").is_some());
    assert!(h.query_by_label(&format!("{asleep_min:.1} min")).is_some());
    // A click on the strip's middle goes to the middle of the night.
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    assert_eq!(range(&h).0, 0.0);
    h.get_by_label("Hypnogram").click();
    h.run_steps(2);
    let (t0, t1) = range(&h);
    let duration_s = night.scoring.end_s();
    assert!(
        t0 > 0.4 * duration_s && t0 < 0.6 * duration_s,
        "{t0} of {duration_s}"
    );
    assert_eq!(t1 - t0, 30.0);
    assert_eq!(t0 % 30.0, 0.0);
    // Scoring an epoch (0 is W) updates the statistics.
    let was = stage_at(&h, t0).unwrap();
    key(&mut h, Key::Num0);
    h.run_steps(1);
    assert_eq!(stage_at(&h, t0).as_deref(), Some("W"));
    let more_min = if was == "W" { 0.0 } else { 0.5 };
    let wake_min = h
        .state()
        .parts()
        .derived
        .night
        .as_ref()
        .unwrap()
        .statistics
        .stages["W"]
        .minutes;
    assert!((wake_min - night.statistics.stages["W"].minutes - more_min).abs() < 1e-9);
    settle(&mut h);
}

/// The open recording's classes with their hotkeys, in display order.
fn classes(h: &AppHarness) -> Vec<(String, Option<u8>)> {
    let scheme = &h.state().parts().recording.scheme;
    scheme
        .classes
        .iter()
        .map(|c| (c.name.clone(), c.hotkey))
        .collect()
}

/// Opens `path` in the running app and waits until it is open and idle.
fn switch_to(h: &mut AppHarness, path: &Path) {
    h.state_mut().open_path(path);
    step_until(h, "the next recording to open", 30, |app| {
        !app.is_busy() && app.parts().recording.path() == Some(path)
    });
}

#[test]
fn a_night_offers_the_stages_with_the_keys_of_sleep_labs_and_the_next_recording_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_night(&copy_night(dir.path()));
    let stages = [
        ("W".to_owned(), Some(0)),
        ("N1".to_owned(), Some(1)),
        ("N2".to_owned(), Some(2)),
        ("N3".to_owned(), Some(3)),
        ("REM".to_owned(), Some(5)),
    ];
    assert_eq!(classes(&h), stages);
    assert!(h.query_all_by_label("W").next().is_some());
    assert!(h.query_by_label("Hotkey of REM").is_some());
    // In epoch scoring 0 scores W, 5 REM and R REM too.
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    key(&mut h, Key::Num0);
    key(&mut h, Key::Num5);
    key(&mut h, Key::R);
    assert_eq!(range(&h), (90.0, 120.0));
    assert_eq!(stage_at(&h, 0.0).as_deref(), Some("W"));
    assert_eq!(stage_at(&h, 30.0).as_deref(), Some("REM"));
    assert_eq!(stage_at(&h, 60.0).as_deref(), Some("REM"));
    // Out of epoch scoring, 0 makes a selected label W.
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    let row = format!("{} {:>6.2}s {}", format_hms(30.0), 30.0, "REM");
    h.get_by_label(&row).click();
    h.run_steps(2);
    key(&mut h, Key::Num0);
    assert_eq!(stage_at(&h, 30.0).as_deref(), Some("W"));

    // An EEG recording in another folder offers its own classes alone.
    let eeg_dir = dir.path().join("eeg");
    std::fs::create_dir(&eeg_dir).unwrap();
    let eeg = eeg_dir.join("sub-01.edf");
    std::fs::copy(testdata::sample("eeg/sub-01.edf"), &eeg).unwrap();
    std::fs::copy(
        testdata::sample("eeg/sub-01_events.tsv"),
        eeg_dir.join("sub-01_events.tsv"),
    )
    .unwrap();
    switch_to(&mut h, &eeg);
    let offered = classes(&h);
    assert!(!offered.is_empty());
    for stage in ["W", "N1", "N2", "N3", "REM"] {
        assert!(offered.iter().all(|(c, _)| c != stage), "{offered:?}");
    }
    assert!(h.query_by_label("Hotkey of N1").is_none());

    // The sleep scheme is offered in epoch scoring; applied there, it is
    // saved for that folder.
    assert!(
        h.query_by_label("Use the sleep scheme (W 0, N1 1, N2 2, N3 3, REM 5)")
            .is_none()
    );
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    h.get_by_label("Use the sleep scheme (W 0, N1 1, N2 2, N3 3, REM 5)")
        .click();
    step_until(&mut h, "the saved scheme", 30, |app| {
        !app.is_busy() && LabelScheme::path_in(&eeg_dir).exists()
    });
    assert_eq!(classes(&h)[..5], stages);
    settle(&mut h);
}
