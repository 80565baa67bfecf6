//! Drives the real app headless with egui_kittest: open a generated recording,
//! scroll and zoom, label with the mouse and with hotkeys, undo and redo,
//! autosave to `events.tsv`, epoch scoring, and labels rescued from a damaged
//! sidecar's backup or from the edit journal of a crashed session.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, Event, Key, Modifiers, PointerButton, Pos2, Rect, pos2};
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{AppError, Settings, SpindleApp};
use spindle_signals::labeling::{Edit, EditJournal, journal_path, replay_journal};
use spindle_signals::recording::{
    EdfWriteOptions, Label, LabelSet, WavSampleFormat, backup_path, read_events_tsv, sidecar_path,
    write_edf, write_events_tsv, write_wav,
};
use spindle_signals::synth::{
    AUDIO_CLASSES, CALLS_PER_CLASS, DROWSY_SUBJECTS, EEG_SUBJECTS, NIGHTS, SAMPLE_SEED, synth_call,
    synth_subject,
};

use crate::support;
use crate::support::app::{AppHarness, settle, step_until};

/// Width of the channel-name gutter left of the traces (as in the viewer).
const GUTTER: f32 = 120.0;

/// Labels of generated subject 1 start at this time or later, so that the
/// first seconds are free for the tests' own labels.
const FREE_UNTIL_S: f64 = 12.0;

/// Generated subject 1's labels (those from [`FREE_UNTIL_S`] on).
fn subject_label_set() -> LabelSet {
    let (_, labels) = synth_subject(1, 120.0, SAMPLE_SEED);
    LabelSet::new(
        labels
            .labels
            .into_iter()
            .filter(|l| l.onset_s >= FREE_UNTIL_S)
            .collect(),
    )
}

/// Number of labels written by [`write_subject`].
fn subject_labels() -> usize {
    subject_label_set().len()
}

/// Writes subject 1 (12 channels, 120 s, 256 Hz) to `dir`; with its labels
/// as a sidecar when `with_labels`.
fn write_subject(dir: &Path, with_labels: bool) -> PathBuf {
    let path = dir.join("sub-01.edf");
    let (recording, _) = synth_subject(1, 120.0, SAMPLE_SEED);
    write_edf(&path, &recording, &EdfWriteOptions::default()).unwrap();
    if with_labels {
        write_events_tsv(&sidecar_path(&path), &subject_label_set()).unwrap();
    }
    path
}

fn harness(paths: Vec<PathBuf>) -> AppHarness {
    harness_with(SpindleApp::new(paths, Settings::default()))
}

fn harness_with(app: SpindleApp) -> AppHarness {
    support::app::harness(app, 1280.0, 800.0)
}

