//! Colors shared by the views that tell series apart: classes on the
//! explorer's maps and runs overlaid in the Runs view.

use eframe::egui::Color32;

/// Distinct colors for series in order (classes, runs), repeated past six.
pub const SERIES: [Color32; 6] = [
    Color32::from_rgb(66, 133, 244),
    Color32::from_rgb(219, 68, 55),
    Color32::from_rgb(15, 157, 88),
    Color32::from_rgb(244, 160, 0),
    Color32::from_rgb(171, 71, 188),
    Color32::from_rgb(0, 172, 193),
];

/// The color of the `i`-th series.
pub fn series_color(i: usize) -> Color32 {
    SERIES[i % SERIES.len()]
}
