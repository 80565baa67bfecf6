//! Everything a run folder holds, loaded at once for display.

use std::path::{Path, PathBuf};

use spindle_signals::eval::roc::roc_curves_one_vs_rest;
use spindle_signals::eval::{ClassProbabilities, RocCurve};

use super::{MetricsFollower, PredictionRow, PredictionTable, RunReport, RunsError};
use crate::train::{EpochMetrics, RunInfo, RunPaths};

/// What a run folder holds, as far as it exists: a running run has
/// `run.json` and part of `metrics.csv`; only a finished one has a report
/// and predictions.
#[derive(Debug, Clone)]
pub struct RunSnapshot {
    /// The run folder.
    pub dir: PathBuf,
    /// `run.json`, when present and readable.
    pub info: Option<RunInfo>,
    /// The complete epochs of `metrics.csv`.
    pub epochs: Vec<EpochMetrics>,
    /// `report.json`, when present and readable.
    pub report: Option<RunReport>,
    /// The class names of the `p_<class>` columns of `predictions.tsv`
    /// (empty for regression or without predictions).
    pub classes: Vec<String>,
    /// The rows of `predictions.tsv`.
    pub predictions: Vec<PredictionRow>,
    /// One-vs-rest ROC curve of every class that the test windows hold but
    /// do not consist of entirely, in class order, from the predictions'
    /// probabilities.
    pub roc: Vec<(String, RocCurve)>,
    /// Files that exist but could not be read or made sense of; what they
    /// would have given is left empty.
    pub problems: Vec<RunsError>,
    /// What the user said about the run (`note.json`), empty without one.
    pub note: super::RunNote,
    /// The cross-validation the run is a fold of (the `cv.json` beside its
    /// folder) with that folder, if any.
    pub cv: Option<(PathBuf, super::CvSummary)>,
}

/// Loads the files of run folder `dir` that exist. Fails only when `dir`
/// is not a readable folder; a file that exists but is broken is reported
/// in [`RunSnapshot::problems`].
pub fn load_run_snapshot(dir: &Path) -> Result<RunSnapshot, RunsError> {
    std::fs::read_dir(dir).map_err(|e| RunsError::io(dir, e))?;
    let paths = RunPaths::new(dir);
    let mut problems = Vec::new();
    let mut keep = |r: Result<(), RunsError>| {
        if let Err(e) = r {
            problems.push(e);
        }
    };

    let mut info = None;
    let run_json = paths.run_json();
    if run_json.exists() {
        keep(read_info(&run_json).map(|i| info = Some(i)));
    }

    let mut follower = MetricsFollower::new(&paths.metrics_csv());
    keep(follower.poll().map(|_| ()));
    let epochs = follower.epochs().to_vec();

    let mut report = None;
    let report_json = paths.report_json();
    if report_json.exists() {
        keep(RunReport::load(&report_json).map(|r| report = Some(r)));
    }

    let mut note = super::RunNote::default();
    keep(super::RunNote::load(dir).map(|n| note = n.unwrap_or_default()));

    let mut cv = None;
    if let Some(parent) = dir.parent() {
        keep(super::CvSummary::load(parent).map(|c| cv = c.map(|c| (parent.to_path_buf(), c))));
    }

    let mut table = PredictionTable::default();
    let mut roc = Vec::new();
    let predictions_tsv = paths.predictions_tsv();
    if predictions_tsv.exists() {
        keep(PredictionTable::load(&predictions_tsv).map(|t| table = t));
        keep(roc_curves(&table, &predictions_tsv).map(|r| roc = r));
    }

    Ok(RunSnapshot {
        dir: dir.to_path_buf(),
        info,
        epochs,
        report,
        classes: table.classes,
        predictions: table.rows,
        roc,
        problems,
        note,
        cv,
    })
}

/// `run.json` at `path`, read and checked as every loader does
/// ([`RunInfo::load`]).
fn read_info(path: &Path) -> Result<RunInfo, RunsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    RunInfo::load(dir).map_err(|e| match e {
        crate::train::TrainError::RunFolder { path, reason } => RunsError::json(&path, reason),
        other => RunsError::json(path, other.to_string()),
    })
}

