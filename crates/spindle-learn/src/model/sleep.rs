//! The sleep stager of Chambers et al. (2018), as braindecode's
//! `SleepStagerChambers2018`, for 30-s epochs at 100 Hz.
//!
//! ```text
//! x [B, C, T]
//! spatial_conv  C -> C virtual channels (kernel 1, bias), when C > 1
//! per virtual channel, the same weights:
//!   conv1       1 -> n (kernel k, k/2 zeros each side, bias), ReLU, max-pool p
//!   conv2       n -> n (kernel k, k/2 zeros each side, bias), ReLU, max-pool p
//! flatten [B, n * C * T''], dropout
//! fc            linear to n_outputs
//! ```
//!
//! The defaults are braindecode's at 100 Hz: kernels of 0.5 s (50 samples),
//! pools of 0.125 s (13 samples), 8 filters, no batch norm. For other rates
//! scale the kernel and pool with the rate.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::{Conv1d, Padding, WeightInit};
use super::dense::{Dense, dropout};
use super::pool::max_pool1d;
use spindle_kernels::bn_act_pool::{Act, Pool, act_pool};
use super::registry::{DROPOUT_HELP, WindowFacts, dropout as dropout_param, int};
use super::summary::{ReceptiveField, Trace, pooled_len, valid_len};
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "sleep",
    aliases: &["chambers2018"],
    title: "Sleep stager (Chambers 2018)",
    family: Family::Convolutional,
    description: "Small CNN for sleep staging (Chambers et al. 2018): electrodes mixed into virtual channels, then the same two convolution blocks on each. Made for 30-s epochs at 100 Hz scored W/N1/N2/N3/REM, e.g. in the epoch-scoring mode.",
    kind: Kind::of::<SleepConfig>(),
    fixed: "{}",
    advise: sleep_advice,
    params: &[
        int(
            "filters",
            "filters",
            "convolution filters per virtual channel",
            1.0,
            64.0,
        ),
        int(
            "kernel",
            "kernel (samples)",
            "length of each convolution; 0.5 s (50 samples at 100 Hz) in the paper",
            2.0,
            512.0,
        ),
        int(
            "pool",
            "pooling (samples)",
            "time shortened by this factor after each convolution; 0.125 s in the paper",
            1.0,
            64.0,
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

/// The stager's kernels are sized for 30-s epochs at about 100 Hz.
fn sleep_advice(window: &WindowFacts) -> Option<String> {
    let seconds = window.steps as f64 / window.rate_hz.max(f64::MIN_POSITIVE);
    if seconds < 10.0 {
        Some(format!(
            "The sleep stager is made for 30-s scoring epochs; these windows are {seconds:.1} s. Score in epochs (or set the window to 30 s), or choose EEGNet for short trials."
        ))
    } else if !(50.0..=200.0).contains(&window.rate_hz) {
        Some(format!(
            "The sleep stager's kernels (50 samples) are sized for 100 Hz; at {:.0} Hz scale kernel and pooling with the rate (kernel = rate / 2, pooling = rate / 8).",
            window.rate_hz
        ))
    } else {
        None
    }
}

/// Hyper-parameters of the sleep stager (JSON kind `sleep`), braindecode's
/// defaults at 100 Hz.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SleepConfig {
    /// Filters of both convolutions (default 8).
    pub filters: usize,
    /// Convolution kernel in samples, `kernel / 2` zeros each side (default 50).
    pub kernel: usize,
    /// Max-pool size (kernel == stride) after each convolution (default 13).
    pub pool: usize,
    /// Dropout probability before the output layer (default 0.25).
    pub dropout: f64,
}

impl Default for SleepConfig {
    fn default() -> Self {
        Self {
            filters: 8,
            kernel: 50,
            pool: 13,
            dropout: 0.25,
        }
    }
}

impl Hyper for SleepConfig {
    const KIND: &'static str = "sleep";

    fn display_name(&self) -> String {
        format!("Sleep stager ({} filters, kernel {})", self.filters, self.kernel)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::positive("filters", self.filters)?;
        check::positive("kernel", self.kernel)?;
        check::positive("pool", self.pool)?;
        check::probability("dropout", self.dropout)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        let pad = 2 * (self.kernel / 2);
        let t = valid_len(samples.checked_add(pad)?, self.kernel, 1)?;
        let t = pooled_len(t, self.pool)?;
        let t = valid_len(t + pad, self.kernel, 1)?;
        pooled_len(t, self.pool)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(SleepStager::new(vb, self, input)?))
    }
}

/// ReLU then max pooling by `pool` of `x` `[B, C, L]`: one kernel on the
/// CPU in f32 ([`act_pool`]: the maximum is taken before the ReLU and the
/// backward visits only the maxima), candle's ops elsewhere.
fn relu_max_pool(x: &Tensor, pool: usize) -> Result<Tensor> {
    if spindle_kernels::is_cpu_f32(x) && pool >= 1 {
        return act_pool(x, Act::Relu, Pool::Max(pool));
    }
    max_pool1d(&x.relu()?, pool)
}

/// The sleep stager; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct SleepStager {
    spatial_conv: Option<Conv1d>,
    conv1: Conv1d,
    conv2: Conv1d,
    fc: Dense,
    config: SleepConfig,
}

