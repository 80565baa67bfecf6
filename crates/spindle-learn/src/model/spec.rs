//! The serializable description of a network: which architecture, with which
//! hyper-parameters.
//!
//! Each architecture file defines one hyper-parameter struct (serde, with its
//! defaults in `Default`) and implements [`Hyper`] for it: its JSON `kind`,
//! its display name, its validation, how long its feature map is and how to
//! build it. [`ModelSpec`] holds any of them behind one type, so nothing
//! outside the architecture's own file matches on architectures.

use std::fmt::Debug;

use candle_nn::VarBuilder;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{InputShape, ModelError, Traced};

/// The hyper-parameters of one architecture: a serde struct whose missing
/// fields take `Default`'s values (so older run folders keep loading).
pub(crate) trait Hyper:
    Serialize + DeserializeOwned + Default + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// The `kind` tag of the spec's JSON, e.g. `eegnet`.
    const KIND: &'static str;

    /// A human-readable name with the main hyper-parameters.
    fn display_name(&self) -> String;

    /// Why a hyper-parameter is out of range, if one is.
    fn validate(&self) -> Result<(), String>;

    /// Time steps left before the classifier for a window of `samples`
    /// (`None` when the window is too short).
    fn feature_len(&self, samples: usize) -> Option<usize>;

    /// The network for windows of shape `input`, its variables under `vb`.
    fn build(&self, vb: VarBuilder, input: &InputShape) -> Result<Box<dyn Traced>, ModelError>;

    /// The hyper-parameters the network is built with for windows of
    /// `input` (kernels and poolings sized to the rate and the window when
    /// the architecture sizes them, see `model::sizing`), and what sizing
    /// chose, one line each (none when nothing is sized).
    fn sized_for(&self, _input: &InputShape) -> (Self, Vec<String>) {
        (self.clone(), Vec::new())
    }
}

/// A JSON `kind` and how to read a spec of it: one per architecture file's
/// hyper-parameter struct.
#[derive(Clone, Copy)]
pub struct Kind {
    /// The `kind` tag.
    pub name: &'static str,
    parse: fn(Value) -> Result<ModelSpec, serde_json::Error>,
    default: fn() -> ModelSpec,
}

impl Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kind({})", self.name)
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Kind {
    /// The kind of the hyper-parameter struct `T`.
    pub(crate) const fn of<T: Hyper>() -> Kind {
        Kind {
            name: T::KIND,
            parse: parse_as::<T>,
            default: default_of::<T>,
        }
    }

    /// The spec of this kind from a JSON object (missing fields take defaults).
    pub fn parse(&self, value: Value) -> Result<ModelSpec, serde_json::Error> {
        (self.parse)(value)
    }

    /// The spec of this kind with every default.
    pub fn default_spec(&self) -> ModelSpec {
        (self.default)()
    }
}

/// The error for a window of `samples` too short for `params`.
pub(crate) fn too_short<T: Hyper>(params: &T, samples: usize) -> ModelError {
    ModelError::InputTooShort {
        model: params.display_name(),
        samples,
        min_samples: super::summary::min_fitting(|n| params.feature_len(n).is_some()),
    }
}

fn parse_as<T: Hyper>(value: Value) -> Result<ModelSpec, serde_json::Error> {
    serde_json::from_value::<T>(value).map(ModelSpec::new)
}

fn default_of<T: Hyper>() -> ModelSpec {
    ModelSpec::new(T::default())
}

/// The object-safe face of [`Hyper`], for [`ModelSpec`]'s box.
trait AnySpec: Debug + Send + Sync {
    fn kind(&self) -> &'static str;
    fn to_json(&self) -> Value;
    fn boxed_clone(&self) -> Box<dyn AnySpec>;
    fn display_name(&self) -> String;
    fn validate(&self) -> Result<(), String>;
    fn feature_len(&self, samples: usize) -> Option<usize>;
    fn build(&self, vb: VarBuilder, input: &InputShape) -> Result<Box<dyn Traced>, ModelError>;
    fn sized_for(&self, input: &InputShape) -> (Box<dyn AnySpec>, Vec<String>);
}

impl<T: Hyper> AnySpec for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
    fn boxed_clone(&self) -> Box<dyn AnySpec> {
        Box::new(self.clone())
    }
    fn display_name(&self) -> String {
        Hyper::display_name(self)
    }
    fn validate(&self) -> Result<(), String> {
        Hyper::validate(self)
    }
    fn feature_len(&self, samples: usize) -> Option<usize> {
        Hyper::feature_len(self, samples)
    }
    fn build(&self, vb: VarBuilder, input: &InputShape) -> Result<Box<dyn Traced>, ModelError> {
        Hyper::build(self, vb, input)
    }
    fn sized_for(&self, input: &InputShape) -> (Box<dyn AnySpec>, Vec<String>) {
        let (sized, notes) = Hyper::sized_for(self, input);
        (Box::new(sized), notes)
    }
}

