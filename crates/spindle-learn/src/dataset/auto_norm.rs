//! `--normalization auto`: keep or remove each window's mean, decided on the
//! validation split.
//!
//! Baseline correction (each window's per-channel mean removed) makes a model
//! blind to an electrode's offset, which is right when the offset is drift and
//! wrong when the class lives in slow shifts of the potential (slow cortical
//! potentials, contingent negative variation, DC-coupled recordings). The two
//! candidates differ only in those means, so the question is whether the
//! means add information about the class *on data not used to fit*, beyond
//! what the baseline-corrected window already carries. Two ridge classifiers
//! (least squares on one-hot targets) are fitted on the training windows: one
//! on a coarse description of each baseline-corrected window (per channel:
//! the mean of each of a few segments, and the log of the standard
//! deviation), one on the same plus the window means. Both are scored on the
//! validation windows. When the means add at least 5 points of balanced
//! accuracy (and the richer classifier is above chance with a one-sided
//! binomial p below 0.01), z-score keeps them; otherwise baseline correction
//! removes them. On blink EEG the means predict the class too (a long blink
//! shifts the mean), but the waveform already does, so baseline stays. For
//! regression the test is the gain in validation R² (at least 0.05).

use spindle_signals::eval::{ConfusionMatrix, binomial_upper_tail};

use super::{Normalization, SplitData};

/// What `auto` chose and why, recorded in `run.json` and `report.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NormalizationChoice {
    /// The normalization applied.
    pub chosen: Normalization,
    /// Why, in one sentence for the user.
    pub reason: String,
    /// Validation balanced accuracy (classification) or R² (regression) of
    /// the probe on baseline-corrected windows; `None` when not measured.
    pub baseline_score: Option<f64>,
    /// The same with the window means added; `None` when not measured.
    pub with_means_score: Option<f64>,
    /// Chance level of the scores (`1 / classes`, or 0 for R²).
    pub chance: Option<f64>,
}

/// Smallest gain of the scores that counts as information in the means.
const MIN_GAIN: f64 = 0.05;
/// Largest one-sided binomial p-value for the richer probe to count.
const MAX_P: f64 = 0.01;
/// Most probe features per window (segments shrink with many channels).
const MAX_FEATURES: usize = 256;

/// Chooses between baseline correction and z-score for windows laid out
/// `[n, rows, samples]` (not yet normalized): z-score when the window means
/// add to what the baseline-corrected windows tell about the target on
/// `validation`, after fitting on `train`.
pub fn choose_normalization(
    train: &SplitData,
    validation: &SplitData,
    rows: usize,
    samples: usize,
    n_classes: usize,
    regression: bool,
) -> NormalizationChoice {
    if train.is_empty() || validation.is_empty() || rows == 0 || samples == 0 {
        return NormalizationChoice {
            chosen: Normalization::Baseline,
            reason: "auto: no validation windows to test the window means on, so baseline correction (the usual choice) removes them".into(),
            baseline_score: None,
            with_means_score: None,
            chance: None,
        };
    }
    let segments = (MAX_FEATURES / rows)
        .saturating_sub(2)
        .clamp(1, 16)
        .min(samples);
    let probe = |with_means: bool| -> (Vec<f64>, Vec<f64>, usize) {
        let a = describe(&train.x, rows, samples, segments, with_means);
        let b = describe(&validation.x, rows, samples, segments, with_means);
        let width = a.len() / train.len().max(1);
        let scale = FeatureScale::fit(&a, width);
        (scale.apply(&a), scale.apply(&b), width)
    };
    let (plain, rich) = (probe(false), probe(true));
    let (chance, base, with_means, p_value) = if regression {
        let score = |(a, b, w): &(Vec<f64>, Vec<f64>, usize)| {
            ridge_r2(a, &train.values, b, &validation.values, *w)
        };
        (0.0, score(&plain), score(&rich), 0.0)
    } else {
        let k = n_classes.max(1);
        let score = |(a, b, w): &(Vec<f64>, Vec<f64>, usize)| {
            let predicted = ridge_classify(a, &train.y, b, *w, k);
            // Labels and predictions are class indices below k by construction.
            ConfusionMatrix::from_labels(&validation.y, &predicted, k).map_or((0.0, 0), |m| {
                let correct = (0..k).map(|c| m.get(c, c)).sum::<usize>();
                (m.balanced_accuracy(), correct)
            })
        };
        let chance = 1.0 / k as f64;
        let ((base, _), (rich_score, correct)) = (score(&plain), score(&rich));
        let p = binomial_upper_tail(correct, validation.len(), chance);
        (chance, base, rich_score, p)
    };
    let what = if regression {
        "validation R²"
    } else {
        "validation balanced accuracy"
    };
    let scores = format!("{what} {base:.2} without the window means, {with_means:.2} with them");
    let keep = with_means - base >= MIN_GAIN && p_value < MAX_P;
    NormalizationChoice {
        chosen: if keep {
            Normalization::ZScore
        } else {
            Normalization::Baseline
        },
        reason: if keep {
            format!(
                "auto: z-score, because the window means carry information the baseline-corrected windows lack ({scores}); baseline correction would erase it"
            )
        } else {
            format!(
                "auto: baseline correction, because the window means add nothing the windows do not already show ({scores}); removing them removes offset and drift"
            )
        },
        baseline_score: Some(base),
        with_means_score: Some(with_means),
        chance: Some(chance),
    }
}

