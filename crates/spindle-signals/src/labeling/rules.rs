//! What a gesture or a key does to the labels, as functions that return the
//! [`Edit`] to apply (or nothing): the viewer and the key handler only turn
//! pointer positions and keys into times and classes and call these.

use super::{Edit, epoch};
use crate::recording::{Label, LabelSet};

/// Times of new labels are kept to the millisecond, like the sidecar.
pub fn round_ms(t_s: f64) -> f64 {
    (t_s * 1000.0).round() / 1000.0
}

/// A drag across the traces from `anchor_s` to `end_s` (either order): a new
/// label of `class`, unless the drag is shorter than `min_s` (a click).
pub fn create_by_drag(anchor_s: f64, end_s: f64, min_s: f64, class: &str) -> Option<Edit> {
    let (a, b) = (anchor_s.min(end_s), anchor_s.max(end_s));
    (b - a >= min_s).then(|| Edit::Insert(Label::new(round_ms(a), round_ms(b - a), class)))
}

/// Dragging the start (`start_edge`) or end edge of `before` to `t_s`; edges
/// dragged past each other swap. `None` when nothing changes.
pub fn resize_edge(before: &Label, start_edge: bool, t_s: f64) -> Option<Edit> {
    let (mut a, mut b) = (before.onset_s, before.onset_s + before.duration_s);
    if start_edge {
        a = t_s;
    } else {
        b = t_s;
    }
    let (a, b) = (a.min(b), a.max(b));
    let after = Label {
        onset_s: round_ms(a),
        duration_s: round_ms(b - a),
        ..before.clone()
    };
    (after != *before).then(|| Edit::Change {
        before: before.clone(),
        after,
    })
}

/// A point marker of `class` at `t_s` (Shift+click).
pub fn marker(t_s: f64, class: &str) -> Edit {
    Edit::Insert(Label::new(round_ms(t_s), 0.0, class))
}

/// Deleting the selected label.
pub fn delete(selection: &Label) -> Edit {
    Edit::Remove(selection.clone())
}

/// Giving the selected label another class; `None` when it has it already.
pub fn relabel(selection: &Label, class: &str) -> Option<Edit> {
    (selection.trial_type != class).then(|| Edit::Change {
        before: selection.clone(),
        after: Label {
            trial_type: class.to_string(),
            ..selection.clone()
        },
    })
}

/// What a class hotkey does.
#[derive(Debug, Clone, PartialEq)]
pub enum HotkeyAction {
    /// Apply this edit (relabel the selection; nothing when it has the class).
    Relabel(Option<Edit>),
    /// Epoch scoring: apply this edit to the page, then show the next page.
    ScorePage(Option<Edit>),
    /// Nothing selected: new labels get this class from now on.
    ChooseClass(String),
}

/// A class hotkey: relabels the selection; in epoch-scoring mode scores page
/// `page` (of `page_s` seconds) and moves on; otherwise picks the class for
/// new labels.
pub fn hotkey(
    labels: &LabelSet,
    selection: Option<&Label>,
    epoch_mode: bool,
    page: usize,
    page_s: f64,
    class: &str,
) -> HotkeyAction {
    match selection {
        Some(sel) => HotkeyAction::Relabel(relabel(sel, class)),
        None if epoch_mode => {
            HotkeyAction::ScorePage(epoch::score_page(labels, page, page_s, class))
        }
        None => HotkeyAction::ChooseClass(class.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_makes_a_label_unless_it_is_a_click() {
        assert_eq!(
            create_by_drag(5.2345, 2.0004, 0.01, "blink"),
            Some(Edit::Insert(Label::new(2.0, 3.234, "blink")))
        );
        assert_eq!(create_by_drag(2.0, 2.005, 0.01, "blink"), None);
    }

    #[test]
    fn edges_move_and_swap_when_crossed() {
        let l = Label::new(10.0, 2.0, "a");
        let Some(Edit::Change { after, .. }) = resize_edge(&l, true, 9.5) else {
            panic!("start edge not moved")
        };
        assert_eq!((after.onset_s, after.duration_s), (9.5, 2.5));
        let Some(Edit::Change { after, .. }) = resize_edge(&l, false, 8.0) else {
            panic!("end edge not moved")
        };
        assert_eq!((after.onset_s, after.duration_s), (8.0, 2.0));
        assert_eq!(resize_edge(&l, false, 12.0), None, "no change, no edit");
    }

    #[test]
    fn markers_deletes_and_relabels() {
        assert_eq!(
            marker(1.23456, "spike"),
            Edit::Insert(Label::new(1.235, 0.0, "spike"))
        );
        let l = Label::new(1.0, 1.0, "a");
        assert_eq!(delete(&l), Edit::Remove(l.clone()));
        assert_eq!(relabel(&l, "a"), None);
        let Some(Edit::Change { before, after }) = relabel(&l, "b") else {
            panic!("not relabeled")
        };
        assert_eq!(
            (before.trial_type.as_str(), after.trial_type.as_str()),
            ("a", "b")
        );
    }

    #[test]
    fn hotkeys_relabel_score_or_choose() {
        let labels = LabelSet::default();
        let sel = Label::new(0.0, 1.0, "a");
        assert!(matches!(
            hotkey(&labels, Some(&sel), true, 0, 30.0, "b"),
            HotkeyAction::Relabel(Some(_))
        ));
        assert!(matches!(
            hotkey(&labels, None, true, 2, 30.0, "b"),
            HotkeyAction::ScorePage(Some(Edit::Insert(l))) if l.onset_s == 60.0 && l.duration_s == 30.0
        ));
        assert_eq!(
            hotkey(&labels, None, false, 0, 30.0, "b"),
            HotkeyAction::ChooseClass("b".into())
        );
    }
}
