//! The Learned filters of the Explain view: the first layer's temporal
//! filters as frequency responses (one distinct color per filter, each
//! named in the legend with its peak) and, for EEGNet, ShallowConvNet and
//! Deep4, the spatial filters that follow them: one small scalp map per
//! filter where channel names follow 10-20/10-10, else bars per channel.

use eframe::egui::{
    self, Align2, Color32, CornerRadius, FontId, Rect, RichText, Role, Sense, Stroke, Ui,
    WidgetInfo, pos2, vec2,
};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use spindle_learn::explain::filters::LearnedFilters;

use super::paint::{color_scale, diverging};
use super::scalp::{WeightMap, placed_count, weight_map};

/// Temporal filters named in a legend at most.
const MAX_LEGEND: usize = 12;

/// Side of one spatial filter's scalp map, points.
const SMALL_MAP: f32 = 130.0;

/// `n` colors of evenly spaced hues, so that no two filters share one.
pub fn distinct_colors(n: usize) -> Vec<Color32> {
    (0..n)
        .map(|k| {
            let hue = k as f32 / n.max(1) as f32;
            // Alternate the brightness too, so that neighbours in hue differ.
            let value = if k % 2 == 0 { 0.85 } else { 0.65 };
            egui::ecolor::Hsva::new(hue, 0.8, value, 1.0).into()
        })
        .collect()
}

/// The first layer's frequency responses, one line per filter, then the
/// spatial filters.
pub fn filters(ui: &mut Ui, f: &LearnedFilters) {
    ui.add_space(6.0);
    ui.label(RichText::new("Learned filters").strong());
    ui.label(format!(
        "The first layer's {} temporal filters ({}) as frequency responses: which rhythms each lets through.",
        f.temporal.len(),
        f.layer
    ));
    let colors = distinct_colors(f.temporal.len());
    // A legend of dozens of filters (ShallowConvNet's 40) would hide the
    // curves: then hovering a curve names it.
    let legend = f.temporal.len() <= MAX_LEGEND;
    if !legend {
        ui.label(
            RichText::new("Hover a curve to see which filter it is.")
                .small()
                .weak(),
        );
    }
    let mut plot = Plot::new("filter_responses");
    if legend {
        plot = plot.legend(Legend::default());
    }
    plot.height(240.0)
        .x_axis_label("Hz")
        .y_axis_label("gain")
        .show(ui, |plot| {
            for (t, color) in f.temporal.iter().zip(&colors) {
                let pts: Vec<[f64; 2]> = f
                    .freqs_hz
                    .iter()
                    .zip(&t.gain)
                    .map(|(&hz, &g)| [hz, f64::from(g)])
                    .collect();
                plot.line(
                    Line::new(
                        format!("filter {} (peak {:.1} Hz)", t.index, t.peak_hz),
                        PlotPoints::from(pts),
                    )
                    .color(*color),
                );
            }
        });
    spatial(ui, f);
}

/// The title of spatial filter `k`: its index, the temporal filter it
/// follows and that filter's peak.
fn spatial_title(f: &LearnedFilters, k: usize) -> String {
    let s = &f.spatial[k];
    let peak = f
        .temporal
        .iter()
        .find(|t| t.index == s.temporal)
        .map_or_else(String::new, |t| format!(", peak {:.1} Hz", t.peak_hz));
    format!(
        "Spatial filter {} (after temporal filter {}{peak})",
        s.index, s.temporal
    )
}

