//! The architectures Spindle offers, described for people: name, family,
//! what each is good for, and every editable hyper-parameter with its
//! default and its sensible range.
//!
//! The model panel, the CLI's help and `--model` parsing all read this table,
//! so an architecture added here appears everywhere without other edits. Each
//! entry's base is a [`ModelSpec`] JSON object: fields it leaves out take the
//! spec's serde defaults, and edited values are written into that JSON and
//! parsed back, so this table never repeats the spec's field list.

use serde_json::{Map, Value};

use super::{ModelError, ModelSpec};

/// What kind of network an architecture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Convolutions over time (and channels).
    Convolutional,
    /// Recurrent cells stepped over time.
    Recurrent,
    /// Fully connected layers on the flattened window.
    Dense,
}

impl Family {
    /// `convolutional`, `recurrent` or `dense`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Convolutional => "convolutional",
            Family::Recurrent => "recurrent",
            Family::Dense => "dense",
        }
    }
}

/// The type of a hyper-parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number.
    Int,
    /// A real number.
    Float,
    /// A list of whole numbers (layer widths), each within the range.
    IntList,
    /// On or off.
    Flag,
}

/// One editable hyper-parameter of an architecture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HyperParam {
    /// The field of the [`ModelSpec`] JSON it sets.
    pub key: &'static str,
    /// A short label for forms.
    pub label: &'static str,
    /// One line on what it changes.
    pub help: &'static str,
    /// Its type.
    pub kind: ParamKind,
    /// Smallest sensible value (each element of a list).
    pub min: f64,
    /// Largest sensible value (each element of a list).
    pub max: f64,
    /// True for dropout-like settings that fight overfitting.
    pub regularizer: bool,
}

/// A hyper-parameter's value as a form edits it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A number (whole for [`ParamKind::Int`]).
    Number(f64),
    /// Layer widths.
    List(Vec<usize>),
    /// A switch.
    Flag(bool),
}

impl ParamValue {
    fn to_json(&self, kind: ParamKind) -> Value {
        match (self, kind) {
            (ParamValue::Number(v), ParamKind::Int) => Value::from(v.round() as i64),
            (ParamValue::Number(v), _) => Value::from(*v),
            (ParamValue::List(v), _) => Value::from(v.clone()),
            (ParamValue::Flag(b), _) => Value::from(*b),
        }
    }

    fn from_json(value: &Value, kind: ParamKind) -> Option<Self> {
        match kind {
            ParamKind::Int | ParamKind::Float => value.as_f64().map(ParamValue::Number),
            ParamKind::Flag => value.as_bool().map(ParamValue::Flag),
            ParamKind::IntList => value
                .as_array()?
                .iter()
                .map(|v| v.as_u64().map(|x| x as usize))
                .collect::<Option<Vec<_>>>()
                .map(ParamValue::List),
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Number(v) => write!(f, "{v}"),
            ParamValue::List(v) => {
                let parts: Vec<String> = v.iter().map(ToString::to_string).collect();
                write!(f, "{}", parts.join(","))
            }
            ParamValue::Flag(b) => write!(f, "{b}"),
        }
    }
}

/// One architecture on offer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Architecture {
    /// The name `--model` takes, e.g. `eegnet`.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// The name people know it by, e.g. `EEGNet`.
    pub title: &'static str,
    /// What kind of network it is.
    pub family: Family,
    /// One or two sentences on what it is and when to choose it.
    pub description: &'static str,
    /// The [`ModelSpec`] JSON of its defaults (missing fields take serde defaults).
    base: &'static str,
    /// The hyper-parameters a form may edit.
    pub params: &'static [HyperParam],
}

const fn int(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    min: f64,
    max: f64,
) -> HyperParam {
    HyperParam {
        key,
        label,
        help,
        kind: ParamKind::Int,
        min,
        max,
        regularizer: false,
    }
}

const fn list(key: &'static str, label: &'static str, help: &'static str, max: f64) -> HyperParam {
    HyperParam {
        key,
        label,
        help,
        kind: ParamKind::IntList,
        min: 1.0,
        max,
        regularizer: false,
    }
}

