//! The bands drawn under the traces of the open recording: where the
//! dataset's windows lie and which split each is in, and what the open run
//! predicted for each test window (class color, confidence as opacity,
//! disagreements with the label flagged).

use std::path::Path;

use eframe::egui::Color32;
use spindle_learn::jobs::Preview;
use spindle_learn::runs::RunSnapshot;
use spindle_signals::labeling::{LabelScheme, Suggestions};

use super::training::split_color;
use super::viewer::{Ribbon, RibbonSpan};

/// The dataset's windows on `path`, colored by split.
pub fn dataset_windows(preview: &Preview, path: &Path) -> Option<Ribbon> {
    let spans: Vec<RibbonSpan> = preview
        .placements
        .iter()
        .filter(|(f, _, _)| f == path)
        .map(|(_, split, onset_s)| RibbonSpan {
            start_s: *onset_s,
            end_s: onset_s + preview.window_s,
            color: split_color(*split).gamma_multiply(0.8),
            flagged: false,
        })
        .collect();
    (!spans.is_empty()).then(|| Ribbon {
        title: "windows".into(),
        spans,
    })
}

/// The open run's predictions on `path`.
pub fn predictions(run: &RunSnapshot, path: &Path, scheme: &LabelScheme) -> Option<Ribbon> {
    let spans: Vec<RibbonSpan> = run
        .predictions
        .iter()
        .filter(|r| r.file == path)
        .map(|r| {
            let [red, green, blue] = scheme.color_of(&r.predicted);
            let confidence = r.probabilities.iter().copied().fold(0.0f32, f32::max);
            RibbonSpan {
                start_s: r.onset_s,
                end_s: r.onset_s + r.duration_s,
                color: Color32::from_rgb(red, green, blue).gamma_multiply(0.25 + 0.75 * confidence),
                flagged: r.truth != r.predicted,
            }
        })
        .collect();
    (!spans.is_empty()).then(|| Ribbon {
        title: "predicted".into(),
        spans,
    })
}

/// Suggested labels awaiting a decision, in their class colors.
pub fn suggestions(s: &Suggestions, scheme: &LabelScheme) -> Option<Ribbon> {
    let spans: Vec<RibbonSpan> = s
        .items
        .iter()
        .map(|item| {
            let [red, green, blue] = scheme.color_of(&item.label.trial_type);
            RibbonSpan {
                start_s: item.label.onset_s,
                end_s: item.label.onset_s + item.label.duration_s,
                color: Color32::from_rgb(red, green, blue).gamma_multiply(0.6),
                flagged: false,
            }
        })
        .collect();
    (!spans.is_empty()).then(|| Ribbon {
        title: "suggested".into(),
        spans,
    })
}
