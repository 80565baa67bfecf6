//! The Feature explorer and the Learned filters of the Explain view: every
//! window as a dot on two maps side by side (as it enters the network, and
//! as its penultimate layer sees it), colored by class (or by the target
//! value) and shaped by split; hovering names a window, clicking one opens
//! it in the viewer, dragging a box selects windows (`selection.rs`);
//! "Check these labels" lists the windows whose
//! neighbours disagree, each a click from the viewer; and the learned
//! filters (`filters.rs`). The work runs in a
//! [`spindle_learn::jobs::MapJob`]; this module draws and records requests.

use std::path::{Path, PathBuf};

use eframe::egui::{self, PointerButton, RichText, Role, Ui, WidgetInfo};
use egui_plot::{HoverPosition, Legend, Plot};

use super::super::command::{AppCommand, Commands};
use super::dots::{MapDots, draw_dots};
use super::selection::{DragState, Selection, file_name, show_button};
use spindle_learn::explain::embedding::{EmbedProgress, Embedding, Projection};
use spindle_learn::jobs::{LearnedMaps, MapJob};

/// Windows listed under "Check these labels" at most.
const SHOWN_SUSPECTS: usize = 30;

/// The maps' state.
pub struct MapsPanel {
    /// The maps being computed.
    pub job: Option<MapJob>,
    /// Its last progress.
    pub progress: Option<EmbedProgress>,
    /// The maps shown, with their run folder.
    pub maps: Option<(PathBuf, LearnedMaps)>,
    /// Why the last maps of this run failed.
    pub failure: Option<(PathBuf, String)>,
    /// The windows selected on the maps.
    pub selection: Selection,
    projection: Projection,
}

impl Default for MapsPanel {
    fn default() -> Self {
        Self {
            job: None,
            progress: None,
            maps: None,
            failure: None,
            selection: Selection::default(),
            projection: Projection::Pca,
        }
    }
}

impl MapsPanel {
    /// The maps of run folder `dir`, when they are the ones shown.
    pub fn of(&self, dir: &Path) -> Option<&LearnedMaps> {
        self.maps.as_ref().filter(|(d, _)| d == dir).map(|(_, m)| m)
    }

    /// Draws the maps' section for the run in `dir`.
    pub fn ui(&mut self, ui: &mut Ui, dir: &Path, commands: &mut Commands) {
        ui.add_space(8.0);
        ui.heading("What did the network learn to see?");
        ui.label("Every window as a dot: on the left as it enters the network, on the right as the network's last layer before the decision sees it. Classes that overlap on the left and come apart on the right are what the network learned to tell apart.");
        self.controls(ui, dir, commands);
        if let Some((d, message)) = &self.failure
            && d == dir
        {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        let Some((_, maps)) = self.maps.as_ref().filter(|(d, _)| d == dir) else {
            return;
        };
        explorer(ui, &maps.embedding, &mut self.selection, commands);
        super::selection::list(ui, &maps.embedding, &mut self.selection, commands);
        suspects(ui, &maps.embedding, commands);
        match &maps.filters {
            Ok(f) => super::filters::filters(ui, f),
            Err(why) => {
                ui.label(RichText::new(format!("No learned filters: {why}")).weak());
            }
        }
    }

    fn controls(&mut self, ui: &mut Ui, dir: &Path, commands: &mut Commands) {
        ui.horizontal(|ui| {
            if let Some(job) = &self.job {
                let (text, fraction) = self.progress.map_or_else(
                    || ("starting…".to_owned(), 0.0),
                    |p| {
                        (
                            format!("{}: {} of {}", p.stage.doing(), p.done, p.total),
                            p.done as f32 / p.total.max(1) as f32,
                        )
                    },
                );
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .text(text)
                        .desired_width(320.0),
                );
                if ui.button("Cancel mapping").clicked() {
                    job.cancel();
                }
            } else {
                ui.selectable_value(&mut self.projection, Projection::Pca, "PCA")
                    .on_hover_text("Principal components: fast, and distances mean something.");
                ui.selectable_value(&mut self.projection, Projection::Tsne, "t-SNE")
                    .on_hover_text("t-SNE keeps each window's neighbours together and draws clusters clearly; distances between clusters mean nothing.");
                if ui.button("Map the windows").clicked() {
                    commands.push(AppCommand::MapRun(dir.to_path_buf(), self.projection));
                }
            }
        });
    }
}

/// The two maps side by side.
fn explorer(ui: &mut Ui, e: &Embedding, selection: &mut Selection, commands: &mut Commands) {
    let score = |s: Option<f64>| s.map_or("-".into(), |v| format!("{v:.2}"));
    if !e.regression {
        ui.label(format!(
            "Silhouette (-1 to 1, higher: the classes sit apart): input {}, learned {}. Circles: training, squares: validation, diamonds: test. Click a dot to see its window; drag a box to select windows.",
            score(e.input_silhouette),
            score(e.learned_silhouette)
        ));
    } else {
        ui.label("Colored by the target, blue low to red high. Circles: training, squares: validation, diamonds: test. Click a dot to see its window; drag a box to select windows.");
    }
    let width = (ui.available_width() / 2.0 - 8.0).max(200.0);
    ui.horizontal(|ui| {
        for (title, learned) in [("Input map", false), ("Learned map", true)] {
            ui.vertical(|ui| {
                ui.label(RichText::new(title).strong());
                map_plot(ui, e, learned, width, selection, commands);
            });
        }
    });
}