/// Steps until the workers are idle and a recording is open.
fn wait_open(h: &mut AppHarness) {
    let started = Instant::now();
    while h.state().is_busy() || h.state().parts().recording.view_range().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "recording did not open: {:?}",
            h.state().parts().shell.errors
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

fn range(h: &AppHarness) -> (f64, f64) {
    h.state().parts().recording.view_range().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// The traces area (names gutter excluded), in points.
fn data_rect(h: &AppHarness) -> Rect {
    let r = h.get_by_label("Signal traces").rect();
    Rect::from_min_max(pos2(r.min.x + GUTTER, r.min.y), r.max)
}

/// x position of time `t_s` in the current view.
fn x_of(h: &AppHarness, t_s: f64) -> f32 {
    let r = data_rect(h);
    let (a, b) = range(h);
    r.left() + ((t_s - a) / (b - a)) as f32 * r.width()
}

fn mouse_drag(h: &mut AppHarness, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.drag_at(from);
    for k in 1..=4 {
        h.hover_at(from + (to - from) * (k as f32 / 4.0));
    }
    h.drop_at(to);
    h.run_steps(2);
}

fn key(h: &mut AppHarness, k: Key) {
    h.key_press(k);
    h.run_steps(1);
}

/// Waits (without stepping the app) until `done` holds; fails after 10 s.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} did not happen within 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn labels_on_disk(recording: &Path) -> Vec<Label> {
    read_events_tsv(&sidecar_path(recording)).unwrap().labels
}

#[test]
fn opens_then_scrolls_and_zooms_by_keyboard_and_mouse() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), true);
    let n = subject_labels();
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    assert_eq!(h.state().parts().recording.path(), Some(path.as_path()));
    assert_eq!(h.state().parts().shell.browser.entries.len(), 1);
    assert_eq!(h.state().parts().shell.browser.entries[0].labels, n);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n);
    // The window shows the recording's channels and its time axis.
    h.get_by_label("Time axis");
    h.get_by_label("Channels").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.visible_channels().len(), 12);
    h.get_by_label("Fp1").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.visible_channels().len(), 11);
    assert!(
        !h.state()
            .parts()
            .recording
            .visible_channels()
            .contains(&"Fp1".to_owned())
    );
    h.get_by_label("Fp1").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("EDF+C").is_some());

    assert_eq!(range(&h), (0.0, 10.0));
    key(&mut h, Key::ArrowRight);
    assert!(
        close(range(&h).0, 1.0) && close(range(&h).1, 11.0),
        "{:?}",
        range(&h)
    );
    key(&mut h, Key::PageDown);
    assert!(close(range(&h).0, 11.0), "{:?}", range(&h));
    key(&mut h, Key::Plus);
    assert!(
        close(range(&h).0, 13.5) && close(range(&h).1, 18.5),
        "{:?}",
        range(&h)
    );
    key(&mut h, Key::Minus);
    key(&mut h, Key::Minus);
    assert!(close(range(&h).1 - range(&h).0, 20.0), "{:?}", range(&h));
    key(&mut h, Key::End);
    assert!(close(range(&h).1, 120.0), "{:?}", range(&h));
    key(&mut h, Key::Home);
    assert!(close(range(&h).0, 0.0));
    // Zoom stops at 1 s and at the whole recording.
    for _ in 0..8 {
        h.key_press(Key::Plus);
    }
    h.run_steps(1);
    assert!(close(range(&h).1 - range(&h).0, 1.0), "{:?}", range(&h));
    h.get_by_label("All").click();
    h.run_steps(2);
    assert_eq!(range(&h), (0.0, 120.0));

    // Mouse: the wheel scrolls, dragging the time axis scrolls back.
    h.get_by_label("+").click();
    h.run_steps(2);
    let before = range(&h);
    let center = data_rect(&h).center();
    h.hover_at(center);
    h.event(Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, -100.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(10);
    assert!(range(&h).0 > before.0, "{before:?} -> {:?}", range(&h));
    let axis = h.get_by_label("Time axis").rect().center();
    let after_wheel = range(&h);
    mouse_drag(&mut h, axis, axis + egui::vec2(200.0, 0.0));
    assert!(
        range(&h).0 < after_wheel.0,
        "{after_wheel:?} -> {:?}",
        range(&h)
    );
    // No label was made by any of this.
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n);
}

