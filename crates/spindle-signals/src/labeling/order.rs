//! Orders for the label table.

use crate::recording::LabelSet;

/// How the label table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelOrder {
    /// By onset (the set's own order).
    #[default]
    Time,
    /// By class name, then onset.
    Class,
}

/// Positions of `labels` in `order`.
pub fn ordered(labels: &LabelSet, order: LabelOrder) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    if order == LabelOrder::Class {
        idx.sort_by(|&a, &b| {
            let (la, lb) = (&labels.labels[a], &labels.labels[b]);
            la.trial_type.cmp(&lb.trial_type).then(la.order(lb))
        });
    }
    idx
}

/// The edit that renames class `from` to `to` on every label that has it, as
/// one undoable batch; `None` when no label has it.
pub fn rename_class(labels: &LabelSet, from: &str, to: &str) -> Option<super::Edit> {
    let edits: Vec<super::Edit> = labels
        .labels
        .iter()
        .filter(|l| l.trial_type == from)
        .map(|l| super::Edit::Change {
            before: l.clone(),
            after: crate::recording::Label {
                trial_type: to.to_owned(),
                ..l.clone()
            },
        })
        .collect();
    (!edits.is_empty()).then_some(super::Edit::Batch(edits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::Label;

    #[test]
    fn class_order_and_rename() {
        let mut set = LabelSet::new(vec![
            Label::new(0.0, 1.0, "b"),
            Label::new(1.0, 1.0, "a"),
            Label::new(2.0, 1.0, "b"),
        ]);
        assert_eq!(ordered(&set, LabelOrder::Time), vec![0, 1, 2]);
        assert_eq!(ordered(&set, LabelOrder::Class), vec![1, 0, 2]);
        let e = rename_class(&set, "b", "c").unwrap();
        e.apply(&mut set).unwrap();
        assert_eq!(set.counts().get("c"), Some(&2));
        assert!(rename_class(&set, "zzz", "c").is_none());
    }
}
