//! Multilayer perceptron on the flattened window: a baseline.
//!
//! ```text
//! x [B, C, T] -> flatten [B, C*T]
//! hidden{i}   linear + ReLU + dropout
//! out         linear to n_outputs
//! ```

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::WeightInit;
use super::dense::{Dense, dropout};
use super::summary::Trace;
use super::registry::{no_advice, DROPOUT_HELP, dropout as dropout_param, list};
use super::{Architecture, Family, Hyper, InputShape, Kind, ModelError, Network, Traced, check};

/// The menu entry.
pub const ARCHITECTURES: &[Architecture] = &[Architecture {
    name: "mlp",
    aliases: &[],
    title: "MLP",
    family: Family::Dense,
    description: "Fully connected layers on the flattened window: no notion of time. A sanity-check baseline.",
    kind: Kind::of::<MlpConfig>(),
    fixed: "{}",
    advise: no_advice,
    params: &[
        list(
            "hidden",
            "hidden widths",
            "one number per hidden layer, e.g. 128",
            4096.0,
        ),
        dropout_param("dropout", DROPOUT_HELP),
    ],
}];

/// Flatten the window, hidden layers with ReLU and dropout, linear output
/// (JSON kind `mlp`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MlpConfig {
    /// Width of each hidden layer (default `[128]`).
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden layer (default 0.25).
    pub dropout: f64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: vec![128],
            dropout: 0.25,
        }
    }
}

impl Hyper for MlpConfig {
    const KIND: &'static str = "mlp";

    fn display_name(&self) -> String {
        let widths: Vec<String> = self.hidden.iter().map(ToString::to_string).collect();
        format!("MLP ({})", widths.join("-"))
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.hidden.contains(&0) {
            return Err(format!(
                "hidden sizes must be positive, got {:?}",
                self.hidden
            ));
        }
        check::probability("dropout", self.dropout)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        (samples >= 1).then_some(samples)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(Mlp::new(vb, self, input)?))
    }
}

/// The MLP; see the module documentation for the layer stack.
#[derive(Debug, Clone)]
pub struct Mlp {
    hidden: Vec<Dense>,
    out: Dense,
    dropout: f64,
    samples: usize,
}

impl Mlp {
    /// Builds the layers under `vb` (`hidden{i}`, `out`).
    pub fn new(
        vb: VarBuilder,
        config: &MlpConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let MlpConfig { hidden, dropout } = config;
        let mut layers = Vec::with_capacity(hidden.len());
        let mut width = input.channels * input.samples;
        for (i, &h) in hidden.iter().enumerate() {
            layers.push(Dense::new(
                vb.pp(format!("hidden{i}")),
                width,
                h,
                WeightInit::Torch,
            )?);
            width = h;
        }
        let out = Dense::new(vb.pp("out"), width, input.n_outputs, WeightInit::Torch)?;
        Ok(Self {
            hidden: layers,
            out,
            dropout: *dropout,
            samples: input.samples,
        })
    }
}

impl Traced for Mlp {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let mut x = x.flatten_from(1)?; // [B, C*T]
        for (i, layer) in self.hidden.iter().enumerate() {
            x = layer.forward(&x)?.relu()?; // [B, hidden[i]]
            x = dropout(&x, self.dropout, train)?;
            t.record(&format!("hidden{i}"), &x, layer.params());
        }
        t.head_input(&x)?;
        let x = self.out.forward(&x)?; // [B, n_outputs]
        t.record("out", &x, self.out.params());
        Ok(x)
    }

    fn receptive_field_samples(&self) -> usize {
        self.samples
    }
}

impl Network for Mlp {
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
    fn shapes_and_parameters() -> Result<()> {
        let Some(spec) = ModelSpec::by_name("mlp") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(4, 32, 3), 0);
        assert_eq!(
            built.summary.trainable_params,
            128 * 128 + 128 + 128 * 3 + 3
        );
        assert_eq!(built.summary.receptive_field_samples, 32);
        assert_output_shape(&spec, &shape(4, 32, 3), 2)
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        let spec = ModelSpec::new(MlpConfig {
            hidden: vec![16, 8],
            dropout: 0.25,
        });
        assert_every_var_gets_gradient(&spec, &shape(2, 16, 2), &[])
    }

    #[test]
    fn overfits_a_tiny_dataset() -> Result<()> {
        let spec = ModelSpec::new(MlpConfig {
            hidden: vec![32],
            dropout: 0.0,
        });
        assert_overfits(&spec, 4, 64, 1e-2, 100).map(|_| ())
    }
}
