//! The Train view: which recordings play which role, the dataset settings,
//! the model and its hyper-parameters, and the running job with live charts
//! and the coach. The form is a [`TrainOptions`] — the same type
//! `spindle train` parses — so the app and the CLI cannot drift apart.

mod charts;
mod cv;
mod dataset;
mod model;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText, Ui};

use super::command::{AppCommand, Commands};
use super::glossary;
use super::tracked::Tracked;
use spindle_learn::jobs::{Preview, TrainJob};
use spindle_learn::model::ParamValue;
use spindle_learn::train::{
    Command, DataRoles, Failure, JobState, RunHistory, TrainOptions, advise,
};
use spindle_signals::viewing::Entry;

pub use charts::{Curves, curve_charts, save_png_button, training_charts};
pub use cv::CrossValidation;
pub use dataset::split_color;

/// What a recording (or an audio folder) is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Fits the weights (validation and test are held out from these unless
    /// recordings are given those roles).
    Train,
    /// Chooses the epoch to keep.
    Validation,
    /// Scored once at the end.
    Test,
    /// Left out.
    Unused,
}

impl Role {
    /// Every role, in menu order.
    pub const ALL: [Role; 4] = [Role::Train, Role::Validation, Role::Test, Role::Unused];

    /// The role's name in the form.
    pub fn title(self) -> &'static str {
        match self {
            Role::Train => "training",
            Role::Validation => "validation",
            Role::Test => "test",
            Role::Unused => "unused",
        }
    }
}

/// A recording, or a labeled audio folder, the user can give a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The file, or the audio folder.
    pub path: PathBuf,
    /// Relative name for display.
    pub name: String,
    /// Files in an audio folder (1 for a recording).
    pub files: usize,
    /// Labels in a recording (files for an audio folder).
    pub labels: usize,
    /// True for a labeled audio folder.
    pub audio_folder: bool,
}

/// The dataset preview for the current form.
#[derive(Debug, Clone, Default)]
pub enum PreviewState {
    /// None asked for yet.
    #[default]
    None,
    /// Being built on a worker.
    Pending,
    /// Built.
    Ready(Box<Preview>),
    /// The form or the data cannot make a dataset.
    Failed(Failure),
}

/// The Train view's state.
pub struct TrainingPanel {
    /// Every setting of the run, as the CLI has them.
    pub options: TrainOptions,
    /// The role of each source, by path.
    pub roles: BTreeMap<PathBuf, Role>,
    /// The sources of the open folder.
    pub sources: Vec<Source>,
    /// The model's hyper-parameters as edited.
    pub model_values: Vec<ParamValue>,
    /// Text being typed into list-valued hyper-parameters.
    list_texts: BTreeMap<String, String>,
    /// Text being typed into the dataset form's list fields.
    texts: dataset::FormTexts,
    /// The preview and what it was built for.
    pub preview: Tracked<PreviewState>,
    previewed: Option<(DataRoles, TrainOptions)>,
    /// The running (or last) job's curves and state.
    pub history: Option<RunHistory>,
    /// The running job; dropping it cancels the job.
    pub job: Option<TrainJob>,
    /// The cross-validation's folds field (a number, or `loso`).
    pub cv_folds: String,
    /// The finished run whose weights the next run starts from
    /// (fine-tuning, `spindle train --init`), if any.
    pub init_from: Option<PathBuf>,
    /// "Show the map as it learns": the next run sends a map of its
    /// validation windows every few epochs, drawn below the charts.
    pub live_map: bool,
}

impl Default for TrainingPanel {
    fn default() -> Self {
        let mut panel = Self {
            options: TrainOptions::default(),
            roles: BTreeMap::new(),
            sources: Vec::new(),
            model_values: Vec::new(),
            list_texts: BTreeMap::new(),
            texts: dataset::FormTexts::default(),
            preview: Tracked::default(),
            previewed: None,
            history: None,
            job: None,
            cv_folds: "5".into(),
            init_from: None,
            live_map: false,
        };
        panel.reset_model_values();
        panel
    }
}

