//! The real app under egui_kittest, stepped as eframe steps it (the logic
//! step, then the drawing). Shared by this crate's `it` binary and the root
//! package's (whose app tests need the `spindle` executable too), which
//! includes this file.

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use spindle_app::gui::SpindleApp;

/// The app in a kittest harness.
pub type AppHarness = Harness<'static, SpindleApp>;

/// A harness of `app` in a window of `width` x `height` points that runs
/// `run_logic` then `show` every frame.
pub fn harness(app: SpindleApp, width: f32, height: f32) -> AppHarness {
    Harness::builder()
        .with_size(egui::vec2(width, height))
        .build_ui_state(
            |ui, app: &mut SpindleApp| {
                app.run_logic(ui.ctx());
                app.show(ui);
            },
            app,
        )
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
            h.state().errors()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}
