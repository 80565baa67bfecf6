//! The Results view of one run: the score card (accuracy against chance with
//! its interval, p-value and verdict), the confusion matrix as a heat map
//! whose cells list their windows, per-class scores, ROC curves, and for
//! regression predicted against true. Everything shown comes from the run
//! folder as [`RunSnapshot`] reads it.

use eframe::egui::{self, Align2, Color32, FontId, RichText, Sense, Ui, Vec2, WidgetInfo};
use egui_plot::{Corner, Legend, Line, LineStyle, Plot, PlotPoints, Points};
use spindle_learn::runs::{RunSnapshot, Scores};
use spindle_signals::eval::ClassificationReport;

use super::command::{AppCommand, Commands, Pick};
use super::glossary;
use super::training::{Curves, curve_charts, save_png_button};

/// The Results view's own state.
#[derive(Debug, Default)]
pub struct ResultsPanel {
    /// Row-normalized (recall per true class) instead of counts.
    pub normalized: bool,
    /// The confusion cell whose windows are listed: `(true, predicted)` class indices.
    pub selected: Option<(usize, usize)>,
}

impl ResultsPanel {
    /// Draws the results of `run` (or a hint when none is open).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        run: Option<&RunSnapshot>,
        open: Option<&std::path::Path>,
        nights: &[super::hypnogram::TestNight],
        commands: &mut Commands,
        presenting: bool,
    ) {
        let Some(run) = run else {
            ui.centered_and_justified(|ui| {
                ui.label("No run open yet: train one in the Train view, or open one in Runs.");
            });
            return;
        };
        let name = run.dir.file_name().map_or_else(
            || run.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        ui.horizontal(|ui| {
            ui.heading(format!("Results of {name}"));
            if let Some(info) = &run.info {
                ui.label(RichText::new(info.model.display_name()).weak());
            }
        });
        for p in &run.problems {
            ui.colored_label(ui.visuals().warn_fg_color, p.to_string());
        }
        if let Some((cv_dir, cv)) = &run.cv {
            super::cv_table::ui(ui, cv, cv_dir, &run.dir, commands);
        }
        let planned = run
            .info
            .as_ref()
            .map_or(run.epochs.len(), |i| i.train.epochs);
        let classification = run.info.as_ref().is_none_or(|i| !i.regression);
        let Some(report) = &run.report else {
            ui.label(format!(
                "No report yet: {} of {planned} epochs so far. The run is still training (the curves follow it) or it stopped before the end.",
                run.epochs.len()
            ));
            let curves = Curves {
                epochs: &run.epochs,
                batches: &[],
                best_epoch: None,
                chance: None,
                epochs_planned: planned,
                classification,
            };
            curve_charts(ui, "results", &curves, presenting, commands);
            return;
        };
        apply_buttons(ui, run, open, commands);
        if ui
            .button("What did the network rely on?")
            .on_hover_text("Opens the Explain view: which channels, rhythms and moments of the window the network uses")
            .clicked()
        {
            commands.push(AppCommand::ShowTab(super::command::Tab::Explain));
        }
        if !run.epochs.is_empty() && ui.small_button("Export curves (CSV)…").clicked() {
            commands.push(AppCommand::Pick(Pick::CurvesCsv(vec![run.dir.clone()])));
        }
        ui.label(
            RichText::new(format!(
                "Kept epoch {} of {} ({:.1} s of training{}).",
                report.best_epoch,
                report.epochs_run,
                report.train_seconds,
                if report.stopped_early {
                    ", stopped early"
                } else {
                    ""
                }
            ))
            .weak(),
        );
        if let Some(fit) = &report.final_fit {
            ui.label(RichText::new(format!("Final model: {}.", fit.describe())).weak())
                .on_hover_text(
                    "On a small set the validation trials only choose when to stop. The final model then also learns from them, so that no trial is wasted: the validation scores are the first pass's, and only the test set scores the final model.",
                );
        }
        egui::ScrollArea::vertical()
            .id_salt("results_scroll")
            .show(ui, |ui| {
                for night in nights {
                    super::hypnogram::test_night_ui(ui, night);
                }
                if !nights.is_empty() {
                    ui.separator();
                }
                match &report.test {
                    Some(Scores::Classification(c)) => {
                        self.classification(ui, run, c, commands, presenting)
                    }
                    Some(Scores::Regression(r)) => {
                        ui.label(
                            RichText::new(format!(
                                "Test: R² {}, r {}, mean absolute error {:.3}, n = {}",
                                r.r2.map_or("-".into(), |v| format!("{v:.3}")),
                                r.r.map_or("-".into(), |v| format!("{v:.3}")),
                                r.mae,
                                r.n
                            ))
                            .strong(),
                        );
                        ui.label(format!(
                            "The predictions are off by {:.3} on average, in the unit of the labels (seconds for the reaction-time demo). R² is the share of the target's variance the model explains (1 is perfect, 0 is no better than always predicting the mean); r says how closely predicted and true rise together.",
                            r.mae
                        ));
                        regression_plot(ui, run);
                    }
                    None => {
                        ui.label("The run has no test windows, so there is no test score.");
                    }
                }
                if !run.epochs.is_empty() {
                    let chance = report
                        .validation
                        .as_ref()
                        .and_then(|s| s.classification())
                        .map(|c| c.chance_level);
                    let curves = Curves {
                        epochs: &run.epochs,
                        batches: &[],
                        best_epoch: Some(report.best_epoch),
                        chance,
                        epochs_planned: planned,
                        classification,
                    };
                    egui::CollapsingHeader::new("Training curves")
                        .id_salt("results_curves")
                        .show(ui, |ui| {
                            curve_charts(ui, "results", &curves, presenting, commands)
                        });
                }
            });
    }

    fn classification(
        &mut self,
        ui: &mut Ui,
        run: &RunSnapshot,
        c: &ClassificationReport,
        commands: &mut Commands,
        presenting: bool,
    ) {
        score_card(ui, c, presenting);
        ui.separator();
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.horizontal(|ui| {
                ui.label(RichText::new("Confusion matrix").strong());
                ui.checkbox(&mut self.normalized, "as shares of each true class");
            });
            glossary::row(ui, &["confusion matrix"]);
            let (clicked, rect) = confusion_heat_map(ui, c, self.normalized, self.selected);
            if let Some(cell) = clicked {
                self.selected = Some(cell);
            }
            save_png_button(ui, "confusion-matrix", rect, commands);
            self.cell_windows(ui, run, c, commands);
            let ui = &mut cols[1];
            ui.label(RichText::new("Per class").strong());
            egui::Grid::new("per_class").striped(true).show(ui, |ui| {
                for h in ["class", "precision", "recall", "F1", "windows", "AUC"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for k in &c.per_class {
                    ui.label(&k.class);
                    ui.label(format!("{:.2}", k.precision));
                    ui.label(format!("{:.2}", k.recall));
                    ui.label(format!("{:.2}", k.f1));
                    ui.label(k.support.to_string());
                    ui.label(k.auc.map_or("-".into(), |a| format!("{a:.2}")));
                    ui.end_row();
                }
            });
            ui.label(
                RichText::new("Precision: of the windows called this class, the share that were. Recall: of the windows of this class, the share found.")
                    .weak()
                    .small(),
            );
            roc_plot(ui, run, commands);
        });
    }

    fn cell_windows(
        &self,
        ui: &mut Ui,
        run: &RunSnapshot,
        c: &ClassificationReport,
        commands: &mut Commands,
    ) {
        let Some((t, p)) = self.selected else {
            ui.label(RichText::new("Click a cell to list its windows.").weak());
            return;
        };
        let (Some(truth), Some(pred)) = (c.classes.get(t), c.classes.get(p)) else {
            return;
        };
        let rows: Vec<_> = run
            .predictions
            .iter()
            .filter(|r| &r.truth == truth && &r.predicted == pred)
            .collect();
        ui.label(format!(
            "{} window(s) of true class {truth} called {pred}; click one to see it:",
            rows.len()
        ));
        egui::ScrollArea::vertical()
            .id_salt("cell_windows")
            .max_height(160.0)
            .show(ui, |ui| {
                for r in rows {
                    let file = r
                        .file
                        .file_name()
                        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
                    let confidence = r.probabilities.iter().copied().fold(0.0f32, f32::max);
                    if ui
                        .link(format!(
                            "{file} at {} ({:.0}% sure)",
                            spindle_signals::dsp::format_hms(r.onset_s),
                            confidence * 100.0
                        ))
                        .clicked()
                    {
                        commands.push(AppCommand::JumpTo {
                            file: r.file.clone(),
                            onset_s: r.onset_s,
                            duration_s: r.duration_s,
                        });
                    }
                }
            });
    }
}

