//! Regression targets standardized on the training split: the network
//! learns `(value - mean) / sd`, whatever the target's unit, so a reaction
//! time in milliseconds trains as well as the same in seconds (AdamW moves
//! each weight by about the learning rate per step, so an output bias has
//! to travel to a mean of 450 one thousandth at a time otherwise).
//!
//! The scale is stored with the run (`run.json`'s `target_scale`, the
//! weights file's `target_mean` and `target_sd`, `report.json`), and every
//! loaded network gives values in the target's unit again
//! ([`Unscaled`], wrapped around the network by the run loader), so
//! `predict`, `explain`, the export and the app never see standardized
//! values. A run made before targets were standardized has none: identity.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::Predictions;
use crate::model::{Network, Trace, Traced};

/// The affine map between a regression target and what the network
/// learns: `learned = (value - mean) / sd`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetScale {
    /// Mean of the training windows' targets, in the target's unit.
    pub mean: f64,
    /// Their standard deviation (population), in the target's unit; > 0.
    pub sd: f64,
}

impl Default for TargetScale {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl TargetScale {
    /// No change: classifiers, and regressions made before standardizing.
    pub const IDENTITY: TargetScale = TargetScale { mean: 0.0, sd: 1.0 };

    /// The mean and standard deviation of `values` (the training split's
    /// targets); identity for an empty split, and a deviation of 1 where
    /// every target is the same (or not finite).
    pub fn fit(values: &[f32]) -> Self {
        let finite: Vec<f64> = values
            .iter()
            .map(|&v| f64::from(v))
            .filter(|v| v.is_finite())
            .collect();
        if finite.is_empty() {
            return Self::IDENTITY;
        }
        let n = finite.len() as f64;
        let mean = finite.iter().sum::<f64>() / n;
        let var = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let sd = var.sqrt();
        Self {
            mean,
            sd: if sd.is_finite() && sd > 0.0 { sd } else { 1.0 },
        }
    }

    /// True when it changes nothing.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// Whether a scale read from a file is usable: finite, deviation > 0.
    pub fn check(&self) -> Result<(), String> {
        if self.mean.is_finite() && self.sd.is_finite() && self.sd > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "target_scale must have a finite mean and a positive deviation, got mean {} and sd {}",
                self.mean, self.sd
            ))
        }
    }

    /// A target in the target's unit -> what the network learns.
    pub fn standardize(&self, value: f32) -> f32 {
        ((f64::from(value) - self.mean) / self.sd) as f32
    }

    /// What the network outputs -> the target's unit.
    pub fn unscale(&self, learned: f32) -> f32 {
        (f64::from(learned) * self.sd + self.mean) as f32
    }

    /// A mean squared error of standardized values in the target's unit
    /// squared.
    pub fn unscale_mse(&self, mse: f64) -> f64 {
        mse * self.sd * self.sd
    }

    /// Every output of `p` in the target's unit.
    pub fn unscale_predictions(&self, p: &mut Predictions) {
        if !self.is_identity() {
            for v in &mut p.outputs {
                *v = self.unscale(*v);
            }
        }
    }

    /// `out * sd + mean` on a tensor of outputs.
    fn unscale_tensor(&self, out: &Tensor) -> candle_core::Result<Tensor> {
        if self.is_identity() {
            return Ok(out.clone());
        }
        out.affine(self.sd, self.mean)
    }
}

/// A loaded regression network whose outputs are in the target's unit: the
/// trained network followed by `* sd + mean`. Its features (the
/// penultimate layer) are the network's own.
pub(crate) struct Unscaled {
    /// The trained network (standardized outputs).
    pub inner: Box<dyn Traced>,
    /// The run's target scale.
    pub scale: TargetScale,
}

impl Network for Unscaled {
    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.scale.unscale_tensor(&self.inner.forward_t(x, train)?)
    }
}

impl Traced for Unscaled {
    fn forward_traced(
        &self,
        x: &Tensor,
        train: bool,
        trace: &mut Trace,
    ) -> candle_core::Result<Tensor> {
        self.scale
            .unscale_tensor(&self.inner.forward_traced(x, train, trace)?)
    }

    fn receptive_field_samples(&self) -> usize {
        self.inner.receptive_field_samples()
    }

    fn features(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.inner.features(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_standardizes_and_unscales() {
        let s = TargetScale::fit(&[1.0, 2.0, 3.0, 4.0]);
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.sd - 1.25f64.sqrt()).abs() < 1e-12);
        for v in [1.0f32, 2.5, 1000.0] {
            assert!((s.unscale(s.standardize(v)) - v).abs() < 1e-3);
        }
        assert!((s.unscale_mse(1.0) - 1.25).abs() < 1e-12);
        assert_eq!(TargetScale::fit(&[]), TargetScale::IDENTITY);
        assert_eq!(TargetScale::fit(&[7.0, 7.0]).sd, 1.0);
        assert!(TargetScale { mean: 0.0, sd: 0.0 }.check().is_err());
        let mut p = Predictions {
            outputs: vec![0.0, 1.0],
            k: 1,
        };
        s.unscale_predictions(&mut p);
        assert!((p.outputs[1] as f64 - (s.mean + s.sd)).abs() < 1e-5);
    }

    #[test]
    fn an_old_run_json_without_a_scale_reads_as_identity() {
        #[derive(Deserialize)]
        struct Info {
            #[serde(default)]
            target_scale: Option<TargetScale>,
        }
        let info: Info = serde_json::from_str("{}").unwrap();
        assert_eq!(info.target_scale.unwrap_or_default(), TargetScale::IDENTITY);
    }
}
