//! The desktop app (eframe): a recordings browser, a signal viewer built on
//! [`crate::dsp`] pyramids, and labeling built on [`crate::labeling`]. One
//! module per panel; no computation here beyond drawing.

mod app;
mod browser;
mod channels;
mod keys;
mod labels;
mod session;
mod settings;
mod spectrum;
mod viewer;
mod worker;

use std::path::{Path, PathBuf};

pub use app::SpindleApp;
pub use settings::{Settings, ThemeChoice};
pub use worker::Entry;

/// The bundled `sample_data/` folder: beside the executable (or one of its
/// parent folders, as in `target/release/`), else in the source tree the
/// binary was built from.
pub fn find_sample_data() -> Option<PathBuf> {
    let exe_dirs = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .into_iter()
        .flat_map(|dir| {
            dir.ancestors()
                .take(3)
                .map(Path::to_path_buf)
                .collect::<Vec<_>>()
        });
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    exe_dirs
        .chain(std::iter::once(source))
        .map(|d| d.join("sample_data"))
        .find(|d| d.is_dir())
}

/// Opens the main window on `paths` (the bundled sample data when empty) and
/// returns when the window is closed.
pub fn run(paths: Vec<PathBuf>) -> anyhow::Result<()> {
    let paths = if paths.is_empty() {
        find_sample_data().into_iter().collect()
    } else {
        paths
    };
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Spindle")
            .with_inner_size([1280.0, 800.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "Spindle",
        options,
        Box::new(move |cc| {
            let settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(SpindleApp::new(paths, settings)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}
