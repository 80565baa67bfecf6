//! The sweep part of the Runs view: a sweep folder (made by `spindle sweep`
//! here or on a cluster) opened, its tasks listed with their status, the
//! curves of the running ones growing as their `metrics.csv` does, the
//! finished ones compared; and the remaining tasks run here or sent to Slurm.

use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use spindle_learn::runs::sweep::{SweepSnapshot, TaskStatus};

use super::command::{AppCommand, Commands, NewSweep, Pick, Tab};

/// The sweep part's state.
#[derive(Debug, Default)]
pub struct SweepPanel {
    /// The form of a new sweep.
    pub new_sweep: NewSweep,
    /// The folder typed or chosen.
    pub path_text: String,
    /// The sweep folder open, if any.
    pub open: Option<PathBuf>,
    /// What was last read of it.
    pub snapshot: Option<SweepSnapshot>,
    /// True while the app runs its tasks here.
    pub running_here: bool,
}

impl SweepPanel {
    /// True while the open sweep has tasks to wait for (so it is read again).
    pub fn is_live(&self) -> bool {
        self.running_here
            || self.snapshot.as_ref().is_some_and(|s| {
                s.count(TaskStatus::Running) > 0 || s.count(TaskStatus::Pending) > 0
            })
    }

    /// Draws the sweep part.
    pub fn ui(&mut self, ui: &mut Ui, commands: &mut Commands) {
        ui.heading("Sweep");
        ui.label(
            RichText::new(
                "A sweep trains many settings at once, for example several models and learning rates, \
                 or every cross-validation fold (made with `spindle sweep` here or on a Slurm cluster). \
                 Open its folder to follow its tasks as they train and to compare the finished ones.",
            )
            .weak(),
        );
        ui.horizontal(|ui| {
            let label = ui.label("Sweep folder");
            ui.add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("the --out folder of spindle sweep")
                    .desired_width(360.0),
            )
            .labelled_by(label.id);
            if ui.button("Choose…").clicked() {
                commands.push(AppCommand::Pick(Pick::SweepFolder));
            }
            if ui.button("Open sweep").clicked() && !self.path_text.trim().is_empty() {
                commands.push(AppCommand::OpenSweep(PathBuf::from(self.path_text.trim())));
            }
        });
        egui::CollapsingHeader::new("New sweep from the Train view's settings")
            .id_salt("new_sweep")
            .show(ui, |ui| self.new_sweep_form(ui, commands));
        let Some(s) = &self.snapshot else {
            return;
        };
        let (done, running, pending, failed) = (
            s.count(TaskStatus::Done),
            s.count(TaskStatus::Running),
            s.count(TaskStatus::Pending),
            s.count(TaskStatus::Failed),
        );
        ui.label(format!(
            "{}: {} tasks, {done} done, {running} running, {pending} pending, {failed} failed",
            s.dir.display(),
            s.tasks.len()
        ));
        ui.horizontal(|ui| {
            if self.running_here {
                if ui.button("Stop the sweep").clicked() {
                    commands.push(AppCommand::StopSweep);
                }
            } else if running > 0 {
                ui.label(
                    RichText::new("Tasks are running (here, in a terminal or on the cluster); this view follows them.")
                        .weak(),
                );
            } else if pending + failed > 0 {
                if ui
                    .button("Run remaining tasks here")
                    .on_hover_text("one task at a time on this computer, with every core but one")
                    .clicked()
                {
                    commands.push(AppCommand::RunSweepHere(s.dir.clone()));
                }
                if s.sbatch_available
                    && ui
                        .button("Submit remaining tasks to Slurm")
                        .on_hover_text(
                            "one job array; each task reads its settings from sweep.json",
                        )
                        .clicked()
                {
                    commands.push(AppCommand::SubmitSweep(s.dir.clone()));
                }
            }
        });
        tasks_grid(ui, s);
        live_curves(ui, s);
        comparison(ui, s, commands);
    }
}

