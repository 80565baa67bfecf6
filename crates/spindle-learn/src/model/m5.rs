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
use spindle_kernels::bn_act_pool::{Act, Pool};

use super::conv::{Conv1d, Padding, WeightInit};
use super::dense::Dense;
use super::norm::BatchNorm;
use super::pool::{global_avg_pool, max_pool1d};
use super::summary::{ReceptiveField, Trace, pooled_len, valid_len};
use super::registry::{no_advice, int, list};
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry (also reachable as `cnn1d-audio`).
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "m5",
    aliases: &["cnn1d-audio"],
    title: "M5 (raw audio)",
    family: Family::Convolutional,
    description: "Raw-waveform audio CNN (Dai et al. 2017): a long strided first convolution, then small convolution blocks. The choice for sound files such as animal calls.",
    kind: Kind::of::<M5Config>(),
    fixed: "{}",
    advise: no_advice,
    params: &[
        list(
            "filters",
            "filters per block",
            "first convolution, then one number per block",
            512.0,
        ),
        int(
            "first_kernel",
            "first kernel (samples)",
            "length of the first convolution",
            1.0,
            1024.0,
        ),
        int(
            "first_stride",
            "first stride (samples)",
            "how much the first layer shortens time",
            1.0,
            128.0,
        ),
        int(
            "kernel",
            "kernel (samples)",
            "length of the later convolutions",
            1.0,
            64.0,
        ),
        int(
            "pool",
            "pooling (samples)",
            "time shortened by this factor after each block",
            1.0,
            16.0,
        ),
    ],
}];

/// M5 raw-waveform CNN (JSON kind `m5`): a strided first convolution, blocks
/// of convolution + batch norm + ReLU + max pool, global average pool, linear
/// output. Defaults follow torchaudio's tutorial.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct M5Config {
    /// Filters of the first convolution and of each following block
    /// (default `[32, 32, 64, 64]`).
    pub filters: Vec<usize>,
    /// First convolution kernel in samples (default 80).
    pub first_kernel: usize,
    /// First convolution stride in samples (default 16).
    pub first_stride: usize,
    /// Kernel of the later convolutions in samples, no padding (default 3).
    pub kernel: usize,
    /// Max-pool size after each convolution (default 4).
    pub pool: usize,
}

impl Default for M5Config {
    fn default() -> Self {
        Self {
            filters: vec![32, 32, 64, 64],
            first_kernel: 80,
            first_stride: 16,
            kernel: 3,
            pool: 4,
        }
    }
}

impl Hyper for M5Config {
    const KIND: &'static str = "m5";

    fn display_name(&self) -> String {
        let widths: Vec<String> = self.filters.iter().map(ToString::to_string).collect();
        format!("M5 ({})", widths.join("-"))
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::widths("filters", &self.filters)?;
        check::positive("first_kernel", self.first_kernel)?;
        check::positive("first_stride", self.first_stride)?;
        check::positive("kernel", self.kernel)?;
        check::positive("pool", self.pool)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        let c = self;
        let mut t = valid_len(samples, c.first_kernel, c.first_stride)?;
        t = pooled_len(t, c.pool)?;
        for _ in 1..c.filters.len() {
            t = valid_len(t, c.kernel, 1)?;
            t = pooled_len(t, c.pool)?;
        }
        Some(t)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(M5::new(vb, self, input)?))
    }
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
        if spindle_kernels::is_cpu_f32(&x) {
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
    config: M5Config,
}

impl M5 {
    /// Builds the layers under `vb` (`conv{i}`, `bn{i}`, `fc`).
    pub fn new(
        vb: VarBuilder,
        config: &M5Config,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let c = config.clone();
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
        let x = t.feature_map(&x)?;
        let x = global_avg_pool(&x)?; // [B, filters[last]]
        t.record("global_avg_pool", &x, 0);
        t.head_input(&x)?;
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
    use crate::model::ModelSpec;

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
