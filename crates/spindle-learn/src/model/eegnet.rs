//! EEGNet v4 (Lawhern et al. 2018), layer for layer as braindecode's `EEGNet`.
//!
//! ```text
//! x [B, C, T]
//! conv_temporal   F1 filters (1 x K) per channel, K/2 zeros each side, no bias
//! bnorm_temporal
//! conv_spatial    D filters (C x 1) per temporal filter (depthwise), no bias, max-norm 1
//! bnorm_1, ELU, avg-pool (1 x pool1), dropout
//! conv_separable  depthwise (1 x Kd) + pointwise (1 x 1) to F2, no bias
//! bnorm_2, ELU, avg-pool (1 x pool2), dropout
//! final_layer     conv over all remaining time = linear on the flattened features, bias
//! ```
//!
//! The 2-D convolutions of the original become 1-D ones (candle's `conv2d`
//! is a slow direct loop): the temporal convolution runs on `[B*C, 1, T]`,
//! the depthwise spatial one is a batched matrix product, and depthwise +
//! pointwise are merged into one convolution with the same parameters.
//!
//! Sized to the data by default (`size_to_window`): the paper's kernel and
//! first pooling are samples at 128 Hz (64 = 0.5 s, 4 = 31 ms); sized, the
//! temporal kernel and the first pooling keep those durations at the
//! data's rate (braindecode does not scale them), so the separable stage
//! always reads a signal of about 32 Hz, and the poolings shrink when a
//! window is too short for one step. Runs made before the setting existed
//! read it as off and rebuild as they were.

use candle_core::{Module, Result, Tensor, Var};
use candle_nn::VarBuilder;
use spindle_kernels::bn_act_pool::{Act, Pool};
use spindle_kernels::dwconv;

