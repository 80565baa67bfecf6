//! The Help menu's "User guide" and "About Spindle": where the installed
//! guide is, and a window with the version and where Spindle keeps things.
//! The window's open state lives in egui's memory, so the shell needs only
//! to call [`show`] each frame.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Context, Id};

/// The memory key of the About window's open state.
fn open_id() -> Id {
    Id::unique("spindle_about_open")
}

/// Opens the About window (shown by [`show`] from the next frame on).
pub fn open(ctx: &Context) {
    ctx.data_mut(|d| d.insert_temp(open_id(), true));
}

/// Draws the About window while it is open.
pub fn show(ctx: &Context) {
    let mut open = ctx.data(|d| d.get_temp::<bool>(open_id()).unwrap_or(false));
    if !open {
        return;
    }
    egui::Window::new("About Spindle")
        .open(&mut open)
        .resizable(false)
        .collapsible(false)
        .show(ctx, |ui| {
            ui.heading(format!("Spindle {}", env!("CARGO_PKG_VERSION")));
            ui.label("A workbench for deep learning on EEG and audio recordings.");
            ui.add_space(6.0);
            ui.label(format!(
                "Runs: {}",
                spindle_learn::runs::default_runs_dir().display()
            ));
            if let Some(dir) = spindle_learn::runs::data_dir() {
                ui.label(format!(
                    "Your copy of the sample data: {}",
                    dir.join("sample_data").display()
                ));
            }
            match guide() {
                Some(index) => {
                    ui.label(format!("User guide: {}", index.display()));
                }
                None => {
                    ui.label("User guide: docs/guide/ in Spindle's source");
                }
            }
            ui.label("`spindle --version` in a terminal names the build.");
        });
    ctx.data_mut(|d| d.insert_temp(open_id(), open));
}

/// Opens the user guide's first page in the system's browser or Markdown
/// viewer; `false` when no installed guide was found.
pub fn open_guide(ctx: &Context) -> bool {
    let Some(index) = guide() else {
        open(ctx);
        return false;
    };
    ctx.open_url(egui::OpenUrl::new_tab(format!(
        "file://{}",
        index.display()
    )));
    true
}

/// The guide's `index.md`: installed beside the program (the `.deb` and the
/// tarball put it in `share/doc/spindle/guide`), else in the source tree.
fn guide() -> Option<PathBuf> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    let installed = exe_dir.into_iter().flat_map(|d| {
        [
            d.join("../share/doc/spindle/guide"),
            d.join("../Resources/guide"),
            d.join("guide"),
        ]
    });
    // This crate sits two folders below the repository root.
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(|root| root.join("docs/guide"));
    installed
        .chain(source)
        .map(|d| d.join("index.md"))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
}
