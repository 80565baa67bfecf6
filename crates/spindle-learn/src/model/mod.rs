//! The model layer: a serializable [`ModelSpec`] and one file per architecture.
//!
//! Every network takes a batch of windows `x: [batch, channels, samples]` (f32)
//! and returns logits `[batch, n_outputs]` (for regression: `n_outputs` values).
//! [`build`] turns a spec and an [`InputShape`] into a boxed [`Network`] plus a
//! [`ModelSummary`] (per-layer output shapes, trainable parameter counts,
//! receptive field).
//!
//! The layers work around candle's known pitfalls (listed in
//! `ARCHITECTURE.md`): pooling only
//! through the 2-D ops with kernel == stride on a cropped length, explicit zero
//! padding before `conv1d`, batch norm and dropout as `forward_t(x, train)`,
//! and recurrent cells stepped by hand. Hot layers live behind small structs
//! ([`conv::Conv1d`], [`eegnet::TemporalConv`], [`rnn::RnnLayer`],
//! [`pool::avg_pool1d_strided`]) so that a performance pass can swap in custom
//! kernels without touching the architectures.

mod check;
pub mod conv;
pub mod dense;
mod error;
pub mod init;
pub mod norm;
mod params;
pub mod pool;
pub mod registry;
mod sizing;
mod spec;
mod summary;

/// Declares the architecture files and lists their `ARCHITECTURES` entries,
/// in menu order.
macro_rules! architecture_files {
    ($($file:ident),* $(,)?) => {
        $(pub mod $file;)*

        /// Each architecture file's entries, in menu order.
        const ARCHITECTURE_FILES: &[&[Architecture]] = &[$($file::ARCHITECTURES),*];
    };
}

// Adding an architecture: one file with its hyper-parameter struct (a `Hyper`
// implementation), its network and its `ARCHITECTURES` entries, plus its name
// here.
architecture_files![eegnet, shallow, deep4, cnn1d, m5, crnn, sleep, rnn, mlp];

#[cfg(test)]
mod testing;

use candle_core::{DType, Tensor};
use candle_nn::VarBuilder;

pub use dense::seed_dropout;
pub use error::ModelError;
pub use init::seeded_var_builder;
pub use params::{count_trainable_params, is_trainable_name, trainable_var_names, trainable_vars};
pub use registry::{
    Architecture, Family, HyperParam, ParamKind, ParamValue, WindowFacts, architecture,
    architecture_of, architectures,
};
pub use rnn::RnnCell;
pub use sizing::settings_before_sizing;
pub(crate) use spec::Hyper;
pub use spec::{Kind, ModelSpec};
pub(crate) use summary::Trace;
pub use summary::{LayerInfo, ModelSummary};

/// The shape of one input window and the size of the output.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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
    fn forward_traced(
        &self,
        x: &Tensor,
        train: bool,
        trace: &mut Trace,
    ) -> candle_core::Result<Tensor>;

    /// How many input samples one output of the last feature layer sees,
    /// before the classifier mixes everything (unclamped).
    fn receptive_field_samples(&self) -> usize;

    /// What the network learned to see: the penultimate layer's output
    /// `[batch, features]` for `x: [batch, channels, samples]`, i.e. what
    /// its classifier head (the last linear layer) reads, in evaluation
    /// mode. Every architecture marks it with [`Trace::head_input`].
    fn features(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut trace = Trace::capturing();
        self.forward_traced(x, false, &mut trace)?;
        trace.into_head().ok_or_else(|| {
            candle_core::Error::Msg("the architecture marks no classifier head".into())
        })
    }
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
    let (net, summary) = build_traced(spec, input, vb)?;
    Ok((net, summary))
}

/// [`build`], keeping the network's [`Traced`] side (explanations read the
/// layers' outputs).
pub(crate) fn build_traced(
    spec: &ModelSpec,
    input: &InputShape,
    vb: VarBuilder,
) -> Result<(Box<dyn Traced>, ModelSummary), ModelError> {
    spec.validate()?;
    spindle_kernels::tune_allocator();
    if input.channels == 0 || input.n_outputs == 0 {
        return Err(ModelError::InvalidInput {
            reason: format!(
                "need at least one channel and one output (got {} channels, {} outputs)",
                input.channels, input.n_outputs
            ),
        });
    }
    let (built, sizing) = spec.sized_for(input);
    let min = built.min_samples();
    if input.samples < min {
        return Err(ModelError::InputTooShort {
            model: spec.display_name(),
            samples: input.samples,
            min_samples: min,
        });
    }
    let dtype = vb.dtype();
    let device = vb.device().clone();
    let model = built.build_network(vb, input)?;
    let (model, mut summary) = finish(model, input, dtype, &device)?;
    summary.sizing = sizing;
    Ok((model, summary))
}

