//! Sweeps: a grid of training options (and the folds of a cross-validation)
//! expanded into tasks, each an ordinary run folder in the sweep folder,
//! listed with their full settings in `sweep.json`. The tasks run here, N at
//! a time ([`LocalRunner`]), or as one Slurm job array ([`sbatch_script`],
//! [`submit`]); each reads its own settings from `sweep.json` by its index,
//! so no path or option is ever written into shell text. Where a task stands
//! is read from the files it leaves ([`task_status`]).
//!
//! Layout of a sweep folder `DIR`:
//!
//! | path | what |
//! |---|---|
//! | `sweep.json` | [`Sweep`]: the grid, every task's settings, data, run folder and last known status |
//! | `NNN_key=value.../` | a grid point's run folder, or with cross-validation its `fold-N/` run folders and `cv.json` |
//! | `logs/task-N.out` | what task N printed |
//! | `logs/task-N.failed` | task N's error, when it failed |
//! | `logs/task-N.alive` | touched every few seconds while task N runs |
//! | `sweep.sbatch` | the Slurm batch script (`--slurm`) |

mod error;
mod grid;
mod local;
mod new;
mod plan;
mod slurm;
mod snapshot;
mod status;

use std::path::{Path, PathBuf};

pub use error::SweepError;
pub use grid::{GridAxis, GridPoint, expand_grid, parse_options, point_name, without_options};
pub use local::{LocalEvent, LocalRunner, LocalSummary};
pub use new::{SweepPlan, current_exe, plan_new_sweep, submit_remaining};
pub use plan::{SWEEP_JSON, SWEEP_VERSION, Sweep, SweepPoint, SweepTask, TaskData, TaskStatus};
pub use slurm::{
    EXE_ENV, SBATCH_FILE, SWEEP_ENV, array_spec, job_active, sbatch_available, sbatch_script,
    submit, tasks_to_run, wait_for_job, write_sbatch,
};
pub use snapshot::{SweepSnapshot, TaskRow, load_sweep_snapshot};
pub use status::{
    HEARTBEAT_EVERY, HEARTBEAT_STALE, Heartbeat, LOGS_DIR, TaskFiles, failure_message, mark_failed,
    task_status,
};

use super::{CvFold, CvSummary};

/// Writes `cv.json` of grid point `point` once every one of its fold tasks
/// is done, and returns its path; `None` when the sweep does not
/// cross-validate or a fold is not done yet. Tasks finishing at the same
/// time may both write it: the file is replaced atomically with the same
/// content.
pub fn write_point_summary(
    sweep_dir: &Path,
    sweep: &Sweep,
    point: usize,
) -> Result<Option<PathBuf>, SweepError> {
    let (Some(scheme), Some(p)) = (sweep.cv, sweep.points.get(point)) else {
        return Ok(None);
    };
    let Some(kind) = p.fold_kind else {
        return Ok(None);
    };
    let mut folds = Vec::new();
    for t in sweep.tasks_of(point) {
        if task_status(sweep_dir, t) != TaskStatus::Done {
            return Ok(None);
        }
        let Some(fold) = t.fold.clone() else {
            return Ok(None);
        };
        folds.push(CvFold {
            fold,
            run_dir: sweep_dir.join(&t.run_dir),
        });
    }
    let dir = sweep_dir.join(&p.name);
    let summary = CvSummary::from_runs(scheme, kind, folds)?;
    Ok(Some(summary.save(&dir)?))
}

/// The status of every task of `sweep` in `sweep_dir` now, by index.
pub fn statuses(sweep_dir: &Path, sweep: &Sweep) -> Vec<TaskStatus> {
    sweep
        .tasks
        .iter()
        .map(|t| task_status(sweep_dir, t))
        .collect()
}
