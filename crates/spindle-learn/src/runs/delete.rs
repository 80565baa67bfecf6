//! Deleting a run folder, refusing anything that is not one.

use std::path::Path;

use super::RunsError;
use crate::train::RunPaths;

/// Deletes the run folder `dir` with everything in it; a folder holding
/// neither `run.json` nor `metrics.csv` is not a run and is left alone.
pub fn delete_run(dir: &Path) -> Result<(), RunsError> {
    let paths = RunPaths::new(dir);
    if !paths.run_json().exists() && !paths.metrics_csv().exists() {
        return Err(RunsError::Invalid {
            path: dir.to_path_buf(),
            message: "not a run folder; nothing deleted".into(),
        });
    }
    std::fs::remove_dir_all(dir).map_err(|e| RunsError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_run_folders_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("holiday-photos");
        std::fs::create_dir(&other).unwrap();
        let error = delete_run(&other).unwrap_err().to_string();
        assert_eq!(
            error,
            format!("{}: not a run folder; nothing deleted", other.display())
        );
        assert!(other.is_dir());
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(RunPaths::new(&run).metrics_csv(), "epoch\n").unwrap();
        delete_run(&run).unwrap();
        assert!(!run.exists());
    }
}
