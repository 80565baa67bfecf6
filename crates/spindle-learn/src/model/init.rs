//! Weight initialization: PyTorch-compatible schemes and a seeded variable store.
//!
//! candle's CPU random generator cannot be seeded, so [`seeded_var_builder`]
//! creates missing variables itself from a 64-bit seed: the same seed and
//! spec give the same initial weights on every run and platform.

use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::NormalOrUniform;
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};

/// PyTorch's default for `Linear`, `Conv*d` weights and biases:
/// uniform in `±1/sqrt(fan_in)` (kaiming-uniform with `a = sqrt(5)`).
pub fn torch_default(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// Glorot/Xavier uniform (gain 1), as braindecode initializes EEGNet and
/// ShallowFBCSPNet: uniform in `±sqrt(6 / (fan_in + fan_out))`.
pub fn glorot(fan_in: usize, fan_out: usize) -> Init {
    let bound = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// A `VarBuilder` over `varmap` that initializes new variables from `seed`
/// (existing variables are returned unchanged, as with `from_varmap`).
pub fn seeded_var_builder(
    varmap: &VarMap,
    dtype: DType,
    device: &Device,
    seed: u64,
) -> VarBuilder<'static> {
    let backend = SeededVarMap {
        varmap: varmap.clone(),
        rng: Arc::new(Mutex::new(SplitMix64(seed))),
    };
    VarBuilder::from_backend(Box::new(backend), dtype, device.clone())
}

/// A `VarMap` whose missing variables are drawn from a seeded generator.
struct SeededVarMap {
    varmap: VarMap,
    rng: Arc<Mutex<SplitMix64>>,
}

impl SimpleBackend for SeededVarMap {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable store lock poisoned".into()))?;
        if let Some(var) = data.get(name) {
            if var.shape() != &shape {
                candle_core::bail!("shape mismatch on {name}: {shape:?} <> {:?}", var.shape())
            }
            return Ok(var.as_tensor().clone());
        }
        let values = {
            let mut rng = self
                .rng
                .lock()
                .map_err(|_| candle_core::Error::Msg("random generator lock poisoned".into()))?;
            sample(&mut rng, &shape, init)
        };
        let tensor = Tensor::from_vec(values, shape, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&tensor)?;
        let out = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        candle_core::bail!("`get_unchecked` is not supported for a seeded VarMap ({name})")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap
            .data()
            .lock()
            .map(|d| d.contains_key(name))
            .unwrap_or(false)
    }
}

/// Draws `shape.elem_count()` values following `init` (as candle's `Init::var`).
fn sample(rng: &mut SplitMix64, shape: &Shape, init: Init) -> Vec<f32> {
    let n = shape.elem_count();
    let uniform = |rng: &mut SplitMix64, lo: f64, up: f64| -> Vec<f32> {
        (0..n)
            .map(|_| (lo + (up - lo) * rng.uniform()) as f32)
            .collect()
    };
    let normal = |rng: &mut SplitMix64, mean: f64, std: f64| -> Vec<f32> {
        (0..n).map(|_| (mean + std * rng.normal()) as f32).collect()
    };
    match init {
        Init::Const(c) => vec![c as f32; n],
        Init::Uniform { lo, up } => uniform(rng, lo, up),
        Init::Randn { mean, stdev } => normal(rng, mean, stdev),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let std = non_linearity.gain() / (fan.for_shape(shape).max(1) as f64).sqrt();
            match dist {
                NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    uniform(rng, -bound, bound)
                }
                NormalOrUniform::Normal => normal(rng, 0.0, std),
            }
        }
    }
}

/// SplitMix64: tiny, fast, good enough for weight initialization.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box-Muller, one deviate per call).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_weights() -> candle_core::Result<()> {
        let draw = |seed| -> candle_core::Result<Vec<f32>> {
            let vm = VarMap::new();
            let vb = seeded_var_builder(&vm, DType::F32, &Device::Cpu, seed);
            vb.get_with_hints((3, 4), "w", torch_default(4))?
                .flatten_all()?
                .to_vec1::<f32>()
        };
        assert_eq!(draw(7)?, draw(7)?);
        assert_ne!(draw(7)?, draw(8)?);
        assert!(draw(7)?.iter().all(|v| v.abs() <= 0.5));
        Ok(())
    }

    #[test]
    fn seeded_vars_live_in_the_varmap() -> candle_core::Result<()> {
        let vm = VarMap::new();
        let vb = seeded_var_builder(&vm, DType::F32, &Device::Cpu, 1);
        let w = vb.pp("lin").get_with_hints(5, "bias", Init::Const(0.5))?;
        let vars = vm
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("lock".into()))?;
        let var = vars
            .get("lin.bias")
            .ok_or(candle_core::Error::Msg("missing".into()))?;
        var.set(&Tensor::ones(5, DType::F32, &Device::Cpu)?)?;
        // The model's tensor shares storage with the variable.
        assert_eq!(w.to_vec1::<f32>()?, vec![1.0; 5]);
        Ok(())
    }
}
