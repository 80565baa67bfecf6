//! Regression metrics: mean squared and absolute error, Pearson's r and R².
//!
//! Values are `f32` in the target's own unit and are accumulated in `f64`.
//! Every function returns `None`, never NaN, where its metric is undefined.

use serde::{Deserialize, Serialize};

use super::EvalError;

/// Mean squared error, in the target's unit squared. `None` when the slices
/// are empty, differ in length, or hold a non-finite value.
pub fn mse(truth: &[f32], predicted: &[f32]) -> Option<f64> {
    mean_of(truth, predicted, |e| e * e)
}

/// Mean absolute error, in the target's unit. `None` as for [`mse`].
pub fn mae(truth: &[f32], predicted: &[f32]) -> Option<f64> {
    mean_of(truth, predicted, f64::abs)
}

/// Pearson correlation coefficient between truth and prediction (-1..=1).
/// `None` when fewer than two pairs, lengths differ, a value is not finite,
/// or either side is constant (zero variance).
pub fn pearson_r(truth: &[f32], predicted: &[f32]) -> Option<f64> {
    if truth.len() < 2 || !valid(truth, predicted) || constant(truth) || constant(predicted) {
        return None;
    }
    let mean_t = mean(truth);
    let mean_p = mean(predicted);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&t, &p) in truth.iter().zip(predicted) {
        let (dt, dp) = (f64::from(t) - mean_t, f64::from(p) - mean_p);
        sxy += dt * dp;
        sxx += dt * dt;
        syy += dp * dp;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Coefficient of determination `1 - SS_res / SS_tot` (at most 1; negative
/// when the prediction is worse than the truth's mean). `None` when the slices
/// are empty, differ in length, hold a non-finite value, or the truth is
/// constant (`SS_tot = 0`).
pub fn r_squared(truth: &[f32], predicted: &[f32]) -> Option<f64> {
    if truth.is_empty() || !valid(truth, predicted) || constant(truth) {
        return None;
    }
    let mean_t = mean(truth);
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for (&t, &p) in truth.iter().zip(predicted) {
        let t = f64::from(t);
        ss_res += (t - f64::from(p)).powi(2);
        ss_tot += (t - mean_t).powi(2);
    }
    Some(1.0 - ss_res / ss_tot)
}

/// Test scores of a regression model, serializable to JSON with stable key
/// order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Mean squared error (target unit squared).
    pub mse: f64,
    /// Mean absolute error (target unit).
    pub mae: f64,
    /// Pearson's r; `None` (JSON `null`) when either side is constant or
    /// `n < 2`.
    pub r: Option<f64>,
    /// R²; `None` (JSON `null`) when the truth is constant.
    pub r2: Option<f64>,
    /// Number of examples.
    pub n: usize,
}

impl RegressionReport {
    /// Scores `predicted` against `truth`. Fails when the slices are empty,
    /// differ in length, or hold a NaN or infinite value.
    pub fn new(truth: &[f32], predicted: &[f32]) -> Result<Self, EvalError> {
        if truth.is_empty() {
            return Err(EvalError::Empty {
                what: "true values",
            });
        }
        if predicted.len() != truth.len() {
            return Err(EvalError::LengthMismatch {
                what: "predicted values",
                expected: truth.len(),
                found: predicted.len(),
            });
        }
        for (what, values) in [("true values", truth), ("predicted values", predicted)] {
            if let Some(index) = values.iter().position(|v| !v.is_finite()) {
                return Err(EvalError::NonFinite { what, index });
            }
        }
        // Inputs are valid and non-empty, so mse and mae are defined.
        Ok(Self {
            mse: mse(truth, predicted).unwrap_or(0.0),
            mae: mae(truth, predicted).unwrap_or(0.0),
            r: pearson_r(truth, predicted),
            r2: r_squared(truth, predicted),
            n: truth.len(),
        })
    }

    /// The report as pretty-printed JSON, keys in field order.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// Same non-zero length and every value finite.
fn valid(truth: &[f32], predicted: &[f32]) -> bool {
    !truth.is_empty()
        && truth.len() == predicted.len()
        && truth.iter().chain(predicted).all(|v| v.is_finite())
}

/// Every value equal (checked exactly, so rounding in a mean cannot hide it).
fn constant(values: &[f32]) -> bool {
    values.windows(2).all(|w| w[0] == w[1])
}

fn mean(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64
}

fn mean_of(truth: &[f32], predicted: &[f32], f: impl Fn(f64) -> f64) -> Option<f64> {
    if !valid(truth, predicted) {
        return None;
    }
    let sum: f64 = truth
        .iter()
        .zip(predicted)
        .map(|(&t, &p)| f(f64::from(t) - f64::from(p)))
        .sum();
    Some(sum / truth.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn hand_computed() {
        let truth = [1.0, 2.0, 3.0, 4.0];
        let pred = [1.5, 2.0, 2.5, 5.0];
        // errors 0.5, 0, -0.5, 1
        // MSE = (0.25 + 0 + 0.25 + 1) / 4 = 0.375; MAE = (0.5 + 0 + 0.5 + 1) / 4 = 0.5
        assert!(close(mse(&truth, &pred).unwrap(), 0.375));
        assert!(close(mae(&truth, &pred).unwrap(), 0.5));
        // truth mean 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 1.5
        // R² = 1 - 1.5 / 5 = 0.7
        assert!(close(r_squared(&truth, &pred).unwrap(), 0.7));
        // dt = [-1.5, -0.5, 0.5, 1.5], pred mean 2.75, dp = [-1.25, -0.75, -0.25, 2.25]
        // Sxy = 1.875 + 0.375 - 0.125 + 3.375 = 5.5, Sxx = 5,
        // Syy = 1.5625 + 0.5625 + 0.0625 + 5.0625 = 7.25; r = 5.5 / sqrt(36.25)
        assert!(close(
            pearson_r(&truth, &pred).unwrap(),
            5.5 / 36.25f64.sqrt()
        ));
        let report = RegressionReport::new(&truth, &pred).unwrap();
        assert_eq!(report.n, 4);
        assert!(close(report.r2.unwrap(), 0.7));
        let json = report.to_json().unwrap();
        let keys: Vec<usize> = ["\"mse\"", "\"mae\"", "\"r\"", "\"r2\"", "\"n\""]
            .iter()
            .map(|k| json.find(k).unwrap())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{json}");
        // serde_json may parse a float 1 ulp off: compare with tolerance.
        let back: RegressionReport = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (back.n, back.mse, back.mae),
            (report.n, report.mse, report.mae)
        );
        assert!((back.r.unwrap() - report.r.unwrap()).abs() < 1e-15);
    }

    #[test]
    fn perfect_and_anti_correlated() {
        let t = [0.0, 1.0, 2.0];
        assert_eq!(mse(&t, &t), Some(0.0));
        assert_eq!(pearson_r(&t, &t), Some(1.0));
        assert_eq!(r_squared(&t, &t), Some(1.0));
        // p = 2 - t: r = -1; SS_res = 4 + 0 + 4 = 8, SS_tot = 2 -> R² = 1 - 4 = -3
        let p = [2.0, 1.0, 0.0];
        assert!(close(pearson_r(&t, &p).unwrap(), -1.0));
        assert!(close(r_squared(&t, &p).unwrap(), -3.0));
    }

    #[test]
    fn zero_variance_is_none_not_nan() {
        let varying = [1.0, 2.0, 3.0];
        let flat = [0.1, 0.1, 0.1];
        // constant prediction at the mean: R² = 0, r undefined
        assert_eq!(pearson_r(&varying, &[2.0, 2.0, 2.0]), None);
        assert!(close(r_squared(&varying, &[2.0, 2.0, 2.0]).unwrap(), 0.0));
        // constant truth: both undefined
        assert_eq!(pearson_r(&flat, &varying), None);
        assert_eq!(r_squared(&flat, &varying), None);
        let report = RegressionReport::new(&flat, &flat).unwrap();
        assert_eq!((report.mse, report.r, report.r2), (0.0, None, None));
        assert!(report.to_json().unwrap().contains("\"r\": null"));
        // a single pair has no correlation
        assert_eq!(pearson_r(&[1.0], &[1.0]), None);
    }

    #[test]
    fn invalid_input() {
        assert_eq!(mse(&[], &[]), None);
        assert_eq!(mae(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(mse(&[1.0, f32::NAN], &[1.0, 2.0]), None);
        assert_eq!(
            RegressionReport::new(&[], &[]),
            Err(EvalError::Empty {
                what: "true values"
            })
        );
        assert!(RegressionReport::new(&[1.0], &[1.0, 2.0]).is_err());
        assert_eq!(
            RegressionReport::new(&[1.0, 2.0], &[1.0, f32::INFINITY]),
            Err(EvalError::NonFinite {
                what: "predicted values",
                index: 1
            })
        );
    }
}
