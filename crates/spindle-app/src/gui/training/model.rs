//! Steps 2 and 3 of the Train view: the architecture (from the library's
//! registry: every model it has appears here), its hyper-parameters within
//! their ranges, the layer table of the preview, and the optimizer and
//! regularization settings, each with a line on what it does.

use std::path::PathBuf;

use eframe::egui::{self, RichText, Ui};
use spindle_learn::model::{ParamKind, ParamValue, WindowFacts, architectures};
use spindle_learn::train::{Schedule, available_devices, parse_param};
use spindle_signals::recording::AUDIO_RATE_HZ;

use super::{PreviewState, TrainingPanel};
use crate::gui::glossary;

/// Draws the model form.
pub fn ui(p: &mut TrainingPanel, ui: &mut Ui) {
    let before = p.options.model.clone();
    egui::ComboBox::from_label("architecture")
        // Tall enough for every architecture without scrolling (a list that
        // scrolls hides its last entries).
        .height(architectures().count() as f32 * (ui.spacing().interact_size.y + 4.0) + 16.0)
        .selected_text(
            p.options
                .architecture()
                .map_or(p.options.model.clone(), |a| a.title.to_string()),
        )
        .show_ui(ui, |ui| {
            for a in architectures() {
                ui.selectable_value(
                    &mut p.options.model,
                    a.name.to_string(),
                    format!("{} — {}", a.title, a.family.as_str()),
                );
            }
        });
    if p.options.model != before {
        p.reset_model_values();
    }
    let Ok(arch) = p.options.architecture() else {
        return;
    };
    ui.label(RichText::new(arch.description).weak());
    if let PreviewState::Ready(preview) = &*p.preview {
        let facts = WindowFacts {
            steps: (preview.window_s * preview.rate_hz).round() as usize,
            rate_hz: preview.rate_hz,
            audio: preview.rate_hz >= AUDIO_RATE_HZ,
        };
        if let Some(advice) = arch.advice(&facts) {
            ui.colored_label(ui.visuals().warn_fg_color, advice);
        }
    }
    let mut changed = false;
    egui::Grid::new("model_params")
        .num_columns(2)
        .show(ui, |ui| {
            for (i, param) in arch.params.iter().enumerate() {
                let Some(value) = p.model_values.get_mut(i) else {
                    continue;
                };
                let name = ui.label(param.label).on_hover_text(param.help).id;
                match (param.kind, value) {
                    (ParamKind::Int, ParamValue::Number(v)) => {
                        changed |= ui
                            .add(
                                egui::DragValue::new(v)
                                    .range(param.min..=param.max)
                                    .speed(0.2)
                                    .fixed_decimals(0),
                            )
                            .on_hover_text(param.help)
                            .changed();
                    }
                    (ParamKind::Float, ParamValue::Number(v)) => {
                        changed |= ui
                            .add(egui::Slider::new(v, param.min..=param.max).fixed_decimals(2))
                            .on_hover_text(param.help)
                            .changed();
                    }
                    (ParamKind::Flag, ParamValue::Flag(b)) => {
                        changed |= ui.checkbox(b, "").labelled_by(name).changed();
                    }
                    (ParamKind::IntList, value) => {
                        let text = p
                            .list_texts
                            .entry(param.key.to_string())
                            .or_insert_with(|| value.to_string());
                        let resp = ui.add(egui::TextEdit::singleline(text).desired_width(120.0));
                        if resp.changed()
                            && let Some(v) = parse_param(ParamKind::IntList, text)
                        {
                            *value = v;
                            changed = true;
                        }
                        resp.on_hover_text(param.help);
                    }
                    _ => {
                        ui.label("-");
                    }
                }
                ui.end_row();
            }
        });
    if changed {
        let values = p.model_values.clone();
        p.options.set_model_values(&values);
    }
    if let Err(e) = p.options.model_spec() {
        ui.colored_label(ui.visuals().error_fg_color, e.to_string());
    }
    if ui.small_button("defaults").clicked() {
        p.reset_model_values();
    }
    layers(p, ui);
}

/// The preview's layer table with the parameters and the receptive field,
/// and what the receptive field and the last layer's length mean.
fn layers(p: &TrainingPanel, ui: &mut Ui) {
    if let PreviewState::Ready(preview) = &*p.preview {
        match &preview.model {
            Ok(summary) => {
                egui::CollapsingHeader::new(format!(
                    "Layers: {} parameters, receptive field {} samples ({:.0} ms)",
                    summary.trainable_params,
                    summary.receptive_field_samples,
                    summary.receptive_field_ms
                ))
                .id_salt("layer_table")
                .show(ui, |ui| {
                    egui::Grid::new("layers").striped(true).show(ui, |ui| {
                        ui.label(RichText::new("layer").strong());
                        ui.label(RichText::new("output shape").strong());
                        ui.label(RichText::new("parameters").strong());
                        ui.end_row();
                        for l in &summary.layers {
                            ui.monospace(&l.name);
                            ui.monospace(format!("{:?}", l.output_shape));
                            ui.monospace(l.params.to_string());
                            ui.end_row();
                        }
                    });
                });
                for note in &summary.sizing {
                    ui.label(RichText::new(format!("Sized to the data: {note}")).weak());
                }
                let window_ms = preview.window_s * 1000.0;
                if summary.receptive_field_ms > 0.0 && summary.receptive_field_ms < window_ms * 0.1
                {
                    ui.label(
                        RichText::new(format!(
                            "Each output sees {:.0} ms of the {:.0}-ms window before the classifier combines them.",
                            summary.receptive_field_ms, window_ms
                        ))
                        .weak(),
                    );
                }
                if let Some(last) = summary
                    .layers
                    .iter()
                    .rev()
                    .find(|l| l.output_shape.len() >= 2)
                    && last.output_shape.last() == Some(&1)
                    && preview.window_s * preview.rate_hz > 64.0
                {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "Pooling shrinks time to a single step: the model cannot tell early from late in the window.",
                    );
                }
            }
            Err(e) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("This model cannot take these windows: {e}"),
                );
            }
        }
    }
}

