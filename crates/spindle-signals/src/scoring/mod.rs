//! Scorings of a recording as values: epoch scorings of sleep stages (from
//! labels, Sleep-EDF hypnograms or CSV files), their sleep statistics,
//! agreement between scorers (epoch by epoch, or event labels by overlap),
//! the consensus of several scorers, hypnogram exports for other sleep
//! tools, and the walks a reviewer takes through a scoring (least confident
//! epochs first, disagreements one by one). No drawing: the app and the
//! command line call these.
//!
//! - [`stage`]: the stages and the one table of names read as each.
//! - [`EpochScoring`] and [`split_labels`]: labels into a regular scoring
//!   (or a precise reason why not) plus the event labels beside it.
//! - [`read_scoring_file`]: a scorer's `events.tsv`, EDF+ or CSV file.
//! - [`SleepStatistics`]: the AASM measures, definitions in [`statistics`].
//! - [`epoch_agreement`], [`Consensus`], [`match_events`]: agreement.
//! - [`write_hypnogram_edf`], [`write_hypnogram_csv`]: exports.
//! - [`review_order`], [`disagreements`], [`next_disagreement`],
//!   [`previous_disagreement`]: review.
//! - [`sleep_label_scheme`], [`with_sleep_stages`]: the lab's label scheme.

mod agreement;
mod consensus;
mod epochs;
mod error;
pub mod events;
mod export;
mod files;
mod review;
mod scheme;
mod span;
pub mod stage;
pub mod statistics;

pub use agreement::{ClassAgreement, EpochAgreement, KappaKind, epoch_agreement};
pub use consensus::{CONSENSUS_COLUMNS, Consensus, ConsensusEpoch};
pub use epochs::{
    DEFAULT_EPOCH_S, EpochScoring, MAX_EPOCHS, ScoredLabels, StageProbabilities, TIME_EPS_S,
    split_labels,
};
pub use error::ScoringError;
pub use events::{EventAgreement, EventCounts, match_events};
pub use export::{
    CSV_HEADER, HypnogramHeader, hypnogram_csv, hypnogram_recording, write_hypnogram_csv,
    write_hypnogram_edf,
};
pub use files::{
    RecordingScoring, read_hypnogram_header, read_recording_scoring, read_scoring_file,
};
pub use review::{disagreements, next_disagreement, previous_disagreement, review_order};
pub use scheme::{names_a_stage, recording_scheme, sleep_label_scheme, with_sleep_stages};
pub use span::CommonSpan;
pub use stage::{SleepStage, StageName, parse_stage};
pub use statistics::{SleepStatistics, StageTime};
