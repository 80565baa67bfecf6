//! The consensus of several scorings: per epoch of their common span, the
//! stage most scorers gave; a tie is marked for review.

use super::span::CommonSpan;
use super::stage::{REVIEW, SleepStage};
use super::{EpochScoring, ScoringError};
use crate::recording::{Label, LabelSet};

/// The consensus of one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsensusEpoch {
    /// Onset, seconds from the recording's start.
    pub onset_s: f64,
    /// The stage with the most votes; `None` on a tie or when nobody scored it.
    pub stage: Option<SleepStage>,
    /// Votes for the winning stage (or for each tied stage).
    pub votes: usize,
    /// Scorers who staged this epoch (unscored is no vote).
    pub voters: usize,
    /// On a tie, the stages that share the most votes, in hypnogram order.
    pub tied: Vec<SleepStage>,
}

/// The consensus of several scorings over their common span.
#[derive(Debug, Clone, PartialEq)]
pub struct Consensus {
    /// Epoch length, seconds.
    pub epoch_s: f64,
    /// One entry per epoch of the common span.
    pub epochs: Vec<ConsensusEpoch>,
}

/// Extra columns of the consensus label file: `votes` (`2/3`: votes for the
/// stage of the row over scorers who staged the epoch) and `tied` (the
/// stages that tie, `N1/N2`, or `n/a`).
pub const CONSENSUS_COLUMNS: [&str; 2] = ["votes", "tied"];

impl Consensus {
    /// The plurality stage of every epoch of `scorings`' common span.
    pub fn of(scorings: &[&EpochScoring]) -> Result<Self, ScoringError> {
        let span = CommonSpan::of(scorings)?;
        let epochs = (0..span.epochs)
            .map(|i| {
                let mut votes = [0usize; 5];
                for k in 0..scorings.len() {
                    if let Some(s) = span.stage(scorings, k, i) {
                        votes[s.index()] += 1;
                    }
                }
                let most = votes.iter().copied().max().unwrap_or(0);
                let top: Vec<SleepStage> = SleepStage::ALL
                    .into_iter()
                    .filter(|s| most > 0 && votes[s.index()] == most)
                    .collect();
                ConsensusEpoch {
                    onset_s: span.onset_s(i),
                    stage: (top.len() == 1).then(|| top[0]),
                    votes: most,
                    voters: votes.iter().sum(),
                    tied: if top.len() > 1 { top } else { Vec::new() },
                }
            })
            .collect();
        Ok(Self {
            epoch_s: span.epoch_s,
            epochs,
        })
    }

    /// The consensus as a scoring (ties and unstaged epochs unscored).
    pub fn scoring(&self) -> EpochScoring {
        let start_s = self.epochs.first().map_or(0.0, |e| e.onset_s);
        EpochScoring::new(
            self.epoch_s,
            start_s,
            self.epochs.iter().map(|e| e.stage).collect(),
        )
    }

    /// Epochs marked for review (tied).
    pub fn ties(&self) -> usize {
        self.epochs.iter().filter(|e| !e.tied.is_empty()).count()
    }

    /// The consensus as labels for an `events.tsv`: one per epoch someone
    /// staged, named by its stage or `review` on a tie, with the extra
    /// columns [`CONSENSUS_COLUMNS`].
    pub fn to_labels(&self) -> LabelSet {
        let labels = self
            .epochs
            .iter()
            .filter(|e| e.voters > 0)
            .map(|e| {
                let name = e.stage.map_or(REVIEW, SleepStage::name);
                let tied = if e.tied.is_empty() {
                    "n/a".to_owned()
                } else {
                    let names: Vec<&str> = e.tied.iter().map(|s| s.name()).collect();
                    names.join("/")
                };
                Label {
                    extra: vec![format!("{}/{}", e.votes, e.voters), tied],
                    ..Label::new(e.onset_s, self.epoch_s, name)
                }
            })
            .collect();
        LabelSet {
            extra_columns: CONSENSUS_COLUMNS.map(str::to_owned).to_vec(),
            ..LabelSet::new(labels)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SleepStage::*;

    #[test]
    fn the_majority_wins_and_a_tie_is_marked_for_review() {
        let a = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N1), Some(N2), None]);
        let b = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N2), Some(N2), None]);
        let c = EpochScoring::new(30.0, 0.0, vec![Some(N1), None, Some(N3), None]);
        let cons = Consensus::of(&[&a, &b, &c]).unwrap();
        let stages: Vec<Option<SleepStage>> = cons.epochs.iter().map(|e| e.stage).collect();
        assert_eq!(stages, vec![Some(W), None, Some(N2), None]);
        assert_eq!(cons.epochs[1].tied, vec![N1, N2]);
        assert_eq!((cons.epochs[1].votes, cons.epochs[1].voters), (1, 2));
        assert_eq!(cons.ties(), 1);
        let labels = cons.to_labels();
        assert_eq!(labels.len(), 3, "the epoch nobody staged has no row");
        assert_eq!(labels.extra_columns, ["votes", "tied"]);
        assert_eq!(labels.labels[0].extra, ["2/3", "n/a"]);
        assert_eq!(labels.labels[1].trial_type, "review");
        assert_eq!(labels.labels[1].extra, ["1/2", "N1/N2"]);
        // A consensus file reads back as a scoring, review epochs unscored.
        let back = EpochScoring::from_labels(&labels, None).unwrap().unwrap();
        assert_eq!(back.stages, vec![Some(W), None, Some(N2)]);
        assert_eq!(cons.scoring().stages, stages);
    }
}