/// Draws the optimizer, schedule, regularization and device settings.
pub fn training_settings(p: &mut TrainingPanel, ui: &mut Ui) {
    let o = &mut p.options;
    egui::Grid::new("train_grid").num_columns(2).show(ui, |ui| {
        let label = ui
            .label("epochs")
            .on_hover_text("passes over the training windows");
        ui.add(egui::DragValue::new(&mut o.epochs).range(1..=1000))
            .labelled_by(label.id);
        ui.end_row();
        let label = ui
            .label("learning rate")
            .on_hover_text("step size of AdamW; too high and the loss jumps or becomes infinite");
        ui.add(
            egui::DragValue::new(&mut o.lr)
                .range(1e-6..=1.0)
                .speed(1e-4)
                .max_decimals(6),
        )
        .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("batch");
        ui.horizontal(|ui| {
            let mut auto = o.batch.is_none();
            if ui.checkbox(&mut auto, "automatic").changed() {
                o.batch = if auto { None } else { Some(32) };
            }
            if let Some(b) = &mut o.batch {
                ui.add(egui::DragValue::new(b).range(1..=1024))
                    .labelled_by(label.id);
            }
        });
        ui.end_row();
        let label = ui.label("schedule");
        egui::ComboBox::from_id_salt("schedule")
            .selected_text(o.schedule.to_string())
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut o.schedule, Schedule::Constant, "constant");
                ui.selectable_value(&mut o.schedule, Schedule::Cosine, "cosine");
                ui.selectable_value(
                    &mut o.schedule,
                    Schedule::Step {
                        every_epochs: 10,
                        gamma: 0.5,
                    },
                    "halve every 10 epochs",
                );
            })
            .response
            .labelled_by(label.id);
        ui.end_row();
        start_from(&mut p.init_from, ui);
        ui.end_row();
        let label = ui
            .label("seed")
            .on_hover_text("the same seed repeats a run exactly");
        ui.add(egui::DragValue::new(&mut o.seed))
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("device");
        egui::ComboBox::from_id_salt("device")
            .selected_text(format!("{:?}", o.device).to_lowercase())
            .show_ui(ui, |ui| {
                for d in available_devices() {
                    ui.selectable_value(&mut o.device, d, format!("{d:?}").to_lowercase());
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();
    });
    ui.add_space(4.0);
    ui.label(RichText::new("Against overfitting").strong());
    glossary::row(ui, &["regularization"]);
    ui.horizontal(|ui| {
        let label = ui.label("weight decay");
        ui.add(
            egui::DragValue::new(&mut o.weight_decay)
                .range(0.0..=1.0)
                .speed(1e-3)
                .max_decimals(4),
        )
        .labelled_by(label.id);
    });
    ui.label(RichText::new("Pulls every weight a little toward zero at each step, so the network prefers simple explanations to memorized details.").weak());
    ui.horizontal(|ui| {
        let mut on = o.patience.is_some();
        if ui.checkbox(&mut on, "early stopping after").changed() {
            o.patience = on.then_some(5);
        }
        if let Some(n) = &mut o.patience {
            ui.add(egui::DragValue::new(n).range(1..=100))
                .on_hover_text("epochs without a better validation loss before stopping");
            ui.label("epochs without progress");
        }
    });
    ui.label(RichText::new("Stops when the validation loss has not improved for a while and keeps the best epoch's weights, before memorizing sets in.").weak());
    ui.checkbox(&mut o.class_weights, "weight classes by rarity");
    ui.label(RichText::new("Makes mistakes on rare classes cost more, so the model cannot score well by always answering the common class.").weak());
    ui.label(RichText::new("Dropout is a setting of the model above (where it has one): it switches random units off while training.").weak());
}

/// The "start from" row: fresh weights, or a finished run's (fine-tuning).
fn start_from(init_from: &mut Option<PathBuf>, ui: &mut Ui) {
    ui.label("start from").on_hover_text(
        "Fine-tuning: the network starts from a finished run's weights where they fit the new data; \
         the layers that do not (e.g. the output layer for another number of classes) are \
         re-initialized and named in the messages when training starts.",
    );
    ui.horizontal(|ui| match init_from.clone() {
        Some(dir) => {
            let name = dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            ui.label(format!("the weights of {name}"))
                .on_hover_text(dir.display().to_string());
            if ui.small_button("Fresh weights").clicked() {
                *init_from = None;
            }
        }
        None => {
            ui.label(
                RichText::new("fresh weights (Fine-tune on a run in the Runs view starts from it)")
                    .weak(),
            );
        }
    });
}