const fn dropout(key: &'static str, help: &'static str) -> HyperParam {
    HyperParam {
        key,
        label: "dropout",
        help,
        kind: ParamKind::Float,
        min: 0.0,
        max: 0.9,
        regularizer: true,
    }
}

const DROPOUT_HELP: &str = "share of units switched off at random while training; the network cannot lean on any single one, which fights overfitting";

const RNN_PARAMS: &[HyperParam] = &[
    int(
        "hidden",
        "hidden units",
        "memory size of each layer (per direction)",
        4.0,
        512.0,
    ),
    int("layers", "layers", "stacked recurrent layers", 1.0, 4.0),
    dropout(
        "dropout",
        "dropout between stacked layers (needs 2 or more layers)",
    ),
];

/// Every architecture, in menu order.
pub const ARCHITECTURES: &[Architecture] = &[
    Architecture {
        name: "eegnet",
        aliases: &[],
        title: "EEGNet",
        family: Family::Convolutional,
        description: "Compact CNN for EEG (Lawhern et al. 2018): temporal filters, then spatial filters per electrode set, then a separable convolution. A strong first choice for EEG with few recordings.",
        base: r#"{"kind":"eegnet"}"#,
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
                "length of the frequency filters; half the rate resolves down to about 2 Hz",
                2.0,
                1024.0,
            ),
            int(
                "pool1",
                "first pooling (samples)",
                "time averaged after the spatial filters",
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
            dropout("dropout", DROPOUT_HELP),
        ],
    },
    Architecture {
        name: "shallow",
        aliases: &[],
        title: "ShallowConvNet",
        family: Family::Convolutional,
        description: "Shallow filter-bank CNN (Schirrmeister et al. 2017): temporal and spatial filters, squaring and log of the average power, like a learned band-power classifier. Good for oscillations such as alpha or motor rhythms.",
        base: r#"{"kind":"shallow"}"#,
        params: &[
            int(
                "n_filters_time",
                "temporal filters",
                "frequency filters learned",
                1.0,
                128.0,
            ),
            int(
                "filter_time_length",
                "temporal kernel (samples)",
                "length of each frequency filter",
                2.0,
                256.0,
            ),
            int(
                "n_filters_spat",
                "spatial filters",
                "electrode weightings learned",
                1.0,
                128.0,
            ),
            int(
                "pool_time_length",
                "pooling window (samples)",
                "time over which power is averaged",
                1.0,
                512.0,
            ),
            int(
                "pool_time_stride",
                "pooling stride (samples)",
                "step between power estimates",
                1.0,
                256.0,
            ),
            dropout("dropout", DROPOUT_HELP),
        ],
    },
    Architecture {
        name: "cnn1d",
        aliases: &[],
        title: "1-D CNN",
        family: Family::Convolutional,
        description: "A plain stack of convolution, batch norm, ReLU and max pooling blocks over time. A simple baseline for short windows; for raw audio choose M5.",
        base: r#"{"kind":"cnn1d"}"#,
        params: &[
            list(
                "filters",
                "filters per block",
                "one number per block, e.g. 32,64,64",
                512.0,
            ),
            int(
                "kernel",
                "kernel (samples)",
                "length of each convolution",
                1.0,
                256.0,
            ),
            int(
                "pool",
                "pooling (samples)",
                "time shortened by this factor after each block",
                1.0,
                16.0,
            ),
            dropout("dropout", DROPOUT_HELP),
        ],
    },
    Architecture {
        name: "m5",
        aliases: &["cnn1d-audio"],
        title: "M5 (raw audio)",
        family: Family::Convolutional,
        description: "Raw-waveform audio CNN (Dai et al. 2017): a long strided first convolution, then small convolution blocks. The choice for sound files such as animal calls.",
        base: r#"{"kind":"m5"}"#,
        params: &[
            list(
                "filters",
                "filters per block",
                "first convolution, then one number per block",
                512.0,
            ),
            int(
                "first_kernel",
                "first kernel (samples)",
                "length of the first convolution",
                1.0,
                1024.0,
            ),
            int(
                "first_stride",
                "first stride (samples)",
                "how much the first layer shortens time",
                1.0,
                128.0,
            ),
            int(
                "kernel",
                "kernel (samples)",
                "length of the later convolutions",
                1.0,
                64.0,
            ),
            int(
                "pool",
                "pooling (samples)",
                "time shortened by this factor after each block",
                1.0,
                16.0,
            ),
        ],
    },
    Architecture {
        name: "lstm",
        aliases: &[],
        title: "LSTM",
        family: Family::Recurrent,
        description: "Long short-term memory network reading the window step by step. Works on short sequences (spectrogram frames, under about 200 steps); on long raw windows prefer a CNN.",
        base: r#"{"kind":"rnn","cell":"lstm"}"#,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "gru",
        aliases: &[],
        title: "GRU",
        family: Family::Recurrent,
        description: "Gated recurrent unit: a lighter LSTM. Same advice: short sequences or spectrogram frames.",
        base: r#"{"kind":"rnn","cell":"gru"}"#,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "bilstm",
        aliases: &[],
        title: "Bidirectional LSTM",
        family: Family::Recurrent,
        description: "An LSTM reading the window forwards and backwards, so each moment sees what comes before and after.",
        base: r#"{"kind":"rnn","cell":"lstm","bidirectional":true}"#,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "bigru",
        aliases: &[],
        title: "Bidirectional GRU",
        family: Family::Recurrent,
        description: "A GRU reading the window forwards and backwards.",
        base: r#"{"kind":"rnn","cell":"gru","bidirectional":true}"#,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "mlp",
        aliases: &[],
        title: "MLP",
        family: Family::Dense,
        description: "Fully connected layers on the flattened window: no notion of time. A sanity-check baseline.",
        base: r#"{"kind":"mlp"}"#,
        params: &[
            list(
                "hidden",
                "hidden widths",
                "one number per hidden layer, e.g. 128",
                4096.0,
            ),
            dropout("dropout", DROPOUT_HELP),
        ],
    },
];

