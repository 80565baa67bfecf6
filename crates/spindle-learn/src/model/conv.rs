//! 1-D convolution with explicit zero padding (candle's fast backward path).

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::init::{glorot, torch_default};

/// Zero padding of a 1-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding: the output is `kernel - 1` samples shorter.
    Valid,
    /// PyTorch's `padding="same"`: `(kernel - 1) / 2` zeros on the left and
    /// the rest on the right, so that (stride 1) the output length equals the input's.
    Same,
    /// `kernel / 2` zeros on both sides (braindecode's EEGNet convention):
    /// one sample longer than `Same` for even kernels.
    Half,
}

impl Padding {
    /// Zeros added on the left and on the right, in samples.
    pub fn amounts(self, kernel: usize) -> (usize, usize) {
        match self {
            Padding::Valid => (0, 0),
            Padding::Same => {
                let total = kernel.saturating_sub(1);
                (total / 2, total - total / 2)
            }
            Padding::Half => (kernel / 2, kernel / 2),
        }
    }
}

/// How a layer's weights are initialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightInit {
    /// PyTorch's defaults: weights and bias uniform in `±1/sqrt(fan_in)`.
    Torch,
    /// Glorot-uniform weights and zero bias (braindecode's models).
    Glorot,
}

/// A 1-D convolution `[batch, in, len] -> [batch, out, len']`.
///
/// Padding is applied with `pad_with_zeros` and candle's convolution always
/// runs with `padding: 0`; the input is cropped so that `len - kernel` is a
/// multiple of the stride (the trailing samples never reach an output, as in
/// PyTorch), which keeps candle's fast transposed convolution in the backward pass.
#[derive(Debug, Clone)]
pub struct Conv1d {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: usize,
    padding: Padding,
    kernel: usize,
}

impl Conv1d {
    /// Creates `weight` `[out, in, kernel]` and optionally `bias` `[out]` under `vb`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vb: VarBuilder,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        bias: bool,
        init: WeightInit,
    ) -> Result<Self> {
        let fan_in = in_channels * kernel;
        let fan_out = out_channels * kernel;
        let (w_init, b_init) = match init {
            WeightInit::Torch => (torch_default(fan_in), torch_default(fan_in)),
            WeightInit::Glorot => (glorot(fan_in, fan_out), candle_nn::Init::Const(0.0)),
        };
        let weight = vb.get_with_hints((out_channels, in_channels, kernel), "weight", w_init)?;
        let bias = if bias {
            Some(vb.get_with_hints(out_channels, "bias", b_init)?)
        } else {
            None
        };
        Ok(Self {
            weight,
            bias,
            stride: stride.max(1),
            padding,
            kernel,
        })
    }

    /// The weight `[out, in, kernel]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Trainable parameters (weights and bias).
    pub fn params(&self) -> usize {
        self.weight.elem_count() + self.bias.as_ref().map_or(0, |b| b.elem_count())
    }

    /// Output length for an input of `len` samples (`None` if too short).
    pub fn output_len(&self, len: usize) -> Option<usize> {
        let (l, r) = self.padding.amounts(self.kernel);
        super::summary::valid_len(len + l + r, self.kernel, self.stride)
    }
}

impl Module for Conv1d {
    /// [`spindle_kernels::conv1d::conv1d`]: the CPU kernel in f32, candle's
    /// `conv1d` on an explicitly padded input elsewhere.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        spindle_kernels::conv1d::conv1d(
            x,
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            self.padding.amounts(self.kernel),
        )
    }
}
