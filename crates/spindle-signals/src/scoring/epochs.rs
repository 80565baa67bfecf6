//! An epoch scoring as a value: fixed epochs from a start time, each a
//! sleep stage or unscored, optionally with a model's stage probabilities;
//! built from labels (checking that they are a regular scoring) and turned
//! back into labels.

use super::ScoringError;
use super::stage::{SleepStage, StageName, parse_stage};
use crate::recording::{Label, LabelSet};

/// Times this close (seconds) count as equal: label files keep milliseconds.
pub const TIME_EPS_S: f64 = 1e-3;

/// The epoch length assumed when the labels fit it (the AASM's 30 s).
pub const DEFAULT_EPOCH_S: f64 = 30.0;

/// The most epochs a scoring holds (a year of 30-s epochs), so that a label
/// claiming an onset far in the future cannot allocate without bound.
pub const MAX_EPOCHS: usize = 1_051_200;

/// A model's stage probabilities per epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StageProbabilities {
    /// The stage of each column, in the model's class order.
    pub classes: Vec<SleepStage>,
    /// One row per epoch of the scoring (`classes.len()` values in 0..=1),
    /// empty for an epoch the model did not predict.
    pub per_epoch: Vec<Vec<f32>>,
}

/// An epoch scoring: epoch `i` spans `start_s + i * epoch_s` for `epoch_s`
/// seconds (times from the recording's start) and holds a stage, or `None`
/// when unscored.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochScoring {
    /// Epoch length, seconds.
    pub epoch_s: f64,
    /// Onset of the first epoch, seconds from the recording's start.
    pub start_s: f64,
    /// The stage of each epoch; `None` when unscored.
    pub stages: Vec<Option<SleepStage>>,
    /// The model's probabilities, when the scoring comes from a run.
    pub probabilities: Option<StageProbabilities>,
}

/// Labels split into an epoch scoring (the sleep-stage labels) and the
/// other labels (events such as blinks, spindles, arousals).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredLabels {
    /// The scoring, or `None` when no label names a sleep stage.
    pub scoring: Option<EpochScoring>,
    /// The labels that are not sleep stages, sorted.
    pub events: LabelSet,
    /// What a reader should know about how the labels were read, e.g.
    /// `12 labels of R&K stage 4 counted as N3`.
    pub notes: Vec<String>,
}

impl EpochScoring {
    /// A scoring without probabilities.
    pub fn new(epoch_s: f64, start_s: f64, stages: Vec<Option<SleepStage>>) -> Self {
        Self {
            epoch_s,
            start_s,
            stages,
            probabilities: None,
        }
    }

    /// Number of epochs.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// True when the scoring holds no epoch.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Onset of epoch `i`, seconds.
    pub fn onset_s(&self, i: usize) -> f64 {
        self.start_s + i as f64 * self.epoch_s
    }

    /// End of the last epoch, seconds.
    pub fn end_s(&self) -> f64 {
        self.onset_s(self.len())
    }

    /// The epoch holding time `t_s`, if the scoring covers it.
    pub fn epoch_at(&self, t_s: f64) -> Option<usize> {
        let k = ((t_s - self.start_s) / self.epoch_s + TIME_EPS_S / self.epoch_s).floor();
        (k >= 0.0 && (k as usize) < self.len()).then_some(k as usize)
    }

    /// The stage at time `t_s` (`None` when unscored or outside).
    pub fn stage_at(&self, t_s: f64) -> Option<SleepStage> {
        self.epoch_at(t_s).and_then(|i| self.stages[i])
    }

    /// The model's confidence in epoch `i` (its largest probability, 0..=1),
    /// when the scoring comes from a run that predicted that epoch.
    pub fn confidence(&self, i: usize) -> Option<f32> {
        let row = self.probabilities.as_ref()?.per_epoch.get(i)?;
        row.iter().copied().reduce(f32::max)
    }

    /// Number of epochs that hold a stage.
    pub fn scored_epochs(&self) -> usize {
        self.stages.iter().flatten().count()
    }

