//! M5 raw-waveform CNN (Dai et al. 2017), as in torchaudio's speech-commands
//! tutorial (the same network as the PyTorch benchmark baseline).
//!
//! ```text
//! x [B, C, T]
//! conv0   C -> filters[0], kernel 80, stride 16, bias; bn0, ReLU, max-pool 4
//! conv1.. filters[i-1] -> filters[i], kernel 3, no padding, bias; bn, ReLU, max-pool 4
//! global average pool over time
//! fc      linear to n_outputs
//! ```
//!
//! The convolution biases sit right before batch norms, so in training mode
//! their gradients are zero up to rounding (as in PyTorch); they are kept for
//! parameter parity (25,290 for 1 x 16000 samples, 10 classes).

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::{Conv1d, Padding, WeightInit};
use super::dense::Dense;
use super::norm::BatchNorm;
use super::pool::{global_avg_pool, max_pool1d};
use super::summary::{ReceptiveField, Trace, pooled_len, valid_len};
use super::{InputShape, ModelError, ModelSpec, Network, Traced};
use crate::kernels::bn_act_pool::{Act, Pool};

/// The hyper-parameters of [`ModelSpec::M5`], unpacked.
#[derive(Debug, Clone)]
struct Config {
    filters: Vec<usize>,
    first_kernel: usize,
    first_stride: usize,
    kernel: usize,
    pool: usize,
}

impl Config {
    fn from_spec(spec: &ModelSpec) -> Result<Self> {
        let ModelSpec::M5 {
            filters,
            first_kernel,
            first_stride,
            kernel,
            pool,
        } = spec
        else {
            candle_core::bail!("M5::new needs an M5 spec, got {}", spec.display_name())
        };
        Ok(Self {
            filters: filters.clone(),
            first_kernel: *first_kernel,
            first_stride: *first_stride,
            kernel: *kernel,
            pool: *pool,
        })
    }
}

/// Time steps before the global pool for a window of `samples` (`None` if too short).
pub(crate) fn feature_len(spec: &ModelSpec, samples: usize) -> Option<usize> {
    let c = Config::from_spec(spec).ok()?;
    let mut t = valid_len(samples, c.first_kernel, c.first_stride)?;
    t = pooled_len(t, c.pool)?;
    for _ in 1..c.filters.len() {
        t = valid_len(t, c.kernel, 1)?;
        t = pooled_len(t, c.pool)?;
    }
    Some(t)
}

/// Convolution + batch norm + ReLU + max pool.
#[derive(Debug, Clone)]
pub struct ConvBlock {
    conv: Conv1d,
    bn: BatchNorm,
    pool: usize,
}

impl ConvBlock {
    /// Creates `conv` under `vb_conv` and `bn` under `vb_bn` (PyTorch default init).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vb_conv: VarBuilder,
        vb_bn: VarBuilder,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        bias: bool,
        pool: usize,
    ) -> Result<Self> {
        let conv = Conv1d::new(
            vb_conv,
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            bias,
            WeightInit::Torch,
        )?;
        let bn = BatchNorm::new(vb_bn, out_channels, 1e-5, 0.1)?;
        Ok(Self { conv, bn, pool })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.conv.params() + self.bn.params()
    }

    /// `[B, in, L] -> [B, out, L' / pool]`.
    ///
    /// On the CPU in f32: the convolution kernel, then batch norm + ReLU +
    /// max pool fused in one kernel; elsewhere candle's ops.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.conv.forward(x)?; // [B, out, L']
        if crate::kernels::is_cpu_f32(&x) {
            let pool = if self.pool > 1 {
                Pool::Max(self.pool)
            } else {
                Pool::None
            };
            return self.bn.forward_act_pool(&x, train, Act::Relu, pool);
        }
        let x = self.bn.forward_t(&x, train)?.relu()?; // [B, out, L']
        max_pool1d(&x, self.pool) // [B, out, L' / pool]
    }
}

/// M5; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct M5 {
    blocks: Vec<ConvBlock>,
    fc: Dense,
    config: Config,
}

impl M5 {
    /// Builds the layers under `vb` (`conv{i}`, `bn{i}`, `fc`).
    pub fn new(
        vb: VarBuilder,
        spec: &ModelSpec,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let c = Config::from_spec(spec)?;
        let mut blocks = Vec::with_capacity(c.filters.len());
        let mut in_channels = input.channels;
        for (i, &out) in c.filters.iter().enumerate() {
            let (kernel, stride) = if i == 0 {
                (c.first_kernel, c.first_stride)
            } else {
                (c.kernel, 1)
            };
            blocks.push(ConvBlock::new(
                vb.pp(format!("conv{i}")),
                vb.pp(format!("bn{i}")),
                in_channels,
                out,
                kernel,
                stride,
                Padding::Valid,
                true,
                c.pool,
            )?);
            in_channels = out;
        }
        let fc = Dense::new(vb.pp("fc"), in_channels, input.n_outputs, WeightInit::Torch)?;
        Ok(Self {
            blocks,
            fc,
            config: c,
        })
    }
}

impl Traced for M5 {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let mut x = x.clone(); // [B, C, T]
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward_t(&x, train)?; // [B, filters[i], L_i]
            t.record(&format!("conv{i}+bn{i}+relu+pool"), &x, block.params());
        }
        let x = global_avg_pool(&x)?; // [B, filters[last]]
        t.record("global_avg_pool", &x, 0);
        let x = self.fc.forward(&x)?; // [B, n_outputs]
        t.record("fc", &x, self.fc.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        let c = &self.config;
        let mut rf = ReceptiveField::new()
            .then(c.first_kernel, c.first_stride)
            .then(c.pool, c.pool);
        for _ in 1..c.filters.len() {
            rf = rf.then(c.kernel, 1).then(c.pool, c.pool);
        }
        rf.samples
    }
}

impl Network for M5 {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_traced(x, train, &mut Trace::off())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn standard_config_has_pytorch_parameter_count() {
        assert_param_count("cnn1d-audio", &shape(1, 16000, 10), 25_290);
    }

    #[test]
    fn summary_shapes_receptive_field_and_minimum() {
        let Some(spec) = ModelSpec::by_name("m5") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(1, 16000, 10), 0);
        let shapes: Vec<&[usize]> = built
            .summary
            .layers
            .iter()
            .map(|l| l.output_shape.as_slice())
            .collect();
        assert_eq!(
            shapes,
            vec![&[32, 249][..], &[32, 61], &[64, 14], &[64, 3], &[64], &[10]]
        );
        assert_eq!(built.summary.receptive_field_samples, 6848);
        assert_eq!(spec.min_samples(), 6848);
    }

    #[test]
    fn output_shape_multichannel() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("m5") else {
            panic!()
        };
        assert_output_shape(&spec, &shape(2, 7000, 3), 2)
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("m5") else {
            panic!()
        };
        // Convolution biases feed batch norms: zero gradient in training mode.
        let biases = ["conv0.bias", "conv1.bias", "conv2.bias", "conv3.bias"];
        assert_every_var_gets_gradient(&spec, &shape(1, 6900, 3), &biases)
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("m5") else {
            panic!()
        };
        assert_overfits(&spec, 1, 6900, 1e-2, 100).map(|_| ())
    }
}
