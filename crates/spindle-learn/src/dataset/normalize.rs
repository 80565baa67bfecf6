//! Per-channel standardization fitted on training windows.

/// Mean and standard deviation of each channel, in the channel's unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChannelStats {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Standard deviation per channel (never below a small floor).
    pub std: Vec<f32>,
}

impl ChannelStats {
    /// Identity statistics (mean 0, std 1) for `channels` channels.
    pub fn identity(channels: usize) -> Self {
        Self {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        }
    }

    /// Fits the statistics on windows laid out `[n, channels, samples]` in `x`.
    pub fn fit(x: &[f32], channels: usize, samples: usize) -> Self {
        let mut sum = vec![0.0f64; channels];
        let mut sum_sq = vec![0.0f64; channels];
        let mut count = 0usize;
        for window in x.chunks_exact(channels * samples) {
            for (c, row) in window.chunks_exact(samples).enumerate() {
                for &v in row {
                    sum[c] += v as f64;
                    sum_sq[c] += (v as f64) * (v as f64);
                }
            }
            count += samples;
        }
        let n = count.max(1) as f64;
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sum_sq
            .iter()
            .zip(&sum)
            .map(|(sq, s)| {
                let var = (sq / n - (s / n) * (s / n)).max(0.0);
                (var.sqrt() as f32).max(1e-6)
            })
            .collect();
        Self { mean, std }
    }

    /// Standardizes windows laid out `[n, channels, samples]` in place.
    pub fn apply(&self, x: &mut [f32], samples: usize) {
        let channels = self.mean.len();
        for window in x.chunks_exact_mut(channels * samples) {
            for (c, row) in window.chunks_exact_mut(samples).enumerate() {
                let (m, s) = (self.mean[c], 1.0 / self.std[c]);
                for v in row {
                    *v = (*v - m) * s;
                }
            }
        }
    }
}

/// Exponential moving standardization of one continuous channel, in place:
/// `(x_t - m_t) / max(s_t, eps)` with `m_t = (1-a) m_(t-1) + a x_t` and
/// `s_t^2 = (1-a) s_(t-1)^2 + a (x_t - m_t)^2`; the first `init_block`
/// samples are standardized with their own mean and deviation, which also
/// start the running values (as braindecode's `exponential_moving_standardize`).
pub fn exponential_moving_standardize(x: &mut [f32], factor_new: f64, init_block: usize, eps: f64) {
    if x.is_empty() {
        return;
    }
    let block = init_block.clamp(1, x.len());
    let init_mean = x[..block].iter().map(|&v| v as f64).sum::<f64>() / block as f64;
    let init_var = x[..block]
        .iter()
        .map(|&v| (v as f64 - init_mean).powi(2))
        .sum::<f64>()
        / block as f64;
    let (mut mean, mut var) = (0.0f64, 0.0f64);
    let raw: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for (t, (out, &v)) in x.iter_mut().zip(&raw).enumerate() {
        if t == 0 {
            mean = v;
            var = 0.0;
        } else {
            mean = (1.0 - factor_new) * mean + factor_new * v;
            var = (1.0 - factor_new) * var + factor_new * (v - mean).powi(2);
        }
        *out = if t < block {
            ((v - init_mean) / init_var.sqrt().max(eps)) as f32
        } else {
            ((v - mean) / var.sqrt().max(eps)) as f32
        };
    }
}

/// Subtracts each window's own mean from each of its channels, in place
/// (windows laid out `[n, channels, samples]`).
pub fn remove_window_means(x: &mut [f32], samples: usize) {
    for row in x.chunks_exact_mut(samples.max(1)) {
        let mean = (row.iter().map(|&v| v as f64).sum::<f64>() / row.len() as f64) as f32;
        for v in row {
            *v -= mean;
        }
    }
}

/// Applies `mode` with the fitted `stats` to windows laid out
/// `[n, rows, samples]`, in place: what training did to its windows, done to
/// new ones (`mode` as applied, see `Dataset::normalization`).
pub fn normalize_windows(
    x: &mut [f32],
    samples: usize,
    mode: super::Normalization,
    stats: &ChannelStats,
) {
    if mode == super::Normalization::Baseline {
        remove_window_means(x, samples);
    }
    stats.apply(x, samples);
}

#[cfg(test)]
mod tests {
    #[test]
    fn moving_standardization_tracks_scale_changes() {
        // A signal whose scale jumps tenfold halfway comes out with similar scale in both halves.
        let mut x: Vec<f32> = (0..20_000)
            .map(|i| {
                let s = (i as f32 * 0.3).sin();
                if i < 10_000 { s } else { 10.0 * s + 50.0 }
            })
            .collect();
        super::exponential_moving_standardize(&mut x, 0.001, 1000, 1e-4);
        let rms = |v: &[f32]| (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt();
        let (a, b) = (rms(&x[2000..10_000]), rms(&x[16_000..20_000]));
        assert!((a - 1.0).abs() < 0.3 && (b - 1.0).abs() < 0.3, "{a} {b}");
    }

    #[test]
    fn window_means_are_removed_per_channel() {
        let mut x = vec![1.0, 3.0, 10.0, 20.0];
        super::remove_window_means(&mut x, 2);
        assert_eq!(x, vec![-1.0, 1.0, -5.0, 5.0]);
    }

    use super::*;

    #[test]
    fn fit_and_apply_standardize_each_channel() {
        // Two windows, two channels, three samples.
        let mut x = vec![
            1.0, 2.0, 3.0, 10.0, 10.0, 10.0, 5.0, 6.0, 7.0, 10.0, 10.0, 10.0,
        ];
        let stats = ChannelStats::fit(&x, 2, 3);
        assert_eq!(stats.mean, vec![4.0, 10.0]);
        // Channel 0 values 1,2,3,5,6,7: variance = mean of squares (124/6) - 16 = 4.6667.
        assert!((stats.std[0] - 4.6667f32.sqrt()).abs() < 1e-4);
        assert_eq!(stats.std[1], 1e-6);
        stats.apply(&mut x, 3);
        assert!((x[0] + 3.0 / 4.6667f32.sqrt()).abs() < 1e-4);
        assert_eq!(x[3], 0.0);
    }
}
