//! The app shell's drawing: the window's panels, menus, tab bar and status
//! bar, and the viewer with its toolbar.

use std::path::Path;

use eframe::egui::{self, Key, Modifiers, RichText, Ui, ViewportCommand};
use spindle_signals::dsp::format_hms;
use spindle_signals::recording::{LabelSource, RECORDING_EXTENSIONS};

use crate::gui::about;
use crate::gui::channels;
use crate::gui::command::{AppCommand, Tab};
use crate::gui::explain::Overlay;
use crate::gui::frame_stats::FrameStats;
use crate::gui::keys;
use crate::gui::settings::ThemeChoice;
use crate::gui::start::{self, StartChoice};
use crate::gui::viewer::{self, ViewerContext};
use crate::gui::worker::Command;

use super::SpindleApp;

impl SpindleApp {
    /// Draws the whole window into `ui`.
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let zoom = if self.presenting { 1.35 } else { 1.0 };
        if (ctx.zoom_factor() - zoom).abs() > 1e-3 {
            ctx.set_zoom_factor(zoom);
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F5)) {
            self.presenting = !self.presenting;
        }
        if self.tab == Tab::Viewer
            && let Some(s) = &mut self.session
        {
            keys::handle(
                &ctx,
                s,
                &self.scheme,
                self.settings.page_s,
                &mut self.commands,
            );
            if !ctx.egui_wants_keyboard_input()
                && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::N))
            {
                self.next_disagreement();
            }
            if !ctx.egui_wants_keyboard_input()
                && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Space))
            {
                let request = self.listening.toggle();
                self.listen(request);
            }
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::S)) {
            self.save_labels_in_place();
        }
        egui::Panel::top("menu_bar").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::top("tab_bar").show(ui, |ui| self.tab_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        let viewer = self.tab == Tab::Viewer;
        if viewer && !self.presenting {
            egui::Panel::left("browser_panel")
                .resizable(true)
                .default_size(250.0)
                .show(ui, |ui| {
                    let open = self.session.as_ref().map(|s| s.recording.path.clone());
                    if let Some(path) = self.browser.ui(ui, open.as_deref()) {
                        self.commands.push(AppCommand::Open(path));
                    }
                });
        }
        if viewer && self.settings.show_labels && !self.presenting {
            egui::Panel::right("labels_panel")
                .resizable(true)
                .default_size(350.0)
                .min_size(330.0)
                .show(ui, |ui| {
                    self.suggestions_ui(ui);
                    let out = self.labels_panel.ui(
                        ui,
                        self.session.as_mut(),
                        &mut self.scheme,
                        self.settings.page_s,
                        &mut self.commands,
                        |ui, s| {
                            egui::CollapsingHeader::new("Channels")
                                .default_open(false)
                                .show(ui, |ui| {
                                    egui::ScrollArea::vertical()
                                        .id_salt("channel_scroll")
                                        .max_height(260.0)
                                        .show(ui, |ui| channels::ui(ui, s));
                                });
                        },
                    );
                    if out.scheme_changed {
                        self.save_scheme();
                    }
                });
        }
        if viewer
            && self.settings.show_spectrum
            && let Some(s) = &self.session
        {
            let request = egui::Panel::bottom("spectrum_panel")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| self.spectrum.ui(ui, s))
                .inner;
            if let Some(request) = request {
                let command = Command::Spectra(s.recording.clone(), s.samples.clone(), request);
                self.send_work(command);
            }
        }
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            Tab::Viewer => self.viewer(ui),
            Tab::Train => self.training.ui(ui, &mut self.commands, self.presenting),
            Tab::Results => {
                let open = self.session.as_ref().map(|s| s.recording.path.clone());
                self.results.ui(
                    ui,
                    self.result_run.as_ref(),
                    open.as_deref(),
                    &mut self.commands,
                    self.presenting,
                )
            }
            Tab::Explain => self
                .explain
                .ui(ui, self.result_run.as_ref(), &mut self.commands),
            Tab::Runs => self.runs.ui(ui, &mut self.commands),
        });
        if !self.commands.is_empty() {
            ctx.request_repaint();
        }

        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop"),
            ));
            let rect = ctx.content_rect();
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop recordings or folders to open them",
                egui::FontId::proportional(22.0),
                egui::Color32::WHITE,
            );
        }
        if self.show_frame_stats {
            let report = self
                .frame_stats
                .as_ref()
                .map_or_else(String::new, FrameStats::report);
            egui::Window::new("Frame times")
                .open(&mut self.show_frame_stats)
                .show(&ctx, |ui| {
                    ui.label("CPU time per frame; under 16 ms keeps the window smooth.");
                    for line in report.lines() {
                        ui.monospace(line);
                    }
                });
        }
        if self.show_help {
            egui::Window::new("Keyboard and mouse")
                .open(&mut self.show_help)
                .show(&ctx, |ui| {
                    for line in HELP {
                        ui.label(*line);
                    }
                });
        }
    }

    /// The suggestions for the open recording, above the label table.
    pub(super) fn suggestions_ui(&mut self, ui: &mut Ui) {
        let open = self.open_recording().map(Path::to_path_buf);
        let Some((file, list)) = &mut self.suggestions else {
            return;
        };
        if open.as_ref() != Some(file) {
            return;
        }
        let before = list.items.len();
        let edit = crate::gui::suggestions::ui(ui, list);
        if list.items.len() != before {
            self.suggestions_generation += 1;
        }
        if list.items.is_empty() {
            self.suggestions = None;
        }
        ui.separator();
        if let (Some(edit), Some(s)) = (edit, &mut self.session) {
            let now = ui.input(|i| i.time);
            if let Err(e) = s.apply(edit, now) {
                self.errors.push(e);
            }
        }
    }

    pub(super) fn tab_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                let title = match tab {
                    Tab::Train if self.training.is_training() => "Train (running)".to_string(),
                    Tab::Explain if self.explain.is_running() => "Explain (running)".to_string(),
                    _ => tab.title().to_string(),
                };
                if ui
                    .selectable_label(self.tab == tab, RichText::new(title).size(15.0))
                    .clicked()
                {
                    self.tab = tab;
                    if tab == Tab::Runs {
                        self.commands.push(AppCommand::RefreshRuns);
                    }
                }
            }
            ui.separator();
            if ui
                .add_enabled(
                    !self.training.is_training(),
                    egui::Button::new("Demo: train on the sample EEG"),
                )
                .on_hover_text("Opens the bundled EEG, trains a small EEGNet and shows how well it does, in under half a minute.")
                .clicked()
            {
                self.commands.push(AppCommand::StartDemo);
            }
            if self.presenting && ui.button("Leave presentation mode").clicked() {
                self.presenting = false;
            }
        });
    }

    pub(super) fn viewer(&mut self, ui: &mut Ui) {
        let Some(s) = &mut self.session else {
            if self.loading.is_none() && self.browser.root.is_none() {
                match start::ui(ui, &self.settings.recent) {
                    Some(StartChoice::Open(p)) => self.open_path(&p),
                    Some(StartChoice::Demo) => self.commands.push(AppCommand::StartDemo),
                    Some(StartChoice::NoSampleData(why)) => self.notice = Some(why),
                    None => {}
                }
                return;
            }
            ui.centered_and_justified(|ui| {
                if let Some(p) = &self.loading {
                    ui.label(format!("Opening {}…", p.display()));
                } else {
                    ui.label("Choose a recording on the left, or open one with File > Open file.");
                }
            });
            return;
        };
        viewer::toolbar(ui, s, &mut self.settings, &self.scheme);
        let names: Vec<String> = s
            .recording
            .channels
            .iter()
            .map(|c| c.label.clone())
            .collect();
        let audio = s.is_audio();
        let request = ui
            .horizontal(|ui| self.listening.ui(ui, &names, audio))
            .inner;
        if let Some(r) = request {
            self.listen(r);
        }
        let Some(s) = &mut self.session else { return };
        if let Some(class) = &s.class {
            ui.label(RichText::new(format!("Audio file of class `{class}`")).strong());
        }
        if !self.heat.is_empty() {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new("Red tint: how much each moment of each channel moved the network's output (saliency, from the Explain view)")
                        .small(),
                );
                if ui.small_button("Hide saliency").clicked() {
                    self.explain.overlay = Overlay::Off;
                }
            });
        }
        let Some(s) = &mut self.session else { return };
        let now_s = ui.input(|i| i.time);
        let cx = ViewerContext {
            scheme: &self.scheme,
            filter: self.settings.filter,
            page_s: self.settings.page_s,
            now_s,
            commands: &mut self.commands,
            ribbons: &self.ribbons,
            heat: &self.heat,
            cursor_s: self.listening.position_s(),
        };
        viewer::traces(ui, s, cx);
        if let Some(range) = s.span_to_warm() {
            let command = Command::Warm(s.samples.clone(), 0, range);
            // Reading ahead is a favour: a full queue just skips it.
            let _ = self.workers.send(command);
        }
        if let Some(since) = self.opening_since
            && s.traces.iter().any(|t| !t.pieces.is_empty())
        {
            self.opening_since = None;
            if self.print_frame_stats {
                eprintln!(
                    "{}: first traces drawn {:.3} s after the open command (reading and preparing: {:.3} s)",
                    s.recording.path.display(),
                    since.elapsed().as_secs_f64(),
                    s.load_s
                );
            }
        }
    }

    pub(super) fn menu_bar(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file…").clicked() {
                    ui.close();
                    if let Some(p) = rfd::FileDialog::new()
                        .add_filter("Recordings", RECORDING_EXTENSIONS)
                        .pick_file()
                    {
                        self.open_path(&p);
                    }
                }
                if ui.button("Open folder…").clicked() {
                    ui.close();
                    if let Some(p) = rfd::FileDialog::new().pick_folder() {
                        self.open_path(&p);
                    }
                }
                ui.menu_button("Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.label("nothing yet");
                    }
                    for p in self.settings.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open_path(&p);
                        }
                    }
                });
                ui.separator();
                if ui
                    .add_enabled(self.session.is_some(), egui::Button::new("Save labels"))
                    .on_hover_text("Ctrl+S")
                    .clicked()
                {
                    ui.close();
                    self.save_labels_in_place();
                }
                if ui
                    .add_enabled(
                        self.session.is_some(),
                        egui::Button::new("Export EDF+ with labels…"),
                    )
                    .clicked()
                {
                    ui.close();
                    self.export();
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.radio_value(
                    &mut self.settings.theme,
                    ThemeChoice::System,
                    "System theme",
                );
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Light, "Light");
                ui.radio_value(&mut self.settings.theme, ThemeChoice::Dark, "Dark");
                ui.separator();
                ui.checkbox(&mut self.settings.show_labels, "Labels panel");
                ui.checkbox(&mut self.settings.show_spectrum, "Spectrum panel");
                ui.separator();
                ui.checkbox(&mut self.presenting, "Presentation mode (F5)");
                if ui.button("Frame times").clicked() {
                    ui.close();
                    self.frame_stats.get_or_insert_with(FrameStats::default);
                    self.show_frame_stats = true;
                }
                ui.separator();
                for tab in Tab::ALL {
                    if ui.button(tab.title()).clicked() {
                        ui.close();
                        self.commands.push(AppCommand::ShowTab(tab));
                    }
                }
            });
            ui.menu_button("Training", |ui| {
                if ui.button("Run the demo").clicked() {
                    ui.close();
                    self.commands.push(AppCommand::StartDemo);
                }
                if ui.button("Runs folder…").clicked() {
                    ui.close();
                    if let Some(dir) = rfd::FileDialog::new()
                        .set_directory(&self.runs_dir)
                        .pick_folder()
                    {
                        self.settings.runs_dir = Some(dir.clone());
                        self.runs_dir = dir.clone();
                        self.runs.dir = dir;
                        self.commands.push(AppCommand::RefreshRuns);
                    }
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("User guide").clicked() {
                    ui.close();
                    about::open_guide(ui.ctx());
                }
                if ui.button("Keyboard and mouse").clicked() {
                    ui.close();
                    self.show_help = true;
                }
                if ui.button("About Spindle").clicked() {
                    ui.close();
                    about::open(ui.ctx());
                }
            });
            about::show(ui.ctx());
        });
    }

    pub(super) fn status_bar(&mut self, ui: &mut Ui) {
        let mut dismiss = None;
        for (i, e) in self.errors.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui
                    .small_button("x")
                    .on_hover_text("Dismiss this message")
                    .clicked()
                {
                    dismiss = Some(i);
                }
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            });
        }
        if let Some(i) = dismiss {
            self.errors.remove(i);
        }
        if let Some(s) = &self.session {
            crate::gui::recovery::ui(ui, s, &mut self.commands);
        }
        ui.horizontal(|ui| {
            if let Some(p) = &self.loading {
                ui.spinner();
                ui.label(format!("opening {}", p.display()));
            }
            if let Some(s) = &self.session {
                let r = &s.recording;
                let name = r
                    .path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let source = match &s.source {
                    LabelSource::Sidecar(_) => "labels from events.tsv".to_owned(),
                    LabelSource::FileAnnotations => "labels from file annotations".to_owned(),
                    LabelSource::LabelFile(file) => format!(
                        "labels from {} (edits are saved to events.tsv)",
                        file.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    LabelSource::None => "no labels yet".to_owned(),
                };
                ui.label(format!(
                    "{name} · {} · {} ch · {} · {source}",
                    r.format,
                    r.channels.len(),
                    format_hms(r.duration_s())
                ));
                if r.has_gaps() {
                    ui.label("· has gaps");
                }
                if let Some(e) = &s.last_save_error {
                    ui.colored_label(ui.visuals().error_fg_color, format!("· {e}"))
                        .on_hover_text("Spindle keeps trying at every edit and on exit; fix the folder's permissions or disk space, or use File > Save labels.");
                }
                if let Some(e) = &s.journal_error {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("· {e}"))
                        .on_hover_text("Edits are still saved to the labels file; only the crash journal beside it is missing.");
                }
            }
            if let Some(n) = &self.notice {
                ui.label(RichText::new(n).weak());
            }
        });
    }
}

const HELP: &[&str] = &[
    "Left / Right: scroll 10%    Page Up / Down: scroll a page    Home / End",
    "+ / -: zoom in / out in time    Ctrl+wheel: zoom at the pointer    wheel: scroll",
    "Up / Down: gain    right-drag or drag the time axis: scroll",
    "Drag on the traces: new label of the current class    drag an edge: resize",
    "Click: select    Shift+click: point marker    Delete: remove the selection",
    "1-9: relabel the selection, or choose the class for new labels",
    "Epoch scoring: 1-9 labels the page and moves to the next",
    "Ctrl+Z: undo    Ctrl+Shift+Z: redo    Ctrl+S: save (autosave runs within 2 s)",
    "N: next window where the open run's prediction disagrees with the label",
    "Space: listen to the visible span (EEG sped up 60 times)",
    "F5: presentation mode",
];
