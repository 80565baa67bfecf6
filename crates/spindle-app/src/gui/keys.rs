//! Keyboard control of the viewer and labeling: arrows and page keys scroll,
//! +/- zoom, Up/Down gain, 0-9 label (and in epoch scoring W and R score
//! wake and REM when those classes exist), Delete removes, Ctrl+Z /
//! Ctrl+Shift+Z undo and redo.

use eframe::egui::{self, Context, Key, Modifiers};
use spindle_signals::labeling::LabelScheme;
use spindle_signals::labeling::rules::{self, HotkeyAction};
use spindle_signals::scoring::SleepStage;

use super::command::{AppCommand, Commands};
use super::error::AppError;
use super::session::Session;

const DIGITS: [Key; 10] = [
    Key::Num0,
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// What the keys need besides the session: the classes, the epoch length
/// and whether scoring an epoch moves to the next.
pub struct KeyContext<'a> {
    /// The label classes and their hotkeys.
    pub scheme: &'a LabelScheme,
    /// Epoch page length, seconds.
    pub page_s: f64,
    /// Scoring an epoch moves to the next one.
    pub auto_advance: bool,
}

/// Handles this frame's keys for session `s`, reporting what fails onto
/// `commands`. Does nothing while a text field has the keyboard.
pub fn handle(ctx: &Context, s: &mut Session, kx: &KeyContext<'_>, commands: &mut Commands) {
    let (scheme, page_s) = (kx.scheme, kx.page_s);
    // A text field, an open menu or a popup has the keyboard (Escape closes them).
    if ctx.egui_wants_keyboard_input() || egui::Popup::is_any_open(ctx) {
        return;
    }
    let now_s = ctx.input(|i| i.time);
    let pressed = |mods: Modifiers, key: Key| ctx.input_mut(|i| i.consume_key(mods, key));

    // Undo / redo first: Ctrl+Shift+Z would also match Ctrl+Z.
    if pressed(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z) || pressed(Modifiers::COMMAND, Key::Y)
    {
        s.redo(now_s);
    } else if pressed(Modifiers::COMMAND, Key::Z) {
        s.undo(now_s);
    }

    let center = s.view.start_s + s.view.span_s / 2.0;
    if s.epoch_mode {
        let page = s.page(page_s);
        if pressed(Modifiers::NONE, Key::ArrowRight) || pressed(Modifiers::NONE, Key::PageDown) {
            s.go_to_page(page + 1, page_s);
        }
        if pressed(Modifiers::NONE, Key::ArrowLeft) || pressed(Modifiers::NONE, Key::PageUp) {
            s.go_to_page(page.saturating_sub(1), page_s);
        }
    } else {
        if pressed(Modifiers::NONE, Key::ArrowRight) {
            s.scroll(s.view.span_s * 0.1);
        }
        if pressed(Modifiers::NONE, Key::ArrowLeft) {
            s.scroll(-s.view.span_s * 0.1);
        }
        if pressed(Modifiers::NONE, Key::PageDown) {
            s.scroll(s.view.span_s);
        }
        if pressed(Modifiers::NONE, Key::PageUp) {
            s.scroll(-s.view.span_s);
        }
        if pressed(Modifiers::NONE, Key::Plus) || pressed(Modifiers::NONE, Key::Equals) {
            s.zoom(0.5, center);
        }
        if pressed(Modifiers::NONE, Key::Minus) {
            s.zoom(2.0, center);
        }
    }
    if pressed(Modifiers::NONE, Key::Home) {
        s.set_view(0.0, s.view.span_s);
    }
    if pressed(Modifiers::NONE, Key::End) {
        s.set_view(s.duration_s(), s.view.span_s);
    }
    if pressed(Modifiers::NONE, Key::ArrowUp) {
        s.gain *= 1.25;
    }
    if pressed(Modifiers::NONE, Key::ArrowDown) {
        s.gain /= 1.25;
    }
    if pressed(Modifiers::NONE, Key::Escape) {
        s.selection = None;
    }
    if (pressed(Modifiers::NONE, Key::Delete) || pressed(Modifiers::NONE, Key::Backspace))
        && let Some(sel) = s.selection.take()
        && let Err(e) = s.apply(rules::delete(&sel), now_s)
    {
        commands.push(AppCommand::Report(e));
    }

    for (k, key) in DIGITS.iter().enumerate() {
        if !pressed(Modifiers::NONE, *key) {
            continue;
        }
        let digit = k as u8;
        match scheme.by_hotkey(digit) {
            Some(c) => label_with(s, &c.name, kx, now_s, commands),
            None => commands.push(AppCommand::Report(AppError::NoHotkey(digit))),
        }
    }
    if s.epoch_mode {
        for (key, letter) in [(Key::W, 'W'), (Key::R, 'R')] {
            let stage = SleepStage::from_key(letter).map(SleepStage::name);
            if let Some(class) = stage.and_then(|n| scheme.get(n))
                && pressed(Modifiers::NONE, key)
            {
                label_with(s, &class.name, kx, now_s, commands);
            }
        }
    }
}

/// What a class's key does: relabels the selection, scores the epoch (and
/// moves on when `kx` says so) or chooses the class for the next label.
fn label_with(
    s: &mut Session,
    class: &str,
    kx: &KeyContext<'_>,
    now_s: f64,
    commands: &mut Commands,
) {
    let page_s = kx.page_s;
    let page = s.page(page_s);
    let action = rules::hotkey(
        s.doc.labels(),
        s.selection.as_ref(),
        s.epoch_mode,
        page,
        page_s,
        class,
    );
    match action {
        HotkeyAction::Relabel(edit) => {
            if let Some(edit) = edit
                && let Err(e) = s.apply(edit, now_s)
            {
                commands.push(AppCommand::Report(e));
            }
        }
        HotkeyAction::ScorePage(edit) => {
            if let Some(edit) = edit
                && let Err(e) = s.apply(edit, now_s)
            {
                commands.push(AppCommand::Report(e));
            }
            s.selection = None;
            if kx.auto_advance {
                s.go_to_page(page + 1, page_s);
            }
        }
        HotkeyAction::ChooseClass(class) => s.active_class = Some(class),
    }
}
