//! Live training charts: loss (per batch, smoothed, and per epoch for
//! training and validation), accuracy against chance, and the learning rate,
//! with the kept epoch marked.

use eframe::egui::{Color32, Ui};
use egui_plot::{Corner, HLine, Legend, Line, LineStyle, Plot, PlotPoints, VLine};
use spindle_learn::train::{BatchPoint, EpochMetrics, RunHistory};

use crate::gui::command::{AppCommand, Commands, Pick};

/// A "Save PNG…" button for the chart drawn in `rect`.
pub fn save_png_button(ui: &mut Ui, name: &str, rect: eframe::egui::Rect, commands: &mut Commands) {
    ui.horizontal(|ui| {
        if ui
            .small_button("Save PNG…")
            .on_hover_text("Save this chart as an image")
            .clicked()
        {
            commands.push(AppCommand::Pick(Pick::ChartPng {
                name: name.to_string(),
                rect,
            }));
        }
    });
}

/// Color of training curves.
pub const TRAIN_COLOR: Color32 = Color32::from_rgb(66, 133, 244);
/// Color of validation curves.
pub const VALIDATION_COLOR: Color32 = Color32::from_rgb(244, 160, 0);
/// Color of the kept-epoch marker.
const BEST_COLOR: Color32 = Color32::from_rgb(15, 157, 88);

fn points(
    epochs: &[EpochMetrics],
    f: impl Fn(&EpochMetrics) -> Option<f64>,
) -> PlotPoints<'static> {
    epochs
        .iter()
        .filter_map(|e| f(e).filter(|v| v.is_finite()).map(|v| [e.epoch as f64, v]))
        .collect()
}

/// The curves a set of charts shows.
pub struct Curves<'a> {
    /// Finished epochs.
    pub epochs: &'a [EpochMetrics],
    /// Steps (smoothed loss), empty for runs read from disk.
    pub batches: &'a [BatchPoint],
    /// The kept epoch.
    pub best_epoch: Option<usize>,
    /// The accuracy of always guessing the most common class.
    pub chance: Option<f64>,
    /// Epochs asked for (the x axis reaches it).
    pub epochs_planned: usize,
    /// Accuracy is shown (classification).
    pub classification: bool,
}

/// The loss, accuracy and learning-rate charts of `h`.
pub fn training_charts(ui: &mut Ui, h: &RunHistory, presenting: bool, commands: &mut Commands) {
    let curves = Curves {
        epochs: &h.epochs,
        batches: &h.batches,
        best_epoch: h.best.map(|b| b.0),
        chance: h.chance_level(),
        epochs_planned: h.epochs_planned,
        classification: h.start.as_ref().is_none_or(|s| !s.classes.is_empty()),
    };
    curve_charts(ui, "train", &curves, presenting, commands);
}

/// Loss, accuracy and learning-rate charts; `id` keeps the plots of
/// different views apart.
pub fn curve_charts(
    ui: &mut Ui,
    id: &str,
    c: &Curves<'_>,
    presenting: bool,
    commands: &mut Commands,
) {
    let width = if presenting { 3.5 } else { 2.0 };
    let height = if presenting { 260.0 } else { 190.0 };
    let best = c.best_epoch.map(|b| b as f64);
    let x_max = c.epochs_planned.max(1) as f64;
    ui.label("Loss (lower is better)");
    let loss = Plot::new((id, "loss_chart"))
        .height(height)
        .legend(Legend::default())
        .include_x(0.0)
        .include_x(x_max)
        .include_y(0.0)
        .x_axis_label("epoch")
        .allow_scroll(false)
        .show(ui, |plot| {
            let batches: PlotPoints = c
                .batches
                .iter()
                .filter(|b| b.smoothed.is_finite())
                .map(|b| [b.epoch_x, b.smoothed])
                .collect();
            plot.line(
                Line::new("training, per batch (smoothed)", batches)
                    .color(TRAIN_COLOR.gamma_multiply(0.45))
                    .width(width * 0.6),
            );
            plot.line(
                Line::new("training", points(c.epochs, |e| Some(e.train_loss)))
                    .color(TRAIN_COLOR)
                    .width(width),
            );
            plot.line(
                Line::new("validation", points(c.epochs, |e| e.val_loss))
                    .color(VALIDATION_COLOR)
                    .width(width),
            );
            if let Some(b) = best {
                plot.vline(
                    VLine::new("kept epoch", b)
                        .color(BEST_COLOR)
                        .style(LineStyle::dashed_loose()),
                );
            }
        });
    save_png_button(ui, "loss", loss.response.rect, commands);
    if c.classification {
        ui.label("Accuracy (higher is better)");
        let accuracy = Plot::new((id, "accuracy_chart"))
            .height(height * 0.8)
            // Bottom right: accuracy rises toward the top, so the legend
            // there hides only the chance line's end, not the curves.
            .legend(Legend::default().position(Corner::RightBottom))
            .include_x(0.0)
            .include_x(x_max)
            .include_y(0.0)
            .include_y(1.0)
            .x_axis_label("epoch")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new("training", points(c.epochs, |e| e.train_accuracy))
                        .color(TRAIN_COLOR)
                        .width(width),
                );
                plot.line(
                    Line::new("validation", points(c.epochs, |e| e.val_accuracy))
                        .color(VALIDATION_COLOR)
                        .width(width),
                );
                if let Some(chance) = c.chance {
                    plot.hline(
                        HLine::new("chance", chance)
                            .color(Color32::GRAY)
                            .style(LineStyle::dashed_dense()),
                    );
                }
                if let Some(b) = best {
                    plot.vline(VLine::new("kept epoch", b).color(BEST_COLOR));
                }
            });
        save_png_button(ui, "accuracy", accuracy.response.rect, commands);
    }
    if !presenting {
        ui.label("Learning rate");
        Plot::new((id, "lr_chart"))
            .height(70.0)
            .include_x(0.0)
            .include_x(x_max)
            .include_y(0.0)
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new("learning rate", points(c.epochs, |e| Some(e.lr)))
                        .color(Color32::GRAY)
                        .width(1.5),
                );
            });
    }
}