/// "Suggest labels" for the open recording or another one.
fn apply_buttons(
    ui: &mut Ui,
    run: &RunSnapshot,
    open: Option<&std::path::Path>,
    commands: &mut Commands,
) {
    let classifier = run.info.as_ref().is_some_and(|i| !i.regression);
    if !classifier {
        return;
    }
    ui.horizontal(|ui| {
        if let Some(file) = open {
            let name = file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            // A sleep stager's stages become a comparison layer to review.
            let stager = run.info.as_ref().is_some_and(|i| {
                spindle_learn::train::stage_classes(&i.classes, i.regression).is_ok()
            });
            let (text, hover) = if stager {
                (
                    format!("Stage {name} with this run"),
                    "Runs this model over the open recording; its stages, with a confidence per epoch, are shown beside your labels to compare and review, least confident first.",
                )
            } else {
                (
                    format!("Suggest labels for {name}"),
                    "Runs this model over the open recording; its predictions become suggestions you accept or reject one by one.",
                )
            };
            if ui.button(text).on_hover_text(hover).clicked() {
                commands.push(AppCommand::SuggestLabels(file.to_path_buf()));
            }
        }
        if ui.button("Apply to recording…").clicked() {
            commands.push(AppCommand::Pick(Pick::RecordingToSuggest));
        }
    });
}

