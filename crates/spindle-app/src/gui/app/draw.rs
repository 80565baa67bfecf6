//! The app shell's drawing: the window's panels, menus, tab bar and status
//! bar, and the viewer with its toolbar.

use std::path::Path;

use eframe::egui::{self, Key, Modifiers, RichText, Ui, ViewportCommand};
use spindle_signals::dsp::format_hms;
use spindle_signals::io_guard::UiThread;
use spindle_signals::recording::LabelSource;

use crate::gui::about;
use crate::gui::channels;
use crate::gui::command::{AppCommand, Pick, Tab};
use crate::gui::compare;
use crate::gui::explain::Overlay;
use crate::gui::frame_stats::FrameStats;
use crate::gui::hypnogram;
use crate::gui::keys;
use crate::gui::settings::ThemeChoice;
use crate::gui::start::{self, StartChoice};
use crate::gui::viewer::{self, ViewerContext};

use super::SpindleApp;

impl SpindleApp {
    /// The window's keys: F5 (presentation), the viewer's keys and
    /// shortcuts (N, Space), Ctrl+S.
    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F5)) {
            self.shell.presenting = !self.shell.presenting;
        }
        if self.shell.tab == Tab::Viewer {
            self.review_keys(ctx);
        }
        if self.shell.tab == Tab::Viewer
            && let Some(s) = &mut self.recording.session
        {
            let kx = keys::KeyContext {
                scheme: &self.recording.scheme,
                page_s: self.shell.settings.page_s,
                auto_advance: self.shell.settings.auto_advance,
            };
            keys::handle(ctx, s, &kx, &mut self.commands);
            if !ctx.egui_wants_keyboard_input()
                && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::N))
            {
                self.next_disagreement();
            }
            if !ctx.egui_wants_keyboard_input() && self.recording.comparison().is_some() {
                // Shift+D first: D alone matches it too.
                if ctx.input_mut(|i| i.consume_key(Modifiers::SHIFT, Key::D)) {
                    self.commands
                        .push(AppCommand::StepDisagreement { forward: false });
                } else if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::D)) {
                    self.commands
                        .push(AppCommand::StepDisagreement { forward: true });
                }
            }
            if !ctx.egui_wants_keyboard_input()
                && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Space))
            {
                let request = self.recording.listening.toggle();
                self.commands.push(AppCommand::Listen(request));
            }
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::S)) {
            self.save_labels_in_place();
        }
    }

    /// Draws the whole window into `ui`. Runs marked as the UI thread
    /// ([`UiThread`]): it touches no file.
    pub fn show(&mut self, ui: &mut Ui) {
        let _ui = UiThread::enter();
        let ctx = ui.ctx().clone();
        let zoom = if self.shell.presenting { 1.35 } else { 1.0 };
        if (ctx.zoom_factor() - zoom).abs() > 1e-3 {
            ctx.set_zoom_factor(zoom);
        }
        self.shortcuts(&ctx);
        egui::Panel::top("menu_bar").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::top("tab_bar").show(ui, |ui| self.tab_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        let viewer = self.shell.tab == Tab::Viewer;
        if viewer && !self.shell.presenting {
            egui::Panel::left("browser_panel")
                .resizable(true)
                .default_size(250.0)
                .show(ui, |ui| {
                    let open = self.recording.path().map(Path::to_path_buf);
                    self.shell
                        .browser
                        .ui(ui, open.as_deref(), &mut self.commands);
                });
        }
        if viewer && self.shell.settings.show_labels && !self.shell.presenting {
            egui::Panel::right("labels_panel")
                .resizable(true)
                .default_size(350.0)
                .min_size(330.0)
                .show(ui, |ui| {
                    self.suggestions_ui(ui);
                    self.recording.labels_panel.ui(
                        ui,
                        self.recording.session.as_mut(),
                        &mut self.recording.scheme,
                        self.shell.settings.page_s,
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
                });
        }
        if viewer
            && self.shell.settings.show_spectrum
            && let Some(s) = &self.recording.session
        {
            egui::Panel::bottom("spectrum_panel")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| {
                    self.recording.spectrum.ui(ui, s, &mut self.commands);
                });
        }
        egui::CentralPanel::default().show(ui, |ui| match self.shell.tab {
            Tab::Viewer => self.viewer(ui),
            Tab::Train => self.training.panel.ui(
                ui,
                &mut self.commands,
                self.shell.presenting,
                self.training.cv.as_ref(),
            ),
            Tab::Results => {
                let open = self.recording.path().map(Path::to_path_buf);
                self.runs.results.ui(
                    ui,
                    self.runs.result_run.as_ref(),
                    open.as_deref(),
                    &self.derived.test_nights,
                    &mut self.commands,
                    self.shell.presenting,
                )
            }
            Tab::Explain => {
                self.training
                    .explain
                    .ui(ui, self.runs.result_run.as_ref(), &mut self.commands)
            }
            Tab::Runs => self.runs.panel.ui(ui, &mut self.commands),
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
        if self.shell.show_frame_stats {
            let report = self
                .shell
                .frame_stats
                .as_ref()
                .map_or_else(String::new, FrameStats::report);
            egui::Window::new("Frame times")
                .open(&mut self.shell.show_frame_stats)
                .show(&ctx, |ui| {
                    ui.label("CPU time per frame; under 16 ms keeps the window smooth.");
                    for line in report.lines() {
                        ui.monospace(line);
                    }
                });
        }
        if self.shell.show_help {
            egui::Window::new("Keyboard and mouse")
                .open(&mut self.shell.show_help)
                .show(&ctx, |ui| {
                    for line in HELP {
                        ui.label(*line);
                    }
                });
        }
    }

    /// The suggestions for the open recording, above the label table.
    pub(super) fn suggestions_ui(&mut self, ui: &mut Ui) {
        let Some((file, list)) = self.recording.suggestions.as_ref() else {
            return;
        };
        if self.recording.path() != Some(file.as_path()) {
            return;
        }
        crate::gui::suggestions::ui(ui, list, &mut self.commands);
        ui.separator();
    }

    pub(super) fn tab_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                let title = match tab {
                    Tab::Train if self.training.panel.is_training() => "Train (running)".to_string(),
                    Tab::Explain if self.training.explain.is_running() => "Explain (running)".to_string(),
                    _ => tab.title().to_string(),
                };
                if ui
                    .selectable_label(self.shell.tab == tab, RichText::new(title).size(15.0))
                    .clicked()
                {
                    self.shell.tab = tab;
                    if tab == Tab::Runs {
                        self.commands.push(AppCommand::RefreshRuns);
                    }
                }
            }
            ui.separator();
            if ui
                .add_enabled(
                    !self.training.panel.is_training(),
                    egui::Button::new("Demo: train on the sample EEG"),
                )
                .on_hover_text("Opens the bundled EEG, trains a small EEGNet and shows how well it does, in under half a minute.")
                .clicked()
            {
                self.commands.push(AppCommand::StartDemo);
            }
            if ui
                .add_enabled(
                    !self.training.panel.is_training(),
                    egui::Button::new("Demo: predict a number"),
                )
                .on_hover_text("Opens the bundled reaction-time recordings and trains EEGNet to predict the reaction time from the alpha rhythm (regression: predicted against true, r, R² and the error in seconds), in about half a minute.")
                .clicked()
            {
                self.commands.push(AppCommand::StartRegressionDemo);
            }
            if self.shell.presenting && ui.button("Leave presentation mode").clicked() {
                self.shell.presenting = false;
            }
        });
    }

    pub(super) fn viewer(&mut self, ui: &mut Ui) {
        let Some(s) = &mut self.recording.session else {
            if self.recording.loading.is_none() && self.shell.browser.root.is_none() {
                match start::ui(ui, &self.shell.settings.recent) {
                    Some(StartChoice::Open(p)) => self.open_path(&p),
                    Some(StartChoice::Demo) => self.commands.push(AppCommand::StartDemo),
                    Some(StartChoice::NoSampleData(why)) => self.shell.notice = Some(why),
                    None => {}
                }
                return;
            }
            ui.centered_and_justified(|ui| {
                if let Some(p) = &self.recording.loading {
                    ui.label(format!("Opening {}…", p.display()));
                } else {
                    ui.label("Choose a recording on the left, or open one with File > Open file.");
                }
            });
            return;
        };
        viewer::toolbar(
            ui,
            s,
            &mut self.shell.settings,
            &self.recording.scheme,
            &mut self.commands,
        );
        let names: Vec<String> = s
            .recording
            .channels
            .iter()
            .map(|c| c.label.clone())
            .collect();
        let audio = s.is_audio();
        ui.horizontal(|ui| {
            self.recording
                .listening
                .ui(ui, &names, audio, &mut self.commands);
        });
        let Some(s) = &mut self.recording.session else {
            return;
        };
        if let Some(class) = &s.class {
            ui.label(RichText::new(format!("Audio file of class `{class}`")).strong());
        }
        if !self.derived.heat.is_empty() {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new("Red tint: how much each moment of each channel moved the network's output (saliency, from the Explain view)")
                        .small(),
                );
                if ui.small_button("Hide saliency").clicked() {
                    self.training.explain.overlay = Overlay::Off;
                }
            });
        }
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let comparison = self
            .recording
            .comparison
            .as_ref()
            .filter(|c| c.recording == s.recording.path);
        let layer =
            comparison
                .zip(self.derived.agreement.as_ref())
                .map(|(comparison, agreement)| hypnogram::Layer {
                    comparison,
                    agreement,
                });
        hypnogram::ui(
            ui,
            self.derived.night.as_ref(),
            layer,
            s,
            &self.recording.scheme,
            self.shell.settings.page_s,
        );
        match comparison {
            Some(c) => compare::bar(
                ui,
                c,
                self.derived.agreement.as_ref(),
                self.recording.review.as_ref(),
                &mut self.commands,
            ),
            None if self.derived.night.is_some() || s.epoch_mode => {
                let stager = self.sleep_run_shown();
                compare::offer(ui, stager, &mut self.commands);
            }
            None => {}
        }
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let now_s = ui.input(|i| i.time);
        let cx = ViewerContext {
            scheme: &self.recording.scheme,
            filter: self.shell.settings.filter,
            page_s: self.shell.settings.page_s,
            now_s,
            commands: &mut self.commands,
            ribbons: &self.derived.ribbons,
            heat: &self.derived.heat,
            cursor_s: self.recording.listening.position_s(),
        };
        viewer::traces(ui, s, cx);
        self.ask_for_the_view();
        let Some(s) = &self.recording.session else {
            return;
        };
        if let Some(since) = self.recording.opening_since
            && s.traces.iter().any(|t| !t.pieces.is_empty())
        {
            self.recording.opening_since = None;
            if let Some(stats) = &mut self.shell.frame_stats {
                stats.first_traces_drawn();
            }
            if self.shell.print_frame_stats {
                eprintln!(
                    "{}: first traces drawn {:.3} s after the open command (reading and preparing: {:.3} s)",
                    s.recording.path.display(),
                    since.elapsed().as_secs_f64(),
                    s.load_s
                );
            }
        }
    }

    /// Asks the read lane for what the view drew without: samples read on
    /// demand not in the cache yet (then the time around the view, ahead),
    /// and the display-filtered span.
    fn ask_for_the_view(&mut self) {
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let missing = s
            .missing
            .clone()
            .filter(|m| s.requested.as_ref() != Some(m));
        let ahead = if missing.is_none() {
            s.span_to_warm()
        } else {
            None
        };
        // One filtering at a time; the view's latest wish follows it.
        let filter = s.filtered.wanted.filter(|_| s.filtered.pending.is_none());
        if let Some((channel, range)) = missing {
            // What the view needs now: asked again next frame when the queue is full.
            if self.warm(channel, range.clone(), true)
                && let Some(s) = &mut self.recording.session
            {
                s.requested = Some((channel, range));
            }
        } else if let Some(range) = ahead {
            // Reading ahead is a favour: a full queue just skips it.
            self.warm(0, range, false);
        }
        if let Some(key) = filter {
            self.filter_view(key);
        }
    }

    pub(super) fn menu_bar(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file…").clicked() {
                    ui.close();
                    self.commands.push(AppCommand::Pick(Pick::Recording));
                }
                if ui.button("Open folder…").clicked() {
                    ui.close();
                    self.commands.push(AppCommand::Pick(Pick::Folder));
                }
                ui.menu_button("Recent", |ui| {
                    if self.shell.settings.recent.is_empty() {
                        ui.label("nothing yet");
                    }
                    for p in self.shell.settings.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open_path(&p);
                        }
                    }
                });
                ui.separator();
                if ui
                    .add_enabled(
                        self.recording.session.is_some(),
                        egui::Button::new("Save labels"),
                    )
                    .on_hover_text("Ctrl+S")
                    .clicked()
                {
                    ui.close();
                    self.save_labels_in_place();
                }
                if ui
                    .add_enabled(
                        self.recording.session.is_some(),
                        egui::Button::new("Compare with another scoring…"),
                    )
                    .on_hover_text("Another scorer's events.tsv, EDF+ hypnogram or CSV of this recording, shown beside your labels")
                    .clicked()
                {
                    ui.close();
                    self.commands.push(AppCommand::Pick(Pick::Comparison));
                }
                if ui
                    .add_enabled(
                        self.recording.session.is_some(),
                        egui::Button::new("Export EDF+ with labels…"),
                    )
                    .clicked()
                {
                    ui.close();
                    self.commands.push(AppCommand::Pick(Pick::ExportEdf));
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.radio_value(
                    &mut self.shell.settings.theme,
                    ThemeChoice::System,
                    "System theme",
                );
                ui.radio_value(&mut self.shell.settings.theme, ThemeChoice::Light, "Light");
                ui.radio_value(&mut self.shell.settings.theme, ThemeChoice::Dark, "Dark");
                ui.separator();
                ui.checkbox(&mut self.shell.settings.show_labels, "Labels panel");
                ui.checkbox(&mut self.shell.settings.show_spectrum, "Spectrum panel");
                ui.separator();
                ui.checkbox(&mut self.shell.presenting, "Presentation mode (F5)");
                if ui.button("Frame times").clicked() {
                    ui.close();
                    self.shell
                        .frame_stats
                        .get_or_insert_with(FrameStats::default);
                    self.shell.show_frame_stats = true;
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
                if ui
                    .button("Run the regression demo")
                    .on_hover_text("Predicts a number: the reaction time from the alpha rhythm of the bundled reaction_time recordings (about half a minute).")
                    .clicked()
                {
                    ui.close();
                    self.commands.push(AppCommand::StartRegressionDemo);
                }
                if ui.button("Runs folder…").clicked() {
                    ui.close();
                    self.commands.push(AppCommand::Pick(Pick::RunsFolder));
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("User guide").clicked() {
                    ui.close();
                    about::open_guide(ui.ctx());
                }
                if ui.button("Keyboard and mouse").clicked() {
                    ui.close();
                    self.shell.show_help = true;
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
        for (i, e) in self.shell.errors.iter().enumerate() {
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
            self.shell.errors.remove(i);
        }
        if let Some(s) = &self.recording.session {
            crate::gui::recovery::ui(ui, s, &mut self.commands);
        }
        ui.horizontal(|ui| {
            if let Some(p) = &self.recording.loading {
                ui.spinner();
                ui.label(format!("opening {}", p.display()));
            }
            if let Some(s) = &self.recording.session {
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
            if let Some(n) = &self.shell.notice {
                ui.label(RichText::new(n).weak());
            }
        });
    }
}

const HELP: &[&str] = &[
    "Left / Right: scroll 10%    Page Up / Down: scroll a page    Home / End",
    "+ / -: zoom in / out in time    Ctrl+wheel: zoom at the pointer    wheel: scroll",
    "Up / Down: gain    wheel over a channel's name: its gain    right-drag or drag the time axis: scroll",
    "Drag on the traces: new label of the current class    drag an edge: resize",
    "Click: select    Shift+click: point marker    Delete: remove the selection",
    "1-9: relabel the selection, or choose the class for new labels",
    "Epoch scoring: 1-9 labels the page and moves to the next (unless Advance after scoring is off)",
    "Hypnogram strip: click or drag to go to that time of the night",
    "Ctrl+Z: undo    Ctrl+Shift+Z: redo    Ctrl+S: save (autosave runs within 2 s)",
    "N: next window where the open run's prediction disagrees with the label",
    "D / Shift+D: next / previous epoch where the comparison layer disagrees with your scoring",
    "Review least confident: Enter or A accepts the model's stage, a stage key corrects it",
    "Space: listen to the visible span (EEG sped up 60 times)",
    "F5: presentation mode",
];