/// One map: points grouped by class (or value) and split, the selection
/// ringed; a drag draws a selection box, a click opens the nearest window.
fn map_plot(
    ui: &mut Ui,
    e: &Embedding,
    learned: bool,
    width: f32,
    selection: &mut Selection,
    commands: &mut Commands,
) {
    let point = |i: usize| {
        let p = if learned {
            e.windows[i].learned
        } else {
            e.windows[i].input
        };
        [f64::from(p[0]), f64::from(p[1])]
    };
    let id = if learned { "learned_map" } else { "input_map" };
    let response = Plot::new(id)
        .width(width)
        .height(320.0)
        .allow_drag(false)
        .legend(Legend::default())
        .label_formatter(|hover| match hover {
            HoverPosition::NearDataPoint { position, .. } => {
                Some(nearest_text(e, learned, position.x, position.y))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            let class = |i: usize| e.windows[i].class;
            let value = |i: usize| e.windows[i].value;
            let split = |i: usize| e.windows[i].split.as_str();
            let dots = MapDots {
                class_names: &e.classes,
                regression: e.regression,
                n: e.windows.len(),
                point: &point,
                class: &class,
                value: &value,
                split: &split,
            };
            draw_dots(plot, &dots);
            selection.draw(plot, &point);
        });
    let title = if learned { "Learned map" } else { "Input map" };
    response.response.widget_info(|| {
        WidgetInfo::labeled(
            Role::Canvas,
            true,
            format!("{title} of {} windows", e.windows.len()),
        )
    });
    let r = &response.response;
    let at = |p: Option<egui::Pos2>| p.map(|p| response.transform.value_from_position(p));
    let drag = DragState {
        // Where the button went down, not where the drag was recognized.
        started: if r.drag_started_by(PointerButton::Primary) {
            at(ui.input(|i| i.pointer.press_origin()))
        } else {
            None
        },
        now: if r.dragged_by(PointerButton::Primary) {
            at(r.interact_pointer_pos())
        } else {
            None
        },
        stopped: r.drag_stopped_by(PointerButton::Primary),
    };
    let add = ui.input(|i| i.modifiers.shift);
    selection.follow(learned, drag, add, &point, e.windows.len());
    selection.draw_box(
        &ui.painter_at(response.response.rect),
        &response.transform,
        learned,
    );
    if response.response.clicked()
        && let Some(pos) = response.response.interact_pointer_pos()
    {
        let at = response.transform.value_from_position(pos);
        if let Some(i) = nearest(e, learned, at.x, at.y) {
            let w = &e.windows[i];
            commands.push(AppCommand::JumpTo {
                file: w.file.clone(),
                onset_s: w.onset_s,
                duration_s: 2.0,
            });
        }
    }
}

/// The window nearest to (x, y) on a map.
fn nearest(e: &Embedding, learned: bool, x: f64, y: f64) -> Option<usize> {
    (0..e.windows.len()).min_by(|&a, &b| {
        let d = |i: usize| {
            let p = if learned {
                e.windows[i].learned
            } else {
                e.windows[i].input
            };
            (f64::from(p[0]) - x).powi(2) + (f64::from(p[1]) - y).powi(2)
        };
        d(a).total_cmp(&d(b))
    })
}

/// What hovering near (x, y) says: the nearest window's recording, time,
/// label and prediction.
fn nearest_text(e: &Embedding, learned: bool, x: f64, y: f64) -> String {
    nearest(e, learned, x, y).map_or_else(String::new, |i| {
        let w = &e.windows[i];
        let file = w
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        format!(
            "{file} at {:.1} s ({})\nlabel {}, predicted {}",
            w.onset_s, w.split, w.label, w.predicted
        )
    })
}

/// "Check these labels": each suspect window, a click from the viewer.
fn suspects(ui: &mut Ui, e: &Embedding, commands: &mut Commands) {
    if e.regression {
        return;
    }
    ui.add_space(6.0);
    ui.label(RichText::new(format!("Check these labels ({})", e.suspects.len())).strong());
    ui.label("Windows whose 10 nearest neighbours in what the network learned mostly carry another label: a label placed wrong, or a window unlike its class.");
    for s in e.suspects.iter().take(SHOWN_SUSPECTS) {
        let w = &e.windows[s.window];
        let file = file_name(e, s.window);
        let other = e
            .classes
            .get(s.neighbours_label)
            .map_or("?", String::as_str);
        ui.horizontal(|ui| {
            let text = format!(
                "{file} at {:.1} s: labeled {}, {} of {} neighbours {other}",
                w.onset_s, w.label, s.others, s.neighbours
            );
            show_button(ui, commands, &file, w);
            ui.label(text);
        });
    }
}
