//! Runs side by side (`spindle compare`, the app's sweep view): every run
//! folder found in the given folders with the settings that differ between
//! them, their test and validation scores and time, and for the fold runs of
//! a cross-validation the mean and spread over the folds of each setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cv::ScoreSpread;
use super::{RunReport, RunStatus, RunsError, is_run_dir, run_status, settings_diff};
use crate::train::{RunInfo, RunPaths};

/// How deep below a given folder run folders are looked for
/// (`sweep/point/fold-N` is 3).
const MAX_DEPTH: usize = 3;

/// Settings that differ between folds by construction, not by choice.
const FOLD_KEYS: [&str; 1] = ["dataset.test_trials"];

/// Scores where lower is better, for sorting.
const LOWER_IS_BETTER: [&str; 3] = ["mse", "mae", "seconds"];

/// One run of a comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComparedRun {
    /// Its folder below the folder it was found in, with `/` separators.
    pub name: String,
    /// The run folder.
    pub dir: PathBuf,
    /// The cross-validation it is a fold of (the name of the folder of its
    /// `fold-N` folders), if any.
    pub cv_group: Option<String>,
    /// Running, complete or incomplete.
    pub status: &'static str,
    /// The value of each setting that differs between the compared runs.
    pub settings: BTreeMap<String, String>,
    /// The numbers of the test report (`accuracy`, `balanced_accuracy`, ...
    /// or `mse`, `r2`, ...), empty without a report.
    pub test: BTreeMap<String, f64>,
    /// The numbers of the validation report.
    pub validation: BTreeMap<String, f64>,
    /// Seconds of training, from the report.
    pub train_seconds: Option<f64>,
    /// Epochs run, from the report.
    pub epochs_run: Option<usize>,
    /// Why its `run.json` or `report.json` could not be read, if so.
    pub problem: Option<String>,
}

/// The fold runs of one cross-validated setting.
#[derive(Debug, Clone, PartialEq)]
pub struct CvGroup {
    /// The folder holding the `fold-N` run folders.
    pub name: String,
    /// Indices of its runs in [`Comparison::runs`].
    pub runs: Vec<usize>,
    /// Each test score over its complete folds.
    pub test: BTreeMap<String, ScoreSpread>,
    /// Training seconds summed over its folds.
    pub train_seconds: f64,
}

/// Runs compared.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// Every run found, by name.
    pub runs: Vec<ComparedRun>,
    /// The settings that differ, by dotted key (`train.lr`, `model` when architectures differ).
    pub setting_keys: Vec<String>,
    /// Cross-validations among them, by name.
    pub groups: Vec<CvGroup>,
}

/// Every run folder in `dirs` (each a run folder or a folder holding run
/// folders up to three levels down, e.g. a sweep folder) compared. Fails
/// when a folder cannot be read.
pub fn compare_runs(dirs: &[PathBuf]) -> Result<Comparison, RunsError> {
    let mut found = Vec::new();
    for dir in dirs {
        std::fs::read_dir(dir).map_err(|e| RunsError::io(dir, e))?;
        if is_run_dir(dir) {
            let name = dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            found.push((name, dir.clone()));
        } else {
            find_runs(dir, "", 1, &mut found);
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    let mut infos = Vec::with_capacity(found.len());
    let mut runs = Vec::with_capacity(found.len());
    for (name, dir) in found {
        let (run, info) = read_run(name, dir);
        runs.push(run);
        infos.push(info);
    }
    let with_info: Vec<(usize, &RunInfo)> = infos
        .iter()
        .enumerate()
        .filter_map(|(i, info)| Some((i, info.as_ref()?)))
        .collect();
    let only: Vec<&RunInfo> = with_info.iter().map(|(_, info)| *info).collect();
    let mut setting_keys = Vec::new();
    for d in settings_diff(&only) {
        if FOLD_KEYS.iter().any(|k| d.key.starts_with(k)) {
            continue;
        }
        for ((i, _), v) in with_info.iter().zip(&d.values) {
            runs[*i].settings.insert(d.key.clone(), v.clone());
        }
        setting_keys.push(d.key);
    }
    let groups = cv_groups(&runs);
    Ok(Comparison {
        runs,
        setting_keys,
        groups,
    })
}

/// Adds the run folders below `dir` (named `prefix` + their path) to `out`,
/// not looking inside run folders.
fn find_runs(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<(String, PathBuf)>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    children.sort();
    for child in children {
        let name = format!(
            "{prefix}{}",
            child
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        if is_run_dir(&child) {
            out.push((name, child));
        } else {
            find_runs(&child, &format!("{name}/"), depth + 1, out);
        }
    }
}

/// One run's entry and its `run.json`.
fn read_run(name: String, dir: PathBuf) -> (ComparedRun, Option<RunInfo>) {
    let mut problems = Vec::new();
    let info = RunInfo::load(&dir)
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    let report_path = RunPaths::new(&dir).report_json();
    let report = if report_path.is_file() {
        RunReport::load(&report_path)
            .map_err(|e| problems.push(e.to_string()))
            .ok()
    } else {
        None
    };
    let numbers = |s: Option<&super::Scores>| s.map(super::Scores::numbers).unwrap_or_default();
    let cv_group = match name.rsplit_once('/') {
        Some((parent, last)) if last.starts_with("fold-") => Some(parent.to_string()),
        _ => None,
    };
    let status = match run_status(&dir, false) {
        RunStatus::Complete if report.is_none() => "unreadable",
        s => s.label(),
    };
    let run = ComparedRun {
        name,
        cv_group,
        status,
        settings: BTreeMap::new(),
        test: numbers(report.as_ref().and_then(|r| r.test.as_ref())),
        validation: numbers(report.as_ref().and_then(|r| r.validation.as_ref())),
        train_seconds: report.as_ref().map(|r| r.train_seconds),
        epochs_run: report.as_ref().map(|r| r.epochs_run),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        dir,
    };
    (run, info)
}

/// The cross-validations among `runs`: fold runs grouped by their folder.
fn cv_groups(runs: &[ComparedRun]) -> Vec<CvGroup> {
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        if let Some(g) = &r.cv_group {
            by_name.entry(g).or_default().push(i);
        }
    }
    by_name
        .into_iter()
        .map(|(name, members)| {
            let mut values: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
            for (k, &i) in members.iter().enumerate() {
                for (score, v) in &runs[i].test {
                    values
                        .entry(score.clone())
                        .or_insert_with(|| vec![None; members.len()])[k] = Some(*v);
                }
            }
            CvGroup {
                name: name.to_string(),
                test: values
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, ScoreSpread::new(v)?)))
                    .collect(),
                train_seconds: members.iter().filter_map(|&i| runs[i].train_seconds).sum(),
                runs: members,
            }
        })
        .collect()
}