use super::conv::{Conv1d, Padding, WeightInit};
use super::dense::{Dense, dropout};
use super::init::glorot;
use super::norm::BatchNorm;
use super::pool::avg_pool1d;
use super::summary::{ReceptiveField, Trace, pooled_len, valid_len};
use super::registry::{no_advice, DROPOUT_HELP, dropout as dropout_param, int};
use super::spec::too_short;
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "eegnet",
    aliases: &[],
    title: "EEGNet",
    family: Family::Convolutional,
    description: "Compact CNN for EEG (Lawhern et al. 2018): temporal filters, then spatial filters per electrode set, then a separable convolution. A strong first choice for EEG with few recordings.",
    kind: Kind::of::<EegNetConfig>(),
    fixed: "{}",
    advise: no_advice,
    params: &[
        int(
            "f1",
            "temporal filters (F1)",
            "how many frequency filters are learned",
            1.0,
            64.0,
        ),
        int(
            "d",
            "spatial filters per temporal (D)",
            "electrode weightings learned for each frequency filter",
            1.0,
            8.0,
        ),
        int(
            "f2",
            "pointwise filters (F2)",
            "features mixed from the spatial filters",
            1.0,
            128.0,
        ),
        int(
            "kernel_length",
            "temporal kernel (samples)",
            "length of the frequency filters; sized: samples at 128 Hz, scaled to the data's rate (64 = 0.5 s resolves down to about 2 Hz)",
            2.0,
            1024.0,
        ),
        int(
            "pool1",
            "first pooling (samples)",
            "time averaged after the spatial filters; sized: samples at 128 Hz, scaled to the data's rate",
            1.0,
            16.0,
        ),
        int(
            "pool2",
            "second pooling (samples)",
            "time averaged before the classifier",
            1.0,
            32.0,
        ),
        super::sizing::size_to_window_param(
            "keep the temporal kernel's and the first pooling's durations (given at 128 Hz) at the data's rate, and shrink the poolings for short windows; off: samples as given",
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

/// The rate at which EEGNet's kernel and first pooling are given (the
/// paper's 128 Hz).
pub const REFERENCE_RATE_HZ: f64 = 128.0;

/// EEGNet v4 (Lawhern et al. 2018) as in braindecode's `EEGNet` (JSON kind
/// `eegnet`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EegNetConfig {
    /// Temporal filters (default 8).
    pub f1: usize,
    /// Spatial filters per temporal filter (default 2).
    pub d: usize,
    /// Pointwise filters of the separable convolution (default 16).
    pub f2: usize,
    /// Temporal kernel in samples (default 64).
    pub kernel_length: usize,
    /// Kernel of the separable (depthwise) temporal convolution in samples (default 16).
    pub depthwise_kernel_length: usize,
    /// First average pool in samples (default 4).
    pub pool1: usize,
    /// Second average pool in samples (default 8).
    pub pool2: usize,
    /// Dropout probability (default 0.25).
    pub dropout: f64,
    /// Batch-norm momentum, PyTorch convention (default 0.1).
    pub batch_norm_momentum: f64,
    /// Batch-norm epsilon (default 1e-3).
    pub batch_norm_eps: f64,
    /// Max L2 norm of each spatial filter, applied before each training
    /// forward pass as braindecode does (default 1; `null` for none).
    pub spatial_max_norm: Option<f64>,
    /// Read `kernel_length` and `pool1` as samples at
    /// [`REFERENCE_RATE_HZ`] and keep their durations at the data's rate;
    /// shrink the poolings for short windows (default on; runs made before
    /// it existed read as off).
    pub size_to_window: bool,
}

impl Default for EegNetConfig {
    fn default() -> Self {
        Self {
            f1: 8,
            d: 2,
            f2: 16,
            kernel_length: 64,
            depthwise_kernel_length: 16,
            pool1: 4,
            pool2: 8,
            dropout: 0.25,
            batch_norm_momentum: 0.1,
            batch_norm_eps: 1e-3,
            spatial_max_norm: Some(1.0),
            size_to_window: true,
        }
    }
}

impl Hyper for EegNetConfig {
    const KIND: &'static str = "eegnet";

    fn display_name(&self) -> String {
        format!("EEGNet (F1={}, D={}, F2={})", self.f1, self.d, self.f2)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::positive("f1", self.f1)?;
        check::positive("d", self.d)?;
        check::positive("f2", self.f2)?;
        check::positive("kernel_length", self.kernel_length)?;
        check::positive("depthwise_kernel_length", self.depthwise_kernel_length)?;
        check::positive("pool1", self.pool1)?;
        check::positive("pool2", self.pool2)?;
        check::probability("dropout", self.dropout)?;
        check::batch_norm(self.batch_norm_momentum, self.batch_norm_eps)?;
        match self.spatial_max_norm {
            Some(m) => check::positive_real("spatial_max_norm", m),
            None => Ok(()),
        }
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        let (k, kd) = (self.kernel_length, self.depthwise_kernel_length);
        let t = valid_len(samples + 2 * (k / 2), k, 1)?;
        let t = pooled_len(t, self.pool1)?;
        let t = valid_len(t + 2 * (kd / 2), kd, 1)?;
        pooled_len(t, self.pool2)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(EegNet::new(vb, self, input)?))
    }

    fn sized_for(&self, input: &InputShape) -> (Self, Vec<String>) {
        use super::sizing::{halve, kernel_note, scale_samples, shrink_until_fits, shrunk_note};
        if !self.size_to_window {
            return (self.clone(), Vec::new());
        }
        let rate = input.rate_hz;
        let mut c = Self {
            kernel_length: scale_samples(self.kernel_length, REFERENCE_RATE_HZ, rate, 2, 1024),
            pool1: scale_samples(self.pool1, REFERENCE_RATE_HZ, rate, 1, 16),
            size_to_window: false,
            ..self.clone()
        };
        let (pool1, pool2) = (c.pool1, c.pool2);
        shrink_until_fits(
            &mut c,
            |c| c.feature_len(input.samples).is_some(),
            &[|c| halve(&mut c.pool2), |c| halve(&mut c.pool1)],
        );
        let mut notes = vec![
            kernel_note(
                "temporal kernel",
                c.kernel_length,
                rate,
                self.kernel_length,
                REFERENCE_RATE_HZ,
            ),
            kernel_note("first pooling", pool1, rate, self.pool1, REFERENCE_RATE_HZ),
        ];
        notes.extend(shrunk_note("first pooling", pool1, c.pool1, input.samples));
        notes.extend(shrunk_note("second pooling", pool2, c.pool2, input.samples));
        (c, notes)
    }
}

/// The temporal convolution: the same `F1` filters on every channel.
///
/// `[B, C, T] -> [B, F1, C, T']`. Weight `[F1, 1, K]` (PyTorch's `[F1, 1, 1, K]`).
#[derive(Debug, Clone)]
pub struct TemporalConv {
    conv: Conv1d,
    filters: usize,
}

