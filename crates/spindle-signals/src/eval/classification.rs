//! The test report of a classifier, as written to a run folder's
//! `report.json`.

use serde::{Deserialize, Serialize};

use super::roc::{auc_one_vs_rest, macro_auc};
use super::{ChanceReport, ClassProbabilities, ConfusionMatrix, EvalError};

/// Scores of one class against all others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassReport {
    /// The class name.
    pub class: String,
    /// Fraction of the examples predicted as this class that are (0..=1; 0
    /// when never predicted).
    pub precision: f64,
    /// Fraction of the examples of this class predicted as it (0..=1; 0 when
    /// absent from the truth).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0..=1; 0 when both are 0).
    pub f1: f64,
    /// Number of test examples of this class.
    pub support: usize,
    /// One-vs-rest ROC AUC (0..=1, 0.5 is chance); `None` (JSON `null`)
    /// without probabilities or when the class is absent from the truth or
    /// makes up all of it.
    pub auc: Option<f64>,
}

/// Everything known about a classifier's test predictions, serializable to
/// JSON with keys in field order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Number of test examples.
    pub n: usize,
    /// Class names; class index `i` is `classes[i]`.
    pub classes: Vec<String>,
    /// Fraction classified correctly (0..=1).
    pub accuracy: f64,
    /// 95% Wilson score interval for the accuracy, `[lo, hi]` (0..=1).
    pub accuracy_ci95: [f64; 2],
    /// Mean recall over the classes present in the truth (0..=1).
    pub balanced_accuracy: f64,
    /// Mean F1 over the classes present in the truth or the predictions (0..=1).
    pub f1_macro: f64,
    /// Cohen's kappa (-1..=1; 0 where undefined).
    pub kappa: f64,
    /// Mean of the defined per-class AUCs; `None` (JSON `null`) when none is.
    pub auc_macro: Option<f64>,
    /// Accuracy of always guessing the most common test class (0..=1).
    pub chance_level: f64,
    /// `1 / number of classes` (0..=1).
    pub chance_uniform: f64,
    /// The most common class of the test truth; `None` when `n` is 0.
    pub majority_class: Option<String>,
    /// One-sided exact binomial p-value of the correct count against
    /// `chance_level` (0..=1).
    pub p_value: f64,
    /// The only class the model ever predicts, when it predicts just one.
    pub single_class_predicted: Option<String>,
    /// What the numbers mean, in plain words.
    pub verdict: String,
    /// Scores of each class, in class index order.
    pub per_class: Vec<ClassReport>,
    /// Counts, rows = true class, columns = predicted class.
    pub confusion_matrix: Vec<Vec<usize>>,
}

impl ClassificationReport {
    /// Scores `predicted` against `truth` (class indices into `classes`).
    ///
    /// `probabilities`, when given, holds one row of per-class scores per
    /// example (e.g. softmax outputs) for the ROC AUCs. Fails when `classes`
    /// is empty, lengths differ, a label is out of range or a score is not
    /// finite. Empty `truth` gives a report with `n = 0` and zero scores.
    pub fn new(
        classes: &[impl AsRef<str>],
        truth: &[usize],
        predicted: &[usize],
        probabilities: Option<&[Vec<f32>]>,
    ) -> Result<Self, EvalError> {
        let table = match probabilities {
            Some(rows) => Some(ClassProbabilities::from_rows(rows, classes.len())?),
            None => None,
        };
        Self::from_probability_table(classes, truth, predicted, table.as_ref())
    }

    /// As [`ClassificationReport::new`], with the probabilities as a validated
    /// table (e.g. built from a flat row-major slice).
    pub fn from_probability_table(
        classes: &[impl AsRef<str>],
        truth: &[usize],
        predicted: &[usize],
        probabilities: Option<&ClassProbabilities>,
    ) -> Result<Self, EvalError> {
        let matrix = ConfusionMatrix::from_labels(truth, predicted, classes.len())?;
        let aucs = match probabilities {
            Some(table) => {
                if table.n_classes() != classes.len() {
                    return Err(EvalError::LengthMismatch {
                        what: "probability columns",
                        expected: classes.len(),
                        found: table.n_classes(),
                    });
                }
                auc_one_vs_rest(truth, table)?
            }
            None => vec![None; classes.len()],
        };
        let names: Vec<String> = classes.iter().map(|c| c.as_ref().to_string()).collect();
        let chance = ChanceReport::new(&matrix, &names);
        let name = |c: Option<usize>| c.and_then(|c| names.get(c).cloned());
        let per_class = matrix
            .per_class()
            .into_iter()
            .zip(&aucs)
            .zip(&names)
            .map(|((scores, &auc), class)| ClassReport {
                class: class.clone(),
                precision: scores.precision,
                recall: scores.recall,
                f1: scores.f1,
                support: scores.support,
                auc,
            })
            .collect();
        Ok(Self {
            n: chance.n,
            accuracy: chance.accuracy,
            accuracy_ci95: chance.accuracy_ci95,
            balanced_accuracy: matrix.balanced_accuracy(),
            f1_macro: matrix.f1_macro(),
            kappa: matrix.kappa(),
            auc_macro: macro_auc(&aucs),
            chance_level: chance.chance_level,
            chance_uniform: chance.chance_uniform,
            majority_class: name(chance.majority_class),
            p_value: chance.p_value,
            single_class_predicted: name(chance.single_class_predicted),
            verdict: chance.verdict,
            per_class,
            confusion_matrix: matrix.to_rows(),
            classes: names,
        })
    }

