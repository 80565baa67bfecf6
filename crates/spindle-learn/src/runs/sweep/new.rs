//! What the app asks of a sweep folder besides running it: planning a new
//! sweep into a folder of its own, and submitting the tasks still to run
//! to Slurm.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    GridAxis, SWEEP_JSON, Sweep, SweepError, TaskData, submit, tasks_to_run, write_sbatch,
};
use crate::dataset::CvScheme;

/// A new sweep: its recordings, grid and shared options, and the folder to
/// create.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlan {
    /// Its recordings.
    pub data: TaskData,
    /// The grid.
    pub axes: Vec<GridAxis>,
    /// The options every task shares, as `spindle train` arguments.
    pub fixed: Vec<String>,
    /// Cross-validation of each setting.
    pub cv: Option<CvScheme>,
    /// The sweep folder to create.
    pub out: PathBuf,
}

/// Plans `plan` (reading the recordings for cross-validation) and writes
/// its `sweep.json`, refusing a folder that already holds a sweep.
pub fn plan_new_sweep(plan: &SweepPlan) -> Result<Sweep, SweepError> {
    let json = plan.out.join(SWEEP_JSON);
    if json.exists() {
        return Err(SweepError::invalid(
            &json,
            "already holds a sweep; open it instead, or choose another folder",
        ));
    }
    let sweep = Sweep::plan(&plan.data, &plan.axes, &plan.fixed, plan.cv)?;
    sweep.save(&plan.out)?;
    Ok(sweep)
}

/// Writes the batch script of the tasks of the sweep in `dir` still to run
/// (at most `max_running` at once) and submits it with `sbatch`, running
/// `exe`; the job id and the number of tasks submitted.
pub fn submit_remaining(
    dir: &Path,
    exe: &Path,
    max_running: usize,
) -> Result<(String, usize), SweepError> {
    let sweep = Sweep::load(&dir.join(SWEEP_JSON))?;
    let todo = tasks_to_run(dir, &sweep);
    if todo.is_empty() {
        return Err(SweepError::invalid(
            dir,
            "every task is done or running; nothing to submit",
        ));
    }
    write_sbatch(dir, &todo, max_running)?;
    Ok((submit(dir, exe, &[])?, todo.len()))
}

/// The running executable, for the tasks a sweep starts; the error names
/// the sweep folder.
pub fn current_exe(dir: &Path) -> Result<PathBuf, SweepError> {
    std::env::current_exe().map_err(|e| SweepError::Io {
        path: dir.to_path_buf(),
        source: Arc::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_sweep_is_written_once_and_a_finished_one_has_nothing_to_submit() {
        let dir = tempfile::tempdir().unwrap();
        let data = spindle_signals::testdata::sample("eeg/sub-01.edf");
        let plan = SweepPlan {
            data: TaskData {
                train: vec![data],
                ..TaskData::default()
            },
            axes: vec![GridAxis {
                option: "--lr".into(),
                values: vec!["1e-3".into(), "1e-2".into()],
            }],
            fixed: vec!["--epochs=1".into()],
            cv: None,
            out: dir.path().join("sweep"),
        };
        let sweep = plan_new_sweep(&plan).unwrap();
        assert_eq!(sweep.tasks.len(), 2);
        assert!(plan.out.join(SWEEP_JSON).is_file());
        let again = plan_new_sweep(&plan).unwrap_err().to_string();
        assert!(
            again.starts_with(&plan.out.join(SWEEP_JSON).display().to_string())
                && again.contains("already holds a sweep"),
            "{again}"
        );
        // Every task done: nothing to submit, said naming the folder.
        for task in &sweep.tasks {
            let run = plan.out.join(&task.run_dir);
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("report.json"), "{}").unwrap();
        }
        let nothing = submit_remaining(&plan.out, Path::new("spindle"), 4)
            .unwrap_err()
            .to_string();
        assert!(
            nothing.starts_with(&plan.out.display().to_string())
                && nothing.contains("nothing to submit"),
            "{nothing}"
        );
    }
}