/// The architecture called `name` or one of its aliases (case-insensitive).
pub fn architecture(name: &str) -> Option<&'static Architecture> {
    let name = name.trim().to_ascii_lowercase();
    ARCHITECTURES
        .iter()
        .find(|a| a.name == name || a.aliases.contains(&name.as_str()))
}

/// The architecture a spec was made from (the first whose defaults share its
/// `kind` and fixed fields such as the cell and direction).
pub fn architecture_of(spec: &ModelSpec) -> Option<&'static Architecture> {
    let json = serde_json::to_value(spec).ok()?;
    ARCHITECTURES.iter().find(|a| {
        let Ok(Value::Object(base)) = serde_json::from_str::<Value>(a.base) else {
            return false;
        };
        base.iter().all(|(k, v)| json.get(k) == Some(v))
            && (base.contains_key("bidirectional")
                || json.get("bidirectional").is_none_or(|b| b == false))
    })
}

impl Architecture {
    fn base_json(&self) -> Map<String, Value> {
        match serde_json::from_str::<Value>(self.base) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// The spec with every default.
    pub fn default_spec(&self) -> ModelSpec {
        // The base strings are constants checked by a unit test; the fallback
        // only keeps this total.
        serde_json::from_value(Value::Object(self.base_json())).unwrap_or_else(|_| ModelSpec::Mlp {
            hidden: vec![128],
            dropout: 0.25,
        })
    }

    /// The current value of each of [`Architecture::params`] in `spec`.
    pub fn values(&self, spec: &ModelSpec) -> Vec<ParamValue> {
        let json = serde_json::to_value(spec).unwrap_or(Value::Null);
        self.params
            .iter()
            .map(|p| {
                json.get(p.key)
                    .and_then(|v| ParamValue::from_json(v, p.kind))
                    .unwrap_or(ParamValue::Number(p.min))
            })
            .collect()
    }

    /// The spec with `values` (one per [`Architecture::params`], in order)
    /// over the defaults. Fails naming the setting when a value is out of its
    /// range or the spec is invalid.
    pub fn spec_with(&self, values: &[ParamValue]) -> Result<ModelSpec, ModelError> {
        let mut json = self.base_json();
        for (p, v) in self.params.iter().zip(values) {
            self.check(p, v)?;
            json.insert(p.key.to_string(), v.to_json(p.kind));
        }
        let spec: ModelSpec =
            serde_json::from_value(Value::Object(json)).map_err(|e| self.invalid(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    fn invalid(&self, reason: String) -> ModelError {
        ModelError::InvalidSpec {
            model: self.title.to_string(),
            reason,
        }
    }

    fn check(&self, p: &HyperParam, v: &ParamValue) -> Result<(), ModelError> {
        let in_range = |x: f64| x.is_finite() && x >= p.min && x <= p.max;
        let ok = match (p.kind, v) {
            (ParamKind::Int, ParamValue::Number(x)) => in_range(*x) && x.fract() == 0.0,
            (ParamKind::Float, ParamValue::Number(x)) => in_range(*x),
            (ParamKind::IntList, ParamValue::List(xs)) => {
                !xs.is_empty() && xs.len() <= 8 && xs.iter().all(|&x| in_range(x as f64))
            }
            (ParamKind::Flag, ParamValue::Flag(_)) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.invalid(format!(
                "{} must be {} between {} and {}, got {v}",
                p.key,
                match p.kind {
                    ParamKind::Int => "a whole number",
                    ParamKind::Float => "a number",
                    ParamKind::IntList => "a list of 1 to 8 whole numbers, each",
                    ParamKind::Flag => "true or false",
                },
                p.min,
                p.max
            )))
        }
    }
}

/// The `--model` names, one per architecture, in menu order.
pub fn model_names() -> Vec<&'static str> {
    ARCHITECTURES.iter().map(|a| a.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_builds_its_defaults_and_round_trips_its_values() {
        for a in ARCHITECTURES {
            let spec = a.default_spec();
            assert!(spec.validate().is_ok(), "{}", a.name);
            assert_eq!(
                serde_json::to_value(&spec)
                    .ok()
                    .and_then(|v| v.get("kind").cloned()),
                serde_json::from_str::<Value>(a.base)
                    .ok()
                    .and_then(|v| v.get("kind").cloned()),
                "{}",
                a.name
            );
            let values = a.values(&spec);
            assert_eq!(values.len(), a.params.len());
            let Ok(again) = a.spec_with(&values) else {
                panic!("{}: defaults out of their own ranges", a.name)
            };
            assert_eq!(again, spec, "{}", a.name);
            assert_eq!(architecture_of(&spec).map(|x| x.name), Some(a.name));
        }
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(architecture("EEGNet").map(|a| a.name), Some("eegnet"));
        assert_eq!(architecture("cnn1d-audio").map(|a| a.name), Some("m5"));
        assert!(architecture("resnet").is_none());
        assert_eq!(model_names().len(), ARCHITECTURES.len());
    }

    #[test]
    fn edits_reach_the_spec_and_bad_values_name_the_setting() {
        let Some(a) = architecture("bigru") else {
            panic!("no bigru")
        };
        let mut values = a.values(&a.default_spec());
        values[0] = ParamValue::Number(32.0);
        let Ok(spec) = a.spec_with(&values) else {
            panic!("hidden 32 rejected")
        };
        assert_eq!(spec.display_name(), "BiGRU 2x32");
        values[0] = ParamValue::Number(0.0);
        let Err(e) = a.spec_with(&values) else {
            panic!("hidden 0 accepted")
        };
        assert!(e.to_string().contains("hidden"), "{e}");
        let Some(cnn) = architecture("cnn1d") else {
            panic!("no cnn1d")
        };
        let mut values = cnn.values(&cnn.default_spec());
        values[0] = ParamValue::List(vec![]);
        assert!(cnn.spec_with(&values).is_err());
        values[0] = ParamValue::List(vec![8, 16]);
        assert!(cnn.spec_with(&values).is_ok());
    }
}
