//! The scalp map: the head seen from above, nose up, each electrode of the
//! 10-20/10-10 system colored by how much the model relies on its channel,
//! or by a spatial filter's weight on it (blue negative, red positive).

use eframe::egui::{
    Align2, Color32, FontId, Painter, Pos2, Role, Sense, Shape, Stroke, Ui, WidgetInfo, vec2,
};
use spindle_learn::explain::electrode_position;

use super::paint::{Bar, diverging, sequential};

/// Bars with their electrode's position on the unit disc.
type OnHead<'a> = Vec<(&'a Bar, (f32, f32))>;

/// The channels of `bars` placed on the head and those that could not be.
fn placed(bars: &[Bar]) -> (OnHead<'_>, Vec<&str>) {
    let mut on_head = Vec::new();
    let mut unknown = Vec::new();
    for b in bars {
        match electrode_position(&b.name) {
            Some(p) => on_head.push((b, p)),
            None => unknown.push(b.name.as_str()),
        }
    }
    (on_head, unknown)
}

/// The head seen from above around `center`: a circle of `radius`, the
/// nose up and the ears.
fn head(painter: &Painter, center: Pos2, radius: f32, color: Color32) {
    let outline = Stroke::new(1.5, color);
    painter.add(Shape::line(
        vec![
            center + vec2(-radius * 0.12, -radius * 0.99),
            center + vec2(0.0, -radius * 1.13),
            center + vec2(radius * 0.12, -radius * 0.99),
        ],
        outline,
    ));
    for side in [-1.0, 1.0] {
        painter.add(Shape::ellipse_stroke(
            center + vec2(side * radius * 1.03, 0.0),
            vec2(radius * 0.06, radius * 0.18),
            outline,
        ));
    }
    painter.circle_stroke(center, radius, outline);
}

/// Draws the scalp map of `bars` (channel importances); returns false, and
/// draws nothing, when fewer than two channels have standard positions.
pub fn scalp_map(ui: &mut Ui, bars: &[Bar]) -> bool {
    let (on_head, unknown) = placed(bars);
    if on_head.len() < 2 {
        return false;
    }
    let size = 240.0;
    let (rect, response) = ui.allocate_exact_size(vec2(size, size), Sense::hover());
    let placed_names: Vec<&str> = on_head.iter().map(|(b, _)| b.name.as_str()).collect();
    response.widget_info(|| {
        WidgetInfo::labeled(
            Role::Label,
            true,
            format!("Scalp map of {}", placed_names.join(", ")),
        )
    });
    let painter = ui.painter_at(rect.expand(2.0));
    let center = rect.center() + vec2(0.0, 8.0);
    let radius = size * 0.40;
    head(&painter, center, radius, ui.visuals().text_color());
    let top = bars.iter().map(|b| b.mean).fold(1e-9, f64::max);
    let font = FontId::proportional(10.0);
    for (b, (x, y)) in &on_head {
        let p = center + vec2(x * radius, -y * radius);
        let v = (b.mean / top).clamp(0.0, 1.0) as f32;
        painter.circle(p, 9.0, sequential(v), Stroke::new(1.0, Color32::DARK_GRAY));
        let text = if v > 0.6 {
            Color32::WHITE
        } else {
            Color32::BLACK
        };
        painter.text(p, Align2::CENTER_CENTER, &b.name, font.clone(), text);
    }
    if let Some(hover) = response.hover_pos()
        && let Some((b, _)) = on_head
            .iter()
            .find(|(_, (x, y))| (center + vec2(x * radius, -y * radius)).distance(hover) < 10.0)
    {
        response.on_hover_text_at_pointer(format!(
            "{}: the score drops by {:.3} ± {:.3} without it",
            b.name, b.mean, b.spread
        ));
    }
    super::paint::color_scale(ui, false, "not needed", "needed most");
    if !unknown.is_empty() {
        ui.label(
            eframe::egui::RichText::new(format!(
                "Not on the map (no standard 10-20 position): {}",
                unknown.join(", ")
            ))
            .small()
            .weak(),
        );
    }
    true
}

/// One spatial filter to draw on the head: a weight per channel.
pub struct WeightMap<'a> {
    /// Said to screen readers and above the map.
    pub title: &'a str,
    /// The channels.
    pub channels: &'a [String],
    /// One weight per channel.
    pub weights: &'a [f32],
}

/// How many of `channels` have a standard 10-20/10-10 position.
pub fn placed_count(channels: &[String]) -> usize {
    channels
        .iter()
        .filter(|c| electrode_position(c).is_some())
        .count()
}

/// Draws `map` as a small head of `size` points, each placed electrode
/// colored blue (negative) to red (positive) on a scale symmetric around 0
/// whose ends are the largest weight's magnitude; hovering an electrode
/// gives its weight.
pub fn weight_map(ui: &mut Ui, map: &WeightMap<'_>, size: f32) {
    let (rect, response) = ui.allocate_exact_size(vec2(size, size), Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Label, true, map.title));
    let painter = ui.painter_at(rect.expand(2.0));
    let center = rect.center() + vec2(0.0, size * 0.03);
    let radius = size * 0.42;
    head(&painter, center, radius, ui.visuals().text_color());
    let reach = map.weights.iter().fold(1e-12f32, |m, w| m.max(w.abs()));
    let dot = (size * 0.045).max(4.0);
    let dots: Vec<(Pos2, &str, f32)> = map
        .channels
        .iter()
        .zip(map.weights)
        .filter_map(|(name, &w)| {
            let (x, y) = electrode_position(name)?;
            Some((center + vec2(x * radius, -y * radius), name.as_str(), w))
        })
        .collect();
    for (p, _, w) in &dots {
        painter.circle(
            *p,
            dot,
            diverging(w / reach),
            Stroke::new(0.5, Color32::DARK_GRAY),
        );
    }
    if let Some(hover) = response.hover_pos()
        && let Some((_, name, w)) = dots.iter().find(|(p, _, _)| p.distance(hover) <= dot + 2.0)
    {
        response.on_hover_text_at_pointer(format!("{name}: weight {w:+.3}"));
    }
}
