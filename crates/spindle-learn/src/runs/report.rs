//! `report.json`: the scores a finished run wrote.

use std::path::Path;

use spindle_signals::eval::{ClassificationReport, RegressionReport};

use super::RunsError;

/// The scores of one split: a classifier's or a regressor's report.
///
/// In JSON it is the report object itself, untagged; which one it is follows
/// from its fields (`accuracy`, `confusion_matrix`, ... or `mse`, `r2`, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Scores {
    /// A classification run's scores.
    Classification(ClassificationReport),
    /// A regression run's scores.
    Regression(RegressionReport),
}

impl Scores {
    /// The one number to show in a list of runs: accuracy (0..=1) for a
    /// classifier, R² for a regressor (`None` where undefined).
    pub fn headline(&self) -> Option<f64> {
        match self {
            Scores::Classification(c) => Some(c.accuracy),
            Scores::Regression(r) => r.r2,
        }
    }

    /// Every number of the report by its field name (`accuracy`, `kappa`,
    /// `n`, ... or `mse`, `r2`, ...); fields without a value are left out.
    pub fn numbers(&self) -> std::collections::BTreeMap<String, f64> {
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        value
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .collect()
    }

    /// The classification report, if this is one.
    pub fn classification(&self) -> Option<&ClassificationReport> {
        match self {
            Scores::Classification(c) => Some(c),
            Scores::Regression(_) => None,
        }
    }

    /// The regression report, if this is one.
    pub fn regression(&self) -> Option<&RegressionReport> {
        match self {
            Scores::Classification(_) => None,
            Scores::Regression(r) => Some(r),
        }
    }
}

/// A run's `report.json`, written when training and evaluation finished.
///
/// `test` and `validation` are `None` where the file has `null` (e.g. no test
/// windows) or lacks the key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunReport {
    /// Scores of the best checkpoint on the test windows.
    #[serde(default)]
    pub test: Option<Scores>,
    /// Scores of the best checkpoint on the validation windows.
    #[serde(default)]
    pub validation: Option<Scores>,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// True when early stopping or a Stop command ended training before the
    /// last epoch.
    pub stopped_early: bool,
    /// Seconds spent training (not evaluating).
    pub train_seconds: f64,
    /// What the final model was trained on when it was refitted on training
    /// plus validation (absent in runs made before refitting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_fit: Option<crate::train::FinalFit>,
}

impl RunReport {
    /// Parses the text of a `report.json`; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, RunsError> {
        serde_json::from_str(text)
            .map_err(|e| RunsError::json(path, format!("not a Spindle report.json: {e}")))
    }

    /// Reads and parses the `report.json` at `path`.
    pub fn load(path: &Path) -> Result<Self, RunsError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunsError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// The test score to show in a list of runs (see [`Scores::headline`]).
    pub fn test_score(&self) -> Option<f64> {
        self.test.as_ref().and_then(Scores::headline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write_report` in `crate::train` writes for a classifier.
    fn classification_json() -> String {
        let test = ClassificationReport::new(
            &["wake", "sleep"],
            &[0, 0, 1, 1],
            &[0, 1, 1, 1],
            Some(&[
                vec![0.9, 0.1],
                vec![0.4, 0.6],
                vec![0.2, 0.8],
                vec![0.3, 0.7],
            ]),
        )
        .unwrap();
        let value = serde_json::json!({
            "test": test,
            "validation": Option::<ClassificationReport>::None,
            "best_epoch": 3,
            "epochs_run": 5,
            "stopped_early": true,
            "train_seconds": 12.5,
        });
        serde_json::to_string_pretty(&value).unwrap()
    }

    #[test]
    fn reads_classification_and_regression_reports() {
        let path = Path::new("run/report.json");
        let report = RunReport::parse(&classification_json(), path).unwrap();
        let Some(Scores::Classification(test)) = &report.test else {
            panic!("not classification: {report:?}");
        };
        assert_eq!(test.classes, vec!["wake", "sleep"]);
        assert_eq!(report.test_score(), Some(0.75));
        assert_eq!(report.validation, None);
        assert_eq!((report.best_epoch, report.epochs_run), (3, 5));
        assert!(report.stopped_early);
        assert_eq!(report.train_seconds, 12.5);

        let truth = [1.0, 2.0, 3.0, 4.0];
        let test = RegressionReport::new(&truth, &[1.0, 2.0, 3.0, 5.0]).unwrap();
        let validation = RegressionReport::new(&truth, &truth).unwrap();
        let value = serde_json::json!({
            "test": test,
            "validation": validation,
            "best_epoch": 1,
            "epochs_run": 1,
            "stopped_early": false,
            "train_seconds": 0.5,
        });
        let report = RunReport::parse(&value.to_string(), path).unwrap();
        assert_eq!(
            report.test.as_ref().and_then(Scores::regression),
            Some(&test)
        );
        assert_eq!(
            report.validation.as_ref().and_then(Scores::regression),
            Some(&validation)
        );
        assert_eq!(report.test_score(), test.r2);
        assert!(report.test_score().unwrap() < 1.0);
    }

    #[test]
    fn garbage_names_the_file() {
        let path = Path::new("run/report.json");
        let err = RunReport::parse("{\"best_epoch\": \"x\"}", path).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("run/report.json: not a Spindle report.json"),
            "{msg}"
        );
    }
}
