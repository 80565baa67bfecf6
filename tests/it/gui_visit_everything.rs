//! Visits everything the app draws, as egui's own demo-app test does: every
//! menu item, every tab and panel, every window and dialog the app draws
//! itself, reached through AccessKit names on generated data. After each
//! visit the app shows no error, the expected text is there, and every input
//! widget on screen has an accessible name (`Harness::unnamed_widgets`, the
//! check behind `Harness::check_accessibility`). Places that fail that check,
//! and defects the visit can step around, are collected; each test fails at
//! its end with all of them, so that one run reports every problem.
//!
//! Native file dialogs (rfd) are never clicked: "Open file…", "Open folder…",
//! "Export EDF+ with labels…", "Runs folder…", "Apply to recording…",
//! "Save PNG…" and "Export curves (CSV)…" are only checked to be there.

#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{
    self, Key, ViewportCommand, ViewportId,
    accesskit::{Role, Toggled},
};
use egui_kittest::kittest::{NodeT as _, Queryable};
use spindle_app::gui::training::PreviewState;
use spindle_app::gui::{SpindleApp, Tab, ThemeChoice};
use spindle_learn::model::architectures;
use spindle_learn::train::JobState;

use crate::support::app::{AppHarness, harness};
use crate::support::gui::{app_with_runs, preview_ready, teaching_data};
use crate::support::spindle;

/// The harness, and what the visits found.
struct Tour {
    h: AppHarness,
    /// `place: unnamed widgets` for every place that fails the accessibility check.
    unnamed: Vec<String>,
    /// Things that do not work as they should, found on the way (the visit
    /// goes on so that every one of them is reported).
    defects: Vec<String>,
    /// The unnamed widgets already listed.
    seen: std::collections::BTreeSet<String>,
    /// Places checked.
    places: usize,
    started: Instant,
}

impl Tour {
    fn new(paths: Vec<PathBuf>, runs: &Path) -> Self {
        let h = harness(app_with_runs(paths, runs), 1400.0, 900.0);
        Self {
            h,
            unnamed: Vec::new(),
            defects: Vec::new(),
            seen: Default::default(),
            places: 0,
            started: Instant::now(),
        }
    }

    fn app(&self) -> &SpindleApp {
        self.h.state()
    }

    fn steps(&mut self, n: usize) {
        self.h.run_steps(n);
    }

    /// Steps until `done` holds, failing after `limit_s` with `what`.
    fn until(&mut self, what: &str, limit_s: u64, done: impl Fn(&SpindleApp) -> bool) {
        let started = Instant::now();
        while !done(self.h.state()) {
            assert!(
                started.elapsed() < Duration::from_secs(limit_s),
                "{what} did not happen within {limit_s} s; errors: {:?}; busy {}, \
                 open {:?}, {} recordings, {} runs, tab {:?}",
                self.h.state().errors(),
                self.h.state().is_busy(),
                self.h.state().open_recording(),
                self.h.state().entries().len(),
                self.h.state().runs().entries.len(),
                self.h.state().tab(),
            );
            self.h.step();
            std::thread::sleep(Duration::from_millis(5));
        }
        self.h.run_steps(2);
    }

    /// True when some node's label contains `text`.
    fn shows(&self, text: &str) -> bool {
        self.h.query_all_by_label_contains(text).next().is_some()
    }

    #[track_caller]
    fn expect(&self, text: &str) {
        assert!(self.shows(text), "`{text}` is not shown");
    }

    #[track_caller]
    fn expect_not(&self, text: &str) {
        let shown: Vec<String> = self
            .h
            .query_all_by_label_contains(text)
            .map(|n| format!("{:?} {:?}", n.accesskit_node().role(), n.rect()))
            .collect();
        assert!(shown.is_empty(), "`{text}` is still shown: {shown:?}");
    }

    /// True when a node of `role` is labeled exactly `label`.
    fn has(&self, role: Role, label: &str) -> bool {
        self.h
            .query_all_by_role_and_label(role, label)
            .next()
            .is_some()
    }

    /// Clicks the one node labeled `label` with the mouse.
    #[track_caller]
    fn click(&mut self, label: &str) {
        self.h.get_by_label(label).click();
        self.h.run_steps(3);
    }

