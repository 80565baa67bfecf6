//! The app shell: menus, panels, the status bar, worker events, autosave,
//! drag and drop, theme and persistence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::{self, Key, Modifiers, RichText, ThemePreference, Ui, ViewportCommand};

use super::browser::Browser;
use super::channels;
use super::keys;
use super::labels::LabelsPanel;
use super::session::Session;
use super::settings::{Settings, ThemeChoice};
use super::spectrum::SpectrumPanel;
use super::viewer::{self, ViewerContext};
use super::worker::{Command, Entry, Event, Workers};
use crate::dsp::format_hms;
use crate::labeling::LabelScheme;
use crate::recording::{Label, LabelSet, LabelSource, RECORDING_EXTENSIONS};

/// The Spindle desktop app: construct it with [`SpindleApp::new`], then call
/// [`SpindleApp::run_logic`] and [`SpindleApp::show`] every frame (the
/// [`eframe::App`] impl does; so can a test harness).
pub struct SpindleApp {
    settings: Settings,
    workers: Workers,
    browser: Browser,
    session: Option<Session>,
    loading: Option<PathBuf>,
    errors: Vec<String>,
    notice: Option<String>,
    scheme: LabelScheme,
    scheme_folder: Option<PathBuf>,
    labels_panel: LabelsPanel,
    spectrum: SpectrumPanel,
    applied_theme: Option<ThemeChoice>,
    pending: Vec<PathBuf>,
    show_help: bool,
    /// Open the first recording of the scanned folder (startup with folders only).
    auto_open: bool,
}

impl SpindleApp {
    /// An app that opens `paths` (folders are browsed, files opened) on its
    /// first frame, with `settings` restored from the last run.
    pub fn new(paths: Vec<PathBuf>, settings: Settings) -> Self {
        Self {
            settings,
            workers: Workers::spawn(),
            browser: Browser::default(),
            session: None,
            loading: None,
            errors: Vec::new(),
            notice: None,
            scheme: LabelScheme::default(),
            scheme_folder: None,
            labels_panel: LabelsPanel::default(),
            spectrum: SpectrumPanel::default(),
            applied_theme: None,
            auto_open: !paths.is_empty() && paths.iter().all(|p| p.is_dir()),
            pending: paths,
            show_help: false,
        }
    }

    /// The settings (persisted by eframe).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True while a folder scan or a file open is in progress.
    pub fn is_busy(&self) -> bool {
        !self.pending.is_empty() || self.workers.is_busy() || self.loading.is_some()
    }

    /// The open recording's path.
    pub fn open_recording(&self) -> Option<&Path> {
        self.session.as_ref().map(|s| s.recording.path.as_path())
    }

    /// The visible time range of the viewer, seconds.
    pub fn view_range(&self) -> Option<(f64, f64)> {
        self.session.as_ref().map(Session::view_range)
    }

    /// The open recording's labels.
    pub fn labels(&self) -> Option<&LabelSet> {
        self.session.as_ref().map(|s| s.doc.labels())
    }

    /// The selected label.
    pub fn selection(&self) -> Option<&Label> {
        self.session.as_ref().and_then(|s| s.selection.as_ref())
    }

    /// Errors shown in the window.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Names of the channels drawn, in drawing order.
    pub fn visible_channels(&self) -> Vec<String> {
        let Some(s) = &self.session else {
            return Vec::new();
        };
        s.order
            .iter()
            .filter(|&&c| s.channels[c].visible)
            .map(|&c| s.recording.channels[c].label.clone())
            .collect()
    }

    /// The recordings listed in the browser.
    pub fn entries(&self) -> &[Entry] {
        &self.browser.entries
    }

    /// The label classes in use.
    pub fn scheme(&self) -> &LabelScheme {
        &self.scheme
    }

    /// Turns epoch-scoring mode on or off (as the toolbar toggle does).
    pub fn set_epoch_mode(&mut self, on: bool) {
        let page_s = self.settings.page_s;
        if let Some(s) = &mut self.session {
            s.epoch_mode = on;
            if on {
                let page = s.page(page_s);
                s.go_to_page(page, page_s);
            }
        }
    }