    /// The scoring as labels, one per scored epoch named `W`, `N1`, `N2`,
    /// `N3` or `REM`; unscored epochs give no label.
    pub fn to_labels(&self) -> LabelSet {
        LabelSet::new(
            self.stages
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.map(|s| Label::new(self.onset_s(i), self.epoch_s, s.name())))
                .collect(),
        )
    }

    /// The scoring of `labels`' sleep-stage labels (see [`split_labels`]);
    /// `None` when none names a sleep stage.
    pub fn from_labels(
        labels: &LabelSet,
        epoch_s: Option<f64>,
    ) -> Result<Option<Self>, ScoringError> {
        Ok(split_labels(labels, epoch_s)?.scoring)
    }
}

/// A stage label: its time, what it names and the text it was written as.
struct StageLabel<'a> {
    onset_s: f64,
    duration_s: f64,
    name: StageName,
    text: &'a str,
}

/// Splits `labels` into the epoch scoring of its sleep-stage labels (names
/// read by [`parse_stage`]) and the other labels.
///
/// The labels are a scoring only when at least one names a stage (W, N1,
/// N2, N3, REM); labels that only say "unscored" (`?`, movement time) then
/// count as stage labels too, otherwise they stay events.
///
/// The epoch length is `epoch_s` when given, else 30 s when every stage
/// label's onset (from the first one's) and duration are whole multiples of
/// 30 s, else the shortest stage label's duration. The scoring starts at
/// the first stage label's onset. It is regular when every stage label
/// lasts a whole number of epochs, the time between consecutive labels is a
/// whole number of epochs (those epochs are unscored), and no two overlap;
/// otherwise the error says which label breaks which rule. Times are
/// compared to the millisecond.
pub fn split_labels(labels: &LabelSet, epoch_s: Option<f64>) -> Result<ScoredLabels, ScoringError> {
    let mut staged = Vec::new();
    let mut events = Vec::new();
    for l in &labels.labels {
        match parse_stage(&l.trial_type) {
            Some(name) => staged.push((
                StageLabel {
                    onset_s: l.onset_s,
                    duration_s: l.duration_s,
                    name,
                    text: &l.trial_type,
                },
                l,
            )),
            None => events.push(l.clone()),
        }
    }
    let any_stage = staged
        .iter()
        .any(|(s, _)| matches!(s.name, StageName::Stage(_)));
    if !any_stage {
        return Ok(ScoredLabels {
            scoring: None,
            events: labels.clone(),
            notes: Vec::new(),
        });
    }
    let notes = reading_notes(staged.iter().map(|(s, _)| s), &events);
    let stage_labels: Vec<StageLabel> = staged.into_iter().map(|(s, _)| s).collect();
    let scoring = regular_scoring(&stage_labels, epoch_s)?;
    Ok(ScoredLabels {
        scoring: Some(scoring),
        events: LabelSet {
            labels: events,
            extra_columns: labels.extra_columns.clone(),
        },
        notes,
    })
}

/// Notes on R&K stage 4, movement time and labels left out.
fn reading_notes<'a>(
    staged: impl Iterator<Item = &'a StageLabel<'a>>,
    events: &[Label],
) -> Vec<String> {
    let (mut stage4, mut movement) = (0usize, 0usize);
    for s in staged {
        let lower = s.text.trim().to_ascii_lowercase();
        if s.name == StageName::Stage(SleepStage::N3) && lower.contains('4') {
            stage4 += 1;
        }
        if s.name == StageName::Unscored && (lower.starts_with("movement") || lower == "mt") {
            movement += 1;
        }
    }
    let mut notes = Vec::new();
    if stage4 > 0 {
        notes.push(format!(
            "{stage4} label(s) of R&K stage 4 counted as N3 (AASM)"
        ));
    }
    if movement > 0 {
        notes.push(format!(
            "{movement} label(s) of movement time counted as unscored"
        ));
    }
    if !events.is_empty() {
        let mut classes: Vec<&str> = events.iter().map(|l| l.trial_type.as_str()).collect();
        classes.sort_unstable();
        classes.dedup();
        notes.push(format!(
            "{} label(s) that are not sleep stages left out of the scoring ({})",
            events.len(),
            classes.join(", ")
        ));
    }
    notes
}

