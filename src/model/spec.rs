//! The serializable description of a network: architecture and hyper-parameters.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// The recurrent cell of [`ModelSpec::Rnn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RnnCell {
    /// Long short-term memory (PyTorch `nn.LSTM` gate order i, f, g, o).
    Lstm,
    /// Gated recurrent unit (PyTorch `nn.GRU` gate order r, z, n).
    Gru,
}

/// A network architecture and all its hyper-parameters.
///
/// Serialized as JSON with a `kind` tag, e.g. `{"kind":"eegnet","f1":8,...}`;
/// missing fields take the defaults below, so older run folders keep loading.
/// Defaults follow braindecode (EEGNet, ShallowFBCSPNet), PyTorch (`nn.LSTM`,
/// `nn.GRU`) and torchaudio's M5 tutorial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSpec {
    /// Flatten the window, hidden layers with ReLU and dropout, linear output.
    Mlp {
        /// Width of each hidden layer (default `[128]`).
        #[serde(default = "d::mlp_hidden")]
        hidden: Vec<usize>,
        /// Dropout probability after each hidden layer (default 0.25).
        #[serde(default = "d::quarter")]
        dropout: f64,
    },
    /// Blocks of convolution + batch norm + ReLU + max pool, global average
    /// pool, dropout, linear output.
    Cnn1d {
        /// Filters of each block (default `[32, 64, 64]`).
        #[serde(default = "d::cnn1d_filters")]
        filters: Vec<usize>,
        /// Convolution kernel in samples, 'same' padding (default 7).
        #[serde(default = "d::cnn1d_kernel")]
        kernel: usize,
        /// Max-pool size (kernel == stride) after each block (default 2).
        #[serde(default = "d::two")]
        pool: usize,
        /// Dropout probability before the output layer (default 0.25).
        #[serde(default = "d::quarter")]
        dropout: f64,
    },
    /// EEGNet v4 (Lawhern et al. 2018) as in braindecode's `EEGNet`.
    #[serde(rename = "eegnet")]
    EegNet {
        /// Temporal filters (default 8).
        #[serde(default = "d::eight")]
        f1: usize,
        /// Spatial filters per temporal filter (default 2).
        #[serde(default = "d::two")]
        d: usize,
        /// Pointwise filters of the separable convolution (default 16).
        #[serde(default = "d::sixteen")]
        f2: usize,
        /// Temporal kernel in samples (default 64).
        #[serde(default = "d::sixty_four")]
        kernel_length: usize,
        /// Kernel of the separable (depthwise) temporal convolution in samples (default 16).
        #[serde(default = "d::sixteen")]
        depthwise_kernel_length: usize,
        /// First average pool in samples (default 4).
        #[serde(default = "d::four")]
        pool1: usize,
        /// Second average pool in samples (default 8).
        #[serde(default = "d::eight")]
        pool2: usize,
        /// Dropout probability (default 0.25).
        #[serde(default = "d::quarter")]
        dropout: f64,
        /// Batch-norm momentum, PyTorch convention (default 0.01).
        #[serde(default = "d::eegnet_momentum")]
        batch_norm_momentum: f64,
        /// Batch-norm epsilon (default 1e-3).
        #[serde(default = "d::eegnet_eps")]
        batch_norm_eps: f64,
        /// Max L2 norm of each spatial filter, applied before each training
        /// forward pass as braindecode does (default 1; `null` for none).
        #[serde(default = "d::eegnet_max_norm")]
        spatial_max_norm: Option<f64>,
    },
    /// ShallowFBCSPNet (Schirrmeister et al. 2017) as in braindecode.
    Shallow {
        /// Temporal filters (default 40).
        #[serde(default = "d::forty")]
        n_filters_time: usize,
        /// Temporal kernel in samples (default 25).
        #[serde(default = "d::twenty_five")]
        filter_time_length: usize,
        /// Spatial filters (default 40).
        #[serde(default = "d::forty")]
        n_filters_spat: usize,
        /// Average-pool window in samples (default 75).
        #[serde(default = "d::seventy_five")]
        pool_time_length: usize,
        /// Average-pool stride in samples (default 15).
        #[serde(default = "d::fifteen")]
        pool_time_stride: usize,
        /// Dropout probability before the classifier (default 0.5).
        #[serde(default = "d::half")]
        dropout: f64,
        /// Batch-norm momentum, PyTorch convention (default 0.1).
        #[serde(default = "d::tenth")]
        batch_norm_momentum: f64,
        /// Batch-norm epsilon (default 1e-5).
        #[serde(default = "d::torch_eps")]
        batch_norm_eps: f64,
    },
    /// Stacked LSTM or GRU over time (the window's samples are the time
    /// steps, its channels the features), classified from the last step.
    Rnn {
        /// LSTM or GRU (default LSTM).
        #[serde(default = "d::lstm")]
        cell: RnnCell,
        /// Hidden units per direction (default 64).
        #[serde(default = "d::sixty_four")]
        hidden: usize,
        /// Stacked layers (default 2).
        #[serde(default = "d::two")]
        layers: usize,
        /// Run a second, time-reversed direction per layer (default false).
        #[serde(default)]
        bidirectional: bool,
        /// Dropout probability between layers (default 0, as PyTorch).
        #[serde(default)]
        dropout: f64,
    },
    /// M5 raw-waveform CNN (Dai et al. 2017, torchaudio's tutorial): a strided
    /// first convolution, blocks of convolution + batch norm + ReLU + max pool,
    /// global average pool, linear output.
    M5 {
        /// Filters of the first convolution and of each following block
        /// (default `[32, 32, 64, 64]`).
        #[serde(default = "d::m5_filters")]
        filters: Vec<usize>,
        /// First convolution kernel in samples (default 80).
        #[serde(default = "d::eighty")]
        first_kernel: usize,
        /// First convolution stride in samples (default 16).
        #[serde(default = "d::sixteen")]
        first_stride: usize,
        /// Kernel of the later convolutions in samples, no padding (default 3).
        #[serde(default = "d::three")]
        kernel: usize,
        /// Max-pool size after each convolution (default 4).
        #[serde(default = "d::four")]
        pool: usize,
    },
}

