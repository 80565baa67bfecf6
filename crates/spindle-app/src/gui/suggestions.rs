//! The model's suggested labels for the open recording, each accepted or
//! rejected by the user (or all at once). Suggestions are never mixed with
//! the user's labels until accepted; accepting is an ordinary, undoable edit.

use eframe::egui::{self, RichText, Ui};

use spindle_signals::dsp::format_hms;
use spindle_signals::labeling::{Edit, Suggestions};

/// Draws the suggestions; returns the edit the user's choice makes.
pub fn ui(ui: &mut Ui, s: &mut Suggestions) -> Option<Edit> {
    let mut edit = None;
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
            edit = s.accept_all();
        }
        if ui.button("Reject all").clicked() {
            s.reject_all();
        }
    });
    let mut accept = None;
    let mut reject = None;
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
                            accept = Some(i);
                        }
                        if ui.small_button("Reject").clicked() {
                            reject = Some(i);
                        }
                        ui.end_row();
                    }
                });
        });
    if let Some(i) = accept {
        edit = s.accept(i);
    } else if let Some(i) = reject {
        s.reject(i);
    }
    edit
}
