//! ShallowFBCSPNet (Schirrmeister et al. 2017), as braindecode's `ShallowFBCSPNet`.
//!
//! ```text
//! x [B, C, T]
//! conv_time     F temporal filters (25 samples), bias      } merged into one
//! conv_spat     G spatial filters over F x C, no bias      } convolution
//! bnorm, square
//! pool          average 75 samples, stride 15
//! log(max(x, 1e-6)), dropout 0.5
//! final_layer   conv over all remaining time = linear on the flattened features, bias
//! ```
//!
//! The temporal and spatial convolutions are linear and back to back, so (as
//! braindecode's `CombinedConv` does) they run as one convolution over the
//! channels with kernel `W[g, c, k] = sum_f spat[g, f, c] * time[f, k]` and
//! bias `sum_f (sum_c spat[g, f, c]) * time_bias[f]`: the same parameters and
//! gradients, fewer operations. The temporal bias only shifts each batch-norm
//! input channel by a constant, so in training mode its gradient is zero up to
//! rounding (as in PyTorch); it is kept for parity.
//!
//! Sized to the data by default (`size_to_window`): the paper's kernel and
//! pooling are samples at 250 Hz (25 = 0.1 s; pooling 75 = 0.3 s, stride
//! 15 = 60 ms); sized, they keep those durations at the data's rate
//! (braindecode does not scale them), and the pooling, then the kernel,
//! shrink when a window is too short for one step. Runs made before the
//! setting existed read it as off and rebuild as they were.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use spindle_kernels::bn_act_pool::{Act, Pool};

use super::dense::{Dense, dropout};
use super::init::glorot;
use super::norm::BatchNorm;
use super::pool::{avg_pool1d_strided, strided_len};
use super::summary::{ReceptiveField, Trace, valid_len};
use super::registry::{no_advice, DROPOUT_HELP, dropout as dropout_param, int};
use super::spec::too_short;
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "shallow",
    aliases: &[],
    title: "ShallowConvNet",
    family: Family::Convolutional,
    description: "Shallow filter-bank CNN (Schirrmeister et al. 2017): temporal and spatial filters, squaring and log of the average power, like a learned band-power classifier. Good for oscillations such as alpha or motor rhythms.",
    kind: Kind::of::<ShallowConfig>(),
    fixed: "{}",
    advise: no_advice,
    params: &[
        int(
            "n_filters_time",
            "temporal filters",
            "frequency filters learned",
            1.0,
            128.0,
        ),
        int(
            "filter_time_length",
            "temporal kernel (samples)",
            "length of each frequency filter; sized: samples at 250 Hz, scaled to the data's rate",
            2.0,
            256.0,
        ),
        int(
            "n_filters_spat",
            "spatial filters",
            "electrode weightings learned",
            1.0,
            128.0,
        ),
        int(
            "pool_time_length",
            "pooling window (samples)",
            "time over which power is averaged; sized: samples at 250 Hz, scaled to the data's rate",
            1.0,
            512.0,
        ),
        int(
            "pool_time_stride",
            "pooling stride (samples)",
            "step between power estimates; sized: samples at 250 Hz, scaled to the data's rate",
            1.0,
            256.0,
        ),
        super::sizing::size_to_window_param(
            "keep the kernel's and the pooling's durations (given at 250 Hz) at the data's rate, and shrink them for short windows; off: samples as given",
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

/// The rate at which ShallowConvNet's kernel and pooling are given (the
/// paper's 250 Hz).
pub const REFERENCE_RATE_HZ: f64 = 250.0;

/// ShallowFBCSPNet as in braindecode (JSON kind `shallow`), with
/// braindecode's defaults.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ShallowConfig {
    /// Temporal filters (default 40).
    pub n_filters_time: usize,
    /// Temporal kernel in samples (default 25).
    pub filter_time_length: usize,
    /// Spatial filters (default 40).
    pub n_filters_spat: usize,
    /// Average-pool window in samples (default 75).
    pub pool_time_length: usize,
    /// Average-pool stride in samples (default 15).
    pub pool_time_stride: usize,
    /// Dropout probability before the classifier (default 0.5).
    pub dropout: f64,
    /// Batch-norm momentum, PyTorch convention (default 0.1).
    pub batch_norm_momentum: f64,
    /// Batch-norm epsilon (default 1e-5).
    pub batch_norm_eps: f64,
    /// Read the kernel and the pooling as samples at
    /// [`REFERENCE_RATE_HZ`] and keep their durations at the data's rate;
    /// shrink them for short windows (default on; runs made before it
    /// existed read as off).
    pub size_to_window: bool,
}

impl Default for ShallowConfig {
    fn default() -> Self {
        Self {
            n_filters_time: 40,
            filter_time_length: 25,
            n_filters_spat: 40,
            pool_time_length: 75,
            pool_time_stride: 15,
            dropout: 0.5,
            batch_norm_momentum: 0.1,
            batch_norm_eps: 1e-5,
            size_to_window: true,
        }
    }
}

impl Hyper for ShallowConfig {
    const KIND: &'static str = "shallow";

    fn display_name(&self) -> String {
        "ShallowFBCSPNet".to_string()
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::positive("n_filters_time", self.n_filters_time)?;
        check::positive("filter_time_length", self.filter_time_length)?;
        check::positive("n_filters_spat", self.n_filters_spat)?;
        check::positive("pool_time_length", self.pool_time_length)?;
        check::positive("pool_time_stride", self.pool_time_stride)?;
        check::probability("dropout", self.dropout)?;
        check::batch_norm(self.batch_norm_momentum, self.batch_norm_eps)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        let t = valid_len(samples, self.filter_time_length, 1)?;
        strided_len(t, self.pool_time_length, self.pool_time_stride)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(Shallow::new(vb, self, input)?))
    }

    fn sized_for(&self, input: &InputShape) -> (Self, Vec<String>) {
        use super::sizing::{halve, kernel_note, scale_samples, shrink_until_fits, shrunk_note};
        if !self.size_to_window {
            return (self.clone(), Vec::new());
        }
        let (rate, reference) = (input.rate_hz, REFERENCE_RATE_HZ);
        let mut c = Self {
            filter_time_length: scale_samples(self.filter_time_length, reference, rate, 2, 256),
            pool_time_length: scale_samples(self.pool_time_length, reference, rate, 1, 512),
            pool_time_stride: scale_samples(self.pool_time_stride, reference, rate, 1, 256),
            size_to_window: false,
            ..self.clone()
        };
        let (kernel, pool) = (c.filter_time_length, c.pool_time_length);
        shrink_until_fits(
            &mut c,
            |c| c.feature_len(input.samples).is_some(),
            &[
                |c| halve(&mut c.pool_time_length),
                |c| halve(&mut c.filter_time_length),
            ],
        );
        c.pool_time_stride = c.pool_time_stride.min(c.pool_time_length);
        let mut notes = vec![
            kernel_note("temporal kernel", kernel, rate, self.filter_time_length, reference),
            kernel_note("pooling", pool, rate, self.pool_time_length, reference),
            kernel_note("pooling stride", c.pool_time_stride, rate, self.pool_time_stride, reference),
        ];
        notes.extend(shrunk_note("temporal kernel", kernel, c.filter_time_length, input.samples));
        notes.extend(shrunk_note("pooling", pool, c.pool_time_length, input.samples));
        (c, notes)
    }
}