#[test]
fn labels_by_mouse_and_hotkey_with_undo_redo_and_autosave() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), true);
    let n = subject_labels();
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    // Classes come from the labels, sorted, with hotkeys 1-4.
    let classes: Vec<_> = h
        .state()
        .parts()
        .recording
        .scheme
        .classes
        .iter()
        .map(|c| (c.name.clone(), c.hotkey))
        .collect();
    assert_eq!(classes[0], ("blink".to_owned(), Some(1)));
    assert_eq!(classes[1], ("eyes_closed".to_owned(), Some(2)));

    // Drag from 1.3 s to 2.0 s (no labels there) creates a `blink` label.
    let y = data_rect(&h).center().y;
    let (x0, x1) = (x_of(&h, 1.3), x_of(&h, 2.0));
    mouse_drag(&mut h, pos2(x0, y), pos2(x1, y));
    let labels = h.state().parts().recording.labels().unwrap().clone();
    assert_eq!(labels.len(), n + 1);
    let made = h
        .state()
        .parts()
        .recording
        .selection()
        .cloned()
        .expect("new label is selected");
    assert_eq!(made.trial_type, "blink");
    assert!(
        (made.onset_s - 1.3).abs() < 0.02 && (made.duration_s - 0.7).abs() < 0.03,
        "{made:?}"
    );

    // Hotkey 2 relabels the selection.
    key(&mut h, Key::Num2);
    assert_eq!(
        h.state().parts().recording.selection().unwrap().trial_type,
        "eyes_closed"
    );

    // Undo twice: back to blink, then gone. Redo twice: back again.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(1);
    assert_eq!(
        h.state().parts().recording.selection().unwrap().trial_type,
        "blink"
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(1);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(1);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n + 1);
    assert_eq!(
        h.state().parts().recording.selection().unwrap().trial_type,
        "eyes_closed"
    );

    // Autosave: within 2 s (egui time; 0.25 s per step) the sidecar has it.
    h.run_steps(8);
    settle(&mut h);
    let disk = labels_on_disk(&path);
    assert_eq!(disk.len(), n + 1);
    assert!(
        disk.iter()
            .any(|l| l.trial_type == "eyes_closed" && (l.onset_s - made.onset_s).abs() < 1e-3)
    );

    // Drag the end edge of the label from 2.0 s to 3.0 s.
    let sel = h.state().parts().recording.selection().cloned().unwrap();
    let end = sel.onset_s + sel.duration_s;
    let (from, to) = (pos2(x_of(&h, end), y), pos2(x_of(&h, 3.0), y));
    mouse_drag(&mut h, from, to);
    let resized = h.state().parts().recording.selection().cloned().unwrap();
    assert!((resized.onset_s - sel.onset_s).abs() < 1e-9);
    assert!(
        (resized.onset_s + resized.duration_s - 3.0).abs() < 0.03,
        "{resized:?}"
    );
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n + 1);

    // Click elsewhere clears the selection; click on the label selects it.
    h.get_by_label("Signal traces");
    let click = |h: &mut AppHarness, p: Pos2, m: Modifiers| {
        h.hover_at(p);
        for pressed in [true, false] {
            h.event_modifiers(
                Event::PointerButton {
                    pos: p,
                    button: PointerButton::Primary,
                    pressed,
                    modifiers: m,
                },
                m,
            );
        }
        h.run_steps(2);
    };
    let p = pos2(x_of(&h, 6.0), y + 3.0);
    click(&mut h, p, Modifiers::NONE);
    assert!(h.state().parts().recording.selection().is_none());
    let p = pos2(x_of(&h, 2.2), y);
    click(&mut h, p, Modifiers::NONE);
    assert_eq!(
        h.state().parts().recording.selection().unwrap().trial_type,
        "eyes_closed"
    );

    // Delete removes it; Shift+click adds a zero-duration marker.
    key(&mut h, Key::Delete);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n);
    let p = pos2(x_of(&h, 7.5), y);
    click(&mut h, p, Modifiers::SHIFT);
    let marker = h.state().parts().recording.selection().cloned().unwrap();
    assert_eq!(marker.duration_s, 0.0);
    assert!((marker.onset_s - 7.5).abs() < 0.02);
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n + 1);

    // A hotkey no class has is reported to the window, as a value.
    key(&mut h, Key::Num9);
    h.run_steps(1);
    assert_eq!(h.state().parts().shell.errors, [AppError::NoHotkey(9)]);
    assert!(
        h.query_by_label_contains("no label class has hotkey 9")
            .is_some()
    );
    assert_eq!(h.state().parts().recording.labels().unwrap().len(), n + 1);

    // Closing the app saves at once.
    drop(h);
    let disk = labels_on_disk(&path);
    assert_eq!(disk.len(), n + 1);
    assert!(
        disk.iter()
            .any(|l| l.duration_s == 0.0 && (l.onset_s - marker.onset_s).abs() < 1e-3)
    );
}

