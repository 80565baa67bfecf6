//! Agreement between raters beyond chance: Fleiss' kappa for any number of
//! raters (with each category's kappa and specific agreement), and the
//! one-class-against-the-rest Cohen's kappa of two raters.

use super::{ConfusionMatrix, EvalError};

/// Fleiss' kappa of items each rated by the same number of raters
/// (Fleiss 1971).
#[derive(Debug, Clone, PartialEq)]
pub struct FleissKappa {
    /// Fleiss' kappa, `(P̄ - P̄e) / (1 - P̄e)` (-1..=1; 0 where undefined).
    pub kappa: f64,
    /// `P̄`: the mean over items of the fraction of rater pairs that agree
    /// (0..=1).
    pub observed: f64,
    /// `P̄e`: the agreement expected by chance, `Σ p_j²` (0..=1).
    pub expected: f64,
    /// Per category, in column order.
    pub per_category: Vec<CategoryAgreement>,
}

/// Agreement on one category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryAgreement {
    /// Share of all ratings given to it, `p_j` (0..=1).
    pub proportion: f64,
    /// Kappa of this category against all others (Fleiss 1971, eq. 12:
    /// `1 - Σ_i n_ij (n - n_ij) / (N n (n - 1) p_j q_j)`); 0 where undefined.
    pub kappa: f64,
    /// Specific (positive) agreement: of the ratings in this category, the
    /// fraction that another rater of the same item shares,
    /// `Σ_i n_ij (n_ij - 1) / Σ_i n_ij (n - 1)` (0..=1); for two raters
    /// `2a / (2a + b + c)`, the F1 of one rater against the other.
    pub specific_agreement: f64,
}

/// Fleiss' kappa of `counts`: one row per item, one column per category,
/// each cell the number of raters who put the item in that category.
///
/// Fails when there is no item or category, when rows differ in length, or
/// when items have different numbers of raters or fewer than two.
pub fn fleiss_kappa(counts: &[Vec<usize>]) -> Result<FleissKappa, EvalError> {
    let Some(first) = counts.first() else {
        return Err(EvalError::Empty { what: "ratings" });
    };
    let k = first.len();
    if k == 0 {
        return Err(EvalError::NoClasses);
    }
    let n: usize = first.iter().sum();
    if n < 2 {
        return Err(EvalError::LengthMismatch {
            what: "raters per item",
            expected: 2,
            found: n,
        });
    }
    for row in counts {
        if row.len() != k {
            return Err(EvalError::LengthMismatch {
                what: "categories per item",
                expected: k,
                found: row.len(),
            });
        }
        let raters: usize = row.iter().sum();
        if raters != n {
            return Err(EvalError::LengthMismatch {
                what: "raters per item",
                expected: n,
                found: raters,
            });
        }
    }
    let items = counts.len() as f64;
    let nf = n as f64;
    let pairs = nf * (nf - 1.0);
    let observed = counts
        .iter()
        .map(|row| {
            row.iter()
                .map(|&c| (c * c.saturating_sub(1)) as f64)
                .sum::<f64>()
                / pairs
        })
        .sum::<f64>()
        / items;
    let mut per_category = Vec::with_capacity(k);
    let mut expected = 0.0;
    for j in 0..k {
        let total: usize = counts.iter().map(|row| row[j]).sum();
        let p = total as f64 / (items * nf);
        expected += p * p;
        let disagreement: f64 = counts
            .iter()
            .map(|row| (row[j] * (n - row[j])) as f64)
            .sum();
        let denominator = items * pairs * p * (1.0 - p);
        let kappa = if denominator > f64::EPSILON {
            1.0 - disagreement / denominator
        } else {
            0.0
        };
        let shared: usize = counts
            .iter()
            .map(|row| row[j] * row[j].saturating_sub(1))
            .sum();
        let specific_agreement = if total > 0 {
            shared as f64 / (total * (n - 1)) as f64
        } else {
            0.0
        };
        per_category.push(CategoryAgreement {
            proportion: p,
            kappa,
            specific_agreement,
        });
    }
    let kappa = if 1.0 - expected > f64::EPSILON {
        (observed - expected) / (1.0 - expected)
    } else {
        0.0
    };
    Ok(FleissKappa {
        kappa,
        observed,
        expected,
        per_category,
    })
}

