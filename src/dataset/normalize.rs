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