impl SleepStager {
    /// Builds the layers under `vb` (`spatial_conv`, `feature_extractor.0`,
    /// `feature_extractor.3`, `fc.1`, as braindecode names them).
    pub fn new(
        vb: VarBuilder,
        config: &SleepConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let Some(t_final) = config.feature_len(input.samples) else {
            return Err(super::spec::too_short(config, input.samples));
        };
        let c = input.channels;
        let spatial_conv = if c > 1 {
            Some(Conv1d::new(
                vb.pp("spatial_conv"),
                c,
                c,
                1,
                1,
                Padding::Valid,
                true,
                WeightInit::Torch,
            )?)
        } else {
            None
        };
        let conv = |name: &str, in_channels: usize| {
            Conv1d::new(
                vb.pp(name),
                in_channels,
                config.filters,
                config.kernel,
                1,
                Padding::Half,
                true,
                WeightInit::Torch,
            )
        };
        let conv1 = conv("feature_extractor.0", 1)?;
        let conv2 = conv("feature_extractor.3", config.filters)?;
        let fc = Dense::new(
            vb.pp("fc.1"),
            config.filters * c * t_final,
            input.n_outputs,
            WeightInit::Torch,
        )?;
        Ok(Self {
            spatial_conv,
            conv1,
            conv2,
            fc,
            config: config.clone(),
        })
    }
}

impl Traced for SleepStager {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let (b, c, samples) = x.dims3()?;
        let x = match &self.spatial_conv {
            Some(conv) => {
                let y = conv.forward(x)?; // [B, C, T] virtual channels
                t.record("spatial_conv", &y, conv.params());
                y
            }
            None => x.clone(),
        };
        let x = x.reshape((b * c, 1, samples))?; // each virtual channel alone
        let x = relu_max_pool(&self.conv1.forward(&x)?, self.config.pool)?; // [B*C, n, T']
        t.record_shape(
            "conv1+relu+pool",
            &[c, self.config.filters, x.dim(2)?],
            self.conv1.params(),
        );
        let x = relu_max_pool(&self.conv2.forward(&x)?, self.config.pool)?; // [B*C, n, T'']
        t.record_shape(
            "conv2+relu+pool",
            &[c, self.config.filters, x.dim(2)?],
            self.conv2.params(),
        );
        let t_len = x.dim(2)?;
        let x = t.feature_map(&x.reshape((b, c * self.config.filters, t_len))?)?; // [B, C * n, T'']
        let x = x.reshape((b, ()))?; // [B, C * n * T'']
        let x = dropout(&x, self.config.dropout, train)?;
        t.head_input(&x)?;
        let y = self.fc.forward(&x)?; // [B, n_outputs]
        t.record("fc", &y, self.fc.params());
        Ok(y)
    }

    fn receptive_field_samples(&self) -> usize {
        let c = &self.config;
        ReceptiveField::new()
            .then(c.kernel, 1)
            .then(c.pool, c.pool)
            .then(c.kernel, 1)
            .then(c.pool, c.pool)
            .samples
    }
}

impl Network for SleepStager {
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
    fn braindecode_parameter_count_and_shapes_for_two_channels_at_100_hz() {
        // SleepStagerChambers2018(n_chans=2, sfreq=100, n_outputs=5):
        // spatial 2*2 + 2, conv1 8*50 + 8, conv2 8*8*50 + 8, fc 8*2*17*5 + 5.
        assert_param_count("sleep", &shape(2, 3000, 5), 6 + 408 + 3208 + 1365);
        let Some(spec) = ModelSpec::by_name("sleep") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(2, 3000, 5), 0);
        let shapes: Vec<&[usize]> = built
            .summary
            .layers
            .iter()
            .map(|l| l.output_shape.as_slice())
            .collect();
        assert_eq!(
            shapes,
            vec![&[2, 3000][..], &[2, 8, 230], &[2, 8, 17], &[5]]
        );
        // 50 + 12*1 + 49*13 + 12*13 samples.
        assert_eq!(built.summary.receptive_field_samples, 50 + 12 + 49 * 13 + 12 * 13);
    }

    #[test]
    fn one_channel_skips_the_spatial_mixing() {
        assert_param_count("sleep", &shape(1, 3000, 5), 408 + 3208 + (8 * 17 * 5 + 5));
    }

    #[test]
    fn output_shape_and_gradients() -> Result<()> {
        let spec = ModelSpec::new(SleepConfig {
            filters: 3,
            kernel: 6,
            pool: 3,
            dropout: 0.25,
        });
        assert_output_shape(&spec, &shape(3, 90, 5), 2)?;
        assert_every_var_gets_gradient(&spec, &shape(3, 90, 5), &[])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        let spec = ModelSpec::new(SleepConfig {
            filters: 8,
            kernel: 8,
            pool: 4,
            dropout: 0.0,
        });
        assert_overfits(&spec, 4, 128, 1e-2, 100).map(|_| ())
    }

    #[test]
    fn advice_for_short_windows_and_other_rates() {
        let Some(a) = crate::model::architecture("sleep") else {
            panic!()
        };
        let facts = |steps, rate_hz| WindowFacts {
            steps,
            rate_hz,
            audio: false,
        };
        assert_eq!(a.advice(&facts(3000, 100.0)), None);
        assert!(a.advice(&facts(200, 100.0)).is_some_and(|s| s.contains("30-s")));
        assert!(a.advice(&facts(15_360, 512.0)).is_some_and(|s| s.contains("512 Hz")));
        let Some(spec) = ModelSpec::by_name("sleep") else {
            panic!()
        };
        assert_eq!(spec.min_samples(), 155);
    }
}
