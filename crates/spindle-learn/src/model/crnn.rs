//! A convolutional-recurrent network for long raw windows, in the spirit of
//! ChronoNet (Roy et al. 2019) and DeepSleepNet (Supratak et al. 2017).
//!
//! ```text
//! x [B, C, T]
//! block{i}   conv (kernel k, 'same' padding, no bias) + batch norm + ReLU + max-pool p
//!            -> [B, filters[last], T / p^blocks]: fewer, richer time steps
//! rnn        (bidirectional) GRU/LSTM over those steps, read out at the ends
//! dropout, fc linear to n_outputs
//! ```
//!
//! A recurrent network on a raw window of hundreds of samples has to carry
//! what it saw through hundreds of steps and does not learn (plain LSTM/GRU
//! stay at chance on 510-sample blink windows, in PyTorch as here). The
//! convolutions first turn every few samples into one feature vector, so the
//! recurrent layer reads tens of steps instead.
//!
//! Sized to the window by default (`size_to_window`): the pooling grows
//! from `pool` (up to 8) until the recurrent layer reads at most
//! [`MAX_SIZED_STEPS`] steps, and shrinks (down to 1) when the window is
//! too short for one step, so long windows are not read through hundreds
//! of steps and short ones still build. Runs made before the setting
//! existed read it as off and rebuild as they were.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::cnn1d::{SAME_CONV_KERNEL, SAME_CONV_POOL, SameConvStack};
use super::conv::WeightInit;
use super::dense::{Dense, dropout};
use super::registry::{WindowFacts, DROPOUT_HELP, dropout as dropout_param, int, list};
use super::rnn::{RecurrentStack, RnnCell};
use super::summary::Trace;
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "crnn",
    aliases: &["conv-gru"],
    title: "CRNN (convolutional-recurrent)",
    family: Family::Recurrent,
    description: "Convolutions shorten the window into a few dozen feature steps, then a bidirectional GRU reads them (as ChronoNet and DeepSleepNet do). The recurrent choice for raw EEG windows longer than about 200 samples, where a plain LSTM or GRU does not learn.",
    kind: Kind::of::<CrnnConfig>(),
    fixed: "{}",
    advise: audio_advice,
    params: &[
        list(
            "filters",
            "filters per block",
            "one number per convolution block, e.g. 32,32,64; each block divides time by the pooling",
            512.0,
        ),
        SAME_CONV_KERNEL,
        SAME_CONV_POOL,
        super::sizing::size_to_window_param(
            "grow the pooling until the recurrent layer reads at most 32 steps (shrink it when the window is too short); off: pooling as given",
        ),
        int(
            "hidden",
            "hidden units",
            "memory size of the recurrent layer (per direction)",
            4.0,
            512.0,
        ),
        int(
            "layers",
            "recurrent layers",
            "stacked recurrent layers",
            1.0,
            4.0,
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

fn audio_advice(window: &WindowFacts) -> Option<String> {
    super::cnn1d::short_kernels_on_audio("CRNN", window)
}

/// The CRNN's hyper-parameters (JSON kind `crnn`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CrnnConfig {
    /// Filters of each convolution block (default `[32, 32, 64]`).
    pub filters: Vec<usize>,
    /// Convolution kernel in samples, 'same' padding (default 7).
    pub kernel: usize,
    /// Max-pool size (kernel == stride) after each block (default 3).
    pub pool: usize,
    /// The recurrent cell (default GRU).
    pub cell: RnnCell,
    /// Hidden units per direction (default 64).
    pub hidden: usize,
    /// Stacked recurrent layers (default 1).
    pub layers: usize,
    /// Read the steps in both directions (default true).
    pub bidirectional: bool,
    /// Dropout probability before the output layer and between recurrent
    /// layers (default 0.25).
    pub dropout: f64,
    /// Size the pooling to the window (see the module documentation; default on;
    /// runs made before it existed read as off).
    pub size_to_window: bool,
}

/// The most steps the recurrent layer reads when the pooling is sized.
pub const MAX_SIZED_STEPS: usize = 32;

/// Largest pooling the sizing chooses.
const MAX_SIZED_POOL: usize = 8;

/// The pooling for `blocks` blocks on windows of `samples`: from `pool`,
/// grown (up to 8) while the recurrent layer would read more than
/// [`MAX_SIZED_STEPS`] steps, shrunk (down to 1) while the window leaves no
/// step at all.
pub(crate) fn sized_pool(blocks: usize, pool: usize, samples: usize) -> usize {
    let steps = |p: usize| SameConvStack::feature_len(blocks, p, samples);
    let mut p = pool.max(1);
    while p < MAX_SIZED_POOL
        && steps(p).is_some_and(|s| s > MAX_SIZED_STEPS)
        && steps(p + 1).is_some()
    {
        p += 1;
    }
    while p > 1 && steps(p).is_none() {
        p -= 1;
    }
    p
}

impl CrnnConfig {
    /// The pooling used on windows of `samples` samples.
    pub fn pool_for(&self, samples: usize) -> usize {
        if self.size_to_window {
            sized_pool(self.filters.len(), self.pool, samples)
        } else {
            self.pool
        }
    }
}

impl Default for CrnnConfig {
    fn default() -> Self {
        Self {
            filters: vec![32, 32, 64],
            kernel: 7,
            pool: 3,
            cell: RnnCell::Gru,
            hidden: 64,
            layers: 1,
            bidirectional: true,
            dropout: 0.25,
            size_to_window: true,
        }
    }
}

impl Hyper for CrnnConfig {
    const KIND: &'static str = "crnn";

    fn display_name(&self) -> String {
        let widths: Vec<String> = self.filters.iter().map(ToString::to_string).collect();
        let cell = match self.cell {
            RnnCell::Lstm => "LSTM",
            RnnCell::Gru => "GRU",
        };
        let bi = if self.bidirectional { "Bi" } else { "" };
        format!(
            "CRNN (conv {}, {bi}{cell} {}x{})",
            widths.join("-"),
            self.layers,
            self.hidden
        )
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::widths("filters", &self.filters)?;
        check::positive("kernel", self.kernel)?;
        check::positive("pool", self.pool)?;
        check::positive("hidden", self.hidden)?;
        check::positive("layers", self.layers)?;
        check::probability("dropout", self.dropout)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        SameConvStack::feature_len(self.filters.len(), self.pool_for(samples), samples)
    }

    fn sized_for(&self, input: &InputShape) -> (Self, Vec<String>) {
        if !self.size_to_window {
            return (self.clone(), Vec::new());
        }
        let pool = self.pool_for(input.samples);
        let blocks = self.filters.len();
        let steps = SameConvStack::feature_len(blocks, pool, input.samples).unwrap_or(0);
        let rf = super::cnn1d::stack_receptive_field(blocks, self.kernel, pool);
        let note = format!(
            "pooling {pool} per block{}: the recurrent layer reads {steps} steps of the {}-sample window, each convolution step sees {rf} samples = {} (sized to the window: at most {MAX_SIZED_STEPS} steps)",
            if pool == self.pool {
                String::new()
            } else {
                format!(" instead of {}", self.pool)
            },
            input.samples,
            super::sizing::seconds(rf, input.rate_hz),
        );
        let sized = Self {
            pool,
            size_to_window: false,
            ..self.clone()
        };
        (sized, vec![note])
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(Crnn::new(vb, self, input)?))
    }
}

