//! Labels: the model ([`Label`], [`LabelSet`]) and its files on disk, the BIDS
//! `events.tsv` sidecar (`X.edf` -> `X_events.tsv`, named by
//! [`sidecar_path`](super::sidecar_path) in `bids.rs`) and the
//! `onset_s,duration_s,label` CSV layout.

//!
//! `read` parses label tables (`events.tsv`, CSV), `write` writes the
//! sidecar with its backup; which labels belong to a recording is
//! `label_source.rs`, beside this folder.

mod read;
#[cfg(test)]
mod tests;
mod write;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Annotation;
pub use read::{read_events_tsv, read_labels_csv};
pub use write::{events_tsv_text, write_events_tsv};

/// One labeled span (or point, when the duration is 0) of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Start, in seconds from the recording's start (may be negative in BIDS).
    pub onset_s: f64,
    /// Length in seconds, `>= 0`; 0 for a point event.
    pub duration_s: f64,
    /// The class, e.g. `LongBlink`.
    pub trial_type: String,
    /// Values of the extra columns, in the order of [`LabelSet::extra_columns`].
    pub extra: Vec<String>,
}

impl Label {
    /// A label with no extra column values; times in seconds.
    pub fn new(onset_s: f64, duration_s: f64, trial_type: impl Into<String>) -> Self {
        Self {
            onset_s,
            duration_s,
            trial_type: trial_type.into(),
            extra: Vec::new(),
        }
    }

    /// The sort order of labels: by onset, then duration, then trial type.
    pub fn order(&self, other: &Self) -> Ordering {
        self.onset_s
            .total_cmp(&other.onset_s)
            .then(self.duration_s.total_cmp(&other.duration_s))
            .then_with(|| self.trial_type.cmp(&other.trial_type))
    }
}

/// The labels of one recording, with the names of any extra columns their file
/// carries (BIDS allows columns beyond `onset`, `duration`, `trial_type`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSet {
    /// The labels, sorted by [`Label::order`] when read or built here.
    pub labels: Vec<Label>,
    /// Names of the extra columns, in file order.
    pub extra_columns: Vec<String>,
}

impl LabelSet {
    /// A set of labels without extra columns, sorted.
    pub fn new(labels: Vec<Label>) -> Self {
        Self {
            labels,
            extra_columns: Vec::new(),
        }
        .sorted()
    }

    /// Sorts the labels in place by (onset, duration, trial type); stable.
    pub fn sort(&mut self) {
        self.labels.sort_by(Label::order);
    }

    /// The same set with its labels sorted by (onset, duration, trial type).
    pub fn sorted(mut self) -> Self {
        self.sort();
        self
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The distinct trial types, sorted.
    pub fn classes(&self) -> Vec<String> {
        self.counts().into_keys().collect()
    }

    /// How many labels each trial type has, keyed (and so sorted) by trial type.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for label in &self.labels {
            *counts.entry(label.trial_type.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Labels from a file's annotations: the text becomes the trial type and a
    /// missing duration becomes 0 s. Sorted; no extra columns.
    pub fn from_annotations(annotations: &[Annotation]) -> Self {
        Self::new(
            annotations
                .iter()
                .map(|a| Label::new(a.onset_s, a.duration_s.unwrap_or(0.0), a.text.clone()))
                .collect(),
        )
    }

    /// The labels as annotations, in the set's order; a duration of 0 s (a point
    /// event) becomes `None`. Extra column values are dropped.
    pub fn to_annotations(&self) -> Vec<Annotation> {
        self.labels
            .iter()
            .map(|l| Annotation {
                onset_s: l.onset_s,
                duration_s: (l.duration_s != 0.0).then_some(l.duration_s),
                text: l.trial_type.clone(),
            })
            .collect()
    }
}

/// The backup of a label file: `X_events.tsv` -> `X_events.tsv.bak`, the
/// version before the last one [`write_events_tsv`] replaced.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(".bak");
    path.with_file_name(name)
}