/// The spatial filters: scalp maps where at least two channels have a
/// 10-20 position, else weights as bars per channel, saying why.
fn spatial(ui: &mut Ui, f: &LearnedFilters) {
    if f.spatial.is_empty() {
        return;
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Spatial filters").strong());
    ui.label(format!(
        "{} spatial filters, each a weight per channel applied after a temporal filter (ShallowConvNet and Deep4 mix all temporal filters: shown are the weights for the one each weighs most). Electrodes that pull the same way share a color.",
        f.spatial.len()
    ));
    if placed_count(&f.channels) < 2 {
        ui.label(format!(
            "The channel names ({}) are not electrodes of the 10-20 system, so there are no scalp maps: each filter's weights are drawn as bars per channel.",
            f.channels.join(", ")
        ));
        let per_row = ((ui.available_width() / 190.0) as usize).max(1);
        let indices: Vec<usize> = (0..f.spatial.len()).collect();
        for row in indices.chunks(per_row) {
            ui.horizontal_top(|ui| {
                for &k in row {
                    let title = spatial_title(f, k);
                    ui.vertical(|ui| {
                        ui.set_width(180.0);
                        ui.label(RichText::new(&title).small());
                        weight_bars(ui, &title, &f.channels, &f.spatial[k].weights);
                    });
                }
            });
        }
        return;
    }
    ui.horizontal(|ui| {
        color_scale(ui, true, "negative weight", "positive weight");
        ui.label(
            RichText::new("Each map: white is 0, full color its largest weight (either sign).")
                .small()
                .weak(),
        );
    });
    let per_row = ((ui.available_width() / (SMALL_MAP + 8.0)) as usize).max(1);
    let indices: Vec<usize> = (0..f.spatial.len()).collect();
    for row in indices.chunks(per_row) {
        ui.horizontal_top(|ui| {
            for &k in row {
                let title = format!("{} on the scalp", spatial_title(f, k));
                ui.vertical(|ui| {
                    ui.set_width(SMALL_MAP);
                    ui.label(
                        RichText::new(format!(
                            "filter {} (temporal {})",
                            f.spatial[k].index, f.spatial[k].temporal
                        ))
                        .small(),
                    );
                    let map = WeightMap {
                        title: &title,
                        channels: &f.channels,
                        weights: &f.spatial[k].weights,
                    };
                    weight_map(ui, &map, SMALL_MAP);
                });
            }
        });
    }
    let unplaced: Vec<&str> = f
        .channels
        .iter()
        .filter(|c| spindle_learn::explain::electrode_position(c).is_none())
        .map(String::as_str)
        .collect();
    if !unplaced.is_empty() {
        ui.label(
            RichText::new(format!(
                "Not on the maps (no standard 10-20 position): {}",
                unplaced.join(", ")
            ))
            .small()
            .weak(),
        );
    }
}

/// A spatial filter's weights as horizontal bars around a zero line, one
/// row per channel, blue negative and red positive.
fn weight_bars(ui: &mut Ui, title: &str, channels: &[String], weights: &[f32]) {
    let row_h = 14.0;
    let name_w = 52.0;
    let width = 170.0;
    let (rect, response) = ui.allocate_exact_size(
        vec2(width, row_h * channels.len() as f32 + 2.0),
        Sense::hover(),
    );
    let values: Vec<String> = channels
        .iter()
        .zip(weights)
        .map(|(c, w)| format!("{c} {w:+.3}"))
        .collect();
    response.widget_info(|| {
        WidgetInfo::labeled(Role::Label, true, format!("{title}: {}", values.join(", ")))
    });
    let painter = ui.painter_at(rect);
    let text = ui.visuals().text_color();
    let reach = weights.iter().fold(1e-12f32, |m, w| m.max(w.abs()));
    let zero_x = rect.left() + name_w + (width - name_w) / 2.0;
    let half = (width - name_w) / 2.0 - 2.0;
    let font = FontId::proportional(10.0);
    for (i, (name, &w)) in channels.iter().zip(weights).enumerate() {
        let y = rect.top() + 1.0 + row_h * i as f32;
        painter.text(
            pos2(rect.left() + name_w - 4.0, y + row_h / 2.0),
            Align2::RIGHT_CENTER,
            name,
            font.clone(),
            text,
        );
        let end = zero_x + half * w / reach;
        painter.rect_filled(
            Rect::from_x_y_ranges(
                end.min(zero_x)..=end.max(zero_x).max(end.min(zero_x) + 1.0),
                (y + 2.0)..=(y + row_h - 2.0),
            ),
            CornerRadius::same(1),
            diverging(if w >= 0.0 { 0.8 } else { -0.8 }),
        );
    }
    painter.line_segment(
        [pos2(zero_x, rect.top()), pos2(zero_x, rect.bottom())],
        Stroke::new(1.0, ui.visuals().weak_text_color()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_filters_get_eight_different_colors() {
        let colors = distinct_colors(8);
        assert_eq!(colors.len(), 8);
        for (i, a) in colors.iter().enumerate() {
            for b in &colors[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