impl TemporalConv {
    /// Creates the weight under `vb` (Glorot-uniform).
    pub fn new(vb: VarBuilder, filters: usize, kernel: usize, padding: Padding) -> Result<Self> {
        let conv = Conv1d::new(
            vb,
            1,
            filters,
            kernel,
            1,
            padding,
            false,
            WeightInit::Glorot,
        )?;
        Ok(Self { conv, filters })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.conv.params()
    }

    /// `[B, C, T] -> [B, F1, C, T']`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, t) = x.dims3()?;
        let y = self.conv.forward(&x.reshape((b * c, 1, t))?)?; // [B*C, F1, T']
        let t_out = y.dim(2)?;
        y.reshape((b, c, self.filters, t_out))? // [B, C, F1, T']
            .transpose(1, 2) // [B, F1, C, T']
    }
}

/// The depthwise spatial convolution: `D` filters over all channels for each
/// of the `F1` temporal filters, no bias, optional max-norm per filter.
///
/// `[B, F1, C, T] -> [B, F1*D, T]`. Weight `[F1*D, C]` (PyTorch's `[F1*D, 1, C, 1]`).
#[derive(Debug, Clone)]
pub struct SpatialConv {
    weight: Tensor,
    f1: usize,
    d: usize,
    max_norm: Option<f64>,
}

impl SpatialConv {
    /// Creates the weight under `vb` (Glorot-uniform with PyTorch's fans).
    pub fn new(
        vb: VarBuilder,
        f1: usize,
        d: usize,
        channels: usize,
        max_norm: Option<f64>,
    ) -> Result<Self> {
        let init = glorot(channels, f1 * d * channels);
        let weight = vb.get_with_hints((f1 * d, channels), "weight", init)?;
        Ok(Self {
            weight,
            f1,
            d,
            max_norm,
        })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.weight.elem_count()
    }

    /// Rescales each filter (row) to an L2 norm of at most `max_norm`, in
    /// place, like `torch.renorm(w, 2, 0, max_norm)` in braindecode's
    /// `Conv2dWithConstraint`. Does nothing when the weight is not a variable.
    pub fn apply_max_norm(&self) -> Result<()> {
        let Some(max_norm) = self.max_norm else {
            return Ok(());
        };
        if !self.weight.is_variable() {
            return Ok(());
        }
        let w = self.weight.detach();
        let norms = w.sqr()?.sum_keepdim(1)?.sqrt()?; // [F1*D, 1]
        let scale = norms.gt(max_norm)?.where_cond(
            &(norms.affine(1.0, 1e-7)?.recip()? * max_norm)?,
            &norms.ones_like()?,
        )?;
        Var::from_tensor(&self.weight)?.set(&w.broadcast_mul(&scale)?)
    }

    /// `[B, F1, C, T] -> [B, F1*D, T]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, _, c, t) = x.dims4()?;
        let w = self.weight.reshape((self.f1, self.d, c))?; // [F1, D, C]
        w.broadcast_matmul(&x.contiguous()?)? // [B, F1, D, T]
            .reshape((b, self.f1 * self.d, t))
    }
}

/// Depthwise (`1 x Kd` per feature map) then pointwise (`1 x 1`) convolution,
/// no bias, computed as one convolution with kernel
/// `point[o, i] * depth[i, k]` (same parameters, one pass).
///
/// `[B, F1*D, T] -> [B, F2, T']`. Weights `depth` `[F1*D, Kd]` and `point` `[F2, F1*D]`.
#[derive(Debug, Clone)]
pub struct SeparableConv {
    depth: Tensor,
    point: Tensor,
    padding: Padding,
}

impl SeparableConv {
    /// Creates `depth` under `vb_depth` and `point` under `vb_point` (Glorot-uniform).
    pub fn new(
        vb_depth: VarBuilder,
        vb_point: VarBuilder,
        maps: usize,
        out: usize,
        kernel: usize,
    ) -> Result<Self> {
        let depth =
            vb_depth.get_with_hints((maps, kernel), "weight", glorot(kernel, maps * kernel))?;
        let point = vb_point.get_with_hints((out, maps), "weight", glorot(maps, out))?;
        Ok(Self {
            depth,
            point,
            padding: Padding::Half,
        })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.depth.elem_count() + self.point.elem_count()
    }

