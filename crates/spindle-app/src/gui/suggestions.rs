//! The model's suggested labels for the open recording, each accepted or
//! rejected by the user (or all at once). Suggestions are never mixed with
//! the user's labels until accepted; accepting is an ordinary, undoable edit.

use eframe::egui::{self, RichText, Ui};

use spindle_signals::dsp::format_hms;
use spindle_signals::labeling::Suggestions;

use super::command::{AppCommand, Commands, SuggestionChoice};

/// Draws the suggestions; the user's choice becomes
/// `AppCommand::Suggestion` on `commands` (accepting is then an edit).
pub fn ui(ui: &mut Ui, s: &Suggestions, commands: &mut Commands) {
    let mut choice = None;
    ui.heading(format!("Suggestions ({})", s.items.len()));
    ui.label(
        RichText::new(format!(
            "From {}. They are not labels until you accept them.",
            s.source
        ))
        .weak(),
    );
    ui.horizontal(|ui| {
        if ui.button("Accept all").clicked() {
            choice = Some(SuggestionChoice::AcceptAll);
        }
        if ui.button("Reject all").clicked() {
            choice = Some(SuggestionChoice::RejectAll);
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("suggestions")
        .max_height(180.0)
        .show(ui, |ui| {
            egui::Grid::new("suggestion_rows")
                .striped(true)
                .show(ui, |ui| {
                    for (i, item) in s.items.iter().enumerate() {
                        ui.monospace(format_hms(item.label.onset_s));
                        ui.label(format!(
                            "{} · {:.1} s · {:.0}% sure",
                            item.label.trial_type,
                            item.label.duration_s,
                            item.confidence * 100.0
                        ));
                        if ui.small_button("Accept").clicked() {
                            choice = Some(SuggestionChoice::Accept(i));
                        }
                        if ui.small_button("Reject").clicked() {
                            choice = Some(SuggestionChoice::Reject(i));
                        }
                        ui.end_row();
                    }
                });
        });
    if let Some(choice) = choice {
        commands.push(AppCommand::Suggestion(choice));
    }
}
