//! The list of runs in a runs folder: each run's status, model, data files,
//! score, time and note, read from its files alone (cheap enough for
//! hundreds of runs), with sweeps' and cross-validations' runs named below
//! their folder so that a list can nest them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{RunNote, RunReport, is_run_dir};
use crate::model::ModelSpec;
use crate::train::RunPaths;

/// A run whose `metrics.csv` changed at most this long ago counts as running.
pub const RUNNING_WITHIN: Duration = Duration::from_secs(60);

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Still training: no `report.json` yet, and `metrics.csv` changed within
    /// [`RUNNING_WITHIN`] (or the caller knows the job is alive).
    Running,
    /// Finished: `report.json` exists.
    Complete,
    /// Stopped without a report: crashed, cancelled or killed.
    Incomplete,
}

impl RunStatus {
    /// A lower-case word for lists, e.g. `running`.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Incomplete => "incomplete",
        }
    }
}

/// The status of the run folder `dir`; `known_running` says the caller runs
/// its job right now (then a stale `metrics.csv` does not make it incomplete).
pub fn run_status(dir: &Path, known_running: bool) -> RunStatus {
    status_at(dir, known_running, SystemTime::now())
}

/// [`run_status`] as seen at time `now`.
fn status_at(dir: &Path, known_running: bool, now: SystemTime) -> RunStatus {
    let paths = RunPaths::new(dir);
    if paths.report_json().is_file() {
        return RunStatus::Complete;
    }
    if known_running {
        return RunStatus::Running;
    }
    let fresh = std::fs::metadata(paths.metrics_csv())
        .and_then(|m| m.modified())
        // A modification time in the future (clock skew) counts as fresh.
        .is_ok_and(|t| {
            now.duration_since(t)
                .map_or(true, |age| age <= RUNNING_WITHIN)
        });
    if fresh {
        RunStatus::Running
    } else {
        RunStatus::Incomplete
    }
}

/// One run folder as shown in a list of runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    /// The run folder.
    pub dir: PathBuf,
    /// The folder's path below the runs folder with `/` separators, e.g.
    /// `2026-12-02_05-31-07_eegnet` or `sweep-lr/2026-12-02_05-31-07_eegnet`.
    pub name: String,
    /// Where the run stands (without knowledge of live jobs; see
    /// [`run_status`]).
    pub status: RunStatus,
    /// The latest modification time of its `run.json`, `metrics.csv` and
    /// `report.json` (the folder's own when none can be read).
    pub modified: SystemTime,
    /// The model's display name from `run.json` (`ModelSpec::display_name`).
    pub model: Option<String>,
    /// Test accuracy (classification, 0..=1) or test R² (regression) from
    /// `report.json`.
    pub test_score: Option<f64>,
    /// Seconds of training, from `report.json`.
    pub train_seconds: Option<f64>,
    /// The file names (without folders) of the data files in `run.json`.
    pub data: Vec<String>,
    /// The folder holding this run below the runs folder (a sweep, a
    /// cross-validation or a sweep's cross-validated setting), e.g.
    /// `sweep-lr` or `sweep-lr/lr-0.01`; `None` for a run directly in the
    /// runs folder.
    pub group: Option<String>,
    /// What the user said about it (`note.json`), empty without one.
    pub note: RunNote,
    /// Why its `note.json` could not be read, if so (the note is then empty).
    pub note_problem: Option<String>,
}

/// How deep below the runs folder run folders are looked for
/// (`sweep/setting/fold-N` is 3).
const MAX_DEPTH: usize = 3;

/// Every run folder in `runs_dir` or up to three levels deeper
/// (sweeps and cross-validations keep their runs in a folder of their own;
/// a run folder is not looked into), newest first. Entries that cannot be
/// read are skipped; a missing `runs_dir` gives an empty list.
pub fn list_runs(runs_dir: &Path) -> Vec<RunEntry> {
    let mut entries = Vec::new();
    collect(runs_dir, None, 1, &mut entries);
    entries.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| b.name.cmp(&a.name))
    });
    entries
}