impl ComparedRun {
    /// The value of `metric`: a test score by name (`accuracy`, `r2`, ...),
    /// `val_` + a validation score, or `seconds`.
    pub fn metric(&self, metric: &str) -> Option<f64> {
        if metric == "seconds" {
            return self.train_seconds;
        }
        match metric.strip_prefix("val_") {
            Some(name) => self.validation.get(name).copied(),
            None => self.test.get(metric).copied(),
        }
    }
}

/// The one score to show: accuracy for classifiers, R² for regressors.
fn headline(scores: &BTreeMap<String, f64>) -> Option<f64> {
    scores.get("accuracy").or_else(|| scores.get("r2")).copied()
}

impl Comparison {
    /// The metric names runs can be sorted by.
    pub fn metrics(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .runs
            .iter()
            .flat_map(|r| {
                r.test
                    .keys()
                    .cloned()
                    .chain(r.validation.keys().map(|k| format!("val_{k}")))
            })
            .collect();
        names.push("seconds".into());
        names.sort();
        names.dedup();
        names
    }

    /// Sorts the runs and cross-validations by `metric`, best first (highest,
    /// or lowest for `mse`, `mae`, `seconds`); runs without it last.
    pub fn sort_by(&mut self, metric: &str) -> Result<(), String> {
        let known = self.metrics();
        if !known.iter().any(|m| m == metric) {
            return Err(format!(
                "unknown metric {metric:?}; the runs have: {}",
                known.join(", ")
            ));
        }
        let lower = LOWER_IS_BETTER.contains(&metric.trim_start_matches("val_"));
        let key = |v: Option<f64>| v.map(|v| if lower { v } else { -v });
        let order = |a: Option<f64>, b: Option<f64>| match (key(a), key(b)) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        let mut idx: Vec<usize> = (0..self.runs.len()).collect();
        idx.sort_by(|&a, &b| order(self.runs[a].metric(metric), self.runs[b].metric(metric)));
        let mut new_pos = vec![0; idx.len()];
        for (pos, &old) in idx.iter().enumerate() {
            new_pos[old] = pos;
        }
        self.runs = idx.iter().map(|&i| self.runs[i].clone()).collect();
        for g in &mut self.groups {
            g.runs = g.runs.iter().map(|&i| new_pos[i]).collect();
        }
        let group_value = |g: &CvGroup| match metric {
            "seconds" => Some(g.train_seconds),
            m => g.test.get(m).map(|s| s.mean),
        };
        self.groups
            .sort_by(|a, b| order(group_value(a), group_value(b)));
        Ok(())
    }

