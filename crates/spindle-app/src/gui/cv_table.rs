//! The fold table Results shows for a run that is a fold of a
//! cross-validation (the `cv.json` beside its folder): each fold's test
//! scores and what it tested on, the mean ± sd, the advice on which
//! estimate to trust, and each fold's run one click away.

use std::path::Path;

use eframe::egui::{self, RichText, Ui};
use spindle_learn::runs::CvSummary;

use super::command::{AppCommand, Commands};

/// The scores shown, in this order, where the folds have them.
const SHOWN: [(&str, &str); 6] = [
    ("accuracy", "accuracy"),
    ("balanced_accuracy", "balanced accuracy"),
    ("kappa", "kappa"),
    ("r2", "R²"),
    ("mae", "MAE"),
    ("n", "windows"),
];

/// The widest the "tested on" column gets before it wraps, points.
const TESTED_ON_WIDTH: f32 = 460.0;

/// Draws the table of `cv` (read from the folder `cv_dir`) for the run
/// shown, `shown`, whose row is marked.
pub fn ui(ui: &mut Ui, cv: &CvSummary, cv_dir: &Path, shown: &Path, commands: &mut Commands) {
    let title = format!("Cross-validation: {} folds", cv.folds.len());
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt("results_cv")
        .default_open(true)
        .show(ui, |ui| {
            ui.label(RichText::new(format!("Each fold tested on {}.", cv.kind.describe())).weak());
            let scores: Vec<(&str, &str)> = SHOWN
                .iter()
                .copied()
                .filter(|(key, _)| cv.scores.contains_key(*key))
                .collect();
            egui::Grid::new("results_cv_grid")
                .striped(true)
                .show(ui, |ui| {
                    ui.label(RichText::new("fold").strong());
                    for (_, header) in &scores {
                        ui.label(RichText::new(*header).strong());
                    }
                    ui.label(RichText::new("tested on").strong());
                    ui.label("");
                    ui.end_row();
                    for (i, fold) in cv.folds.iter().enumerate() {
                        let dir = fold.run_dir_in(cv_dir);
                        let this = dir == shown;
                        let number = format!("fold {}", fold.fold.number);
                        ui.label(if this {
                            RichText::new(number).strong()
                        } else {
                            RichText::new(number)
                        });
                        for (key, _) in &scores {
                            let value = cv.scores[*key].per_fold.get(i).copied().flatten();
                            ui.label(value.map_or("-".into(), |v| number_text(key, v)));
                        }
                        ui.scope(|ui| {
                            ui.set_max_width(TESTED_ON_WIDTH);
                            ui.add(egui::Label::new(fold.tested_on()).wrap());
                        });
                        if this {
                            ui.label(RichText::new("shown").weak());
                        } else if ui
                            .small_button(format!("Open fold {}", fold.fold.number))
                            .clicked()
                        {
                            commands.push(AppCommand::OpenRun(dir));
                        }
                        ui.end_row();
                    }
                    ui.label(RichText::new("mean ± sd").strong());
                    for (key, _) in &scores {
                        let s = &cv.scores[*key];
                        let text = if *key == "n" {
                            format!("{:.1} ± {:.1}", s.mean, s.sd)
                        } else {
                            format!("{:.3} ± {:.3}", s.mean, s.sd)
                        };
                        ui.label(RichText::new(text).strong());
                    }
                    ui.end_row();
                });
            ui.label(&cv.advice);
        });
}

/// A fold's score: counts without decimals, others with three.
fn number_text(key: &str, v: f64) -> String {
    if key == "n" {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}