    /// `[B, F1*D, T] -> [B, F2, T']`: on the CPU, the depthwise convolution,
    /// then the pointwise one (a kernel of one sample). Done in two steps,
    /// not as one full convolution with the composed `[F2, F1*D, Kd]`
    /// weight: that does `F2` times the depthwise work (about 8x the
    /// multiply-adds for EEGNet's sizes). Elsewhere (a GPU) the composed
    /// convolution is one launch where candle's grouped one is a launch per
    /// group.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (maps, kernel) = self.depth.dims2()?;
        if !spindle_kernels::is_cpu_f32(x) {
            let w = self
                .point
                .unsqueeze(2)? // [F2, F1*D, 1]
                .broadcast_mul(&self.depth.unsqueeze(0)?)?; // [F2, F1*D, Kd]
            return spindle_kernels::conv1d::conv1d(x, &w, None, 1, self.padding.amounts(kernel));
        }
        let no_bias = Tensor::zeros(maps, self.depth.dtype(), self.depth.device())?;
        let y = spindle_kernels::dwconv::dwconv(x, &self.depth, &no_bias, self.padding.amounts(kernel))?; // [B, F1*D, T']
        spindle_kernels::conv1d::conv1d(&y, &self.point.unsqueeze(2)?, None, 1, (0, 0)) // [B, F2, T']
    }
}

/// EEGNet v4; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct EegNet {
    conv_temporal: TemporalConv,
    bnorm_temporal: BatchNorm,
    conv_spatial: SpatialConv,
    bnorm_1: BatchNorm,
    conv_separable: SeparableConv,
    bnorm_2: BatchNorm,
    final_layer: Dense,
    config: EegNetConfig,
}

impl EegNet {
    /// Builds the layers under `vb` with braindecode's names.
    pub fn new(
        vb: VarBuilder,
        config: &EegNetConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let c = config.clone();
        let Some(t_final) = c.feature_len(input.samples) else {
            return Err(too_short(config, input.samples));
        };
        let bn = |vb: VarBuilder, n| BatchNorm::new(vb, n, c.batch_norm_eps, c.batch_norm_momentum);
        let maps = c.f1 * c.d;
        let conv_temporal =
            TemporalConv::new(vb.pp("conv_temporal"), c.f1, c.kernel_length, Padding::Half)?;
        let bnorm_temporal = bn(vb.pp("bnorm_temporal"), c.f1)?;
        let conv_spatial = SpatialConv::new(
            vb.pp("conv_spatial"),
            c.f1,
            c.d,
            input.channels,
            c.spatial_max_norm,
        )?;
        let bnorm_1 = bn(vb.pp("bnorm_1"), maps)?;
        let conv_separable = SeparableConv::new(
            vb.pp("conv_separable_depth"),
            vb.pp("conv_separable_point"),
            maps,
            c.f2,
            c.depthwise_kernel_length,
        )?;
        let bnorm_2 = bn(vb.pp("bnorm_2"), c.f2)?;
        // braindecode's classifier is a conv over (1 x t_final): Glorot with its fans.
        let final_layer = Dense::with_init(
            vb.pp("final_layer").pp("conv_classifier"),
            c.f2 * t_final,
            input.n_outputs,
            glorot(c.f2 * t_final, input.n_outputs * t_final),
            candle_nn::Init::Const(0.0),
        )?;
        Ok(Self {
            conv_temporal,
            bnorm_temporal,
            conv_spatial,
            bnorm_1,
            conv_separable,
            bnorm_2,
            final_layer,
            config: c,
        })
    }
}