    /// The report as pretty-printed JSON, keys in field order.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["wake", "n2", "rem"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn full_report_hand_checked() {
        let truth = [0, 1, 2, 0, 1, 2];
        // argmax of each row below: 0, 1, 2, 0 (0.4 vs 0.4 -> called 0), 0, 2
        let predicted = [0, 1, 2, 0, 0, 2];
        let rows = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.3, 0.6],
            vec![0.4, 0.4, 0.2],
            vec![0.5, 0.3, 0.2],
            vec![0.3, 0.3, 0.4],
        ];
        let r = ClassificationReport::new(&classes(), &truth, &predicted, Some(&rows)).unwrap();
        assert_eq!(r.n, 6);
        // rows: wake [2 0 0], n2 [1 1 0], rem [0 0 2]
        assert_eq!(
            r.confusion_matrix,
            vec![vec![2, 0, 0], vec![1, 1, 0], vec![0, 0, 2]]
        );
        // accuracy 5/6; recalls 1, 1/2, 1 -> balanced 2.5/3
        assert!((r.accuracy - 5.0 / 6.0).abs() < 1e-12);
        assert!((r.balanced_accuracy - 2.5 / 3.0).abs() < 1e-12);
        // f1: wake 4/(4+1+0) = 0.8, n2 2/(2+0+1) = 2/3, rem 1 -> mean 2.4667/3
        assert!((r.f1_macro - (0.8 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        // p_o = 5/6; p_e = (2*3 + 2*1 + 2*2) / 36 = 12/36 = 1/3
        // kappa = (5/6 - 1/3) / (2/3) = 0.75
        assert!((r.kappa - 0.75).abs() < 1e-12);
        // AUCs from roc.rs's three-class example: 0.875, 0.75, 1.0
        let aucs: Vec<Option<f64>> = r.per_class.iter().map(|c| c.auc).collect();
        assert_eq!(aucs, vec![Some(0.875), Some(0.75), Some(1.0)]);
        assert!((r.auc_macro.unwrap() - 0.875).abs() < 1e-12);
        // three classes of 2: chance 1/3; P(X >= 5 | 6, 1/3) = (6*(1/3)^5*(2/3) + (1/3)^6)
        //   = (12 + 1) / 729
        assert!((r.chance_level - 1.0 / 3.0).abs() < 1e-12);
        assert!((r.p_value - 13.0 / 729.0).abs() < 1e-12);
        assert_eq!(r.majority_class.as_deref(), Some("wake"));
        assert_eq!(r.single_class_predicted, None);
        assert_eq!(r.per_class[1].class, "n2");
        assert_eq!(r.per_class[1].support, 2);
        assert!((r.per_class[1].precision - 1.0).abs() < 1e-12);
        assert!((r.per_class[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!(
            r.verdict.starts_with("Above chance: 83% correct"),
            "{}",
            r.verdict
        );
    }

    #[test]
    fn json_keys_in_field_order_and_round_trip() {
        let truth = [0, 1, 1, 0];
        let predicted = [0, 1, 0, 0];
        let r = ClassificationReport::new(&["a", "b"], &truth, &predicted, None).unwrap();
        let json = r.to_json().unwrap();
        let keys = [
            "\"n\"",
            "\"classes\"",
            "\"accuracy\"",
            "\"accuracy_ci95\"",
            "\"balanced_accuracy\"",
            "\"f1_macro\"",
            "\"kappa\"",
            "\"auc_macro\"",
            "\"chance_level\"",
            "\"chance_uniform\"",
            "\"majority_class\"",
            "\"p_value\"",
            "\"single_class_predicted\"",
            "\"verdict\"",
            "\"per_class\"",
            "\"confusion_matrix\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| json.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert!(json.contains("\"auc_macro\": null"));
        // serde_json may parse a float 1 ulp off, so compare what was read
        // with the JSON text itself, and the exact fields exactly.
        let back: ClassificationReport = serde_json::from_str(&json).unwrap();
        let text: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), text);
        assert_eq!(
            (back.n, &back.verdict, &back.confusion_matrix),
            (r.n, &r.verdict, &r.confusion_matrix)
        );
        assert!((back.accuracy_ci95[1] - r.accuracy_ci95[1]).abs() < 1e-15);
    }

    #[test]
    fn one_class_predictions_flagged() {
        let truth = [0, 0, 0, 1, 1, 2];
        let predicted = [0; 6];
        let r = ClassificationReport::new(&classes(), &truth, &predicted, None).unwrap();
        assert_eq!(r.single_class_predicted.as_deref(), Some("wake"));
        assert!(r.verdict.contains("predicts only one class (wake)"));
        assert_eq!(r.kappa, 0.0);
    }

    #[test]
    fn empty_and_invalid() {
        let r = ClassificationReport::new(&classes(), &[], &[], None).unwrap();
        assert_eq!(r.n, 0);
        assert_eq!(r.accuracy, 0.0);
        assert!(r.to_json().is_ok());
        let none: [&str; 0] = [];
        assert_eq!(
            ClassificationReport::new(&none, &[], &[], None),
            Err(EvalError::NoClasses)
        );
        assert!(ClassificationReport::new(&classes(), &[0, 3], &[0, 0], None).is_err());
        assert!(
            ClassificationReport::new(&classes(), &[0], &[0], Some(&[vec![0.5, 0.5]])).is_err()
        );
        assert!(
            ClassificationReport::new(&classes(), &[0, 1], &[0, 1], Some(&[vec![1.0, 0.0, 0.0]]))
                .is_err()
        );
    }
}
