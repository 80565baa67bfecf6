//! The model layer: a serializable [`ModelSpec`] and one file per architecture.
//!
//! Every network takes a batch of windows `x: [batch, channels, samples]` (f32)
//! and returns logits `[batch, n_outputs]` (for regression: `n_outputs` values).
//! [`build`] turns a spec and an [`InputShape`] into a boxed [`Network`] plus a
//! [`ModelSummary`] (per-layer output shapes, trainable parameter counts,
//! receptive field).
//!
//! The layers follow candle's known pitfalls (see `design.md`): pooling only
//! through the 2-D ops with kernel == stride on a cropped length, explicit zero
//! padding before `conv1d`, batch norm and dropout as `forward_t(x, train)`,
//! and recurrent cells stepped by hand. Hot layers live behind small structs
//! ([`conv::Conv1d`], [`eegnet::TemporalConv`], [`rnn::RnnLayer`],
//! [`pool::avg_pool1d_strided`]) so that a performance pass can swap in custom
//! kernels without touching the architectures.

pub mod cnn1d;
pub mod conv;
pub mod dense;
pub mod eegnet;
mod error;
pub mod init;
pub mod m5;
pub mod mlp;
pub mod norm;
mod params;
pub mod pool;
pub mod rnn;
pub mod shallow;
mod spec;
mod summary;

#[cfg(test)]
mod testing;

use candle_core::{DType, Tensor};
use candle_nn::VarBuilder;

pub use error::ModelError;
pub use init::seeded_var_builder;
pub use params::{
    count_trainable_params, is_trainable_name, trainable_var_names, trainable_vars,
};
pub use spec::{ModelSpec, RnnCell};
pub use summary::{LayerInfo, ModelSummary};

use summary::Trace;

/// The shape of one input window and the size of the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputShape {
    /// Number of input channels (EEG electrodes, audio channels).
    pub channels: usize,
    /// Number of samples per channel in one window.
    pub samples: usize,
    /// Sample rate of the window in Hz (used for the receptive field in ms).
    pub rate_hz: f64,
    /// Number of outputs: classes for classification, values for regression.
    pub n_outputs: usize,
}

/// A trained or trainable network: logits from a batch of windows.
pub trait Network: Send + Sync {
    /// Logits `[batch, n_outputs]` from `x: [batch, channels, samples]`.
    ///
    /// `train` switches dropout on and makes batch norm use (and update) batch
    /// statistics; with `train == false` the network is deterministic.
    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor>;
}

/// An architecture that can report its layers while running forward.
pub(crate) trait Traced: Network {
    /// The same computation as [`Network::forward_t`], recording each layer's
    /// output in `trace`.
    fn forward_traced(&self, x: &Tensor, train: bool, trace: &mut Trace)
    -> candle_core::Result<Tensor>;

    /// How many input samples one output of the last feature layer sees,
    /// before the classifier mixes everything (unclamped).
    fn receptive_field_samples(&self) -> usize;
}

/// Builds the network described by `spec` for windows of shape `input`,
/// creating (or loading) its variables through `vb`.
///
/// The summary comes from one forward pass over a zero batch of one window
/// in evaluation mode on `vb`'s device. Errors name the minimum window length
/// when `input.samples` is too short for the architecture.
pub fn build(
    spec: &ModelSpec,
    input: &InputShape,
    vb: VarBuilder,
) -> Result<(Box<dyn Network>, ModelSummary), ModelError> {
    spec.validate()?;
    if input.channels == 0 || input.n_outputs == 0 {
        return Err(ModelError::InvalidInput {
            reason: format!(
                "need at least one channel and one output (got {} channels, {} outputs)",
                input.channels, input.n_outputs
            ),
        });
    }
    let min = spec.min_samples();
    if input.samples < min {
        return Err(ModelError::InputTooShort {
            model: spec.display_name(),
            samples: input.samples,
            min_samples: min,
        });
    }
    let dtype = vb.dtype();
    let device = vb.device().clone();
    match spec {
        ModelSpec::Mlp { .. } => finish(mlp::Mlp::new(vb, spec, input)?, input, dtype, &device),
        ModelSpec::Cnn1d { .. } => {
            finish(cnn1d::Cnn1d::new(vb, spec, input)?, input, dtype, &device)
        }
        ModelSpec::EegNet { .. } => {
            finish(eegnet::EegNet::new(vb, spec, input)?, input, dtype, &device)
        }
        ModelSpec::Shallow { .. } => {
            finish(shallow::Shallow::new(vb, spec, input)?, input, dtype, &device)
        }
        ModelSpec::Rnn { .. } => finish(rnn::Rnn::new(vb, spec, input)?, input, dtype, &device),
        ModelSpec::M5 { .. } => finish(m5::M5::new(vb, spec, input)?, input, dtype, &device),
    }
}

/// Runs a traced forward pass on a zero window and boxes the network.
fn finish<M: Traced + 'static>(
    model: M,
    input: &InputShape,
    dtype: DType,
    device: &candle_core::Device,
) -> Result<(Box<dyn Network>, ModelSummary), ModelError> {
    let x = Tensor::zeros((1, input.channels, input.samples), dtype, device)?;
    let mut trace = Trace::on();
    let y = model.forward_traced(&x, false, &mut trace)?;
    if y.dims() != [1, input.n_outputs] {
        return Err(ModelError::InvalidInput {
            reason: format!(
                "the network produced shape {:?} instead of [1, {}]",
                y.dims(),
                input.n_outputs
            ),
        });
    }
    let summary = ModelSummary::new(
        trace.into_layers(),
        model.receptive_field_samples().min(input.samples),
        input.rate_hz,
    );
    Ok((Box::new(model), summary))
}
