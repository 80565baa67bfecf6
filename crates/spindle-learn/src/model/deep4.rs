//! Deep4Net, the "deep ConvNet" (Schirrmeister et al. 2017), as braindecode's
//! `Deep4Net` with its defaults.
//!
//! ```text
//! x [B, C, T]
//! conv_time     F temporal filters (10 samples), bias      } merged into one
//! conv_spat     G spatial filters over F x C, no bias      } convolution
//! bnorm, ELU, max-pool 3 (stride 3)
//! block i = 2, 3, 4:
//!   dropout 0.5
//!   conv_i      N_i filters (10 samples) over all previous filters, no bias
//!   bnorm_i, ELU, max-pool 3 (stride 3)
//! final_layer   conv over all remaining time = linear on the flattened features, bias
//! ```
//!
//! Sized to the data by default (`size_to_window`): the paper's kernels are
//! samples at 250 Hz (10 = 40 ms in the first layer; 10 pooled samples in
//! blocks 2 to 4); sized, all four keep their durations at the data's rate
//! (braindecode does not scale them: every block's rate scales alike, so
//! one factor keeps every block's span), and the pooling, then the
//! kernels, shrink when a window is too short for one step. Runs made
//! before the setting existed read it as off and rebuild as they were.
//!
//! As braindecode (`split_first_layer=True`) there is no nonlinearity between
//! the temporal and the spatial convolution, so they run as one
//! ([`TimeSpaceConv`], shared with ShallowFBCSPNet). Every convolution is
//! unpadded with stride 1 and pools follow it (`stride_before_pool=False`).
//! braindecode's log-softmax is left out: the trainer takes logits. Where
//! braindecode silently shrinks every kernel for windows shorter than the
//! network needs, `build` refuses them and names the minimum length.
//! Max pooling runs with stride == window (braindecode's defaults, 3 and 3).

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use spindle_kernels::bn_act_pool::{Act, Pool};

