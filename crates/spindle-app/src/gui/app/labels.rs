//! The open recording's label files, written by its label thread
//! (`LabelSaver`) so that the UI never waits on them: autosave, Ctrl+S, the
//! save before another recording opens, the recovery buttons; and what
//! their answers mean for the window.

use std::path::Path;
use std::time::Duration;

use eframe::egui;

use crate::gui::command::AppCommand;
use crate::gui::error::AppError;
use crate::gui::session::LabelNews;

use super::SpindleApp;

impl SpindleApp {
    /// Once per logic step: takes the label thread's answers, asks for an
    /// autosave when one is due, and opens the recording waiting for the
    /// open one's labels to be saved once they are.
    pub(super) fn poll_labels(&mut self, now_s: f64, ctx: &egui::Context) {
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let news = s.poll_labels(now_s);
        if s.doc.is_dirty() && s.saving.is_none() && s.autosave.is_due(now_s) {
            if let Err(e) = s.save() {
                // Shown in the status bar; the next edit tries again.
                s.last_save_error = Some(e);
            }
        } else if let Some(due) = s.autosave.due_at() {
            ctx.request_repaint_after(Duration::from_secs_f64((due - now_s).max(0.0)));
        }
        if !news.is_empty() {
            // A restored backup may bring classes of its own.
            for class in s.doc.labels().classes() {
                self.recording.scheme.ensure(&class);
            }
        }
        let Some(s) = &self.recording.session else {
            return;
        };
        let unsaved = s.has_unsaved_work();
        let path = s.recording.path.clone();
        let failed = news.iter().any(|n| matches!(n, LabelNews::SaveFailed));
        for n in news {
            self.on_label_news(&path, n);
        }
        let Some(next) = self.recording.switch_to.clone() else {
            return;
        };
        if failed {
            self.recording.switch_to = None;
            self.report(AppError::KeptOpen { path, wanted: next });
        } else if !unsaved {
            self.recording.switch_to = None;
            self.load_recording(&next);
        }
    }

    fn on_label_news(&mut self, recording: &Path, news: LabelNews) {
        match news {
            LabelNews::Saved(n) => self.shell.browser.set_label_count(recording, n),
            LabelNews::SaveFailed => {}
            LabelNews::Notice(text) => self.shell.notice = Some(text),
            LabelNews::Report(e) => self.report(e),
        }
    }

    /// Before another recording opens: asks for the open one's labels to be
    /// saved; true when the opening must wait for that (it then follows
    /// from [`Self::poll_labels`]). Labels that cannot be saved at all keep
    /// the recording open, and the window says why.
    pub(super) fn save_before_switching(&mut self, next: &Path) -> bool {
        let Some(s) = &mut self.recording.session else {
            return false;
        };
        match s.save() {
            Ok(_) if !s.has_unsaved_work() => false,
            Ok(_) => {
                self.recording.switch_to = Some(next.to_path_buf());
                true
            }
            Err(e) => {
                s.last_save_error = Some(e);
                let path = s.recording.path.clone();
                self.report(AppError::KeptOpen {
                    path,
                    wanted: next.to_path_buf(),
                });
                true
            }
        }
    }

    /// Saves the labels now (Ctrl+S, File > Save labels); a failure stays in
    /// the status bar until a later save succeeds.
    pub(super) fn save_labels_in_place(&mut self) {
        if let Some(s) = &mut self.recording.session
            && let Err(e) = s.save()
        {
            s.last_save_error = Some(e);
        }
    }

    /// Acts on the user's answer to a question of the recovery lines (see
    /// `recovery.rs`) about the open recording's labels; the renames and
    /// removals are the label thread's, answered through
    /// [`Self::poll_labels`].
    pub(super) fn recover(&mut self, command: &AppCommand, now_s: f64) {
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let done = match command {
            AppCommand::RestoreBackup => s.restore_backup(),
            AppCommand::SetDamagedAside => s.set_damaged_aside(),
            AppCommand::RestoreJournal => s.restore_journal(now_s).map(|()| {
                self.shell.notice = Some("unsaved edits of an earlier session restored".into());
            }),
            AppCommand::DiscardJournal => {
                s.discard_journal();
                self.shell.notice = Some("unsaved edits of an earlier session discarded".into());
                Ok(())
            }
            _ => return,
        };
        for class in s.doc.labels().classes() {
            self.recording.scheme.ensure(&class);
        }
        if let Err(e) = done {
            self.report(e);
        }
    }
}
