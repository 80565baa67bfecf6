//! AdamW (decoupled weight decay) as candle-nn's `AdamW` computes it, fused
//! into one pass per variable when every variable is an f32 CPU tensor.
//!
//! candle-nn's optimizer builds about a dozen tensors per variable per step
//! (each an allocation and a pass over the values); EEGNet has a dozen
//! small variables, so on a small set that bookkeeping cost as much as the
//! step's arithmetic. Here the moments are plain vectors and each variable
//! is read once and written once. The arithmetic is candle-nn's, in the
//! same order and precision (f32 values, f64 constants rounded to f32), so
//! both give the same weights; on other devices and dtypes candle-nn's own
//! optimizer runs.

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, Result, Storage, Tensor, Var, bail};
use candle_nn::{Optimizer, ParamsAdamW};

/// AdamW over a fixed set of variables.
pub(crate) enum AdamW {
    /// One pass per variable over f32 CPU values.
    Fused(Fused),
    /// candle-nn's, for other devices and dtypes.
    Candle(candle_nn::AdamW),
}

/// The fused optimizer's state.
pub(crate) struct Fused {
    params: ParamsAdamW,
    step_t: i32,
    /// Each variable with its first and second moments.
    vars: Vec<(Var, Vec<f32>, Vec<f32>)>,
}

impl AdamW {
    /// An optimizer for `vars` with `params` (fused when every variable is
    /// an f32 CPU tensor).
    pub(crate) fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Self> {
        if vars
            .iter()
            .all(|v| v.device().is_cpu() && v.dtype() == DType::F32)
        {
            let vars = vars
                .into_iter()
                .map(|v| {
                    let n = v.elem_count();
                    (v, vec![0f32; n], vec![0f32; n])
                })
                .collect();
            return Ok(AdamW::Fused(Fused {
                params,
                step_t: 0,
                vars,
            }));
        }
        Ok(AdamW::Candle(candle_nn::AdamW::new(vars, params)?))
    }

    /// Sets the learning rate of the next steps.
    pub(crate) fn set_learning_rate(&mut self, lr: f64) {
        match self {
            AdamW::Fused(f) => f.params.lr = lr,
            AdamW::Candle(c) => c.set_learning_rate(lr),
        }
    }

    /// One update of every variable that has a gradient in `grads`.
    pub(crate) fn step(&mut self, grads: &GradStore) -> Result<()> {
        match self {
            AdamW::Fused(f) => f.step(grads),
            AdamW::Candle(c) => c.step(grads),
        }
    }
}

impl Fused {
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step_t += 1;
        let p = &self.params;
        let lr_lambda = p.lr * p.weight_decay;
        let scale_m = 1f64 / (1f64 - p.beta1.powi(self.step_t));
        let scale_v = 1f64 / (1f64 - p.beta2.powi(self.step_t));
        // candle multiplies f32 tensors by f64 scalars rounded to f32.
        let (b1, b1c) = (p.beta1 as f32, (1.0 - p.beta1) as f32);
        let (b2, b2c) = (p.beta2 as f32, (1.0 - p.beta2) as f32);
        let (sm, sv) = (scale_m as f32, scale_v as f32);
        let (decay, eps, lr) = ((1f64 - lr_lambda) as f32, p.eps as f32, p.lr as f32);
        for (var, m, v) in &mut self.vars {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let next = {
                let g = g.contiguous()?;
                let (g_storage, g_layout) = g.storage_and_layout();
                let (t_storage, t_layout) = var.as_tensor().storage_and_layout();
                let gs = cpu_f32(&g_storage, g_layout)?;
                let ts = cpu_f32(&t_storage, t_layout)?;
                if gs.len() != ts.len() || ts.len() != m.len() {
                    bail!(
                        "adamw: a gradient of {} values for {} weights",
                        gs.len(),
                        ts.len()
                    )
                }
                let mut next = Vec::with_capacity(ts.len());
                for (((&gi, &ti), mi), vi) in gs.iter().zip(ts).zip(m.iter_mut()).zip(v.iter_mut())
                {
                    *mi = *mi * b1 + gi * b1c;
                    *vi = *vi * b2 + (gi * gi) * b2c;
                    let adjusted = (*mi * sm) / ((*vi * sv).sqrt() + eps);
                    next.push(ti * decay - adjusted * lr);
                }
                next
            };
            var.set(&Tensor::from_vec(next, var.shape(), var.device())?)?;
        }
        Ok(())
    }
}

/// The contiguous f32 values of a CPU tensor's storage.
fn cpu_f32<'a>(storage: &'a Storage, layout: &candle_core::Layout) -> Result<&'a [f32]> {
    let Storage::Cpu(CpuStorage::F32(values)) = storage else {
        bail!("adamw: expected f32 values on the CPU")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("adamw: expected contiguous values")
    };
    Ok(&values[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The fused steps give candle-nn's weights, bit for bit, over steps
    /// with changing gradients and a changed learning rate.
    #[test]
    fn fused_steps_equal_candles() -> Result<()> {
        let dev = Device::Cpu;
        let params = ParamsAdamW {
            lr: 1e-2,
            weight_decay: 1e-2,
            ..Default::default()
        };
        let start = [
            Tensor::randn(0f32, 1., (3, 5), &dev)?,
            Tensor::randn(0f32, 1., 7, &dev)?,
        ];
        let fused_vars: Vec<Var> = start.iter().map(Var::from_tensor).collect::<Result<_>>()?;
        let candle_vars: Vec<Var> = start.iter().map(Var::from_tensor).collect::<Result<_>>()?;
        let mut fused = AdamW::new(fused_vars.clone(), params.clone())?;
        assert!(matches!(fused, AdamW::Fused(_)));
        let mut reference = candle_nn::AdamW::new(candle_vars.clone(), params)?;
        for step in 0..6 {
            if step == 3 {
                fused.set_learning_rate(3e-3);
                reference.set_learning_rate(3e-3);
            }
            let target = Tensor::randn(0f32, 1., 7, &dev)?;
            let loss = |vars: &[Var]| -> Result<Tensor> {
                let a = vars[0].as_tensor().sum(0)?.sqr()?.sum_all()?;
                let b = (vars[1].as_tensor() - &target)?.sqr()?.sum_all()?;
                a + b
            };
            fused.step(&loss(&fused_vars)?.backward()?)?;
            reference.step(&loss(&candle_vars)?.backward()?)?;
            for (f, c) in fused_vars.iter().zip(&candle_vars) {
                let (f, c) = (
                    f.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                    c.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                );
                assert_eq!(f, c, "step {step}");
            }
        }
        Ok(())
    }
}
