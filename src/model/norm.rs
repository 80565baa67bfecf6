//! Batch normalization that counts its parameters.

use candle_core::{ModuleT, Result, Tensor};
use candle_nn::{BatchNormConfig, VarBuilder};

/// Batch norm over axis 1 of `[batch, features, ...]`, PyTorch semantics.
///
/// In training mode it normalizes with the batch statistics and updates the
/// running mean and (unbiased) variance with `momentum` (PyTorch's convention:
/// `running = (1 - momentum) * running + momentum * batch`); in evaluation
/// mode it uses the running statistics. `weight`/`bias` are trainable,
/// `running_mean`/`running_var` are not (see [`super::is_trainable_name`]).
#[derive(Debug, Clone)]
pub struct BatchNorm {
    inner: candle_nn::BatchNorm,
    features: usize,
}

impl BatchNorm {
    /// Creates `weight` (1), `bias` (0), `running_mean` (0) and `running_var` (1) under `vb`.
    pub fn new(vb: VarBuilder, features: usize, eps: f64, momentum: f64) -> Result<Self> {
        let config = BatchNormConfig {
            eps,
            remove_mean: true,
            affine: true,
            momentum,
        };
        Ok(Self {
            inner: candle_nn::batch_norm(features, config, vb)?,
            features,
        })
    }

    /// Trainable parameters (`weight` and `bias`).
    pub fn params(&self) -> usize {
        2 * self.features
    }

    /// Normalizes `x` `[batch, features, ...]`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.inner.forward_t(x, train)
    }
}