impl TrainingPanel {
    /// Lists the sources found in the browsed folder; new ones get a
    /// default role (recordings train; audio folders train only when there
    /// are no recordings).
    pub fn set_entries(&mut self, entries: &[Entry]) {
        let mut sources: Vec<Source> = Vec::new();
        let mut audio: BTreeMap<PathBuf, (String, usize)> = BTreeMap::new();
        // Files of annotations alone (hypnograms) label a recording; they
        // hold nothing to train on.
        for e in entries
            .iter()
            .filter(|e| e.error.is_none() && e.channels > 0)
        {
            let folder = e.audio_root.as_deref();
            match folder {
                Some(root) => {
                    let name = Path::new(&e.name)
                        .parent()
                        .and_then(Path::parent)
                        .map_or_else(|| ".".into(), |p| p.display().to_string());
                    audio.entry(root.to_path_buf()).or_insert((name, 0)).1 += 1;
                }
                None => sources.push(Source {
                    path: e.path.clone(),
                    name: e.name.clone(),
                    files: 1,
                    labels: e.labels,
                    audio_folder: false,
                }),
            }
        }
        let has_recordings = !sources.is_empty();
        let first_folder = first_labeled_folder(&sources);
        for (path, (name, files)) in audio {
            let name = if name.is_empty() { ".".into() } else { name };
            sources.push(Source {
                path,
                name: format!("{name}/ (audio folder)"),
                files,
                labels: files,
                audio_folder: true,
            });
        }
        for s in &sources {
            // Recordings of other folders (a sleep study beside a task
            // study) rarely share channels and labels: they start unused.
            let elsewhere = !s.audio_folder && s.path.parent() != first_folder.as_deref();
            self.roles.entry(s.path.clone()).or_insert(
                if (s.audio_folder && has_recordings) || s.labels == 0 || elsewhere {
                    Role::Unused
                } else {
                    Role::Train
                },
            );
        }
        self.sources = sources;
    }

    /// The recordings of each role.
    pub fn data_roles(&self) -> DataRoles {
        let mut roles = DataRoles::default();
        for s in &self.sources {
            match self.roles.get(&s.path).copied().unwrap_or(Role::Unused) {
                Role::Train => roles.train.push(s.path.clone()),
                Role::Validation => roles.validation.push(s.path.clone()),
                Role::Test => roles.test.push(s.path.clone()),
                Role::Unused => {}
            }
        }
        roles
    }

    /// Trains on the labeled recordings of the first folder that has any
    /// (`audio == false`) or on the labeled audio folders only; everything
    /// else becomes unused.
    pub fn use_only(&mut self, audio: bool) {
        if audio {
            for s in &self.sources {
                let role = if s.audio_folder && s.labels > 0 {
                    Role::Train
                } else {
                    Role::Unused
                };
                self.roles.insert(s.path.clone(), role);
            }
        } else if let Some(folder) = first_labeled_folder(&self.sources) {
            self.use_folder(&folder);
        }
    }

    /// Trains on the labeled recordings directly in `folder`; everything
    /// else becomes unused.
    pub fn use_folder(&mut self, folder: &Path) {
        for s in &self.sources {
            let role = if !s.audio_folder && s.labels > 0 && s.path.parent() == Some(folder) {
                Role::Train
            } else {
                Role::Unused
            };
            self.roles.insert(s.path.clone(), role);
        }
    }

    /// The folders holding labeled recordings (audio folders aside), each
    /// with its name as listed (e.g. `sleep`; empty for the opened folder
    /// itself), in listing order.
    pub fn recording_folders(&self) -> Vec<(PathBuf, String)> {
        recording_folders(&self.sources)
    }

    /// Resets the hyper-parameter form to the chosen model's defaults.
    pub fn reset_model_values(&mut self) {
        self.options.model_params.clear();
        self.list_texts.clear();
        self.model_values = match self.options.architecture() {
            Ok(a) => a.values(&a.default_spec()),
            Err(_) => Vec::new(),
        };
    }

    /// True while a job runs (or prepares).
    pub fn is_training(&self) -> bool {
        self.history.as_ref().is_some_and(|h| !h.state.is_over())
    }

    /// Marks the preview as asked for the current form.
    pub fn preview_requested(&mut self) {
        self.preview.set(PreviewState::Pending);
        self.previewed = Some((self.data_roles(), self.options.clone()));
    }

    /// True when the form changed since the last preview.
    pub fn preview_is_stale(&self) -> bool {
        self.previewed.as_ref() != Some(&(self.data_roles(), self.options.clone()))
    }