impl EegNet {
    /// Temporal convolution + batch norm + depthwise spatial convolution,
    /// rearranged: `[B, C, T] -> [B, F1*D, T']`.
    ///
    /// All three are linear per temporal filter `f`, so with `a_f = gamma_f /
    /// sqrt(var_f + eps)` the output is
    /// `a_f · (w_f ⋆ (s_j · x)) + (beta_f - a_f · mu_f) · Σ_c s_j[c]` for
    /// spatial filter `j` of `f`: the spatial filters run first (a small
    /// matrix product) and the temporal filters on `F1*D` signals instead of
    /// `F1*C`. In training, `mu_f = w_f · m` and `var_f = w_fᵀ · Σ · w_f` come
    /// from the window mean `m` and covariance `Σ` of the input (data, not
    /// differentiated), so no `[B, F1, C, T']` tensor is ever built.
    /// Mathematically the same as the reference layers, gradients included;
    /// it does not propagate the batch statistics' gradient into `x`, so the
    /// caller uses the reference when `x` needs a gradient in training.
    fn front_fused(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let c = &self.config;
        let (b, ch, t) = x.dims3()?;
        let (f1, d, k) = (c.f1, c.d, c.kernel_length);
        let maps = f1 * d;
        let pad = Padding::Half.amounts(k);
        let w = self.conv_temporal.conv.weight().reshape((f1, k))?; // [F1, K]
        let (gamma, beta) = self.bnorm_temporal.weight_and_bias()?;
        let (mu, var) = if train {
            let (m, cov) = dwconv::window_stats(x, k, pad)?;
            let dev = w.device();
            let m = Tensor::from_vec(m.iter().map(|&v| v as f32).collect::<Vec<_>>(), (k, 1), dev)?;
            let cov = Tensor::from_vec(
                cov.iter().map(|&v| v as f32).collect::<Vec<_>>(),
                (k, k),
                dev,
            )?;
            let mu = w.matmul(&m)?.squeeze(1)?; // [F1]
            let var = (w.matmul(&cov)? * &w)?.sum(1)?; // [F1]
            let n = b * ch * (t + pad.0 + pad.1 + 1 - k);
            self.bnorm_temporal
                .update_running(&mu.to_vec1::<f32>()?, &var.to_vec1::<f32>()?, n)?;
            (mu, var)
        } else {
            let (rm, rv) = self.bnorm_temporal.running_stats();
            (rm.clone(), rv.clone())
        };
        let a = (gamma * (var + self.bnorm_temporal.eps())?.sqrt()?.recip()?)?; // [F1]
        let per_map = |v: &Tensor| -> Result<Tensor> {
            v.reshape((f1, 1))?
                .broadcast_as((f1, d))?
                .contiguous()?
                .reshape(maps)
        };
        let (a_j, mu_j, beta_j) = (per_map(&a)?, per_map(&mu)?, per_map(beta)?);
        let w_j = w
            .unsqueeze(1)?
            .broadcast_as((f1, d, k))?
            .contiguous()?
            .reshape((maps, k))?
            .broadcast_mul(&a_j.unsqueeze(1)?)?; // [F1*D, K]
        let s = self.conv_spatial.weight.reshape((maps, ch))?; // [F1*D, C]
        let bias = ((beta_j - (&a_j * mu_j)?)? * s.sum(1)?)?; // [F1*D]
        let u = s.broadcast_matmul(x)?; // [B, F1*D, T]
        dwconv::dwconv(&u, &w_j, &bias, pad) // [B, F1*D, T']
    }
}

impl Traced for EegNet {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let c = &self.config;
        if train {
            self.conv_spatial.apply_max_norm()?;
        }
        let fused = t.is_off()
            && spindle_kernels::is_cpu_f32(x)
            && !(train && x.track_op())
            && self.conv_spatial.d == c.d;
        let x = if fused {
            self.front_fused(x, train)? // [B, F1*D, T+1]
        } else {
            let x = self.conv_temporal.forward(x)?; // [B, F1, C, T+1]
            t.record("conv_temporal", &x, self.conv_temporal.params());
            let x = self.bnorm_temporal.forward_t(&x, train)?; // [B, F1, C, T+1]
            t.record("bnorm_temporal", &x, self.bnorm_temporal.params());
            let x = self.conv_spatial.forward(&x)?; // [B, F1*D, T+1]
            t.record("conv_spatial", &x, self.conv_spatial.params());
            x
        };
        let x = if t.is_off() && spindle_kernels::is_cpu_f32(&x) {
            let pool = Pool::Avg {
                kernel: c.pool1,
                stride: c.pool1,
            };
            self.bnorm_1.forward_act_pool(&x, train, Act::Elu, pool)?
        } else {
            let x = self.bnorm_1.forward_t(&x, train)?.elu(1.0)?; // [B, F1*D, T+1]
            t.record("bnorm_1+elu", &x, self.bnorm_1.params());
            avg_pool1d(&x, c.pool1)? // [B, F1*D, T1 = (T+1)/pool1]
        };
        let x = dropout(&x, c.dropout, train)?;
        t.record("pool_1+drop_1", &x, 0);
        let x = self.conv_separable.forward(&x)?; // [B, F2, T1+1]
        t.record("conv_separable", &x, self.conv_separable.params());
        let x = if t.is_off() && spindle_kernels::is_cpu_f32(&x) {
            let pool = Pool::Avg {
                kernel: c.pool2,
                stride: c.pool2,
            };
            self.bnorm_2.forward_act_pool(&x, train, Act::Elu, pool)?
        } else {
            let x = self.bnorm_2.forward_t(&x, train)?.elu(1.0)?; // [B, F2, T1+1]
            t.record("bnorm_2+elu", &x, self.bnorm_2.params());
            avg_pool1d(&x, c.pool2)? // [B, F2, T2 = (T1+1)/pool2]
        };
        let x = dropout(&x, c.dropout, train)?;
        t.record("pool_2+drop_2", &x, 0);
        let x = t.feature_map(&x)?;
        t.head_input(&x)?;
        let x = self.final_layer.forward(&x.flatten_from(1)?)?; // [B, n_outputs]
        t.record("final_layer", &x, self.final_layer.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        let c = &self.config;
        ReceptiveField::new()
            .then(c.kernel_length, 1)
            .then(c.pool1, c.pool1)
            .then(c.depthwise_kernel_length, 1)
            .then(c.pool2, c.pool2)
            .samples
    }
}