impl SweepPanel {
    fn new_sweep_form(&mut self, ui: &mut Ui, commands: &mut Commands) {
        ui.label(
            RichText::new(
                "Every combination of the values below becomes one training run with the Train view's \
                 recordings and other settings. Separate values with commas.",
            )
            .weak(),
        );
        let f = &mut self.new_sweep;
        egui::Grid::new("new_sweep_grid")
            .num_columns(2)
            .show(ui, |ui| {
                for (name, hint, text) in [
                    (
                        "models",
                        "e.g. mlp,eegnet (empty: the Train view's model)",
                        &mut f.models,
                    ),
                    ("learning rates", "e.g. 1e-3,1e-2", &mut f.lrs),
                    ("seeds", "e.g. 0,1,2: repeats of each setting", &mut f.seeds),
                    (
                        "cross-validation",
                        "empty, a number of folds, or loso (one fold per person)",
                        &mut f.cv,
                    ),
                    (
                        "sweep folder",
                        "empty: a new folder in the runs folder",
                        &mut f.out,
                    ),
                ] {
                    let label = ui.label(name);
                    ui.add(
                        egui::TextEdit::singleline(text)
                            .hint_text(hint)
                            .desired_width(320.0),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                }
            });
        if ui.button("Plan sweep").clicked() {
            commands.push(AppCommand::PlanSweep(Box::new(f.clone())));
        }
    }
}

/// The color of a status word.
fn status_text(status: TaskStatus) -> RichText {
    let text = RichText::new(status.label());
    match status {
        TaskStatus::Running => text.color(Color32::from_rgb(244, 160, 0)),
        TaskStatus::Done => text.color(Color32::from_rgb(15, 157, 88)),
        TaskStatus::Failed => text.color(Color32::from_rgb(219, 68, 55)),
        TaskStatus::Pending => text.weak(),
    }
}

fn tasks_grid(ui: &mut Ui, s: &SweepSnapshot) {
    egui::ScrollArea::vertical()
        .id_salt("sweep_tasks")
        .max_height(220.0)
        .show(ui, |ui| {
            egui::Grid::new("sweep_tasks_grid")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for h in ["task", "run folder", "settings", "status", "progress"] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for t in &s.tasks {
                        ui.label(t.index.to_string());
                        ui.label(t.run_dir.display().to_string());
                        let mut settings: Vec<String> =
                            t.settings.iter().map(|(k, v)| format!("{k} {v}")).collect();
                        if let Some(f) = t.fold {
                            settings.push(format!("fold {f}"));
                        }
                        ui.label(settings.join(", "));
                        ui.label(status_text(t.status));
                        match (&t.failure, t.epochs.last()) {
                            (Some(why), _) => {
                                ui.label(RichText::new(why).small());
                            }
                            (None, Some(e)) => {
                                ui.label(format!("epoch {}", e.epoch));
                            }
                            (None, None) => {
                                ui.label("");
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}

fn live_curves(ui: &mut Ui, s: &SweepSnapshot) {
    let running: Vec<_> = s.tasks.iter().filter(|t| !t.epochs.is_empty()).collect();
    if running.is_empty() {
        return;
    }
    ui.label(RichText::new("Running tasks: validation loss by epoch (lower is better)").strong());
    Plot::new("sweep_live_loss")
        .height(160.0)
        .legend(Legend::default())
        .x_axis_label("epoch")
        .y_axis_label("validation loss")
        .allow_scroll(false)
        .show(ui, |plot| {
            for t in running {
                let pts: PlotPoints = t
                    .epochs
                    .iter()
                    .filter_map(|e| Some([e.epoch as f64, e.val_loss?]))
                    .collect();
                plot.line(Line::new(format!("task {}", t.index), pts).width(2.0));
            }
        });
}

fn comparison(ui: &mut Ui, s: &SweepSnapshot, commands: &mut Commands) {
    let c = &s.comparison;
    let finished: Vec<_> = c.runs.iter().filter(|r| !r.test.is_empty()).collect();
    if finished.is_empty() {
        return;
    }
    ui.label(RichText::new("Finished tasks compared").strong());
    ui.label(
        RichText::new(
            "Test scores are on recordings the task never trained on; accuracy counts every window, \
             balanced accuracy weighs each class equally (higher is better for both).",
        )
        .weak(),
    );
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    egui::ScrollArea::both()
        .id_salt("sweep_compare")
        .max_height(220.0)
        .show(ui, |ui| {
            egui::Grid::new("sweep_compare_grid")
                .striped(true)
                .show(ui, |ui| {
                    ui.label(RichText::new("run").strong());
                    for k in &c.setting_keys {
                        ui.label(RichText::new(k).strong());
                    }
                    for h in ["test accuracy / R²", "balanced accuracy", "seconds", ""] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for r in finished {
                        ui.label(&r.name);
                        for k in &c.setting_keys {
                            ui.monospace(r.settings.get(k).map_or("-", String::as_str));
                        }
                        ui.label(fmt(r.test.get("accuracy").or(r.test.get("r2")).copied()));
                        ui.label(fmt(r.test.get("balanced_accuracy").copied()));
                        ui.label(r.train_seconds.map_or("-".into(), |v| format!("{v:.1}")));
                        if ui
                            .small_button("Open")
                            .on_hover_text("Show this task's run in Results (and explain it there)")
                            .clicked()
                        {
                            commands.push(AppCommand::OpenRun(r.dir.clone()));
                            commands.push(AppCommand::ShowTab(Tab::Results));
                        }
                        ui.end_row();
                    }
                });
        });
    if c.groups.is_empty() {
        return;
    }
    ui.label(
        RichText::new("Cross-validation: mean ± spread over the folds of each setting").strong(),
    );
    egui::Grid::new("sweep_cv_grid")
        .striped(true)
        .show(ui, |ui| {
            for h in ["setting", "folds", "balanced accuracy", "accuracy / R²"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for g in &c.groups {
                let spread = |k: &str| {
                    g.test
                        .get(k)
                        .map_or("-".to_string(), |s| format!("{:.3} ± {:.3}", s.mean, s.sd))
                };
                ui.label(&g.name);
                ui.label(g.runs.len().to_string());
                ui.label(spread("balanced_accuracy"));
                ui.label(if g.test.contains_key("accuracy") {
                    spread("accuracy")
                } else {
                    spread("r2")
                });
                ui.end_row();
            }
        });
}
