//! ROC curves and the area under them (AUC), binary and one-vs-rest.
//!
//! The AUC is computed from ranks (the Mann-Whitney U statistic): the
//! probability that a random positive example scores above a random negative
//! one, with ties counted as half. It equals the trapezoid area under the
//! [`RocCurve`], whose tied scores form one diagonal step.

use super::ClassProbabilities;
use super::EvalError;
use super::confusion::check_labels;

/// Points of a ROC curve, from `(0, 0)` (nothing called positive) to `(1, 1)`
/// (everything called positive), one point per distinct score.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False positive rate of each point (0..=1, non-decreasing).
    pub fpr: Vec<f64>,
    /// True positive rate (recall) of each point (0..=1, non-decreasing).
    pub tpr: Vec<f64>,
    /// The score at or above which an example is called positive to reach
    /// each point (decreasing; `f32::INFINITY` for the first point).
    pub thresholds: Vec<f32>,
}

impl RocCurve {
    /// The points as `[fpr, tpr]` pairs, ready for a line plot.
    pub fn points(&self) -> Vec<[f64; 2]> {
        self.fpr
            .iter()
            .zip(&self.tpr)
            .map(|(&x, &y)| [x, y])
            .collect()
    }

    /// Trapezoid area under the curve (0..=1); equals the rank-based [`auc`].
    pub fn area(&self) -> f64 {
        self.points()
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]) * (w[0][1] + w[1][1]) / 2.0)
            .sum()
    }
}

/// Rank-based area under the ROC curve for one binary problem (0..=1; 0.5 is
/// chance).
///
/// `is_positive[i]` says whether example `i` belongs to the class and
/// `scores[i]` is how strongly the model says so. `Ok(None)` when there are no
/// positives or no negatives, where the AUC is undefined. Fails when the
/// lengths differ or a score is not finite.
pub fn auc(is_positive: &[bool], scores: &[f32]) -> Result<Option<f64>, EvalError> {
    check_scores(is_positive, scores)?;
    Ok(auc_unchecked(is_positive, scores))
}

/// The ROC curve of one binary problem (see [`auc`] for the arguments);
/// `Ok(None)` when there are no positives or no negatives.
pub fn roc_curve(is_positive: &[bool], scores: &[f32]) -> Result<Option<RocCurve>, EvalError> {
    check_scores(is_positive, scores)?;
    Ok(roc_curve_unchecked(is_positive, scores))
}

/// One-vs-rest AUC of every class: class `c` against all others, scored by
/// column `c` of `probabilities`. `None` for a class absent from `truth` or
/// present in every example.
pub fn auc_one_vs_rest(
    truth: &[usize],
    probabilities: &ClassProbabilities,
) -> Result<Vec<Option<f64>>, EvalError> {
    check_table(truth, probabilities)?;
    Ok((0..probabilities.n_classes())
        .map(|c| {
            let is_positive: Vec<bool> = truth.iter().map(|&t| t == c).collect();
            auc_unchecked(&is_positive, &probabilities.column(c))
        })
        .collect())
}

/// One-vs-rest ROC curve of every class (see [`auc_one_vs_rest`]).
pub fn roc_curves_one_vs_rest(
    truth: &[usize],
    probabilities: &ClassProbabilities,
) -> Result<Vec<Option<RocCurve>>, EvalError> {
    check_table(truth, probabilities)?;
    Ok((0..probabilities.n_classes())
        .map(|c| {
            let is_positive: Vec<bool> = truth.iter().map(|&t| t == c).collect();
            roc_curve_unchecked(&is_positive, &probabilities.column(c))
        })
        .collect())
}

/// Unweighted mean of the defined per-class AUCs; `None` when none is defined.
pub fn macro_auc(per_class: &[Option<f64>]) -> Option<f64> {
    let defined: Vec<f64> = per_class.iter().flatten().copied().collect();
    if defined.is_empty() {
        None
    } else {
        Some(defined.iter().sum::<f64>() / defined.len() as f64)
    }
}

fn check_scores(is_positive: &[bool], scores: &[f32]) -> Result<(), EvalError> {
    if scores.len() != is_positive.len() {
        return Err(EvalError::LengthMismatch {
            what: "scores",
            expected: is_positive.len(),
            found: scores.len(),
        });
    }
    match scores.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(EvalError::NonFinite {
            what: "scores",
            index,
        }),
        None => Ok(()),
    }
}

fn check_table(truth: &[usize], probabilities: &ClassProbabilities) -> Result<(), EvalError> {
    if probabilities.n_rows() != truth.len() {
        return Err(EvalError::LengthMismatch {
            what: "probability rows",
            expected: truth.len(),
            found: probabilities.n_rows(),
        });
    }
    check_labels("true labels", truth, probabilities.n_classes())
}

