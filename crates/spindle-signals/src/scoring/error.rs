//! Why labels are not a regular epoch scoring, or why scorings cannot be
//! compared. Messages say precisely what is wrong, on one line, without a
//! path: a reader of a file puts the path in front (`FILE: not a regular
//! epoch scoring: ...`).

/// Why labels do not make a regular epoch scoring, or scorings cannot be
/// compared. Times in seconds from the recording's start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoringError {
    /// The epoch length is not a positive number of seconds.
    #[error("an epoch length of {epoch_s} s is not a positive number of seconds")]
    BadEpoch {
        /// The length asked for, seconds.
        epoch_s: f64,
    },
    /// A stage label has no duration (a point in time).
    #[error("label '{class}' at {onset_s:.3} s has no duration: a stage lasts whole epochs")]
    NoDuration {
        /// The label's class as written.
        class: String,
        /// Its onset, seconds.
        onset_s: f64,
    },
    /// A stage label does not last a whole number of epochs.
    #[error(
        "label '{class}' at {onset_s:.3} s lasts {duration_s:.3} s, not a whole number of {epoch_s}-s epochs"
    )]
    OddLength {
        /// The label's class as written.
        class: String,
        /// Its onset, seconds.
        onset_s: f64,
        /// Its duration, seconds.
        duration_s: f64,
        /// The epoch length, seconds.
        epoch_s: f64,
    },
    /// The time between two stage labels is not a whole number of epochs.
    #[error(
        "the gap of {gap_s:.3} s before label '{class}' at {onset_s:.3} s is not a whole number of {epoch_s}-s epochs"
    )]
    OddGap {
        /// The class of the label after the gap.
        class: String,
        /// Its onset, seconds.
        onset_s: f64,
        /// The gap, seconds.
        gap_s: f64,
        /// The epoch length, seconds.
        epoch_s: f64,
    },
    /// Two stage labels cover the same time.
    #[error(
        "labels '{first}' at {first_onset_s:.3} s (until {first_end_s:.3} s) and '{second}' at {second_onset_s:.3} s overlap"
    )]
    Overlap {
        /// The earlier label's class.
        first: String,
        /// Its onset, seconds.
        first_onset_s: f64,
        /// Its end, seconds.
        first_end_s: f64,
        /// The later label's class.
        second: String,
        /// Its onset, seconds.
        second_onset_s: f64,
    },
    /// The labels span more epochs than a scoring may hold.
    #[error("the stage labels span {epochs} epochs, more than the {max} a scoring may hold")]
    TooLong {
        /// How many epochs they span.
        epochs: u64,
        /// The most a scoring may hold.
        max: usize,
    },
    /// Two scorings use different epoch lengths.
    #[error("epochs of {epoch_s} s, where the first scoring's are {first_epoch_s} s")]
    EpochMismatch {
        /// Which scoring (0-based, in the order given).
        scorer: usize,
        /// This scoring's epoch length, seconds.
        epoch_s: f64,
        /// The first scoring's epoch length, seconds.
        first_epoch_s: f64,
    },
    /// Two scorings' epochs start at times that are not a whole number of
    /// epochs apart.
    #[error(
        "epochs start at {start_s:.3} s, off the first scoring's {epoch_s}-s grid from {first_start_s:.3} s"
    )]
    GridMismatch {
        /// Which scoring (0-based, in the order given).
        scorer: usize,
        /// Where this scoring's first epoch starts, seconds.
        start_s: f64,
        /// Where the first scoring's first epoch starts, seconds.
        first_start_s: f64,
        /// The epoch length, seconds.
        epoch_s: f64,
    },
    /// Scorings share no scored epoch.
    #[error("no epoch scored by every scorer: the scorings do not overlap in time")]
    NoCommonSpan,
    /// Fewer than two scorings to compare.
    #[error("agreement needs at least two scorings, got {0}")]
    TooFewScorers(usize),
}

impl ScoringError {
    /// The scoring (0-based, in the order given) that does not fit the
    /// first, for errors about one of several scorings.
    pub fn scorer(&self) -> Option<usize> {
        match self {
            Self::EpochMismatch { scorer, .. } | Self::GridMismatch { scorer, .. } => Some(*scorer),
            _ => None,
        }
    }
}