/// Temporal then spatial convolution, run as one convolution.
///
/// `[B, C, T] -> [B, G, T - K + 1]`. Weights `conv_time.weight` `[F, K]`,
/// `conv_time.bias` `[F]`, `conv_spat.weight` `[G, F, C]` (PyTorch's
/// `[F, 1, K, 1]`, `[F]`, `[G, F, 1, C]`).
#[derive(Debug, Clone)]
pub struct TimeSpaceConv {
    time_weight: Tensor,
    time_bias: Tensor,
    spat_weight: Tensor,
}

impl TimeSpaceConv {
    /// Creates the weights under `vb_time` and `vb_spat` (Glorot-uniform, zero bias).
    pub fn new(
        vb_time: VarBuilder,
        vb_spat: VarBuilder,
        channels: usize,
        n_time: usize,
        kernel: usize,
        n_spat: usize,
    ) -> Result<Self> {
        let time_weight =
            vb_time.get_with_hints((n_time, kernel), "weight", glorot(kernel, n_time * kernel))?;
        let time_bias = vb_time.get_with_hints(n_time, "bias", candle_nn::Init::Const(0.0))?;
        let spat_weight = vb_spat.get_with_hints(
            (n_spat, n_time, channels),
            "weight",
            glorot(n_time * channels, n_spat * channels),
        )?;
        Ok(Self {
            time_weight,
            time_bias,
            spat_weight,
        })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.time_weight.elem_count() + self.time_bias.elem_count() + self.spat_weight.elem_count()
    }