/// Indices of `scores` sorted by increasing score (scores are finite).
fn ascending(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

/// Mann-Whitney AUC with average ranks for ties; lengths equal, scores finite.
fn auc_unchecked(is_positive: &[bool], scores: &[f32]) -> Option<f64> {
    let n_pos = is_positive.iter().filter(|&&p| p).count();
    let n_neg = is_positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let order = ascending(scores);
    // Sum of the 1-based ranks of the positives, ties sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end share the mean (start + 1 + end) / 2.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let positives = order[start..end]
            .iter()
            .filter(|&&i| is_positive[i])
            .count();
        rank_sum += mean_rank * positives as f64;
        start = end;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    let u = rank_sum - p * (p + 1.0) / 2.0;
    Some(u / (p * n))
}

/// ROC curve by sweeping the threshold down through the distinct scores.
fn roc_curve_unchecked(is_positive: &[bool], scores: &[f32]) -> Option<RocCurve> {
    let n_pos = is_positive.iter().filter(|&&p| p).count();
    let n_neg = is_positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order = ascending(scores);
    order.reverse();
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f32::INFINITY],
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut start = 0;
    while start < order.len() {
        let threshold = scores[order[start]];
        let mut end = start;
        while end < order.len() && scores[order[end]] == threshold {
            if is_positive[order[end]] {
                tp += 1;
            } else {
                fp += 1;
            }
            end += 1;
        }
        curve.fpr.push(fp as f64 / n_neg as f64);
        curve.tpr.push(tp as f64 / n_pos as f64);
        curve.thresholds.push(threshold);
        start = end;
    }
    Some(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn separable_reversed_and_constant() {
        let pos = [false, false, true, true];
        assert_eq!(auc(&pos, &[0.1, 0.2, 0.8, 0.9]).unwrap(), Some(1.0));
        assert_eq!(auc(&pos, &[0.9, 0.8, 0.2, 0.1]).unwrap(), Some(0.0));
        // every pair tied -> each counts 1/2
        assert_eq!(auc(&pos, &[0.5; 4]).unwrap(), Some(0.5));
    }

    #[test]
    fn scikit_learn_example() {
        // sklearn roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75:
        // pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3/4
        let pos = [false, false, true, true];
        let scores = [0.1, 0.4, 0.35, 0.8];
        assert_eq!(auc(&pos, &scores).unwrap(), Some(0.75));
        let curve = roc_curve(&pos, &scores).unwrap().unwrap();
        // descending: 0.8 (P), 0.4 (N), 0.35 (P), 0.1 (N)
        assert_eq!(curve.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(curve.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(curve.thresholds, vec![f32::INFINITY, 0.8, 0.4, 0.35, 0.1]);
        assert!(close(curve.area(), 0.75));
    }

    #[test]
    fn ties_count_half() {
        // positives 0.8, 0.5; negatives 0.5, 0.2
        // pairs: 0.8>0.5 (1), 0.8>0.2 (1), 0.5=0.5 (1/2), 0.5>0.2 (1) -> 3.5/4
        // ranks: 0.2 -> 1, 0.5,0.5 -> 2.5, 0.8 -> 4; U = (4 + 2.5) - 2*3/2 = 3.5
        let pos = [true, true, false, false];
        let scores = [0.8, 0.5, 0.5, 0.2];
        assert_eq!(auc(&pos, &scores).unwrap(), Some(0.875));
        let curve = roc_curve(&pos, &scores).unwrap().unwrap();
        // the tie is one diagonal step from (0, 0.5) to (0.5, 1)
        assert_eq!(
            curve.points(),
            vec![[0.0, 0.0], [0.0, 0.5], [0.5, 1.0], [1.0, 1.0]]
        );
        // area = 0.5 * (0.5 + 1)/2 + 0.5 * 1 = 0.375 + 0.5
        assert!(close(curve.area(), 0.875));
    }

    #[test]
    fn undefined_when_one_side_missing() {
        assert_eq!(auc(&[true, true], &[0.1, 0.2]).unwrap(), None);
        assert_eq!(auc(&[false, false], &[0.1, 0.2]).unwrap(), None);
        assert_eq!(auc(&[], &[]).unwrap(), None);
        assert_eq!(roc_curve(&[true], &[0.3]).unwrap(), None);
        assert!(auc(&[true, false], &[0.1]).is_err());
        assert!(auc(&[true, false], &[0.1, f32::NAN]).is_err());
    }

    #[test]
    fn one_vs_rest_three_classes() {
        let truth = [0, 1, 2, 0, 1, 2];
        let rows = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.3, 0.6],
            vec![0.4, 0.4, 0.2],
            vec![0.5, 0.3, 0.2],
            vec![0.3, 0.3, 0.4],
        ];
        let probs = ClassProbabilities::from_rows(&rows, 3).unwrap();
        let aucs = auc_one_vs_rest(&truth, &probs).unwrap();
        // class 0: pos {0.7, 0.4}, neg {0.2, 0.1, 0.5, 0.3}: 4 + 3 wins -> 7/8
        // class 1: pos {0.5, 0.3}, neg {0.2, 0.3, 0.4, 0.3}: 4 + (1 + .5 + 0 + .5) -> 6/8
        // class 2: pos {0.6, 0.4}, neg {0.1, 0.3, 0.2, 0.2}: 4 + 4 -> 8/8
        assert_eq!(aucs, vec![Some(0.875), Some(0.75), Some(1.0)]);
        // (0.875 + 0.75 + 1) / 3
        assert!(close(macro_auc(&aucs).unwrap(), 0.875));
        let curves = roc_curves_one_vs_rest(&truth, &probs).unwrap();
        for (curve, auc) in curves.iter().zip(&aucs) {
            let (Some(curve), Some(auc)) = (curve, auc) else {
                panic!("all classes are present");
            };
            assert!(close(curve.area(), *auc));
        }
    }

    #[test]
    fn one_vs_rest_absent_class_is_none() {
        let truth = [0, 1, 0, 1];
        let probs = ClassProbabilities::from_flat(
            &[0.9, 0.1, 0.0, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1, 0.4, 0.5, 0.1],
            3,
        )
        .unwrap();
        let aucs = auc_one_vs_rest(&truth, &probs).unwrap();
        assert_eq!(aucs, vec![Some(1.0), Some(1.0), None]);
        assert_eq!(macro_auc(&aucs), Some(1.0));
        assert_eq!(macro_auc(&[None, None]), None);
        assert!(auc_one_vs_rest(&[0, 1, 0], &probs).is_err());
        assert!(auc_one_vs_rest(&[0, 1, 0, 3], &probs).is_err());
    }
}
