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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn running_statistics_update_in_training_mode_only() -> Result<()> {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let bn = BatchNorm::new(vb.pp("bn"), 1, 1e-5, 0.1)?;
        // One feature, values 1..=4 over batch and time: mean 2.5, unbiased variance 5/3.
        let x = Tensor::new(&[[[1f32, 2.]], [[3., 4.]]], &dev)?;
        let stat = |name: &str| -> Result<f32> {
            let data = vm
                .data()
                .lock()
                .map_err(|_| candle_core::Error::Msg("lock".into()))?;
            let Some(v) = data.get(name) else {
                candle_core::bail!("missing {name}")
            };
            v.flatten_all()?.to_vec1::<f32>().map(|v| v[0])
        };
        bn.forward_t(&x, false)?;
        assert_eq!(stat("bn.running_mean")?, 0.0);
        let y = bn.forward_t(&x, true)?;
        // PyTorch: running = 0.9 * running + 0.1 * batch statistic (unbiased variance).
        assert!((stat("bn.running_mean")? - 0.25).abs() < 1e-6);
        assert!((stat("bn.running_var")? - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6);
        // Normalized with the biased batch variance (1.25).
        let first = y.flatten_all()?.to_vec1::<f32>()?[0];
        assert!((first - (1.0 - 2.5) / (1.25f32 + 1e-5).sqrt()).abs() < 1e-5);
        assert_eq!(bn.params(), 2);
        Ok(())
    }
}
