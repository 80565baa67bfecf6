//! When to autosave: shortly after the last edit, and never later than a
//! deadline after the first unsaved one, so a steady stream of edits still
//! reaches the disk.

/// Seconds after the last edit before saving.
pub const QUIET_S: f64 = 0.5;

/// Seconds after the first unsaved edit by which a save happens at the latest.
pub const DEADLINE_S: f64 = 1.5;

/// Autosave timing on a clock of seconds (any monotonic origin).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AutosaveClock {
    first_unsaved_s: Option<f64>,
    last_edit_s: f64,
}

impl AutosaveClock {
    /// Notes an edit at time `now_s`.
    pub fn note_edit(&mut self, now_s: f64) {
        self.first_unsaved_s.get_or_insert(now_s);
        self.last_edit_s = now_s;
    }

    /// When the next save is due, or `None` when nothing is unsaved.
    pub fn due_at(&self) -> Option<f64> {
        let first = self.first_unsaved_s?;
        Some((self.last_edit_s + QUIET_S).min(first + DEADLINE_S))
    }

    /// True when a save is due at `now_s`.
    pub fn is_due(&self, now_s: f64) -> bool {
        self.due_at().is_some_and(|t| now_s >= t)
    }

    /// Notes that everything is saved.
    pub fn saved(&mut self) {
        self.first_unsaved_s = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_after_quiet_period_or_deadline() {
        let mut c = AutosaveClock::default();
        assert_eq!(c.due_at(), None);
        c.note_edit(10.0);
        assert!(!c.is_due(10.2));
        assert!(c.is_due(10.5));
        // Edits every 0.3 s: the deadline still forces a save.
        for k in 1..10 {
            c.note_edit(10.0 + 0.3 * k as f64);
        }
        assert_eq!(c.due_at(), Some(11.5));
        c.saved();
        assert!(!c.is_due(100.0));
    }
}
