//! A plain 1-D CNN for multichannel windows: a sensible first model for EEG.
//!
//! ```text
//! x [B, C, T]
//! block{i}   conv (kernel k, 'same' padding, no bias) + batch norm + ReLU + max-pool p
//! global average pool over time, dropout
//! fc         linear to n_outputs
//! ```

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::{Padding, WeightInit};
use super::dense::{Dense, dropout};
use super::m5::ConvBlock;
use super::pool::global_avg_pool;
use super::summary::{ReceptiveField, Trace, pooled_len};
use super::{InputShape, ModelError, ModelSpec, Network, Traced};

/// The hyper-parameters of [`ModelSpec::Cnn1d`], unpacked.
#[derive(Debug, Clone)]
struct Config {
    filters: Vec<usize>,
    kernel: usize,
    pool: usize,
    dropout: f64,
}

impl Config {
    fn from_spec(spec: &ModelSpec) -> Result<Self> {
        let ModelSpec::Cnn1d {
            filters,
            kernel,
            pool,
            dropout,
        } = spec
        else {
            candle_core::bail!("Cnn1d::new needs a Cnn1d spec, got {}", spec.display_name())
        };
        Ok(Self {
            filters: filters.clone(),
            kernel: *kernel,
            pool: *pool,
            dropout: *dropout,
        })
    }
}

/// Time steps before the global pool for a window of `samples` (`None` if too short).
pub(crate) fn feature_len(spec: &ModelSpec, samples: usize) -> Option<usize> {
    let c = Config::from_spec(spec).ok()?;
    let mut t = (samples >= 1).then_some(samples)?;
    for _ in &c.filters {
        t = pooled_len(t, c.pool)?; // 'same' convolutions keep the length
    }
    Some(t)
}

/// The configurable CNN; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct Cnn1d {
    blocks: Vec<ConvBlock>,
    fc: Dense,
    config: Config,
}

impl Cnn1d {
    /// Builds the layers under `vb` (`block{i}.conv`, `block{i}.bn`, `fc`).
    pub fn new(
        vb: VarBuilder,
        spec: &ModelSpec,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let c = Config::from_spec(spec)?;
        let mut blocks = Vec::with_capacity(c.filters.len());
        let mut in_channels = input.channels;
        for (i, &out) in c.filters.iter().enumerate() {
            let vb = vb.pp(format!("block{i}"));
            blocks.push(ConvBlock::new(
                vb.pp("conv"),
                vb.pp("bn"),
                in_channels,
                out,
                c.kernel,
                1,
                Padding::Same,
                false,
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

impl Traced for Cnn1d {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let mut x = x.clone(); // [B, C, T]
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward_t(&x, train)?; // [B, filters[i], T / pool^(i+1)]
            t.record(&format!("block{i}"), &x, block.params());
        }
        let x = global_avg_pool(&x)?; // [B, filters[last]]
        let x = dropout(&x, self.config.dropout, train)?;
        t.record("global_avg_pool+dropout", &x, 0);
        let x = self.fc.forward(&x)?; // [B, n_outputs]
        t.record("fc", &x, self.fc.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        let c = &self.config;
        c.filters
            .iter()
            .fold(ReceptiveField::new(), |rf, _| {
                rf.then(c.kernel, 1).then(c.pool, c.pool)
            })
            .samples
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

    #[test]
    fn shapes_parameters_and_receptive_field() {
        let Some(spec) = ModelSpec::by_name("cnn1d") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(4, 128, 3), 0);
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
        assert_eq!(spec.min_samples(), 8);
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
        let spec = ModelSpec::Cnn1d {
            filters: vec![16, 16],
            kernel: 7,
            pool: 2,
            dropout: 0.0,
        };
        assert_overfits(&spec, 4, 128, 1e-2, 100).map(|_| ())
    }
}
