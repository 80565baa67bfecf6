//! Labels a model suggests for a recording, kept apart from the user's own
//! labels until each is accepted: accepting turns a suggestion into an
//! [`Edit`] the document applies (and undoes) like any other.

use super::Edit;
use crate::recording::{Label, LabelSet};

/// One suggested label and how sure the model was (0..=1).
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The label that accepting would add.
    pub label: Label,
    /// Mean class probability over the windows merged into it.
    pub confidence: f32,
}

/// One window a model classified: onset and duration in seconds, the
/// predicted class and its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifiedWindow {
    /// Onset, seconds.
    pub onset_s: f64,
    /// Duration, seconds.
    pub duration_s: f64,
    /// The predicted class.
    pub class: String,
    /// Its probability (0..=1).
    pub confidence: f32,
}

/// Suggestions waiting for the user's decision, for one recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suggestions {
    /// Where they came from (e.g. the run folder's name), for display.
    pub source: String,
    /// Undecided suggestions, in time order.
    pub items: Vec<Suggestion>,
}

impl Suggestions {
    /// Suggestions from classified windows: neighbouring or overlapping
    /// windows of the same class merge into one label; windows below
    /// `min_confidence`, and those overlapping a label the user already has,
    /// are left out.
    pub fn from_windows(
        source: impl Into<String>,
        windows: &[ClassifiedWindow],
        existing: &LabelSet,
        min_confidence: f32,
    ) -> Self {
        let mut sorted: Vec<&ClassifiedWindow> = windows
            .iter()
            .filter(|w| w.confidence >= min_confidence && w.duration_s > 0.0)
            .filter(|w| {
                !existing.labels.iter().any(|l| {
                    l.onset_s < w.onset_s + w.duration_s && w.onset_s < l.onset_s + l.duration_s
                })
            })
            .collect();
        sorted.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        let mut items: Vec<(Suggestion, usize)> = Vec::new();
        for w in sorted {
            if let Some((last, n)) = items.last_mut()
                && last.label.trial_type == w.class
                && w.onset_s <= last.label.onset_s + last.label.duration_s + 1e-6
            {
                let end =
                    (w.onset_s + w.duration_s).max(last.label.onset_s + last.label.duration_s);
                last.label.duration_s = end - last.label.onset_s;
                last.confidence = (last.confidence * *n as f32 + w.confidence) / (*n + 1) as f32;
                *n += 1;
                continue;
            }
            items.push((
                Suggestion {
                    label: Label::new(w.onset_s, w.duration_s, w.class.clone()),
                    confidence: w.confidence,
                },
                1,
            ));
        }
        Self {
            source: source.into(),
            items: items.into_iter().map(|(s, _)| s).collect(),
        }
    }

    /// Accepts suggestion `i`: it leaves the list and comes back as the edit
    /// that adds it.
    pub fn accept(&mut self, i: usize) -> Option<Edit> {
        (i < self.items.len()).then(|| Edit::Insert(self.items.remove(i).label))
    }

    /// Rejects suggestion `i`: it leaves the list.
    pub fn reject(&mut self, i: usize) {
        if i < self.items.len() {
            self.items.remove(i);
        }
    }

    /// Accepts every suggestion as one edit (one undo step).
    pub fn accept_all(&mut self) -> Option<Edit> {
        let edits: Vec<Edit> = self
            .items
            .drain(..)
            .map(|s| Edit::Insert(s.label))
            .collect();
        (!edits.is_empty()).then_some(Edit::Batch(edits))
    }

    /// Rejects every suggestion.
    pub fn reject_all(&mut self) {
        self.items.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(onset_s: f64, class: &str, confidence: f32) -> ClassifiedWindow {
        ClassifiedWindow {
            onset_s,
            duration_s: 2.0,
            class: class.into(),
            confidence,
        }
    }

    #[test]
    fn neighbours_of_one_class_merge_and_unsure_or_labeled_windows_drop() {
        let existing = LabelSet::new(vec![Label::new(20.0, 1.0, "blink")]);
        let windows = [
            w(0.0, "a", 0.9),
            w(2.0, "a", 0.7),
            w(4.0, "b", 0.95),
            w(6.0, "b", 0.3),
            w(8.0, "b", 0.9),
            w(19.5, "a", 0.99),
        ];
        let s = Suggestions::from_windows("run", &windows, &existing, 0.5);
        let got: Vec<(f64, f64, &str)> = s
            .items
            .iter()
            .map(|x| {
                (
                    x.label.onset_s,
                    x.label.duration_s,
                    x.label.trial_type.as_str(),
                )
            })
            .collect();
        assert_eq!(got, vec![(0.0, 4.0, "a"), (4.0, 2.0, "b"), (8.0, 2.0, "b")]);
        assert!((s.items[0].confidence - 0.8).abs() < 1e-6);
    }

    #[test]
    fn accepting_gives_edits_and_empties_the_list() {
        let windows = [w(0.0, "a", 0.9), w(4.0, "b", 0.9), w(8.0, "c", 0.9)];
        let mut s = Suggestions::from_windows("run", &windows, &LabelSet::default(), 0.0);
        assert_eq!(s.accept(1), Some(Edit::Insert(Label::new(4.0, 2.0, "b"))));
        s.reject(0);
        assert_eq!(s.items.len(), 1);
        assert_eq!(
            s.accept_all(),
            Some(Edit::Batch(vec![Edit::Insert(Label::new(8.0, 2.0, "c"))]))
        );
        assert!(s.items.is_empty());
        assert_eq!(s.accept_all(), None);
        assert_eq!(s.accept(0), None);
    }
}