/// Adds the run folders in `dir` (below the runs folder as `prefix`) to `out`.
fn collect(dir: &Path, prefix: Option<&str>, depth: usize, out: &mut Vec<RunEntry>) {
    if depth > MAX_DEPTH {
        return;
    }
    for child in subdirs(dir) {
        let name = match prefix {
            Some(p) => format!("{p}/{}", file_name(&child)),
            None => file_name(&child),
        };
        if is_run_dir(&child) {
            out.push(entry(&child, name, prefix.map(str::to_string)));
        } else {
            collect(&child, Some(&name), depth + 1, out);
        }
    }
}

/// The folders in `dir` (following symbolic links), unordered; none when
/// `dir` cannot be read.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

/// The last component of `path`, lossily as UTF-8.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The list entry of run folder `dir`.
fn entry(dir: &Path, name: String, group: Option<String>) -> RunEntry {
    let paths = RunPaths::new(dir);
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let modified = [paths.run_json(), paths.metrics_csv(), paths.report_json()]
        .iter()
        .filter_map(|p| mtime(p))
        .max()
        .or_else(|| mtime(dir))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let report = RunReport::load(&paths.report_json()).ok();
    let (model, data) = model_and_data(&paths.run_json());
    let (note, note_problem) = match RunNote::load(dir) {
        Ok(n) => (n.unwrap_or_default(), None),
        Err(e) => (RunNote::default(), Some(e.to_string())),
    };
    RunEntry {
        dir: dir.to_path_buf(),
        name,
        status: run_status(dir, false),
        modified,
        model,
        test_score: report.as_ref().and_then(RunReport::test_score),
        train_seconds: report.as_ref().map(|r| r.train_seconds),
        data,
        group,
        note,
        note_problem,
    }
}

