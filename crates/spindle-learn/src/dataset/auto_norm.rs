//! `--normalization auto`: keep or remove each window's mean, decided by
//! cross-validation on the training windows.
//!
//! Baseline correction (each window's per-channel mean removed) makes a model
//! blind to an electrode's offset, which is right when the offset is drift and
//! wrong when the class lives in slow shifts of the potential (slow cortical
//! potentials, contingent negative variation, DC-coupled recordings). The two
//! candidates differ only in those means, so the question is whether the
//! means add information about the class *on data not used to fit*, beyond
//! what the baseline-corrected window already carries. Two ridge classifiers
//! (least squares on one-hot targets) answer it: one on a coarse description
//! of each baseline-corrected window (per channel: the mean of each of a few
//! segments, and the log of the standard deviation), one on the same plus the
//! window means. They are compared by `FOLDS`-fold cross-validation over the
//! training windows: each fold is a block of consecutive trials of each class
//! in each recording, and training windows that overlap the fold's windows
//! are left out of its fit. The margin is the mean over folds of what the
//! means add (balanced accuracy, or R² for regression), the spread its
//! standard deviation across folds.
//!
//! The rule, stated once: baseline correction when the baseline-corrected
//! windows already tell the classes apart (their probe within `MIN_GAIN` of
//! perfect: the means cannot add) or when the means make the probe worse by
//! more than the spread; otherwise z-score, which keeps the means: chosen
//! for the information they carry when the margin exceeds the spread, and
//! as the choice that loses nothing when the evidence is weak (a margin
//! within its spread, or too few windows to cross-validate). On blink EEG
//! the waveform already separates the classes, so baseline stays.

use std::collections::BTreeMap;

use spindle_signals::eval::ConfusionMatrix;

use super::{Normalization, SplitData};

/// What `auto` chose and why, recorded in `run.json` and `report.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NormalizationChoice {
    /// The normalization applied.
    pub chosen: Normalization,
    /// Why, in one sentence for the user.
    pub reason: String,
    /// Cross-validated balanced accuracy (classification) or R² (regression)
    /// of the probe on baseline-corrected windows, the mean over folds;
    /// `None` when not measured.
    pub baseline_score: Option<f64>,
    /// The same with the window means added; `None` when not measured.
    pub with_means_score: Option<f64>,
    /// Chance level of the scores (`1 / classes`, or 0 for R²).
    pub chance: Option<f64>,
    /// What the means add: the mean over folds of `with_means - baseline`
    /// (absent in runs made before cross-validated decisions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The standard deviation of that gain across folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<f64>,
    /// Folds the decision was cross-validated on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// Wall-clock seconds the probes took (the run's `timings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_seconds: Option<f64>,
}

/// Within this of a perfect probe score the means cannot add.
const MIN_GAIN: f64 = 0.05;
/// Folds of the cross-validation (fewer when a class has fewer windows).
const FOLDS: usize = 5;
/// Most probe features per window (segments shrink with many channels).
const MAX_FEATURES: usize = 256;