use super::conv::{Conv1d, Padding, WeightInit};
use super::dense::{Dense, dropout};
use super::init::glorot;
use super::norm::BatchNorm;
use super::pool::max_pool1d;
use super::registry::{DROPOUT_HELP, dropout as dropout_param, int, no_advice};
use super::shallow::TimeSpaceConv;
use super::spec::too_short;
use super::summary::{ReceptiveField, Trace, valid_len};
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "deep4",
    aliases: &["deep4net"],
    title: "Deep4Net (deep ConvNet)",
    family: Family::Convolutional,
    description: "Deep CNN for EEG (Schirrmeister et al. 2017): temporal and spatial filters, then three more convolution and max-pooling blocks (50, 100, 200 filters) that combine them into longer and more abstract patterns. More capacity than ShallowConvNet or EEGNet, so choose it when there are many trials (hundreds per class) and the others underfit; it needs windows of at least 441 samples with its defaults (1.8 s at 250 Hz).",
    kind: Kind::of::<Deep4Config>(),
    fixed: "{}",
    advise: no_advice,
    params: &[
        int(
            "n_filters_time",
            "temporal filters",
            "frequency filters learned in the first layer",
            1.0,
            128.0,
        ),
        int(
            "filter_time_length",
            "temporal kernel (samples)",
            "length of each first-layer frequency filter",
            2.0,
            128.0,
        ),
        int(
            "n_filters_spat",
            "spatial filters",
            "electrode weightings learned in the first layer",
            1.0,
            128.0,
        ),
        int(
            "pool_time_length",
            "pooling window (samples)",
            "each block keeps the largest value of every window this long; must equal the pooling stride",
            1.0,
            8.0,
        ),
        int(
            "pool_time_stride",
            "pooling stride (samples)",
            "each block shortens time by this factor; must equal the pooling window",
            1.0,
            8.0,
        ),
        int(
            "n_filters_2",
            "block 2 filters",
            "patterns learned by the second block",
            1.0,
            512.0,
        ),
        int(
            "filter_length_2",
            "block 2 kernel (samples)",
            "how many pooled steps each second-block filter spans",
            1.0,
            64.0,
        ),
        int(
            "n_filters_3",
            "block 3 filters",
            "patterns learned by the third block",
            1.0,
            512.0,
        ),
        int(
            "filter_length_3",
            "block 3 kernel (samples)",
            "how many pooled steps each third-block filter spans",
            1.0,
            64.0,
        ),
        int(
            "n_filters_4",
            "block 4 filters",
            "patterns learned by the fourth block",
            1.0,
            1024.0,
        ),
        int(
            "filter_length_4",
            "block 4 kernel (samples)",
            "how many pooled steps each fourth-block filter spans",
            1.0,
            64.0,
        ),
        super::sizing::size_to_window_param(
            "keep the kernels' durations (given at 250 Hz) at the data's rate, and shrink the pooling, then the kernels, for short windows; off: samples as given",
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

/// The rate at which Deep4's kernels are given (the paper's 250 Hz).
pub const REFERENCE_RATE_HZ: f64 = 250.0;

/// Deep4Net as in braindecode (JSON kind `deep4`), with braindecode's
/// defaults: ELU after every batch norm, max pooling, split first layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Deep4Config {
    /// Temporal filters of the first layer (default 25).
    pub n_filters_time: usize,
    /// Temporal kernel of the first layer in samples (default 10).
    pub filter_time_length: usize,
    /// Spatial filters of the first layer (default 25).
    pub n_filters_spat: usize,
    /// Max-pool window in samples after every block (default 3).
    pub pool_time_length: usize,
    /// Max-pool stride in samples after every block (default 3; must equal
    /// `pool_time_length`).
    pub pool_time_stride: usize,
    /// Filters of block 2 (default 50).
    pub n_filters_2: usize,
    /// Kernel of block 2 in (pooled) samples (default 10).
    pub filter_length_2: usize,
    /// Filters of block 3 (default 100).
    pub n_filters_3: usize,
    /// Kernel of block 3 in (pooled) samples (default 10).
    pub filter_length_3: usize,
    /// Filters of block 4 (default 200).
    pub n_filters_4: usize,
    /// Kernel of block 4 in (pooled) samples (default 10).
    pub filter_length_4: usize,
    /// Dropout probability before blocks 2, 3 and 4 (braindecode's
    /// `drop_prob`, default 0.5).
    pub dropout: f64,
    /// Batch-norm momentum, PyTorch convention (braindecode's
    /// `batch_norm_alpha`, default 0.1).
    pub batch_norm_momentum: f64,
    /// Batch-norm epsilon (default 1e-5).
    pub batch_norm_eps: f64,
    /// Read the kernels as samples at [`REFERENCE_RATE_HZ`] and keep their
    /// durations at the data's rate; shrink the pooling and the kernels for
    /// short windows (default on; runs made before it existed read as off).
    pub size_to_window: bool,
}

impl Default for Deep4Config {
    fn default() -> Self {
        Self {
            n_filters_time: 25,
            filter_time_length: 10,
            n_filters_spat: 25,
            pool_time_length: 3,
            pool_time_stride: 3,
            n_filters_2: 50,
            filter_length_2: 10,
            n_filters_3: 100,
            filter_length_3: 10,
            n_filters_4: 200,
            filter_length_4: 10,
            dropout: 0.5,
            batch_norm_momentum: 0.1,
            batch_norm_eps: 1e-5,
            size_to_window: true,
        }
    }
}

impl Deep4Config {
    /// `(filters, kernel)` of blocks 2, 3 and 4.
    fn later_blocks(&self) -> [(usize, usize); 3] {
        [
            (self.n_filters_2, self.filter_length_2),
            (self.n_filters_3, self.filter_length_3),
            (self.n_filters_4, self.filter_length_4),
        ]
    }

    /// The temporal kernel of each of the four blocks, first layer included.
    fn kernels(&self) -> [usize; 4] {
        let [(_, k2), (_, k3), (_, k4)] = self.later_blocks();
        [self.filter_time_length, k2, k3, k4]
    }
}

impl Hyper for Deep4Config {
    const KIND: &'static str = "deep4";

    fn display_name(&self) -> String {
        format!(
            "Deep4Net ({}-{}-{}-{})",
            self.n_filters_spat, self.n_filters_2, self.n_filters_3, self.n_filters_4
        )
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::positive("n_filters_time", self.n_filters_time)?;
        check::positive("filter_time_length", self.filter_time_length)?;
        check::positive("n_filters_spat", self.n_filters_spat)?;
        check::positive("pool_time_length", self.pool_time_length)?;
        check::positive("pool_time_stride", self.pool_time_stride)?;
        if self.pool_time_stride != self.pool_time_length {
            return Err(format!(
                "pool_time_stride must equal pool_time_length (max pooling runs with stride == window here), got window {} and stride {}",
                self.pool_time_length, self.pool_time_stride
            ));
        }
        check::positive("n_filters_2", self.n_filters_2)?;
        check::positive("filter_length_2", self.filter_length_2)?;
        check::positive("n_filters_3", self.n_filters_3)?;
        check::positive("filter_length_3", self.filter_length_3)?;
        check::positive("n_filters_4", self.n_filters_4)?;
        check::positive("filter_length_4", self.filter_length_4)?;
        check::probability("dropout", self.dropout)?;
        check::batch_norm(self.batch_norm_momentum, self.batch_norm_eps)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        self.kernels().iter().try_fold(samples, |t, &kernel| {
            let t = valid_len(t, kernel, 1)?;
            valid_len(t, self.pool_time_length, self.pool_time_stride)
        })
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(Deep4::new(vb, self, input)?))
    }

    fn sized_for(&self, input: &InputShape) -> (Self, Vec<String>) {
        use super::sizing::{halve, kernel_note, scale_samples, shrink_until_fits, shrunk_note};
        if !self.size_to_window {
            return (self.clone(), Vec::new());
        }
        let (rate, reference) = (input.rate_hz, REFERENCE_RATE_HZ);
        let later = |k: usize| scale_samples(k, reference, rate, 1, 64);
        let mut c = Self {
            filter_time_length: scale_samples(self.filter_time_length, reference, rate, 2, 128),
            filter_length_2: later(self.filter_length_2),
            filter_length_3: later(self.filter_length_3),
            filter_length_4: later(self.filter_length_4),
            size_to_window: false,
            ..self.clone()
        };
        let (kernels, pool) = (c.kernels(), c.pool_time_length);
        shrink_until_fits(
            &mut c,
            |c| c.feature_len(input.samples).is_some(),
            &[
                |c| {
                    let shrunk = halve(&mut c.pool_time_length);
                    c.pool_time_stride = c.pool_time_length;
                    shrunk
                },
                |c| halve(&mut c.filter_length_4),
                |c| halve(&mut c.filter_length_3),
                |c| halve(&mut c.filter_length_2),
                |c| halve(&mut c.filter_time_length),
            ],
        );
        let mut notes = vec![
            kernel_note("temporal kernel", kernels[0], rate, self.filter_time_length, reference),
            format!(
                "block kernels {}, {}, {} pooled samples (sized to the rate: {}, {}, {} at {reference:.0} Hz as given)",
                kernels[1],
                kernels[2],
                kernels[3],
                self.filter_length_2,
                self.filter_length_3,
                self.filter_length_4
            ),
        ];
        notes.extend(shrunk_note("pooling", pool, c.pool_time_length, input.samples));
        for (i, (before, after)) in kernels.iter().zip(c.kernels()).enumerate() {
            notes.extend(shrunk_note(
                &format!("block {} kernel", i + 1),
                *before,
                after,
                input.samples,
            ));
        }
        (c, notes)
    }
}

