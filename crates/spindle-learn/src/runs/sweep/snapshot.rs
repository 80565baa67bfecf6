//! Everything the app shows of a sweep folder at once: its tasks with their
//! status, the curves so far of the running ones, and the comparison of
//! the finished ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{SWEEP_JSON, Sweep, SweepError, TaskStatus, failure_message, task_status};
use crate::runs::{Comparison, compare_runs, read_metrics};
use crate::train::{EpochMetrics, RunPaths};

/// One task of a sweep as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// Its index (the Slurm array task id).
    pub index: usize,
    /// Its run folder, relative to the sweep folder.
    pub run_dir: PathBuf,
    /// The grid's values for it.
    pub settings: BTreeMap<String, String>,
    /// Its cross-validation fold, numbered from 1.
    pub fold: Option<usize>,
    /// Where it stands now.
    pub status: TaskStatus,
    /// Why it failed.
    pub failure: Option<String>,
    /// The complete epochs of its `metrics.csv` (running tasks only).
    pub epochs: Vec<EpochMetrics>,
}

/// A sweep folder read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSnapshot {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Every task, by index.
    pub tasks: Vec<TaskRow>,
    /// The sweep's runs compared (see [`compare_runs`]); those without a
    /// report have no scores yet.
    pub comparison: Comparison,
    /// Whether `sbatch` is on the PATH, so the sweep can go to Slurm.
    pub sbatch_available: bool,
}

impl SweepSnapshot {
    /// Tasks with `status`.
    pub fn count(&self, status: TaskStatus) -> usize {
        self.tasks.iter().filter(|t| t.status == status).count()
    }
}

/// Reads the sweep folder `dir` (its `sweep.json`, the tasks' files and run
/// folders); `check_sbatch` also looks for `sbatch` on the PATH.
pub fn load_sweep_snapshot(dir: &Path, check_sbatch: bool) -> Result<SweepSnapshot, SweepError> {
    let sweep = Sweep::load(&dir.join(SWEEP_JSON))?;
    let tasks = sweep
        .tasks
        .iter()
        .map(|t| {
            let status = task_status(dir, t);
            let epochs = if status == TaskStatus::Running {
                let csv = RunPaths::new(&dir.join(&t.run_dir)).metrics_csv();
                // A file being written may end mid-line; what is complete shows.
                read_metrics(&csv).unwrap_or_default()
            } else {
                Vec::new()
            };
            TaskRow {
                index: t.index,
                run_dir: t.run_dir.clone(),
                settings: t.settings.clone(),
                fold: t.fold.as_ref().map(|f| f.number),
                status,
                failure: failure_message(dir, t),
                epochs,
            }
        })
        .collect();
    let comparison = compare_runs(&[dir.to_path_buf()])?;
    Ok(SweepSnapshot {
        dir: dir.to_path_buf(),
        tasks,
        comparison,
        sbatch_available: check_sbatch && super::sbatch_available(),
    })
}
