//! Drawing of explanations: importance bars with their spread, heat maps
//! (channel × frequency, channel × time) and their color scales.

use eframe::egui::{
    self, Align2, Color32, CornerRadius, FontId, Rect, Role, Sense, Stroke, Ui, Vec2, WidgetInfo,
    pos2, vec2,
};

/// One bar: a name, the mean drop of the score and its spread.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What was destroyed (a channel, a band).
    pub name: String,
    /// Mean drop of the score.
    pub mean: f64,
    /// Sample standard deviation of the drop.
    pub spread: f64,
}

/// Bars sorted by mean drop, largest first.
pub fn ranked(mut bars: Vec<Bar>) -> Vec<Bar> {
    bars.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    bars
}

/// The color of a bar: blue for a drop, grey for none or a gain.
const BAR: Color32 = Color32::from_rgb(66, 133, 244);

/// Horizontal bars of `bars` (in the order given) with their spread as a
/// whisker, one row each, titled `title` for screen readers.
pub fn importance_bars(ui: &mut Ui, title: &str, bars: &[Bar]) {
    let row_h = 18.0;
    let name_w = 110.0;
    let value_w = 96.0;
    let width = ui.available_width().clamp(280.0, 560.0);
    let (rect, response) =
        ui.allocate_exact_size(vec2(width, row_h * bars.len() as f32 + 4.0), Sense::hover());
    let summary: Vec<String> = bars
        .iter()
        .map(|b| format!("{} {:.3} ± {:.3}", b.name, b.mean, b.spread))
        .collect();
    response.widget_info(|| {
        WidgetInfo::labeled(
            Role::Label,
            true,
            format!("{title}: {}", summary.join(", ")),
        )
    });
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let reach = bars
        .iter()
        .map(|b| b.mean.abs() + b.spread)
        .fold(1e-9, f64::max);
    let bar_left = rect.left() + name_w;
    let bar_w = (rect.width() - name_w - value_w).max(40.0);
    // Negative drops (the score rose) take the left fifth.
    let zero_x = bar_left + bar_w * 0.2;
    let scale = f64::from(bar_w * 0.8) / reach;
    let font = FontId::proportional(12.0);
    for (i, b) in bars.iter().enumerate() {
        let y = rect.top() + 2.0 + row_h * i as f32;
        let mid = y + row_h / 2.0;
        painter.text(
            pos2(bar_left - 6.0, mid),
            Align2::RIGHT_CENTER,
            &b.name,
            font.clone(),
            visuals.text_color(),
        );
        let x_of = |v: f64| zero_x + (v * scale) as f32;
        let (x0, x1) = if b.mean >= 0.0 {
            (zero_x, x_of(b.mean))
        } else {
            (x_of(b.mean.max(-reach * 0.25)), zero_x)
        };
        let color = if b.mean > 0.0 {
            BAR
        } else {
            visuals.weak_text_color()
        };
        painter.rect_filled(
            Rect::from_x_y_ranges(x0..=x1.max(x0 + 1.0), (y + 3.0)..=(y + row_h - 3.0)),
            CornerRadius::same(2),
            color,
        );
        if b.spread > 0.0 {
            let (w0, w1) = (x_of(b.mean - b.spread), x_of(b.mean + b.spread));
            let stroke = Stroke::new(1.5, visuals.text_color());
            painter.line_segment([pos2(w0.max(bar_left), mid), pos2(w1, mid)], stroke);
            for x in [w0.max(bar_left), w1] {
                painter.line_segment([pos2(x, mid - 4.0), pos2(x, mid + 4.0)], stroke);
            }
        }
        painter.text(
            pos2(rect.right() - 2.0, mid),
            Align2::RIGHT_CENTER,
            if b.spread > 0.0 {
                format!("{:+.3} ± {:.3}", b.mean, b.spread)
            } else {
                format!("{:+.3}", b.mean)
            },
            font.clone(),
            visuals.weak_text_color(),
        );
    }
    painter.line_segment(
        [pos2(zero_x, rect.top()), pos2(zero_x, rect.bottom())],
        Stroke::new(1.0, visuals.weak_text_color()),
    );
}

/// White to dark red, for values in 0..=1.
pub fn sequential(v: f32) -> Color32 {
    let v = v.clamp(0.0, 1.0);
    let lerp = |a: f32, b: f32| (a + (b - a) * v).round() as u8;
    // 0: pale yellow, 1: dark red (a "hot" scale readable on both themes).
    Color32::from_rgb(lerp(255.0, 160.0), lerp(247.0, 20.0), lerp(200.0, 30.0))
}

/// Blue (-1) through white (0) to red (+1).
pub fn diverging(v: f32) -> Color32 {
    let v = v.clamp(-1.0, 1.0);
    let t = v.abs();
    let lerp = |a: f32, b: f32| (a + (b - a) * t).round() as u8;
    if v >= 0.0 {
        Color32::from_rgb(lerp(247.0, 178.0), lerp(247.0, 24.0), lerp(247.0, 43.0))
    } else {
        Color32::from_rgb(lerp(247.0, 33.0), lerp(247.0, 102.0), lerp(247.0, 172.0))
    }
}

