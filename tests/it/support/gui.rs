//! The app as the tests that use the executable open it: on the teaching
//! data, with its runs folder, asked what it shows.

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;
use spindle_app::gui::training::PreviewState;
use spindle_app::gui::{Settings, SpindleApp};

use super::app::AppHarness;

/// The app on `paths` with its runs in `runs`.
pub fn app_with_runs(paths: Vec<PathBuf>, runs: &Path) -> SpindleApp {
    let settings = Settings {
        runs_dir: Some(runs.to_path_buf()),
        ..Settings::default()
    };
    SpindleApp::new(paths, settings)
}

/// True when some widget's label contains `text`.
pub fn shows(h: &AppHarness, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// True when the Train view's dataset preview is ready and current, and no
/// command waits (a `SetTrainOptions` just queued would make it stale at
/// the next logic step).
pub fn preview_ready(app: &SpindleApp) -> bool {
    let training = &app.parts().training.panel;
    !app.is_busy()
        && matches!(*training.preview, PreviewState::Ready(_))
        && !training.preview_is_stale()
}

/// The teaching data of `spindle synth` (seed 5) written into `dir/data`:
/// that folder.
pub fn teaching_data(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    spindle_signals::synth::write_teaching_data(&data, 5).unwrap();
    data
}