impl Network for EegNet {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_traced(x, train, &mut Trace::off())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::ModelSpec;
    use candle_core::Device;

    /// The CPU's two steps (depthwise, then pointwise) give what the
    /// composed convolution other devices run gives (here in f64, which
    /// takes that path on the CPU too).
    #[test]
    fn separable_conv_in_two_steps_equals_the_composed_convolution() -> Result<()> {
        let dev = Device::Cpu;
        let depth = Tensor::randn(0f32, 1., (4, 6), &dev)?;
        let point = Tensor::randn(0f32, 1., (3, 4), &dev)?;
        let x = Tensor::randn(0f32, 1., (2, 4, 90), &dev)?;
        let two_steps = SeparableConv {
            depth: depth.clone(),
            point: point.clone(),
            padding: Padding::Half,
        }
        .forward(&x)?;
        let f64 = candle_core::DType::F64;
        let composed = SeparableConv {
            depth: depth.to_dtype(f64)?,
            point: point.to_dtype(f64)?,
            padding: Padding::Half,
        }
        .forward(&x.to_dtype(f64)?)?;
        assert_eq!(two_steps.dims(), composed.dims());
        let diff = (two_steps.to_dtype(f64)? - composed)?
            .abs()?
            .max_all()?
            .to_scalar::<f64>()?;
        assert!(diff < 1e-4, "the two differ by {diff}");
        Ok(())
    }

    fn spec_without_dropout() -> ModelSpec {
        ModelSpec::new(EegNetConfig {
            dropout: 0.0,
            ..EegNetConfig::default()
        })
    }

    /// The published EEGNet, kernel and poolings in samples as given.
    fn unsized_spec() -> ModelSpec {
        ModelSpec::new(EegNetConfig {
            size_to_window: false,
            ..EegNetConfig::default()
        })
    }

    /// The reference first block: temporal conv, batch norm, spatial conv.
    fn front_reference(net: &EegNet, x: &Tensor, train: bool) -> Result<Tensor> {
        let y = net.conv_temporal.forward(x)?;
        let y = net.bnorm_temporal.forward_t(&y, train)?;
        net.conv_spatial.forward(&y)
    }