    /// `[B, C, T] -> [B, G, T - K + 1]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let kernel = self
            .spat_weight
            .transpose(1, 2)? // [G, C, F]
            .broadcast_matmul(&self.time_weight)?; // [G, C, K]
        let bias = self
            .spat_weight
            .sum(2)? // [G, F]
            .matmul(&self.time_bias.unsqueeze(1)?)? // [G, 1]
            .unsqueeze(0)?; // [1, G, 1]
        let bias = bias.flatten_all()?; // [G]
        spindle_kernels::conv1d::conv1d(x, &kernel, Some(&bias), 1, (0, 0)) // [B, G, T - K + 1]
    }
}

/// ShallowFBCSPNet; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct Shallow {
    conv_time_spat: TimeSpaceConv,
    bnorm: BatchNorm,
    final_layer: Dense,
    config: ShallowConfig,
}

impl Shallow {
    /// Builds the layers under `vb` with braindecode's names.
    pub fn new(
        vb: VarBuilder,
        config: &ShallowConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let c = config.clone();
        let Some(t_final) = c.feature_len(input.samples) else {
            return Err(too_short(config, input.samples));
        };
        let conv_time_spat = TimeSpaceConv::new(
            vb.pp("conv_time"),
            vb.pp("conv_spat"),
            input.channels,
            c.n_filters_time,
            c.filter_time_length,
            c.n_filters_spat,
        )?;
        let bnorm = BatchNorm::new(
            vb.pp("bnorm"),
            c.n_filters_spat,
            c.batch_norm_eps,
            c.batch_norm_momentum,
        )?;
        let final_layer = Dense::with_init(
            vb.pp("final_layer").pp("conv_classifier"),
            c.n_filters_spat * t_final,
            input.n_outputs,
            glorot(c.n_filters_spat * t_final, input.n_outputs * t_final),
            candle_nn::Init::Const(0.0),
        )?;
        Ok(Self {
            conv_time_spat,
            bnorm,
            final_layer,
            config: c,
        })
    }
}

impl Traced for Shallow {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let c = &self.config;
        let x = self.conv_time_spat.forward(x)?; // [B, G, T-24]
        t.record("conv_time+conv_spat", &x, self.conv_time_spat.params());
        let x = if t.is_off() && spindle_kernels::is_cpu_f32(&x) {
            let pool = Pool::Avg {
                kernel: c.pool_time_length,
                stride: c.pool_time_stride,
            };
            self.bnorm.forward_act_pool(&x, train, Act::Square, pool)? // [B, G, P]
        } else {
            let x = self.bnorm.forward_t(&x, train)?.sqr()?; // [B, G, T-24]
            t.record("bnorm+square", &x, self.bnorm.params());
            avg_pool1d_strided(&x, c.pool_time_length, c.pool_time_stride)? // [B, G, P = (T-24-75)/15+1]
        };
        let x = x.maximum(1e-6)?.log()?; // [B, G, P]
        let x = dropout(&x, c.dropout, train)?;
        t.record("pool+log+drop", &x, 0);
        let x = t.feature_map(&x)?;
        t.head_input(&x)?;
        let x = self.final_layer.forward(&x.flatten_from(1)?)?; // [B, n_outputs]
        t.record("final_layer", &x, self.final_layer.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        let c = &self.config;
        ReceptiveField::new()
            .then(c.filter_time_length, 1)
            .then(c.pool_time_length, c.pool_time_stride)
            .samples
    }
}

impl Network for Shallow {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_traced(x, train, &mut Trace::off())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::ModelSpec;
    use candle_core::{DType, Device};

    fn spec_without_dropout() -> ModelSpec {
        ModelSpec::new(ShallowConfig {
            dropout: 0.0,
            ..ShallowConfig::default()
        })
    }

    #[test]
    fn standard_config_has_braindecode_parameter_count() {
        assert_param_count("shallow", &shape(22, 1000, 4), 46_084);
    }