/// Batch norm, ELU and max pool of `x` `[B, F, L] -> [B, F, L / pool]`:
/// one fused kernel on the CPU in f32 when nothing is traced, candle's ops
/// (recording `bn_name` and `pool_name`) otherwise.
fn bn_elu_max_pool(
    bn: &BatchNorm,
    x: &Tensor,
    pool: usize,
    train: bool,
    t: &mut Trace,
    (bn_name, pool_name): (&str, &str),
) -> Result<Tensor> {
    if t.is_off() && spindle_kernels::is_cpu_f32(x) {
        let pool = if pool > 1 {
            Pool::Max(pool)
        } else {
            Pool::None
        };
        return bn.forward_act_pool(x, train, Act::Elu, pool);
    }
    let x = bn.forward_t(x, train)?.elu(1.0)?; // [B, F, L]
    t.record(bn_name, &x, bn.params());
    let x = max_pool1d(&x, pool)?; // [B, F, L / pool]
    t.record(pool_name, &x, 0);
    Ok(x)
}

/// One of blocks 2 to 4: dropout, convolution (no bias), batch norm, ELU, max pool.
#[derive(Debug, Clone)]
struct Block {
    conv: Conv1d,
    bnorm: BatchNorm,
    /// `(drop+conv, bnorm+nonlin, pool)` layer names for the summary.
    names: [String; 3],
}

/// Deep4Net; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct Deep4 {
    conv_time_spat: TimeSpaceConv,
    bnorm: BatchNorm,
    blocks: Vec<Block>,
    final_layer: Dense,
    config: Deep4Config,
}