/// Default values of the spec fields (one place for serde and `by_name`).
mod d {
    use super::RnnCell;
    pub fn mlp_hidden() -> Vec<usize> {
        vec![128]
    }
    pub fn cnn1d_filters() -> Vec<usize> {
        vec![32, 64, 64]
    }
    pub fn m5_filters() -> Vec<usize> {
        vec![32, 32, 64, 64]
    }
    pub fn cnn1d_kernel() -> usize {
        7
    }
    pub fn two() -> usize {
        2
    }
    pub fn three() -> usize {
        3
    }
    pub fn four() -> usize {
        4
    }
    pub fn eight() -> usize {
        8
    }
    pub fn fifteen() -> usize {
        15
    }
    pub fn sixteen() -> usize {
        16
    }
    pub fn twenty_five() -> usize {
        25
    }
    pub fn forty() -> usize {
        40
    }
    pub fn sixty_four() -> usize {
        64
    }
    pub fn seventy_five() -> usize {
        75
    }
    pub fn eighty() -> usize {
        80
    }
    pub fn quarter() -> f64 {
        0.25
    }
    pub fn half() -> f64 {
        0.5
    }
    pub fn tenth() -> f64 {
        0.1
    }
    pub fn torch_eps() -> f64 {
        1e-5
    }
    pub fn eegnet_momentum() -> f64 {
        0.1
    }
    pub fn eegnet_eps() -> f64 {
        1e-3
    }
    pub fn eegnet_max_norm() -> Option<f64> {
        Some(1.0)
    }
    pub fn lstm() -> RnnCell {
        RnnCell::Lstm
    }
}

impl ModelSpec {
    /// The spec with default hyper-parameters for a short name of the
    /// architecture registry (see [`ModelSpec::names`]); aliases such as
    /// `cnn1d-audio` (for `m5`) are accepted. Case-insensitive.
    pub fn by_name(name: &str) -> Option<ModelSpec> {
        super::registry::architecture(name).map(|a| a.default_spec())
    }

