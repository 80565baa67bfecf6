//! A plain 1-D CNN for multichannel windows: a sensible first model for EEG.
//!
//! ```text
//! x [B, C, T]
//! block{i}   conv (kernel k, 'same' padding, no bias) + batch norm + ReLU + max-pool p
//! global average pool over time, dropout
//! fc         linear to n_outputs
//! ```
//!
//! Sized to the window by default (`size_to_window`): the pooling grows
//! from `pool` until the receptive field covers at least a quarter of the
//! window (`sized_pool`), so a 2-s blink at 250 Hz is seen whole by the last
//! block instead of through a 50-sample keyhole. Runs made before the
//! setting existed read it as off and rebuild as they were.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::{Padding, WeightInit};
use super::dense::{Dense, dropout};
use super::m5::ConvBlock;
use super::pool::global_avg_pool;
use super::summary::{ReceptiveField, Trace, pooled_len};
use super::registry::{WindowFacts, DROPOUT_HELP, dropout as dropout_param, int, list};
use super::{Architecture, Family, Hyper, HyperParam, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "cnn1d",
    aliases: &[],
    title: "1-D CNN",
    family: Family::Convolutional,
    description: "A plain stack of convolution, batch norm, ReLU and max pooling blocks over time. A simple baseline for short EEG windows; for raw audio choose M5, whose strided first layer suits thousands of samples per window.",
    kind: Kind::of::<Cnn1dConfig>(),
    fixed: "{}",
    advise: audio_advice,
    params: &[
        list(
            "filters",
            "filters per block",
            "one number per block, e.g. 32,64,64",
            512.0,
        ),
        SAME_CONV_KERNEL,
        SAME_CONV_POOL,
        super::sizing::size_to_window_param(
            "grow the pooling until the receptive field covers a quarter of the window; off: kernel and pooling as given",
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

/// Largest pooling `size_to_window` chooses.
const MAX_SIZED_POOL: usize = 8;

/// The receptive field in samples of `blocks` blocks of a 'same'
/// convolution of `kernel` followed by a max pool of `pool`.
pub(crate) fn stack_receptive_field(blocks: usize, kernel: usize, pool: usize) -> usize {
    (0..blocks)
        .fold(ReceptiveField::new(), |rf, _| {
            rf.then(kernel, 1).then(pool, pool)
        })
        .samples
}

/// The smallest pooling from `pool` up to `MAX_SIZED_POOL` whose receptive
/// field covers at least a quarter of `samples` while leaving at least one
/// step after the last block; `pool` itself when none is needed or none fits.
pub(crate) fn sized_pool(blocks: usize, kernel: usize, pool: usize, samples: usize) -> usize {
    let fits = |p: usize| {
        p.checked_pow(blocks as u32)
            .is_some_and(|shrink| shrink <= samples)
    };
    let mut best = pool;
    for p in pool..=MAX_SIZED_POOL.max(pool) {
        if !fits(p) {
            break;
        }
        best = p;
        if 4 * stack_receptive_field(blocks, kernel, p) >= samples {
            break;
        }
    }
    best
}

/// The kernel setting of a [`SameConvStack`] (1-D CNN, CRNN).
pub(crate) const SAME_CONV_KERNEL: HyperParam = int(
    "kernel",
    "kernel (samples)",
    "length of each convolution",
    1.0,
    256.0,
);

/// The pooling setting of a [`SameConvStack`] (1-D CNN, CRNN).
pub(crate) const SAME_CONV_POOL: HyperParam = int(
    "pool",
    "pooling (samples)",
    "time shortened by this factor after each block",
    1.0,
    16.0,
);

/// On raw audio a stack of short 'same' convolutions sees a few milliseconds
/// at a time and learns slowly (0.75 after 30 epochs on the bundled calls,
/// where M5 reaches 1.00); the CRNN's front end is the same stack.
pub(crate) fn short_kernels_on_audio(model: &str, window: &WindowFacts) -> Option<String> {
    (window.is_audio() && window.steps > 2000).then(|| {
        format!(
            "On raw audio ({} samples per window) the {model}'s short kernels see only a few milliseconds each and learn slowly; choose M5, whose long strided first layer is made for waveforms.",
            window.steps
        )
    })
}

fn audio_advice(window: &WindowFacts) -> Option<String> {
    short_kernels_on_audio("1-D CNN", window)
}

/// Blocks of convolution + batch norm + ReLU + max pool, global average pool,
/// dropout, linear output (JSON kind `cnn1d`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Cnn1dConfig {
    /// Filters of each block (default `[32, 64, 64]`).
    pub filters: Vec<usize>,
    /// Convolution kernel in samples, 'same' padding (default 7).
    pub kernel: usize,
    /// Max-pool size (kernel == stride) after each block (default 2).
    pub pool: usize,
    /// Dropout probability before the output layer (default 0.25).
    pub dropout: f64,
    /// Grow the pooling with the window, from `pool` up to 8, until the receptive
    /// field covers a quarter of the window (default on;
    /// runs made before it existed read as off, see
    /// [`settings_before_sizing`](super::settings_before_sizing)).
    pub size_to_window: bool,
}

impl Default for Cnn1dConfig {
    fn default() -> Self {
        Self {
            filters: vec![32, 64, 64],
            kernel: 7,
            pool: 2,
            dropout: 0.25,
            size_to_window: true,
        }
    }
}

impl Cnn1dConfig {
    /// The pooling used on windows of `samples` samples.
    pub fn pool_for(&self, samples: usize) -> usize {
        if self.size_to_window {
            sized_pool(self.filters.len(), self.kernel, self.pool, samples)
        } else {
            self.pool
        }
    }
}

impl Hyper for Cnn1dConfig {
    const KIND: &'static str = "cnn1d";

    fn display_name(&self) -> String {
        let widths: Vec<String> = self.filters.iter().map(ToString::to_string).collect();
        format!(
            "CNN1d ({}, kernel {}{})",
            widths.join("-"),
            self.kernel,
            if self.size_to_window {
                ", pooling sized to the window"
            } else {
                ""
            }
        )
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::widths("filters", &self.filters)?;
        check::positive("kernel", self.kernel)?;
        check::positive("pool", self.pool)?;
        check::probability("dropout", self.dropout)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        SameConvStack::feature_len(self.filters.len(), self.pool_for(samples), samples)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(Cnn1d::new(vb, self, input)?))
    }

    fn sized_for(&self, input: &InputShape) -> (Self, Vec<String>) {
        if !self.size_to_window {
            return (self.clone(), Vec::new());
        }
        let pool = self.pool_for(input.samples);
        let rf = stack_receptive_field(self.filters.len(), self.kernel, pool);
        let note = format!(
            "pooling {pool} per block{}: receptive field {rf} samples = {} of the {}-sample window (sized to the window: at least a quarter, pooling at most {MAX_SIZED_POOL})",
            if pool == self.pool {
                String::new()
            } else {
                format!(" instead of {}", self.pool)
            },
            super::sizing::seconds(rf, input.rate_hz),
            input.samples
        );
        let sized = Self {
            pool,
            size_to_window: false,
            ..self.clone()
        };
        (sized, vec![note])
    }
}

/// Blocks of 'same' convolution (no bias) + batch norm + ReLU + max pool,
/// each dividing time by the pool: the 1-D CNN's body and the CRNN's front end.
#[derive(Debug, Clone)]
pub struct SameConvStack {
    blocks: Vec<ConvBlock>,
    out_channels: usize,
}

impl SameConvStack {
    /// Creates one block per entry of `filters` under `vb` (`block{i}.conv`,
    /// `block{i}.bn`), the first reading `in_channels`.
    pub fn new(
        vb: &VarBuilder,
        in_channels: usize,
        filters: &[usize],
        kernel: usize,
        pool: usize,
    ) -> Result<Self> {
        let mut blocks = Vec::with_capacity(filters.len());
        let mut width = in_channels;
        for (i, &out) in filters.iter().enumerate() {
            let vb = vb.pp(format!("block{i}"));
            blocks.push(ConvBlock::new(
                vb.pp("conv"),
                vb.pp("bn"),
                width,
                out,
                kernel,
                1,
                Padding::Same,
                false,
                pool,
            )?);
            width = out;
        }
        Ok(Self {
            blocks,
            out_channels: width,
        })
    }

    /// Channels of the last block's output.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// Time steps left of `samples` after `blocks` blocks pooling by `pool`.
    pub fn feature_len(blocks: usize, pool: usize, samples: usize) -> Option<usize> {
        let mut t = (samples >= 1).then_some(samples)?;
        for _ in 0..blocks {
            t = pooled_len(t, pool)?; // 'same' convolutions keep the length
        }
        Some(t)
    }

    /// `[B, C, T] -> [B, out_channels, T / pool^blocks]`, recording each block.
    pub(crate) fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let mut x = x.clone(); // [B, C, T]
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward_t(&x, train)?; // [B, filters[i], T / pool^(i+1)]
            t.record(&format!("block{i}"), &x, block.params());
        }
        Ok(x)
    }
}

