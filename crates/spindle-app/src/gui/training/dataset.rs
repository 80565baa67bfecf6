//! Step 1 of the Train view: recordings and their roles, labels, channels,
//! windows, filters, representation, normalization and augmentation; the
//! preview's class counts per split as a bar chart, and its warnings in plain
//! words.

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Plot};
use spindle_learn::dataset::{Normalization, SplitName, TransformKind};
use spindle_learn::train::{RepresentationChoice, TrainOptions, parse_key_value};

use super::{PreviewState, Role, TrainingPanel};
use crate::gui::command::{AppCommand, Commands};
use crate::gui::glossary;

/// Colors of the three splits, everywhere in the app.
pub fn split_color(split: SplitName) -> Color32 {
    match split {
        SplitName::Train => Color32::from_rgb(66, 133, 244),
        SplitName::Validation => Color32::from_rgb(244, 160, 0),
        SplitName::Test => Color32::from_rgb(15, 157, 88),
    }
}

/// Draws the dataset form.
pub fn ui(p: &mut TrainingPanel, ui: &mut Ui, commands: &mut Commands) {
    glossary::row(ui, &["training set", "validation set", "test set"]);
    if p.sources.is_empty() {
        ui.label("Open a folder of labeled recordings first (File > Open folder).");
        return;
    }
    recordings(p, ui);
    ui.separator();
    settings(ui, &mut p.options, &mut p.texts);
    ui.separator();
    augmentation(ui, &mut p.options);
    ui.separator();
    preview(p, ui, commands);
}

/// The recordings: buttons to use a folder's, and each one's role.
fn recordings(p: &mut TrainingPanel, ui: &mut Ui) {
    let has_audio = p.sources.iter().any(|s| s.audio_folder);
    let folders = p.recording_folders();
    if folders.len() + usize::from(has_audio) > 1 {
        ui.horizontal_wrapped(|ui| {
            ui.label("Use:");
            for (folder, name) in &folders {
                let label = if folders.len() == 1 || name.is_empty() {
                    "the recordings".to_string()
                } else {
                    format!("the recordings in {name}/")
                };
                if ui.button(label).clicked() {
                    p.use_folder(folder);
                }
            }
            if has_audio && ui.button("the audio folder").clicked() {
                p.use_only(true);
            }
        });
    }
    egui::Grid::new("roles_grid")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new("recording").strong());
            ui.label(RichText::new("labels").strong());
            ui.label(RichText::new("role").strong());
            ui.end_row();
            for s in &p.sources {
                let name = ui.label(&s.name);
                ui.label(if s.audio_folder {
                    format!("{} files", s.files)
                } else {
                    s.labels.to_string()
                });
                let role = p.roles.entry(s.path.clone()).or_insert(Role::Train);
                egui::ComboBox::from_id_salt(("role", &s.path))
                    .selected_text(role.title())
                    .show_ui(ui, |ui| {
                        for r in Role::ALL {
                            ui.selectable_value(role, r, r.title());
                        }
                    })
                    .response
                    .labelled_by(name.id);
                ui.end_row();
            }
        });
    ui.label(
        RichText::new(
            "Leave every recording on \"training\" and Spindle holds out whole recordings for validation and testing, so no window of a test recording is ever trained on.",
        )
        .weak(),
    );
}

