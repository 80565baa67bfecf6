//! The architectures Spindle offers, described for people: name, family,
//! what each is good for, and every editable hyper-parameter with its
//! default and its sensible range.
//!
//! Each architecture file declares its own [`Architecture`] entries next to
//! its network (`ARCHITECTURES` in `model/eegnet.rs`, ...); the list of those
//! files in `model/mod.rs` is the only other place an architecture is named.
//! The model panel, the CLI's help and `--model` parsing all read
//! [`architectures`], so a new architecture appears everywhere without other
//! edits. An entry fixes some fields of its kind's JSON (`fixed`); the others
//! take the kind's defaults, and edited values are written into that JSON and
//! parsed back, so no table repeats a spec's field list.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Kind, ModelError, ModelSpec};

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

/// One architecture on offer (equal when their names are).
#[derive(Debug, Clone, Copy)]
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
    /// The spec kind it builds.
    pub kind: Kind,
    /// A JSON object of the fields this entry fixes (e.g. `{"cell":"gru"}`);
    /// the other fields take the kind's defaults.
    pub(crate) fixed: &'static str,
    /// The hyper-parameters a form may edit.
    pub params: &'static [HyperParam],
    /// Advice when the windows do not suit this architecture (see
    /// [`Architecture::advice`]).
    pub(crate) advise: fn(&WindowFacts) -> Option<String>,
}

impl PartialEq for Architecture {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// What an architecture is told about the windows it will read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowFacts {
    /// Time steps per window as the network sees them (samples, or frames
    /// of a spectrogram).
    pub steps: usize,
    /// Steps per second.
    pub rate_hz: f64,
    /// True when the steps are sound samples (the caller knows the
    /// recordings: in Spindle, a step rate at or above
    /// `recording::AUDIO_RATE_HZ`), where EEG models do not fit.
    pub audio: bool,
}

impl WindowFacts {
    /// True for windows of sound samples, where EEG models do not fit.
    pub fn is_audio(&self) -> bool {
        self.audio
    }
}

/// No advice: the architecture suits any window it accepts.
pub(crate) fn no_advice(_: &WindowFacts) -> Option<String> {
    None
}

pub(crate) const fn int(
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

pub(crate) const fn list(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    max: f64,
) -> HyperParam {
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

pub(crate) const fn dropout(key: &'static str, help: &'static str) -> HyperParam {
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

pub(crate) const DROPOUT_HELP: &str = "share of units switched off at random while training; the network cannot lean on any single one, which fights overfitting";

/// Every architecture, in menu order: each architecture file's entries, in
/// the order of the list in `model/mod.rs`.
pub fn architectures() -> impl Iterator<Item = &'static Architecture> {
    super::ARCHITECTURE_FILES
        .iter()
        .flat_map(|entries| entries.iter())
}

/// The spec kind whose JSON `kind` tag is `name`.
pub(crate) fn kind(name: &str) -> Option<Kind> {
    architectures().map(|a| a.kind).find(|k| k.name == name)
}

/// Every spec kind's tag, once each, in menu order.
pub(crate) fn kind_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for a in architectures() {
        if !names.contains(&a.kind.name) {
            names.push(a.kind.name);
        }
    }
    names
}

/// The architecture called `name` or one of its aliases (case-insensitive).
pub fn architecture(name: &str) -> Option<&'static Architecture> {
    let name = name.trim().to_ascii_lowercase();
    architectures().find(|a| a.name == name || a.aliases.contains(&name.as_str()))
}

/// The architecture a spec was made from: of those sharing its `kind` and
/// fixed fields (such as the cell and direction), the one fixing the most
/// (a bidirectional LSTM spec also matches `lstm`, but `bilstm` fixes more).
pub fn architecture_of(spec: &ModelSpec) -> Option<&'static Architecture> {
    let json = serde_json::to_value(spec).ok()?;
    architectures()
        .filter_map(|a| {
            let base = a.base_json();
            base.iter()
                .all(|(k, v)| json.get(k) == Some(v))
                .then_some((base.len(), a))
        })
        .min_by_key(|(fixed, _)| std::cmp::Reverse(*fixed))
        .map(|(_, a)| a)
}

impl Architecture {
    /// One or two sentences for a biologist when these windows do not suit
    /// this architecture, naming what to choose instead (`None` when they do).
    pub fn advice(&self, window: &WindowFacts) -> Option<String> {
        (self.advise)(window)
    }

    /// The `kind` tag and the fixed fields, as a JSON object.
    fn base_json(&self) -> Map<String, Value> {
        let mut base = match serde_json::from_str::<Value>(self.fixed) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        base.insert("kind".into(), Value::from(self.kind.name));
        base
    }