/// Cohen's kappa of class `class` against all the others, from the 2×2
/// table that `cm` (rows one rater, columns the other) folds into:
/// `2 (ad - bc) / ((a + b)(b + d) + (a + c)(c + d))`; 0 where undefined.
pub fn class_kappa(cm: &ConfusionMatrix, class: usize) -> f64 {
    let n = cm.total() as f64;
    let a = cm.get(class, class) as f64;
    let b = cm.support(class) as f64 - a;
    let c = cm.predicted_count(class) as f64 - a;
    let d = n - a - b - c;
    let denominator = (a + b) * (b + d) + (a + c) * (c + d);
    if denominator > 0.0 {
        2.0 * (a * d - b * c) / denominator
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Wikipedia's worked example ("Fleiss' kappa"): 10 items, 14 raters,
    /// 5 categories, kappa 0.210. By hand: Σ n_ij² = 828, so
    /// P̄ = (828 - 140) / (10 · 14 · 13) = 688 / 1820; the column sums
    /// 20, 28, 39, 21, 32 give P̄e = 4170 / 140² = 4170 / 19600.
    #[test]
    fn wikipedias_worked_example() {
        let counts = vec![
            vec![0, 0, 0, 0, 14],
            vec![0, 2, 6, 4, 2],
            vec![0, 0, 3, 5, 6],
            vec![0, 3, 9, 2, 0],
            vec![2, 2, 8, 1, 1],
            vec![7, 7, 0, 0, 0],
            vec![3, 2, 6, 3, 0],
            vec![2, 5, 3, 2, 2],
            vec![6, 5, 2, 1, 0],
            vec![0, 2, 2, 3, 7],
        ];
        let f = fleiss_kappa(&counts).unwrap();
        let (po, pe) = (688.0 / 1820.0, 4170.0 / 19600.0);
        assert!(close(f.observed, po));
        assert!(close(f.expected, pe));
        assert!(close(f.kappa, (po - pe) / (1.0 - pe)));
        assert!((f.kappa - 0.210).abs() < 5e-4, "Wikipedia: 0.210");
        assert!(close(f.per_category[0].proportion, 20.0 / 140.0));
    }

    /// 4 items, 3 raters, 2 categories: [3,0] [2,1] [0,3] [1,2]. By hand:
    /// p = 6/12 = 1/2 for both; P̄ = (1 + 1/3 + 1 + 1/3) / 4 = 2/3, so kappa
    /// = (2/3 - 1/2) / (1/2) = 1/3; category 0: Σ n(3 - n) = 0 + 2 + 0 + 2 =
    /// 4 over N n (n-1) p q = 4·3·2/4 = 6 gives 1 - 4/6 = 1/3; its specific
    /// agreement Σ n(n-1) = 6 + 2 = 8 over Σ n·2 = 12 is 2/3.
    #[test]
    fn per_category_kappa_and_specific_agreement_by_hand() {
        let f = fleiss_kappa(&[vec![3, 0], vec![2, 1], vec![0, 3], vec![1, 2]]).unwrap();
        assert!(close(f.kappa, 1.0 / 3.0));
        assert!(close(f.per_category[0].kappa, 1.0 / 3.0));
        assert!(close(f.per_category[1].kappa, 1.0 / 3.0));
        assert!(close(f.per_category[0].specific_agreement, 2.0 / 3.0));
    }

    #[test]
    fn unequal_raters_and_empty_input_are_errors_and_perfect_agreement_is_one() {
        assert!(fleiss_kappa(&[]).is_err());
        assert!(fleiss_kappa(&[vec![2, 0], vec![1, 0]]).is_err());
        assert!(fleiss_kappa(&[vec![1, 0]]).is_err(), "one rater");
        let f = fleiss_kappa(&[vec![2, 0], vec![0, 2]]).unwrap();
        assert!(close(f.kappa, 1.0));
        let same = fleiss_kappa(&[vec![2, 0], vec![2, 0]]).unwrap();
        assert_eq!(same.kappa, 0.0, "one category throughout: undefined, 0");
        assert_eq!(same.per_category[1].specific_agreement, 0.0);
    }

    /// A 3×3 table (rows rater A, columns rater B): W 10 2 0 / N2 1 20 3 /
    /// REM 0 2 12. Class W folds into a = 10, b = 2, c = 1, d = 37:
    /// 2 (370 - 2) / (12·39 + 11·38) = 736 / 886.
    #[test]
    fn one_class_against_the_rest_by_hand() {
        let cm =
            ConfusionMatrix::from_rows(&[vec![10, 2, 0], vec![1, 20, 3], vec![0, 2, 12]]).unwrap();
        assert!(close(class_kappa(&cm, 0), 736.0 / 886.0));
        assert!(close(class_kappa(&cm, 1), 848.0 / 1248.0));
        assert!(close(class_kappa(&cm, 2), 780.0 / 1030.0));
        let empty = ConfusionMatrix::from_rows(&[vec![0, 0], vec![0, 0]]).unwrap();
        assert_eq!(class_kappa(&empty, 0), 0.0);
    }
}
