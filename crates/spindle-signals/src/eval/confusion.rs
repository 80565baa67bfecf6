//! The confusion matrix and the classification metrics read from it.

use super::EvalError;

/// Precision, recall, F1 and support of one class, read from a
/// [`ConfusionMatrix`] (one-vs-rest).
///
/// Each ratio is 0 where it is undefined: precision when the class is never
/// predicted, recall when it never occurs in the truth, F1 when both are 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// Of the examples predicted as this class, the fraction that are (0..=1).
    pub precision: f64,
    /// Of the examples of this class, the fraction predicted as it (0..=1).
    pub recall: f64,
    /// Harmonic mean of precision and recall, `2 tp / (2 tp + fp + fn)` (0..=1).
    pub f1: f64,
    /// Number of examples of this class in the truth.
    pub support: usize,
}

/// Counts of (true class, predicted class) pairs: rows are the true class,
/// columns the predicted class, both indexed `0..n_classes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    n_classes: usize,
    /// Row-major `n_classes * n_classes` counts.
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Counts each `(truth[i], predicted[i])` pair.
    ///
    /// Fails when the slices differ in length, when `n_classes` is 0, or when a
    /// label is not below `n_classes`. Empty slices give an all-zero matrix.
    pub fn from_labels(
        truth: &[usize],
        predicted: &[usize],
        n_classes: usize,
    ) -> Result<Self, EvalError> {
        if n_classes == 0 {
            return Err(EvalError::NoClasses);
        }
        if predicted.len() != truth.len() {
            return Err(EvalError::LengthMismatch {
                what: "predicted labels",
                expected: truth.len(),
                found: predicted.len(),
            });
        }
        check_labels("true labels", truth, n_classes)?;
        check_labels("predicted labels", predicted, n_classes)?;
        let mut counts = vec![0; n_classes * n_classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            counts[t * n_classes + p] += 1;
        }
        Ok(Self { n_classes, counts })
    }

    /// Builds a matrix from counts given as rows (true class) of columns
    /// (predicted class); the rows must form a non-empty square.
    pub fn from_rows(rows: &[Vec<usize>]) -> Result<Self, EvalError> {
        let n_classes = rows.len();
        if n_classes == 0 {
            return Err(EvalError::NoClasses);
        }
        let mut counts = Vec::with_capacity(n_classes * n_classes);
        for row in rows {
            if row.len() != n_classes {
                return Err(EvalError::LengthMismatch {
                    what: "confusion matrix row",
                    expected: n_classes,
                    found: row.len(),
                });
            }
            counts.extend_from_slice(row);
        }
        Ok(Self { n_classes, counts })
    }

    /// Number of classes (rows and columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Number of examples of true class `truth` predicted as `predicted`
    /// (0 for indices out of range).
    pub fn get(&self, truth: usize, predicted: usize) -> usize {
        if truth >= self.n_classes || predicted >= self.n_classes {
            return 0;
        }
        self.counts[truth * self.n_classes + predicted]
    }

    /// The counts as rows (true class) of columns (predicted class).
    pub fn to_rows(&self) -> Vec<Vec<usize>> {
        self.counts
            .chunks(self.n_classes)
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Total number of examples.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Number of correctly classified examples (the diagonal).
    pub fn correct(&self) -> usize {
        (0..self.n_classes).map(|c| self.get(c, c)).sum()
    }

    /// Number of examples whose true class is `class` (its row sum).
    pub fn support(&self, class: usize) -> usize {
        (0..self.n_classes).map(|p| self.get(class, p)).sum()
    }

    /// Number of examples predicted as `class` (its column sum).
    pub fn predicted_count(&self, class: usize) -> usize {
        (0..self.n_classes).map(|t| self.get(t, class)).sum()
    }

    /// The classes that occur in the truth, in index order.
    pub fn classes_in_truth(&self) -> Vec<usize> {
        (0..self.n_classes)
            .filter(|&c| self.support(c) > 0)
            .collect()
    }

    /// The classes that the model predicted at least once, in index order.
    pub fn classes_predicted(&self) -> Vec<usize> {
        (0..self.n_classes)
            .filter(|&c| self.predicted_count(c) > 0)
            .collect()
    }

    /// Fraction of examples classified correctly (0..=1; 0 when empty).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// Mean recall over the classes present in the truth (0..=1; 0 when
    /// empty). Classes absent from the truth are left out rather than counted
    /// as 0, so that a test set without some class is not penalized for it.
    pub fn balanced_accuracy(&self) -> f64 {
        let present = self.classes_in_truth();
        if present.is_empty() {
            return 0.0;
        }
        let sum: f64 = present.iter().map(|&c| self.class_scores(c).recall).sum();
        sum / present.len() as f64
    }

    /// Precision, recall, F1 and support of `class` against all others;
    /// ratios are 0 where undefined (see [`ClassScores`]).
    pub fn class_scores(&self, class: usize) -> ClassScores {
        let tp = self.get(class, class);
        let support = self.support(class);
        let predicted = self.predicted_count(class);
        // fp + fn = (predicted - tp) + (support - tp).
        let f1_denominator = predicted + support;
        ClassScores {
            precision: ratio(tp, predicted),
            recall: ratio(tp, support),
            f1: ratio(2 * tp, f1_denominator),
            support,
        }
    }

    /// [`ClassScores`] of every class, in index order.
    pub fn per_class(&self) -> Vec<ClassScores> {
        (0..self.n_classes).map(|c| self.class_scores(c)).collect()
    }

    /// Unweighted mean F1 over the classes that occur in the truth or in the
    /// predictions (as scikit-learn does without an explicit label list);
    /// classes absent from both say nothing about the model and are left out.
    /// 0 when empty.
    pub fn f1_macro(&self) -> f64 {
        let seen: Vec<usize> = (0..self.n_classes)
            .filter(|&c| self.support(c) > 0 || self.predicted_count(c) > 0)
            .collect();
        if seen.is_empty() {
            return 0.0;
        }
        let sum: f64 = seen.iter().map(|&c| self.class_scores(c).f1).sum();
        sum / seen.len() as f64
    }

    /// Cohen's kappa: agreement between truth and prediction beyond what the
    /// two marginal distributions give by chance,
    /// `(p_observed - p_expected) / (1 - p_expected)` (-1..=1).
    ///
    /// 0 where undefined: no examples, or `p_expected == 1` (truth and
    /// prediction are the same single class throughout, so agreement cannot be
    /// told apart from chance).
    pub fn kappa(&self) -> f64 {
        let n = self.total();
        if n == 0 {
            return 0.0;
        }
        let n = n as f64;
        let p_observed = self.correct() as f64 / n;
        let p_expected: f64 = (0..self.n_classes)
            .map(|c| (self.support(c) as f64 / n) * (self.predicted_count(c) as f64 / n))
            .sum();
        let denominator = 1.0 - p_expected;
        if denominator <= f64::EPSILON {
            return 0.0;
        }
        (p_observed - p_expected) / denominator
    }
}