/// Probe features of windows `[n, rows, samples]`, `width` per window: per
/// row, the means of `segments` equal parts of the baseline-corrected row and
/// the log of its standard deviation, then (`with_means`) the row means.
fn describe(x: &[f32], rows: usize, samples: usize, segments: usize, with_means: bool) -> Vec<f64> {
    let mut out = Vec::new();
    for window in x.chunks_exact(rows * samples) {
        let mut means = Vec::with_capacity(rows);
        for row in window.chunks_exact(samples) {
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / samples as f64;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / samples as f64;
            for s in 0..segments {
                let (a, b) = (
                    s * samples / segments,
                    ((s + 1) * samples / segments).max(s * samples / segments + 1),
                );
                let part = &row[a..b.min(samples)];
                let m = part.iter().map(|&v| v as f64).sum::<f64>() / part.len().max(1) as f64;
                out.push(m - mean);
            }
            out.push((var + 1e-12).ln());
            means.push(mean);
        }
        if with_means {
            out.extend(means);
        }
    }
    out
}

/// Per-feature mean and standard deviation of the training features.
struct FeatureScale {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl FeatureScale {
    fn fit(features: &[f64], width: usize) -> Self {
        let n = (features.len() / width).max(1) as f64;
        let mut mean = vec![0.0; width];
        let mut sq = vec![0.0; width];
        for row in features.chunks_exact(width) {
            for (j, &v) in row.iter().enumerate() {
                mean[j] += v / n;
                sq[j] += v * v / n;
            }
        }
        let std = mean
            .iter()
            .zip(&sq)
            .map(|(m, s)| (s - m * m).max(0.0).sqrt().max(1e-12))
            .collect();
        Self { mean, std }
    }

