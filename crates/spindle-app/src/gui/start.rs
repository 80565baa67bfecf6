//! The start screen: what the Viewer shows when nothing is open (a first
//! run, `spindle` with no arguments): open recordings or a folder, try the
//! sample data, run the demo, or reopen a recent file or folder.

use std::path::PathBuf;

use eframe::egui::{self, RichText, Ui};
use spindle_signals::recording::RECORDING_EXTENSIONS;

/// What the user chose on the start screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartChoice {
    /// Open this recording or folder (picked, recent, or the sample data).
    Open(PathBuf),
    /// Run the demo (it opens the sample data itself).
    Demo,
    /// The sample data could not be found or written; why.
    NoSampleData(String),
}

/// Draws the start screen with the `recent` files and folders (newest
/// first) and returns the choice made this frame.
pub fn ui(ui: &mut Ui, recent: &[PathBuf]) -> Option<StartChoice> {
    let mut choice = None;
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.12).min(80.0));
        ui.heading(RichText::new("Spindle").size(32.0));
        ui.label("Deep learning on EEG and audio recordings");
        ui.add_space(24.0);
        let wide = egui::vec2(280.0, 32.0);
        if ui
            .add_sized(wide, egui::Button::new("Open recordings…"))
            .on_hover_text("EDF, BDF, BrainVision (.vhdr) or WAV files")
            .clicked()
            && let Some(p) = rfd::FileDialog::new()
                .add_filter("Recordings", RECORDING_EXTENSIONS)
                .pick_file()
        {
            choice = Some(StartChoice::Open(p));
        }
        if ui
            .add_sized(wide, egui::Button::new("Open a folder…"))
            .on_hover_text("Every recording in a folder and its subfolders")
            .clicked()
            && let Some(p) = rfd::FileDialog::new().pick_folder()
        {
            choice = Some(StartChoice::Open(p));
        }
        if ui
            .add_sized(wide, egui::Button::new("Try the sample data"))
            .on_hover_text("Five labeled EEG recordings, bird calls and two scored nights")
            .clicked()
        {
            choice = Some(match spindle_learn::sample_data::for_app() {
                Ok(dir) => StartChoice::Open(dir),
                Err(e) => StartChoice::NoSampleData(e.to_string()),
            });
        }
        if ui
            .add_sized(wide, egui::Button::new("Run the demo"))
            .on_hover_text("Trains a network on the sample EEG, in presentation mode")
            .clicked()
        {
            choice = Some(StartChoice::Demo);
        }
        if !recent.is_empty() {
            ui.add_space(24.0);
            ui.label(RichText::new("Recent").strong());
            for path in recent {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                if ui
                    .link(name)
                    .on_hover_text(path.display().to_string())
                    .clicked()
                {
                    choice = Some(StartChoice::Open(path.clone()));
                }
            }
        }
        ui.add_space(24.0);
        ui.label(
            RichText::new("You can also drop recordings or a folder onto this window.")
                .small()
                .weak(),
        );
    });
    choice
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;

    #[test]
    fn a_recent_folder_is_offered_and_opened() {
        let recent = vec![PathBuf::from("/data/night-study")];
        let mut chosen = None;
        let mut harness = Harness::new_ui(|ui| {
            if let Some(c) = super::ui(ui, &recent) {
                chosen = Some(c);
            }
        });
        harness.run();
        assert!(harness.query_by_label("Try the sample data").is_some());
        assert!(harness.query_by_label("Run the demo").is_some());
        harness.get_by_label("night-study").click();
        harness.run();
        drop(harness);
        assert_eq!(chosen, Some(StartChoice::Open(recent[0].clone())));
    }
}
