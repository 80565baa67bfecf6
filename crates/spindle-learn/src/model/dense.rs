//! Fully connected layer and dropout.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::WeightInit;
use super::init::{glorot, torch_default};

/// A linear layer `[batch, in] -> [batch, out]` with bias (PyTorch layout:
/// `weight` `[out, in]`, `bias` `[out]`).
#[derive(Debug, Clone)]
pub struct Dense {
    inner: candle_nn::Linear,
    params: usize,
}

impl Dense {
    /// Creates `weight` and `bias` under `vb`.
    pub fn new(
        vb: VarBuilder,
        in_features: usize,
        out_features: usize,
        init: WeightInit,
    ) -> Result<Self> {
        let (w_init, b_init) = match init {
            WeightInit::Torch => (torch_default(in_features), torch_default(in_features)),
            WeightInit::Glorot => (
                glorot(in_features, out_features),
                candle_nn::Init::Const(0.0),
            ),
        };
        Self::with_init(vb, in_features, out_features, w_init, b_init)
    }

    /// Creates `weight` and `bias` under `vb` with explicit initializers
    /// (e.g. the fans of an equivalent convolution).
    pub fn with_init(
        vb: VarBuilder,
        in_features: usize,
        out_features: usize,
        weight_init: candle_nn::Init,
        bias_init: candle_nn::Init,
    ) -> Result<Self> {
        let weight = vb.get_with_hints((out_features, in_features), "weight", weight_init)?;
        let bias = vb.get_with_hints(out_features, "bias", bias_init)?;
        Ok(Self {
            inner: candle_nn::Linear::new(weight, Some(bias)),
            params: out_features * in_features + out_features,
        })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.params
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.inner.forward(x)
    }
}

thread_local! {
    /// The dropout masks' generator of this thread (candle's CPU generator
    /// cannot be seeded, so masks are drawn here and uploaded).
    static DROPOUT_RNG: std::cell::RefCell<spindle_signals::rng::Rng> =
        std::cell::RefCell::new(spindle_signals::rng::Rng::new(0));
}

/// Seeds the dropout masks drawn on this thread, so that training repeats
/// exactly from a seed.
pub fn seed_dropout(seed: u64) {
    DROPOUT_RNG.with(|r| *r.borrow_mut() = spindle_signals::rng::Rng::new(seed ^ 0xD50F_0D50));
}

/// Zeroes each element with probability `p` and scales the rest by
/// `1 / (1 - p)` in training mode; the identity otherwise. Masks come from
/// this thread's seeded generator (see [`seed_dropout`]).
pub fn dropout(x: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    if !(train && p > 0.0) {
        return Ok(x.clone());
    }
    if p >= 1.0 {
        return x.zeros_like();
    }
    let keep = 1.0 / (1.0 - p) as f32;
    let n = x.elem_count();
    let mask: Vec<f32> = DROPOUT_RNG.with(|r| {
        let mut r = r.borrow_mut();
        (0..n)
            .map(|_| if r.uniform() < p { 0.0 } else { keep })
            .collect()
    });
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    x * mask
}