/// One-vs-rest ROC curves of `table`'s classes (none for regression);
/// `path` names the file in errors. Rows whose true class is not one of the
/// columns fail.
pub fn roc_curves(
    table: &PredictionTable,
    path: &Path,
) -> Result<Vec<(String, RocCurve)>, RunsError> {
    if table.classes.is_empty() || table.rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut truth = Vec::with_capacity(table.rows.len());
    let mut rows = Vec::with_capacity(table.rows.len());
    for (i, row) in table.rows.iter().enumerate() {
        let Some(class) = table.classes.iter().position(|c| *c == row.truth) else {
            return Err(RunsError::Json {
                path: path.to_path_buf(),
                message: format!(
                    "row {} has true class `{}`, which has no p_ column",
                    i + 1,
                    row.truth
                ),
            });
        };
        truth.push(class);
        rows.push(row.probabilities.clone());
    }
    let eval = |source| RunsError::Eval {
        path: path.to_path_buf(),
        source,
    };
    let probabilities = ClassProbabilities::from_rows(&rows, table.classes.len()).map_err(eval)?;
    let curves = roc_curves_one_vs_rest(&truth, &probabilities).map_err(eval)?;
    Ok(table
        .classes
        .iter()
        .zip(curves)
        .filter_map(|(class, curve)| curve.map(|c| (class.clone(), c)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_support::{run_info, write_report_json};

    #[test]
    fn loads_a_finished_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        run_info(&["wake", "n2", "rem"]).save(dir).unwrap();
        std::fs::write(
            dir.join("metrics.csv"),
            "epoch,step,split,loss,accuracy,balanced_accuracy,lr,seconds\n\
             1,5,train,1.000000,0.500000,,0.00100000,1.000\n\
             1,5,validation,0.900000,0.600000,0.550000,0.00100000,1.000\n\
             2,10,train,0.800000,0.700000,,0.00100000,1.000\n",
        )
        .unwrap();
        write_report_json(dir);
        // class rem is absent from the truth: no curve for it
        std::fs::write(
            dir.join("predictions.tsv"),
            "file\tonset\tduration\ttrue\tpredicted\tp_wake\tp_n2\tp_rem\n\
             a.edf\t0.000\t30.000\twake\twake\t0.7000\t0.2000\t0.1000\n\
             a.edf\t30.000\t30.000\tn2\tn2\t0.2000\t0.5000\t0.3000\n\
             a.edf\t60.000\t30.000\twake\tn2\t0.4000\t0.4500\t0.1500\n\
             a.edf\t90.000\t30.000\tn2\tn2\t0.1000\t0.8000\t0.1000\n",
        )
        .unwrap();
        let s = load_run_snapshot(dir).unwrap();
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.info.as_ref().map(|i| i.classes.len()), Some(3));
        assert_eq!(s.epochs.len(), 1, "epoch 2 lacks its validation row");
        assert_eq!(s.epochs[0].val_balanced_accuracy, Some(0.55));
        assert_eq!(s.report.as_ref().and_then(RunReport::test_score), Some(0.8));
        assert_eq!(s.classes, vec!["wake", "n2", "rem"]);
        assert_eq!(s.predictions.len(), 4);
        let names: Vec<&str> = s.roc.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(names, vec!["wake", "n2"]);
        // wake: positives {0.7, 0.4}, negatives {0.2, 0.1}: separable
        assert_eq!(s.roc[0].1.area(), 1.0);
        // n2: positives {0.5, 0.8}, negatives {0.2, 0.45}: separable too
        assert_eq!(s.roc[1].1.area(), 1.0);
        assert_eq!(s.roc[0].1.points().first(), Some(&[0.0, 0.0]));
        assert_eq!(s.roc[0].1.points().last(), Some(&[1.0, 1.0]));
    }

    #[test]
    fn loads_what_exists_and_reports_broken_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let empty = load_run_snapshot(dir).unwrap();
        assert!(empty.info.is_none() && empty.report.is_none());
        assert!(empty.epochs.is_empty() && empty.predictions.is_empty());
        assert!(empty.problems.is_empty());

        std::fs::write(dir.join("run.json"), "[]").unwrap();
        std::fs::write(
            dir.join("predictions.tsv"),
            "file\tonset\tduration\ttrue\tpredicted\tp_a\tp_b\nx\t0\t1\ta\ta\t0.5\tNaN\n",
        )
        .unwrap();
        let s = load_run_snapshot(dir).unwrap();
        assert!(s.info.is_none());
        assert_eq!(s.predictions.len(), 1);
        assert!(s.roc.is_empty());
        let messages: Vec<String> = s.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("run.json: not a Spindle run.json"),
            "{messages:?}"
        );
        assert!(messages[1].contains("predictions.tsv: "), "{messages:?}");
        assert!(messages[1].contains("not a finite number"), "{messages:?}");

        assert!(load_run_snapshot(&dir.join("missing")).is_err());
    }
}
