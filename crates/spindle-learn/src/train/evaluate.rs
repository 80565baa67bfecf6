//! Running a network over windows without gradients.

use candle_core::{Device, Tensor};

use crate::model::Network;

/// The outputs of a network over a set of windows.
#[derive(Debug, Clone, Default)]
pub struct Predictions {
    /// Raw outputs `[n, k]` row-major (logits, or values for regression).
    pub outputs: Vec<f32>,
    /// Outputs per window.
    pub k: usize,
}

impl Predictions {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.outputs.len().checked_div(self.k).unwrap_or(0)
    }

    /// True without windows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Class probabilities per window (softmax of the logits, computed stably).
    pub fn probabilities(&self) -> Vec<Vec<f32>> {
        self.outputs
            .chunks_exact(self.k.max(1))
            .map(|row| {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
                let sum: f32 = exp.iter().sum();
                exp.iter().map(|e| e / sum).collect()
            })
            .collect()
    }

    /// The most probable class of each window.
    pub fn classes(&self) -> Vec<usize> {
        self.outputs
            .chunks_exact(self.k.max(1))
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                        if v > best.1 { (i, v) } else { best }
                    })
                    .0
            })
            .collect()
    }

    /// Mean cross-entropy against `truth` (classification).
    pub fn cross_entropy(&self, truth: &[usize]) -> f64 {
        let probs = self.probabilities();
        let n = probs.len().max(1) as f64;
        probs
            .iter()
            .zip(truth)
            .map(|(p, &t)| -(p.get(t).copied().unwrap_or(0.0).max(1e-12) as f64).ln())
            .sum::<f64>()
            / n
    }

    /// Mean squared error against `truth` (regression, first output).
    pub fn mse(&self, truth: &[f32]) -> f64 {
        let n = truth.len().max(1) as f64;
        self.outputs
            .chunks_exact(self.k.max(1))
            .zip(truth)
            .map(|(row, &t)| ((row[0] - t) as f64).powi(2))
            .sum::<f64>()
            / n
    }
}

/// Runs `net` in evaluation mode over windows laid out `[n, channels, samples]`
/// in `x`, `batch` windows at a time.
pub fn predict_windows(
    net: &dyn Network,
    x: &[f32],
    channels: usize,
    samples: usize,
    batch: usize,
    device: &Device,
) -> candle_core::Result<Predictions> {
    let per = channels * samples;
    let n = x.len().checked_div(per).unwrap_or(0);
    let mut out = Predictions::default();
    let mut i = 0;
    while i < n {
        let b = batch.max(1).min(n - i);
        let xb = Tensor::from_slice(&x[i * per..(i + b) * per], (b, channels, samples), device)?;
        let logits = net.forward_t(&xb, false)?;
        out.k = logits.dim(1)?;
        out.outputs.extend(logits.flatten_all()?.to_vec1::<f32>()?);
        i += b;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_and_classes() {
        let p = Predictions {
            outputs: vec![0.0, 0.0, 3.0, 1.0],
            k: 2,
        };
        let probs = p.probabilities();
        assert!((probs[0][0] - 0.5).abs() < 1e-6);
        assert_eq!(p.classes(), vec![0, 0]);
        assert!(
            (p.cross_entropy(&[0, 0]) - (2f64.ln() + (1.0 + (-2f64).exp()).ln()) / 2.0).abs()
                < 1e-5
        );
    }
}