    /// Saves the open recording's labels now if they changed.
    pub fn save_labels(&mut self) -> Result<(), String> {
        let Some(s) = &mut self.session else {
            return Ok(());
        };
        s.save()?;
        let (path, n) = (s.recording.path.clone(), s.doc.labels().len());
        self.browser.set_label_count(&path, n);
        Ok(())
    }

    /// Opens a folder (browse it) or a recording (browse its folder and view it).
    pub fn open_path(&mut self, path: &Path) {
        self.settings.push_recent(path);
        if path.is_dir() {
            self.browse(path);
            return;
        }
        let inside = self
            .browser
            .root
            .as_deref()
            .is_some_and(|r| path.starts_with(r));
        if !inside && let Some(parent) = path.parent() {
            self.browse(parent);
        }
        if let Err(e) = self.save_labels() {
            self.errors.push(e);
        }
        match self.workers.send(Command::Open(path.to_path_buf())) {
            Ok(()) => self.loading = Some(path.to_path_buf()),
            Err(e) => self.errors.push(format!("{}: {e}", path.display())),
        }
    }

    fn browse(&mut self, folder: &Path) {
        self.browser.reset(folder);
        if let Err(e) = self.workers.send(Command::Scan(folder.to_path_buf())) {
            self.errors.push(format!("{}: {e}", folder.display()));
        }
        self.scheme_folder = Some(folder.to_path_buf());
        match LabelScheme::load(folder) {
            Ok(scheme) => self.scheme = scheme,
            Err(e) => self.errors.push(e.to_string()),
        }
    }

    /// Drains worker events, applies drops and the theme, and autosaves. Call
    /// once per frame before [`Self::show`].
    pub fn run_logic(&mut self, ctx: &egui::Context) {
        self.workers.set_context(ctx);
        for path in std::mem::take(&mut self.pending) {
            self.open_path(&path);
        }
        if self.applied_theme != Some(self.settings.theme) {
            ctx.set_theme(match self.settings.theme {
                ThemeChoice::System => ThemePreference::System,
                ThemeChoice::Light => ThemePreference::Light,
                ThemeChoice::Dark => ThemePreference::Dark,
            });
            self.applied_theme = Some(self.settings.theme);
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for path in dropped {
            self.open_path(&path);
        }
        for event in self.workers.drain() {
            self.on_event(event);
        }
        let now = ctx.input(|i| i.time);
        if let Some(s) = &mut self.session {
            if s.doc.is_dirty() && s.autosave.is_due(now) {
                match s.save() {
                    Ok(()) => {
                        let (path, n) = (s.recording.path.clone(), s.doc.labels().len());
                        self.browser.set_label_count(&path, n);
                    }
                    Err(e) => {
                        s.autosave.saved();
                        self.errors.push(e);
                    }
                }
            } else if let Some(due) = s.autosave.due_at() {
                ctx.request_repaint_after(Duration::from_secs_f64((due - now).max(0.0)));
            }
        }
        if self.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Found(root, entry) => self.browser.add(&root, entry),
            Event::ScanDone(root) => {
                if self.browser.root.as_deref() == Some(root.as_path()) {
                    self.browser.scanning = false;
                    if std::mem::take(&mut self.auto_open)
                        && self.session.is_none()
                        && self.loading.is_none()
                    {
                        // Prefer a multichannel recording (EEG) over a single audio call.
                        let first = self
                            .browser
                            .entries
                            .iter()
                            .filter(|e| e.error.is_none())
                            .max_by_key(|e| (e.channels > 1, std::cmp::Reverse(e.name.clone())))
                            .map(|e| e.path.clone());
                        if let Some(path) = first {
                            self.open_path(&path);
                        }
                    }
                }
            }
            Event::Opened(loaded) => {
                if self.loading.as_deref() != Some(loaded.recording.path.as_path()) {
                    return; // superseded by a later open
                }
                self.loading = None;
                if let Some(w) = &loaded.warning {
                    self.errors
                        .push(format!("{}: {w}", loaded.recording.path.display()));
                }
                for class in loaded.labels.classes() {
                    self.scheme.ensure(&class);
                }
                if let Some(c) = &loaded.class {
                    self.scheme.ensure(c);
                }
                let session = Session::new(*loaded, self.settings.window_s);
                self.notice = Some(format!("opened in {:.2} s", session.load_s));
                self.spectrum = SpectrumPanel::default();
                if session.is_audio() {
                    self.settings.show_spectrum = true;
                }
                self.session = Some(session);
            }
            Event::Exported(path) => self.notice = Some(format!("exported {}", path.display())),
            Event::Failed(msg) => {
                if self
                    .loading
                    .as_ref()
                    .is_some_and(|p| msg.contains(&p.display().to_string()))
                {
                    self.loading = None;
                }
                self.errors.push(msg);
            }
        }
    }

