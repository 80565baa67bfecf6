//! The Train view's cross-validation: the Train view's settings trained
//! once per fold over its training recordings (`spindle_learn::jobs::CvJob`,
//! as `spindle train --cv` runs it), with its progress, a Cancel button
//! and each fold's test score as it comes.

use eframe::egui::{self, RichText, Ui};
use spindle_learn::dataset::CvScheme;
use spindle_learn::jobs::{CvEvent, CvJob};
use spindle_learn::train::{Event, Outcome};

use crate::gui::command::{AppCommand, Commands};

/// A cross-validation started from the app, and what it reported so far.
pub struct CrossValidation {
    /// The job (dropping it cancels the cross-validation).
    pub job: CvJob,
    /// Its events so far, kept for the view and for tests (batch events
    /// are not kept).
    pub events: Vec<CvEvent>,
    /// True once it ended (finished, failed or cancelled).
    pub over: bool,
}

impl CrossValidation {
    /// The cross-validation folder the job made, once planned.
    pub fn out(&self) -> Option<&std::path::Path> {
        self.events.iter().find_map(|e| match e {
            CvEvent::Planned { out, .. } => Some(out.as_path()),
            _ => None,
        })
    }

    /// Folds planned, once known.
    pub fn folds(&self) -> Option<usize> {
        self.events.iter().find_map(|e| match e {
            CvEvent::Planned { folds, .. } => Some(*folds),
            _ => None,
        })
    }

    /// Each finished fold: its number and outcome, in order.
    pub fn finished_folds(&self) -> Vec<(usize, &Outcome)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CvEvent::FoldFinished { fold, outcome, .. } => Some((*fold, &**outcome)),
                _ => None,
            })
            .collect()
    }

    /// The running fold and its last epoch, while one runs.
    fn running(&self) -> Option<(usize, usize)> {
        let started = self.events.iter().rev().find_map(|e| match e {
            CvEvent::FoldStarted { fold, .. } => Some(fold.number),
            _ => None,
        })?;
        if self.finished_folds().iter().any(|(n, _)| *n == started) {
            return None;
        }
        let epoch = self
            .events
            .iter()
            .rev()
            .find_map(|e| match e {
                CvEvent::Training { fold, event } if *fold == started => match &**event {
                    Event::Epoch(m) => Some(m.epoch),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or(0);
        Some((started, epoch))
    }

    /// How the cross-validation ended, in words, once it did.
    fn ending(&self) -> Option<Result<String, String>> {
        self.events.iter().rev().find_map(|e| match e {
            CvEvent::Finished { summary, path } => {
                let score = summary
                    .scores
                    .get("accuracy")
                    .map(|s| {
                        format!(
                            "test accuracy {:.0}% ± {:.0}%",
                            s.mean * 100.0,
                            s.sd * 100.0
                        )
                    })
                    .or_else(|| {
                        summary
                            .scores
                            .get("r2")
                            .map(|s| format!("test R² {:.2} ± {:.2}", s.mean, s.sd))
                    })
                    .unwrap_or_else(|| "no test scores".into());
                Some(Ok(format!(
                    "Over {} folds: {score}. {} ({})",
                    summary.folds.len(),
                    summary.advice,
                    path.display()
                )))
            }
            CvEvent::Failed(message) => Some(Err(format!("Cross-validation failed: {message}"))),
            CvEvent::Cancelled => Some(Ok("Cross-validation cancelled.".into())),
            _ => None,
        })
    }
}

/// The fold's test score in words.
fn fold_score(outcome: &Outcome) -> String {
    if let Some(t) = &outcome.test {
        format!(
            "test accuracy {:.0}% (chance {:.0}%)",
            t.accuracy * 100.0,
            t.chance_level * 100.0
        )
    } else if let Some(r) = &outcome.test_regression {
        format!("test R² {}", r.r2.map_or("-".into(), |v| format!("{v:.2}")))
    } else {
        "no test score".into()
    }
}

/// The Cross-validate row and, once one was started, its progress and
/// fold results. `folds_text` is the folds field (a number, or `loso`);
/// `can_start` says whether the form can train now.
pub fn ui(
    ui: &mut Ui,
    folds_text: &mut String,
    can_start: bool,
    cv: Option<&CrossValidation>,
    commands: &mut Commands,
) {
    let running = cv.is_some_and(|cv| !cv.over);
    let scheme = folds_text.parse::<CvScheme>();
    ui.horizontal(|ui| {
        let label = ui.label("Folds");
        ui.add(
            egui::TextEdit::singleline(folds_text)
                .desired_width(48.0)
                .id_salt("cv_folds"),
        )
        .labelled_by(label.id)
        .on_hover_text("A number of folds (whole recordings when there are enough, else blocks of trials; labeled audio folders: their files), or loso: one fold per subject.");
        let start = ui
            .add_enabled(
                can_start && !running && scheme.is_ok(),
                egui::Button::new("Cross-validate"),
            )
            .on_hover_text("Train these settings once per fold, each fold testing on recordings the others train on; one run folder per fold and a cv.json with the mean and spread.")
            .on_disabled_hover_text("The dataset must be ready, no training running, and the folds a number or loso.");
        if start.clicked()
            && let Ok(scheme) = &scheme
        {
            commands.push(AppCommand::CrossValidate(*scheme));
        }
        if ui
            .add_enabled(running, egui::Button::new("Cancel cross-validation"))
            .clicked()
        {
            commands.push(AppCommand::CancelCrossValidation);
        }
    });
    if let Err(reason) = &scheme {
        ui.colored_label(ui.visuals().warn_fg_color, reason);
    }
    let Some(cv) = cv else {
        return;
    };
    let done = cv.finished_folds();
    if let Some(folds) = cv.folds() {
        let text = match cv.running() {
            Some((fold, epoch)) => format!("fold {fold} of {folds}, epoch {epoch}"),
            None => format!("{} of {folds} folds done", done.len()),
        };
        ui.add(egui::ProgressBar::new(done.len() as f32 / folds.max(1) as f32).text(text));
    } else if running {
        ui.label("planning the folds…");
    }
    for (fold, outcome) in &done {
        ui.label(format!("Fold {fold}: {}", fold_score(outcome)));
    }
    match cv.ending() {
        Some(Ok(text)) => {
            ui.label(RichText::new(text).strong());
        }
        Some(Err(text)) => {
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        None => {}
    }
}