impl Deep4 {
    /// Builds the layers under `vb` with braindecode's names (`conv_time`,
    /// `conv_spat`, `bnorm`, `conv_2`, `bnorm_2`, ..., `final_layer.conv_classifier`).
    pub fn new(
        vb: VarBuilder,
        config: &Deep4Config,
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
        let mut blocks = Vec::with_capacity(3);
        let mut in_filters = c.n_filters_spat;
        for (i, (filters, kernel)) in (2..).zip(c.later_blocks()) {
            let conv = Conv1d::new(
                vb.pp(format!("conv_{i}")),
                in_filters,
                filters,
                kernel,
                1,
                Padding::Valid,
                false,
                WeightInit::Glorot,
            )?;
            let bnorm = BatchNorm::new(
                vb.pp(format!("bnorm_{i}")),
                filters,
                c.batch_norm_eps,
                c.batch_norm_momentum,
            )?;
            let names = [
                format!("drop_{i}+conv_{i}"),
                format!("bnorm_{i}+nonlin_{i}"),
                format!("pool_{i}"),
            ];
            blocks.push(Block { conv, bnorm, names });
            in_filters = filters;
        }
        let final_layer = Dense::with_init(
            vb.pp("final_layer").pp("conv_classifier"),
            in_filters * t_final,
            input.n_outputs,
            glorot(in_filters * t_final, input.n_outputs * t_final),
            candle_nn::Init::Const(0.0),
        )?;
        Ok(Self {
            conv_time_spat,
            bnorm,
            blocks,
            final_layer,
            config: c,
        })
    }
}

impl Traced for Deep4 {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let c = &self.config;
        let pool = c.pool_time_length;
        let x = self.conv_time_spat.forward(x)?; // [B, G, T - K + 1]
        t.record("conv_time+conv_spat", &x, self.conv_time_spat.params());
        let mut x = bn_elu_max_pool(
            &self.bnorm,
            &x,
            pool,
            train,
            t,
            ("bnorm+conv_nonlin", "pool"),
        )?; // [B, G, L1 = (T - K + 1) / pool]
        for block in &self.blocks {
            let [conv_name, bn_name, pool_name] = &block.names;
            let dropped = dropout(&x, c.dropout, train)?;
            let y = block.conv.forward(&dropped)?; // [B, N_i, L - K_i + 1]
            t.record(conv_name, &y, block.conv.params());
            x = bn_elu_max_pool(&block.bnorm, &y, pool, train, t, (bn_name, pool_name))?; // [B, N_i, (L - K_i + 1) / pool]
        }
        let x = t.feature_map(&x)?;
        t.head_input(&x)?;
        let x = self.final_layer.forward(&x.flatten_from(1)?)?; // [B, n_outputs]
        t.record("final_layer", &x, self.final_layer.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        let c = &self.config;
        c.kernels()
            .iter()
            .fold(ReceptiveField::new(), |rf, &kernel| {
                rf.then(kernel, 1)
                    .then(c.pool_time_length, c.pool_time_stride)
            })
            .samples
    }
}

impl Network for Deep4 {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_traced(x, train, &mut Trace::off())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::{ModelSpec, build};
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn spec_without_dropout() -> ModelSpec {
        ModelSpec::new(Deep4Config {
            dropout: 0.0,
            ..Deep4Config::default()
        })
    }

    /// braindecode 1.8.1: `sum(p.numel() for p in
    /// Deep4Net(n_chans=22, n_outputs=4, n_times=1000).parameters())`.
    #[test]
    fn standard_config_has_braindecode_parameter_count() {
        assert_param_count("deep4", &shape(22, 1000, 4), 282_879);
    }

