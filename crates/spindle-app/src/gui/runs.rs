//! The Runs view: every run of the runs folder (those the app trained, those
//! `spindle train` wrote from a terminal, those still being written by
//! another process) in a list that fills the window (only the rows in view
//! are drawn), sorted by any column, filtered as the user types, with a
//! sweep's or cross-validation's runs nested under their folder with the
//! mean ± sd of their scores; runs pinned, tagged and annotated
//! (`note.json`, saved by the library on a worker), opened, compared
//! (curves overlaid, scores and notes side by side, only the settings that
//! differ) or deleted after confirmation; and a sweep folder followed
//! (`sweep_view`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use spindle_learn::runs::{RunEntry, RunNote, RunSnapshot, RunStatus, settings_diff, utc_minute};

use super::command::{AppCommand, Commands, Pick, Tab};
use super::palette::series_color;
use super::runs_list::{self, ListView, Row, SortKey};

/// The Runs view's state.
#[derive(Debug, Default)]
pub struct RunsPanel {
    /// The runs folder listed.
    pub dir: PathBuf,
    /// Its runs, newest first (set through [`RunsPanel::set_entries`], so
    /// that the list's rows are made again).
    entries: Vec<RunEntry>,
    /// Counts the changes to `entries`, so that the rows know when they
    /// are stale.
    generation: u64,
    /// The list's rows as last made.
    cache: RowCache,
    /// Runs ticked for comparison.
    pub compare: BTreeSet<PathBuf>,
    /// Runs read for comparison or display, by folder.
    pub snapshots: BTreeMap<PathBuf, RunSnapshot>,
    /// The run the user asked to delete, awaiting confirmation.
    confirm_delete: Option<PathBuf>,
    /// The sweep folder open, its tasks and comparison.
    pub sweep: super::sweep_view::SweepPanel,
    /// The list's order, filter and open groups.
    pub view: ListView,
    /// The note being edited, if any.
    editing: Option<NoteEditor>,
}

/// The list's rows, kept from frame to frame until the runs, the filter,
/// the order or the open groups change (filtering 400 runs formats and
/// lowercases each one's text).
#[derive(Debug, Default)]
struct RowCache {
    /// The generation of the entries and the view the rows were made for.
    made_for: Option<(u64, ListView)>,
    /// The rows.
    rows: Vec<Row>,
    /// Runs matching the filter (some may sit in closed groups).
    matching: usize,
}

/// The note window's fields while the user edits a run's note.
#[derive(Debug, Clone)]
struct NoteEditor {
    /// The run folder.
    dir: PathBuf,
    /// Its name in the list.
    name: String,
    /// Pinned on top.
    pinned: bool,
    /// Tags, comma-separated.
    tags: String,
    /// The note.
    note: String,
    /// Why the run's `note.json` could not be read, if so.
    problem: Option<String>,
}

impl RunsPanel {
    /// The runs listed, newest first.
    pub fn entries(&self) -> &[RunEntry] {
        &self.entries
    }

    /// Takes in the runs folder's entries as listed.
    pub fn set_entries(&mut self, entries: Vec<RunEntry>) {
        self.entries = entries;
        self.generation += 1;
    }

