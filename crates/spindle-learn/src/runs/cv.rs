//! `cv.json`: the test scores of a cross-validation's fold runs side by
//! side, their mean and spread, and in plain words which estimate to trust.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spindle_signals::recording::RecordingError;

use super::{RunReport, RunsError, Scores};
use crate::dataset::{CvScheme, Fold, FoldKind, Trial};
use crate::train::RunPaths;

/// The summary's file name in a cross-validation folder.
pub const CV_JSON: &str = "cv.json";

/// Scores tried in this order for the one number the advice quotes.
const HEADLINE: [&str; 4] = ["balanced_accuracy", "accuracy", "r2", "mse"];

/// One test score over the folds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreSpread {
    /// Each fold run's value, in fold order (`None` where its report has none).
    pub per_fold: Vec<Option<f64>>,
    /// Mean over the folds with a value.
    pub mean: f64,
    /// Sample standard deviation (denominator n - 1) over the folds with a
    /// value; 0 with a single value.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Folds with a value.
    pub n_folds: usize,
}

impl ScoreSpread {
    /// The spread of `per_fold`; `None` when no fold has a value.
    pub(crate) fn new(per_fold: Vec<Option<f64>>) -> Option<Self> {
        let values: Vec<f64> = per_fold.iter().flatten().copied().collect();
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self {
            per_fold,
            mean,
            sd,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            n_folds: n,
        })
    }
}

/// One fold of a cross-validation: what it tested on and where its run is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CvFold {
    /// The fold's recordings, subject or trials.
    #[serde(flatten)]
    pub fold: Fold,
    /// The fold's run folder (an ordinary run folder).
    pub run_dir: PathBuf,
}

impl CvFold {
    /// What the fold tested on, in words (`tested on sub-02.edf`,
    /// `subject 01: …`, `tested on 12 files: trill 3, …`).
    pub fn tested_on(&self) -> String {
        tested_on(&self.fold)
    }

    /// The fold's run folder in the cross-validation folder `cv_dir` (its
    /// `fold-N` folder there, wherever the summary was written from).
    pub fn run_dir_in(&self, cv_dir: &Path) -> PathBuf {
        match self.run_dir.file_name() {
            Some(name) => cv_dir.join(name),
            None => self.run_dir.clone(),
        }
    }
}

/// A cross-validation's results (`cv.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CvSummary {
    /// The folds asked for.
    pub scheme: CvScheme,
    /// What each fold tested on.
    pub kind: FoldKind,
    /// The folds with their run folders.
    pub folds: Vec<CvFold>,
    /// Every number of the runs' test report (`report.json`'s `test`), by name.
    pub scores: BTreeMap<String, ScoreSpread>,
    /// Which estimate to trust and why, in plain words.
    pub advice: String,
}

impl CvSummary {
    /// Reads the `report.json` of each fold's run and gathers the test scores.
    pub fn from_runs(
        scheme: CvScheme,
        kind: FoldKind,
        folds: Vec<CvFold>,
    ) -> Result<Self, RunsError> {
        let mut values: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for (i, f) in folds.iter().enumerate() {
            let path = RunPaths::new(&f.run_dir).report_json();
            let report = RunReport::load(&path)?;
            let test = report
                .test
                .as_ref()
                .map(Scores::numbers)
                .unwrap_or_default();
            for (name, v) in test {
                let row = values
                    .entry(name)
                    .or_insert_with(|| vec![None; folds.len()]);
                row[i] = Some(v);
            }
        }
        let scores: BTreeMap<String, ScoreSpread> = values
            .into_iter()
            .filter_map(|(name, v)| ScoreSpread::new(v).map(|s| (name, s)))
            .collect();
        let advice = advice(kind, folds.len(), &scores);
        Ok(Self {
            scheme,
            kind,
            folds,
            scores,
            advice,
        })
    }