    #[test]
    fn fused_first_block_matches_the_reference_layers() -> Result<()> {
        use spindle_kernels::testing::assert_close;
        let spec = EegNetConfig::default();
        let input = shape(5, 90, 3);
        let dev = Device::Cpu;
        let mut vm_f = candle_nn::VarMap::new();
        let mut vm_r = candle_nn::VarMap::new();
        let net_f = EegNet::new(
            super::super::seeded_var_builder(&vm_f, candle_core::DType::F32, &dev, 5),
            &spec,
            &input,
        )
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let net_r = EegNet::new(
            super::super::seeded_var_builder(&vm_r, candle_core::DType::F32, &dev, 5),
            &spec,
            &input,
        )
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let x = (Tensor::randn(0f32, 1., (4, 5, 90), &dev)? + 0.3)?;
        let names = [
            "conv_temporal.weight",
            "bnorm_temporal.weight",
            "bnorm_temporal.bias",
            "conv_spatial.weight",
        ];
        // Non-trivial batch-norm affine parameters.
        for vm in [&mut vm_f, &mut vm_r] {
            vm.set_one(
                "bnorm_temporal.weight",
                Tensor::new(&[1.2f32, 0.8, 1.1, 0.9, 1.3, 0.7, 1.0, 1.05], &dev)?,
            )?;
            vm.set_one(
                "bnorm_temporal.bias",
                Tensor::new(&[0.1f32, -0.2, 0.3, 0.0, 0.05, -0.1, 0.2, 0.15], &dev)?,
            )?;
        }
        for train in [true, true, false] {
            let yf = net_f.front_fused(&x, train)?;
            let yr = front_reference(&net_r, &x, train)?;
            assert_close(&yf, &yr, 1e-4)?;
            let w = Tensor::randn(0f32, 1., yr.dims(), &dev)?;
            let gf = (&yf * &w)?.sum_all()?.backward()?;
            let gr = (&yr * &w)?.sum_all()?.backward()?;
            let vars_f = vm_f
                .data()
                .lock()
                .map_err(|_| candle_core::Error::Msg("lock".into()))?
                .clone();
            let vars_r = vm_r
                .data()
                .lock()
                .map_err(|_| candle_core::Error::Msg("lock".into()))?
                .clone();
            for name in names {
                let (Some(vf), Some(vr)) = (vars_f.get(name), vars_r.get(name)) else {
                    panic!("missing {name}")
                };
                let (Some(a), Some(b)) = (gf.get(vf.as_tensor()), gr.get(vr.as_tensor())) else {
                    panic!("no gradient for {name} (train={train})")
                };
                assert_close(a, b, 1e-4).map_err(|e| e.context(format!("{name} train={train}")))?;
            }
            for name in ["bnorm_temporal.running_mean", "bnorm_temporal.running_var"] {
                let (Some(vf), Some(vr)) = (vars_f.get(name), vars_r.get(name)) else {
                    panic!("missing {name}")
                };
                assert_close(vf.as_tensor(), vr.as_tensor(), 1e-5)?;
            }
        }
        Ok(())
    }

    #[test]
    fn standard_config_has_braindecode_parameter_count() {
        assert_param_count("eegnet", &shape(22, 1000, 4), 3_444);
    }

