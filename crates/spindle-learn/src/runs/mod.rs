//! The runs folder shared by the GUI and the CLI: where run folders live
//! and how they are named ([`default_runs_dir`], [`create_run_dir`]), the list
//! of runs with their status ([`list_runs`]), following a live
//! `metrics.csv` ([`MetricsFollower`]), reading `report.json`
//! ([`RunReport`]) and `predictions.tsv` ([`PredictionTable`]), everything
//! of one run at once ([`load_run_snapshot`]), the user's pin, tags and
//! note on a run ([`RunNote`], `note.json`, the one file here written) and the settings that differ
//! between runs ([`settings_diff`]), curves as CSV ([`curves_csv`]), and the
//! scores of a cross-validation's fold runs ([`CvSummary`], `cv.json`),
//! runs side by side ([`compare_runs`]) and sweeps of many runs
//! ([`sweep`]: `sweep.json`, local and Slurm runners).
//!
//! The run folder itself is written by `crate::train`; this module only
//! reads it (and writes `note.json`), and never panics on what it finds there.

mod compare;
mod cv;
mod delete;
mod diff;
mod dirs;
mod error;
mod export;
mod list;
mod metrics;
mod note;
mod predictions;
mod report;
mod snapshot;
pub mod sweep;
#[cfg(test)]
pub(crate) mod test_support;

pub use compare::{ComparedRun, Comparison, CvGroup, compare_runs};
pub use cv::{CV_JSON, CvFold, CvSummary, ScoreSpread};
pub use delete::delete_run;
pub use diff::{MISSING, SettingDiff, settings_diff};
pub use dirs::{RUNS_DIR_ENV, create_run_dir, data_dir, default_runs_dir, is_run_dir, utc_minute};
pub use error::RunsError;
pub use export::{CURVES_HEADER, curves_csv};
pub use list::{RUNNING_WITHIN, RunEntry, RunStatus, list_runs, run_status};
pub use metrics::{MetricsFollower, read_metrics};
pub use note::{MAX_NOTE_BYTES, NOTE_JSON, RunNote};
pub use predictions::{PredictionRow, PredictionTable};
pub use report::{RunReport, Scores};
pub use snapshot::{RunSnapshot, load_run_snapshot, roc_curves};
