//! Amplitude perturbation (Schirrmeister et al. 2017): the Fourier
//! amplitudes of every window are perturbed with Gaussian noise, the phases
//! kept, and for each channel and frequency the change of amplitude is
//! correlated, over windows and repeats, with the change of each class's
//! output. A positive correlation: more of that rhythm on that channel
//! pushes the network toward the class.

use spindle_signals::dsp::RealDft;
use spindle_signals::rng::Rng;

use super::scoring::{Scorer, Steps};
use super::windows::WindowSet;
use super::{AmplitudeMap, ExplainError};
use crate::train::Predictions;

/// Most frequencies in a map: neighbouring Fourier bins are pooled above it.
pub const MAX_FREQS: usize = 128;

/// The map over `repeats` perturbations of every window. Outputs are the
/// classes' log-probabilities (regression: the output itself, named
/// "output"). The noise of each channel and bin has the standard deviation
/// of that amplitude over the windows, and never makes an amplitude negative.
#[allow(clippy::too_many_arguments)]
pub(crate) fn amplitude_map(
    set: &WindowSet,
    scorer: &Scorer,
    classes: &[String],
    channels: &[String],
    rate_hz: f64,
    repeats: usize,
    seed: u64,
    steps: &mut Steps,
) -> Result<AmplitudeMap, ExplainError> {
    let (n_ch, len) = (set.channels, set.len);
    let n = set.count();
    let dft = RealDft::new(len);
    let n_bins = len / 2 + 1;
    let group = n_bins.div_ceil(MAX_FREQS);
    let n_freqs = n_bins.div_ceil(group);
    let freqs_hz: Vec<f64> = (0..n_freqs)
        .map(|g| {
            let bins = g * group..((g + 1) * group).min(n_bins);
            let count = bins.len().max(1) as f64;
            bins.map(|k| k as f64 * rate_hz / len as f64).sum::<f64>() / count
        })
        .collect();
    let sigma = amplitude_spread(set, &dft);
    let base = targets(&scorer.outputs(&set.raw)?, scorer.truth_is_classes());
    let k = base.len().checked_div(n).unwrap_or(0).max(1);
    let mut sums = Sums::new(k, n_ch * n_freqs);
    let mut perturbed = Vec::with_capacity(set.raw.len());
    let mut noise_grouped = vec![0.0f64; n * n_ch * n_freqs];
    for r in 0..repeats {
        let mut rng = Rng::new(seed ^ (r as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
        perturbed.clear();
        for (w, window) in set.raw.chunks_exact(n_ch * len).enumerate() {
            for (c, x) in window.chunks_exact(len).enumerate() {
                let (mut re, mut im) = dft.forward(x);
                let row = &mut noise_grouped[(w * n_ch + c) * n_freqs..][..n_freqs];
                row.fill(0.0);
                for b in 0..n_bins {
                    let amp = re[b].hypot(im[b]);
                    let noise = (rng.normal() * sigma[c * n_bins + b]).max(-amp);
                    let (u_re, u_im) = if amp > 0.0 {
                        (re[b] / amp, im[b] / amp)
                    } else {
                        (1.0, 0.0)
                    };
                    re[b] = (amp + noise) * u_re;
                    im[b] = (amp + noise) * u_im;
                    row[b / group] += noise;
                }
                perturbed.extend(dft.inverse(&re, &im));
            }
        }
        let changed = targets(&scorer.outputs(&perturbed)?, scorer.truth_is_classes());
        for w in 0..n {
            let dy: Vec<f64> = (0..k)
                .map(|j| changed[w * k + j] - base[w * k + j])
                .collect();
            sums.add(&noise_grouped[w * n_ch * n_freqs..][..n_ch * n_freqs], &dy);
        }
        steps.step()?;
    }
    let corr = sums.correlations();
    let correlation = (0..k)
        .map(|j| {
            (0..n_ch)
                .map(|c| {
                    (0..n_freqs)
                        .map(|f| corr[j * n_ch * n_freqs + c * n_freqs + f] as f32)
                        .collect()
                })
                .collect()
        })
        .collect();
    Ok(AmplitudeMap {
        classes: if scorer.truth_is_classes() {
            classes.to_vec()
        } else {
            vec!["output".to_string()]
        },
        channels: channels.to_vec(),
        freqs_hz,
        correlation,
    })
}

/// Standard deviation over windows of each channel's amplitude in each
/// bin, `[channel * bins + bin]`.
fn amplitude_spread(set: &WindowSet, dft: &RealDft) -> Vec<f64> {
    let (n_ch, len) = (set.channels, set.len);
    let n_bins = len / 2 + 1;
    let mut sum = vec![0.0f64; n_ch * n_bins];
    let mut sum_sq = vec![0.0f64; n_ch * n_bins];
    for window in set.raw.chunks_exact(n_ch * len) {
        for (c, x) in window.chunks_exact(len).enumerate() {
            let (re, im) = dft.forward(x);
            for b in 0..n_bins {
                let amp = re[b].hypot(im[b]);
                sum[c * n_bins + b] += amp;
                sum_sq[c * n_bins + b] += amp * amp;
            }
        }
    }
    let n = set.count().max(1) as f64;
    sum.iter()
        .zip(&sum_sq)
        .map(|(s, sq)| (sq / n - (s / n).powi(2)).max(0.0).sqrt())
        .collect()
}

/// Log-probabilities of each class (or the regression output), `[n * k]`.
fn targets(p: &Predictions, classes: bool) -> Vec<f64> {
    if !classes {
        return p
            .outputs
            .chunks_exact(p.k.max(1))
            .map(|r| f64::from(r[0]))
            .collect();
    }
    p.probabilities()
        .iter()
        .flat_map(|row| row.iter().map(|&q| f64::from(q.max(1e-12)).ln()))
        .collect()
}

/// Running sums for Pearson correlations between `cells` inputs and `k`
/// outputs over the same samples.
struct Sums {
    k: usize,
    cells: usize,
    count: f64,
    x: Vec<f64>,
    xx: Vec<f64>,
    y: Vec<f64>,
    yy: Vec<f64>,
    /// `[output * cells + cell]`.
    xy: Vec<f64>,
}

impl Sums {
    fn new(k: usize, cells: usize) -> Self {
        Self {
            k,
            cells,
            count: 0.0,
            x: vec![0.0; cells],
            xx: vec![0.0; cells],
            y: vec![0.0; k],
            yy: vec![0.0; k],
            xy: vec![0.0; k * cells],
        }
    }

    fn add(&mut self, x: &[f64], y: &[f64]) {
        self.count += 1.0;
        for (i, &v) in x.iter().enumerate() {
            self.x[i] += v;
            self.xx[i] += v * v;
        }
        for (j, &u) in y.iter().enumerate() {
            self.y[j] += u;
            self.yy[j] += u * u;
            let row = &mut self.xy[j * self.cells..][..self.cells];
            for (acc, &v) in row.iter_mut().zip(x) {
                *acc += u * v;
            }
        }
    }

    /// `[output * cells + cell]`, 0 where an input or output never varied.
    fn correlations(&self) -> Vec<f64> {
        let n = self.count;
        let mut out = vec![0.0; self.k * self.cells];
        for j in 0..self.k {
            let var_y = n * self.yy[j] - self.y[j] * self.y[j];
            for i in 0..self.cells {
                let var_x = n * self.xx[i] - self.x[i] * self.x[i];
                let cov = n * self.xy[j * self.cells + i] - self.x[i] * self.y[j];
                let denom = (var_x * var_y).sqrt();
                if denom > 1e-12 * n * n {
                    out[j * self.cells + i] = (cov / denom).clamp(-1.0, 1.0);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlations_are_pearsons() {
        let mut s = Sums::new(2, 2);
        for (a, b) in [(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0)] {
            // Output 0 follows input 0 exactly; output 1 is constant.
            s.add(&[a, b], &[2.0 * a + 1.0, 7.0]);
        }
        let r = s.correlations();
        assert!((r[0] - 1.0).abs() < 1e-12);
        // corr([1,2,3,4], [5,3,4,1]) = -5.5 / sqrt(5 * 8.75).
        assert!((r[1] + 5.5 / 43.75f64.sqrt()).abs() < 1e-12, "{}", r[1]);
        assert_eq!(
            &r[2..],
            &[0.0, 0.0],
            "a constant output correlates with nothing"
        );
    }
}