/// The configurable CNN; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct Cnn1d {
    body: SameConvStack,
    fc: Dense,
    config: Cnn1dConfig,
    /// The pooling chosen for the input's windows.
    pool: usize,
}

impl Cnn1d {
    /// Builds the layers under `vb` (`block{i}.conv`, `block{i}.bn`, `fc`).
    pub fn new(
        vb: VarBuilder,
        config: &Cnn1dConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let c = config.clone();
        let pool = c.pool_for(input.samples);
        let body = SameConvStack::new(&vb, input.channels, &c.filters, c.kernel, pool)?;
        let fc = Dense::new(
            vb.pp("fc"),
            body.out_channels(),
            input.n_outputs,
            WeightInit::Torch,
        )?;
        Ok(Self {
            body,
            fc,
            config: c,
            pool,
        })
    }
}

impl Traced for Cnn1d {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let x = self.body.forward_traced(x, train, t)?; // [B, filters[last], T']
        let x = t.feature_map(&x)?;
        let x = global_avg_pool(&x)?; // [B, filters[last]]
        let x = dropout(&x, self.config.dropout, train)?;
        t.record("global_avg_pool+dropout", &x, 0);
        t.head_input(&x)?;
        let x = self.fc.forward(&x)?; // [B, n_outputs]
        t.record("fc", &x, self.fc.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        stack_receptive_field(self.config.filters.len(), self.config.kernel, self.pool)
    }
}