    fn save_scheme(&mut self) {
        let Some(folder) = &self.scheme_folder else {
            return;
        };
        if let Err(e) = self.scheme.save(folder) {
            self.errors.push(format!("label classes not saved: {e}"));
        }
    }

    /// Draws the whole window into `ui`.
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        if let Some(s) = &mut self.session {
            keys::handle(
                &ctx,
                s,
                &self.scheme,
                self.settings.page_s,
                &mut self.errors,
            );
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::S))
            && let Err(e) = self.save_labels()
        {
            self.errors.push(e);
        }
        egui::Panel::top("menu_bar").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("browser_panel")
            .resizable(true)
            .default_size(250.0)
            .show(ui, |ui| {
                let open = self.session.as_ref().map(|s| s.recording.path.clone());
                if let Some(path) = self.browser.ui(ui, open.as_deref()) {
                    self.open_path(&path);
                }
            });
        if self.settings.show_labels {
            egui::Panel::right("labels_panel")
                .resizable(true)
                .default_size(350.0)
                .min_size(330.0)
                .show(ui, |ui| {
                    let out = self.labels_panel.ui(
                        ui,
                        self.session.as_mut(),
                        &mut self.scheme,
                        self.settings.page_s,
                        &mut self.errors,
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
        if self.settings.show_spectrum
            && let Some(s) = &self.session
        {
            egui::Panel::bottom("spectrum_panel")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| self.spectrum.ui(ui, s));
        }
        egui::CentralPanel::default().show(ui, |ui| self.viewer(ui));

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

    fn viewer(&mut self, ui: &mut Ui) {
        let Some(s) = &mut self.session else {
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
        if let Some(class) = &s.class {
            ui.label(RichText::new(format!("Audio file of class `{class}`")).strong());
        }
        let now_s = ui.input(|i| i.time);
        let cx = ViewerContext {
            scheme: &self.scheme,
            filter: self.settings.filter,
            page_s: self.settings.page_s,
            now_s,
            errors: &mut self.errors,
        };
        viewer::traces(ui, s, cx);
    }

    fn menu_bar(&mut self, ui: &mut Ui) {
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
                    if let Err(e) = self.save_labels() {
                        self.errors.push(e);
                    }
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
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Keyboard and mouse").clicked() {
                    ui.close();
                    self.show_help = true;
                }
            });
        });
    }

    fn export(&mut self) {
        let Some(s) = &self.session else { return };
        let stem = s
            .recording
            .path
            .file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(path) = rfd::FileDialog::new()
            .set_file_name(format!("{stem}-labeled.edf"))
            .add_filter("EDF+", &["edf"])
            .save_file()
        else {
            return;
        };
        let command = Command::Export(s.recording.clone(), s.doc.labels().clone(), path);
        if let Err(e) = self.workers.send(command) {
            self.errors.push(e);
        }
    }

    fn status_bar(&mut self, ui: &mut Ui) {
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
                ui.colored_label(ui.visuals().error_fg_color, e);
            });
        }
        if let Some(i) = dismiss {
            self.errors.remove(i);
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
                    LabelSource::Sidecar(_) => "labels from events.tsv",
                    LabelSource::FileAnnotations => "labels from file annotations",
                    LabelSource::None => "no labels yet",
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
            }
            if let Some(n) = &self.notice {
                ui.label(RichText::new(n).weak());
            }
        });
    }
}

impl Drop for SpindleApp {
    fn drop(&mut self) {
        // Never lose a label: a last save when the app goes away.
        if let Err(e) = self.save_labels() {
            eprintln!("error: {e}");
        }
    }
}

impl eframe::App for SpindleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.run_logic(ctx);
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }

    fn on_exit(&mut self) {
        if let Err(e) = self.save_labels() {
            eprintln!("error: {e}");
        }
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
];