    /// Draws the Train view; `cv` is the last cross-validation started
    /// from it.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        commands: &mut Commands,
        presenting: bool,
        cv: Option<&CrossValidation>,
    ) {
        if !self.is_training()
            && self.preview_is_stale()
            && !matches!(*self.preview, PreviewState::Pending)
        {
            commands.push(AppCommand::Preview);
        }
        let wide = ui.available_width() > 1100.0;
        if presenting || !wide {
            egui::ScrollArea::vertical()
                .id_salt("train_scroll")
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    clear_of_scroll_bar(ui);
                    if !presenting {
                        self.forms(ui, commands);
                        ui.separator();
                    }
                    self.live(ui, commands, presenting, cv);
                });
            return;
        }
        ui.columns(2, |cols| {
            egui::ScrollArea::vertical()
                .id_salt("train_forms")
                .auto_shrink([false, true])
                .show(&mut cols[0], |ui| {
                    clear_of_scroll_bar(ui);
                    self.forms(ui, commands);
                });
            egui::ScrollArea::vertical()
                .id_salt("train_live")
                .auto_shrink([false, true])
                .show(&mut cols[1], |ui| {
                    clear_of_scroll_bar(ui);
                    self.live(ui, commands, presenting, cv);
                });
        });
    }

    fn forms(&mut self, ui: &mut Ui, commands: &mut Commands) {
        let locked = self.is_training();
        ui.add_enabled_ui(!locked, |ui| {
            egui::CollapsingHeader::new(RichText::new("1  Dataset").heading())
                .default_open(true)
                .show(ui, |ui| dataset::ui(self, ui, commands));
            egui::CollapsingHeader::new(RichText::new("2  Model").heading())
                .default_open(true)
                .show(ui, |ui| model::ui(self, ui));
            egui::CollapsingHeader::new(RichText::new("3  Training").heading())
                .default_open(true)
                .show(ui, |ui| model::training_settings(self, ui));
        });
    }

    /// The controls, the cross-validation, progress, coach and charts.
    fn live(
        &mut self,
        ui: &mut Ui,
        commands: &mut Commands,
        presenting: bool,
        cv: Option<&CrossValidation>,
    ) {
        ui.heading("Training");
        let state = self.history.as_ref().map(|h| h.state.clone());
        ui.horizontal(|ui| {
            let running = matches!(state, Some(JobState::Running | JobState::Preparing));
            let paused = matches!(state, Some(JobState::Paused));
            let can_start = !running && !paused && self.preview_ready();
            if ui
                .add_enabled(can_start, egui::Button::new(RichText::new("Start training").strong()))
                .on_disabled_hover_text("The dataset must be ready first (see its messages).")
                .clicked()
            {
                commands.push(AppCommand::StartTraining);
            }
            if ui
                .add_enabled(running, egui::Button::new("Pause"))
                .clicked()
            {
                commands.push(AppCommand::Training(Command::Pause));
            }
            if ui
                .add_enabled(paused, egui::Button::new("Resume"))
                .clicked()
            {
                commands.push(AppCommand::Training(Command::Resume));
            }
            if ui
                .add_enabled(running || paused, egui::Button::new("Stop"))
                .on_hover_text("End training now: the best epoch so far is kept, evaluated on the test set and saved.")
                .clicked()
            {
                commands.push(AppCommand::Training(Command::Stop));
            }
            if ui
                .add_enabled(running || paused, egui::Button::new("Cancel"))
                .on_hover_text("Abandon this run: nothing is evaluated.")
                .clicked()
            {
                commands.push(AppCommand::Training(Command::Cancel));
            }
        });
        let can_start = !self.is_training() && self.preview_ready();
        ui.add_enabled(
            !self.is_training(),
            egui::Checkbox::new(&mut self.live_map, "Show the map as it learns"),
        )
        .on_hover_text("Every few epochs, map the validation windows (at most 500) as the network's last layer before the decision sees them, so that one can watch the classes come apart. Costs a little time every few epochs; set before starting.");
        cv::ui(ui, &mut self.cv_folds, can_start, cv, commands);
        let Some(h) = &self.history else {
            ui.label(
                "Choose the data and a model, then press Start. The charts fill in as the network learns.",
            );
            return;
        };
        ui.add(
            egui::ProgressBar::new(h.progress() as f32)
                .show_percentage()
                .text(progress_text(h)),
        );
        if let Some(start) = &h.start {
            ui.label(
                RichText::new(format!(
                    "{} windows to learn from, {} to validate, {} to test · {} parameters · {}",
                    start.n_train,
                    start.n_validation,
                    start.n_test,
                    start.model.trainable_params,
                    start.device
                ))
                .weak(),
            );
        }
        match &h.state {
            JobState::Failed(f) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Training failed: {f}"));
            }
            JobState::Cancelled => {
                ui.label("Cancelled: nothing was evaluated.");
            }
            JobState::Finished(o) => {
                if let Some(t) = &o.test {
                    let big = if presenting { 28.0 } else { 20.0 };
                    ui.label(
                        RichText::new(format!(
                            "Test accuracy {:.0}%  ·  chance {:.0}%",
                            t.accuracy * 100.0,
                            t.chance_level * 100.0
                        ))
                        .size(big)
                        .strong(),
                    );
                    ui.label(&t.verdict);
                }
                if let Some(r) = &o.test_regression {
                    ui.label(
                        RichText::new(format!(
                            "Test R² {}  ·  r {}",
                            r.r2.map_or("-".into(), |v| format!("{v:.2}")),
                            r.r.map_or("-".into(), |v| format!("{v:.2}"))
                        ))
                        .strong(),
                    );
                }
                if ui.button("See the results").clicked() {
                    commands.push(AppCommand::ShowTab(super::command::Tab::Results));
                }
            }
            _ => {}
        }
        let advice = advise(&h.epochs, h.chance_level());
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Coach:").strong());
            ui.label(advice.sentence);
        });
        if let Some(kept) = h.kept_weights() {
            ui.label(RichText::new(kept).weak());
        }
        for n in h.notes.iter().take(3) {
            ui.label(RichText::new(n).weak());
        }
        for w in h.warnings.iter().take(5) {
            ui.colored_label(ui.visuals().warn_fg_color, w);
        }
        training_charts(ui, h, presenting, commands);
        match &h.live_map {
            Some(map) => super::explain::live_map(ui, map),
            None if self.live_map && !h.state.is_over() => {
                ui.label(RichText::new("The map of the validation windows appears here once the network has looked at them.").weak());
            }
            None => {}
        }
        glossary::row(ui, &["overfitting", "validation set", "chance level"]);
    }

    fn preview_ready(&self) -> bool {
        matches!(*self.preview, PreviewState::Ready(_)) && !self.preview_is_stale()
    }
}