/// Runs a traced forward pass on a zero window and boxes the network.
fn finish(
    model: Box<dyn Traced>,
    input: &InputShape,
    dtype: DType,
    device: &candle_core::Device,
) -> Result<(Box<dyn Traced>, ModelSummary), ModelError> {
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
    Ok((model, summary))
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use candle_core::Device;
    use candle_nn::VarMap;

    #[test]
    fn too_short_input_is_a_clear_error() {
        let Some(spec) = ModelSpec::by_name("m5") else {
            panic!()
        };
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        match build(&spec, &shape(1, 1000, 10), vb) {
            Err(ModelError::InputTooShort {
                samples: 1000,
                min_samples: 6848,
                ..
            }) => {}
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("1000 samples accepted"),
        }
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        assert!(matches!(
            build(&spec, &shape(0, 8000, 10), vb),
            Err(ModelError::InvalidInput { .. })
        ));
    }

    #[test]
    fn every_architecture_gives_the_features_its_head_reads() -> candle_core::Result<()> {
        for arch in architectures() {
            let spec = arch.default_spec();
            let samples = spec.min_samples().max(256);
            let input = shape(2, samples, 3);
            let varmap = VarMap::new();
            let vb = seeded_var_builder(&varmap, DType::F32, &Device::Cpu, 5);
            let Ok((traced, summary)) = build_traced(&spec, &input, vb) else {
                panic!("{}", arch.name)
            };
            let x = Tensor::randn(0f32, 1., (2, input.channels, samples), &Device::Cpu)?;
            let f = traced.features(&x)?;
            let (batch, width) = f.dims2()?;
            assert_eq!(batch, 2, "{}", arch.name);
            assert!(width >= 2, "{}: {width} features", arch.name);
            // The head's weight reads exactly these features.
            let summary_last = summary.layers.last().map(|l| l.params).unwrap_or(0);
            assert!(
                summary_last >= width * 3,
                "{}: the head has {summary_last} weights for {width} features",
                arch.name
            );
            // Features change with the input (not a constant).
            let g = traced.features(&(x * 2.0)?)?;
            let diff = (f - g)?.abs()?.sum_all()?.to_scalar::<f32>()?;
            assert!(diff > 0.0, "{}", arch.name);
        }
        Ok(())
    }

    #[test]
    fn running_statistics_are_not_trainable() {
        let Some(spec) = ModelSpec::by_name("cnn1d") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(2, 32, 2), 0);
        let all = built.varmap.all_vars().len();
        let names = trainable_var_names(&built.varmap);
        assert_eq!(
            all - names.len(),
            2 * 3,
            "three batch norms, two statistics each"
        );
        assert!(names.iter().all(|n| is_trainable_name(n)));
        assert!(names.contains(&"block0.bn.weight".to_string()));
        assert!(!is_trainable_name("block0.bn.running_var"));
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn weights_saved_and_loaded_give_the_same_predictions() -> candle_core::Result<()> {
        let Some(spec) = ModelSpec::by_name("eegnet") else {
            panic!()
        };
        let input = shape(3, 64, 2);
        let built = build_cpu(&spec, &input, 11);
        let x = Tensor::randn(0f32, 1., (4, 3, 64), &Device::Cpu)?;
        built.net.forward_t(&x, true)?; // move the running statistics
        let before = built
            .net
            .forward_t(&x, false)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("model.safetensors");
        built.varmap.save(&path)?;
        // Safety: the file is written above and not modified while mapped.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &Device::Cpu)? };
        let loaded = build(&spec, &input, vb);
        let Ok((net, _)) = loaded else {
            panic!("loading failed")
        };
        let after = net.forward_t(&x, false)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(before, after);
        Ok(())
    }

    /// Forward + backward time of a batch of 64 on the standard configurations.
    /// `cargo test --release --lib model::tests::time_standard_configs -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, not a check"]
    fn time_standard_configs() -> candle_core::Result<()> {
        let configs = [
            ("eegnet", shape(22, 1000, 4)),
            ("shallow", shape(22, 1000, 4)),
            ("deep4", shape(22, 1000, 4)),
            ("crnn", shape(22, 1000, 4)),
            ("sleep", shape(2, 3000, 5)),
            ("lstm", shape(22, 250, 4)),
            ("gru", shape(22, 250, 4)),
            ("cnn1d-audio", shape(1, 16000, 10)),
        ];
        for (name, input) in configs {
            let Some(spec) = ModelSpec::by_name(name) else {
                panic!()
            };
            let built = build_cpu(&spec, &input, 0);
            let x = Tensor::randn(0f32, 1., (64, input.channels, input.samples), &Device::Cpu)?;
            let labels: Vec<u32> = (0..64u32).map(|i| i % input.n_outputs as u32).collect();
            let y = Tensor::new(labels.as_slice(), &Device::Cpu)?;
            let mut times = Vec::new();
            for _ in 0..4 {
                let t0 = std::time::Instant::now();
                let loss = candle_nn::loss::cross_entropy(&built.net.forward_t(&x, true)?, &y)?;
                let t1 = std::time::Instant::now();
                let _grads = loss.backward()?;
                let t2 = std::time::Instant::now();
                times.push(((t1 - t0).as_secs_f64() * 1e3, (t2 - t1).as_secs_f64() * 1e3));
            }
            times.sort_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)));
            let (f, b) = times[times.len() / 2];
            println!(
                "{name:12} forward {f:8.1} ms  backward {b:8.1} ms  => {:7.1} samples/s (fwd+bwd only)",
                64.0 / ((f + b) / 1e3)
            );
        }
        Ok(())
    }
}
