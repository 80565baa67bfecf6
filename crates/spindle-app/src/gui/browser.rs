//! The recordings panel: the recordings of the open folder with duration,
//! channels and label counts; a click opens one.

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText, Ui};
use spindle_signals::dsp::format_hms;

use spindle_signals::viewing::Entry;

use super::command::{AppCommand, Commands};

/// The folder being browsed and what was found in it.
#[derive(Debug, Default)]
pub struct Browser {
    /// The folder.
    pub root: Option<PathBuf>,
    /// Recordings found, in path order.
    pub entries: Vec<Entry>,
    /// True while the folder is being scanned.
    pub scanning: bool,
}

impl Browser {
    /// Starts browsing `root` (entries arrive from the scanner).
    pub fn reset(&mut self, root: &Path) {
        self.root = Some(root.to_path_buf());
        self.entries.clear();
        self.scanning = true;
    }

    /// Adds an entry found under `root` (ignored if another folder is open now).
    pub fn add(&mut self, root: &Path, entry: Entry) {
        if self.root.as_deref() == Some(root) {
            self.entries.push(entry);
        }
    }

    /// Updates the label count shown for `path`.
    pub fn set_label_count(&mut self, path: &Path, count: usize) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.path == path) {
            e.labels = count;
        }
    }

    /// Draws the panel; the recording the user clicks becomes
    /// `AppCommand::Open` on `commands`.
    pub fn ui(&mut self, ui: &mut Ui, open_path: Option<&Path>, commands: &mut Commands) {
        ui.heading("Recordings");
        match &self.root {
            Some(root) => {
                ui.label(RichText::new(root.display().to_string()).small().weak());
            }
            None => {
                ui.label("No folder open. Use File > Open folder, or drop one here.");
            }
        }
        if self.scanning {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("scanning… {} found", self.entries.len()));
            });
        } else if self.root.is_some() && self.entries.is_empty() {
            ui.label("No recordings (EDF, BDF, BrainVision, WAV) in this folder.");
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let mut last_dir: Option<String> = None;
                for e in &self.entries {
                    let dir = Path::new(&e.name)
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    if last_dir.as_deref() != Some(dir.as_str()) {
                        if !dir.is_empty() {
                            ui.label(RichText::new(format!("{dir}/")).strong());
                        }
                        last_dir = Some(dir);
                    }
                    let file = Path::new(&e.name)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let details = match &e.error {
                        Some(err) => format!("unreadable: {err}"),
                        None => {
                            let labels = match &e.class {
                                Some(c) => format!("class {c}"),
                                None => format!("{} labels", e.labels),
                            };
                            if e.channels == 0 {
                                format!(
                                    "{} · annotations only · {labels}",
                                    format_hms(e.duration_s)
                                )
                            } else {
                                format!(
                                    "{} · {} ch · {} Hz · {labels}",
                                    format_hms(e.duration_s),
                                    e.channels,
                                    e.rate_hz
                                )
                            }
                        }
                    };
                    let selected = open_path == Some(e.path.as_path());
                    let resp = ui
                        .selectable_label(selected, format!("{file}\n{details}"))
                        .on_hover_text(e.path.display().to_string());
                    if resp.clicked() && e.error.is_none() {
                        commands.push(AppCommand::Open(e.path.clone()));
                    }
                }
            });
    }
}
