//! Running the network over windows and scoring it: balanced accuracy for
//! classifiers, R² for regression; and the steps of a method, reported as
//! progress and checked for cancellation.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Device;
use spindle_signals::eval::{ConfusionMatrix, r_squared};

use super::windows::{Truth, model_input};
use super::{ExplainError, ExplainProgress, Method};
use crate::model::{Network, Traced};
use crate::train::{Predictions, RunInfo, predict_windows};

/// Windows run through the network at once.
const BATCH: usize = 64;

/// The network of a run, with what it needs to turn raw windows into scores.
pub(crate) struct Scorer<'a> {
    /// The run's settings.
    pub info: &'a RunInfo,
    /// The network.
    pub net: &'a dyn Traced,
    /// Where it computes.
    pub device: &'a Device,
    /// The windows' truth.
    pub truth: &'a Truth,
}

impl Scorer<'_> {
    /// The network's outputs on raw windows `[n, channels, window_len]`.
    pub fn outputs(&self, raw: &[f32]) -> Result<Predictions, ExplainError> {
        let x = model_input(self.info, raw);
        let net: &dyn Network = self.net;
        predict_windows(
            net,
            &x,
            self.info.input_channels,
            self.info.input_len,
            BATCH,
            self.device,
        )
        .map_err(|e| ExplainError::Compute(format!("running the network: {e}")))
    }

    /// The score of raw windows.
    pub fn score(&self, raw: &[f32]) -> Result<f64, ExplainError> {
        Ok(self.score_outputs(&self.outputs(raw)?))
    }

    /// The score of outputs against the truth (0 where it is undefined).
    pub fn score_outputs(&self, p: &Predictions) -> f64 {
        match self.truth {
            Truth::Classes(y) => {
                ConfusionMatrix::from_labels(y, &p.classes(), self.info.classes.len().max(1))
                    .map_or(0.0, |m| m.balanced_accuracy())
            }
            Truth::Values(v) => {
                let first: Vec<f32> = p.outputs.chunks_exact(p.k.max(1)).map(|r| r[0]).collect();
                r_squared(v, &first).unwrap_or(0.0)
            }
        }
    }

    /// True for a classifier.
    pub fn truth_is_classes(&self) -> bool {
        matches!(self.truth, Truth::Classes(_))
    }

    /// The score's name in `explain.json`.
    pub fn metric(&self) -> &'static str {
        match self.truth {
            Truth::Classes(_) => "balanced accuracy",
            Truth::Values(_) => "R²",
        }
    }

    /// What a model ignoring its input scores.
    pub fn chance(&self) -> f64 {
        match self.truth {
            Truth::Classes(_) => 1.0 / self.info.classes.len().max(1) as f64,
            Truth::Values(_) => 0.0,
        }
    }
}

/// The steps of one method: each reported, and the user's cancel obeyed
/// between them.
pub(crate) struct Steps<'a> {
    method: Method,
    done: usize,
    total: usize,
    progress: &'a mut dyn FnMut(ExplainProgress),
    cancel: &'a AtomicBool,
}

impl<'a> Steps<'a> {
    /// Starts `method` with `total` steps (reported as 0 done).
    pub fn start(
        method: Method,
        total: usize,
        progress: &'a mut dyn FnMut(ExplainProgress),
        cancel: &'a AtomicBool,
    ) -> Result<Self, ExplainError> {
        let steps = Self {
            method,
            done: 0,
            total,
            progress,
            cancel,
        };
        steps.check()?;
        (steps.progress)(ExplainProgress {
            method,
            done: 0,
            total,
        });
        Ok(steps)
    }

    /// One more step done; fails with [`ExplainError::Cancelled`] once the
    /// user has asked to stop.
    pub fn step(&mut self) -> Result<(), ExplainError> {
        self.done = (self.done + 1).min(self.total);
        (self.progress)(ExplainProgress {
            method: self.method,
            done: self.done,
            total: self.total,
        });
        self.check()
    }

    /// Fails with [`ExplainError::Cancelled`] once the user has asked to stop.
    pub fn check(&self) -> Result<(), ExplainError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(ExplainError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Mean and sample standard deviation (0 for fewer than two values).
pub(crate) fn mean_and_spread(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    #[test]
    fn spread_is_the_sample_standard_deviation() {
        assert_eq!(super::mean_and_spread(&[]), (0.0, 0.0));
        assert_eq!(super::mean_and_spread(&[0.25]), (0.25, 0.0));
        let (m, s) = super::mean_and_spread(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
    }
}