    /// The spec with every default.
    pub fn default_spec(&self) -> ModelSpec {
        // The fixed-field strings are constants checked by a unit test; the
        // fallback (the kind's own defaults) only keeps this total.
        self.kind
            .parse(Value::Object(self.base_json()))
            .unwrap_or_else(|_| self.kind.default_spec())
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
        let spec = self
            .kind
            .parse(Value::Object(json))
            .map_err(|e| self.invalid(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks every one of [`Architecture::params`] in `spec` against its
    /// range, as a form or `--model-param` would (a spec read from a file
    /// that no form made, such as a `run.json` passed between people).
    /// Fails naming the setting and the value.
    pub fn check_ranges(&self, spec: &ModelSpec) -> Result<(), ModelError> {
        let json = serde_json::to_value(spec).unwrap_or(Value::Null);
        for p in self.params {
            let Some(value) = json.get(p.key) else {
                continue;
            };
            let Some(v) = ParamValue::from_json(value, p.kind) else {
                return Err(
                    self.invalid(format!("{} has a value of the wrong type: {value}", p.key))
                );
            };
            self.check(p, &v)?;
        }
        Ok(())
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
    architectures().map(|a| a.name).collect()
}

/// A spec is parsed by its `kind` tag, which the registry knows.
impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut value = Value::deserialize(deserializer)?;
        let Some(object) = value.as_object_mut() else {
            return Err(D::Error::custom("a model spec must be a JSON object"));
        };
        let tag = match object.remove("kind") {
            Some(Value::String(tag)) => tag,
            _ => return Err(D::Error::missing_field("kind")),
        };
        let Some(found) = kind(&tag) else {
            return Err(D::Error::custom(format!(
                "unknown model kind `{tag}` (known: {})",
                kind_names().join(", ")
            )));
        };
        found.parse(value).map_err(D::Error::custom)
    }
}

/// Specs by the names of the registry.
impl ModelSpec {
    /// The spec with default hyper-parameters for a short name of the
    /// architecture registry (see [`ModelSpec::names`]); aliases such as
    /// `cnn1d-audio` (for `m5`) are accepted. Case-insensitive.
    pub fn by_name(name: &str) -> Option<ModelSpec> {
        architecture(name).map(|a| a.default_spec())
    }

    /// The short names accepted by [`ModelSpec::by_name`], in menu order.
    pub fn names() -> Vec<&'static str> {
        model_names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_builds_its_defaults_and_round_trips_its_values() {
        for a in architectures() {
            let spec = a.default_spec();
            assert!(spec.validate().is_ok(), "{}", a.name);
            assert_eq!(spec.kind(), a.kind.name, "{}", a.name);
            assert!(
                matches!(serde_json::from_str::<Value>(a.fixed), Ok(Value::Object(_))),
                "{}: fixed fields are not a JSON object",
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
    fn unsuitable_windows_get_advice_naming_the_alternative() {
        let advice = |name: &str, steps: usize, rate_hz: f64, audio: bool| {
            architecture(name).and_then(|a| {
                a.advice(&WindowFacts {
                    steps,
                    rate_hz,
                    audio,
                })
            })
        };
        let blink = |name: &str| advice(name, 510, 255.0, false);
        for rnn in ["lstm", "gru", "bilstm", "bigru"] {
            assert!(blink(rnn).is_some_and(|a| a.contains("CRNN")), "{rnn}");
            assert_eq!(
                advice(rnn, 120, 255.0, false),
                None,
                "{rnn}: short sequences suit it"
            );
        }
        assert_eq!(blink("crnn"), None);
        assert_eq!(blink("eegnet"), None);
        assert_eq!(blink("cnn1d"), None);
        let calls = |name: &str| advice(name, 8000, 16_000.0, true);
        assert!(calls("cnn1d").is_some_and(|a| a.contains("M5")));
        assert!(calls("crnn").is_some_and(|a| a.contains("CRNN") && a.contains("M5")));
        assert_eq!(calls("m5"), None);
    }

    #[test]
    fn ranges_are_checked_on_specs_read_from_files() -> Result<(), serde_json::Error> {
        let Some(a) = architecture("eegnet") else {
            panic!("no eegnet")
        };
        assert!(a.check_ranges(&a.default_spec()).is_ok());
        let spec: ModelSpec = serde_json::from_str(r#"{"kind":"eegnet","f1":4000000}"#)?;
        let Err(e) = a.check_ranges(&spec) else {
            panic!("f1 = 4000000 accepted")
        };
        assert!(
            e.to_string().contains("f1") && e.to_string().contains("4000000"),
            "{e}"
        );
        let Some(m5) = architecture("m5") else {
            panic!("no m5")
        };
        let spec: ModelSpec = serde_json::from_str(r#"{"kind":"m5","filters":[8,100000]}"#)?;
        assert!(m5.check_ranges(&spec).is_err());
        Ok(())
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(architecture("EEGNet").map(|a| a.name), Some("eegnet"));
        assert_eq!(architecture("cnn1d-audio").map(|a| a.name), Some("m5"));
        assert!(architecture("resnet").is_none());
        assert_eq!(model_names().len(), architectures().count());
        let mut names = model_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), architectures().count(), "names are unique");
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