/// Accuracy against chance, the interval, the p-value and the verdict.
fn score_card(ui: &mut Ui, c: &ClassificationReport, presenting: bool) {
    let size = if presenting { 30.0 } else { 22.0 };
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!("Test accuracy {:.1}%", c.accuracy * 100.0))
                .size(size)
                .strong(),
        );
        ui.label(
            RichText::new(format!(
                "(95% interval {:.0}–{:.0}%)   chance {:.0}%",
                c.accuracy_ci95[0] * 100.0,
                c.accuracy_ci95[1] * 100.0,
                c.chance_level * 100.0
            ))
            .size(size * 0.7),
        );
    });
    let bar = egui::ProgressBar::new(c.accuracy as f32).text(format!("{} windows", c.n));
    ui.add(bar);
    ui.label(RichText::new(&c.verdict).strong());
    ui.label(format!(
        "balanced accuracy {:.3} · macro F1 {:.3} · Cohen's kappa {:.3} · p {} against chance",
        c.balanced_accuracy,
        c.f1_macro,
        c.kappa,
        if c.p_value < 1e-4 {
            "< 0.0001".to_string()
        } else {
            format!("= {:.4}", c.p_value)
        }
    ));
    glossary::row(ui, &["accuracy", "chance level", "test set"]);
}