/// `t_s` as a whole number of `epoch_s` epochs, when it is one (to the
/// millisecond).
fn whole_epochs(t_s: f64, epoch_s: f64) -> Option<f64> {
    let k = (t_s / epoch_s).round();
    ((t_s - k * epoch_s).abs() <= TIME_EPS_S).then_some(k)
}

/// The epoch length of [`split_labels`]: 30 s when everything fits it,
/// else the shortest positive duration.
fn infer_epoch_s(labels: &[StageLabel]) -> f64 {
    let start = labels.first().map_or(0.0, |l| l.onset_s);
    let fits = labels.iter().all(|l| {
        whole_epochs(l.onset_s - start, DEFAULT_EPOCH_S).is_some()
            && whole_epochs(l.duration_s, DEFAULT_EPOCH_S).is_some()
    });
    if fits {
        return DEFAULT_EPOCH_S;
    }
    labels
        .iter()
        .map(|l| l.duration_s)
        .filter(|d| *d > TIME_EPS_S)
        .reduce(f64::min)
        .unwrap_or(DEFAULT_EPOCH_S)
}

/// The scoring of sorted stage labels, or why they are not regular.
fn regular_scoring(
    labels: &[StageLabel],
    epoch_s: Option<f64>,
) -> Result<EpochScoring, ScoringError> {
    let epoch_s = epoch_s.unwrap_or_else(|| infer_epoch_s(labels));
    if !(epoch_s.is_finite() && epoch_s > TIME_EPS_S) {
        return Err(ScoringError::BadEpoch { epoch_s });
    }
    let start_s = labels.first().map_or(0.0, |l| l.onset_s);
    let mut stages: Vec<Option<SleepStage>> = Vec::new();
    let mut previous: Option<&StageLabel> = None;
    for l in labels {
        let class = l.text.to_owned();
        if l.duration_s <= TIME_EPS_S {
            return Err(ScoringError::NoDuration {
                class,
                onset_s: l.onset_s,
            });
        }
        let end_before = previous.map_or(start_s, |p| p.onset_s + p.duration_s);
        if let Some(p) = previous
            && l.onset_s < end_before - TIME_EPS_S
        {
            return Err(ScoringError::Overlap {
                first: p.text.to_owned(),
                first_onset_s: p.onset_s,
                first_end_s: end_before,
                second: class,
                second_onset_s: l.onset_s,
            });
        }
        let Some(first) = whole_epochs(l.onset_s - start_s, epoch_s) else {
            return Err(ScoringError::OddGap {
                class,
                onset_s: l.onset_s,
                gap_s: l.onset_s - end_before,
                epoch_s,
            });
        };
        let Some(count) = whole_epochs(l.duration_s, epoch_s) else {
            return Err(ScoringError::OddLength {
                class,
                onset_s: l.onset_s,
                duration_s: l.duration_s,
                epoch_s,
            });
        };
        let end = first + count;
        if end > MAX_EPOCHS as f64 {
            return Err(ScoringError::TooLong {
                epochs: end as u64,
                max: MAX_EPOCHS,
            });
        }
        let (first, end) = (first as usize, end as usize);
        if stages.len() < end {
            stages.resize(end, None);
        }
        let stage = match l.name {
            StageName::Stage(s) => Some(s),
            StageName::Unscored => None,
        };
        stages[first..end].fill(stage);
        previous = Some(l);
    }
    Ok(EpochScoring::new(epoch_s, start_s, stages))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SleepStage::*;

    fn set(rows: &[(f64, f64, &str)]) -> LabelSet {
        LabelSet::new(rows.iter().map(|&(o, d, c)| Label::new(o, d, c)).collect())
    }

    #[test]
    fn merged_runs_of_sleep_edf_become_one_stage_per_epoch() {
        let labels = set(&[
            (0.0, 60.0, "Sleep stage W"),
            (60.0, 30.0, "Sleep stage 1"),
            (90.0, 90.0, "Sleep stage 2"),
            (180.0, 30.0, "Sleep stage 4"),
            (210.0, 30.0, "Movement time"),
            (240.0, 30.0, "Sleep stage R"),
            (100.0, 1.5, "spindle"),
        ]);
        let split = split_labels(&labels, None).unwrap();
        let s = split.scoring.unwrap();
        assert_eq!(s.epoch_s, 30.0);
        assert_eq!(s.start_s, 0.0);
        assert_eq!(
            s.stages,
            vec![
                Some(W),
                Some(W),
                Some(N1),
                Some(N2),
                Some(N2),
                Some(N2),
                Some(N3),
                None,
                Some(Rem)
            ]
        );
        assert_eq!(split.events.labels, vec![Label::new(100.0, 1.5, "spindle")]);
        assert_eq!(split.notes.len(), 3, "{:?}", split.notes);
        assert!(split.notes[0].contains("stage 4"));
        assert_eq!(s.epoch_at(89.9995), Some(3), "to the millisecond");
        assert_eq!(s.epoch_at(269.0), Some(8));
        assert_eq!(s.epoch_at(270.0), None);
        assert_eq!(s.stage_at(215.0), None);
        assert_eq!(s.end_s(), 270.0);
        assert_eq!(s.scored_epochs(), 8);
    }

    #[test]
    fn gaps_of_whole_epochs_are_unscored_and_the_scoring_round_trips() {
        let labels = set(&[(15.0, 20.0, "N2"), (75.0, 20.0, "REM")]);
        let s = EpochScoring::from_labels(&labels, None).unwrap().unwrap();
        assert_eq!(s.epoch_s, 20.0, "the shortest label when 30 s does not fit");
        assert_eq!(s.start_s, 15.0);
        assert_eq!(s.stages, vec![Some(N2), None, None, Some(Rem)]);
        let back = EpochScoring::from_labels(&s.to_labels(), Some(20.0))
            .unwrap()
            .unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn irregular_labels_say_which_label_breaks_which_rule() {
        let err = |rows: &[(f64, f64, &str)], epoch: Option<f64>| {
            split_labels(&set(rows), epoch).unwrap_err().to_string()
        };
        assert_eq!(
            err(&[(0.0, 30.0, "W"), (30.0, 45.0, "N1")], Some(30.0)),
            "label 'N1' at 30.000 s lasts 45.000 s, not a whole number of 30-s epochs"
        );
        assert_eq!(
            err(&[(0.0, 30.0, "W"), (40.0, 30.0, "N1")], Some(30.0)),
            "the gap of 10.000 s before label 'N1' at 40.000 s is not a whole number of 30-s epochs"
        );
        assert_eq!(
            err(&[(0.0, 60.0, "W"), (30.0, 30.0, "N1")], Some(30.0)),
            "labels 'W' at 0.000 s (until 60.000 s) and 'N1' at 30.000 s overlap"
        );
        assert_eq!(
            err(&[(0.0, 0.0, "W")], None),
            "label 'W' at 0.000 s has no duration: a stage lasts whole epochs"
        );
        assert_eq!(
            err(&[(0.0, 30.0, "W")], Some(0.0)),
            "an epoch length of 0 s is not a positive number of seconds"
        );
        assert!(err(&[(3e12, 30.0, "W"), (0.0, 30.0, "N1")], Some(30.0)).contains("more than"));
    }

    #[test]
    fn labels_without_a_stage_are_events_and_unscored_marks_alone_are_too() {
        let labels = set(&[(1.0, 0.5, "blink"), (3.0, 1.0, "?")]);
        let split = split_labels(&labels, None).unwrap();
        assert!(split.scoring.is_none());
        assert_eq!(split.events, labels);
    }

    #[test]
    fn confidence_is_the_largest_probability() {
        let mut s = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N2)]);
        assert_eq!(s.confidence(0), None);
        s.probabilities = Some(StageProbabilities {
            classes: vec![W, N2],
            per_epoch: vec![vec![0.7, 0.3], vec![]],
        });
        assert_eq!(s.confidence(0), Some(0.7));
        assert_eq!(s.confidence(1), None);
    }
}