    #[test]
    fn summary_shapes_and_receptive_field() {
        let Some(spec) = ModelSpec::by_name("shallow") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(22, 1000, 4), 0);
        let shapes: Vec<&[usize]> = built
            .summary
            .layers
            .iter()
            .map(|l| l.output_shape.as_slice())
            .collect();
        assert_eq!(shapes, vec![&[40, 976][..], &[40, 976], &[40, 61], &[4]]);
        assert_eq!(built.summary.receptive_field_samples, 25 + 74);
        assert_eq!(spec.min_samples(), 99);
    }

    #[test]
    fn output_shape() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("shallow") else {
            panic!()
        };
        assert_output_shape(&spec, &shape(3, 128, 2), 4)
    }

    #[test]
    fn merged_convolution_equals_temporal_then_spatial() -> Result<()> {
        let dev = Device::Cpu;
        let (c, f, k, g, t) = (3, 4, 5, 2, 20);
        let mut vm = candle_nn::VarMap::new();
        let vb = super::super::seeded_var_builder(&vm, DType::F64, &dev, 9);
        let conv = TimeSpaceConv::new(vb.pp("conv_time"), vb.pp("conv_spat"), c, f, k, g)?;
        let time_bias = Tensor::new(&[0.1f64, -0.2, 0.3, 0.05], &dev)?;
        vm.set_one("conv_time.bias", &time_bias)?;
        let x = Tensor::randn(0f64, 1., (2, c, t), &dev)?;
        let got = conv.forward(&x)?;
        // Reference: temporal conv on each channel (PyTorch's conv_time), then spatial.
        let wt = conv.time_weight.to_vec2::<f64>()?; // [F, K]
        let ws = conv.spat_weight.to_vec3::<f64>()?; // [G, F, C]
        let bt = time_bias.to_vec1::<f64>()?;
        let xv = x.to_vec3::<f64>()?;
        let t_out = t - k + 1;
        let got = got.to_vec3::<f64>()?;
        for b in 0..2 {
            for gi in 0..g {
                for ti in 0..t_out {
                    let mut want = 0.0;
                    for fi in 0..f {
                        for ci in 0..c {
                            let temporal: f64 = (0..k)
                                .map(|ki| wt[fi][ki] * xv[b][ci][ti + ki])
                                .sum::<f64>()
                                + bt[fi];
                            want += ws[gi][fi][ci] * temporal;
                        }
                    }
                    assert!(
                        (got[b][gi][ti] - want).abs() < 1e-10,
                        "{b} {gi} {ti}: {} vs {want}",
                        got[b][gi][ti]
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("shallow") else {
            panic!()
        };
        // conv_time.bias only shifts the batch-norm input: zero gradient in training mode.
        assert_every_var_gets_gradient(&spec, &shape(3, 128, 2), &["conv_time.bias"])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        assert_overfits(&spec_without_dropout(), 4, 128, 1e-2, 100).map(|_| ())
    }

    /// `input` at `rate_hz`.
    fn at(mut input: InputShape, rate_hz: f64) -> InputShape {
        input.rate_hz = rate_hz;
        input
    }

    #[test]
    fn sized_kernel_and_pooling_keep_their_duration_at_every_rate() {
        let spec = ShallowConfig::default();
        for (rate, kernel, pool, stride) in
            [(125.0, 13, 38, 8), (250.0, 25, 75, 15), (500.0, 50, 150, 30), (128.0, 13, 38, 8)]
        {
            let input = at(shape(3, (4.0 * rate) as usize, 2), rate);
            let (sized, notes) = spec.sized_for(&input);
            assert_eq!(
                (sized.filter_time_length, sized.pool_time_length, sized.pool_time_stride),
                (kernel, pool, stride),
                "{rate} Hz"
            );
            assert_eq!(notes.len(), 3, "{notes:?}");
            let built = build_cpu(&ModelSpec::new(spec.clone()), &input, 0);
            // Receptive field: kernel + pooling - 1, about 0.4 s at every rate.
            assert_eq!(built.summary.receptive_field_samples, kernel + pool - 1);
            assert!((built.summary.receptive_field_ms - 396.0).abs() < 15.0, "{rate}");
        }
    }

    #[test]
    fn sized_tiny_windows_build_and_old_runs_keep_their_shapes() -> std::result::Result<(), serde_json::Error> {
        let spec = ModelSpec::new(ShallowConfig::default());
        for samples in [3, 30, 98] {
            let built = build_cpu(&spec, &at(shape(2, samples, 2), 250.0), 0);
            assert!(
                built.summary.sizing.iter().any(|n| n.contains("keeps at least one time step")),
                "{samples}: {:?}",
                built.summary.sizing
            );
        }
        let mut saved = serde_json::json!({"kind": "shallow"});
        crate::model::settings_before_sizing(&mut saved);
        let old: ModelSpec = serde_json::from_value(saved)?;
        let built = build_cpu(&old, &at(shape(2, 1000, 2), 500.0), 0);
        assert!(built.summary.sizing.is_empty());
        assert_eq!(built.summary.receptive_field_samples, 99);
        Ok(())
    }
}