    /// Makes the rows again when the entries or the view changed since
    /// they were made.
    fn refresh_rows(&mut self) {
        let fresh = self
            .cache
            .made_for
            .as_ref()
            .is_some_and(|(generation, view)| *generation == self.generation && *view == self.view);
        if fresh {
            return;
        }
        self.cache.rows = runs_list::rows(&self.entries, &self.view);
        self.cache.matching = self
            .entries
            .iter()
            .filter(|e| runs_list::matches(e, &self.view.filter))
            .count();
        self.cache.made_for = Some((self.generation, self.view.clone()));
    }

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
        self.generation += 1;
        self.compare.remove(dir);
        self.snapshots.remove(dir);
    }

    /// Takes in a note saved to run folder `dir`.
    pub fn note_saved(&mut self, dir: &Path, note: RunNote) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.dir == dir) {
            e.note = note.clone();
            e.note_problem = None;
            self.generation += 1;
        }
        if let Some(s) = self.snapshots.get_mut(dir) {
            s.note = note;
        }
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
        self.refresh_rows();
        // Taken for the frame (the rows borrow nothing) and put back.
        let rows = std::mem::take(&mut self.cache.rows);
        self.filter_bar(ui, &rows);
        let comparing = self
            .compare
            .iter()
            .filter(|d| self.snapshots.contains_key(*d))
            .count()
            >= 2;
        let list_height = if comparing {
            (ui.available_height() * 0.45).max(120.0)
        } else {
            ui.available_height()
        };
        self.table(ui, &rows, list_height, commands);
        self.cache.rows = rows;
        self.delete_dialog(ui, commands);
        self.note_window(ui, commands);
        if comparing {
            ui.separator();
            egui::ScrollArea::vertical()
                .id_salt("runs_compare")
                .auto_shrink([false, false])
                .show(ui, |ui| self.comparison(ui, commands));
        }
    }

    /// The filter field and what it leaves.
    fn filter_bar(&mut self, ui: &mut Ui, rows: &[Row]) {
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.view.filter)
                    .hint_text("model, data file, tag, note…")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            if !self.view.filter.is_empty() && ui.small_button("Clear").clicked() {
                self.view.filter.clear();
            }
            let shown = rows.iter().filter(|r| matches!(r, Row::Run { .. })).count();
            let matching = self.cache.matching;
            let closed = if shown < matching {
                format!(", {} in closed groups", matching - shown)
            } else {
                String::new()
            };
            ui.label(
                RichText::new(format!(
                    "{matching} of {} runs{closed}. Tick two or more to compare them.",
                    self.entries.len()
                ))
                .weak(),
            );
        });
    }

    /// The header and the rows in view.
    fn table(&mut self, ui: &mut Ui, rows: &[Row], height: f32, commands: &mut Commands) {
        let cols = Columns::new(ui.available_width(), ui.spacing().item_spacing.x);
        self.header(ui, &cols);
        let row_h = ui.spacing().interact_size.y + 4.0;
        let list_h = (height - row_h - ui.spacing().item_spacing.y * 2.0).max(row_h);
        egui::ScrollArea::vertical()
            .id_salt("runs_list")
            .max_height(list_h)
            .min_scrolled_height(list_h)
            .auto_shrink([false, false])
            .show_rows(ui, row_h, rows.len(), |ui, range| {
                for row in &rows[range] {
                    ui.horizontal(|ui| {
                        ui.set_height(row_h - ui.spacing().item_spacing.y);
                        match row {
                            Row::Group { .. } => self.group_row(ui, &cols, row),
                            Row::Run { index, nested } => {
                                self.run_row(ui, &cols, *index, *nested, commands)
                            }
                        }
                    });
                }
            });
    }

    /// The column headers; a click on one sorts by it.
    fn header(&mut self, ui: &mut Ui, cols: &Columns) {
        ui.horizontal(|ui| {
            cell(ui, cols.tick, |ui| ui.label(""));
            cell(ui, cols.pin, |ui| ui.label(""));
            for key in SortKey::ALL {
                cell(ui, cols.width(key), |ui| {
                    let active = self.view.sort == key;
                    let text = RichText::new(key.header()).strong();
                    let clicked = ui
                        .add(egui::Button::new(text).frame(false))
                        .on_hover_text(format!("Sort by {}", key.header()))
                        .clicked();
                    if active {
                        ui.label(if self.view.descending { "⏷" } else { "⏶" });
                    }
                    if clicked {
                        self.view.click(key);
                    }
                });
                if key == SortKey::Date {
                    cell(ui, cols.status, |ui| {
                        ui.label(RichText::new("status").strong())
                    });
                }
            }
            cell(ui, cols.tags, |ui| {
                ui.label(RichText::new("tags, note").strong())
            });
        });
    }

    /// A sweep's or cross-validation's folder: open or close it.
    fn group_row(&mut self, ui: &mut Ui, cols: &Columns, row: &Row) {
        let Row::Group {
            name,
            runs,
            score,
            seconds,
            open,
        } = row
        else {
            return;
        };
        let gap = ui.spacing().item_spacing.x;
        cell(ui, cols.tick + cols.pin + gap, |ui| {
            let arrow = if *open { "⏷" } else { "⏵" };
            if ui
                .add(egui::Button::new(RichText::new(arrow).size(16.0)).frame(false))
                .on_hover_text(if *open {
                    "Close the group"
                } else {
                    "Open the group"
                })
                .clicked()
            {
                if *open {
                    self.view.open_groups.remove(name);
                } else {
                    self.view.open_groups.insert(name.clone());
                }
            }
        });
        cell(ui, cols.name, |ui| {
            ui.add(egui::Label::new(RichText::new(name).strong()).truncate())
        });
        cell(ui, cols.date, |ui| ui.label(""));
        cell(ui, cols.status, |ui| {
            ui.label(RichText::new(format!("{runs} runs")).weak())
        });
        cell(ui, cols.model + cols.data + gap, |ui| ui.label(""));
        cell(ui, cols.score, |ui| match score {
            Some(s) => ui
                .label(RichText::new(format!("{:.3} ± {:.3}", s.mean, s.sd)).strong())
                .on_hover_text(format!(
                    "mean ± sample standard deviation of the test scores of {} runs",
                    s.n
                )),
            None => ui.label("-"),
        });
        cell(ui, cols.time, |ui| ui.label(seconds_text(Some(*seconds))));
    }

    /// One run.
    fn run_row(
        &mut self,
        ui: &mut Ui,
        cols: &Columns,
        index: usize,
        nested: bool,
        commands: &mut Commands,
    ) {
        let Some(e) = self.entries.get(index) else {
            return;
        };
        cell(ui, cols.tick, |ui| {
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
        });
        cell(ui, cols.pin, |ui| {
            let pinned = e.note.pinned;
            let button = ui
                .add_enabled(
                    e.note_problem.is_none(),
                    egui::Button::new(if pinned { "★" } else { "☆" }).frame(false),
                )
                .on_hover_text(if pinned { "Unpin" } else { "Pin on top" });
            if button.clicked() {
                let mut note = e.note.clone();
                note.pinned = !pinned;
                commands.push(AppCommand::SaveRunNote(e.dir.clone(), note));
            }
        });
        cell(ui, cols.name, |ui| {
            let short = match (nested, e.name.rsplit_once('/')) {
                (true, Some((_, last))) => format!("   {last}"),
                _ => e.name.clone(),
            };
            ui.add(egui::Label::new(short).truncate())
                .on_hover_text(e.dir.display().to_string())
        });
        cell(ui, cols.date, |ui| ui.label(utc_minute(e.modified)));
        cell(ui, cols.status, |ui| {
            let status = e.status.label();
            match e.status {
                RunStatus::Running => ui.colored_label(Color32::from_rgb(244, 160, 0), status),
                RunStatus::Complete => ui.label(status),
                RunStatus::Incomplete => ui.label(RichText::new(status).weak()),
            }
        });
        cell(ui, cols.model, |ui| {
            ui.add(egui::Label::new(e.model.clone().unwrap_or_else(|| "-".into())).truncate())
        });
        cell(ui, cols.data, |ui| {
            let data = e.data.join(", ");
            ui.add(egui::Label::new(data.clone()).truncate())
                .on_hover_text(data)
        });
        cell(ui, cols.score, |ui| {
            ui.label(e.test_score.map_or("-".into(), |s| format!("{s:.3}")))
        });
        cell(ui, cols.time, |ui| ui.label(seconds_text(e.train_seconds)));
        cell(ui, cols.tags, |ui| match &e.note_problem {
            Some(problem) => ui
                .colored_label(Color32::from_rgb(219, 68, 55), "⚠ note.json unreadable")
                .on_hover_text(problem),
            None => {
                let mut text = e.note.tags.join(", ");
                if !e.note.note.trim().is_empty() {
                    text = format!("{text} ✏ {}", first_line(&e.note.note));
                }
                let r = ui.add(egui::Label::new(text.trim().to_string()).truncate());
                if e.note.note.trim().is_empty() {
                    r
                } else {
                    r.on_hover_text(&e.note.note)
                }
            }
        });
        let mut edit = false;
        ui.horizontal(|ui| {
            if ui.small_button("Open").clicked() {
                commands.push(AppCommand::OpenRun(e.dir.clone()));
                commands.push(AppCommand::ShowTab(Tab::Results));
            }
            edit = ui
                .small_button("Note…")
                .on_hover_text("Pin, tag and annotate the run (saved in its folder as note.json)")
                .clicked();
            if ui
                .add_enabled(
                    e.status == RunStatus::Complete,
                    egui::Button::new("Fine-tune").small(),
                )
                .on_hover_text("Start the Train view's next run from this run's weights")
                .clicked()
            {
                commands.push(AppCommand::FineTuneFrom(e.dir.clone()));
            }
            if ui.small_button("Delete…").clicked() {
                self.confirm_delete = Some(e.dir.clone());
            }
        });
        if edit {
            self.editing = Some(NoteEditor {
                dir: e.dir.clone(),
                name: e.name.clone(),
                pinned: e.note.pinned,
                tags: e.note.tags.join(", "),
                note: e.note.note.clone(),
                problem: e.note_problem.clone(),
            });
        }
    }

    /// The window editing a run's pin, tags and note.
    fn note_window(&mut self, ui: &mut Ui, commands: &mut Commands) {
        let Some(ed) = self.editing.as_mut() else {
            return;
        };
        let mut open = true;
        let mut done = false;
        egui::Window::new(format!("Note on {}", ed.name))
            .collapsible(false)
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                if let Some(p) = &ed.problem {
                    ui.colored_label(
                        Color32::from_rgb(219, 68, 55),
                        format!("{p}\nSaving replaces that file with this note."),
                    );
                }
                ui.checkbox(&mut ed.pinned, "Pinned on top");
                ui.horizontal(|ui| {
                    let label = ui.label("Tags");
                    ui.add(
                        egui::TextEdit::singleline(&mut ed.tags)
                            .hint_text("comma-separated, e.g. baseline, paper")
                            .desired_width(280.0),
                    )
                    .labelled_by(label.id);
                });
                let label = ui.label("Note");
                ui.add(
                    egui::TextEdit::multiline(&mut ed.note)
                        .desired_rows(4)
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
                ui.horizontal(|ui| {
                    if ui.button("Save note").clicked() {
                        let note = RunNote {
                            pinned: ed.pinned,
                            tags: RunNote::parse_tags(&ed.tags),
                            note: ed.note.trim_end().to_string(),
                        };
                        commands.push(AppCommand::SaveRunNote(ed.dir.clone(), note));
                        done = true;
                    }
                    if ui.button("Cancel").clicked() {
                        done = true;
                    }
                });
            });
        if done || !open {
            self.editing = None;
        }
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
                    plot.line(Line::new(name(r), pts).color(series_color(i)).width(2.0));
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
                    let header = ui.label(RichText::new(h).strong());
                    if h == "kept epoch" {
                        header.on_hover_text(
                            "The epoch the validation curve chose. \"+ 4 on all\": on a small set the final model then trained 4 more epochs on the training and validation windows together.",
                        );
                    }
                }
                ui.end_row();
                for (i, r) in runs.iter().enumerate() {
                    ui.colored_label(series_color(i), name(r));
                    let report = r.report.as_ref();
                    let c = report
                        .and_then(|x| x.test.as_ref())
                        .and_then(|s| s.classification());
                    let fmt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
                    ui.label(fmt(report.and_then(|x| x.test_score())));
                    ui.label(fmt(c.map(|c| c.balanced_accuracy)));
                    ui.label(fmt(c.map(|c| c.kappa)));
                    ui.label(report.map_or("-".into(), kept_epoch_cell));
                    ui.label(report.map_or("-".into(), |x| format!("{:.1}", x.train_seconds)));
                    ui.end_row();
                }
            });
        if runs.iter().any(|r| !r.note.is_empty()) {
            ui.label(RichText::new("Notes").strong());
            egui::Grid::new("compare_notes")
                .striped(true)
                .show(ui, |ui| {
                    for (i, r) in runs.iter().enumerate() {
                        ui.colored_label(series_color(i), name(r));
                        let pin = if r.note.pinned { "★ " } else { "" };
                        ui.label(format!("{pin}{}", r.note.tags.join(", ")));
                        ui.label(&r.note.note);
                        ui.end_row();
                    }
                });
        }
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