#[test]
fn epoch_scoring_through_three_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), true);
    let n = subject_labels();
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    h.get_by_label("Epoch scoring").click();
    h.run_steps(2);
    assert_eq!(range(&h), (0.0, 30.0));
    for (digit, class, next) in [
        (Key::Num3, "eyes_open", 30.0),
        (Key::Num2, "eyes_closed", 60.0),
        (Key::Num3, "eyes_open", 90.0),
    ] {
        key(&mut h, digit);
        assert_eq!(range(&h), (next, next + 30.0));
        let page = next - 30.0;
        assert!(
            h.state()
                .parts()
                .recording
                .labels()
                .unwrap()
                .labels
                .iter()
                .any(|l| l.onset_s == page && l.duration_s == 30.0 && l.trial_type == class)
        );
    }
    // Scoring a page again relabels it instead of adding a second label.
    key(&mut h, Key::ArrowLeft);
    assert_eq!(range(&h), (60.0, 90.0));
    key(&mut h, Key::Num1);
    let pages: Vec<_> = h
        .state()
        .parts()
        .recording
        .labels()
        .unwrap()
        .labels
        .iter()
        .filter(|l| l.duration_s == 30.0)
        .map(|l| (l.onset_s, l.trial_type.clone()))
        .collect();
    assert_eq!(
        pages,
        vec![
            (0.0, "eyes_open".into()),
            (30.0, "eyes_closed".into()),
            (60.0, "blink".into())
        ]
    );
    h.run_steps(8);
    settle(&mut h);
    let disk = labels_on_disk(&path);
    assert_eq!(disk.iter().filter(|l| l.duration_s == 30.0).count(), 3);
    assert_eq!(disk.len(), n + 3);
}

#[test]
fn audio_shows_waveform_and_spectrogram_and_errors_show_in_window() {
    let dir = tempfile::tempdir().unwrap();
    let class_dir = dir.path().join("audio").join("trill");
    std::fs::create_dir_all(&class_dir).unwrap();
    let wav = class_dir.join("call-01.wav");
    write_wav(
        &wav,
        16_000,
        &[synth_call(0, 16_000.0, 1.0, 7)],
        WavSampleFormat::Pcm16,
    )
    .unwrap();
    let bad = dir.path().join("broken.edf");
    std::fs::write(&bad, b"this is not an EDF file at all").unwrap();

    let mut h = harness(vec![wav.clone()]);
    wait_open(&mut h);
    assert!(h.query_by_label_contains("class `trill`").is_some());
    h.get_by_label("Spectrogram");
    h.check_accessibility();
    let (a, b) = range(&h);
    assert_eq!(a, 0.0);
    assert!(b > 0.1, "whole call shown: {b}");

    h.state_mut().open_path(&bad);
    let started = Instant::now();
    while h.state().parts().shell.errors.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10));
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
    let shown = h.query_all_by_label_contains("not an EDF").count();
    assert!(shown >= 1, "error is shown in the window");
    // The audio stays open.
    assert_eq!(h.state().parts().recording.path(), Some(wav.as_path()));
}

