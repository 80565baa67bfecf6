//! The real app under egui_kittest, stepped as eframe steps it (the logic
//! step, then the drawing). Shared by this crate's `it` binary and the root
//! package's (whose app tests need the `spindle` executable too), which
//! includes this file.

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use spindle_app::gui::SpindleApp;
use spindle_signals::io_guard;

/// The app in a kittest harness.
pub type AppHarness = Harness<'static, SpindleApp>;

/// A harness of `app` in a window of `width` x `height` points that runs
/// `run_logic` then `show` every frame, and fails the test when a frame
/// touched a file: the app marks the UI thread while it runs
/// (`spindle_signals::io_guard`), and every file entry point of the
/// library counts an access made there.
pub fn harness(app: SpindleApp, width: f32, height: f32) -> AppHarness {
    let before = io_guard::accesses();
    Harness::builder()
        .with_size(egui::vec2(width, height))
        .build_ui_state(
            move |ui, app: &mut SpindleApp| {
                app.run_logic(ui.ctx());
                app.show(ui);
                assert_no_file_access(before);
            },
            app,
        )
}

/// Fails when this thread noted a file access while marked as the UI
/// thread since the count was `before`, naming the last file.
pub fn assert_no_file_access(before: usize) {
    let count = io_guard::accesses() - before;
    assert!(
        count == 0,
        "the UI thread touched a file {count} time(s), last {:?}; that belongs on a worker",
        io_guard::last_access()
    );
}

/// Steps the app until `done` holds, then two frames more; fails after
/// `limit_s` seconds naming `what` and the errors the app shows.
pub fn step_until(
    h: &mut AppHarness,
    what: &str,
    limit_s: u64,
    done: impl Fn(&SpindleApp) -> bool,
) {
    let started = Instant::now();
    while !done(h.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(limit_s),
            "{what} did not happen within {limit_s} s; errors: {:?}",
            h.state().parts().shell.errors
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

/// Steps the app until it is idle (no folder scan, file open or label
/// file being written, no command waiting), then two frames more: the
/// label files are written on a worker, so a test that reads them waits
/// for this first. Fails after 30 s naming the errors the app shows.
#[allow(dead_code, reason = "the root package's app tests do not settle")]
pub fn settle(h: &mut AppHarness) {
    step_until(h, "the app to settle", 30, |app| !app.is_busy());
}