/// The CRNN; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct Crnn {
    front: SameConvStack,
    stack: RecurrentStack,
    fc: Dense,
    dropout: f64,
}

impl Crnn {
    /// Builds the layers under `vb` (`block{i}.conv`, `block{i}.bn`,
    /// `rnn.weight_ih_l0`, ..., `fc`).
    pub fn new(
        vb: VarBuilder,
        config: &CrnnConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let front = SameConvStack::new(
            &vb,
            input.channels,
            &config.filters,
            config.kernel,
            config.pool_for(input.samples),
        )?;
        let stack = RecurrentStack::new(
            &vb.pp("rnn"),
            config.cell,
            front.out_channels(),
            config.hidden,
            config.layers,
            config.bidirectional,
            config.dropout,
        )?;
        let fc = Dense::new(
            vb.pp("fc"),
            stack.output_width(),
            input.n_outputs,
            WeightInit::Torch,
        )?;
        Ok(Self {
            front,
            stack,
            fc,
            dropout: config.dropout,
        })
    }
}

impl Traced for Crnn {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let x = self.front.forward_traced(x, train, t)?; // [B, filters[last], T / pool^blocks]
        let x = t.feature_map(&x)?;
        let x = self.stack.forward_traced(&x, train, t)?; // [B, width]
        let x = dropout(&x, self.dropout, train)?;
        t.head_input(&x)?;
        let y = self.fc.forward(&x)?; // [B, n_outputs]
        t.record("fc", &y, self.fc.params());
        Ok(y)
    }

    fn receptive_field_samples(&self) -> usize {
        usize::MAX // the recurrent layer sees every step; clamped by the summary
    }
}