#[test]
fn opening_the_sample_folder_lists_everything_and_opens_the_first_eeg() {
    let dir = tempfile::tempdir().unwrap();
    spindle_signals::synth::write_teaching_data(dir.path(), SAMPLE_SEED).unwrap();
    let mut h = harness(vec![dir.path().to_path_buf()]);
    wait_open(&mut h);
    let entries = &h.state().parts().shell.browser.entries;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let calls = AUDIO_CLASSES.len() * CALLS_PER_CLASS;
    assert_eq!(
        entries.len(),
        EEG_SUBJECTS + NIGHTS + DROWSY_SUBJECTS + calls,
        "{names:?}"
    );
    let eeg = entries.iter().filter(|e| e.channels == 12).count();
    let trills = entries
        .iter()
        .filter(|e| e.class.as_deref() == Some("trill"))
        .count();
    assert_eq!((eeg, trills), (EEG_SUBJECTS, CALLS_PER_CLASS));
    assert_eq!(
        h.state().parts().recording.path(),
        Some(dir.path().join("eeg").join("sub-01.edf").as_path())
    );
    // eeg/sub-02.edf, listed before reaction_time/sub-02.edf.
    let sub02: Vec<_> = h.query_all_by_label_contains("sub-02.edf").collect();
    assert_eq!(sub02.len(), 2, "eeg/ and reaction_time/");
    sub02[0].click_accesskit();
    h.run_steps(1);
    wait_open(&mut h);
    assert_eq!(
        h.state().parts().recording.path(),
        Some(dir.path().join("eeg").join("sub-02.edf").as_path())
    );
}

/// True when ALSA's library can be loaded here (then its `null` device plays).
fn alsa_present() -> bool {
    [
        "/usr/lib/x86_64-linux-gnu/libasound.so.2",
        "/usr/lib/aarch64-linux-gnu/libasound.so.2",
        "/usr/lib/libasound.so.2",
        "/usr/lib64/libasound.so.2",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
}

#[test]
fn space_plays_the_visible_span_with_a_moving_cursor_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), false);
    let settings = Settings {
        audio_device: Some("null".into()),
        ..Settings::default()
    };
    let mut h = harness_with(SpindleApp::new(vec![path], settings));
    wait_open(&mut h);
    assert!(h.query_by_label("Listen").is_some());
    // Sonify Fp1 over the whole recording: 120 s at 60x is 2 s of sound.
    h.get_by_label("All").click();
    h.run_steps(2);
    key(&mut h, Key::Space);
    let started = Instant::now();
    let mut positions = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        h.step();
        if let Some(p) = h.state().parts().recording.listening.position_s() {
            positions.push(p);
        }
        if h.state()
            .parts()
            .recording
            .listening
            .unavailable
            .as_deref()
            .is_some()
            || (h.state().parts().recording.listening.clips_played > 0
                && !h.state().parts().recording.listening.is_playing())
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    match h.state().parts().recording.listening.unavailable.as_deref() {
        Some(why) => {
            assert!(
                !alsa_present(),
                "ALSA is installed but playback failed: {why}"
            );
            eprintln!("playback test: no audio here ({why}); the app says so in one line");
            h.run_steps(2);
            assert!(h.query_by_label_contains("Playback:").is_some());
        }
        None => {
            // ALSA's null device takes the clip faster than real time, so the
            // cursor may never be seen here; where it is, it only moves forward.
            assert_eq!(
                h.state().parts().recording.listening.clips_played,
                1,
                "the span was played"
            );
            assert!(
                positions.windows(2).all(|w| w[0] <= w[1] + 1e-9),
                "the cursor only moves forward: {positions:?}"
            );
            assert!(
                !h.state().parts().recording.listening.is_playing(),
                "playback ended by itself"
            );
        }
    }
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
}