impl Network for Cnn1d {
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
    fn shapes_parameters_and_receptive_field() {
        let Some(spec) = ModelSpec::by_name("cnn1d") else {
            panic!()
        };
        let unsized_spec = ModelSpec::new(Cnn1dConfig {
            size_to_window: false,
            ..Cnn1dConfig::default()
        });
        let built = build_cpu(&unsized_spec, &shape(4, 128, 3), 0);
        let shapes: Vec<&[usize]> = built
            .summary
            .layers
            .iter()
            .map(|l| l.output_shape.as_slice())
            .collect();
        assert_eq!(
            shapes,
            vec![&[32, 64][..], &[64, 32], &[64, 16], &[64], &[3]]
        );
        // (4*7*32 + 64) + (32*7*64 + 128) + (64*7*64 + 128) + (64*3 + 3)
        assert_eq!(built.summary.trainable_params, 960 + 14_464 + 28_800 + 195);
        // 7 + 1 + 6*2 + 1*2 + 6*4 + 1*4 samples.
        assert_eq!(built.summary.receptive_field_samples, 50);
        assert_eq!(unsized_spec.min_samples(), 8);
        assert_eq!(spec.min_samples(), 8);
    }

    #[test]
    fn the_receptive_field_covers_a_quarter_of_a_two_second_window() {
        let Some(spec) = ModelSpec::by_name("cnn1d") else {
            panic!()
        };
        // 2 s at 250 Hz.
        let built = build_cpu(&spec, &shape(4, 500, 2), 0);
        let rf = built.summary.receptive_field_samples;
        assert_eq!(rf, 190);
        assert!(4 * rf >= 500, "receptive field {rf} of 500 samples");
        assert!(rf < 500 * 2, "not absurdly larger: {rf}");
        // Short windows keep the configured pooling.
        assert_eq!(Cnn1dConfig::default().pool_for(128), 2);
        assert_eq!(Cnn1dConfig::default().pool_for(500), 4);
        // A run.json's model from before the setting reads it as off.
        let mut saved = serde_json::json!(
            {"kind":"cnn1d","filters":[32,64,64],"kernel":7,"pool":2,"dropout":0.25}
        );
        crate::model::settings_before_sizing(&mut saved);
        let Ok(old) = serde_json::from_value::<ModelSpec>(saved) else {
            panic!("an old cnn1d spec reads")
        };
        assert_eq!(serde_json::to_value(&old).ok().and_then(|v| v["size_to_window"].as_bool()), Some(false));
    }

    #[test]
    fn output_shape() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("cnn1d") else {
            panic!()
        };
        assert_output_shape(&spec, &shape(4, 50, 2), 3)
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("cnn1d") else {
            panic!()
        };
        assert_every_var_gets_gradient(&spec, &shape(3, 40, 2), &[])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        let spec = ModelSpec::new(Cnn1dConfig {
            filters: vec![16, 16],
            kernel: 7,
            pool: 2,
            dropout: 0.0,
            size_to_window: false,
        });
        assert_overfits(&spec, 4, 128, 1e-2, 100).map(|_| ())
    }
}