    /// Reads `dir/cv.json`: `Ok(None)` when there is none, an error naming
    /// the file when it is too large or not a cross-validation summary.
    pub fn load(dir: &Path) -> Result<Option<Self>, RunsError> {
        let path = dir.join(CV_JSON);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RunsError::io(&path, e)),
        };
        if meta.len() > crate::train::MAX_RUN_JSON_BYTES {
            return Err(RunsError::Invalid {
                path,
                message: format!("{} bytes, more than a cv.json can be", meta.len()),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RunsError::io(&path, e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| RunsError::json(&path, e))
    }

    /// Writes `dir/cv.json` atomically and returns its path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, RunsError> {
        let path = dir.join(CV_JSON);
        let text = serde_json::to_string_pretty(self).map_err(|e| RunsError::json(&path, e))?;
        spindle_signals::recording::write_atomic(&path, text.as_bytes()).map_err(|e| match e {
            RecordingError::Io { path, source } => RunsError::io(&path, source),
            other => RunsError::json(&path, other),
        })?;
        Ok(path)
    }

    /// The scores per fold with mean ± sd, then what each fold tested on, as
    /// a table for a terminal.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let n = self.folds.len();
        let width = self
            .scores
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!(
            "cross-validation: {n} folds, each testing on {}\n",
            self.kind.describe()
        );
        let _ = write!(s, "{:<width$}", "score");
        for f in &self.folds {
            let _ = write!(s, " {:>8}", format!("fold {}", f.fold.number));
        }
        let _ = writeln!(s, "  {:>17}", "mean ± sd");
        for (name, spread) in &self.scores {
            let _ = write!(s, "{name:<width$}");
            let whole = spread.per_fold.iter().flatten().all(|v| v.fract() == 0.0);
            for v in &spread.per_fold {
                let _ = write!(s, " {:>8}", v.map_or("-".to_string(), |v| number(v, whole)));
            }
            let mean_sd = format!("{:.3} ± {:.3}", spread.mean, spread.sd);
            let _ = writeln!(s, "  {mean_sd:>17}");
        }
        for f in &self.folds {
            let _ = writeln!(
                s,
                "fold {}: {} (run {})",
                f.fold.number,
                tested_on(&f.fold),
                f.run_dir.display()
            );
        }
        s
    }
}

/// A score for the table: without decimals when the score is a count
/// (`whole`), in scientific notation below 0.001, else with 3 decimals.
fn number(v: f64, whole: bool) -> String {
    if whole {
        format!("{v:.0}")
    } else if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.1e}")
    } else {
        format!("{v:.3}")
    }
}