    #[test]
    fn summary_shapes_and_receptive_field() {
        let Some(spec) = ModelSpec::by_name("deep4") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(22, 1000, 4), 0);
        let layers: Vec<(&str, &[usize])> = built
            .summary
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.output_shape.as_slice()))
            .collect();
        assert_eq!(
            layers,
            vec![
                ("conv_time+conv_spat", &[25, 991][..]),
                ("bnorm+conv_nonlin", &[25, 991]),
                ("pool", &[25, 330]),
                ("drop_2+conv_2", &[50, 321]),
                ("bnorm_2+nonlin_2", &[50, 321]),
                ("pool_2", &[50, 107]),
                ("drop_3+conv_3", &[100, 98]),
                ("bnorm_3+nonlin_3", &[100, 98]),
                ("pool_3", &[100, 32]),
                ("drop_4+conv_4", &[200, 23]),
                ("bnorm_4+nonlin_4", &[200, 23]),
                ("pool_4", &[200, 7]),
                ("final_layer", &[4]),
            ]
        );
        // 10 + 2, then 9 * 3 + 2 * 3, 9 * 9 + 2 * 9, 9 * 27 + 2 * 27 samples.
        assert_eq!(built.summary.receptive_field_samples, 441);
        assert_eq!(spec.min_samples(), 441);
    }

    #[test]
    fn too_short_windows_name_the_minimum_length() {
        let spec = ModelSpec::new(Deep4Config {
            size_to_window: false,
            ..Deep4Config::default()
        });
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        match build(&spec, &shape(4, 440, 2), vb) {
            Err(
                e @ ModelError::InputTooShort {
                    samples: 440,
                    min_samples: 441,
                    ..
                },
            ) => assert!(e.to_string().contains("441"), "{e}"),
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("440 samples accepted"),
        }
        // Blink's trials: 2 s at 255 Hz.
        assert_output_shape(&spec, &shape(4, 510, 2), 3).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn unequal_pool_window_and_stride_are_rejected() {
        let spec = ModelSpec::new(Deep4Config {
            pool_time_stride: 2,
            ..Deep4Config::default()
        });
        let Err(e) = spec.validate() else {
            panic!("stride 2 with window 3 accepted")
        };
        assert!(e.to_string().contains("pool_time_stride"), "{e}");
    }

    #[test]
    fn output_shape() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("deep4") else {
            panic!()
        };
        assert_output_shape(&spec, &shape(3, 450, 3), 4)
    }

    #[test]
    fn fused_and_traced_paths_agree() -> Result<()> {
        // Traced, candle's ops run; untraced on the CPU in f32, the fused kernels.
        let vm = VarMap::new();
        let vb = crate::model::seeded_var_builder(&vm, DType::F32, &Device::Cpu, 4);
        let config = Deep4Config {
            dropout: 0.0, // the same masks are not drawn twice
            ..Deep4Config::default()
        };
        let net = match Deep4::new(vb, &config, &shape(3, 500, 2)) {
            Ok(net) => net,
            Err(e) => panic!("{e}"),
        };
        let x = Tensor::randn(0f32, 1., (2, 3, 500), &Device::Cpu)?;
        for train in [true, false] {
            let fused = net.forward_t(&x, train)?;
            let traced = net.forward_traced(&x, train, &mut Trace::on())?;
            let diff = (fused - traced)?
                .abs()?
                .flatten_all()?
                .max(0)?
                .to_scalar::<f32>()?;
            assert!(diff < 1e-4, "train={train}: {diff}");
        }
        Ok(())
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("deep4") else {
            panic!()
        };
        // conv_time.bias only shifts the batch-norm input: zero gradient in training mode.
        assert_every_var_gets_gradient(&spec, &shape(3, 450, 2), &["conv_time.bias"])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        assert_overfits(&spec_without_dropout(), 4, 480, 1e-3, 100).map(|_| ())
    }

    /// `input` at `rate_hz`.
    fn at(mut input: InputShape, rate_hz: f64) -> InputShape {
        input.rate_hz = rate_hz;
        input
    }

    #[test]
    fn sized_kernels_keep_their_duration_at_every_rate() {
        let spec = Deep4Config::default();
        let mut field_ms = Vec::new();
        for (rate, kernel) in [(125.0, 5), (250.0, 10), (500.0, 20)] {
            let input = at(shape(3, (8.0 * rate) as usize, 2), rate);
            let (sized, notes) = spec.sized_for(&input);
            assert_eq!(sized.kernels(), [kernel; 4], "{rate} Hz");
            assert_eq!(sized.pool_time_length, 3);
            assert_eq!(notes.len(), 2, "{notes:?}");
            let built = build_cpu(&ModelSpec::new(spec.clone()), &input, 0);
            field_ms.push(built.summary.receptive_field_ms);
        }
        // 441 samples at 250 Hz; within a tenth at the other rates (the
        // 3-sample poolings, which stay, add 2 samples per block).
        assert!((field_ms[1] - 1764.0).abs() < 1e-6, "{field_ms:?}");
        for ms in &field_ms {
            assert!((ms - field_ms[1]).abs() < 0.1 * field_ms[1], "{field_ms:?}");
        }
    }

    #[test]
    fn sized_tiny_windows_build_and_old_runs_keep_their_shapes() -> std::result::Result<(), serde_json::Error> {
        let spec = ModelSpec::new(Deep4Config::default());
        for samples in [8, 60, 250] {
            let built = build_cpu(&spec, &at(shape(2, samples, 2), 250.0), 0);
            assert!(
                built.summary.sizing.iter().any(|n| n.contains("keeps at least one time step")),
                "{samples}: {:?}",
                built.summary.sizing
            );
        }
        let mut saved = serde_json::json!({"kind": "deep4"});
        crate::model::settings_before_sizing(&mut saved);
        let old: ModelSpec = serde_json::from_value(saved)?;
        let built = build_cpu(&old, &at(shape(2, 1000, 2), 500.0), 0);
        assert!(built.summary.sizing.is_empty());
        assert_eq!(built.summary.receptive_field_samples, 441);
        Ok(())
    }
}