impl Network for Crnn {
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
    fn shapes_parameters_and_minimum_window() {
        let Some(spec) = ModelSpec::by_name("crnn") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(2, 510, 2), 0);
        let shapes: Vec<&[usize]> = built
            .summary
            .layers
            .iter()
            .map(|l| l.output_shape.as_slice())
            .collect();
        // 510 / 3 = 170, / 3 = 56, / 3 = 18 steps of 64 features.
        assert_eq!(
            shapes,
            vec![
                &[32, 170][..],
                &[32, 56],
                &[64, 18],
                &[18, 128],
                &[128],
                &[2]
            ]
        );
        let conv = (2 * 7 * 32 + 64) + (32 * 7 * 32 + 64) + (32 * 7 * 64 + 128);
        // nn.GRU(64, 64, bidirectional=True): 2 * 3 * (64*64 + 64*64 + 2*64).
        let gru = 2 * 3 * (64 * 64 + 64 * 64 + 2 * 64);
        assert_eq!(built.summary.trainable_params, conv + gru + (128 * 2 + 2));
        // Sized, the pooling shrinks for short windows; as given, 3^3.
        assert_eq!(spec.min_samples(), 1);
        let unsized_spec = ModelSpec::new(CrnnConfig {
            size_to_window: false,
            ..CrnnConfig::default()
        });
        assert_eq!(unsized_spec.min_samples(), 27);
        assert_eq!(built.summary.receptive_field_samples, 510);
    }

    #[test]
    fn output_shape_in_both_modes() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("crnn") else {
            panic!()
        };
        assert_output_shape(&spec, &shape(3, 60, 4), 2)
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let spec = ModelSpec::new(CrnnConfig {
            filters: vec![4, 4],
            hidden: 5,
            layers: 2,
            cell: RnnCell::Lstm,
            ..CrnnConfig::default()
        });
        assert_every_var_gets_gradient(&spec, &shape(2, 36, 3), &[])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        let spec = ModelSpec::new(CrnnConfig {
            filters: vec![8, 8],
            hidden: 8,
            dropout: 0.0,
            ..CrnnConfig::default()
        });
        assert_overfits(&spec, 4, 128, 1e-2, 100).map(|_| ())
    }

    #[test]
    fn too_short_windows_name_the_minimum() {
        // As given (sized, the pooling shrinks instead).
        let spec = ModelSpec::new(CrnnConfig {
            size_to_window: false,
            ..CrnnConfig::default()
        });
        let vm = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, candle_core::DType::F32, &candle_core::Device::Cpu);
        let Err(err) = super::super::build(&spec, &shape(2, 20, 2), vb) else {
            panic!("20 samples accepted")
        };
        assert!(err.to_string().contains("at least 27"), "{err}");
    }

    #[test]
    fn sized_pooling_keeps_the_recurrent_steps_few_and_tiny_windows_building() -> Result<()> {
        let config = CrnnConfig::default();
        // (window, pooling, steps the GRU reads)
        for (samples, pool, steps) in [(510, 3, 18), (1024, 4, 16), (3000, 5, 24), (10, 2, 1)] {
            let (sized, notes) = config.sized_for(&shape(2, samples, 2));
            assert_eq!(sized.pool, pool, "{samples}");
            assert!(!sized.size_to_window);
            assert_eq!(config.feature_len(samples), Some(steps), "{samples}");
            assert!(steps <= MAX_SIZED_STEPS);
            assert!(notes[0].contains(&format!("reads {steps} steps")), "{notes:?}");
        }
        let spec = ModelSpec::new(config);
        assert_output_shape(&spec, &shape(2, 5, 2), 2)?;
        let built = build_cpu(&spec, &shape(2, 3000, 2), 0);
        assert_eq!(built.summary.layers[2].output_shape, [64, 24]);
        // A run from before the setting keeps pooling 3: 111 steps.
        let mut saved = serde_json::json!({"kind": "crnn"});
        crate::model::settings_before_sizing(&mut saved);
        let Ok(old) = serde_json::from_value::<ModelSpec>(saved) else {
            panic!("an old crnn spec reads")
        };
        let built = build_cpu(&old, &shape(2, 3000, 2), 0);
        assert_eq!(built.summary.layers[2].output_shape, [64, 111]);
        assert!(built.summary.sizing.is_empty());
        Ok(())
    }
}