#[test]
fn a_recording_whose_labels_cannot_be_saved_is_not_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), false);
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let other = write_subject(&other, true);
    let app = SpindleApp::new(vec![path.clone()], Settings::default())
        .with_runs_dir(Some(dir.path().join("runs")));
    let mut h = harness_with(app);
    wait_open(&mut h);
    let sidecar = sidecar_path(&path);
    std::fs::create_dir(&sidecar).unwrap();
    let before = h.state().parts().recording.labels().unwrap().len();
    let y = data_rect(&h).center().y;
    let (x0, x1) = (x_of(&h, 1.3), x_of(&h, 2.0));
    mouse_drag(&mut h, pos2(x0, y), pos2(x1, y));
    // Opening another recording right away (before the autosave) fails to
    // save this one's labels: it stays open, with its new label. What the
    // path is and the save are found out on workers: wait for the answer.
    h.state_mut().open_path(&other);
    step_until(&mut h, "the failed save", 30, |a| {
        !a.parts().shell.errors.is_empty()
    });
    assert_eq!(h.state().parts().recording.path(), Some(path.as_path()));
    assert_eq!(
        h.state().parts().recording.labels().unwrap().len(),
        before + 1
    );
    let errors: Vec<String> = h
        .state()
        .parts()
        .shell
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&path.display().to_string()) && e.contains("stays open")),
        "{errors:?}"
    );
    h.run_steps(2);
    assert!(h.query_by_label_contains("stays open").is_some());
    // Closing the app now writes the unsaved labels to the rescue folder.
    eframe::App::on_exit(h.state_mut());
    let rescue = h.state().rescue_dir();
    assert_eq!(rescue, dir.path().join("rescued-labels"));
    let rescued: Vec<PathBuf> = std::fs::read_dir(&rescue)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rescued.len(), 1, "{rescued:?}");
    let name = rescued[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("sub-01_events.rescued-") && name.ends_with(".tsv"),
        "{name}"
    );
    let back = read_events_tsv(&rescued[0]).unwrap();
    assert_eq!(back.labels.len(), before + 1);
    // Once the folder is fixed, the switch saves first and goes ahead.
    std::fs::remove_dir(&sidecar).unwrap();
    h.state_mut().open_path(&other);
    let started = Instant::now();
    while h.state().parts().recording.path() != Some(other.as_path()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the other recording did not open"
        );
        h.step();
    }
    assert_eq!(labels_on_disk(&path).len(), before + 1);
}

#[test]
fn a_failed_label_save_is_shown_in_the_status_bar_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), false);
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    // A folder appears where the sidecar goes: every save fails.
    let sidecar = sidecar_path(&path);
    std::fs::create_dir(&sidecar).unwrap();
    // The status bar's line names the sidecar first, then the problem.
    let in_status_bar = format!("· {}: labels not saved: ", sidecar.display());
    let before = h.state().parts().recording.labels().unwrap().len();
    let y = data_rect(&h).center().y;
    let (x0, x1) = (x_of(&h, 1.3), x_of(&h, 2.0));
    mouse_drag(&mut h, pos2(x0, y), pos2(x1, y));
    assert_eq!(
        h.state().parts().recording.labels().unwrap().len(),
        before + 1
    );
    // Autosave fails within 2 s (egui time; 0.25 s per step).
    h.run_steps(8);
    settle(&mut h);
    assert_eq!(
        h.query_all_by_label_contains(&in_status_bar).count(),
        1,
        "the status bar says which file was not saved"
    );
    // Ctrl+S fails too; the message stays, once, and is not also listed.
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_steps(3);
    settle(&mut h);
    assert_eq!(h.query_all_by_label_contains(&in_status_bar).count(), 1);
    assert_eq!(h.query_all_by_label_contains("labels not saved").count(), 1);
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
    // It stays while nothing is saved.
    h.run_steps(8);
    settle(&mut h);
    assert_eq!(h.query_all_by_label_contains(&in_status_bar).count(), 1);
    // The label is still there to be saved once the folder is fixed.
    assert_eq!(
        h.state().parts().recording.labels().unwrap().len(),
        before + 1
    );
    std::fs::remove_dir(&sidecar).unwrap();
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_steps(3);
    settle(&mut h);
    assert_eq!(labels_on_disk(&path).len(), before + 1);
    // A save that succeeds takes the message away.
    assert_eq!(h.query_all_by_label_contains("labels not saved").count(), 0);
}

