//! An honest score card: accuracy set against what guessing achieves, with a
//! confidence interval, a p-value and a verdict in plain words.

use serde::{Deserialize, Serialize};

use super::ConfusionMatrix;
use super::binomial::{Z_95, binomial_upper_tail, wilson_interval};

/// p-value below which a result is called "well above chance".
const P_STRONG: f64 = 0.001;
/// p-value below which a result is called "above chance".
const P_SIGNIFICANT: f64 = 0.05;

/// Accuracy compared with chance, for people who are not statisticians.
///
/// The chance level is the accuracy of always guessing the most common class
/// of the test truth (the majority-class proportion), which is what a model
/// that learned nothing but the class balance achieves; the uniform `1/k` is
/// reported too but is the weaker yardstick on imbalanced data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChanceReport {
    /// Number of test examples.
    pub n: usize,
    /// Number of correctly classified examples.
    pub correct: usize,
    /// `correct / n` (0..=1; 0 when `n` is 0).
    pub accuracy: f64,
    /// 95% Wilson score interval for the accuracy, `[lo, hi]` (0..=1).
    pub accuracy_ci95: [f64; 2],
    /// Proportion of the most common class in the test truth (0..=1; 0 when
    /// `n` is 0).
    pub chance_level: f64,
    /// Index of the most common class in the truth (the lowest index on a
    /// tie); `None` when `n` is 0.
    pub majority_class: Option<usize>,
    /// `1 / n_classes`: the accuracy of guessing uniformly at random (0..=1).
    pub chance_uniform: f64,
    /// One-sided exact binomial p-value: the probability of `correct` or more
    /// right answers out of `n` if each were right with probability
    /// `chance_level` (0..=1).
    pub p_value: f64,
    /// The one class the model ever predicts, when it predicts only one (and
    /// there are at least two classes); `None` otherwise.
    pub single_class_predicted: Option<usize>,
    /// One or two sentences for a biologist saying what the numbers mean.
    pub verdict: String,
}

impl ChanceReport {
    /// Judges the predictions counted in `matrix`. `class_names[i]` names class
    /// `i` in the verdict (classes without a name are called `class i`).
    pub fn new(matrix: &ConfusionMatrix, class_names: &[impl AsRef<str>]) -> Self {
        let n = matrix.total();
        let correct = matrix.correct();
        let accuracy = matrix.accuracy();
        let supports: Vec<usize> = (0..matrix.n_classes()).map(|c| matrix.support(c)).collect();
        let majority_class = (n > 0).then(|| {
            // max_by_key returns the last maximum; reverse so ties pick the lowest index.
            (0..supports.len())
                .rev()
                .max_by_key(|&c| supports[c])
                .unwrap_or(0)
        });
        let chance_level = match majority_class {
            Some(c) => supports[c] as f64 / n as f64,
            None => 0.0,
        };
        let predicted = matrix.classes_predicted();
        let single_class_predicted = match predicted.as_slice() {
            [only] if matrix.n_classes() >= 2 => Some(*only),
            _ => None,
        };
        let mut report = Self {
            n,
            correct,
            accuracy,
            accuracy_ci95: wilson_interval(correct, n, Z_95),
            chance_level,
            majority_class,
            chance_uniform: 1.0 / matrix.n_classes() as f64,
            p_value: binomial_upper_tail(correct, n, chance_level),
            single_class_predicted,
            verdict: String::new(),
        };
        let name = |c: usize| match class_names.get(c) {
            Some(s) => s.as_ref().to_string(),
            None => format!("class {c}"),
        };
        let truth_classes = matrix.classes_in_truth();
        report.verdict = report.verdict_text(truth_classes.len(), &name);
        report
    }

    fn verdict_text(&self, n_truth_classes: usize, name: &dyn Fn(usize) -> String) -> String {
        let Some(majority) = self.majority_class else {
            return "No test examples, so the model cannot be judged.".to_string();
        };
        if n_truth_classes < 2 {
            return format!(
                "The test set holds only one class ({}), so accuracy cannot be compared with \
                 chance: always guessing it would be right every time. Test on data with \
                 several classes.",
                name(majority)
            );
        }
        if let Some(only) = self.single_class_predicted {
            return format!(
                "The model predicts only one class ({}) \u{2014} it has learned nothing useful; \
                 try class weights or more data.",
                name(only)
            );
        }
        let comparison = format!(
            "{} correct where always guessing the most common class ({}) gives {}",
            percent(self.accuracy),
            name(majority),
            percent(self.chance_level)
        );
        let p = format_p(self.p_value);
        if self.accuracy > self.chance_level && self.p_value < P_STRONG {
            format!("Well above chance: {comparison} ({p}).")
        } else if self.accuracy > self.chance_level && self.p_value < P_SIGNIFICANT {
            format!(
                "Above chance: {comparison} ({p}), but the margin is modest; more test data \
                 would make it firmer."
            )
        } else if self.accuracy < self.chance_level {
            format!(
                "Below chance: {comparison}; the model does worse than that trivial rule. \
                 Check the labels, the class balance and the training."
            )
        } else {
            format!(
                "Not distinguishable from chance: {comparison} ({p}); the model may have \
                 learned nothing, or the test set is too small to tell."
            )
        }
    }
}

