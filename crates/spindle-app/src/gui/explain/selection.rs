//! Box selection in the Feature explorer: a rectangle dragged on either map
//! selects the windows inside it (Shift adds to the selection); the
//! selection is ringed on both maps and listed below them with a count per
//! label and per recording (a bad recording stands out), each window one
//! click from the viewer.

use std::collections::BTreeMap;

use eframe::egui::{Color32, Painter, Rect, RichText, Stroke, StrokeKind, Ui};
use egui_plot::{PlotPoint, PlotTransform, PlotUi, Points};
use spindle_learn::explain::embedding::{EmbeddedWindow, Embedding};

use super::super::command::{AppCommand, Commands};

/// Selected windows listed at most (the counts cover them all).
const SHOWN_SELECTED: usize = 50;

/// The color of the selection's rings and of the box being dragged.
const SELECTED: Color32 = Color32::from_rgb(255, 214, 0);

/// A box being dragged on one map, in the map's coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BoxDrag {
    /// On the learned map (else the input map).
    learned: bool,
    from: [f64; 2],
    to: [f64; 2],
}

/// The windows selected on the maps, and the box being dragged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Indices into the embedding's windows, ascending.
    windows: Vec<usize>,
    drag: Option<BoxDrag>,
}

impl Selection {
    /// The selected windows, indices into the embedding's windows, ascending.
    pub fn windows(&self) -> &[usize] {
        &self.windows
    }

    /// Selects nothing.
    pub fn clear(&mut self) {
        self.windows.clear();
        self.drag = None;
    }

    /// Draws the selection's rings on a map (`point` gives a window's
    /// position there).
    pub fn draw(&self, plot: &mut PlotUi<'_>, point: &dyn Fn(usize) -> [f64; 2]) {
        if !self.windows.is_empty() {
            let pts: Vec<[f64; 2]> = self.windows.iter().map(|&i| point(i)).collect();
            plot.points(
                Points::new(format!("selected ({})", self.windows.len()), pts)
                    .color(SELECTED)
                    .filled(false)
                    .radius(6.0),
            );
        }
    }

    /// Draws the box being dragged on a map with `painter` over the plot,
    /// placed by the plot's `transform` (drawn outside the plot so that it
    /// does not move the plot's automatic bounds while it grows).
    pub fn draw_box(&self, painter: &Painter, transform: &PlotTransform, learned: bool) {
        if let Some(d) = self.drag.filter(|d| d.learned == learned) {
            let corner = |p: [f64; 2]| transform.position_from_point(&PlotPoint::new(p[0], p[1]));
            let rect = Rect::from_two_pos(corner(d.from), corner(d.to));
            painter.rect(
                rect,
                0.0,
                SELECTED.gamma_multiply(0.15),
                Stroke::new(1.0, SELECTED),
                StrokeKind::Inside,
            );
        }
    }

    /// Follows a drag on a map: `started`, `now` (the pointer in map
    /// coordinates while dragging) and `stopped`; when the box is let go,
    /// the windows inside it become the selection (added to it with
    /// `add`). `point` gives a window's position on that map.
    pub fn follow(
        &mut self,
        learned: bool,
        drag: DragState,
        add: bool,
        point: &dyn Fn(usize) -> [f64; 2],
        n: usize,
    ) {
        if let Some(at) = drag.started {
            self.drag = Some(BoxDrag {
                learned,
                from: [at.x, at.y],
                to: [at.x, at.y],
            });
        }
        let Some(mut d) = self.drag.filter(|d| d.learned == learned) else {
            return;
        };
        if let Some(at) = drag.now {
            d.to = [at.x, at.y];
            self.drag = Some(d);
        }
        if drag.stopped {
            let inside = inside(d.from, d.to, n, point);
            if add {
                self.windows.extend(inside);
                self.windows.sort_unstable();
                self.windows.dedup();
            } else {
                self.windows = inside;
            }
            self.drag = None;
        }
    }
}

/// What a map's drag did this frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct DragState {
    /// A drag began here.
    pub started: Option<PlotPoint>,
    /// The pointer while dragging.
    pub now: Option<PlotPoint>,
    /// The drag ended this frame.
    pub stopped: bool,
}

/// The windows (of `n`) whose points lie in the box with corners `a`, `b`.
fn inside(a: [f64; 2], b: [f64; 2], n: usize, point: &dyn Fn(usize) -> [f64; 2]) -> Vec<usize> {
    let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
    let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
    (0..n)
        .filter(|&i| {
            let p = point(i);
            (x0..=x1).contains(&p[0]) && (y0..=y1).contains(&p[1])
        })
        .collect()
}