/// The files in `dir` whose names start with `prefix`.
fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    found.sort();
    found
}

#[test]
fn a_damaged_sidecar_is_never_overwritten_and_its_backup_can_be_restored() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), false);
    let sidecar = sidecar_path(&path);
    let backup = LabelSet::new(vec![
        Label::new(2.0, 1.5, "LongBlink"),
        Label::new(5.25, 0.5, "ShortBlink"),
    ]);
    write_events_tsv(&backup_path(&sidecar), &backup).unwrap();
    let damaged: &[u8] = b"onset\tduration\ttrial_type\n1.000\t2.000\tLongBlink\ncut off here\n";
    std::fs::write(&sidecar, damaged).unwrap();

    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    // The window names the file and the problem.
    let message = format!(
        "{}: labels not read: line 3: 1 columns, but the header has 3",
        sidecar.display()
    );
    assert_eq!(h.query_all_by_label_contains(&message).count(), 1);
    let before = h.state().parts().recording.labels().unwrap().len();

    // An edit is kept in memory, but nothing is written over the damaged file.
    let y = data_rect(&h).center().y;
    let (x0, x1) = (x_of(&h, 8.0), x_of(&h, 9.0));
    mouse_drag(&mut h, pos2(x0, y), pos2(x1, y));
    assert_eq!(
        h.state().parts().recording.labels().unwrap().len(),
        before + 1
    );
    h.run_steps(8);
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(std::fs::read(&sidecar).unwrap(), damaged);
    assert!(files_starting(dir.path(), "sub-01_events.tsv.damaged-").is_empty());

    h.get_by_label("Restore labels from backup").click();
    h.run_steps(3);
    settle(&mut h);
    assert_eq!(h.state().parts().recording.labels().unwrap(), &backup);
    assert_eq!(labels_on_disk(&path), backup.labels);
    assert_eq!(h.query_all_by_label_contains(&message).count(), 0);
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
    // The damaged file was kept aside, byte for byte.
    let aside = files_starting(dir.path(), "sub-01_events.tsv.damaged-");
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), damaged);
    assert_eq!(read_events_tsv(&backup_path(&sidecar)).unwrap(), backup);

    // The restore is one undoable step, and autosave is on again.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(8);
    settle(&mut h);
    assert_eq!(
        h.state().parts().recording.labels().unwrap().len(),
        before + 1
    );
    assert_eq!(labels_on_disk(&path).len(), before + 1);
    // The backup now holds the restored labels.
    assert_eq!(read_events_tsv(&backup_path(&sidecar)).unwrap(), backup);
}

#[test]
fn a_damaged_sidecar_can_be_set_aside_to_keep_the_labels_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_subject(dir.path(), false);
    let sidecar = sidecar_path(&path);
    let damaged: &[u8] = b"not a label table\n";
    std::fs::write(&sidecar, damaged).unwrap();
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    assert!(
        h.query_by_label_contains(&format!("{}: labels not read: ", sidecar.display()))
            .is_some()
    );
    // No readable backup: nothing to restore.
    assert!(h.query_by_label("Restore labels from backup").is_none());
    let before = h.state().parts().recording.labels().unwrap().len();
    h.get_by_label("Set the damaged file aside").click();
    h.run_steps(2);
    settle(&mut h);
    let aside = files_starting(dir.path(), "sub-01_events.tsv.damaged-");
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), damaged);
    // Autosave writes the next edit to a new sidecar.
    let y = data_rect(&h).center().y;
    let (x0, x1) = (x_of(&h, 8.0), x_of(&h, 9.0));
    mouse_drag(&mut h, pos2(x0, y), pos2(x1, y));
    h.run_steps(8);
    settle(&mut h);
    assert_eq!(labels_on_disk(&path).len(), before + 1);
    assert_eq!(std::fs::read(&aside[0]).unwrap(), damaged);
}