fn progress_text(h: &RunHistory) -> String {
    let epoch = h.epochs.len();
    let state = match &h.state {
        JobState::Preparing => "preparing the data".to_string(),
        JobState::Running => format!(
            "epoch {} of {}",
            (epoch + 1).min(h.epochs_planned),
            h.epochs_planned
        ),
        JobState::Paused => format!("paused after epoch {epoch}"),
        JobState::Finished(o) => {
            format!("done: {} epochs in {:.1} s", o.epochs_run, o.train_seconds)
        }
        JobState::Failed(_) => "failed".into(),
        JobState::Cancelled => "cancelled".into(),
    };
    match h.seconds_left() {
        Some(s) if matches!(h.state, JobState::Running) => format!("{state} · about {s:.0} s left"),
        _ => state,
    }
}

/// See [`TrainingPanel::recording_folders`].
fn recording_folders(sources: &[Source]) -> Vec<(PathBuf, String)> {
    let mut folders: Vec<(PathBuf, String)> = Vec::new();
    for s in sources.iter().filter(|s| !s.audio_folder && s.labels > 0) {
        let Some(parent) = s.path.parent() else {
            continue;
        };
        if folders.iter().all(|(f, _)| f != parent) {
            let name = Path::new(&s.name)
                .parent()
                .map_or_else(String::new, |p| p.display().to_string());
            folders.push((parent.to_path_buf(), name));
        }
    }
    folders
}

/// The folder of the first labeled recording (audio folders aside).
fn first_labeled_folder(sources: &[Source]) -> Option<PathBuf> {
    recording_folders(sources)
        .into_iter()
        .next()
        .map(|(f, _)| f)
}

/// Narrows a scroll area's contents by the width of its scroll bar, which
/// floats over them: text wraps before the bar instead of under it (the
/// area itself keeps its width: `auto_shrink([false, true])`).
fn clear_of_scroll_bar(ui: &mut Ui) {
    let bar = &ui.spacing().scroll;
    let bar_w = bar.bar_inner_margin + bar.bar_width + bar.bar_outer_margin;
    ui.set_max_width((ui.available_width() - bar_w).max(0.0));
}