    /// The runs as a table for a terminal, then the cross-validations' means.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let mut header = vec!["run".to_string(), "status".to_string()];
        header.extend(self.setting_keys.iter().cloned());
        header.extend(["test acc/R²", "test bal.acc", "val acc/R²", "seconds"].map(String::from));
        let mut rows = vec![header];
        for r in &self.runs {
            let mut row = vec![r.name.clone(), r.status.to_string()];
            for k in &self.setting_keys {
                row.push(r.settings.get(k).cloned().unwrap_or_else(|| "-".into()));
            }
            row.push(fmt(headline(&r.test)));
            row.push(fmt(r.test.get("balanced_accuracy").copied()));
            row.push(fmt(headline(&r.validation)));
            row.push(r.train_seconds.map_or("-".into(), |s| format!("{s:.1}")));
            rows.push(row);
        }
        let mut s = aligned(&rows);
        if !self.groups.is_empty() {
            let _ = writeln!(s, "\ncross-validation (mean ± sd over folds):");
            let mut rows = vec![
                [
                    "setting",
                    "folds",
                    "test accuracy",
                    "balanced accuracy",
                    "R²",
                    "seconds",
                ]
                .map(String::from)
                .to_vec(),
            ];
            let spread = |g: &CvGroup, k: &str| {
                g.test
                    .get(k)
                    .map_or("-".into(), |s| format!("{:.3} ± {:.3}", s.mean, s.sd))
            };
            for g in &self.groups {
                let done = self.groups_done(g);
                rows.push(vec![
                    g.name.clone(),
                    format!("{done}/{}", g.runs.len()),
                    spread(g, "accuracy"),
                    spread(g, "balanced_accuracy"),
                    spread(g, "r2"),
                    format!("{:.1}", g.train_seconds),
                ]);
            }
            s.push_str(&aligned(&rows));
        }
        for r in self.runs.iter().filter(|r| r.problem.is_some()) {
            let _ = writeln!(s, "{}: {}", r.name, r.problem.as_deref().unwrap_or(""));
        }
        s
    }

    /// Complete fold runs of `g`.
    fn groups_done(&self, g: &CvGroup) -> usize {
        g.runs
            .iter()
            .filter(|&&i| !self.runs[i].test.is_empty())
            .count()
    }

    /// One JSON object per run, one per line.
    pub fn json_lines(&self) -> String {
        self.runs
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .map(|line| line + "\n")
            .collect()
    }
}

/// `rows` with each column padded to its widest cell.
fn aligned(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = widths[c].saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_support::{run_info, write_report_json};

    fn run(dir: &Path, lr: f64, report: bool) {
        std::fs::create_dir_all(dir).unwrap();
        let mut info = run_info(&["a", "b"]);
        info.train.lr = lr;
        info.save(dir).unwrap();
        if report {
            write_report_json(dir);
        }
    }

    #[test]
    fn runs_of_a_sweep_with_their_differing_settings_and_fold_means() {
        let tmp = tempfile::tempdir().unwrap();
        let sweep = tmp.path().join("sweep");
        run(&sweep.join("000_lr=0.001"), 0.001, true);
        run(&sweep.join("001_lr=0.01"), 0.01, false);
        run(&sweep.join("002_lr=0.1/fold-1"), 0.1, true);
        run(&sweep.join("002_lr=0.1/fold-2"), 0.1, true);
        std::fs::create_dir_all(sweep.join("logs")).unwrap();
        let mut c = compare_runs(std::slice::from_ref(&sweep)).unwrap();
        let names: Vec<&str> = c.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "000_lr=0.001",
                "001_lr=0.01",
                "002_lr=0.1/fold-1",
                "002_lr=0.1/fold-2"
            ]
        );
        assert_eq!(c.setting_keys, ["train.lr"]);
        assert_eq!(c.runs[1].settings["train.lr"], "0.01");
        assert_eq!(c.runs[0].test["accuracy"], 0.8);
        assert_eq!(c.runs[0].train_seconds, Some(3.25));
        assert!(c.runs[1].test.is_empty());
        assert_eq!(c.groups.len(), 1);
        let g = &c.groups[0];
        assert_eq!(g.name, "002_lr=0.1");
        assert_eq!(g.runs, [2, 3]);
        assert_eq!(g.test["accuracy"].mean, 0.8);
        assert_eq!(g.test["accuracy"].n_folds, 2);
        assert_eq!(g.train_seconds, 6.5);
        let table = c.table();
        assert!(table.contains("train.lr"), "{table}");
        assert!(table.contains("0.800 ± 0.000"), "{table}");
        assert_eq!(c.json_lines().lines().count(), 4);

        // Runs without the metric sort last; fold indices follow the runs.
        c.sort_by("accuracy").unwrap();
        assert_eq!(c.runs[3].name, "001_lr=0.01");
        let g = &c.groups[0];
        assert!(
            g.runs
                .iter()
                .all(|&i| c.runs[i].cv_group.as_deref() == Some("002_lr=0.1"))
        );
        assert!(c.sort_by("wobble").unwrap_err().contains("accuracy"));
        // A run folder given itself is compared too.
        let one = compare_runs(&[sweep.join("000_lr=0.001")]).unwrap();
        assert_eq!(one.runs.len(), 1);
        assert!(compare_runs(&[tmp.path().join("missing")]).is_err());
    }
}