/// Windows, classes, merges, channels, filters, representation and
/// normalization.
fn settings(ui: &mut Ui, o: &mut TrainOptions, texts: &mut FormTexts) {
    egui::Grid::new("dataset_grid")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("window (s)");
            optional(
                ui,
                label.id,
                Optional {
                    id: "window_s",
                    value: &mut o.window,
                    start: 1.0,
                    step: 0.05,
                    max: 3600.0,
                    off: "median label",
                },
            );
            ui.end_row();
            let label = ui.label("step between windows (s)");
            optional(
                ui,
                label.id,
                Optional {
                    id: "stride_s",
                    value: &mut o.stride,
                    start: 1.0,
                    step: 0.05,
                    max: 3600.0,
                    off: "= window",
                },
            );
            ui.end_row();
            ui.label("classes");
            if text_field(ui, &mut texts.classes, "all (comma-separated to choose)") {
                o.classes = comma_list(&texts.classes);
            }
            ui.end_row();
            ui.label("merge labels").on_hover_text(
                "Rename labels before anything else, e.g. short_blink=blink, long_blink=blink",
            );
            if text_field(ui, &mut texts.merge, "none (FROM=TO, ...)") {
                o.merge = texts
                    .merge
                    .split(',')
                    .filter_map(|pair| parse_key_value(pair).ok())
                    .collect();
            }
            ui.end_row();
            ui.label("channels");
            if text_field(ui, &mut texts.channels, "all common channels") {
                o.channels = comma_list(&texts.channels);
            }
            ui.end_row();
            let label = ui.label("high-pass (Hz)");
            optional(
                ui,
                label.id,
                Optional {
                    id: "highpass",
                    value: &mut o.highpass,
                    start: 0.5,
                    step: 0.1,
                    max: 20000.0,
                    off: "off",
                },
            );
            ui.end_row();
            let label = ui.label("low-pass (Hz)");
            optional(
                ui,
                label.id,
                Optional {
                    id: "lowpass",
                    value: &mut o.lowpass,
                    start: 40.0,
                    step: 0.1,
                    max: 20000.0,
                    off: "off",
                },
            );
            ui.end_row();
            let label = ui.label("notch (Hz)");
            optional(
                ui,
                label.id,
                Optional {
                    id: "notch",
                    value: &mut o.notch,
                    start: 50.0,
                    step: 0.1,
                    max: 20000.0,
                    off: "off",
                },
            );
            ui.end_row();
            let label = ui.label("the model sees");
            choice(
                ui,
                "representation",
                label.id,
                &mut o.representation,
                &[
                    RepresentationChoice::Raw,
                    RepresentationChoice::Spectrogram,
                    RepresentationChoice::Logmel,
                ],
                representation_title,
            );
            ui.end_row();
            let label = ui.label("normalization");
            choice(
                ui,
                "normalization",
                label.id,
                &mut o.normalization,
                &[
                    Normalization::Auto,
                    Normalization::Baseline,
                    Normalization::ZScore,
                    Normalization::Ems,
                    Normalization::None,
                ],
                normalization_title,
            );
            ui.end_row();
        });
}

/// The preview: windows per split, how the held-out sets were chosen, the
/// class chart and the warnings.
fn preview(p: &TrainingPanel, ui: &mut Ui, commands: &mut Commands) {
    match &*p.preview {
        PreviewState::None => {}
        PreviewState::Pending => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("building the dataset…");
            });
        }
        PreviewState::Failed(f) => {
            ui.colored_label(ui.visuals().error_fg_color, f.to_string());
            if ui.button("Try again").clicked() {
                commands.push(AppCommand::Preview);
            }
        }
        PreviewState::Ready(preview) => {
            ui.label(format!(
                "{} windows of {:.2} s (step {:.2} s) from {} channels at {:.0} Hz: {} training, {} validation, {} test",
                preview.windows.iter().sum::<usize>(),
                preview.window_s,
                preview.stride_s,
                preview.channels.len(),
                preview.rate_hz,
                preview.windows[0],
                preview.windows[1],
                preview.windows[2],
            ));
            ui.label(
                RichText::new(format!("validation: {}", preview.summary.validation_method)).weak(),
            );
            ui.label(RichText::new(format!("test: {}", preview.summary.test_method)).weak());
            if let Some(choice) = &preview.summary.normalization {
                ui.label(RichText::new(format!("normalization: {}", choice.reason)).weak());
            }
            class_chart(ui, preview);
            for w in preview
                .load_warnings
                .iter()
                .chain(&preview.summary.warnings)
            {
                ui.colored_label(ui.visuals().warn_fg_color, w.to_string());
            }
            for w in leakage_warnings(preview) {
                ui.colored_label(ui.visuals().warn_fg_color, w.to_string());
            }
        }
    }
}