/// A proportion as a percentage with no more decimals than needed to avoid
/// printing 0% or 100% for a value that is neither.
fn percent(x: f64) -> String {
    let v = x * 100.0;
    for decimals in 0..3 {
        let s = format!("{v:.decimals$}");
        let shown: f64 = s.parse().unwrap_or(v);
        let misleading = (shown == 0.0 && v > 0.0) || (shown == 100.0 && v < 100.0);
        if !misleading {
            return format!("{s}%");
        }
    }
    format!("{v:.3}%")
}

/// A p-value as written in papers: `p < 0.001`, else three decimals below
/// 0.1 and two above.
fn format_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else if p < 0.1 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["rest".to_string(), "spindle".to_string()]
    }

    /// `n_right` of each class right, the rest wrong, with supports `s0`, `s1`.
    fn binary(s0: usize, right0: usize, s1: usize, right1: usize) -> ConfusionMatrix {
        ConfusionMatrix::from_rows(&[vec![right0, s0 - right0], vec![s1 - right1, right1]]).unwrap()
    }

    #[test]
    fn well_above_chance() {
        // 91 of 100 right on a 50/50 set
        let r = ChanceReport::new(&binary(50, 46, 50, 45), &names());
        assert_eq!((r.n, r.correct), (100, 91));
        assert_eq!(r.chance_level, 0.5);
        assert_eq!(r.chance_uniform, 0.5);
        assert_eq!(r.majority_class, Some(0));
        assert!(r.p_value < 1e-15);
        // Wilson 91/100: 0.8377 .. 0.9519
        assert!((r.accuracy_ci95[0] - 0.837_738).abs() < 1e-5);
        assert!((r.accuracy_ci95[1] - 0.951_927).abs() < 1e-5);
        assert_eq!(
            r.verdict,
            "Well above chance: 91% correct where always guessing the most common class \
             (rest) gives 50% (p < 0.001)."
        );
    }

    #[test]
    fn modestly_above_chance() {
        // 60/100 on 50/50: p = P(X >= 60 | 100, 0.5) = 0.0284
        let r = ChanceReport::new(&binary(50, 30, 50, 30), &names());
        assert!((r.p_value - 0.028_443_966_820_490_395).abs() < 1e-10);
        assert!(
            r.verdict.starts_with("Above chance: 60% correct"),
            "{}",
            r.verdict
        );
        assert!(r.verdict.contains("(p = 0.028)"), "{}", r.verdict);
    }

    #[test]
    fn imbalanced_set_not_distinguishable() {
        // 80 rest, 20 spindle; 82 right. Chance = 0.8, far above the uniform 0.5.
        let r = ChanceReport::new(&binary(80, 75, 20, 7), &names());
        assert_eq!(r.chance_level, 0.8);
        assert_eq!(r.chance_uniform, 0.5);
        assert!(r.p_value > 0.05);
        assert!(
            r.verdict.starts_with(
                "Not distinguishable from chance: 82% correct where always guessing the most \
                 common class (rest) gives 80% (p = 0."
            ),
            "{}",
            r.verdict
        );
    }

    #[test]
    fn below_chance() {
        let r = ChanceReport::new(&binary(50, 10, 50, 10), &names());
        assert!(
            r.verdict.starts_with("Below chance: 20% correct"),
            "{}",
            r.verdict
        );
        assert!(r.p_value > 0.999);
    }

    #[test]
    fn single_class_prediction_is_flagged() {
        // always "rest" on 70/30: 70% correct, exactly chance
        let r = ChanceReport::new(&binary(70, 70, 30, 0), &names());
        assert_eq!(r.single_class_predicted, Some(0));
        assert_eq!(
            r.verdict,
            "The model predicts only one class (rest) \u{2014} it has learned nothing useful; \
             try class weights or more data."
        );
    }

    #[test]
    fn single_class_truth_and_empty() {
        let r = ChanceReport::new(&binary(0, 0, 10, 10), &names());
        assert_eq!(r.chance_level, 1.0);
        assert_eq!(r.p_value, 1.0);
        assert!(
            r.verdict
                .starts_with("The test set holds only one class (spindle)")
        );
        let empty = ChanceReport::new(&binary(0, 0, 0, 0), &names());
        assert_eq!(empty.majority_class, None);
        assert_eq!(empty.accuracy_ci95, [0.0, 1.0]);
        assert_eq!(empty.p_value, 1.0);
        assert!(empty.verdict.starts_with("No test examples"));
    }

    #[test]
    fn majority_tie_picks_lowest_index_and_missing_names() {
        let m = ConfusionMatrix::from_rows(&[vec![1, 1, 0], vec![0, 3, 0], vec![0, 0, 3]]).unwrap();
        let r = ChanceReport::new(&m, &["a"]);
        assert_eq!(r.majority_class, Some(1));
        assert!((r.chance_uniform - 1.0 / 3.0).abs() < 1e-15);
        assert!(r.verdict.contains("(class 1)"), "{}", r.verdict);
    }

    #[test]
    fn percent_and_p_formatting() {
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.914), "91%");
        assert_eq!(percent(0.998), "99.8%");
        assert_eq!(percent(0.9996), "99.96%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.001), "0.1%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(format_p(0.0004), "p < 0.001");
        assert_eq!(format_p(0.0049), "p = 0.005");
        assert_eq!(format_p(0.0284), "p = 0.028");
        assert_eq!(format_p(0.18), "p = 0.18");
    }
}