/// The widths of the list's columns for a list `width` wide.
struct Columns {
    tick: f32,
    pin: f32,
    name: f32,
    date: f32,
    status: f32,
    model: f32,
    data: f32,
    score: f32,
    time: f32,
    tags: f32,
}

impl Columns {
    /// Fixed widths for the short columns, the rest shared by the long
    /// ones; `gap` is the space egui leaves between two cells.
    fn new(width: f32, gap: f32) -> Self {
        let (tick, pin, date, status, score, time, actions) =
            (22.0, 22.0, 118.0, 74.0, 112.0, 64.0, 275.0);
        let spacing = 11.0 * gap;
        let rest =
            (width - tick - pin - date - status - score - time - actions - spacing).max(300.0);
        Self {
            tick,
            pin,
            name: rest * 0.28,
            date,
            status,
            model: rest * 0.26,
            data: rest * 0.22,
            score,
            time,
            tags: rest * 0.24,
        }
    }

    /// The width of a sortable column.
    fn width(&self, key: SortKey) -> f32 {
        match key {
            SortKey::Name => self.name,
            SortKey::Date => self.date,
            SortKey::Model => self.model,
            SortKey::Data => self.data,
            SortKey::Score => self.score,
            SortKey::Time => self.time,
        }
    }
}

/// Draws `add` in a cell `width` wide, cutting what does not fit.
fn cell<R>(ui: &mut Ui, width: f32, add: impl FnOnce(&mut Ui) -> R) -> R {
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
            add(ui)
        },
    )
    .inner
}