/// Plain-words warnings about splits that make scores look better than they are.
fn leakage_warnings(preview: &spindle_learn::jobs::Preview) -> Vec<String> {
    use std::collections::BTreeSet;
    let files = |split: SplitName| -> BTreeSet<&std::path::Path> {
        preview
            .placements
            .iter()
            .filter(|(_, s, _)| *s == split)
            .map(|(f, _, _)| f.as_path())
            .collect()
    };
    let train = files(SplitName::Train);
    let mut out = Vec::new();
    let shared_test = train.intersection(&files(SplitName::Test)).count();
    if shared_test > 0 {
        out.push(format!(
            "windows of {shared_test} recording(s) are in both training and test: neighbouring windows look alike, so the test score will look better than it would on a new recording"
        ));
    }
    if preview.windows[2] > 0 && preview.windows[2] < 20 {
        out.push(format!(
            "only {} test windows: the test accuracy can be off by 10 points or more by luck alone",
            preview.windows[2]
        ));
    }
    out
}

fn class_chart(ui: &mut Ui, preview: &spindle_learn::jobs::Preview) {
    let classes: Vec<String> = if preview.classes.is_empty() {
        preview
            .summary
            .counts
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        preview.classes.clone()
    };
    let charts: Vec<BarChart> = [SplitName::Train, SplitName::Validation, SplitName::Test]
        .into_iter()
        .enumerate()
        .map(|(k, split)| {
            let counts = preview.summary.counts.get(&split);
            let bars = classes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let n = counts.and_then(|m| m.get(c)).copied().unwrap_or(0);
                    Bar::new(i as f64 + (k as f64 - 1.0) * 0.27, n as f64)
                        .width(0.25)
                        .name(format!("{c} · {}", split.as_str()))
                })
                .collect();
            BarChart::new(split.as_str(), bars).color(split_color(split))
        })
        .collect();
    let names = classes.clone();
    Plot::new("class_counts")
        .height(150.0)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show_grid([false, true])
        .x_axis_formatter(move |m, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_axis_label("windows")
        .show(ui, |plot| {
            for c in charts {
                plot.bar_chart(c);
            }
        });
}

/// The augmentation section: a checkbox per transform (with its strength
/// where it has one), one line of help each, and the chance per window.
fn augmentation(ui: &mut Ui, o: &mut TrainOptions) {
    ui.label(RichText::new("Augmentation").strong());
    ui.label(
        RichText::new(
            "Shows the network changed copies of each training window, which fights overfitting on small datasets. Validation and test windows are never changed. Tick only changes that keep the class.",
        )
        .weak(),
    );
    if o.representation != RepresentationChoice::Raw {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "Augmentation changes the raw signal: choose \"raw signal\" above to use it.",
        );
    }
    egui::Grid::new("augment_grid")
        .num_columns(3)
        .show(ui, |ui| {
            for kind in TransformKind::ALL {
                match kind.strength() {
                    Some(strength) => {
                        let label = ui.label(kind.title()).on_hover_text(strength.meaning);
                        let mut value = o.augment_item(kind).and_then(|t| t.strength());
                        let before = value;
                        optional(
                            ui,
                            label.id,
                            Optional {
                                id: kind.name(),
                                value: &mut value,
                                start: strength.default,
                                step: if kind == TransformKind::FreqShift {
                                    0.1
                                } else {
                                    0.01
                                },
                                max: strength.max,
                                off: "off",
                            },
                        );
                        if value != before {
                            let transform = value.and_then(|v| kind.with_strength(Some(v)).ok());
                            o.set_augment_item(kind, transform);
                        }
                    }
                    None => {
                        let label = ui.label(kind.title());
                        let mut on = o.augment_item(kind).is_some();
                        if ui.checkbox(&mut on, "").labelled_by(label.id).changed() {
                            let transform = on.then(|| kind.with_strength(None).ok()).flatten();
                            o.set_augment_item(kind, transform);
                        }
                    }
                }
                // Wrapped: the longest lines would run under the right panel.
                ui.add(egui::Label::new(RichText::new(kind.help()).weak()).wrap());
                ui.end_row();
            }
            let label = ui.label("chance per window");
            ui.add(
                egui::DragValue::new(&mut o.augment_p)
                    .speed(0.01)
                    .range(0.0..=1.0),
            )
            .labelled_by(label.id);
            ui.label(
                RichText::new("how often each ticked change is applied to a training window")
                    .weak(),
            );
            ui.end_row();
        });
}