    /// The short names accepted by [`ModelSpec::by_name`], in menu order.
    pub fn names() -> Vec<&'static str> {
        super::registry::model_names()
    }

    /// A human-readable name with the main hyper-parameters, e.g. `EEGNet (F1=8, D=2, F2=16)`.
    pub fn display_name(&self) -> String {
        let join = |v: &[usize]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("-")
        };
        match self {
            ModelSpec::Mlp { hidden, .. } => format!("MLP ({})", join(hidden)),
            ModelSpec::Cnn1d {
                filters, kernel, ..
            } => {
                format!("CNN1d ({}, kernel {kernel})", join(filters))
            }
            ModelSpec::EegNet { f1, d, f2, .. } => format!("EEGNet (F1={f1}, D={d}, F2={f2})"),
            ModelSpec::Shallow { .. } => "ShallowFBCSPNet".to_string(),
            ModelSpec::Rnn {
                cell,
                hidden,
                layers,
                bidirectional,
                ..
            } => {
                let cell = match cell {
                    RnnCell::Lstm => "LSTM",
                    RnnCell::Gru => "GRU",
                };
                let bi = if *bidirectional { "Bi" } else { "" };
                format!("{bi}{cell} {layers}x{hidden}")
            }
            ModelSpec::M5 { filters, .. } => format!("M5 ({})", join(filters)),
        }
    }

    /// Checks that every hyper-parameter is in range.
    pub fn validate(&self) -> Result<(), ModelError> {
        let fail = |reason: String| {
            Err(ModelError::InvalidSpec {
                model: self.display_name(),
                reason,
            })
        };
        let prob = |name: &str, p: f64| -> Result<(), ModelError> {
            if (0.0..1.0).contains(&p) {
                Ok(())
            } else {
                fail(format!("{name} must be in [0, 1), got {p}"))
            }
        };
        let positive = |name: &str, v: usize| -> Result<(), ModelError> {
            if v >= 1 {
                Ok(())
            } else {
                fail(format!("{name} must be at least 1"))
            }
        };
        let widths = |name: &str, v: &[usize]| -> Result<(), ModelError> {
            if v.is_empty() || v.contains(&0) {
                fail(format!(
                    "{name} must be a non-empty list of positive sizes, got {v:?}"
                ))
            } else {
                Ok(())
            }
        };
        let batch_norm = |momentum: f64, eps: f64| -> Result<(), ModelError> {
            if !(0.0..=1.0).contains(&momentum) {
                return fail(format!(
                    "batch_norm_momentum must be in [0, 1], got {momentum}"
                ));
            }
            if eps.is_nan() || eps <= 0.0 {
                return fail(format!("batch_norm_eps must be positive, got {eps}"));
            }
            Ok(())
        };
        match self {
            ModelSpec::Mlp { hidden, dropout } => {
                if hidden.contains(&0) {
                    return fail(format!("hidden sizes must be positive, got {hidden:?}"));
                }
                prob("dropout", *dropout)
            }
            ModelSpec::Cnn1d {
                filters,
                kernel,
                pool,
                dropout,
            } => {
                widths("filters", filters)?;
                positive("kernel", *kernel)?;
                positive("pool", *pool)?;
                prob("dropout", *dropout)
            }
            ModelSpec::EegNet {
                f1,
                d,
                f2,
                kernel_length,
                depthwise_kernel_length,
                pool1,
                pool2,
                dropout,
                batch_norm_momentum,
                batch_norm_eps,
                spatial_max_norm,
            } => {
                positive("f1", *f1)?;
                positive("d", *d)?;
                positive("f2", *f2)?;
                positive("kernel_length", *kernel_length)?;
                positive("depthwise_kernel_length", *depthwise_kernel_length)?;
                positive("pool1", *pool1)?;
                positive("pool2", *pool2)?;
                prob("dropout", *dropout)?;
                batch_norm(*batch_norm_momentum, *batch_norm_eps)?;
                match spatial_max_norm {
                    Some(m) if m.is_nan() || *m <= 0.0 => {
                        fail(format!("spatial_max_norm must be positive, got {m}"))
                    }
                    _ => Ok(()),
                }
            }
            ModelSpec::Shallow {
                n_filters_time,
                filter_time_length,
                n_filters_spat,
                pool_time_length,
                pool_time_stride,
                dropout,
                batch_norm_momentum,
                batch_norm_eps,
            } => {
                positive("n_filters_time", *n_filters_time)?;
                positive("filter_time_length", *filter_time_length)?;
                positive("n_filters_spat", *n_filters_spat)?;
                positive("pool_time_length", *pool_time_length)?;
                positive("pool_time_stride", *pool_time_stride)?;
                prob("dropout", *dropout)?;
                batch_norm(*batch_norm_momentum, *batch_norm_eps)
            }
            ModelSpec::Rnn {
                hidden,
                layers,
                dropout,
                ..
            } => {
                positive("hidden", *hidden)?;
                positive("layers", *layers)?;
                prob("dropout", *dropout)
            }
            ModelSpec::M5 {
                filters,
                first_kernel,
                first_stride,
                kernel,
                pool,
            } => {
                widths("filters", filters)?;
                positive("first_kernel", *first_kernel)?;
                positive("first_stride", *first_stride)?;
                positive("kernel", *kernel)?;
                positive("pool", *pool)
            }
        }
    }

    /// The shortest window (samples) this architecture accepts.
    pub fn min_samples(&self) -> usize {
        super::summary::min_fitting(|samples| self.feature_len(samples).is_some())
    }

    /// Time steps left before the classifier for a window of `samples`
    /// (`None` when the window is too short).
    pub(crate) fn feature_len(&self, samples: usize) -> Option<usize> {
        match self {
            ModelSpec::Mlp { .. } | ModelSpec::Rnn { .. } => (samples >= 1).then_some(samples),
            ModelSpec::Cnn1d { .. } => super::cnn1d::feature_len(self, samples),
            ModelSpec::EegNet { .. } => super::eegnet::feature_len(self, samples),
            ModelSpec::Shallow { .. } => super::shallow::feature_len(self, samples),
            ModelSpec::M5 { .. } => super::m5::feature_len(self, samples),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_spec_and_json_round_trips() -> Result<(), serde_json::Error> {
        for name in ModelSpec::names() {
            let Some(spec) = ModelSpec::by_name(name) else {
                panic!("no spec for {name}")
            };
            assert!(spec.validate().is_ok(), "{name}");
            let json = serde_json::to_string(&spec)?;
            let back: ModelSpec = serde_json::from_str(&json)?;
            assert_eq!(back, spec, "{json}");
        }
        assert_eq!(ModelSpec::by_name("cnn1d-audio"), ModelSpec::by_name("m5"));
        assert_eq!(ModelSpec::by_name("EEGNet"), ModelSpec::by_name("eegnet"));
        assert_eq!(ModelSpec::by_name("resnet"), None);
        Ok(())
    }

    #[test]
    fn json_has_a_kind_tag_and_missing_fields_take_defaults() -> Result<(), serde_json::Error> {
        let spec: ModelSpec = serde_json::from_str(r#"{"kind":"eegnet"}"#)?;
        assert_eq!(Some(spec.clone()), ModelSpec::by_name("eegnet"));
        let json = serde_json::to_value(&spec)?;
        assert_eq!(json["kind"], "eegnet");
        assert_eq!(json["f1"], 8);
        let spec: ModelSpec =
            serde_json::from_str(r#"{"kind":"rnn","cell":"gru","bidirectional":true}"#)?;
        assert_eq!(Some(spec), ModelSpec::by_name("bigru"));
        let spec: ModelSpec = serde_json::from_str(r#"{"kind":"m5","filters":[8,8]}"#)?;
        assert!(matches!(spec, ModelSpec::M5 { ref filters, pool: 4, .. } if filters == &[8, 8]));
        Ok(())
    }

    #[test]
    fn display_names() {
        let name = |n: &str| ModelSpec::by_name(n).map(|s| s.display_name());
        assert_eq!(name("eegnet").as_deref(), Some("EEGNet (F1=8, D=2, F2=16)"));
        assert_eq!(name("bigru").as_deref(), Some("BiGRU 2x64"));
        assert_eq!(name("m5").as_deref(), Some("M5 (32-32-64-64)"));
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        let bad = ModelSpec::Rnn {
            cell: RnnCell::Gru,
            hidden: 0,
            layers: 1,
            bidirectional: false,
            dropout: 0.0,
        };
        let Err(err) = bad.validate() else {
            panic!("hidden 0 accepted")
        };
        assert!(err.to_string().contains("hidden"), "{err}");
        let bad = ModelSpec::Mlp {
            hidden: vec![4],
            dropout: 1.0,
        };
        assert!(bad.validate().is_err());
    }
}