/// Seconds for the list: `12.3 s`, `4.2 min`, `-` when unknown.
fn seconds_text(seconds: Option<f64>) -> String {
    match seconds {
        None => "-".into(),
        Some(s) if s < 120.0 => format!("{s:.1} s"),
        Some(s) => format!("{:.1} min", s / 60.0),
    }
}

/// The first line of `text`, at most 60 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// The comparison table's "kept epoch" cell: the epoch the validation curve
/// chose and, for a refitted run, the epochs the final model then trained
/// on training plus validation ("18 + 4 on all").
fn kept_epoch_cell(report: &spindle_learn::runs::RunReport) -> String {
    match &report.final_fit {
        Some(fit) if fit.continued_from_epoch.is_some() => {
            format!("{} + {} on all", report.best_epoch, fit.epochs)
        }
        Some(fit) => format!("{} (refit {} on all)", report.best_epoch, fit.epochs),
        None => report.best_epoch.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_epoch_cell_says_how_the_final_model_was_trained() {
        let report = |final_fit: &str| {
            spindle_learn::runs::RunReport::parse(
                &format!(
                    r#"{{"best_epoch":18,"epochs_run":20,"stopped_early":false,"train_seconds":1.5{final_fit}}}"#
                ),
                std::path::Path::new("report.json"),
            )
            .unwrap()
        };
        assert_eq!(kept_epoch_cell(&report("")), "18");
        let continued = r#","final_fit":{"trained_on":"train+validation","windows":206,"epochs":4,"split_only_test_score":0.98,"continued_from_epoch":18,"target_loss":0.02,"validation_loss":0.01}"#;
        assert_eq!(kept_epoch_cell(&report(continued)), "18 + 4 on all");
        let fresh = r#","final_fit":{"trained_on":"train+validation","windows":206,"epochs":18,"split_only_test_score":0.98}"#;
        assert_eq!(kept_epoch_cell(&report(fresh)), "18 (refit 18 on all)");
    }
}