/// `num / den`, or 0 when `den` is 0.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Checks that every label is below `n_classes`.
pub(crate) fn check_labels(
    what: &'static str,
    labels: &[usize],
    n_classes: usize,
) -> Result<(), EvalError> {
    match labels.iter().position(|&l| l >= n_classes) {
        Some(index) => Err(EvalError::LabelOutOfRange {
            what,
            index,
            label: labels[index],
            n_classes,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// truth     = [0,0,0,0, 1,1,1, 2,2,2]
    /// predicted = [0,0,1,2, 1,1,0, 2,2,1]
    /// rows (truth) x cols (predicted):
    ///   [2 1 1]   support 4
    ///   [1 2 0]   support 3
    ///   [0 1 2]   support 3
    /// column sums (predicted counts): 3, 4, 3.
    fn example() -> ConfusionMatrix {
        ConfusionMatrix::from_labels(
            &[0, 0, 0, 0, 1, 1, 1, 2, 2, 2],
            &[0, 0, 1, 2, 1, 1, 0, 2, 2, 1],
            3,
        )
        .unwrap()
    }

    #[test]
    fn counts_rows_and_columns() {
        let cm = example();
        assert_eq!(
            cm.to_rows(),
            vec![vec![2, 1, 1], vec![1, 2, 0], vec![0, 1, 2]]
        );
        assert_eq!(cm.total(), 10);
        assert_eq!(cm.correct(), 6);
        assert_eq!((cm.support(0), cm.support(1), cm.support(2)), (4, 3, 3));
        assert_eq!(
            (
                cm.predicted_count(0),
                cm.predicted_count(1),
                cm.predicted_count(2)
            ),
            (3, 4, 3)
        );
        assert_eq!(cm.get(5, 0), 0);
        assert_eq!(ConfusionMatrix::from_rows(&cm.to_rows()).unwrap(), cm);
    }

    #[test]
    fn hand_computed_metrics() {
        let cm = example();
        // accuracy = (2 + 2 + 2) / 10
        assert!(close(cm.accuracy(), 0.6));
        // recalls 2/4, 2/3, 2/3 -> mean (0.5 + 0.6667 + 0.6667) / 3 = 11/18
        assert!(close(cm.balanced_accuracy(), 11.0 / 18.0));
        let s = cm.per_class();
        // precision = tp / column sum: 2/3, 2/4, 2/3
        assert!(close(s[0].precision, 2.0 / 3.0));
        assert!(close(s[1].precision, 0.5));
        assert!(close(s[2].precision, 2.0 / 3.0));
        // recall = tp / row sum: 2/4, 2/3, 2/3
        assert!(close(s[0].recall, 0.5));
        assert!(close(s[1].recall, 2.0 / 3.0));
        // f1 = 2tp / (2tp + fp + fn): 4/(4+1+2) = 4/7, 4/(4+2+1) = 4/7, 4/(4+1+1) = 2/3
        assert!(close(s[0].f1, 4.0 / 7.0));
        assert!(close(s[1].f1, 4.0 / 7.0));
        assert!(close(s[2].f1, 2.0 / 3.0));
        assert_eq!(s[0].support, 4);
        // macro F1 = (4/7 + 4/7 + 2/3) / 3 = 38/63
        assert!(close(cm.f1_macro(), 38.0 / 63.0));
        // p_o = 0.6; p_e = (4*3 + 3*4 + 3*3) / 100 = 0.33
        // kappa = (0.6 - 0.33) / (1 - 0.33) = 0.27 / 0.67
        assert!(close(cm.kappa(), 0.27 / 0.67));
    }

    #[test]
    fn kappa_literature_example() {
        // Wikipedia, "Cohen's kappa", simple example: 50 proposals, two readers.
        // Yes/Yes 20, Yes/No 5, No/Yes 10, No/No 15.
        // p_o = 35/50 = 0.7; reader A says yes 25/50 = 0.5, B says yes 30/50 = 0.6
        // p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
        let cm = ConfusionMatrix::from_rows(&[vec![20, 5], vec![10, 15]]).unwrap();
        assert!(close(cm.kappa(), 0.4));
    }

    #[test]
    fn perfect_predictions() {
        let truth = [0, 1, 2, 2, 1, 0];
        let cm = ConfusionMatrix::from_labels(&truth, &truth, 3).unwrap();
        assert!(close(cm.accuracy(), 1.0));
        assert!(close(cm.balanced_accuracy(), 1.0));
        assert!(close(cm.f1_macro(), 1.0));
        assert!(close(cm.kappa(), 1.0));
        for s in cm.per_class() {
            assert!(close(s.precision, 1.0) && close(s.recall, 1.0) && close(s.f1, 1.0));
        }
    }

    #[test]
    fn all_wrong_predictions() {
        // Swapped binary labels: p_o = 0, p_e = 0.5*0.5 + 0.5*0.5 = 0.5, kappa = -1.
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1, 1], &[1, 1, 0, 0], 2).unwrap();
        assert!(close(cm.accuracy(), 0.0));
        assert!(close(cm.balanced_accuracy(), 0.0));
        assert!(close(cm.f1_macro(), 0.0));
        assert!(close(cm.kappa(), -1.0));
    }

    #[test]
    fn one_class_predicted_and_undefined_ratios() {
        // Always predicting class 0 on a 3:1 set.
        let cm = ConfusionMatrix::from_labels(&[0, 0, 0, 1], &[0, 0, 0, 0], 3).unwrap();
        assert!(close(cm.accuracy(), 0.75));
        // recalls: class 0 = 1, class 1 = 0; class 2 absent from truth -> left out
        assert!(close(cm.balanced_accuracy(), 0.5));
        let s = cm.class_scores(1);
        // class 1 never predicted: precision undefined -> 0
        assert_eq!((s.precision, s.recall, s.f1, s.support), (0.0, 0.0, 0.0, 1));
        // class 2 in neither truth nor prediction: everything 0
        assert_eq!(cm.class_scores(2).support, 0);
        assert_eq!(cm.class_scores(2).f1, 0.0);
        // f1 class 0 = 6/(6+1+0) = 6/7; class 1 = 0; class 2 left out -> 3/7
        assert!(close(cm.f1_macro(), 3.0 / 7.0));
        // p_o = 0.75, p_e = 0.75*1 + 0.25*0 = 0.75 -> kappa 0
        assert!(close(cm.kappa(), 0.0));
        assert_eq!(cm.classes_predicted(), vec![0]);
        assert_eq!(cm.classes_in_truth(), vec![0, 1]);
    }

    #[test]
    fn single_class_everywhere_and_empty() {
        let cm = ConfusionMatrix::from_labels(&[1, 1, 1], &[1, 1, 1], 2).unwrap();
        assert!(close(cm.accuracy(), 1.0));
        // p_e = 1: kappa undefined -> 0
        assert_eq!(cm.kappa(), 0.0);
        let empty = ConfusionMatrix::from_labels(&[], &[], 2).unwrap();
        assert_eq!(empty.accuracy(), 0.0);
        assert_eq!(empty.balanced_accuracy(), 0.0);
        assert_eq!(empty.f1_macro(), 0.0);
        assert_eq!(empty.kappa(), 0.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            ConfusionMatrix::from_labels(&[0, 1], &[0], 2),
            Err(EvalError::LengthMismatch {
                what: "predicted labels",
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            ConfusionMatrix::from_labels(&[0, 1], &[0, 2], 2),
            Err(EvalError::LabelOutOfRange {
                what: "predicted labels",
                index: 1,
                label: 2,
                n_classes: 2
            })
        );
        assert_eq!(
            ConfusionMatrix::from_labels(&[], &[], 0),
            Err(EvalError::NoClasses)
        );
        assert!(ConfusionMatrix::from_rows(&[vec![1, 2], vec![3]]).is_err());
    }
}
