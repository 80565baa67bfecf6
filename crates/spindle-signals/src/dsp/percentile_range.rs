//! A robust amplitude range of a span of samples, for fitting a trace to
//! its lane: the 1st to 99th percentile, so that a few blinks or muscle
//! bursts do not shrink everything else.

/// The percentiles of [`fit_range`].
pub const FIT_PERCENTILES: (f64, f64) = (1.0, 99.0);

/// At most this many evenly spaced samples are sorted (a 30-s page of a
/// 512-Hz channel is 15,360).
pub const MAX_RANGE_SAMPLES: usize = 50_000;

/// A range of values, in the samples' unit (e.g. µV).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueRange {
    /// Lower end.
    pub low: f32,
    /// Upper end, `>= low`.
    pub high: f32,
}

impl ValueRange {
    /// `high - low`.
    pub fn span(&self) -> f32 {
        self.high - self.low
    }

    /// The middle of the range.
    pub fn center(&self) -> f32 {
        0.5 * (self.low + self.high)
    }
}

/// The `low_pct`-th to `high_pct`-th percentiles (0..=100) of the finite
/// values of `samples`, interpolated linearly between order statistics
/// (NumPy's default: rank `p / 100 · (n - 1)`), from at most
/// [`MAX_RANGE_SAMPLES`] evenly spaced samples. `None` when no value is
/// finite.
pub fn percentile_range(samples: &[f32], low_pct: f64, high_pct: f64) -> Option<ValueRange> {
    let stride = samples.len().div_ceil(MAX_RANGE_SAMPLES).max(1);
    let mut v: Vec<f32> = samples
        .iter()
        .step_by(stride)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f32::total_cmp);
    let at = |pct: f64| {
        let rank = (pct.clamp(0.0, 100.0) / 100.0) * (v.len() - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        let frac = (rank - lo as f64) as f32;
        v[lo] + (v[hi] - v[lo]) * frac
    };
    let (a, b) = (at(low_pct), at(high_pct));
    Some(ValueRange {
        low: a.min(b),
        high: a.max(b),
    })
}

/// The range a "fit" uses: [`FIT_PERCENTILES`] of `samples`.
pub fn fit_range(samples: &[f32]) -> Option<ValueRange> {
    percentile_range(samples, FIT_PERCENTILES.0, FIT_PERCENTILES.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_as_numpy_does() {
        // 0..=100: the p-th percentile is p; numpy.percentile(range(101), [1, 99]) = [1, 99].
        let ramp: Vec<f32> = (0..=100).map(|i| i as f32).collect();
        assert_eq!(
            fit_range(&ramp),
            Some(ValueRange {
                low: 1.0,
                high: 99.0
            })
        );
        // [1, 2, 3, 4]: rank 0.25 · 3 = 0.75 -> 1.75; rank 0.75 · 3 = 2.25 -> 3.25
        // (numpy.percentile([1, 2, 3, 4], [25, 75]) = [1.75, 3.25]).
        let r = percentile_range(&[4.0, 1.0, 3.0, 2.0], 25.0, 75.0).unwrap();
        assert_eq!((r.low, r.high), (1.75, 3.25));
        assert_eq!((r.span(), r.center()), (1.5, 2.5));
    }

    #[test]
    fn a_burst_does_not_widen_the_fit_and_non_finite_values_are_ignored() {
        // 1000 samples of ±10 µV with 5 samples of a 500 µV burst (0.5 %).
        let mut v: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 10.0 } else { -10.0 })
            .collect();
        for x in v.iter_mut().take(5) {
            *x = 500.0;
        }
        v.push(f32::NAN);
        let r = fit_range(&v).unwrap();
        assert_eq!((r.low, r.high), (-10.0, 10.0));
        assert_eq!(fit_range(&[f32::NAN]), None);
        assert_eq!(fit_range(&[]), None);
    }
}
