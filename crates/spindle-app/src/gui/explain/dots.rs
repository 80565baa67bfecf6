//! The dots of a map, shared by the Feature explorer's two maps and the
//! Train view's live map: windows grouped by class (or, for a regression,
//! by fifth of the target's range, blue low to red high) and marked by
//! split (circles training, squares validation, diamonds test).

use eframe::egui::{Color32, RichText, Ui};
use egui_plot::{Legend, MarkerShape, Plot, PlotUi, Points};
use spindle_learn::train::LiveMap;

use super::super::palette::series_color;

/// The windows of a map: how many, and each one's point, class or value,
/// and split.
pub struct MapDots<'a> {
    /// The class names (empty for regression).
    pub class_names: &'a [String],
    /// Colored by value instead of class.
    pub regression: bool,
    /// Windows on the map.
    pub n: usize,
    /// A window's point.
    pub point: &'a dyn Fn(usize) -> [f64; 2],
    /// A window's class index.
    pub class: &'a dyn Fn(usize) -> Option<usize>,
    /// A window's target value.
    pub value: &'a dyn Fn(usize) -> Option<f32>,
    /// A window's split: `train`, `validation`, `test` or `data`.
    pub split: &'a dyn Fn(usize) -> &'a str,
}

/// The marker of a split.
fn shape(split: &str) -> MarkerShape {
    match split {
        "train" => MarkerShape::Circle,
        "validation" => MarkerShape::Square,
        "test" => MarkerShape::Diamond,
        _ => MarkerShape::Cross,
    }
}

/// A color from blue (low) to red (high) for a value in 0..=1.
fn ramp(t: f64) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    Color32::from_rgb((40.0 + 200.0 * t) as u8, 90, (240.0 - 200.0 * t) as u8)
}

/// Draws the windows of `m` on `plot`, one series per class (or value
/// band) and split.
pub fn draw_dots(plot: &mut PlotUi<'_>, m: &MapDots<'_>) {
    let (lo, hi) = (0..m.n)
        .filter_map(|i| (m.value)(i))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(f64::from(v)), b.max(f64::from(v)))
        });
    let band = |i: usize| {
        (m.value)(i).map(|v| {
            let t = (f64::from(v) - lo) / (hi - lo).max(1e-12);
            ((t * 5.0) as usize).min(4)
        })
    };
    for split in ["train", "validation", "test", "data"] {
        let groups: Vec<(String, Color32, Vec<usize>)> = if m.regression {
            (0..5)
                .map(|b| {
                    let members = (0..m.n)
                        .filter(|&i| (m.split)(i) == split && band(i) == Some(b))
                        .collect();
                    (
                        format!("value band {}", b + 1),
                        ramp(b as f64 / 4.0),
                        members,
                    )
                })
                .collect()
        } else {
            m.class_names
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let members = (0..m.n)
                        .filter(|&i| (m.split)(i) == split && (m.class)(i) == Some(k))
                        .collect();
                    (name.clone(), series_color(k), members)
                })
                .collect()
        };
        for (name, color, members) in groups {
            if members.is_empty() {
                continue;
            }
            let pts: Vec<[f64; 2]> = members.iter().map(|&i| (m.point)(i)).collect();
            plot.points(
                Points::new(name, pts)
                    .color(color)
                    .shape(shape(split))
                    .radius(3.0),
            );
        }
    }
}

/// The Train view's live map: the validation windows as the network's
/// penultimate layer sees them after the epoch it names.
pub fn live_map(ui: &mut Ui, map: &LiveMap) {
    let when = if map.epoch == 0 {
        "before training".to_string()
    } else {
        format!("after epoch {}", map.epoch)
    };
    let shown = if map.points.len() < map.n_validation {
        format!(
            "{} of the {} validation windows",
            map.points.len(),
            map.n_validation
        )
    } else {
        format!("the {} validation windows", map.points.len())
    };
    ui.label(RichText::new(format!("The map as it learns: {shown}, {when}")).strong());
    ui.label(
        RichText::new("What the network's last layer before the decision makes of each window (PCA). Classes that come apart here are what it has learned to tell apart.")
            .weak(),
    );
    let point = |i: usize| {
        let p = map.points[i];
        [f64::from(p[0]), f64::from(p[1])]
    };
    let class = |i: usize| map.classes.get(i).copied();
    let value = |i: usize| map.values.get(i).copied();
    let split = |_: usize| "validation";
    let dots = MapDots {
        class_names: &map.class_names,
        regression: map.classes.is_empty() && !map.values.is_empty(),
        n: map.points.len(),
        point: &point,
        class: &class,
        value: &value,
        split: &split,
    };
    // Fixed, so that it follows each new map and the wheel scrolls the
    // panel instead of zooming the map.
    Plot::new("live_map")
        .height(280.0)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .legend(Legend::default())
        .show(ui, |plot| draw_dots(plot, &dots));
}