    #[test]
    fn summary_shapes_and_receptive_field() {
        let spec = unsized_spec();
        let built = build_cpu(&spec, &shape(22, 1000, 4), 0);
        let shapes: Vec<(&str, &[usize])> = built
            .summary
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.output_shape.as_slice()))
            .collect();
        assert_eq!(shapes[0], ("conv_temporal", &[8, 22, 1001][..]));
        assert_eq!(shapes[2], ("conv_spatial", &[16, 1001][..]));
        assert_eq!(shapes[4], ("pool_1+drop_1", &[16, 250][..]));
        assert_eq!(shapes[5], ("conv_separable", &[16, 251][..]));
        assert_eq!(shapes[7], ("pool_2+drop_2", &[16, 31][..]));
        assert_eq!(shapes[8], ("final_layer", &[4][..]));
        // 64 + 3 (pool 4) + 15 * 4 (kernel 16) + 7 * 4 (pool 8) samples.
        assert_eq!(built.summary.receptive_field_samples, 155);
        assert!((built.summary.receptive_field_ms - 620.0).abs() < 1e-9);
    }

    #[test]
    fn output_shape() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("eegnet") else {
            panic!()
        };
        assert_output_shape(&spec, &shape(4, 128, 3), 5)
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("eegnet") else {
            panic!()
        };
        assert_every_var_gets_gradient(&spec, &shape(4, 64, 2), &[])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        assert_overfits(&spec_without_dropout(), 4, 128, 1e-2, 100).map(|_| ())
    }

    #[test]
    fn too_short_windows_name_the_minimum() {
        let spec = unsized_spec();
        assert_eq!(spec.min_samples(), 27);
        assert!(spec.feature_len(27).is_some());
        let vm = candle_nn::VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&vm, candle_core::DType::F32, &Device::Cpu);
        let Err(err) = super::super::build(&spec, &shape(4, 26, 2), vb) else {
            panic!("26 samples accepted")
        };
        assert!(err.to_string().contains("at least 27 samples"), "{err}");
    }

    #[test]
    fn spatial_filters_are_max_norm_constrained_in_training() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("eegnet") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(4, 64, 2), 4);
        let w = built
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("lock".into()))?
            .get("conv_spatial.weight")
            .cloned()
            .ok_or_else(|| candle_core::Error::Msg("missing".into()))?;
        w.set(&(w.as_tensor() * 10.0)?)?;
        let x = Tensor::randn(0f32, 1., (2, 4, 64), &Device::Cpu)?;
        built.net.forward_t(&x, false)?;
        let norms = w.as_tensor().sqr()?.sum(1)?.sqrt()?.to_vec1::<f32>()?;
        assert!(
            norms.iter().any(|&n| n > 1.0),
            "evaluation must not renormalize"
        );
        built.net.forward_t(&x, true)?;
        let norms = w.as_tensor().sqr()?.sum(1)?.sqrt()?.to_vec1::<f32>()?;
        assert!(norms.iter().all(|&n| n <= 1.0 + 1e-5), "{norms:?}");
        Ok(())
    }

    /// `input` at `rate_hz`.
    fn at(mut input: InputShape, rate_hz: f64) -> InputShape {
        input.rate_hz = rate_hz;
        input
    }

    #[test]
    fn sized_kernels_keep_their_duration_at_every_rate() {
        let spec = EegNetConfig::default();
        let mut field_s = Vec::new();
        for (rate, kernel, pool1) in [(128.0, 64, 4), (256.0, 128, 8), (512.0, 256, 16)] {
            // 4-s windows.
            let input = at(shape(4, (4.0 * rate) as usize, 2), rate);
            let (sized, notes) = spec.sized_for(&input);
            assert_eq!((sized.kernel_length, sized.pool1), (kernel, pool1), "{rate} Hz");
            assert_eq!((sized.depthwise_kernel_length, sized.pool2), (16, 8));
            assert!(!sized.size_to_window);
            assert!(
                notes[0].starts_with(&format!("temporal kernel {kernel} samples = 0.50 s at {rate:.0} Hz")),
                "{notes:?}"
            );
            let built = build_cpu(&ModelSpec::new(spec.clone()), &input, 0);
            assert_eq!(built.summary.sizing, notes);
            assert_eq!(built.summary.layers[0].output_shape, [8, 4, input.samples + 1]);
            field_s.push(built.summary.receptive_field_ms / 1000.0);
        }
        // The receptive field (kernel, poolings, separable kernel) is the
        // same duration at every rate: 155 samples at 128 Hz.
        assert!((field_s[0] - 155.0 / 128.0).abs() < 1e-9, "{field_s:?}");
        for s in &field_s {
            assert!((s - field_s[0]).abs() < 0.02, "{field_s:?}");
        }
    }

    #[test]
    fn sized_poolings_shrink_so_tiny_windows_build() -> Result<()> {
        let spec = ModelSpec::new(EegNetConfig::default());
        for samples in [2, 5, 16, 26, 40] {
            let input = at(shape(3, samples, 2), 256.0);
            let built = build_cpu(&spec, &input, 0);
            let x = Tensor::randn(0f32, 1., (2, 3, samples), &Device::Cpu)?;
            assert_eq!(built.net.forward_t(&x, true)?.dims(), [2, 2]);
            assert!(
                built.summary.sizing.iter().any(|n| n.contains("keeps at least one time step")),
                "{samples}: {:?}",
                built.summary.sizing
            );
        }
        // Long enough windows keep both poolings.
        let (sized, notes) = EegNetConfig::default().sized_for(&at(shape(3, 512, 2), 256.0));
        assert_eq!((sized.pool1, sized.pool2), (8, 8));
        assert_eq!(notes.len(), 2, "{notes:?}");
        Ok(())
    }

    #[test]
    fn a_run_from_before_sizing_rebuilds_the_old_shapes() -> std::result::Result<(), serde_json::Error> {
        let mut saved = serde_json::json!({"kind": "eegnet", "f1": 8, "d": 2, "f2": 16,
            "kernel_length": 64, "pool1": 4, "pool2": 8, "dropout": 0.25});
        crate::model::settings_before_sizing(&mut saved);
        let old: ModelSpec = serde_json::from_value(saved)?;
        let built = build_cpu(&old, &at(shape(4, 512, 2), 256.0), 0);
        assert!(built.summary.sizing.is_empty());
        // Kernel 64 as given: 512 + 1 steps, pooled by 4 to 128.
        assert_eq!(built.summary.layers[0].output_shape, [8, 4, 513]);
        assert_eq!(built.summary.layers[4].output_shape, [16, 128]);
        Ok(())
    }
}
