//! Work on run and sweep folders: planning and submitting sweeps, deleting
//! runs, and labels suggested by a run's model.

use std::path::Path;
use std::sync::Arc;

use spindle_learn::runs::sweep::{
    SWEEP_JSON, Sweep, SweepError, submit, tasks_to_run, write_sbatch,
};
use spindle_learn::train::{DeviceChoice, RunPaths, load_run, predict_file};
use spindle_signals::labeling::{ClassifiedWindow, Suggestions};
use spindle_signals::recording::{LabelSet, labels_for_recording};

use super::protocol::SweepPlan;

/// Windows less sure than this are not suggested.
const MIN_SUGGESTION_CONFIDENCE: f32 = 0.5;

/// Plans `plan` (reading the recordings for cross-validation) and writes
/// its `sweep.json`, refusing a folder that already holds a sweep.
pub(super) fn plan_sweep(plan: &SweepPlan) -> Result<(), SweepError> {
    let json = plan.out.join(SWEEP_JSON);
    if json.exists() {
        return Err(SweepError::Invalid {
            path: json,
            message: "already holds a sweep; open it instead, or choose another folder".into(),
        });
    }
    Sweep::plan(&plan.data, &plan.axes, &plan.fixed, plan.cv)?.save(&plan.out)?;
    Ok(())
}

/// Writes the batch script of the tasks of the sweep in `dir` still to run
/// and submits it with `sbatch`; the job id and the number of tasks.
pub(super) fn submit_sweep(dir: &Path) -> Result<(String, usize), SweepError> {
    let sweep = Sweep::load(&dir.join(SWEEP_JSON))?;
    let todo = tasks_to_run(dir, &sweep);
    if todo.is_empty() {
        return Err(SweepError::Invalid {
            path: dir.to_path_buf(),
            message: "every task is done or running; nothing to submit".into(),
        });
    }
    write_sbatch(dir, &todo, SLURM_MAX_RUNNING)?;
    let exe = std::env::current_exe().map_err(|e| SweepError::Io {
        path: dir.to_path_buf(),
        source: Arc::new(e),
    })?;
    Ok((submit(dir, &exe, &[])?, todo.len()))
}

/// The most tasks of a sweep the app lets Slurm run at once.
const SLURM_MAX_RUNNING: usize = 16;

/// Deletes a run folder, refusing folders that are not runs.
pub(super) fn delete_run(dir: &Path) -> Result<(), String> {
    let paths = RunPaths::new(dir);
    if !paths.run_json().exists() && !paths.metrics_csv().exists() {
        return Err(format!(
            "{}: not a run folder; nothing deleted",
            dir.display()
        ));
    }
    std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Runs the model of `run_dir` over `file` and makes suggestions of its windows.
pub(super) fn suggest(
    run_dir: &Path,
    file: &Path,
    existing: &Option<LabelSet>,
) -> Result<Suggestions, String> {
    let existing = match existing {
        Some(l) => l.clone(),
        None => labels_for_recording(file, &[])
            .map(|(l, _)| l)
            .map_err(|e| e.to_string())?,
    };
    let run = load_run(run_dir, DeviceChoice::Cpu).map_err(|e| e.to_string())?;
    if run.info.regression {
        return Err(format!(
            "{}: a regression run predicts numbers, not labels",
            run_dir.display()
        ));
    }
    let windows: Vec<ClassifiedWindow> = predict_file(&run, file)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|w| ClassifiedWindow {
            onset_s: w.onset_s,
            duration_s: w.duration_s,
            confidence: w.probabilities.iter().copied().fold(0.0, f32::max),
            class: w.label,
        })
        .collect();
    let name = run_dir.file_name().map_or_else(
        || run_dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Suggestions::from_windows(
        name,
        &windows,
        &existing,
        MIN_SUGGESTION_CONFIDENCE,
    ))
}
