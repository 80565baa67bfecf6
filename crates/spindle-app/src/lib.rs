//! Spindle's desktop app: the only crate that draws (eframe, egui,
//! egui_plot), over the library crates `spindle-signals` and
//! `spindle-learn`.
//!
//! - [`gui`]: the app shell [`gui::SpindleApp`] and its panels — the
//!   recordings browser, the signal viewer and labeling, spectra and
//!   listening, training, results, runs, sweeps and explanations — with the
//!   worker threads that do its slow work; [`gui::run`] opens the window.
//! - [`playback`]: audio output (ALSA loaded at run time on Linux, cpal on
//!   macOS and Windows) and the sonification of EEG.
//!
//! # Example
//!
//! The app is a value that any egui host can step: here one frame without a
//! window, on the bundled sample data (the tests drive it the same way under
//! `egui_kittest`; `spindle_app::gui::run` opens it in a real window).
//!
//! ```
//! use spindle_app::gui::{Settings, SpindleApp};
//!
//! let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample_data/eeg");
//! let mut app = SpindleApp::new(vec![sample], Settings::default());
//! let ctx = eframe::egui::Context::default();
//! let _frame = ctx.run_ui(Default::default(), |ui| {
//!     app.run_logic(ui.ctx());
//!     app.show(ui);
//! });
//! assert!(app.parts().shell.errors.is_empty());
//! ```

pub mod gui;
pub mod playback;