/// Writes subject 1 with its sidecar, and a journal as a session that
/// crashed after two unsaved edits leaves it: returns the recording, the
/// labels on disk and the labels the edits lead to.
fn write_crashed_session(dir: &Path) -> (PathBuf, LabelSet, LabelSet) {
    let path = write_subject(dir, true);
    let saved = read_events_tsv(&sidecar_path(&path)).unwrap();
    let mut edited = saved.clone();
    let mut journal = EditJournal::new(journal_path(&sidecar_path(&path)));
    let first = saved.labels[0].clone();
    let edits = [
        Edit::Insert(Label::new(3.0 + 1.0 / 3.0, 1.25, "LongBlink")),
        Edit::Change {
            before: first.clone(),
            after: Label {
                trial_type: "ShortBlink".into(),
                ..first
            },
        },
    ];
    for edit in &edits {
        edit.apply(&mut edited).unwrap();
        journal.record(Some(edit), &edited).unwrap();
    }
    (path, saved, edited)
}

#[test]
fn unsaved_edits_of_a_crashed_session_are_offered_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (path, saved, edited) = write_crashed_session(dir.path());
    let journal = journal_path(&sidecar_path(&path));
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    assert_eq!(h.state().parts().recording.labels().unwrap(), &saved);
    assert_eq!(
        h.query_all_by_label_contains("2 unsaved edits from an earlier session")
            .count(),
        1
    );
    // Autosave leaves the journal alone while the question is open.
    h.run_steps(8);
    settle(&mut h);
    assert!(journal.exists());

    h.get_by_label("Restore").click();
    h.run_steps(2);
    assert_eq!(h.state().parts().recording.labels().unwrap(), &edited);
    assert!(
        h.state()
            .parts()
            .recording
            .labels()
            .unwrap()
            .labels
            .iter()
            .any(|l| l.onset_s == 3.0 + 1.0 / 3.0 && l.trial_type == "LongBlink")
    );
    assert!(
        h.query_by_label_contains("unsaved edits from an earlier")
            .is_none()
    );
    // Until it is saved, the restore is journaled in this session's name
    // (by the label thread: waited for without stepping the app, whose
    // autosave would remove the journal).
    eventually("the journal of the restore", || {
        replay_journal(&journal)
            .ok()
            .flatten()
            .is_some_and(|r| r.labels == edited)
    });
    assert_eq!(replay_journal(&journal).unwrap().unwrap().labels, edited);
    // Autosave writes the labels and removes the journal.
    h.run_steps(8);
    settle(&mut h);
    assert_eq!(
        read_events_tsv(&sidecar_path(&path)).unwrap().len(),
        edited.len()
    );
    assert!(!journal.exists());
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
    // One Ctrl+Z undoes the restore.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(1);
    assert_eq!(h.state().parts().recording.labels().unwrap(), &saved);
    drop(h);
    // Opened again after a clean exit: nothing to offer.
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    assert!(h.query_by_label_contains("unsaved edit").is_none());
}

#[test]
fn unsaved_edits_of_a_crashed_session_can_be_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let (path, saved, _) = write_crashed_session(dir.path());
    let journal = journal_path(&sidecar_path(&path));
    let on_disk = std::fs::read(sidecar_path(&path)).unwrap();
    let mut h = harness(vec![path.clone()]);
    wait_open(&mut h);
    assert!(
        h.query_by_label_contains("2 unsaved edits from an earlier session")
            .is_some()
    );
    h.get_by_label("Discard").click();
    h.run_steps(8);
    settle(&mut h);
    assert!(!journal.exists());
    assert!(
        h.query_by_label_contains("unsaved edits from an earlier")
            .is_none()
    );
    assert_eq!(h.state().parts().recording.labels().unwrap(), &saved);
    assert_eq!(std::fs::read(sidecar_path(&path)).unwrap(), on_disk);
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );
}