/// The file name of `path`, or the whole path when it has none.
fn short(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// What a fold tested on, in words.
fn tested_on(fold: &Fold) -> String {
    if fold.test_trials.is_empty() {
        let files: Vec<String> = fold.test_files.iter().map(|f| short(f)).collect();
        return match &fold.subject {
            Some(subject) => format!("subject {subject}: {}", files.join(", ")),
            None => format!("tested on {}", files.join(", ")),
        };
    }
    if !fold.test_files.is_empty() {
        // Whole files of an audio folder: how many of each class.
        let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &fold.test_trials {
            *per_class.entry(t.class.as_str()).or_default() += 1;
        }
        let counts: Vec<String> = per_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
        return format!(
            "tested on {} files: {}",
            fold.test_trials.len(),
            counts.join(", ")
        );
    }
    // Each class's block, from its first trial to the end of its last
    // (the trials are in order of recording and onset).
    let mut blocks: BTreeMap<&str, Vec<&Trial>> = BTreeMap::new();
    for t in &fold.test_trials {
        blocks.entry(t.class.as_str()).or_default().push(t);
    }
    let blocks: Vec<String> = blocks
        .iter()
        .filter_map(|(class, trials)| {
            let (first, last) = (trials.first()?, trials.last()?);
            let (a, b) = (first.onset_s, last.onset_s + last.duration_s);
            Some(if first.file == last.file {
                format!(
                    "{class} {} in {} {a:.1}-{b:.1} s",
                    trials.len(),
                    short(&first.file)
                )
            } else {
                format!(
                    "{class} {} from {} {a:.1} s to {} {b:.1} s",
                    trials.len(),
                    short(&first.file),
                    short(&last.file)
                )
            })
        })
        .collect();
    format!(
        "tested on {} trials: {}",
        fold.test_trials.len(),
        blocks.join("; ")
    )
}

/// Which estimate to trust and why, for folds of `kind`.
fn advice(kind: FoldKind, n_folds: usize, scores: &BTreeMap<String, ScoreSpread>) -> String {
    let headline = HEADLINE
        .iter()
        .find_map(|name| scores.get(*name).map(|s| (name.replace('_', " "), s)));
    let noisy = match headline {
        Some((name, s)) => format!(
            "One train/test split of a small EEG set is a noisy estimate: across these {n_folds} folds the test {name} ranged from {:.3} to {:.3}. Quote the cross-validated mean ± standard deviation, {name} {:.3} ± {:.3} over {} folds, rather than the score of any one split.",
            s.min, s.max, s.mean, s.sd, s.n_folds
        ),
        None => format!(
            "One train/test split of a small EEG set is a noisy estimate; quote the cross-validated mean ± standard deviation over the {n_folds} folds rather than the score of any one split (these runs reported no test scores)."
        ),
    };
    let scope = match kind {
        FoldKind::Recordings => {
            "Each fold tested on whole recordings its model never saw, so this estimates performance on new recordings; if some people gave several recordings, leave-one-subject-out folds (--cv loso) estimate performance on new people."
        }
        FoldKind::TrialBlocks => {
            "Every fold tested on blocks of trials from the same recording(s) it trained on (same session, electrodes and person), so this estimate is optimistic compared with new recordings or new people; to estimate those, cross-validate over at least as many recordings as folds, or leave one subject out (--cv loso)."
        }
        FoldKind::Files => {
            "Each fold tested on files of the folder its model never saw; files recorded in the same session or from the same animal or person as training files make this estimate optimistic for new sessions: to estimate those, put each session's files in a folder of their own and test on it."
        }
        FoldKind::Subjects => {
            "Each fold tested on one person whose recordings its model never saw, so this estimates how well the model generalizes to new people: the figure to quote for use on people outside the data."
        }
    };
    format!("{noisy} {scope}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_signals::eval::ClassificationReport;

    fn write_report(dir: &Path, predicted: &[usize]) {
        std::fs::create_dir_all(dir).unwrap();
        let truth = [0, 0, 1, 1];
        let test = ClassificationReport::new(&["a", "b"], &truth, predicted, None).unwrap();
        let value = serde_json::json!({
            "test": test,
            "validation": null,
            "best_epoch": 1,
            "epochs_run": 1,
            "stopped_early": false,
            "train_seconds": 0.5,
        });
        std::fs::write(dir.join("report.json"), value.to_string()).unwrap();
    }

    fn fold(number: usize, file: &str) -> Fold {
        Fold {
            number,
            subject: None,
            test_files: vec![PathBuf::from(file)],
            train_files: Vec::new(),
            test_trials: Vec::new(),
        }
    }

    #[test]
    fn scores_are_gathered_with_mean_and_sample_sd() {
        let tmp = tempfile::tempdir().unwrap();
        let predictions: [&[usize]; 3] = [&[0, 0, 1, 1], &[0, 1, 1, 1], &[1, 1, 1, 1]];
        let folds: Vec<CvFold> = predictions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let run_dir = tmp.path().join(format!("fold-{}", i + 1));
                write_report(&run_dir, p);
                CvFold {
                    fold: fold(i + 1, &format!("r{i}.edf")),
                    run_dir,
                }
            })
            .collect();
        let cv = CvSummary::from_runs(CvScheme::Folds(3), FoldKind::Recordings, folds).unwrap();
        let acc = &cv.scores["accuracy"];
        assert_eq!(acc.per_fold, vec![Some(1.0), Some(0.75), Some(0.5)]);
        assert!((acc.mean - 0.75).abs() < 1e-12);
        assert!((acc.sd - 0.25).abs() < 1e-12, "sample sd: {}", acc.sd);
        assert_eq!((acc.min, acc.max, acc.n_folds), (0.5, 1.0, 3));
        for name in ["balanced_accuracy", "kappa", "f1_macro", "n"] {
            assert!(cv.scores.contains_key(name), "{name} missing");
        }
        assert!(!cv.scores.contains_key("accuracy_ci95"));
        assert!(cv.advice.contains("0.750 ± 0.250"), "{}", cv.advice);
        assert!(cv.advice.contains("new recordings"), "{}", cv.advice);
        let table = cv.table();
        assert!(table.contains("fold 3"), "{table}");
        assert!(table.contains("0.750 ± 0.250"), "{table}");
        assert!(table.contains("1.000    0.750    0.500"), "{table}");
        let path = cv.save(tmp.path()).unwrap();
        let back: CvSummary =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(back, cv);
        assert_eq!(CvSummary::load(tmp.path()).unwrap(), Some(cv.clone()));
        assert!(
            CvSummary::load(&tmp.path().join("fold-1"))
                .unwrap()
                .is_none()
        );
        // A fold's run, wherever cv.json was written from, and a snapshot
        // of it carrying the cross-validation.
        let moved = cv.folds[1].run_dir_in(Path::new("/elsewhere/cv"));
        assert_eq!(moved, Path::new("/elsewhere/cv/fold-2"));
        assert_eq!(cv.folds[0].tested_on(), "tested on r0.edf");
        let snap = crate::runs::load_run_snapshot(&tmp.path().join("fold-2")).unwrap();
        assert_eq!(
            snap.cv.map(|(d, c)| (d, c.folds.len())),
            Some((tmp.path().to_path_buf(), 3))
        );
        std::fs::write(tmp.path().join(CV_JSON), "{").unwrap();
        let e = CvSummary::load(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("cv.json"), "{e}");
    }

    #[test]
    fn advice_depends_on_what_the_folds_held_out() {
        let scores = BTreeMap::from([(
            "accuracy".to_string(),
            ScoreSpread::new(vec![Some(0.6), Some(0.8)]).unwrap(),
        )]);
        let blocks = advice(FoldKind::TrialBlocks, 2, &scores);
        assert!(blocks.contains("optimistic"), "{blocks}");
        assert!(blocks.contains("accuracy 0.700 ± 0.141"), "{blocks}");
        let people = advice(FoldKind::Subjects, 2, &scores);
        assert!(people.contains("new people"), "{people}");
        assert!(advice(FoldKind::Recordings, 2, &BTreeMap::new()).contains("no test scores"));
        assert_eq!(ScoreSpread::new(vec![None, None]), None);
        assert_eq!(ScoreSpread::new(vec![None, Some(0.5)]).unwrap().sd, 0.0);
    }

    #[test]
    fn trial_blocks_are_described_per_class() {
        let t = |file: &str, onset_s: f64, class: &str| Trial {
            file: file.into(),
            onset_s,
            duration_s: 2.0,
            class: class.into(),
        };
        let fold = Fold {
            test_trials: vec![
                t("d/r.edf", 0.0, "long"),
                t("d/r.edf", 2.0, "long"),
                t("d/r.edf", 500.0, "short"),
                t("d/s.edf", 4.0, "short"),
            ],
            test_files: Vec::new(),
            ..fold(1, "r.edf")
        };
        assert_eq!(
            tested_on(&fold),
            "tested on 4 trials: long 2 in r.edf 0.0-4.0 s; short 2 from r.edf 500.0 s to s.edf 6.0 s"
        );
    }

    #[test]
    fn a_missing_report_names_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let folds = vec![CvFold {
            fold: fold(1, "r.edf"),
            run_dir: tmp.path().join("fold-1"),
        }];
        let err = CvSummary::from_runs(CvScheme::Folds(2), FoldKind::Recordings, folds)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fold-1/report.json"), "{err}");
    }
}
