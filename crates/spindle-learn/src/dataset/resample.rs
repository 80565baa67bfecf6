//! Resampling a channel to another rate.

/// Resamples `x` from `from_hz` to `to_hz` by linear interpolation after a
/// moving-average low-pass when decimating (a simple anti-alias guard; exact
/// for integer upsampling grids). Returns `x` unchanged when the rates match.
pub fn resample(x: &[f32], from_hz: f64, to_hz: f64) -> Vec<f32> {
    if (from_hz - to_hz).abs() < 1e-9 || x.is_empty() {
        return x.to_vec();
    }
    let ratio = from_hz / to_hz;
    let smoothed;
    let src: &[f32] = if ratio > 1.0 {
        let k = ratio.round().max(1.0) as usize;
        smoothed = moving_average(x, k);
        &smoothed
    } else {
        x
    };
    let n_out = ((x.len() as f64) / ratio).floor() as usize;
    (0..n_out)
        .map(|i| {
            let pos = i as f64 * ratio;
            let j = pos.floor() as usize;
            let frac = (pos - j as f64) as f32;
            let a = src[j.min(src.len() - 1)];
            let b = src[(j + 1).min(src.len() - 1)];
            a + (b - a) * frac
        })
        .collect()
}

/// Centred moving average of odd or even width `k`.
fn moving_average(x: &[f32], k: usize) -> Vec<f32> {
    if k <= 1 {
        return x.to_vec();
    }
    let half = k / 2;
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0f64);
    for &v in x {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v as f64);
    }
    (0..x.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + k - half).min(x.len());
            ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_rate_is_identity() {
        assert_eq!(resample(&[1.0, 2.0], 100.0, 100.0), vec![1.0, 2.0]);
    }

    #[test]
    fn upsampling_interpolates_linearly() {
        assert_eq!(
            resample(&[0.0, 2.0, 4.0], 1.0, 2.0),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 4.0]
        );
    }

    #[test]
    fn downsampling_keeps_slow_signals() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
        let y = resample(&x, 1000.0, 250.0);
        assert_eq!(y.len(), 250);
        for (i, v) in y.iter().enumerate().skip(2).take(240) {
            assert!((v - (i as f32 * 0.04).sin()).abs() < 0.01);
        }
    }
}
