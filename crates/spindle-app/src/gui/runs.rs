//! The Runs view: every run of the runs folder (those the app trained, those
//! `spindle train` wrote from a terminal, those still being written by
//! another process), opened, compared (curves overlaid, scores side by side,
//! only the settings that differ) or deleted after confirmation; and a sweep
//! folder followed (`sweep_view`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use spindle_learn::runs::{RunEntry, RunSnapshot, RunStatus, settings_diff};

use super::command::{AppCommand, Commands, Pick, Tab};

/// Colors for overlaid runs.
const PALETTE: [Color32; 6] = [
    Color32::from_rgb(66, 133, 244),
    Color32::from_rgb(219, 68, 55),
    Color32::from_rgb(15, 157, 88),
    Color32::from_rgb(244, 160, 0),
    Color32::from_rgb(171, 71, 188),
    Color32::from_rgb(0, 172, 193),
];

/// The Runs view's state.
#[derive(Debug, Default)]
pub struct RunsPanel {
    /// The runs folder listed.
    pub dir: PathBuf,
    /// Its runs, newest first.
    pub entries: Vec<RunEntry>,
    /// Runs ticked for comparison.
    pub compare: BTreeSet<PathBuf>,
    /// Runs read for comparison or display, by folder.
    pub snapshots: BTreeMap<PathBuf, RunSnapshot>,
    /// The run the user asked to delete, awaiting confirmation.
    confirm_delete: Option<PathBuf>,
    /// The sweep folder open, its tasks and comparison.
    pub sweep: super::sweep_view::SweepPanel,
}

impl RunsPanel {
    /// The runs that should be read again because they are still being written.
    pub fn live_runs(&self) -> Vec<PathBuf> {
        self.entries
            .iter()
            .filter(|e| e.status == RunStatus::Running && self.compare.contains(&e.dir))
            .map(|e| e.dir.clone())
            .collect()
    }

    /// Forgets a deleted run.
    pub fn remove(&mut self, dir: &Path) {
        self.entries.retain(|e| e.dir != dir);
        self.compare.remove(dir);
        self.snapshots.remove(dir);
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut Ui, commands: &mut Commands) {
        ui.horizontal(|ui| {
            ui.heading("Runs");
            ui.label(RichText::new(self.dir.display().to_string()).weak().small());
            if ui.button("Refresh").clicked() {
                commands.push(AppCommand::RefreshRuns);
            }
        });
        self.sweep.ui(ui, commands);
        ui.separator();
        if self.entries.is_empty() {
            ui.label("No runs yet. Train one in the Train view, or run `spindle train` in a terminal: its runs appear here.");
            return;
        }
        ui.label(RichText::new("Tick two or more runs to compare them.").weak());
        egui::ScrollArea::vertical()
            .id_salt("runs_list")
            .max_height(260.0)
            .show(ui, |ui| {
                egui::Grid::new("runs_grid")
                    .striped(true)
                    .num_columns(6)
                    .show(ui, |ui| {
                        for h in ["compare", "run", "status", "model", "test score", ""] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for e in &self.entries {
                            let mut ticked = self.compare.contains(&e.dir);
                            if ui
                                .checkbox(&mut ticked, "")
                                .on_hover_text("compare")
                                .changed()
                            {
                                if ticked {
                                    self.compare.insert(e.dir.clone());
                                    commands.push(AppCommand::ReadRun(e.dir.clone()));
                                } else {
                                    self.compare.remove(&e.dir);
                                }
                            }
                            ui.label(&e.name);
                            let status = e.status.label();
                            match e.status {
                                RunStatus::Running => {
                                    ui.colored_label(Color32::from_rgb(244, 160, 0), status)
                                }
                                RunStatus::Complete => ui.label(status),
                                RunStatus::Incomplete => ui.label(RichText::new(status).weak()),
                            };
                            ui.label(e.model.clone().unwrap_or_else(|| "-".into()));
                            ui.label(e.test_score.map_or("-".into(), |s| format!("{:.3}", s)));
                            ui.horizontal(|ui| {
                                if ui.button("Open").clicked() {
                                    commands.push(AppCommand::OpenRun(e.dir.clone()));
                                    commands.push(AppCommand::ShowTab(Tab::Results));
                                }
                                if ui.button("Delete…").clicked() {
                                    self.confirm_delete = Some(e.dir.clone());
                                }
                            });
                            ui.end_row();
                        }
                    });
            });
        self.delete_dialog(ui, commands);
        ui.separator();
        self.comparison(ui, commands);
    }

