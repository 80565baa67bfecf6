//! Epoch scoring: fixed pages (e.g. 30 s) each labeled with one class.

use super::Edit;
use crate::recording::{Label, LabelSet};

/// Times closer than this (seconds) count as equal when matching pages.
const EPS_S: f64 = 1e-6;

/// The page (0-based) of `page_s`-second pages that holds time `t_s`.
pub fn page_of(t_s: f64, page_s: f64) -> usize {
    if page_s <= 0.0 || t_s <= 0.0 {
        0
    } else {
        (t_s / page_s + EPS_S).floor() as usize
    }
}

/// Number of pages covering `duration_s` (the last one may be partial).
pub fn page_count(duration_s: f64, page_s: f64) -> usize {
    if page_s <= 0.0 {
        1
    } else {
        ((duration_s / page_s) - EPS_S).ceil().max(1.0) as usize
    }
}

/// The label of page `page` in `labels`: one that spans exactly that page.
pub fn page_label(labels: &LabelSet, page: usize, page_s: f64) -> Option<&Label> {
    let onset = page as f64 * page_s;
    labels
        .labels
        .iter()
        .find(|l| (l.onset_s - onset).abs() < EPS_S && (l.duration_s - page_s).abs() < EPS_S)
}

/// The edit that scores page `page` as `class`: relabels the page's label if it
/// has one (none when it already has that class), else inserts one.
pub fn score_page(labels: &LabelSet, page: usize, page_s: f64, class: &str) -> Option<Edit> {
    match page_label(labels, page, page_s) {
        Some(l) if l.trial_type == class => None,
        Some(l) => Some(Edit::Change {
            before: l.clone(),
            after: Label {
                trial_type: class.to_owned(),
                ..l.clone()
            },
        }),
        None => Some(Edit::Insert(Label::new(
            page as f64 * page_s,
            page_s,
            class,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_scoring() {
        assert_eq!(page_of(29.999, 30.0), 0);
        assert_eq!(page_of(30.0, 30.0), 1);
        assert_eq!(page_count(120.0, 30.0), 4);
        assert_eq!(page_count(121.0, 30.0), 5);
        let mut set = LabelSet::default();
        let e = score_page(&set, 1, 30.0, "N2").unwrap();
        e.apply(&mut set).unwrap();
        assert_eq!(set.labels, vec![Label::new(30.0, 30.0, "N2")]);
        assert!(score_page(&set, 1, 30.0, "N2").is_none());
        let e = score_page(&set, 1, 30.0, "REM").unwrap();
        e.apply(&mut set).unwrap();
        assert_eq!(set.labels, vec![Label::new(30.0, 30.0, "REM")]);
    }
}
