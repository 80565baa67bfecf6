//! A recording's labels being edited: the set, the undo and redo stacks, and
//! a revision counter that autosave compares against.

use super::{Edit, EditError};
use crate::recording::{Label, LabelSet};

/// Labels under edit with undo/redo history.
#[derive(Debug, Clone, Default)]
pub struct LabelDocument {
    labels: LabelSet,
    undo: Vec<Edit>,
    redo: Vec<Edit>,
    revision: u64,
    saved_revision: u64,
}

impl LabelDocument {
    /// A document holding `labels`, with empty history, counted as saved.
    pub fn new(labels: LabelSet) -> Self {
        Self {
            labels: labels.sorted(),
            ..Self::default()
        }
    }

    /// The current labels, sorted.
    pub fn labels(&self) -> &LabelSet {
        &self.labels
    }

    /// Applies `edit` and records it for undo (clearing redo). Returns the
    /// label the edit leaves in place, if any.
    pub fn apply(&mut self, edit: Edit) -> Result<Option<Label>, EditError> {
        let kept = edit.apply(&mut self.labels)?;
        self.undo.push(edit);
        self.redo.clear();
        self.revision += 1;
        Ok(kept)
    }

    /// Undoes the last edit; `None` when there is nothing to undo, else the
    /// label the undo leaves in place, if any.
    pub fn undo(&mut self) -> Option<Option<Label>> {
        let edit = self.undo.pop()?;
        match edit.inverse().apply(&mut self.labels) {
            Ok(kept) => {
                self.redo.push(edit);
                self.revision += 1;
                Some(kept)
            }
            // Cannot happen while every change goes through `apply`; drop the entry.
            Err(_) => None,
        }
    }

    /// Redoes the last undone edit; like [`Self::undo`].
    pub fn redo(&mut self) -> Option<Option<Label>> {
        let edit = self.redo.pop()?;
        match edit.apply(&mut self.labels) {
            Ok(kept) => {
                self.undo.push(edit);
                self.revision += 1;
                Some(kept)
            }
            Err(_) => None,
        }
    }

    /// True when there is an edit to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// True when there is an edit to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Counts every change (edit, undo, redo).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// True when the labels changed since [`Self::mark_saved`] (or creation).
    pub fn is_dirty(&self) -> bool {
        self.revision != self.saved_revision
    }

    /// Records that revision `revision` is on disk.
    pub fn mark_saved(&mut self, revision: u64) {
        self.saved_revision = revision;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_redo_round_trip_and_dirty_flag() {
        let mut doc = LabelDocument::new(LabelSet::default());
        assert!(!doc.is_dirty() && !doc.can_undo());
        let l = Label::new(1.0, 2.0, "a");
        doc.apply(Edit::Insert(l.clone())).unwrap();
        assert!(doc.is_dirty());
        doc.mark_saved(doc.revision());
        assert!(!doc.is_dirty());
        assert_eq!(doc.undo(), Some(None));
        assert!(doc.labels().is_empty() && doc.is_dirty());
        assert_eq!(doc.redo(), Some(Some(l.clone())));
        assert_eq!(doc.labels().labels, vec![l]);
        assert_eq!(doc.redo(), None);
        doc.undo();
        doc.apply(Edit::Insert(Label::new(0.0, 0.0, "m"))).unwrap();
        assert!(!doc.can_redo());
    }
}