/// Chooses between baseline correction and z-score for the training windows
/// `train` laid out `[n, rows, samples]` (not yet normalized; a window
/// covers `samples` samples of its recording, for the overlap test), by
/// cross-validation over blocks of its trials (see the module's rule).
pub fn choose_normalization(
    train: &SplitData,
    rows: usize,
    samples: usize,
    n_classes: usize,
    regression: bool,
) -> NormalizationChoice {
    let folds = fold_of_windows(train, regression);
    let k = folds.iter().copied().max().map_or(0, |m| m + 1);
    if k < 2 || rows == 0 || samples == 0 {
        return NormalizationChoice {
            chosen: Normalization::ZScore,
            reason: "auto: z-score, which keeps the window means: too few training windows to cross-validate whether they carry information".into(),
            baseline_score: None,
            with_means_score: None,
            chance: None,
            margin: None,
            spread: None,
            folds: None,
            probe_seconds: None,
        };
    }
    let segments = (MAX_FEATURES / rows)
        .saturating_sub(2)
        .clamp(1, 16)
        .min(samples);
    let plain = describe(&train.x, rows, samples, segments, false);
    let rich = describe(&train.x, rows, samples, segments, true);
    let (mut base_scores, mut rich_scores) = (Vec::new(), Vec::new());
    for f in 0..k {
        let (fit, held) = fold_members(train, &folds, f, samples);
        if fit.is_empty() || held.is_empty() {
            continue;
        }
        base_scores.push(probe_score(
            &plain, train, &fit, &held, n_classes, regression,
        ));
        rich_scores.push(probe_score(
            &rich, train, &fit, &held, n_classes, regression,
        ));
    }
    let n = base_scores.len().max(1) as f64;
    let base = base_scores.iter().sum::<f64>() / n;
    let with_means = rich_scores.iter().sum::<f64>() / n;
    let gains: Vec<f64> = rich_scores
        .iter()
        .zip(&base_scores)
        .map(|(r, b)| r - b)
        .collect();
    let margin = gains.iter().sum::<f64>() / n;
    let spread = if gains.len() > 1 {
        (gains.iter().map(|g| (g - margin).powi(2)).sum::<f64>() / (gains.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    let what = if regression {
        "R²"
    } else {
        "balanced accuracy"
    };
    let scores = format!(
        "cross-validated {what} over {} folds of the training trials: {base:.2} without the window means, {with_means:.2} with them, margin {margin:+.2} ± {spread:.2}",
        gains.len()
    );
    let (chosen, reason) = if base >= 1.0 - MIN_GAIN {
        (
            Normalization::Baseline,
            format!(
                "auto: baseline correction, because the baseline-corrected windows already tell the targets apart, so the means cannot add ({scores}); removing them removes offset and drift"
            ),
        )
    } else if margin < -spread {
        (
            Normalization::Baseline,
            format!(
                "auto: baseline correction, because the window means make the probe worse by more than the spread across folds ({scores}); removing them removes offset and drift"
            ),
        )
    } else if margin > spread {
        (
            Normalization::ZScore,
            format!(
                "auto: z-score, because the window means carry information the baseline-corrected windows lack ({scores}); baseline correction would erase it"
            ),
        )
    } else {
        (
            Normalization::ZScore,
            format!(
                "auto: z-score, which keeps the window means: the evidence is weak (the margin is within its spread; {scores}), and keeping them loses nothing the network could use"
            ),
        )
    };
    NormalizationChoice {
        chosen,
        reason,
        baseline_score: Some(base),
        with_means_score: Some(with_means),
        chance: Some(if regression {
            0.0
        } else {
            1.0 / n_classes.max(1) as f64
        }),
        margin: Some(margin),
        spread: Some(spread),
        folds: Some(gains.len()),
        probe_seconds: None,
    }
}

/// The fold of each window: the windows of each class (all windows for
/// regression) in each recording, in time order, cut into `FOLDS` (or as
/// many as the smallest such group allows) blocks of consecutive trials.
fn fold_of_windows(train: &SplitData, regression: bool) -> Vec<usize> {
    let mut groups: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
    for (i, w) in train.windows.iter().enumerate() {
        let class = if regression { "" } else { w.class.as_str() };
        groups.entry((w.source, class)).or_default().push(i);
    }
    let smallest = groups.values().map(Vec::len).min().unwrap_or(0);
    let k = FOLDS.min(smallest);
    let mut fold = vec![0; train.len()];
    if k < 2 {
        return fold;
    }
    for items in groups.values_mut() {
        items.sort_by_key(|&i| train.windows[i].start);
        let n = items.len();
        for (p, &i) in items.iter().enumerate() {
            fold[i] = p * k / n;
        }
    }
    fold
}

/// The windows fitted on and held out for fold `f`: held out are the fold's
/// windows; fitted on, the others that overlap none of them (same
/// recording, starts closer than `samples`).
fn fold_members(
    train: &SplitData,
    folds: &[usize],
    f: usize,
    samples: usize,
) -> (Vec<usize>, Vec<usize>) {
    let held: Vec<usize> = (0..train.len()).filter(|&i| folds[i] == f).collect();
    let mut held_starts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in &held {
        let w = &train.windows[i];
        held_starts.entry(w.source).or_default().push(w.start);
    }
    for starts in held_starts.values_mut() {
        starts.sort_unstable();
    }
    let fit = (0..train.len())
        .filter(|&i| folds[i] != f)
        .filter(|&i| {
            let w = &train.windows[i];
            held_starts.get(&w.source).is_none_or(|starts| {
                let lo = w.start.saturating_sub(samples.saturating_sub(1));
                let first = starts.partition_point(|&s| s < lo);
                starts.get(first).is_none_or(|&s| s >= w.start + samples)
            })
        })
        .collect();
    (fit, held)
}

/// The probe's score on the `held` windows after fitting on the `fit`
/// windows, from `features` (the same width for every window of `train`):
/// balanced accuracy, or R² for regression.
fn probe_score(
    features: &[f64],
    train: &SplitData,
    fit: &[usize],
    held: &[usize],
    n_classes: usize,
    regression: bool,
) -> f64 {
    let width = features.len() / train.len().max(1);
    let rows = |idx: &[usize]| -> Vec<f64> {
        idx.iter()
            .flat_map(|&i| features[i * width..(i + 1) * width].iter().copied())
            .collect()
    };
    let (a, b) = (rows(fit), rows(held));
    let scale = FeatureScale::fit(&a, width);
    let (a, b) = (scale.apply(&a), scale.apply(&b));
    if regression {
        let y: Vec<f32> = fit.iter().map(|&i| train.values[i]).collect();
        let y_held: Vec<f32> = held.iter().map(|&i| train.values[i]).collect();
        return ridge_r2(&a, &y, &b, &y_held, width);
    }
    let k = n_classes.max(1);
    let y: Vec<usize> = fit.iter().map(|&i| train.y[i]).collect();
    let y_held: Vec<usize> = held.iter().map(|&i| train.y[i]).collect();
    let predicted = ridge_classify(&a, &y, &b, width, k);
    // Labels and predictions are class indices below k by construction.
    ConfusionMatrix::from_labels(&y_held, &predicted, k).map_or(0.0, |m| m.balanced_accuracy())
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

    /// Two-row windows of noise whose class lives in a slow shift of the
    /// potential (+-`shift` on the first row, half of it on the second) under
    /// a drift common to both rows (a slow sine, 2 units) that is larger than
    /// the shift; `wave` adds a class-signed bump inside the window.
    fn slow_shift(n: usize, shift: f32, wave: f32, seed: u64) -> SplitData {
        let (rows, samples) = (2, 50);
        let mut rng = Rng::new(seed);
        let phase = rng.uniform() * std::f64::consts::TAU;
        let mut data = SplitData::default();
        for i in 0..n {
            let y = rng.below(2);
            let sign = if y == 1 { 1.0 } else { -1.0 };
            let drift = 2.0 * (phase + 3.0 * std::f64::consts::PI * i as f64 / n as f64).sin();
            for r in 0..rows {
                let gain = if r == 0 { 1.0 } else { 0.5 };
                for t in 0..samples {
                    let bump = if (20..30).contains(&t) {
                        wave * sign
                    } else {
                        0.0
                    };
                    data.x
                        .push((drift + rng.normal()) as f32 + sign * shift * gain + bump);
                }
            }
            data.y.push(y);
            data.values.push(sign * shift);
        }
        windows(&data)
    }

    #[test]
    fn informative_means_keep_them_and_a_separating_waveform_removes_them() {
        let c = choose_normalization(&windows(&split(80, 1.0, 1)), 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::ZScore, "{}", c.reason);
        assert!(c.reason.contains("carry information"), "{}", c.reason);
        assert!(c.with_means_score.is_some_and(|s| s > 0.9), "{c:?}");
        assert!(c.baseline_score.is_some_and(|s| s < 0.7), "{c:?}");
        assert!(c.margin.unwrap() > c.spread.unwrap(), "{c:?}");
        assert_eq!(c.folds, Some(5));
        // The class in the waveform, which the probe sees perfectly: the
        // means cannot add, and drift is removed.
        let c = choose_normalization(&slow_shift(80, 0.0, 3.0, 3), 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::Baseline, "{}", c.reason);
        assert!(c.reason.contains("already tell"), "{}", c.reason);
    }

    #[test]
    fn weak_evidence_falls_back_to_the_choice_that_keeps_the_means() {
        // Nothing carries the class: the margin is within its spread.
        let c = choose_normalization(&windows(&split(80, 0.0, 3)), 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::ZScore, "{}", c.reason);
        assert!(c.reason.contains("evidence is weak"), "{}", c.reason);
        assert!(c.margin.unwrap().abs() <= c.spread.unwrap(), "{c:?}");
        // Too few windows to cross-validate.
        let c = choose_normalization(&windows(&split(3, 1.0, 9)), 2, 50, 2, false);
        assert_eq!(c.chosen, Normalization::ZScore);
        assert!(c.reason.contains("too few"), "{}", c.reason);
    }

    #[test]
    fn regression_uses_the_r2_of_the_means() {
        let c = choose_normalization(&windows(&split(80, 1.0, 5)), 2, 50, 0, true);
        assert_eq!(c.chosen, Normalization::ZScore, "{}", c.reason);
        assert!(c.reason.contains("R²"), "{}", c.reason);
    }

    #[test]
    fn slow_shifts_under_drift_keep_the_means_in_nine_of_ten_seeds() {
        let kept = (0..10)
            .filter(|&seed| {
                let c =
                    choose_normalization(&slow_shift(80, 0.4, 0.0, 100 + seed), 2, 50, 2, false);
                c.chosen == Normalization::ZScore
            })
            .count();
        assert!(kept >= 9, "z-score in {kept} of 10 seeds");
    }

    #[test]
    fn folds_are_blocks_of_each_class_and_purge_overlaps() {
        let mut data = windows(&split(40, 0.0, 11));
        // Overlapping windows: length 50, every 25 samples.
        for (i, w) in data.windows.iter_mut().enumerate() {
            w.start = i * 25;
        }
        let folds = fold_of_windows(&data, false);
        for f in 0..5 {
            for class in ["0", "1"] {
                let n = (0..40)
                    .filter(|&i| folds[i] == f && data.windows[i].class == class)
                    .count();
                assert_eq!(n, 4, "fold {f}, class {class}");
            }
            let (fit, held) = fold_members(&data, &folds, f, 50);
            for &i in &fit {
                for &j in &held {
                    let (a, b) = (data.windows[i].start, data.windows[j].start);
                    assert!(a.abs_diff(b) >= 50, "fit {a} overlaps held {b}");
                }
            }
            assert!(fit.len() + held.len() < 40, "fold {f}: edges purged");
        }
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
