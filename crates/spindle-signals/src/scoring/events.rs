//! Agreement between two scorers' event labels (blinks, spindles,
//! arousals), matched by overlap.
//!
//! The rule: two labels match when they have the same class and overlap by
//! at least half of the shorter one's duration ([`MIN_OVERLAP`]); a point
//! event (duration 0) matches a label of its class that it lies in or
//! within [`POINT_TOLERANCE_S`] of. Each label matches at most one other:
//! candidate pairs are taken largest overlap first (then nearest onsets).
//! Events have no agreed negatives, so the summary is F1 (matched twice over
//! matched twice plus unmatched on both sides, `2M / (2M + A + B)`, the
//! positive specific agreement), not a kappa.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::recording::{Label, LabelSet};

/// The least overlap of a match, as a fraction of the shorter label.
pub const MIN_OVERLAP: f64 = 0.5;

/// How far (seconds) a point event may lie from a label it matches.
pub const POINT_TOLERANCE_S: f64 = 0.5;

/// Matched and unmatched events of one class (or all).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct EventCounts {
    /// Pairs matched.
    pub matched: usize,
    /// The first scorer's events with no match.
    pub only_first: usize,
    /// The second scorer's events with no match.
    pub only_second: usize,
    /// `2 matched / (2 matched + only_first + only_second)` (0..=1; 0 when
    /// neither has an event).
    pub f1: f64,
}

/// Event agreement of two label sets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventAgreement {
    /// All classes together.
    pub total: EventCounts,
    /// Per class, by name.
    pub per_class: BTreeMap<String, EventCounts>,
    /// The matched pairs: (index in the first set, index in the second),
    /// sorted by the first.
    #[serde(skip)]
    pub pairs: Vec<(usize, usize)>,
}

impl EventCounts {
    fn new(matched: usize, only_first: usize, only_second: usize) -> Self {
        let den = 2 * matched + only_first + only_second;
        Self {
            matched,
            only_first,
            only_second,
            f1: if den == 0 {
                0.0
            } else {
                2.0 * matched as f64 / den as f64
            },
        }
    }
}

/// How well `a` and `b` match, as a rank (larger first): the overlap in
/// seconds for spans, minus the distance for a point; `None` when they do
/// not match by the module's rule.
fn match_rank(a: &Label, b: &Label) -> Option<f64> {
    if a.trial_type != b.trial_type {
        return None;
    }
    let (a_end, b_end) = (a.onset_s + a.duration_s, b.onset_s + b.duration_s);
    let overlap = a_end.min(b_end) - a.onset_s.max(b.onset_s);
    let shorter = a.duration_s.min(b.duration_s);
    if shorter > 0.0 {
        (overlap > 0.0 && overlap >= MIN_OVERLAP * shorter).then_some(overlap)
    } else {
        let distance = (-overlap).max(0.0);
        (distance <= POINT_TOLERANCE_S).then_some(-distance)
    }
}

