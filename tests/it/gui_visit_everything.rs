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
//! "Compare with another scoring…", "Export EDF+ with labels…", "Runs
//! folder…", "Apply to recording…",
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

mod tour;

use tour::{Tour, cli_runs};

#[test]
fn every_menu_window_and_viewer_panel() {
    let dir = tempfile::tempdir().unwrap();
    let data = teaching_data(dir.path());
    let mut t = Tour::new(vec![data.clone()], &dir.path().join("runs"));
    t.until("the folder scan and the first recording", 30, |a| {
        !a.is_busy() && a.parts().recording.path().is_some()
    });
    let sub01 = data.join("eeg").join("sub-01.edf");
    assert_eq!(t.app().parts().recording.path(), Some(sub01.as_path()));
    assert_eq!(t.app().parts().shell.tab, Tab::Viewer);
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
        "Compare with another scoring…",
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
        assert_eq!(t.app().parts().shell.settings.theme, theme);
        if let Some(egui_theme) = egui_theme {
            assert_eq!(t.h.ctx.theme(), egui_theme, "View > {item}");
        }
        t.check(&format!("View > {item}"));
    }
    // The Labels panel off and on again.
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Labels panel");
    assert!(!t.app().parts().shell.settings.show_labels);
    t.close_menu("View", Role::RadioButton, "Light");
    t.expect_not("Label classes");
    t.check("View > Labels panel (off)");
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Labels panel");
    assert!(t.app().parts().shell.settings.show_labels);
    t.close_menu("View", Role::RadioButton, "Light");
    t.expect("Label classes");
}

/// The Spectrum panel on an EEG recording: PSD and spectrogram of a channel.
fn spectrum_panel(t: &mut Tour) {
    t.open_menu("View", Role::RadioButton, "Light");
    t.click_role(Role::CheckBox, "Spectrum panel");
    assert!(t.app().parts().shell.settings.show_spectrum);
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
    assert!(t.app().parts().shell.presenting);
    t.close_menu("View", Role::RadioButton, "Light");
    t.steps(2);
    t.expect_not("Label classes");
    t.check("Presentation mode");
    t.click("Leave presentation mode");
    assert!(!t.app().parts().shell.presenting);
    t.h.key_press(Key::F5);
    t.steps(2);
    assert!(
        t.app().parts().shell.presenting,
        "F5 starts presentation mode"
    );
    t.h.key_press(Key::F5);
    t.steps(2);
    assert!(!t.app().parts().shell.presenting);
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
        assert_eq!(t.app().parts().shell.tab, tab, "View > {}", tab.title());
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
    assert_eq!(t.app().parts().shell.tab, Tab::Viewer);
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
    assert_eq!(t.app().parts().recording.view_range(), Some((0.0, 150.0)));
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
    let f = t.app().parts().shell.settings.filter;
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
    assert_eq!(t.app().parts().recording.view_range(), Some((0.0, 30.0)));
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
            .parts()
            .recording
            .scheme
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
    assert!(t.app().parts().recording.visible_channels().is_empty());
    t.click("Show all");
    assert_eq!(t.app().parts().recording.visible_channels().len(), 12);
    // "Fp1" also names its line in the spectrum panel's legend.
    let show_fp1 = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.description().as_deref() == Some("Show Fp1")
    };
    t.h.get_by(show_fp1).click_accesskit();
    t.steps(2);
    assert_eq!(t.app().parts().recording.visible_channels().len(), 11);
    t.h.get_by(show_fp1).click_accesskit();
    t.h.get_by(|n| n.description().as_deref() == Some("Move Fp1 down"))
        .click_accesskit();
    t.steps(2);
    assert_eq!(t.app().parts().recording.visible_channels()[1], "Fp1");
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
            && a.parts()
                .recording
                .path()
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
        !a.is_busy()
            && a.parts().recording.path().is_some()
            && a.parts().runs.panel.entries().len() == 2
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
    assert_eq!(t.app().parts().shell.tab, Tab::Train);
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
    let o = &t.app().parts().training.panel.options;
    assert!(o.window.is_some() && o.stride.is_some());
    assert!(o.highpass.is_some() && o.lowpass.is_some() && o.notch.is_some());
    assert_eq!(o.batch, Some(32));
    t.until("the preview with every option set", 60, |a| {
        !a.parts().training.panel.preview_is_stale()
            && !matches!(*a.parts().training.panel.preview, PreviewState::Pending)
    });
    // Every option on, at its starting value (0.5 Hz high-pass, 40 Hz
    // low-pass, 50 Hz notch, 1-s windows), still makes a dataset.
    if let PreviewState::Failed(f) = &*t.app().parts().training.panel.preview {
        panic!("the preview with every option on failed: {f}");
    }
    t.expect("epochs without progress");
    t.check("Train: every optional setting on");
    toggle_all(t);
    let o = &t.app().parts().training.panel.options;
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
        assert_eq!(
            t.app().parts().training.panel.options.model,
            a.name,
            "{item}"
        );
        t.until(&format!("the preview for {}", a.name), 60, preview_ready);
        let accepted = match &*t.app().parts().training.panel.preview {
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
    assert_eq!(t.app().parts().shell.tab, Tab::Runs);
    t.check("Runs view");
    let ticks: Vec<_> =
        t.h.get_all_by_role_and_label(Role::CheckBox, "compare")
            .collect();
    assert_eq!(ticks.len(), 2, "one compare box per run");
    for node in ticks {
        node.click();
    }
    t.until("both runs read", 30, |a| {
        a.parts().runs.panel.snapshots.len() == 2
    });
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
    assert_eq!(
        t.app().parts().runs.panel.entries().len(),
        2,
        "nothing was deleted"
    );
    assert!(
        t.app()
            .parts()
            .runs
            .panel
            .entries()
            .iter()
            .all(|e| e.dir.exists())
    );
}