/// Draws the matrix; returns the cell clicked and where the matrix is.
fn confusion_heat_map(
    ui: &mut Ui,
    c: &ClassificationReport,
    normalized: bool,
    selected: Option<(usize, usize)>,
) -> (Option<(usize, usize)>, egui::Rect) {
    let n = c.classes.len();
    if n == 0 {
        return (None, egui::Rect::NOTHING);
    }
    let label_w = 90.0;
    let cell = ((ui.available_width() - label_w - 10.0) / n as f32).clamp(28.0, 80.0);
    let size = Vec2::new(label_w + cell * n as f32, 20.0 + cell * n as f32 + 18.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let text = ui.visuals().text_color();
    let origin = rect.min + Vec2::new(label_w, 20.0);
    painter.text(
        rect.min + Vec2::new(label_w + cell * n as f32 / 2.0, 0.0),
        Align2::CENTER_TOP,
        "predicted",
        FontId::proportional(12.0),
        text,
    );
    let mut clicked = None;
    for (t, row) in c.confusion_matrix.iter().enumerate() {
        let total: usize = row.iter().sum();
        painter.text(
            origin + Vec2::new(-6.0, cell * (t as f32 + 0.5)),
            Align2::RIGHT_CENTER,
            &c.classes[t],
            FontId::proportional(12.0),
            text,
        );
        for (p, &count) in row.iter().enumerate() {
            let share = if total > 0 {
                count as f64 / total as f64
            } else {
                0.0
            };
            let r = egui::Rect::from_min_size(
                origin + Vec2::new(cell * p as f32, cell * t as f32),
                Vec2::splat(cell),
            );
            let base = if t == p {
                Color32::from_rgb(15, 157, 88)
            } else {
                Color32::from_rgb(219, 68, 55)
            };
            // An empty cell is neutral: a tint would read as "some errors".
            let fill = if count == 0 {
                ui.visuals().faint_bg_color
            } else {
                base.gamma_multiply((0.08 + 0.92 * share) as f32)
            };
            painter.rect_filled(r.shrink(1.0), 2.0, fill);
            if selected == Some((t, p)) {
                painter.rect_stroke(r.shrink(1.0), 2.0, (2.0, text), egui::StrokeKind::Inside);
            }
            let label = if normalized {
                format!("{:.0}%", share * 100.0)
            } else {
                count.to_string()
            };
            let ink = if share > 0.45 { Color32::WHITE } else { text };
            painter.text(
                r.center(),
                Align2::CENTER_CENTER,
                label,
                FontId::proportional(14.0),
                ink,
            );
            let id = ui.make_persistent_id(("confusion", t, p));
            let resp = ui.interact(r, id, Sense::click());
            let (truth, pred) = (c.classes[t].clone(), c.classes[p].clone());
            resp.widget_info(|| {
                WidgetInfo::labeled(
                    egui::Role::Button,
                    true,
                    format!("{count} windows of {truth} predicted as {pred}"),
                )
            });
            if resp.clicked() {
                clicked = Some((t, p));
            }
        }
    }
    painter.text(
        rect.left_bottom() + Vec2::new(4.0, -2.0),
        Align2::LEFT_BOTTOM,
        "true class",
        FontId::proportional(12.0),
        text,
    );
    (clicked, rect)
}

fn roc_plot(ui: &mut Ui, run: &RunSnapshot, commands: &mut Commands) {
    if run.roc.is_empty() {
        return;
    }
    ui.label(RichText::new("ROC curves (one class against the rest)").strong());
    let shown = Plot::new("roc_plot")
        .height(220.0)
        .view_aspect(1.2)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("false positive rate")
        .y_axis_label("true positive rate")
        // Below the chance line, where a curve rarely goes.
        .legend(Legend::default().position(Corner::RightBottom))
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new("chance", PlotPoints::from(vec![[0.0, 0.0], [1.0, 1.0]]))
                    .color(Color32::GRAY)
                    .style(LineStyle::dashed_dense()),
            );
            for (class, curve) in &run.roc {
                plot.line(
                    Line::new(format!("{class} (AUC {:.2})", curve.area()), curve.points())
                        .width(2.0)
                        // egui_plot otherwise merges the points of one
                        // pixel column into a band and fills between bands:
                        // a ROC curve's vertical steps became triangles.
                        .allow_band(false),
                );
            }
        });
    save_png_button(ui, "roc", shown.response.rect, commands);
}

fn regression_plot(ui: &mut Ui, run: &RunSnapshot) {
    let pts: Vec<[f64; 2]> = run
        .predictions
        .iter()
        .filter_map(|r| {
            Some([
                r.truth.trim().parse().ok()?,
                r.predicted.trim().parse().ok()?,
            ])
        })
        .collect();
    let (lo, hi) = pts
        .iter()
        .flat_map(|p| [p[0], p[1]])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    ui.label(RichText::new("Predicted against true (the diagonal is perfect)").strong());
    Plot::new("regression_plot")
        .height(300.0)
        .data_aspect(1.0)
        .x_axis_label("true")
        .y_axis_label("predicted")
        .show(ui, |plot| {
            if lo.is_finite() && hi.is_finite() {
                plot.line(
                    Line::new("perfect", PlotPoints::from(vec![[lo, lo], [hi, hi]]))
                        .color(Color32::GRAY)
                        .style(LineStyle::dashed_dense()),
                );
            }
            plot.points(Points::new("windows", pts).radius(3.0));
        });
}
