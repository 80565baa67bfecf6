//! The desktop app (eframe). Being built; see the app shell below.

use std::path::PathBuf;

/// Opens the main window on `paths` (the bundled sample data when empty) and
/// returns when the window is closed.
pub fn run(paths: Vec<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions::default();
    eframe::run_native(
        "Spindle",
        options,
        Box::new(move |_cc| Ok(Box::new(Shell { paths }))),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

struct Shell {
    paths: Vec<PathBuf>,
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut eframe::egui::Ui, _frame: &mut eframe::Frame) {
        eframe::egui::CentralPanel::default().show_inside(ui, |ui| {
            ui.heading("Spindle");
            for p in &self.paths {
                ui.label(p.display().to_string());
            }
        });
    }
}