/// How many of `windows` fall on each key, most first (ties by name).
fn count_by(windows: &[usize], key: impl Fn(usize) -> String) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for &i in windows {
        *counts.entry(key(i)).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// A recording's file name.
/// The selection's list: counts per label and per recording, "Clear
/// selection", then one row per window with its Show button.
pub fn list(ui: &mut Ui, e: &Embedding, selection: &mut Selection, commands: &mut Commands) {
    ui.add_space(6.0);
    let chosen: Vec<usize> = selection
        .windows
        .iter()
        .copied()
        .filter(|&i| i < e.windows.len())
        .collect();
    if chosen.is_empty() {
        ui.label(
            RichText::new(
                "Drag a box on either map to select windows (Shift adds to the selection).",
            )
            .weak(),
        );
        return;
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Selected windows ({})", chosen.len())).strong());
        if ui.button("Clear selection").clicked() {
            selection.clear();
        }
    });
    let summary = |counts: Vec<(String, usize)>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let by_label = if e.regression {
        Vec::new()
    } else {
        count_by(&chosen, |i| e.windows[i].label.clone())
    };
    if !by_label.is_empty() {
        ui.label(format!("Per label: {}", summary(by_label)));
    }
    ui.label(format!(
        "Per recording: {}",
        summary(count_by(&chosen, |i| file_name(e, i)))
    ));
    for &i in chosen.iter().take(SHOWN_SELECTED) {
        let w = &e.windows[i];
        let file = file_name(e, i);
        ui.horizontal(|ui| {
            show_button(ui, commands, &file, w);
            ui.label(format!(
                "{file} at {:.1} s ({}): labeled {}, predicted {}",
                w.onset_s, w.split, w.label, w.predicted
            ));
        });
    }
    if chosen.len() > SHOWN_SELECTED {
        ui.label(
            RichText::new(format!("and {} more", chosen.len() - SHOWN_SELECTED))
                .small()
                .weak(),
        );
    }
}

/// The file name of window `i` of a map.
pub(super) fn file_name(e: &Embedding, i: usize) -> String {
    e.windows[i]
        .file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// "Show FILE at T s": opens window `w` in the viewer.
pub(super) fn show_button(ui: &mut Ui, commands: &mut Commands, file: &str, w: &EmbeddedWindow) {
    if ui
        .button(format!("Show {file} at {:.1} s", w.onset_s))
        .clicked()
    {
        commands.push(AppCommand::JumpTo {
            file: w.file.clone(),
            onset_s: w.onset_s,
            duration_s: 2.0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_selects_the_points_inside_it_and_shift_adds() {
        let points = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, -1.0]];
        let point = |i: usize| points[i];
        let mut s = Selection::default();
        let at = |x, y| Some(PlotPoint::new(x, y));
        // Dragged from (1.5, 2.5) to (-0.5, -0.5), drawn backwards.
        let start = DragState {
            started: at(1.5, 2.5),
            now: None,
            stopped: false,
        };
        s.follow(true, start, false, &point, 4);
        let moving = DragState {
            started: None,
            now: at(-0.5, -0.5),
            stopped: false,
        };
        s.follow(true, moving, false, &point, 4);
        // A drag on the other map does not end this one.
        let stop = DragState {
            started: None,
            now: None,
            stopped: true,
        };
        s.follow(false, stop, false, &point, 4);
        assert!(s.windows().is_empty());
        s.follow(true, stop, false, &point, 4);
        assert_eq!(s.windows(), [0, 1]);
        // Shift adds the next box's windows.
        let start = DragState {
            started: at(2.5, -2.0),
            now: None,
            stopped: false,
        };
        s.follow(true, start, true, &point, 4);
        let end = DragState {
            started: None,
            now: at(3.5, 0.0),
            stopped: true,
        };
        s.follow(true, end, true, &point, 4);
        assert_eq!(s.windows(), [0, 1, 3]);
        s.clear();
        assert!(s.windows().is_empty());
    }

    #[test]
    fn counts_put_the_most_common_first() {
        let keys = ["a.edf", "b.edf", "b.edf", "c.edf", "b.edf", "a.edf"];
        let counts = count_by(&[0, 1, 2, 3, 4, 5], |i| keys[i].to_string());
        assert_eq!(
            counts,
            vec![
                ("b.edf".into(), 3),
                ("a.edf".into(), 2),
                ("c.edf".into(), 1)
            ]
        );
    }
}