/// Results: score card, confusion cell, shares toggle, a window of the cell.
fn results_view(t: &mut Tour) {
    // The first row's run: which one that is depends on the list's sort
    // (by date, to the second), so any listed run will do.
    let listed: Vec<_> = t
        .app()
        .parts()
        .runs
        .panel
        .entries()
        .iter()
        .map(|e| e.dir.clone())
        .collect();
    t.h.get_all_by_label("Open").next().unwrap().click();
    t.until("the opened run", 30, |a| {
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| listed.contains(&r.dir) && r.report.is_some())
    });
    assert_eq!(t.app().parts().shell.tab, Tab::Results);
    t.expect("Results of ");
    t.expect("Test accuracy");
    t.expect("chance");
    t.expect("Click a cell to list its windows.");
    t.expect("Apply to recording…");
    t.expect("Export curves (CSV)…");
    // The teaching set is small: its final model trained on from the kept
    // weights on every trial, and the results say so.
    let refitted = t
        .app()
        .parts()
        .runs
        .result_run
        .as_ref()
        .and_then(|r| r.report.as_ref())
        .is_some_and(|r| r.final_fit.is_some());
    assert!(refitted, "a small set is refitted");
    t.expect("Final model: epoch");
    t.expect("Suggest labels for sub-01.edf");
    t.check("Results view");
    t.click("What did the network rely on?");
    assert_eq!(t.app().parts().shell.tab, Tab::Explain);
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
        a.parts().shell.tab == Tab::Viewer && !a.is_busy()
    });
    t.check("Viewer at a window of the cell");
}

/// Suggested labels from the run, accepted all at once.
fn suggestions(t: &mut Tour) {
    t.click_role(Role::Button, "Results");
    let name = t
        .app()
        .parts()
        .recording
        .path()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    t.click(&format!("Suggest labels for {name}"));
    t.until("the suggestions", 60, |a| {
        a.parts().recording.suggestions.as_ref().is_some()
    });
    assert_eq!(t.app().parts().shell.tab, Tab::Viewer);
    t.expect("Suggestions (");
    t.expect("Reject all");
    t.check("Viewer with suggestions");
    t.click("Accept all");
    assert!(t.app().parts().recording.suggestions.as_ref().is_none());
    t.check("Suggestions accepted");
}

#[test]
fn the_regression_demo_trains_eegnet_on_the_reaction_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tour::new(Vec::new(), &dir.path().join("runs"));
    t.steps(2);
    t.open_menu("Training", Role::Button, "Run the regression demo");
    t.click_role(Role::Button, "Run the regression demo");
    t.until("the regression demo's training", 60, |a| {
        a.parts()
            .training
            .panel
            .history
            .as_ref()
            .is_some_and(|h| !h.epochs.is_empty())
    });
    assert_eq!(t.app().parts().shell.tab, Tab::Train);
    let panel = &t.app().parts().training.panel;
    assert!(panel.options.regression, "a regression");
    assert_eq!(
        (panel.options.model.as_str(), panel.options.epochs),
        ("eegnet", 10)
    );
    let roles = panel.data_roles();
    assert_eq!(roles.train.len(), 5, "{roles:?}");
    assert!(
        roles
            .train
            .iter()
            .all(|p| p.parent().is_some_and(|f| f.ends_with("reaction_time"))),
        "{roles:?}"
    );
    assert!(
        t.h.get_by_role_and_label(Role::Button, "Demo: predict a number")
            .accesskit_node()
            .is_disabled(),
        "no second demo while one trains"
    );
    t.expect("Coach:");
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
        a.parts()
            .training
            .panel
            .history
            .as_ref()
            .is_some_and(|h| !h.epochs.is_empty())
    });
    assert!(t.app().parts().shell.presenting);
    assert_eq!(t.app().parts().shell.tab, Tab::Train);
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
        a.parts()
            .runs
            .result_run
            .as_ref()
            .is_some_and(|r| r.report.is_some())
    });
    assert!(matches!(
        t.app()
            .parts()
            .training
            .panel
            .history
            .as_ref()
            .map(|h| &h.state),
        Some(JobState::Finished(_))
    ));
    assert_eq!(t.app().parts().shell.tab, Tab::Results);
    t.expect("Test accuracy");
    t.check("the demo's result in presentation mode");
    t.click("Leave presentation mode");
    assert!(!t.app().parts().shell.presenting);
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
    assert_eq!(t.app().parts().shell.tab, Tab::Results);
    t.expect("Per class");
    t.expect("ROC curves (one class against the rest)");
    t.check("the demo's result again");
    t.finish("the_start_screen_runs_the_demo_to_its_result");
}