    /// Clicks the one node of `role` labeled `label` with the mouse.
    #[track_caller]
    fn click_role(&mut self, role: Role, label: &str) {
        self.h.get_by_role_and_label(role, label).click();
        self.h.run_steps(3);
    }

    /// Clicks the node labeled `label`: with the mouse where it is on
    /// screen, else (in a scrolled form) through AccessKit after scrolling to it.
    #[track_caller]
    fn reveal_and_click(&mut self, label: &str) {
        let screen = self.h.ctx.content_rect().shrink(30.0);
        if screen.contains_rect(self.h.get_by_label(label).rect()) {
            self.click(label);
            return;
        }
        self.h.get_by_label(label).scroll_to_me();
        self.h.run_steps(2);
        self.h.get_by_label(label).click_accesskit();
        self.h.run_steps(3);
    }

    /// Opens the menu `menu` unless its item `probe` (a button) is already shown.
    #[track_caller]
    fn open_menu(&mut self, menu: &str, probe_role: Role, probe: &str) {
        if !self.has(probe_role, probe) {
            self.click_role(Role::Button, menu);
        }
        assert!(
            self.has(probe_role, probe),
            "menu {menu} did not open (no {probe})"
        );
    }

    /// Closes the menu `menu` if its item `probe` is still shown (a click
    /// inside a menu usually closes it already).
    fn close_menu(&mut self, menu: &str, probe_role: Role, probe: &str) {
        if self.has(probe_role, probe) {
            self.click_role(Role::Button, menu);
        }
        assert!(!self.has(probe_role, probe), "menu {menu} did not close");
    }

    /// Clicks the viewer's time axis, where a click does nothing, to close a popup.
    fn click_away(&mut self) {
        self.click("Time axis");
    }

    /// No error in the window, and every input widget has a name.
    #[track_caller]
    fn check(&mut self, place: &str) {
        let errors = self.h.state().errors();
        assert!(
            errors.is_empty(),
            "{place}: the app shows errors: {errors:?}"
        );
        let unnamed = self.h.unnamed_widgets();
        if !unnamed.is_empty() {
            let all = self.describe_unnamed();
            let new: Vec<String> = all
                .iter()
                .filter(|w| {
                    self.seen
                        .insert(w.split(" (showing").next().unwrap_or(w).to_string())
                })
                .cloned()
                .collect();
            self.unnamed.push(format!(
                "{place}: {} unnamed ({} listed above){}{}",
                unnamed.len(),
                all.len() - new.len(),
                if new.is_empty() { "" } else { ":\n    " },
                new.join("\n    ")
            ));
        }
        self.places += 1;
    }

    /// The widgets `unnamed_widgets` lists, each with the text left of it on
    /// its row and its value, so that one can tell which widget it is.
    fn describe_unnamed(&self) -> Vec<String> {
        let labels: Vec<(egui::Rect, String)> = self
            .h
            .query_all_by_role(Role::Label)
            .filter_map(|n| Some((n.rect(), n.accesskit_node().value()?)))
            .collect();
        self.h
            .query_all_by(|n| {
                let named = n.label().is_some_and(|l| !l.trim().is_empty())
                    || n.data().placeholder().is_some_and(|p| !p.trim().is_empty());
                egui::accessibility::is_input(n.role())
                    && !n.is_hidden()
                    && !n.data().is_read_only()
                    && !named
            })
            .map(|n| {
                let r = n.rect();
                let mut row: Vec<&(egui::Rect, String)> = labels
                    .iter()
                    .filter(|(l, _)| {
                        l.max.x <= r.min.x + 1.0
                            && (l.center().y - r.center().y).abs() < r.height() / 2.0
                    })
                    .collect();
                row.sort_by(|a, b| a.0.min.x.total_cmp(&b.0.min.x));
                let row = row
                    .iter()
                    .map(|(_, t)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" | ");
                let node = n.accesskit_node();
                let value = node
                    .value()
                    .or_else(|| node.numeric_value().map(|v| v.to_string()))
                    .unwrap_or_default();
                format!(
                    "{:?} right of `{row}` (showing `{value}`, at {:?})",
                    node.role(),
                    [r.min.x.round(), r.min.y.round()]
                )
            })
            .collect()
    }

    /// Notes that `what` does not work, and goes on.
    fn defect(&mut self, what: String) {
        eprintln!("defect: {what}");
        self.defects.push(what);
    }

