//! Slurm job arrays: the batch script of a sweep (`sweep.sbatch`), its
//! submission with `sbatch`, and waiting for the array to end with `squeue`.
//!
//! The script holds no path, label or option of the sweep: each array task
//! runs `spindle sweep-task --sweep sweep.json --index $SLURM_ARRAY_TASK_ID`,
//! which reads its settings from `sweep.json`. The executable and the sweep
//! file come from the environment (`SPINDLE_EXE`, `SPINDLE_SWEEP`), set by
//! `spindle sweep --slurm` on the `sbatch` it runs; submitted by hand from
//! the sweep folder, the script finds `spindle` on the PATH and `sweep.json`
//! in the folder it was submitted from.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{SWEEP_JSON, Sweep, SweepError, TaskStatus, task_status};

/// The batch script's file name in the sweep folder.
pub const SBATCH_FILE: &str = "sweep.sbatch";

/// The environment variable naming the `spindle` executable of the tasks.
pub const EXE_ENV: &str = "SPINDLE_EXE";

/// The environment variable naming the tasks' `sweep.json`.
pub const SWEEP_ENV: &str = "SPINDLE_SWEEP";

/// The batch script of an array over the task ids `indices` (sorted), at
/// most `max_running` at a time, each task logging to `logs/task-N.out`.
pub fn sbatch_script(indices: &[usize], max_running: usize) -> String {
    let array = array_spec(indices);
    let limit = max_running.clamp(1, indices.len().max(1));
    format!(
        "#!/bin/bash\n\
         # A Spindle sweep: one array task per task of sweep.json, each an\n\
         # ordinary `spindle train` run reading its settings from sweep.json\n\
         # by its task id. Submit from the sweep folder: sbatch sweep.sbatch\n\
         #SBATCH --job-name=spindle-sweep\n\
         #SBATCH --array={array}%{limit}\n\
         #SBATCH --output=logs/task-%a.out\n\
         #SBATCH --open-mode=append\n\
         set -eu\n\
         exec \"${{{EXE_ENV}:-spindle}}\" sweep-task --sweep \"${{{SWEEP_ENV}:-{SWEEP_JSON}}}\" \\\n    \
         --index \"$SLURM_ARRAY_TASK_ID\" --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n"
    )
}

/// Sorted task ids as Slurm's `--array` list: runs of consecutive ids as
/// ranges, e.g. `0-3,5,7-9`.
pub fn array_spec(indices: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// The tasks of `sweep` still to run: not done and not running.
pub fn tasks_to_run(sweep_dir: &Path, sweep: &Sweep) -> Vec<usize> {
    sweep
        .tasks
        .iter()
        .filter(|t| {
            matches!(
                task_status(sweep_dir, t),
                TaskStatus::Pending | TaskStatus::Failed
            )
        })
        .map(|t| t.index)
        .collect()
}

/// Writes `sweep_dir/sweep.sbatch` for `indices` and returns its path.
pub fn write_sbatch(
    sweep_dir: &Path,
    indices: &[usize],
    max_running: usize,
) -> Result<std::path::PathBuf, SweepError> {
    super::status::create_logs(sweep_dir)?;
    let path = sweep_dir.join(SBATCH_FILE);
    spindle_signals::recording::write_atomic(&path, sbatch_script(indices, max_running).as_bytes())
        .map_err(|e| SweepError::invalid(&path, e))?;
    Ok(path)
}

/// Submits `sweep_dir/sweep.sbatch` with `sbatch`, with `extra` arguments
/// (given to `sbatch` as they are, never to a shell) and `exe` as the tasks'
/// `spindle`; returns the job id.
pub fn submit(sweep_dir: &Path, exe: &Path, extra: &[String]) -> Result<String, SweepError> {
    let sweep_json = std::path::absolute(sweep_dir.join(SWEEP_JSON))
        .map_err(|e| SweepError::io(sweep_dir, e))?;
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(extra)
        .arg(SBATCH_FILE)
        .current_dir(sweep_dir)
        .env(EXE_ENV, exe)
        .env(SWEEP_ENV, &sweep_json)
        .output()
        .map_err(|e| program_error("sbatch", e))?;
    if !out.status.success() {
        return Err(SweepError::slurm("sbatch", first_line(&out.stderr)));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints `ID` or `ID;CLUSTER`.
    let id = stdout.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(SweepError::slurm(
            "sbatch",
            format!("printed no job id: {:?}", stdout.trim()),
        ));
    }
    Ok(id)
}

/// True while job `id` has tasks queued or running (`squeue`).
pub fn job_active(id: &str) -> Result<bool, SweepError> {
    let out = Command::new("squeue")
        .args(["--noheader", "--format=%i", "--jobs", id])
        .output()
        .map_err(|e| program_error("squeue", e))?;
    if !out.status.success() {
        let message = first_line(&out.stderr);
        // A job that left the queue long ago is no longer known.
        if message.contains("Invalid job id") {
            return Ok(false);
        }
        return Err(SweepError::slurm("squeue", message));
    }
    Ok(!String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// Waits until job `id` has left the queue, calling `on_poll` every `every`.
pub fn wait_for_job(
    id: &str,
    every: Duration,
    mut on_poll: impl FnMut(),
) -> Result<(), SweepError> {
    while job_active(id)? {
        on_poll();
        std::thread::sleep(every);
    }
    Ok(())
}

/// True when `sbatch` is on the PATH.
pub fn sbatch_available() -> bool {
    Command::new("sbatch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn program_error(program: &str, e: std::io::Error) -> SweepError {
    if e.kind() == std::io::ErrorKind::NotFound {
        SweepError::slurm(
            program,
            "not found on the PATH (is this a Slurm login node? --emit-only writes the script without submitting it)",
        )
    } else {
        SweepError::slurm(program, e)
    }
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed without a message")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_lists_join_consecutive_ids() {
        assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_spec(&[0, 1, 2, 3, 5, 7, 8, 9]), "0-3,5,7-9");
        assert_eq!(array_spec(&[4]), "4");
        assert_eq!(array_spec(&[]), "");
    }

    #[test]
    fn the_script_runs_each_task_by_its_id_and_names_no_path() {
        let s = sbatch_script(&[0, 1, 2, 3, 4, 5], 4);
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("#SBATCH --array=0-5%4\n"), "{s}");
        assert!(s.contains("#SBATCH --output=logs/task-%a.out\n"));
        assert!(s.contains("sweep-task --sweep \"${SPINDLE_SWEEP:-sweep.json}\""));
        assert!(
            s.contains("--index \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-1}\"")
        );
        assert!(s.contains("exec \"${SPINDLE_EXE:-spindle}\""));
        // The limit never exceeds the tasks.
        assert!(sbatch_script(&[2, 3], 16).contains("--array=2-3%2\n"));
    }

    #[test]
    fn the_script_passes_hostile_paths_as_words_and_runs_nothing()
    -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let path = write_sbatch(tmp.path(), &[0, 1], 2)?;
        let hostile = tmp.path().join("$(touch pwned) a b;c.json");
        // bash runs the script as Slurm would, with `echo` as spindle.
        let out = Command::new("bash")
            .arg(&path)
            .current_dir(tmp.path())
            .env(EXE_ENV, "echo")
            .env(SWEEP_ENV, &hostile)
            .env("SLURM_ARRAY_TASK_ID", "1")
            .env_remove("SLURM_CPUS_PER_TASK")
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout)?,
            format!(
                "sweep-task --sweep {} --index 1 --threads 1\n",
                hostile.display()
            )
        );
        assert!(!tmp.path().join("pwned").exists());
        Ok(())
    }
}
