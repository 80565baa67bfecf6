//! The lines that ask what to do with labels that need rescuing: a damaged
//! sidecar (restore its backup, or set it aside; autosave stays off until
//! then) and edits an earlier session journaled but never saved (restore or
//! discard). Drawn above the status bar; the buttons push [`AppCommand`]s.

use eframe::egui::Ui;

use super::command::{AppCommand, Commands};
use super::session::Session;

/// Draws the questions `session` has for the user, if any.
pub fn ui(ui: &mut Ui, session: &Session, commands: &mut Commands) {
    if let Some(d) = &session.damaged {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!(
                    "{}: labels not read: {}. Autosave is off so that the file is not overwritten.",
                    d.path.display(),
                    d.reason
                ),
            );
            if let Some(backup) = &d.backup
                && ui
                    .button("Restore labels from backup")
                    .on_hover_text(format!(
                        "Keep the damaged file aside (renamed to …damaged-<time>) and use the {} labels of the backup (.bak); Ctrl+Z undoes",
                        backup.len()
                    ))
                    .clicked()
            {
                commands.push(AppCommand::RestoreBackup);
            }
            if ui
                .button("Set the damaged file aside")
                .on_hover_text(
                    "Rename it to …damaged-<time>, keep the labels shown, and turn autosave back on",
                )
                .clicked()
            {
                commands.push(AppCommand::SetDamagedAside);
            }
        });
    }
    if let Some(offer) = &session.journal_offer {
        ui.horizontal_wrapped(|ui| {
            let n = offer.edits;
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{n} unsaved edit{} from an earlier session ({})",
                    if n == 1 { "" } else { "s" },
                    offer.path.display()
                ),
            );
            if ui
                .button("Restore")
                .on_hover_text("Apply them to the labels shown (Ctrl+Z undoes)")
                .clicked()
            {
                commands.push(AppCommand::RestoreJournal);
            }
            if ui
                .button("Discard")
                .on_hover_text("Delete the journal of those edits")
                .clicked()
            {
                commands.push(AppCommand::DiscardJournal);
            }
        });
    }
}