/// A heat map to draw: rows (channels) by columns (frequencies or time bins).
pub struct HeatMap<'a> {
    /// Row names, top to bottom.
    pub rows: &'a [String],
    /// `values[row][column]`.
    pub values: &'a [Vec<f32>],
    /// What the columns span, for the axis: `(first, last, unit)`.
    pub columns: (f64, f64, &'a str),
    /// Blue-white-red around 0 (correlations) instead of white to red.
    pub diverging: bool,
    /// The value drawn at full color (values are divided by it).
    pub full_scale: f32,
    /// Said to screen readers and in the hover text.
    pub title: &'a str,
}

/// Draws `map` as colored cells with row names and a column axis; hovering
/// a cell shows its row, column and value.
pub fn heat_map(ui: &mut Ui, map: &HeatMap<'_>) {
    let n_rows = map.rows.len();
    let n_cols = map.values.iter().map(Vec::len).max().unwrap_or(0);
    if n_rows == 0 || n_cols == 0 {
        return;
    }
    let name_w = 90.0;
    let axis_h = 18.0;
    let row_h = (240.0 / n_rows as f32).clamp(6.0, 18.0);
    let width = ui.available_width().clamp(280.0, 640.0);
    let (rect, response) =
        ui.allocate_exact_size(vec2(width, row_h * n_rows as f32 + axis_h), Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Label, true, map.title));
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let cells = Rect::from_min_max(
        pos2(rect.left() + name_w, rect.top()),
        pos2(rect.right(), rect.bottom() - axis_h),
    );
    let cell = Vec2::new(cells.width() / n_cols as f32, row_h);
    let font = FontId::proportional(if row_h < 11.0 { 8.0 } else { 11.0 });
    let label_every = (10.0 / row_h).ceil().max(1.0) as usize;
    for (r, row) in map.values.iter().enumerate() {
        let y = cells.top() + row_h * r as f32;
        for (c, &v) in row.iter().enumerate() {
            let v = v / map.full_scale.max(1e-12);
            let color = if map.diverging {
                diverging(v)
            } else {
                sequential(v)
            };
            let min = pos2(cells.left() + cell.x * c as f32, y);
            painter.rect_filled(
                Rect::from_min_size(min, cell + vec2(0.5, 0.5)),
                CornerRadius::ZERO,
                color,
            );
        }
        if r % label_every == 0 {
            painter.text(
                pos2(cells.left() - 4.0, y + row_h / 2.0),
                Align2::RIGHT_CENTER,
                &map.rows[r],
                font.clone(),
                visuals.text_color(),
            );
        }
    }
    let (first, last, unit) = map.columns;
    for k in 0..=4 {
        let f = k as f32 / 4.0;
        let x = cells.left() + cells.width() * f;
        let value = first + (last - first) * f64::from(f);
        painter.text(
            pos2(x, cells.bottom() + 2.0),
            if k == 0 {
                Align2::LEFT_TOP
            } else if k == 4 {
                Align2::RIGHT_TOP
            } else {
                Align2::CENTER_TOP
            },
            tick(value, last - first) + unit,
            FontId::proportional(11.0),
            visuals.weak_text_color(),
        );
    }
    if let Some(p) = response.hover_pos().filter(|p| cells.contains(*p)) {
        let c = (((p.x - cells.left()) / cell.x) as usize).min(n_cols - 1);
        let r = (((p.y - cells.top()) / row_h) as usize).min(n_rows - 1);
        let at = first + (last - first) * (c as f64 + 0.5) / n_cols as f64;
        let v = map.values[r].get(c).copied().unwrap_or(0.0);
        response.on_hover_text_at_pointer(format!(
            "{}: {} at {at:.1}{unit}: {v:+.2}",
            map.title, map.rows[r]
        ));
    }
}

/// `value` with as many decimals as a span of `span` needs.
fn tick(value: f64, span: f64) -> String {
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$}")
}

/// The largest magnitude in `values` (1 when all are 0).
pub fn largest(values: &[Vec<f32>]) -> f32 {
    let m = values.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    if m > 0.0 { m } else { 1.0 }
}

/// A color bar from `low` to `high` with its meaning at each end.
pub fn color_scale(ui: &mut Ui, diverging_scale: bool, low: &str, high: &str) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(low).small().weak());
        let (rect, _) = ui.allocate_exact_size(vec2(140.0, 10.0), Sense::hover());
        let painter = ui.painter_at(rect);
        let n = 28;
        for i in 0..n {
            let f = i as f32 / (n - 1) as f32;
            let color = if diverging_scale {
                diverging(f * 2.0 - 1.0)
            } else {
                sequential(f)
            };
            let x0 = rect.left() + rect.width() * i as f32 / n as f32;
            painter.rect_filled(
                Rect::from_x_y_ranges(x0..=x0 + rect.width() / n as f32 + 0.5, rect.y_range()),
                CornerRadius::ZERO,
                color,
            );
        }
        ui.label(egui::RichText::new(high).small().weak());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_rank_by_mean_drop_and_scales_run_from_pale_to_strong() {
        let bar = |name: &str, mean| Bar {
            name: name.into(),
            mean,
            spread: 0.0,
        };
        let r = ranked(vec![bar("a", 0.1), bar("b", 0.4), bar("c", -0.2)]);
        let names: Vec<&str> = r.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(diverging(0.0), Color32::from_rgb(247, 247, 247));
        assert!(diverging(1.0).r() > diverging(1.0).b());
        assert!(diverging(-1.0).b() > diverging(-1.0).r());
        assert!(sequential(1.0).g() < sequential(0.0).g());
    }
}