    fn apply(&self, features: &[f64]) -> Vec<f64> {
        let width = self.mean.len();
        features
            .iter()
            .enumerate()
            .map(|(i, &v)| (v - self.mean[i % width]) / self.std[i % width])
            .collect()
    }
}

/// Classes of `test` rows from a ridge fit of one-hot targets on `train`.
fn ridge_classify(
    train: &[f64],
    labels: &[usize],
    test: &[f64],
    width: usize,
    k: usize,
) -> Vec<usize> {
    let targets: Vec<f64> = labels
        .iter()
        .flat_map(|&y| (0..k).map(move |c| f64::from(u8::from(c == y))))
        .collect();
    let Some(w) = ridge_fit(train, &targets, width, k) else {
        return vec![0; test.len() / width.max(1)];
    };
    test.chunks_exact(width)
        .map(|row| {
            (0..k)
                .map(|c| (c, predict(row, &w, c, k)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(c, _)| c)
        })
        .collect()
}

/// Output `c` of a ridge fit `w` (`[width + 1, k]`, intercept last) on `row`.
fn predict(row: &[f64], w: &[f64], c: usize, k: usize) -> f64 {
    let width = row.len();
    row.iter()
        .enumerate()
        .map(|(j, x)| x * w[j * k + c])
        .sum::<f64>()
        + w[width * k + c]
}

/// Ridge least squares `[X, 1] W = Y` for `k` targets per row (`targets`
/// `[n, k]`): `W` is `[width + 1, k]`, the intercept row last and not penalized.
fn ridge_fit(features: &[f64], targets: &[f64], width: usize, k: usize) -> Option<Vec<f64>> {
    let n = features.len() / width.max(1);
    let d = width + 1;
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d * k];
    let mut row1 = vec![1.0; d];
    for (row, t) in features.chunks_exact(width).zip(targets.chunks_exact(k)) {
        row1[..width].copy_from_slice(row);
        for i in 0..d {
            for c in 0..k {
                b[i * k + c] += row1[i] * t[c];
            }
            for j in i..d {
                a[i * d + j] += row1[i] * row1[j];
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            a[i * d + j] = a[j * d + i];
        }
    }
    for i in 0..width {
        a[i * d + i] += 1e-2 * n as f64 + 1e-9;
    }
    solve(&mut a, &mut b, d, k)
}

/// Validation R² of a ridge fit of `y` on `train`.
fn ridge_r2(train: &[f64], y: &[f32], test: &[f64], y_test: &[f32], width: usize) -> f64 {
    let targets: Vec<f64> = y.iter().map(|&v| v as f64).collect();
    let Some(w) = ridge_fit(train, &targets, width, 1) else {
        return 0.0;
    };
    let predictions: Vec<f64> = test
        .chunks_exact(width)
        .map(|row| predict(row, &w, 0, 1))
        .collect();
    let m = predictions.len().min(y_test.len());
    if m == 0 {
        return 0.0;
    }
    let t_mean = y_test[..m].iter().map(|&v| v as f64).sum::<f64>() / m as f64;
    let ss_tot: f64 = y_test[..m]
        .iter()
        .map(|&v| (v as f64 - t_mean).powi(2))
        .sum();
    let ss_res: f64 = predictions[..m]
        .iter()
        .zip(&y_test[..m])
        .map(|(p, &t)| (p - t as f64).powi(2))
        .sum();
    if ss_tot <= 0.0 {
        0.0
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// Solves `a x = b` for `k` right-hand sides (`a` `[n, n]`, `b` `[n, k]`,
/// row-major, both destroyed) with partial pivoting; `None` when singular.
fn solve(a: &mut [f64], b: &mut [f64], n: usize, k: usize) -> Option<Vec<f64>> {
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-12 {
            return None;
        }
        for j in 0..n {
            a.swap(col * n + j, pivot * n + j);
        }
        for c in 0..k {
            b.swap(col * k + c, pivot * k + c);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            if f == 0.0 {
                continue;
            }
            for j in col..n {
                a[row * n + j] -= f * a[col * n + j];
            }
            for c in 0..k {
                b[row * k + c] -= f * b[col * k + c];
            }
        }
    }
    let mut x = vec![0.0; n * k];
    for row in (0..n).rev() {
        for c in 0..k {
            let s: f64 = (row + 1..n).map(|j| a[row * n + j] * x[j * k + c]).sum();
            x[row * k + c] = (b[row * k + c] - s) / a[row * n + row];
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_signals::rng::Rng;

    /// Two-row windows of noise; class 1 adds `offset` to both rows.
    fn split(n: usize, offset: f32, seed: u64) -> SplitData {
        let (rows, samples) = (2, 50);
        let mut rng = Rng::new(seed);
        let mut data = SplitData::default();
        for i in 0..n {
            let y = i % 2;
            for _ in 0..rows * samples {
                data.x.push(rng.normal() as f32 + offset * y as f32);
            }
            data.y.push(y);
            data.values.push(y as f32 * 3.0 + rng.normal() as f32 * 0.1);
        }
        data
    }

    fn windows(split: &SplitData) -> SplitData {
        SplitData {
            windows: (0..split.y.len())
                .map(|i| super::super::WindowRef {
                    source: 0,
                    start: i * 50,
                    onset_s: i as f64,
                    class: split.y[i].to_string(),
                })
                .collect(),
            ..split.clone()
        }
    }

    #[test]
    fn informative_means_keep_them_and_uninformative_ones_are_removed() {
        let (train, validation) = (windows(&split(80, 1.0, 1)), windows(&split(40, 1.0, 2)));
        let c = choose_normalization(&train, &validation, 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::ZScore, "{}", c.reason);
        assert!(c.with_means_score.is_some_and(|s| s > 0.9), "{c:?}");
        assert!(c.baseline_score.is_some_and(|s| s < 0.7), "{c:?}");
        let (train, validation) = (windows(&split(80, 0.0, 3)), windows(&split(40, 0.0, 4)));
        let c = choose_normalization(&train, &validation, 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::Baseline, "{}", c.reason);
        assert!(c.reason.contains("add nothing"), "{}", c.reason);
    }

    #[test]
    fn regression_uses_the_r2_of_the_means() {
        let (train, validation) = (windows(&split(80, 1.0, 5)), windows(&split(40, 1.0, 6)));
        let c = choose_normalization(&train, &validation, 2, 50, 0, true);
        assert_eq!(c.chosen, Normalization::ZScore, "{}", c.reason);
        let (train, validation) = (windows(&split(80, 0.0, 7)), windows(&split(40, 0.0, 8)));
        let c = choose_normalization(&train, &validation, 2, 50, 0, true);
        assert_eq!(c.chosen, Normalization::Baseline, "{}", c.reason);
    }

    #[test]
    fn without_validation_windows_baseline_is_kept_and_the_reason_says_so() {
        let train = windows(&split(20, 1.0, 9));
        let c = choose_normalization(&train, &SplitData::default(), 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::Baseline);
        assert!(c.reason.contains("no validation"), "{}", c.reason);
    }

    #[test]
    fn the_solver_solves() {
        let mut a = vec![2.0, 1.0, 1.0, 3.0];
        let mut b = vec![3.0, 5.0];
        let Some(x) = solve(&mut a, &mut b, 2, 1) else {
            panic!("singular")
        };
        assert!(
            (x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12,
            "{x:?}"
        );
    }
}
