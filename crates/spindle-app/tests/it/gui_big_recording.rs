//! A recording too big to hold in memory, in the real app (egui_kittest): it
//! opens at once from its header, its overview is built in the background,
//! and a file cut short while open is reported in the window, not a crash.

use std::path::{Path, PathBuf};

use eframe::egui::Key;
use egui_kittest::kittest::Queryable;
use spindle_app::gui::{Settings, SpindleApp};
use spindle_signals::recording::READ_ON_DEMAND_BYTES;

use crate::support::app::{AppHarness, step_until};
use crate::support::{self, write_64_channels};

/// A 64-channel recording just over the size from which files are read on
/// demand (about 40 MB).
fn write_big(dir: &Path) -> PathBuf {
    let path = dir.join("night.edf");
    write_64_channels(&path, 1250.0, |c, i| {
        (50.0 * (i as f64 * 0.05 * (c + 1) as f64).sin()) as f32
    });
    assert!(std::fs::metadata(&path).unwrap().len() > READ_ON_DEMAND_BYTES);
    path
}

fn harness(paths: Vec<PathBuf>) -> AppHarness {
    support::app::harness(SpindleApp::new(paths, Settings::default()), 1280.0, 800.0)
}

#[test]
fn a_big_recording_opens_from_its_header_and_a_file_cut_short_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_big(dir.path());
    let mut h = harness(vec![path.clone()]);
    step_until(&mut h, "opening", 20, |app| {
        app.parts().recording.view_range().is_some()
    });
    assert!(h.state().parts().recording.reads_on_demand());
    assert_eq!(h.state().parts().recording.path(), Some(path.as_path()));
    // The listing read the header: 64 channels, the whole duration.
    step_until(&mut h, "the listing", 20, |app| {
        !app.parts().shell.browser.entries.is_empty()
    });
    let entry = &h.state().parts().shell.browser.entries[0];
    assert_eq!((entry.channels, entry.duration_s), (64, 1250.0));
    // The overview is built in the background, then the whole night shows.
    step_until(&mut h, "the overview", 20, |app| {
        app.parts().recording.overview_progress().is_none()
    });
    h.get_by_label("All").click();
    h.run_steps(3);
    assert_eq!(
        h.state().parts().recording.view_range(),
        Some((0.0, 1250.0))
    );
    assert!(
        h.state().parts().shell.errors.is_empty(),
        "{:?}",
        h.state().parts().shell.errors
    );

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
    step_until(&mut h, "the error", 20, |app| {
        !app.parts().shell.errors.is_empty()
    });
    h.run_steps(2);
    let error = h.state().parts().shell.errors[0].to_string();
    assert!(
        error.contains("night.edf") && error.contains("became shorter while open"),
        "{error}"
    );
    assert!(
        h.query_by_label_contains("became shorter while open")
            .is_some()
    );
    assert_eq!(h.state().parts().recording.path(), Some(path.as_path()));
}