/// The model's display name and the data files' names from a `run.json`,
/// each read on its own so that a run.json with other fields from another
/// version still gives them.
fn model_and_data(run_json: &Path) -> (Option<String>, Vec<String>) {
    let Some(mut value) = read_json(run_json) else {
        return (None, Vec::new());
    };
    let model = value
        .get_mut("model")
        .map(serde_json::Value::take)
        .and_then(|m| serde_json::from_value::<ModelSpec>(m).ok())
        .map(|spec| spec.display_name());
    let data = value
        .get("data")
        .and_then(serde_json::Value::as_array)
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f.get("path")?.as_str())
                .map(|p| {
                    Path::new(p)
                        .file_name()
                        .map_or_else(|| p.to_string(), |n| n.to_string_lossy().into_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    (model, data)
}

/// `run_json` parsed, `None` when it is missing, too large or not JSON.
fn read_json(run_json: &Path) -> Option<serde_json::Value> {
    if std::fs::metadata(run_json).ok()?.len() > crate::train::MAX_RUN_JSON_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(run_json).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_support::{run_info, write_report_json};

    fn set_mtime(path: &Path, age: Duration) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
    }

    #[test]
    fn status_follows_report_and_metrics_age() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert_eq!(run_status(dir, false), RunStatus::Incomplete);
        assert_eq!(run_status(dir, true), RunStatus::Running);
        let metrics = dir.join("metrics.csv");
        std::fs::write(&metrics, "epoch\n").unwrap();
        assert_eq!(run_status(dir, false), RunStatus::Running);
        set_mtime(&metrics, Duration::from_secs(600));
        assert_eq!(run_status(dir, false), RunStatus::Incomplete);
        assert_eq!(run_status(dir, true), RunStatus::Running);
        // Changed a second ago: running now, incomplete two minutes later.
        set_mtime(&metrics, Duration::from_secs(1));
        let now = SystemTime::now();
        assert_eq!(status_at(dir, false, now), RunStatus::Running);
        assert_eq!(
            status_at(dir, false, now + Duration::from_secs(120)),
            RunStatus::Incomplete
        );
        write_report_json(dir);
        assert_eq!(run_status(dir, false), RunStatus::Complete);
        assert_eq!(run_status(dir, true), RunStatus::Complete);
        assert_eq!(RunStatus::Complete.label(), "complete");
    }

    #[test]
    fn lists_complete_incomplete_and_nested_runs_newest_first() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mk = |rel: &str| {
            let d = root.join(rel);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        // complete, 3 hours old
        let done = mk("2026-01-01_00-00-00_eegnet");
        run_info(&["wake", "n2"]).save(&done).unwrap();
        std::fs::write(done.join("metrics.csv"), "h\n").unwrap();
        write_report_json(&done);
        for f in ["run.json", "metrics.csv", "report.json"] {
            set_mtime(&done.join(f), Duration::from_secs(3 * 3600));
        }
        // incomplete (crashed two hours ago), metrics only
        let crashed = mk("2026-01-02_00-00-00_mlp");
        std::fs::write(crashed.join("metrics.csv"), "h\n").unwrap();
        set_mtime(&crashed.join("metrics.csv"), Duration::from_secs(2 * 3600));
        // nested in a sweep folder: one running now, one an hour old
        let live = mk("sweep-lr/lr-0.01");
        std::fs::write(live.join("metrics.csv"), "h\n").unwrap();
        let old = mk("sweep-lr/lr-0.1");
        run_info(&["wake", "n2"]).save(&old).unwrap();
        set_mtime(&old.join("run.json"), Duration::from_secs(3600));
        // junk: an empty folder, a folder of other files, a stray file, a
        // broken run.json, and a run four levels down (not listed)
        mk("empty");
        std::fs::write(mk("notes").join("readme.txt"), "hi").unwrap();
        std::fs::write(root.join("stray.txt"), "x").unwrap();
        let broken = mk("broken");
        std::fs::write(broken.join("run.json"), "{ not json").unwrap();
        set_mtime(&broken.join("run.json"), Duration::from_secs(5 * 3600));
        let deep = mk("a/b/c/d");
        std::fs::write(deep.join("metrics.csv"), "h\n").unwrap();

        let runs = list_runs(root);
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "sweep-lr/lr-0.01",
                "sweep-lr/lr-0.1",
                "2026-01-02_00-00-00_mlp",
                "2026-01-01_00-00-00_eegnet",
                "broken",
            ]
        );
        let status: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
        use RunStatus::*;
        assert_eq!(
            status,
            vec![Running, Incomplete, Incomplete, Complete, Incomplete]
        );
        let complete = &runs[3];
        assert_eq!(complete.dir, done);
        assert_eq!(complete.model.as_deref(), Some("EEGNet (F1=8, D=2, F2=16)"));
        assert_eq!(complete.test_score, Some(0.8));
        assert_eq!(runs[1].model.as_deref(), Some("EEGNet (F1=8, D=2, F2=16)"));
        assert_eq!(runs[1].test_score, None);
        assert_eq!(runs[4].model, None);
        assert_eq!(complete.train_seconds, Some(3.25));
        assert_eq!(complete.group, None);
        assert_eq!(runs[0].group.as_deref(), Some("sweep-lr"));
        assert!(complete.note.is_empty() && complete.note_problem.is_none());

        // A note, a damaged note, data file names.
        let mut info = serde_json::to_value(run_info(&["wake", "n2"])).unwrap();
        info["data"] =
            serde_json::json!([{"path": "/data/sub-01/night.edf", "role": "train", "sha256": ""}]);
        std::fs::write(done.join("run.json"), info.to_string()).unwrap();
        crate::runs::RunNote {
            pinned: true,
            tags: vec!["baseline".into()],
            note: String::new(),
        }
        .save(&done)
        .unwrap();
        std::fs::write(crashed.join("note.json"), "[").unwrap();
        let runs = list_runs(root);
        let done_entry = runs.iter().find(|r| r.dir == done).unwrap();
        assert!(done_entry.note.pinned);
        assert_eq!(done_entry.data, vec!["night.edf"]);
        let crashed_entry = runs.iter().find(|r| r.dir == crashed).unwrap();
        assert!(crashed_entry.note.is_empty());
        assert!(
            crashed_entry
                .note_problem
                .as_deref()
                .unwrap()
                .contains("note.json")
        );

        assert!(list_runs(&root.join("missing")).is_empty());
        assert!(list_runs(&root.join("stray.txt")).is_empty());
    }
}