/// Matches the events of `a` and `b` (see the module documentation).
pub fn match_events(a: &LabelSet, b: &LabelSet) -> EventAgreement {
    let mut candidates: Vec<(f64, f64, usize, usize)> = Vec::new();
    for (i, x) in a.labels.iter().enumerate() {
        for (j, y) in b.labels.iter().enumerate() {
            // Labels are sorted by onset: later ones start after this ends.
            if y.onset_s > x.onset_s + x.duration_s + POINT_TOLERANCE_S {
                break;
            }
            if let Some(rank) = match_rank(x, y) {
                candidates.push((rank, (x.onset_s - y.onset_s).abs(), i, j));
            }
        }
    }
    candidates.sort_by(|p, q| {
        q.0.total_cmp(&p.0)
            .then(p.1.total_cmp(&q.1))
            .then((p.2, p.3).cmp(&(q.2, q.3)))
    });
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    let mut pairs = Vec::new();
    for (_, _, i, j) in candidates {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            pairs.push((i, j));
        }
    }
    pairs.sort_unstable();
    let mut classes: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (i, l) in a.labels.iter().enumerate() {
        let e = classes.entry(l.trial_type.clone()).or_default();
        if used_a[i] {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    for (j, l) in b.labels.iter().enumerate() {
        if !used_b[j] {
            classes.entry(l.trial_type.clone()).or_default().2 += 1;
        }
    }
    let per_class: BTreeMap<String, EventCounts> = classes
        .into_iter()
        .map(|(k, (m, x, y))| (k, EventCounts::new(m, x, y)))
        .collect();
    let sum = |f: fn(&EventCounts) -> usize| per_class.values().map(f).sum::<usize>();
    EventAgreement {
        total: EventCounts::new(
            sum(|c| c.matched),
            sum(|c| c.only_first),
            sum(|c| c.only_second),
        ),
        per_class,
        pairs,
    }
}

impl EventAgreement {
    /// The agreement as lines of text; `first` and `second` name the scorers.
    pub fn text(&self, first: &str, second: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{first} against {second}");
        let _ = writeln!(
            out,
            "  class                 matched  only first  only second     F1"
        );
        let rows = self
            .per_class
            .iter()
            .map(|(k, c)| (k.as_str(), c))
            .chain(std::iter::once(("all", &self.total)));
        for (name, c) in rows {
            let _ = writeln!(
                out,
                "  {name:<20} {:>8} {:>11} {:>12} {:>6.3}",
                c.matched, c.only_first, c.only_second, c.f1
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rows: &[(f64, f64, &str)]) -> LabelSet {
        LabelSet::new(rows.iter().map(|&(o, d, c)| Label::new(o, d, c)).collect())
    }

    #[test]
    fn events_match_when_they_overlap_by_half_of_the_shorter() {
        let a = set(&[
            (10.0, 2.0, "blink"),    // overlaps b's 11.0-13.0 by 1.0 = half of 2.0: match
            (20.0, 2.0, "blink"),    // b's 21.2-23.2 overlaps by 0.8 < 1.0: no match
            (30.0, 10.0, "spindle"), // b's 39.0-40.5 overlaps 1.0 of 1.5 >= 0.75: match
            (50.0, 0.0, "K"),        // point: b's point at 50.4 is within 0.5 s
            (60.0, 1.0, "blink"),    // b has only a spindle here: classes differ
        ]);
        let b = set(&[
            (11.0, 2.0, "blink"),
            (21.2, 2.0, "blink"),
            (39.0, 1.5, "spindle"),
            (50.4, 0.0, "K"),
            (60.0, 1.0, "spindle"),
        ]);
        let r = match_events(&a, &b);
        assert_eq!(r.pairs, vec![(0, 0), (2, 2), (3, 3)]);
        // blink: 1 matched, 2 only in a (20, 60), 1 only in b (21.2):
        // F1 = 2 / (2 + 2 + 1).
        let blink = r.per_class["blink"];
        assert_eq!(
            (blink.matched, blink.only_first, blink.only_second),
            (1, 2, 1)
        );
        assert!((blink.f1 - 0.4).abs() < 1e-12);
        assert_eq!(r.per_class["spindle"].only_second, 1);
        assert_eq!(r.per_class["K"].f1, 1.0);
        // All: 3 matched, 2 only in a, 2 only in b: 6 / 10.
        assert_eq!(
            (r.total.matched, r.total.only_first, r.total.only_second),
            (3, 2, 2)
        );
        assert!((r.total.f1 - 0.6).abs() < 1e-12);
        assert!(r.text("a", "b").contains("blink"));
    }

    #[test]
    fn each_event_matches_once_largest_overlap_first() {
        // Both of b's labels qualify for a's one; the larger overlap wins.
        let a = set(&[(0.0, 4.0, "x")]);
        let b = set(&[(0.0, 2.0, "x"), (1.0, 3.0, "x")]);
        let r = match_events(&a, &b);
        assert_eq!(r.pairs, vec![(0, 1)]);
        assert_eq!(r.total.only_second, 1);
        let none = match_events(&LabelSet::default(), &LabelSet::default());
        assert_eq!(none.total.f1, 0.0);
    }
}
