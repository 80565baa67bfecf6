//! Label edits as values: each [`Edit`] applies to a [`LabelSet`] and has an
//! exact inverse, which is all undo/redo needs.

use crate::recording::{Label, LabelSet};

/// One change to a label set. Labels are found by value, so an edit stays
/// valid however the set is sorted.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Add this label.
    Insert(Label),
    /// Remove a label equal to this one.
    Remove(Label),
    /// Replace a label equal to `before` by `after` (move, resize, relabel).
    Change {
        /// The label as it was.
        before: Label,
        /// The label as it becomes.
        after: Label,
    },
    /// Several edits applied in order, undone in reverse, as one step.
    Batch(Vec<Edit>),
    /// Replace the whole set, extra columns included, when it equals `before`
    /// (restoring labels from a backup or from an edit journal).
    Replace {
        /// The set as it was.
        before: LabelSet,
        /// The set as it becomes.
        after: LabelSet,
    },
}

/// Why an edit could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    /// The label to remove or change is not in the set.
    #[error("label `{trial_type}` at {onset_s:.3} s is not in the label set")]
    Missing {
        /// Its class.
        trial_type: String,
        /// Its onset in seconds.
        onset_s: f64,
    },
    /// The new label has a negative or non-finite time.
    #[error(
        "label `{trial_type}` has an invalid time (onset {onset_s} s, duration {duration_s} s)"
    )]
    InvalidTime {
        /// Its class.
        trial_type: String,
        /// Onset in seconds.
        onset_s: f64,
        /// Duration in seconds.
        duration_s: f64,
    },
    /// The set to replace is not the current one.
    #[error("the labels changed since this edit was made")]
    NotCurrent,
}

fn missing(label: &Label) -> EditError {
    EditError::Missing {
        trial_type: label.trial_type.clone(),
        onset_s: label.onset_s,
    }
}

fn check(label: &Label) -> Result<(), EditError> {
    if label.onset_s.is_finite() && label.duration_s.is_finite() && label.duration_s >= 0.0 {
        Ok(())
    } else {
        Err(EditError::InvalidTime {
            trial_type: label.trial_type.clone(),
            onset_s: label.onset_s,
            duration_s: label.duration_s,
        })
    }
}

/// Inserts `label` at its sorted position and returns that position.
fn insert_sorted(set: &mut LabelSet, label: Label) -> usize {
    let at = set
        .labels
        .partition_point(|l| l.order(&label) != std::cmp::Ordering::Greater);
    set.labels.insert(at, label);
    at
}

impl Edit {
    /// The edit that undoes this one.
    pub fn inverse(&self) -> Edit {
        match self {
            Edit::Insert(l) => Edit::Remove(l.clone()),
            Edit::Remove(l) => Edit::Insert(l.clone()),
            Edit::Change { before, after } => Edit::Change {
                before: after.clone(),
                after: before.clone(),
            },
            Edit::Batch(edits) => Edit::Batch(edits.iter().rev().map(Edit::inverse).collect()),
            Edit::Replace { before, after } => Edit::Replace {
                before: after.clone(),
                after: before.clone(),
            },
        }
    }

    /// Applies the edit to `set` (kept sorted) and returns the label the edit
    /// leaves in place (the inserted or changed one), if any, for selection.
    /// On error `set` is unchanged.
    pub fn apply(&self, set: &mut LabelSet) -> Result<Option<Label>, EditError> {
        match self {
            Edit::Insert(label) => {
                check(label)?;
                insert_sorted(set, label.clone());
                Ok(Some(label.clone()))
            }
            Edit::Remove(label) => {
                let at = set
                    .labels
                    .iter()
                    .position(|l| l == label)
                    .ok_or_else(|| missing(label))?;
                set.labels.remove(at);
                Ok(None)
            }
            Edit::Change { before, after } => {
                check(after)?;
                let at = set
                    .labels
                    .iter()
                    .position(|l| l == before)
                    .ok_or_else(|| missing(before))?;
                set.labels.remove(at);
                insert_sorted(set, after.clone());
                Ok(Some(after.clone()))
            }
            Edit::Batch(edits) => {
                let backup = set.clone();
                let mut last = None;
                for edit in edits {
                    match edit.apply(set) {
                        Ok(l) => last = l.or(last),
                        Err(e) => {
                            *set = backup;
                            return Err(e);
                        }
                    }
                }
                Ok(last)
            }
            Edit::Replace { before, after } => {
                if set != before {
                    return Err(EditError::NotCurrent);
                }
                for label in &after.labels {
                    check(label)?;
                }
                *set = after.clone().sorted();
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_then_inverse_restores() {
        let mut set = LabelSet::new(vec![Label::new(1.0, 1.0, "a"), Label::new(5.0, 0.0, "b")]);
        let original = set.clone();
        let edits = [
            Edit::Insert(Label::new(3.0, 2.0, "c")),
            Edit::Remove(Label::new(5.0, 0.0, "b")),
            Edit::Change {
                before: Label::new(1.0, 1.0, "a"),
                after: Label::new(7.0, 1.0, "a"),
            },
            Edit::Batch(vec![
                Edit::Insert(Label::new(0.0, 1.0, "x")),
                Edit::Remove(Label::new(1.0, 1.0, "a")),
            ]),
            Edit::Replace {
                before: original.clone(),
                after: LabelSet {
                    labels: vec![Label {
                        extra: vec!["r1".into()],
                        ..Label::new(9.0, 1.0, "z")
                    }],
                    extra_columns: vec!["rater".into()],
                },
            },
        ];
        for e in &edits {
            e.apply(&mut set).unwrap();
            assert!(set.labels.windows(2).all(|w| w[0].order(&w[1]).is_le()));
            e.inverse().apply(&mut set).unwrap();
            assert_eq!(set, original);
        }
    }

    #[test]
    fn failed_edit_leaves_set_unchanged() {
        let mut set = LabelSet::new(vec![Label::new(1.0, 1.0, "a")]);
        let before = set.clone();
        let batch = Edit::Batch(vec![
            Edit::Insert(Label::new(2.0, 1.0, "b")),
            Edit::Remove(Label::new(9.0, 1.0, "zzz")),
        ]);
        assert!(batch.apply(&mut set).is_err());
        assert_eq!(set, before);
        let stale = Edit::Replace {
            before: LabelSet::default(),
            after: LabelSet::default(),
        };
        assert_eq!(stale.apply(&mut set), Err(EditError::NotCurrent));
        assert_eq!(set, before);
        assert!(
            Edit::Insert(Label::new(1.0, -1.0, "neg"))
                .apply(&mut set)
                .is_err()
        );
    }
}