/// A network architecture and all its hyper-parameters.
///
/// Serialized as JSON with a `kind` tag, e.g. `{"kind":"eegnet","f1":8,...}`;
/// missing fields take the architecture's defaults, so older run folders keep
/// loading. Made by [`ModelSpec::by_name`], by an
/// [`Architecture`](super::Architecture)'s form, or read from JSON.
#[derive(Debug)]
pub struct ModelSpec(Box<dyn AnySpec>);

impl Clone for ModelSpec {
    fn clone(&self) -> Self {
        Self(self.0.boxed_clone())
    }
}

impl PartialEq for ModelSpec {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_json() == other.0.to_json()
    }
}

impl Serialize for ModelSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = Map::new();
        object.insert("kind".into(), Value::from(self.0.kind()));
        if let Value::Object(fields) = self.0.to_json() {
            object.extend(fields);
        }
        object.serialize(serializer)
    }
}

impl ModelSpec {
    /// The spec holding `params`.
    pub(crate) fn new<T: Hyper>(params: T) -> Self {
        Self(Box::new(params))
    }

    /// The JSON `kind` tag, e.g. `eegnet`.
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// A human-readable name with the main hyper-parameters, e.g. `EEGNet (F1=8, D=2, F2=16)`.
    pub fn display_name(&self) -> String {
        self.0.display_name()
    }

    /// Checks that every hyper-parameter is in range.
    pub fn validate(&self) -> Result<(), ModelError> {
        self.0.validate().map_err(|reason| ModelError::InvalidSpec {
            model: self.display_name(),
            reason,
        })
    }

    /// The shortest window (samples) this architecture accepts.
    pub fn min_samples(&self) -> usize {
        super::summary::min_fitting(|samples| self.feature_len(samples).is_some())
    }

    /// Time steps left before the classifier for a window of `samples`
    /// (`None` when the window is too short).
    pub(crate) fn feature_len(&self, samples: usize) -> Option<usize> {
        self.0.feature_len(samples)
    }

    /// The spec the network is built with for windows of `input`: kernels
    /// and poolings sized to the rate and the window where the architecture
    /// does so and `size_to_window` is on (the result has it off and the
    /// chosen sizes written in), with what was chosen, one line each. The
    /// exports read the network's sizes from it.
    pub fn sized_for(&self, input: &InputShape) -> (ModelSpec, Vec<String>) {
        let (sized, notes) = self.0.sized_for(input);
        (Self(sized), notes)
    }

    /// The untraced network (see [`super::build`], which checks the input first).
    pub(crate) fn build_network(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> Result<Box<dyn Traced>, ModelError> {
        self.0.build(vb, input)
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
        let json = serde_json::to_value(&spec)?;
        assert_eq!(json["filters"], serde_json::json!([8, 8]));
        assert_eq!(json["pool"], 4);
        Ok(())
    }

    #[test]
    fn unknown_kinds_and_bad_json_are_errors_that_say_why() {
        let err = serde_json::from_str::<ModelSpec>(r#"{"kind":"resnet"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("resnet") && err.contains("eegnet"), "{err}");
        assert!(serde_json::from_str::<ModelSpec>(r#"{"f1":8}"#).is_err());
        assert!(serde_json::from_str::<ModelSpec>(r#"[1]"#).is_err());
        assert!(serde_json::from_str::<ModelSpec>(r#"{"kind":"eegnet","f1":"x"}"#).is_err());
    }

    #[test]
    fn display_names() {
        let name = |n: &str| ModelSpec::by_name(n).map(|s| s.display_name());
        assert_eq!(name("eegnet").as_deref(), Some("EEGNet (F1=8, D=2, F2=16)"));
        assert_eq!(name("bigru").as_deref(), Some("BiGRU 2x64"));
        assert_eq!(name("m5").as_deref(), Some("M5 (32-32-64-64)"));
    }

    #[test]
    fn out_of_range_settings_are_rejected() -> Result<(), serde_json::Error> {
        let bad: ModelSpec = serde_json::from_str(r#"{"kind":"rnn","hidden":0}"#)?;
        let Err(err) = bad.validate() else {
            panic!("hidden 0 accepted")
        };
        assert!(err.to_string().contains("hidden"), "{err}");
        let bad: ModelSpec = serde_json::from_str(r#"{"kind":"mlp","dropout":1.0}"#)?;
        assert!(bad.validate().is_err());
        Ok(())
    }
}