fn representation_title(r: RepresentationChoice) -> &'static str {
    match r {
        RepresentationChoice::Raw => "raw signal",
        RepresentationChoice::Spectrogram => "EEG spectrogram (to 45 Hz)",
        RepresentationChoice::Logmel => "audio log-mel spectrogram",
    }
}

fn normalization_title(n: Normalization) -> &'static str {
    match n {
        Normalization::Auto => "auto (baseline or z-score, tested on validation)",
        Normalization::Baseline => "baseline (remove each window's mean)",
        Normalization::ZScore => "z-score per channel",
        Normalization::Ems => "moving standardization",
        Normalization::None => "none (physical units)",
    }
}

/// Text typed into the dataset form's list fields, kept between frames so
/// that a half-typed entry ("a," or "x=") is not lost.
#[derive(Debug, Default)]
pub struct FormTexts {
    /// Classes to keep, comma-separated.
    pub classes: String,
    /// Label merges, `FROM=TO, ...`.
    pub merge: String,
    /// Channels to use, comma-separated.
    pub channels: String,
}

/// A one-line text field; true when edited.
fn text_field(ui: &mut Ui, text: &mut String, hint: &str) -> bool {
    ui.add(egui::TextEdit::singleline(text).hint_text(hint))
        .changed()
}

/// The non-empty, trimmed items of a comma-separated list.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// An optional number: a checkbox that turns it on at `start`, then a
/// number field from 0.01 to `max`.
struct Optional<'a, T> {
    id: &'a str,
    value: &'a mut Option<T>,
    start: T,
    step: f64,
    max: T,
    off: &'a str,
}

/// A checkbox plus a number for an optional setting.
fn optional<T: egui::emath::Numeric>(ui: &mut Ui, label: egui::Id, edit: Optional<'_, T>) {
    let Optional {
        id,
        value,
        start,
        step,
        max,
        off,
    } = edit;
    ui.push_id(id, |ui| {
        ui.horizontal(|ui| {
            let mut on = value.is_some();
            if ui
                .checkbox(&mut on, "")
                .labelled_by(label)
                .on_hover_text("set by hand")
                .changed()
            {
                *value = on.then_some(start);
            }
            match value {
                Some(v) => {
                    ui.add(
                        egui::DragValue::new(v)
                            .speed(step)
                            .range(T::from_f64(0.01)..=max),
                    )
                    .labelled_by(label);
                }
                None => {
                    ui.label(RichText::new(off).weak());
                }
            }
        });
    });
}

/// A combo box choosing one of `options`, named by `label`.
fn choice<T: Copy + PartialEq>(
    ui: &mut Ui,
    id: &str,
    label: egui::Id,
    value: &mut T,
    options: &[T],
    title: fn(T) -> &'static str,
) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(title(*value))
        .show_ui(ui, |ui| {
            for &option in options {
                ui.selectable_value(value, option, title(option));
            }
        })
        .response
        .labelled_by(label);
}
