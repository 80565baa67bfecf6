//! A recording too big to hold in memory, in the real app (egui_kittest): it
//! opens at once from its header, its overview is built in the background,
//! and a file cut short while open is reported in the window, not a crash.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen
#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, Key};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{Settings, SpindleApp};
use spindle_signals::recording::{
    Channel, EdfWriteOptions, Format, READ_ON_DEMAND_BYTES, Recording, Segment, write_edf,
};

/// A 64-channel recording just over the size from which files are read on
/// demand (about 40 MB).
fn write_big(dir: &Path) -> PathBuf {
    let path = dir.join("night.edf");
    let rate_hz = 256.0;
    let duration_s = 1250.0;
    let n = (rate_hz * duration_s) as usize;
    let channels = (0..64)
        .map(|c| Channel {
            label: format!("E{c:02}"),
            unit: "uV".into(),
            rate_hz,
            physical_min: -200.0,
            physical_max: 200.0,
            transducer: String::new(),
            prefilter: String::new(),
            samples: (0..n)
                .map(|i| (50.0 * (i as f64 * 0.05 * (c + 1) as f64).sin()) as f32)
                .collect(),
        })
        .collect();
    let rec = Recording {
        path: path.clone(),
        format: Format::EdfPlusC,
        patient: String::new(),
        recording_id: String::new(),
        start: None,
        channels,
        annotations: Vec::new(),
        segments: vec![Segment {
            onset_s: 0.0,
            duration_s,
        }],
        warnings: Vec::new(),
    };
    write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > READ_ON_DEMAND_BYTES);
    path
}

fn harness(paths: Vec<PathBuf>) -> Harness<'static, SpindleApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut SpindleApp| {
                app.run_logic(ui.ctx());
                app.show(ui);
            },
            SpindleApp::new(paths, Settings::default()),
        )
}

/// Steps until `done` holds (at most 20 s).
fn step_until(h: &mut Harness<'static, SpindleApp>, done: impl Fn(&SpindleApp) -> bool) {
    let started = Instant::now();
    while !done(h.state()) {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_big_recording_opens_from_its_header_and_a_file_cut_short_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_big(dir.path());
    let mut h = harness(vec![path.clone()]);
    step_until(&mut h, |app| app.view_range().is_some());
    assert!(h.state().reads_on_demand());
    assert_eq!(h.state().open_recording(), Some(path.as_path()));
    // The listing read the header: 64 channels, the whole duration.
    step_until(&mut h, |app| !app.entries().is_empty());
    let entry = &h.state().entries()[0];
    assert_eq!((entry.channels, entry.duration_s), (64, 1250.0));
    // The overview is built in the background, then the whole night shows.
    step_until(&mut h, |app| app.overview_progress().is_none());
    h.get_by_label("All").click();
    h.run_steps(3);
    assert_eq!(h.state().view_range(), Some((0.0, 1250.0)));
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());

    // Zoomed in again, the file is cut short behind the app's back; the
    // next span read from it is reported, naming the file, and the app goes on.
    h.get_by_label("+").click();
    h.run_steps(2);
    for _ in 0..8 {
        h.get_by_label("+").click();
        h.run_steps(1);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(8192)
        .unwrap();
    h.key_press(Key::End);
    step_until(&mut h, |app| !app.errors().is_empty());
    h.run_steps(2);
    let error = h.state().errors()[0].to_string();
    assert!(
        error.contains("night.edf") && error.contains("became shorter while open"),
        "{error}"
    );
    assert!(
        h.query_by_label_contains("became shorter while open")
            .is_some()
    );
    assert_eq!(h.state().open_recording(), Some(path.as_path()));
}