    /// Fails with every defect and every place that failed the accessibility check.
    fn finish(self, name: &str) {
        eprintln!(
            "{name}: {} places visited in {:.1} s",
            self.places,
            self.started.elapsed().as_secs_f64()
        );
        assert!(
            self.defects.is_empty() && self.unnamed.is_empty(),
            "{name}: {} defect(s):\n{}\ncheck_accessibility fails at {} of {} places:\n{}",
            self.defects.len(),
            self.defects.join("\n"),
            self.unnamed.len(),
            self.places,
            self.unnamed.join("\n")
        );
        self.h.check_accessibility();
    }
}

/// Trains small MLPs with the CLI, one per learning rate, at the same time.
/// Each gets its own `--out` folder: without it, two `spindle train` started
/// in the same second choose the same run folder.
fn cli_runs(eeg: &Path, runs: &Path, lrs: &[&str]) {
    let children: Vec<_> = lrs
        .iter()
        .map(|lr| {
            spindle()
                .args(["train", "--runs"])
                .arg(runs)
                .arg("--out")
                .arg(runs.join(format!("mlp-lr{lr}")))
                .args(["--model", "mlp", "--epochs", "2", "--lr", lr, "--data"])
                .arg(eeg)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_menu_window_and_viewer_panel() {
    let dir = tempfile::tempdir().unwrap();
    let data = teaching_data(dir.path());
    let mut t = Tour::new(vec![data.clone()], &dir.path().join("runs"));
    t.until("the folder scan and the first recording", 30, |a| {
        !a.is_busy() && a.open_recording().is_some()
    });
    let sub01 = data.join("eeg").join("sub-01.edf");
    assert_eq!(t.app().open_recording(), Some(sub01.as_path()));
    assert_eq!(t.app().tab(), Tab::Viewer);
    t.expect("Signal traces");
    t.expect("Time axis");
    t.expect("Label classes");
    t.expect("sub-01.edf · EDF");
    t.check("the viewer on sub-01.edf");

    file_menu(&mut t, &data);
    view_menu(&mut t);
    spectrum_panel(&mut t);
    presentation_mode(&mut t);
    tabs_and_training_menu(&mut t);
    help_menu(&mut t);
    viewer_toolbar(&mut t);
    labels_panel(&mut t);
    channels_section(&mut t);
    audio_file(&mut t);

    t.finish("every_menu_window_and_viewer_panel");
}

/// The File menu: every item; the file dialogs are only looked at.
fn file_menu(t: &mut Tour, data: &Path) {
    t.open_menu("File", Role::Button, "Open folder…");
    for item in [
        "Open file…",
        "Open folder…",
        "Recent",
        "Save labels",
        "Export EDF+ with labels…",
        "Quit",
    ] {
        assert!(t.has(Role::Button, item), "File > {item} is missing");
    }
    t.check("File menu");
    t.h.key_press(Key::Escape);
    t.steps(3);
    if t.has(Role::Button, "Open folder…") {
        t.defect(
            "Escape does not close the File menu on the Recording tab \
             (the viewer's key handling takes the key first)"
                .into(),
        );
        t.click_role(Role::Button, "File");
    }
    assert!(!t.has(Role::Button, "Open folder…"), "the File menu closes");
    // The Recent submenu lists the folder opened at start.
    t.open_menu("File", Role::Button, "Open folder…");
    t.h.get_by_role_and_label(Role::Button, "Recent").hover();
    t.steps(3);
    let recent = data.display().to_string();
    assert!(
        t.has(Role::Button, &recent),
        "File > Recent lists the open folder"
    );
    t.check("File > Recent");
    t.click_role(Role::Button, "File");
    assert!(
        !t.has(Role::Button, "Open folder…") && !t.has(Role::Button, &recent),
        "a click on File closes the menu and its Recent submenu"
    );
    t.open_menu("File", Role::Button, "Open folder…");
    t.click_role(Role::Button, "Save labels");
    t.check("File > Save labels");
    t.open_menu("File", Role::Button, "Open folder…");
    t.h.get_by_role_and_label(Role::Button, "Quit").click();
    t.h.step();
    let commands = &t.h.output().viewport_output[&ViewportId::ROOT].commands;
    assert!(
        commands.contains(&ViewportCommand::Close),
        "File > Quit asks to close the window: {commands:?}"
    );
    t.steps(2);
    t.close_menu("File", Role::Button, "Open folder…");
}

/// The View menu: the themes, the Labels panel off and on.
fn view_menu(t: &mut Tour) {
    for (item, theme, egui_theme) in [
        ("Light", ThemeChoice::Light, Some(egui::Theme::Light)),
        ("Dark", ThemeChoice::Dark, Some(egui::Theme::Dark)),
        ("System theme", ThemeChoice::System, None),
    ] {
        t.open_menu("View", Role::RadioButton, "Light");
        t.click_role(Role::RadioButton, item);
        assert_eq!(t.app().settings().theme, theme);
        if let Some(egui_theme) = egui_theme {
            assert_eq!(t.h.ctx.theme(), egui_theme, "View > {item}");
        }
        t.check(&format!("View > {item}"));
    }
    // The Labels panel off and on again.
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Labels panel");
    assert!(!t.app().settings().show_labels);
    t.close_menu("View", Role::RadioButton, "Light");
    t.expect_not("Label classes");
    t.check("View > Labels panel (off)");
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Labels panel");
    assert!(t.app().settings().show_labels);
    t.close_menu("View", Role::RadioButton, "Light");
    t.expect("Label classes");
}

/// The Spectrum panel on an EEG recording: PSD and spectrogram of a channel.
fn spectrum_panel(t: &mut Tour) {
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Spectrum panel");
    assert!(t.app().settings().show_spectrum);
    t.close_menu("View", Role::RadioButton, "Light");
    t.steps(2);
    // The spectra come from a worker: wait for them rather than race it.
    t.until("the spectra of the view", 30, |a| !a.is_busy());
    t.steps(2);
    t.expect("Spectrogram of");
    t.expect("frames of");
    assert!(t.has(Role::Image, "Spectrogram"), "the EEG spectrogram");
    t.check("Spectrum panel on EEG");
    t.click("Channel shown in the spectrogram");
    t.check("Spectrum panel: channel list");
    t.click_role(Role::Button, "C3");
    t.steps(2);
    assert_eq!(
        t.h.get_by_label("Channel shown in the spectrogram")
            .value()
            .as_deref(),
        Some("C3")
    );
    assert!(t.has(Role::Image, "Spectrogram"));
    t.check("Spectrum panel: spectrogram of C3");
}

/// Presentation mode: larger, fewer panels, a way back.
fn presentation_mode(t: &mut Tour) {
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Presentation mode (F5)");
    assert!(t.app().is_presenting());
    t.close_menu("View", Role::RadioButton, "Light");
    t.steps(2);
    t.expect_not("Label classes");
    t.check("Presentation mode");
    t.click("Leave presentation mode");
    assert!(!t.app().is_presenting());
    t.h.key_press(Key::F5);
    t.steps(2);
    assert!(t.app().is_presenting(), "F5 starts presentation mode");
    t.h.key_press(Key::F5);
    t.steps(2);
    assert!(!t.app().is_presenting());
    t.expect("Label classes");
}

/// Each tab from the View menu, Results and Runs without runs, and the
/// Training menu.
fn tabs_and_training_menu(t: &mut Tour) {
    for tab in Tab::ALL {
        t.open_menu("View", Role::RadioButton, "Light");
        let entry =
            t.h.get_all_by_role_and_label(Role::Button, tab.title())
                .find(|n| n.accesskit_node().toggled().is_none())
                .unwrap_or_else(|| panic!("View > {} is missing", tab.title()));
        entry.click();
        t.steps(3);
        assert_eq!(t.app().tab(), tab, "View > {}", tab.title());
        t.check(&format!("View > {}", tab.title()));
    }
    // No run yet: Results and Runs say so.
    t.click_role(Role::Button, "Results");
    t.expect("No run open yet");
    t.check("Results without a run");
    t.click_role(Role::Button, "Runs");
    t.expect("No runs yet");
    t.check("Runs without runs");

    // Training menu, here on the Runs tab (Escape closes menus here): the
    // demo has its own test; the folder dialog is not clicked.
    t.open_menu("Training", Role::Button, "Run the demo");
    assert!(t.has(Role::Button, "Runs folder…"));
    t.check("Training menu");
    t.h.key_press(Key::Escape);
    t.steps(2);
    assert!(
        !t.has(Role::Button, "Run the demo"),
        "Escape closes the Training menu on the Runs tab"
    );
    assert!(t.has(Role::Button, "Demo: train on the sample EEG"));
    t.click_role(Role::Button, "Recording");
    assert_eq!(t.app().tab(), Tab::Viewer);
}

/// The Help menu's windows and View > Frame times, each closed by its
/// close button.
fn help_menu(t: &mut Tour) {
    assert!(!t.has(Role::Button, "User guide"));
    for (menu, item, line) in [
        ("Help", "Keyboard and mouse", "F5: presentation mode"),
        (
            "Help",
            "About Spindle",
            "`spindle --version` in a terminal names the build.",
        ),
        (
            "View",
            "Frame times",
            "CPU time per frame; under 16 ms keeps the window smooth.",
        ),
    ] {
        t.open_menu(menu, Role::Button, item);
        if menu == "Help" {
            assert!(t.has(Role::Button, "User guide"));
        }
        t.click_role(Role::Button, item);
        t.steps(2);
        assert!(t.has(Role::Window, item), "the {item} window");
        t.expect(line);
        t.check(&format!("{menu} > {item} window"));
        t.click("Close window");
        assert!(!t.has(Role::Window, item), "the {item} window closes");
    }
}

/// The viewer's toolbar: zoom, filters, new-label class, epoch scoring.
fn viewer_toolbar(t: &mut Tour) {
    t.click("All");
    assert_eq!(t.app().view_range(), Some((0.0, 150.0)));
    t.click("+");
    t.click("-");
    for (combo, choice) in [
        ("High-pass", "0.5 Hz"),
        ("Low-pass", "35 Hz"),
        ("Notch", "50 Hz"),
    ] {
        t.click(combo);
        t.check(&format!("{combo} filter list"));
        t.click_role(Role::Button, choice);
        t.check(&format!("{combo} at {choice}"));
    }
    let f = t.app().settings().filter;
    assert_eq!(
        (f.highpass_hz, f.lowpass_hz, f.notch_hz),
        (Some(0.5), Some(35.0), Some(50.0))
    );
    t.click("New label");
    t.check("New label class list");
    t.click_role(Role::Button, "2  eyes_closed");
    assert_eq!(
        t.h.get_by_label("New label").value().as_deref(),
        Some("eyes_closed")
    );
    t.click("All");
    t.click("Epoch scoring");
    t.expect("page 1/5");
    assert_eq!(t.app().view_range(), Some((0.0, 30.0)));
    t.check("Epoch scoring on");
    t.click("Epoch scoring");
    t.expect_not("page 1/5");
}

/// The labels panel: classes (color, rename, hotkey), sorting, the table.
fn labels_panel(t: &mut Tour) {
    // The color button is named "Color"; its tooltip says whose.
    // egui's color picker draws "📋", which no installed font has: the
    // harness would panic and the app shows a box, so it is not opened then.
    let color =
        t.h.get_by(|n| n.description().as_deref() == Some("Color of blink"));
    if t.h
        .ctx
        .fonts_mut(|f| f.has_glyph(&egui::FontId::proportional(14.0), '📋'))
    {
        color.click();
        t.steps(3);
        t.check("Color picker of blink");
        t.click_away();
    } else {
        t.defect(
            "the class color picker (egui's color_edit_button_srgb) draws '📋' (U+1F4CB), \
             which no installed font has"
                .into(),
        );
    }
    t.click_role(Role::Button, "blink");
    assert!(
        t.h.query_by(|n| n.data().placeholder() == Some("class name"))
            .is_some(),
        "the rename field"
    );
    t.check("Renaming a class");
    t.h.key_press(Key::Enter);
    t.steps(2);
    assert!(
        t.has(Role::Button, "blink"),
        "renaming without change keeps it"
    );
    t.click("Hotkey of blink");
    t.check("Hotkey list of blink");
    t.click_away();
    assert!(!t.has(Role::Button, "none"), "the hotkey list closes");
    t.h.get_by(|n| n.data().placeholder() == Some("new class"))
        .click();
    t.steps(2);
    t.h.get_by(|n| n.data().placeholder() == Some("new class"))
        .type_text("artifact");
    t.steps(2);
    t.click("Add class");
    assert!(
        t.app()
            .scheme()
            .classes
            .iter()
            .any(|c| c.name == "artifact")
    );
    t.check("A class added");
    t.click_role(Role::RadioButton, "label");
    t.click_role(Role::RadioButton, "time");
    t.expect("Labels (");
    t.check("Label table sorted");
}

/// The Channels section: hide all, show all, one channel off and on.
fn channels_section(t: &mut Tour) {
    t.click("Channels");
    t.expect("Show all");
    t.check("Channels section");
    t.click("Hide all");
    assert!(t.app().visible_channels().is_empty());
    t.click("Show all");
    assert_eq!(t.app().visible_channels().len(), 12);
    // "Fp1" also names its line in the spectrum panel's legend.
    let show_fp1 = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.description().as_deref() == Some("Show Fp1")
    };
    t.h.get_by(show_fp1).click_accesskit();
    t.steps(2);
    assert_eq!(t.app().visible_channels().len(), 11);
    t.h.get_by(show_fp1).click_accesskit();
    t.h.get_by(|n| n.description().as_deref() == Some("Move Fp1 down"))
        .click_accesskit();
    t.steps(2);
    assert_eq!(t.app().visible_channels()[1], "Fp1");
    t.check("Channels changed");
    t.click("Channels");
}

/// An audio file from the browser: waveform, class, spectrogram.
fn audio_file(t: &mut Tour) {
    t.h.get_all_by_label_contains("call-01.wav")
        .next()
        .unwrap()
        .click_accesskit();
    t.until("the audio file", 30, |a| {
        !a.is_busy()
            && a.open_recording()
                .is_some_and(|p| p.extension().is_some_and(|e| e == "wav"))
    });
    t.expect("Audio file of class `");
    t.expect("Spectrogram of");
    assert!(t.has(Role::Image, "Spectrogram"), "the audio spectrogram");
    t.check("Viewer and spectrum panel on audio");
}

#[test]
fn train_results_and_runs_views() {
    let dir = tempfile::tempdir().unwrap();
    let data = teaching_data(dir.path());
    let eeg = data.join("eeg");
    let runs = dir.path().join("runs");
    cli_runs(&eeg, &runs, &["0.001", "0.003"]);
    let mut t = Tour::new(vec![data.clone()], &runs);
    t.until("the folder scan, the recording and the runs", 30, |a| {
        !a.is_busy() && a.open_recording().is_some() && a.runs().entries.len() == 2
    });

    train_view(&mut t);
    optional_settings(&mut t);
    every_architecture(&mut t);
    runs_view(&mut t);
    results_view(&mut t);
    suggestions(&mut t);

    t.finish("train_results_and_runs_views");
}

/// The Train view: the three sections, each collapsed and expanded again,
/// and the previews of each folder.
fn train_view(t: &mut Tour) {
    t.click_role(Role::Button, "Train");
    assert_eq!(t.app().tab(), Tab::Train);
    t.until("the dataset preview", 60, preview_ready);
    t.expect("windows of 2.00 s");
    t.expect("whole recordings");
    t.expect("Use:");
    t.check("Train view");
    for (section, inside) in [
        ("1  Dataset", "window (s)"),
        ("2  Model", "architecture"),
        ("3  Training", "learning rate"),
    ] {
        t.expect(inside);
        t.h.get_by_label(section).click_accesskit();
        t.steps(4);
        t.expect_not(inside);
        t.h.get_by_label(section).click_accesskit();
        t.steps(4);
        t.expect(inside);
        t.check(&format!("Train: section {section}"));
    }
    t.click("the audio folder");
    t.until("the audio preview", 60, preview_ready);
    t.check("Train: the audio folder");
    t.click("the recordings in sleep/");
    t.until("the sleep preview", 60, preview_ready);
    t.expect("windows of 30.00 s");
    t.check("Train: the sleep nights");
    t.click("the recordings in eeg/");
    t.until("the EEG preview", 60, preview_ready);
}

/// The optional settings, each turned on (their number fields appear) and off.
fn optional_settings(t: &mut Tour) {
    let optional = [
        "window (s)",
        "step between windows (s)",
        "high-pass (Hz)",
        "low-pass (Hz)",
        "notch (Hz)",
        "automatic",
        "early stopping after",
    ];
    let toggle_all = |t: &mut Tour| {
        for tick in optional {
            let boxes = t.h.get_all_by_role_and_label(Role::CheckBox, tick).count();
            assert_eq!(boxes, 1, "`{tick}` boxes");
            t.h.get_by_role_and_label(Role::CheckBox, tick)
                .click_accesskit();
            t.steps(2);
        }
    };
    toggle_all(t);
    let o = &t.app().training().options;
    assert!(o.window.is_some() && o.stride.is_some());
    assert!(o.highpass.is_some() && o.lowpass.is_some() && o.notch.is_some());
    assert_eq!(o.batch, Some(32));
    t.until("the preview with every option set", 60, |a| {
        !a.training().preview_is_stale() && !matches!(a.training().preview, PreviewState::Pending)
    });
    // Every option on, at its starting value (0.5 Hz high-pass, 40 Hz
    // low-pass, 50 Hz notch, 1-s windows), still makes a dataset.
    if let PreviewState::Failed(f) = &t.app().training().preview {
        panic!("the preview with every option on failed: {f}");
    }
    t.expect("epochs without progress");
    t.check("Train: every optional setting on");
    toggle_all(t);
    let o = &t.app().training().options;
    assert!(o.window.is_none() && o.highpass.is_none() && o.batch.is_none());
    t.until("the EEG preview again", 60, preview_ready);
}

/// Every architecture in turn; the layer table for each the preview accepts.
fn every_architecture(t: &mut Tour) {
    let mut layer_table_open = false;
    for a in architectures() {
        let item = format!("{} — {}", a.title, a.family.as_str());
        t.reveal_and_click("architecture");
        t.check("Train: the architecture list");
        t.click_role(Role::Button, &item);
        assert_eq!(t.app().training().options.model, a.name, "{item}");
        t.until(&format!("the preview for {}", a.name), 60, preview_ready);
        let accepted = match &t.app().training().preview {
            PreviewState::Ready(p) => p.model.is_ok(),
            _ => unreachable!(),
        };
        if a.name == "lstm" {
            // 2-s EEG windows are hundreds of steps: the form steers to CRNN.
            t.expect("choose CRNN");
        }
        if accepted {
            if !layer_table_open {
                let header =
                    t.h.get_by_label_contains("Layers: ")
                        .accesskit_node()
                        .label()
                        .unwrap()
                        .to_string();
                t.reveal_and_click(&header);
                layer_table_open = true;
            }
            t.expect("Layers: ");
            t.expect("output shape");
        } else {
            t.expect("This model cannot take these windows");
            eprintln!("the preview does not accept {}", a.name);
        }
        t.check(&format!("Train: {item}"));
    }
}

/// Runs: tick both to compare, then the delete dialog, answered Keep.
fn runs_view(t: &mut Tour) {
    t.click_role(Role::Button, "Runs");
    assert_eq!(t.app().tab(), Tab::Runs);
    t.check("Runs view");
    let ticks: Vec<_> =
        t.h.get_all_by_role_and_label(Role::CheckBox, "compare")
            .collect();
    assert_eq!(ticks.len(), 2, "one compare box per run");
    for node in ticks {
        node.click();
    }
    t.until("both runs read", 30, |a| a.runs().snapshots.len() == 2);
    t.expect("Comparing 2 runs");
    assert!(t.h.query_by_label("train.lr").is_some());
    t.expect("Export curves (CSV)…");
    t.expect("Save PNG…");
    t.check("Runs: two compared");
    t.h.get_all_by_label("Delete…").next().unwrap().click();
    t.steps(3);
    assert!(t.has(Role::Window, "Delete run?"));
    t.expect("cannot be undone");
    t.check("Runs: delete dialog");
    t.click("Keep");
    assert!(!t.has(Role::Window, "Delete run?"));
    t.h.get_all_by_label("Delete…").next().unwrap().click();
    t.steps(3);
    t.click("Close window");
    assert!(!t.has(Role::Window, "Delete run?"));
    assert_eq!(t.app().runs().entries.len(), 2, "nothing was deleted");
    assert!(t.app().runs().entries.iter().all(|e| e.dir.exists()));
}

/// Results: score card, confusion cell, shares toggle, a window of the cell.
fn results_view(t: &mut Tour) {
    let first = t.app().runs().entries[0].dir.clone();
    t.h.get_all_by_label("Open").next().unwrap().click();
    t.until("the opened run", 30, |a| {
        a.result_run()
            .is_some_and(|r| r.dir == first && r.report.is_some())
    });
    assert_eq!(t.app().tab(), Tab::Results);
    t.expect("Results of ");
    t.expect("Test accuracy");
    t.expect("chance");
    t.expect("Click a cell to list its windows.");
    t.expect("Apply to recording…");
    t.expect("Export curves (CSV)…");
    t.expect("Suggest labels for sub-01.edf");
    t.check("Results view");
    t.click("What did the network rely on?");
    assert_eq!(t.app().tab(), Tab::Explain);
    t.expect("not what the brain does");
    t.expect("Explain this run");
    t.check("Explain view before explaining");
    t.click_role(Role::Button, "Results");
    let cell =
        t.h.get_all_by_label_contains(" predicted as ")
            .find(|n| !n.accesskit_node().label().unwrap().starts_with("0 "))
            .expect("a confusion cell with windows");
    cell.click();
    t.steps(3);
    t.expect("window(s) of true class");
    t.check("Results: a confusion cell");
    t.click("as shares of each true class");
    assert_eq!(
        t.h.get_by_label("as shares of each true class")
            .accesskit_node()
            .toggled(),
        Some(Toggled::True)
    );
    t.check("Results: shares of each true class");
    t.h.get_all_by_label_contains("% sure")
        .next()
        .unwrap()
        .click();
    t.until("the jump to the window", 30, |a| {
        a.tab() == Tab::Viewer && !a.is_busy()
    });
    t.check("Viewer at a window of the cell");
}

/// Suggested labels from the run, accepted all at once.
fn suggestions(t: &mut Tour) {
    t.click_role(Role::Button, "Results");
    let name = t
        .app()
        .open_recording()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    t.click(&format!("Suggest labels for {name}"));
    t.until("the suggestions", 60, |a| a.suggestions().is_some());
    assert_eq!(t.app().tab(), Tab::Viewer);
    t.expect("Suggestions (");
    t.expect("Reject all");
    t.check("Viewer with suggestions");
    t.click("Accept all");
    assert!(t.app().suggestions().is_none());
    t.check("Suggestions accepted");
}

#[test]
fn the_start_screen_runs_the_demo_to_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tour::new(Vec::new(), &dir.path().join("runs"));
    t.steps(2);
    t.expect("No folder open.");
    // Nothing open: the start screen, whose demo button is the menu's.
    t.expect("Try the sample data");
    t.expect("Open a folder…");
    t.check("the start screen");
    t.click_role(Role::Button, "Run the demo");
    t.until("the demo's training", 60, |a| {
        a.training()
            .history
            .as_ref()
            .is_some_and(|h| !h.epochs.is_empty())
    });
    assert!(t.app().is_presenting());
    assert_eq!(t.app().tab(), Tab::Train);
    t.expect("Train (running)");
    t.expect("Coach:");
    assert!(
        t.h.get_by_role_and_label(Role::Button, "Demo: train on the sample EEG")
            .accesskit_node()
            .is_disabled(),
        "no second demo while one trains"
    );
    t.check("the demo while training");
    t.until("the demo's result", 120, |a| {
        a.result_run().is_some_and(|r| r.report.is_some())
    });
    assert!(matches!(
        t.app().training().history.as_ref().map(|h| &h.state),
        Some(JobState::Finished(_))
    ));
    assert_eq!(t.app().tab(), Tab::Results);
    t.expect("Test accuracy");
    t.check("the demo's result in presentation mode");
    t.click("Leave presentation mode");
    assert!(!t.app().is_presenting());
    t.check("the demo's result");
    // The finished run in the Train view, outside presentation mode: every chart.
    t.click_role(Role::Button, "Train");
    for text in [
        "Test accuracy",
        "Loss (lower is better)",
        "Accuracy (higher is better)",
        "Learning rate",
        "Save PNG…",
        "are kept",
    ] {
        t.expect(text);
    }
    t.check("the demo's run in the Train view");
    t.click("See the results");
    assert_eq!(t.app().tab(), Tab::Results);
    t.expect("Per class");
    t.expect("ROC curves (one class against the rest)");
    t.check("the demo's result again");
    t.finish("the_start_screen_runs_the_demo_to_its_result");
}