    fn delete_dialog(&mut self, ui: &mut Ui, commands: &mut Commands) {
        let Some(dir) = self.confirm_delete.clone() else {
            return;
        };
        let mut open = true;
        egui::Window::new("Delete run?")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                ui.label(format!(
                    "Delete {} and everything in it (weights, curves, report)? This cannot be undone.",
                    dir.display()
                ));
                ui.horizontal(|ui| {
                    if ui.button("Delete").clicked() {
                        commands.push(AppCommand::DeleteRun(dir.clone()));
                        self.confirm_delete = None;
                    }
                    if ui.button("Keep").clicked() {
                        self.confirm_delete = None;
                    }
                });
            });
        if !open {
            self.confirm_delete = None;
        }
    }

    fn comparison(&self, ui: &mut Ui, commands: &mut Commands) {
        let runs: Vec<&RunSnapshot> = self
            .compare
            .iter()
            .filter_map(|d| self.snapshots.get(d))
            .collect();
        if runs.len() < 2 {
            return;
        }
        ui.heading(format!("Comparing {} runs", runs.len()));
        let name = |r: &RunSnapshot| {
            r.dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        let shown = Plot::new("compare_loss")
            .height(200.0)
            .legend(Legend::default())
            .x_axis_label("epoch")
            .y_axis_label("validation loss")
            .allow_scroll(false)
            .show(ui, |plot| {
                for (i, r) in runs.iter().enumerate() {
                    let pts: PlotPoints = r
                        .epochs
                        .iter()
                        .filter_map(|e| Some([e.epoch as f64, e.val_loss?]))
                        .collect();
                    plot.line(
                        Line::new(name(r), pts)
                            .color(PALETTE[i % PALETTE.len()])
                            .width(2.0),
                    );
                }
            });
        ui.horizontal(|ui| {
            super::training::save_png_button(ui, "compare-loss", shown.response.rect, commands);
            if ui.small_button("Export curves (CSV)…").clicked() {
                commands.push(AppCommand::Pick(Pick::CurvesCsv(
                    runs.iter().map(|r| r.dir.clone()).collect(),
                )));
            }
        });
        egui::Grid::new("compare_scores")
            .striped(true)
            .show(ui, |ui| {
                ui.label(RichText::new("run").strong());
                for h in [
                    "test accuracy / R²",
                    "balanced accuracy",
                    "kappa",
                    "kept epoch",
                    "seconds",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (i, r) in runs.iter().enumerate() {
                    ui.colored_label(PALETTE[i % PALETTE.len()], name(r));
                    let report = r.report.as_ref();
                    let c = report
                        .and_then(|x| x.test.as_ref())
                        .and_then(|s| s.classification());
                    let fmt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
                    ui.label(fmt(report.and_then(|x| x.test_score())));
                    ui.label(fmt(c.map(|c| c.balanced_accuracy)));
                    ui.label(fmt(c.map(|c| c.kappa)));
                    ui.label(report.map_or("-".into(), |x| x.best_epoch.to_string()));
                    ui.label(report.map_or("-".into(), |x| format!("{:.1}", x.train_seconds)));
                    ui.end_row();
                }
            });
        let infos: Vec<_> = runs.iter().filter_map(|r| r.info.as_ref()).collect();
        if infos.len() == runs.len() {
            let diffs = settings_diff(&infos);
            ui.label(RichText::new("Settings that differ").strong());
            if diffs.is_empty() {
                ui.label("none: the runs differ only by chance (or by their data).");
            }
            egui::Grid::new("compare_settings")
                .striped(true)
                .show(ui, |ui| {
                    ui.label(RichText::new("setting").strong());
                    for r in &runs {
                        ui.label(RichText::new(name(r)).strong());
                    }
                    ui.end_row();
                    for d in diffs {
                        ui.monospace(&d.key);
                        for v in &d.values {
                            ui.monospace(v);
                        }
                        ui.end_row();
                    }
                });
        }
    }
}
