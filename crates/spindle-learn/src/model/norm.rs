//! Batch normalization that counts its parameters.

use candle_core::{ModuleT, Result, Tensor, Var};
use candle_nn::{BatchNormConfig, VarBuilder};

use spindle_kernels::bn_act_pool::{Act, Pool, bn_act_pool};

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
    eps: f64,
    momentum: f64,
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
            eps,
            momentum,
        })
    }

    /// `weight` and `bias` `[features]`.
    pub fn weight_and_bias(&self) -> Result<(&Tensor, &Tensor)> {
        self.inner
            .weight_and_bias()
            .ok_or_else(|| candle_core::Error::Msg("batch norm without affine parameters".into()))
    }

    /// `running_mean` and `running_var` `[features]`.
    pub fn running_stats(&self) -> (&Tensor, &Tensor) {
        (self.inner.running_mean(), self.inner.running_var())
    }

    /// The epsilon added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Trainable parameters (`weight` and `bias`).
    pub fn params(&self) -> usize {
        2 * self.features
    }

    /// Normalizes `x` `[batch, features, ...]`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.inner.forward_t(x, train)
    }

    /// Batch norm, then `act`, then `pool`, on `x` `[batch, features, len]`
    /// in one fused kernel (see [`spindle_kernels::bn_act_pool`]), with the
    /// same semantics as [`Self::forward_t`] followed by the activation and
    /// the pooling, running statistics included.
    pub fn forward_act_pool(
        &self,
        x: &Tensor,
        train: bool,
        act: Act,
        pool: Pool,
    ) -> Result<Tensor> {
        let Some((weight, bias)) = self.inner.weight_and_bias() else {
            candle_core::bail!("batch norm without affine parameters")
        };
        let running = (!train).then_some((self.inner.running_mean(), self.inner.running_var()));
        let (y, stats) = bn_act_pool(x, weight, bias, running, self.eps, act, pool)?;
        if let Some((mean, var)) = stats {
            let (b, _, l) = x.dims3()?;
            self.update_running(&mean, &var, b * l)?;
        }
        Ok(y)
    }

    /// Moves the running statistics towards a batch's `mean` and biased
    /// `var` over `n` values per feature (PyTorch: the unbiased variance).
    pub fn update_running(&self, mean: &[f32], var: &[f32], n: usize) -> Result<()> {
        let m = self.momentum;
        let unbias = if n > 1 {
            n as f64 / (n as f64 - 1.0)
        } else {
            1.0
        };
        let rm = Var::from_tensor(self.inner.running_mean())?;
        let rv = Var::from_tensor(self.inner.running_var())?;
        let dev = rm.device().clone();
        let dtype = rm.dtype();
        let mean = Tensor::from_slice(mean, mean.len(), &dev)?.to_dtype(dtype)?;
        let var = Tensor::from_slice(var, var.len(), &dev)?.to_dtype(dtype)?;
        rm.set(&((rm.as_tensor().detach() * (1.0 - m))? + (mean * m)?)?)?;
        rv.set(&((rv.as_tensor().detach() * (1.0 - m))? + (var * (m * unbias))?)?)?;
        Ok(())
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

    #[test]
    fn fused_path_updates_running_statistics_like_candle() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0.5f32, 2.0, (4, 3, 20), &dev)?;
        let (vm1, vm2) = (VarMap::new(), VarMap::new());
        let bn1 = BatchNorm::new(
            VarBuilder::from_varmap(&vm1, DType::F32, &dev),
            3,
            1e-3,
            0.1,
        )?;
        let bn2 = BatchNorm::new(
            VarBuilder::from_varmap(&vm2, DType::F32, &dev),
            3,
            1e-3,
            0.1,
        )?;
        for train in [true, true, false] {
            let a = bn1.forward_t(&x, train)?.relu()?;
            let b = bn2.forward_act_pool(&x, train, Act::Relu, Pool::None)?;
            let diff = (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "train={train}: {diff}");
        }
        for name in ["running_mean", "running_var"] {
            let get = |vm: &VarMap| -> Result<Vec<f32>> {
                let data = vm
                    .data()
                    .lock()
                    .map_err(|_| candle_core::Error::Msg("lock".into()))?;
                let Some(v) = data.get(name) else {
                    candle_core::bail!("missing {name}")
                };
                v.to_vec1::<f32>()
            };
            for (a, b) in get(&vm1)?.iter().zip(get(&vm2)?) {
                assert!((a - b).abs() < 1e-5, "{name}: {a} vs {b}");
            }
        }
        Ok(())
    }
}
