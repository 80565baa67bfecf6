//! Saliency drawn over the traces: for each explained window of the open
//! recording, a tint behind each channel's lane whose strength is how much
//! that moment of that channel moved the network's output.

use std::path::Path;

use eframe::egui::{Color32, CornerRadius, Painter, Rect, pos2};
use spindle_learn::explain::Explanation;

use super::Overlay;

/// One window's saliency on the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatSpan {
    /// Start, seconds from the recording's start.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// `(channel label, saliency per time bin in 0..=1)`.
    pub rows: Vec<(String, Vec<f32>)>,
}

/// The spans `overlay` asks for on the recording at `path`.
pub fn heat_spans(e: &Explanation, path: &Path, overlay: Overlay) -> Vec<HeatSpan> {
    let Some(s) = &e.saliency else {
        return Vec::new();
    };
    let rows_of = |m: &[Vec<f32>]| -> Vec<(String, Vec<f32>)> {
        s.channels.iter().cloned().zip(m.iter().cloned()).collect()
    };
    let windows = s.windows.iter().filter(|w| w.file == path);
    match overlay {
        Overlay::Off => Vec::new(),
        Overlay::EachWindow => windows
            .map(|w| HeatSpan {
                start_s: w.onset_s,
                end_s: w.onset_s + w.duration_s,
                rows: rows_of(&w.gradient_x_input),
            })
            .collect(),
        Overlay::ClassAverage(c) => {
            let Some(class) = s.classes.get(c) else {
                return Vec::new();
            };
            let rows = rows_of(&class.gradient_x_input);
            windows
                .filter(|w| w.truth == class.class)
                .map(|w| HeatSpan {
                    start_s: w.onset_s,
                    end_s: w.onset_s + w.duration_s,
                    rows: rows.clone(),
                })
                .collect()
        }
    }
}

/// The tint of saliency `v` (0..=1).
fn tint(v: f32) -> Color32 {
    Color32::from_rgba_unmultiplied(230, 60, 20, (v.clamp(0.0, 1.0) * 150.0) as u8)
}

/// Draws `spans` behind the lanes: `lanes` gives each shown channel's label
/// and the lane's top and bottom, `x_of` turns seconds into x.
pub fn draw_heat(
    painter: &Painter,
    spans: &[HeatSpan],
    lanes: &[(&str, f32, f32)],
    x_of: impl Fn(f64) -> f32,
    visible: (f64, f64),
) {
    for span in spans {
        if span.end_s < visible.0 || span.start_s > visible.1 {
            continue;
        }
        for (label, top, bottom) in lanes {
            let Some((_, bins)) = span.rows.iter().find(|(name, _)| name == label) else {
                continue;
            };
            let n = bins.len().max(1) as f64;
            for (i, &v) in bins.iter().enumerate() {
                if v < 0.05 {
                    continue;
                }
                let t0 = span.start_s + (span.end_s - span.start_s) * i as f64 / n;
                let t1 = span.start_s + (span.end_s - span.start_s) * (i + 1) as f64 / n;
                let r = Rect::from_min_max(pos2(x_of(t0), *top), pos2(x_of(t1) + 0.5, *bottom));
                painter.rect_filled(r, CornerRadius::ZERO, tint(v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use spindle_learn::explain::{ClassSaliency, ExplainedWindows, Saliency, WindowSaliency};

    fn explanation() -> Explanation {
        let window = |file: &str, onset_s, truth: &str| WindowSaliency {
            file: PathBuf::from(file),
            onset_s,
            duration_s: 2.0,
            truth: truth.into(),
            predicted: truth.into(),
            gradient_x_input: vec![vec![0.0, 1.0]],
            grad_cam: None,
        };
        Explanation {
            caveat: String::new(),
            spindle_version: String::new(),
            windows: ExplainedWindows {
                description: String::new(),
                count: 3,
                files: Vec::new(),
            },
            metric: "balanced accuracy".into(),
            baseline_score: 1.0,
            chance_score: 0.5,
            repeats: 1,
            seed: 0,
            channels: None,
            bands: None,
            skipped_bands: Vec::new(),
            amplitude: None,
            saliency: Some(Saliency {
                channels: vec!["Cz".into()],
                window_s: 2.0,
                bins: 2,
                grad_cam_layer: None,
                classes: vec![ClassSaliency {
                    class: "a".into(),
                    windows: 2,
                    gradient_x_input: vec![vec![0.5, 0.5]],
                    grad_cam: None,
                }],
                windows: vec![
                    window("x.edf", 0.0, "a"),
                    window("x.edf", 4.0, "b"),
                    window("y.edf", 0.0, "a"),
                ],
            }),
            seconds: BTreeMap::new(),
        }
    }

    #[test]
    fn spans_follow_the_open_file_and_the_overlay_choice() {
        let e = explanation();
        let x = Path::new("x.edf");
        assert!(heat_spans(&e, x, Overlay::Off).is_empty());
        let each = heat_spans(&e, x, Overlay::EachWindow);
        assert_eq!(each.len(), 2);
        assert_eq!(each[1].start_s, 4.0);
        assert_eq!(each[0].rows[0].1, vec![0.0, 1.0]);
        let average = heat_spans(&e, x, Overlay::ClassAverage(0));
        assert_eq!(average.len(), 1, "only the windows of class a");
        assert_eq!(average[0].rows[0].1, vec![0.5, 0.5]);
        assert!(heat_spans(&e, x, Overlay::ClassAverage(5)).is_empty());
    }
}
