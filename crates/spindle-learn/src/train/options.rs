//! Training options as people give them — on the command line (`spindle
//! train`) or in the app's forms — parsed and validated in one place into the
//! dataset, model and training settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use spindle_signals::dsp::DisplayFilter;
use spindle_signals::recording::ChannelKind;

use super::{DeviceChoice, Refit, Schedule, TrainConfig};
use crate::dataset::{
    Augmentation, DatasetConfig, Normalization, Representation, Transform, TransformKind,
};
use crate::model::{Architecture, ModelSpec, ParamKind, ParamValue, architecture};

/// What the model sees of a window, as chosen by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum RepresentationChoice {
    /// The samples themselves.
    #[default]
    Raw,
    /// EEG spectrogram: 0.5-s frames every 1/16 s up to 45 Hz, log power.
    Spectrogram,
    /// Audio log-mel spectrogram: 40 bands, 32-ms frames every 10 ms.
    Logmel,
}

impl RepresentationChoice {
    /// Every choice, in the order the command line lists them.
    pub const ALL: [RepresentationChoice; 3] = [
        RepresentationChoice::Raw,
        RepresentationChoice::Spectrogram,
        RepresentationChoice::Logmel,
    ];

    /// The name `--representation` takes: `raw`, `spectrogram` or `logmel`.
    pub fn name(self) -> &'static str {
        match self {
            RepresentationChoice::Raw => "raw",
            RepresentationChoice::Spectrogram => "spectrogram",
            RepresentationChoice::Logmel => "logmel",
        }
    }

    /// The representation with its usual settings.
    pub fn representation(self) -> Representation {
        match self {
            RepresentationChoice::Raw => Representation::Raw,
            RepresentationChoice::Spectrogram => Representation::eeg_spectrogram(),
            RepresentationChoice::Logmel => Representation::audio_log_mel(),
        }
    }
}

impl std::str::FromStr for RepresentationChoice {
    type Err = String;

    /// One of the [`RepresentationChoice::name`]s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RepresentationChoice::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("{s:?} is not one of raw, spectrogram, logmel"))
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;

    /// `constant`, `cosine` or `step:EPOCHS:GAMMA`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "constant" => Ok(Schedule::Constant),
            "cosine" => Ok(Schedule::Cosine),
            other => {
                let parts: Vec<&str> = other.split(':').collect();
                let ["step", every, gamma] = parts.as_slice() else {
                    return Err(format!(
                        "unknown schedule {other:?}: use constant, cosine or step:EPOCHS:GAMMA"
                    ));
                };
                let every_epochs: usize = every.parse().map_err(|_| {
                    format!("step schedule: EPOCHS {every:?} is not a whole number")
                })?;
                let gamma: f64 = gamma
                    .parse()
                    .map_err(|_| format!("step schedule: GAMMA {gamma:?} is not a number"))?;
                if every_epochs == 0 || !(gamma > 0.0 && gamma.is_finite()) {
                    return Err(format!(
                        "step schedule needs EPOCHS >= 1 and GAMMA > 0, got {other:?}"
                    ));
                }
                Ok(Schedule::Step {
                    every_epochs,
                    gamma,
                })
            }
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::Cosine => write!(f, "cosine"),
            Schedule::Step {
                every_epochs,
                gamma,
            } => write!(f, "step:{every_epochs}:{gamma}"),
        }
    }
}

/// Why options could not become settings; the message names the option.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{option}: {reason}")]
pub struct OptionsError {
    /// The option, as on the command line (e.g. `--lr`).
    pub option: String,
    /// What is wrong, with the value.
    pub reason: String,
}

pub(super) fn bad(option: &str, reason: impl Into<String>) -> OptionsError {
    OptionsError {
        option: option.to_string(),
        reason: reason.into(),
    }
}

/// `KEY=VALUE`, for `--merge` and `--model-param`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .filter(|(a, _)| !a.is_empty())
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

/// Every option of a training run except where its data and run folder are.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct TrainOptions {
    /// Model (see `spindle train --help` for the list).
    #[cfg_attr(feature = "cli", arg(long, default_value = "eegnet"))]
    pub model: String,
    /// A model hyper-parameter, KEY=VALUE (repeatable), e.g. `--model-param f1=16`
    /// or `--model-param filters=32,64`.
    #[cfg_attr(feature = "cli", arg(long = "model-param", value_parser = parse_key_value))]
    pub model_params: Vec<(String, String)>,
    /// Passes over the training windows.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 30))]
    pub epochs: usize,
    /// Windows per step (default: 8 to 64, so that an epoch has about 25 steps).
    #[cfg_attr(feature = "cli", arg(long))]
    pub batch: Option<usize>,
    /// Learning rate.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1e-3))]
    pub lr: f64,
    /// AdamW weight decay (a regularizer: keeps weights small).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1e-2))]
    pub weight_decay: f64,
    /// Learning-rate schedule: constant, cosine, or step:EPOCHS:GAMMA.
    #[cfg_attr(feature = "cli", arg(long, default_value = "constant"))]
    pub schedule: Schedule,
    /// Stop after this many epochs without a better validation loss.
    #[cfg_attr(feature = "cli", arg(long))]
    pub patience: Option<usize>,
    /// Weight the loss by inverse class frequency.
    #[cfg_attr(feature = "cli", arg(long))]
    pub class_weights: bool,
    /// Train the kept weights on, on training plus validation windows, until
    /// the validation windows fit as well as the training windows did (at
    /// most the kept epoch count): auto (when there are fewer than 5000 such
    /// windows), on, or off (keep the first pass's best epoch).
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Refit::Auto))]
    #[serde(default)]
    pub refit: Refit,
    /// Window length in seconds (default: the median labeled segment).
    #[cfg_attr(feature = "cli", arg(long))]
    pub window: Option<f64>,
    /// Step between windows in seconds (default: the window length).
    #[cfg_attr(feature = "cli", arg(long))]
    pub stride: Option<f64>,
    /// Only these classes (comma-separated).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub classes: Vec<String>,
    /// Merge labels: FROM=TO (repeatable).
    #[cfg_attr(feature = "cli", arg(long = "merge", value_parser = parse_key_value))]
    pub merge: Vec<(String, String)>,
    /// Treat unlabeled time as a class of this name.
    #[cfg_attr(feature = "cli", arg(long))]
    pub unlabeled_class: Option<String>,
    /// What the model sees: raw, spectrogram (EEG: 0.5-s frames to 45 Hz), or logmel (audio: 40 bands).
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = RepresentationChoice::Raw))]
    pub representation: RepresentationChoice,
    /// Standardization: auto (baseline or zscore, decided by 5-fold
    /// cross-validation on the training trials: zscore unless the
    /// baseline-corrected windows already predict the class or the window
    /// means make it worse),
    /// baseline (remove each window's mean, scale by training std), zscore,
    /// ems (exponential moving standardization of whole recordings), or none.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Normalization::Auto))]
    pub normalization: Normalization,
    /// Zero-phase high-pass filter before windowing, Hz.
    #[cfg_attr(feature = "cli", arg(long))]
    pub highpass: Option<f32>,
    /// Zero-phase low-pass filter before windowing, Hz.
    #[cfg_attr(feature = "cli", arg(long))]
    pub lowpass: Option<f32>,
    /// Zero-phase notch filter before windowing, Hz (mains: 50 or 60).
    #[cfg_attr(feature = "cli", arg(long))]
    pub notch: Option<f32>,
    /// Only these channels (comma-separated labels).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub channels: Vec<String>,
    /// Only channels of these types (comma-separated: eeg, eog, emg, ecg,
    /// other), as a BIDS channels.tsv gives them or as guessed from the
    /// names (`EEG Fpz-Cz`, `EOG horizontal`, `Cz`); instead of --channels.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_types: Vec<ChannelKind>,
    /// The labels are numbers: train a regressor (MSE loss) instead of a classifier.
    #[cfg_attr(feature = "cli", arg(long))]
    pub regression: bool,
    /// Augmentation: show the network changed copies of each training window
    /// (moved, noisier, ...), which fights overfitting on small datasets.
    ///
    /// A comma-separated list, each item NAME or NAME=STRENGTH: shift (move
    /// earlier or later, the gap is zero; largest move as a fraction of the
    /// window, default 0.1), roll (the same, wrapping around; 0.1), flip (turn
    /// the signal upside down), reverse (play it backwards), dropout (silence
    /// each channel with this probability; 0.2), noise (std relative to the
    /// window's; 0.1), ftsurrogate (scramble the Fourier phases, keeping each
    /// channel's spectrum; 0 to 1, default 1), freqshift (move all frequencies
    /// up or down by up to this many Hz; 2). Choose only changes that keep the
    /// class: flip is wrong when the sign of a wave matters, reverse when its
    /// time course does. Raw representation only; validation and test windows
    /// are never changed. Off by default.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub augment: Vec<String>,
    /// Chance that each --augment transform changes a training window, 0 to 1.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Augmentation::DEFAULT_PROBABILITY))]
    pub augment_p: f64,
    /// Seed: the same seed repeats a CPU run exactly.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub seed: u64,
    /// Where to compute.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = DeviceChoice::Auto))]
    pub device: DeviceChoice,
}

impl Default for TrainOptions {
    fn default() -> Self {
        let train = TrainConfig::default();
        Self {
            model: "eegnet".into(),
            model_params: Vec::new(),
            epochs: train.epochs,
            batch: train.batch_size,
            lr: train.lr,
            weight_decay: train.weight_decay,
            schedule: train.schedule,
            patience: train.patience,
            class_weights: train.class_weights,
            refit: train.refit,
            window: None,
            stride: None,
            classes: Vec::new(),
            merge: Vec::new(),
            unlabeled_class: None,
            representation: RepresentationChoice::Raw,
            normalization: Normalization::Auto,
            highpass: None,
            lowpass: None,
            notch: None,
            channels: Vec::new(),
            channel_types: Vec::new(),
            regression: false,
            augment: Vec::new(),
            augment_p: train.augmentation.probability,
            seed: train.seed,
            device: train.device,
        }
    }
}

/// The settings a set of [`TrainOptions`] stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedOptions {
    /// Windows, splits, filters, representation, normalization.
    pub dataset: DatasetConfig,
    /// The architecture with its hyper-parameters.
    pub model: ModelSpec,
    /// Optimizer and loop.
    pub train: TrainConfig,
}

impl TrainOptions {
    /// The chosen architecture, or an error listing the known ones.
    pub fn architecture(&self) -> Result<&'static Architecture, OptionsError> {
        architecture(&self.model).ok_or_else(|| {
            bad(
                "--model",
                format!(
                    "unknown model {:?}; choose one of {}",
                    self.model,
                    ModelSpec::names().join(", ")
                ),
            )
        })
    }

    /// Checks every option and builds the settings; the error names the
    /// first option that is wrong and why.
    pub fn resolve(&self) -> Result<ResolvedOptions, OptionsError> {
        let model = self.model_spec()?;
        if self.epochs == 0 || self.epochs > 100_000 {
            return Err(bad(
                "--epochs",
                format!("must be 1 to 100000, got {}", self.epochs),
            ));
        }
        if self.batch == Some(0) {
            return Err(bad("--batch", "must be at least 1"));
        }
        if !(self.lr > 0.0 && self.lr < 10.0) {
            return Err(bad(
                "--lr",
                format!("must be above 0 and below 10, got {}", self.lr),
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(bad(
                "--weight-decay",
                format!("must be 0 or more, got {}", self.weight_decay),
            ));
        }
        if self.patience == Some(0) {
            return Err(bad("--patience", "must be at least 1 epoch"));
        }
        if !self.channels.is_empty() && !self.channel_types.is_empty() {
            return Err(bad(
                "--channel-types",
                "chooses channels by type: give it or --channels, not both",
            ));
        }
        for (name, v) in [("--window", self.window), ("--stride", self.stride)] {
            if let Some(s) = v
                && !(s > 0.0 && s.is_finite())
            {
                return Err(bad(
                    name,
                    format!("must be a positive number of seconds, got {s}"),
                ));
            }
        }
        for (name, v) in [
            ("--highpass", self.highpass),
            ("--lowpass", self.lowpass),
            ("--notch", self.notch),
        ] {
            if let Some(hz) = v
                && !(hz > 0.0 && hz.is_finite())
            {
                return Err(bad(
                    name,
                    format!("must be a positive frequency in Hz, got {hz}"),
                ));
            }
        }
        if let (Some(hp), Some(lp)) = (self.highpass, self.lowpass)
            && hp >= lp
        {
            return Err(bad(
                "--highpass",
                format!("{hp} Hz must be below the low-pass {lp} Hz"),
            ));
        }
        let augmentation = self.augmentation()?;
        let dataset = DatasetConfig {
            window_s: self.window,
            stride_s: self.stride,
            classes: self.classes.clone(),
            merge: self.merge.iter().cloned().collect::<BTreeMap<_, _>>(),
            unlabeled_class: self.unlabeled_class.clone(),
            channels: self.channels.clone(),
            channel_types: self.channel_types.clone(),
            seed: self.seed,
            regression: self.regression,
            representation: self.representation.representation(),
            normalization: self.normalization,
            filter: DisplayFilter {
                highpass_hz: self.highpass,
                lowpass_hz: self.lowpass,
                notch_hz: self.notch,
            },
            ..DatasetConfig::default()
        };
        let train = TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch,
            lr: self.lr,
            weight_decay: self.weight_decay,
            schedule: self.schedule,
            patience: self.patience,
            class_weights: self.class_weights,
            refit: self.refit,
            seed: self.seed,
            device: self.device,
            augmentation,
            ..TrainConfig::default()
        };
        Ok(ResolvedOptions {
            dataset,
            model,
            train,
        })
    }

    /// The augmentation that `--augment` and `--augment-p` describe; the
    /// error names the option that is wrong.
    pub fn augmentation(&self) -> Result<Augmentation, OptionsError> {
        if !(0.0..=1.0).contains(&self.augment_p) {
            return Err(bad(
                "--augment-p",
                format!("must be a probability from 0 to 1, got {}", self.augment_p),
            ));
        }
        let mut transforms: Vec<Transform> = Vec::new();
        for item in self.augment.iter().filter(|i| !i.trim().is_empty()) {
            let t: Transform = item.parse().map_err(|e: String| bad("--augment", e))?;
            if transforms.iter().any(|u| u.kind() == t.kind()) {
                return Err(bad(
                    "--augment",
                    format!("{} is listed twice", t.kind().name()),
                ));
            }
            transforms.push(t);
        }
        if !transforms.is_empty() && self.representation != RepresentationChoice::Raw {
            let seen = self.representation.name();
            return Err(bad(
                "--augment",
                format!(
                    "changes raw samples only, but the model sees {seen}; use --representation raw"
                ),
            ));
        }
        Ok(Augmentation {
            transforms,
            probability: self.augment_p,
        })
    }

    /// The `--augment` item of `kind`, when it is listed and valid.
    pub fn augment_item(&self, kind: TransformKind) -> Option<Transform> {
        self.augment
            .iter()
            .filter_map(|item| item.parse::<Transform>().ok())
            .find(|t| t.kind() == kind)
    }

    /// Lists `transform` in `--augment` in the place of any item of `kind`,
    /// or, for `None`, removes the items of `kind`.
    pub fn set_augment_item(&mut self, kind: TransformKind, transform: Option<Transform>) {
        let is_kind = |item: &String| {
            item.split_once('=')
                .map_or(item.as_str(), |(name, _)| name)
                .trim()
                == kind.name()
        };
        let at = self.augment.iter().position(is_kind);
        self.augment.retain(|item| !is_kind(item));
        if let Some(t) = transform {
            let at = at.unwrap_or(self.augment.len()).min(self.augment.len());
            self.augment.insert(at, t.to_string());
        }
    }

    /// The model spec: the architecture's defaults with `--model-param` values.
    pub fn model_spec(&self) -> Result<ModelSpec, OptionsError> {
        let arch = self.architecture()?;
        let mut values = arch.values(&arch.default_spec());
        for (key, text) in &self.model_params {
            let Some(i) = arch.params.iter().position(|p| p.key == key) else {
                let keys: Vec<&str> = arch.params.iter().map(|p| p.key).collect();
                return Err(bad(
                    "--model-param",
                    format!(
                        "{} has no setting {key:?}; it has {}",
                        arch.name,
                        keys.join(", ")
                    ),
                ));
            };
            values[i] = parse_param(arch.params[i].kind, text).ok_or_else(|| {
                bad(
                    "--model-param",
                    format!("{key}={text:?} is not a valid value"),
                )
            })?;
        }
        arch.spec_with(&values)
            .map_err(|e| bad("--model-param", e.to_string()))
    }

    /// Sets the model's hyper-parameters from a form's values (one per
    /// [`Architecture::params`]), keeping only those that differ from the
    /// defaults, so that the options read like the command line.
    pub fn set_model_values(&mut self, values: &[ParamValue]) {
        let Ok(arch) = self.architecture() else {
            return;
        };
        let defaults = arch.values(&arch.default_spec());
        self.model_params = arch
            .params
            .iter()
            .zip(values)
            .zip(defaults)
            .filter(|((_, v), d)| *v != d)
            .map(|((p, v), _)| (p.key.to_string(), v.to_string()))
            .collect();
    }

    /// The command line that repeats these options (without data and output).
    pub fn to_args(&self) -> Vec<String> {
        let d = TrainOptions::default();
        let mut a = vec!["--model".to_string(), self.model.clone()];
        for (k, v) in &self.model_params {
            a.push("--model-param".into());
            a.push(format!("{k}={v}"));
        }
        let mut push = |flag: &str, value: String| {
            a.push(flag.into());
            a.push(value);
        };
        if self.epochs != d.epochs {
            push("--epochs", self.epochs.to_string());
        }
        if let Some(b) = self.batch {
            push("--batch", b.to_string());
        }
        if self.lr != d.lr {
            push("--lr", self.lr.to_string());
        }
        if self.weight_decay != d.weight_decay {
            push("--weight-decay", self.weight_decay.to_string());
        }
        if self.schedule != d.schedule {
            push("--schedule", self.schedule.to_string());
        }
        if let Some(p) = self.patience {
            push("--patience", p.to_string());
        }
        if self.refit != d.refit {
            push("--refit", self.refit.name().into());
        }
        if let Some(w) = self.window {
            push("--window", w.to_string());
        }
        if let Some(s) = self.stride {
            push("--stride", s.to_string());
        }
        if !self.classes.is_empty() {
            push("--classes", self.classes.join(","));
        }
        for (from, to) in &self.merge {
            push("--merge", format!("{from}={to}"));
        }
        if let Some(c) = &self.unlabeled_class {
            push("--unlabeled-class", c.clone());
        }
        if self.representation != d.representation {
            push("--representation", self.representation.name().into());
        }
        if self.normalization != d.normalization {
            push("--normalization", self.normalization.name().into());
        }
        for (flag, v) in [
            ("--highpass", self.highpass),
            ("--lowpass", self.lowpass),
            ("--notch", self.notch),
        ] {
            if let Some(hz) = v {
                push(flag, hz.to_string());
            }
        }
        if !self.channels.is_empty() {
            push("--channels", self.channels.join(","));
        }
        if !self.channel_types.is_empty() {
            let names: Vec<&str> = self.channel_types.iter().map(|k| k.name()).collect();
            push("--channel-types", names.join(","));
        }
        if !self.augment.is_empty() {
            push("--augment", self.augment.join(","));
        }
        if self.augment_p != d.augment_p {
            push("--augment-p", self.augment_p.to_string());
        }
        if self.seed != d.seed {
            push("--seed", self.seed.to_string());
        }
        if self.class_weights {
            a.push("--class-weights".into());
        }
        if self.regression {
            a.push("--regression".into());
        }
        a
    }
}

/// A hyper-parameter value from text: a number, `true`/`false`, or a
/// comma-separated list of whole numbers.
pub fn parse_param(kind: ParamKind, text: &str) -> Option<ParamValue> {
    let text = text.trim();
    match kind {
        ParamKind::Int | ParamKind::Float => text.parse().ok().map(ParamValue::Number),
        ParamKind::Flag => text.parse().ok().map(ParamValue::Flag),
        ParamKind::IntList => text
            .split(',')
            .map(|p| p.trim().parse().ok())
            .collect::<Option<Vec<usize>>>()
            .map(ParamValue::List),
    }
}

/// Where a run's recordings come from, by role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataRoles {
    /// Recordings, folders or audio folders the weights are fitted on.
    pub train: Vec<PathBuf>,
    /// Recordings that choose the epoch to keep (empty: held out from `train`).
    pub validation: Vec<PathBuf>,
    /// Recordings scored once at the end (empty: held out from `train`).
    pub test: Vec<PathBuf>,
    /// Label files given explicitly for some recordings (recording ->
    /// label file: an annotation-only EDF+ file, `events.tsv` or CSV); they
    /// replace the labels found beside the recording.
    pub labels: std::collections::BTreeMap<PathBuf, PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<TrainOptions, OptionsError> {
        TrainOptions::from_args(args)
    }

    #[test]
    fn defaults_resolve_to_the_library_defaults() -> Result<(), Box<dyn std::error::Error>> {
        let o = parse(&[])?;
        assert_eq!(o, TrainOptions::default());
        let r = o.resolve()?;
        assert_eq!(r.train, TrainConfig::default());
        assert_eq!(r.dataset, DatasetConfig::default());
        assert_eq!(Some(r.model), ModelSpec::by_name("eegnet"));
        Ok(())
    }

    #[test]
    fn command_line_values_reach_the_settings() -> Result<(), Box<dyn std::error::Error>> {
        let o = parse(&[
            "--model",
            "bigru",
            "--model-param",
            "hidden=32",
            "--lr",
            "0.01",
            "--schedule",
            "step:5:0.5",
            "--representation",
            "spectrogram",
            "--normalization",
            "zscore",
            "--merge",
            "a=b",
            "--window",
            "2",
        ])?;
        let r = o.resolve()?;
        assert_eq!(r.model.display_name(), "BiGRU 2x32");
        assert_eq!(r.train.lr, 0.01);
        assert_eq!(
            r.train.schedule,
            Schedule::Step {
                every_epochs: 5,
                gamma: 0.5
            }
        );
        assert_eq!(r.dataset.representation, Representation::eeg_spectrogram());
        assert_eq!(r.dataset.normalization, Normalization::ZScore);
        assert_eq!(r.dataset.merge.get("a").map(String::as_str), Some("b"));
        assert_eq!(r.dataset.window_s, Some(2.0));
        // The arguments written back parse to the same options.
        let args = o.to_args();
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(parse(&strs)?, o);
        Ok(())
    }

    #[test]
    fn bad_values_name_their_option() -> Result<(), OptionsError> {
        let cases: &[(&[&str], &str)] = &[
            (&["--model", "resnet"], "--model"),
            (&["--model-param", "f9=1"], "--model-param"),
            (&["--model-param", "f1=0"], "--model-param"),
            (&["--model-param", "f1=abc"], "--model-param"),
            (&["--epochs", "0"], "--epochs"),
            (&["--lr", "0"], "--lr"),
            (&["--window=-1"], "--window"),
            (&["--highpass", "40", "--lowpass", "30"], "--highpass"),
            (&["--patience", "0"], "--patience"),
            (&["--augment", "wobble"], "--augment"),
            (&["--augment", "flip=0.5"], "--augment"),
            (&["--augment", "noise=abc"], "--augment"),
            (&["--augment", "noise=0"], "--augment"),
            (&["--augment", "shift,noise,shift=0.2"], "--augment"),
            (
                &["--augment", "noise", "--representation", "spectrogram"],
                "--augment",
            ),
            (&["--augment", "flip", "--augment-p", "1.5"], "--augment-p"),
            (&["--augment-p=-0.1"], "--augment-p"),
        ];
        for (args, option) in cases {
            let Err(e) = parse(args)?.resolve() else {
                panic!("{args:?} accepted")
            };
            assert_eq!(e.option, *option, "{args:?}: {e}");
        }
        assert!(parse(&["--schedule", "step:0:0.5"]).is_err());
        assert!(parse(&["--representation", "wavelet"]).is_err());
        Ok(())
    }

    #[test]
    fn augmentation_is_off_by_default_and_parsed_from_the_list()
    -> Result<(), Box<dyn std::error::Error>> {
        let r = parse(&[])?.resolve()?;
        assert!(r.train.augmentation.is_off());
        assert_eq!(r.train.augmentation.probability, 0.5);
        let o = parse(&[
            "--augment",
            "shift,noise=0.05",
            "--augment",
            "freqshift=1.5",
            "--augment-p",
            "0.8",
        ])?;
        let a = o.resolve()?.train.augmentation;
        assert_eq!(
            a.transforms,
            vec![
                Transform::TimeShift {
                    max_fraction: 0.1,
                    circular: false
                },
                Transform::GaussianNoise { relative_std: 0.05 },
                Transform::FrequencyShift { max_shift_hz: 1.5 },
            ]
        );
        assert_eq!(a.probability, 0.8);
        let args = o.to_args();
        assert!(args.contains(&"shift,noise=0.05,freqshift=1.5".to_string()));
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(parse(&strs)?, o);
        Ok(())
    }

    #[test]
    fn form_edits_of_one_transform_keep_the_others() -> Result<(), OptionsError> {
        let mut o = TrainOptions {
            augment: vec!["noise=0.3".into(), "flip".into()],
            ..TrainOptions::default()
        };
        assert_eq!(
            o.augment_item(TransformKind::Noise),
            Some(Transform::GaussianNoise { relative_std: 0.3 })
        );
        assert_eq!(o.augment_item(TransformKind::Dropout), None);
        let noise = TransformKind::Noise.with_strength(Some(0.2)).ok();
        o.set_augment_item(TransformKind::Noise, noise);
        o.set_augment_item(TransformKind::Reverse, Some(Transform::TimeReversal));
        assert_eq!(o.augment, ["noise=0.2", "flip", "reverse"]);
        o.set_augment_item(TransformKind::Flip, None);
        assert_eq!(o.augment, ["noise=0.2", "reverse"]);
        assert_eq!(o.resolve()?.train.augmentation.transforms.len(), 2);
        Ok(())
    }

    #[test]
    fn form_values_become_minimal_model_params() -> Result<(), OptionsError> {
        let mut o = TrainOptions {
            model: "cnn1d".into(),
            ..TrainOptions::default()
        };
        let arch = o.architecture()?;
        let mut values = arch.values(&arch.default_spec());
        o.set_model_values(&values);
        assert!(o.model_params.is_empty());
        values[0] = ParamValue::List(vec![16, 16]);
        o.set_model_values(&values);
        assert_eq!(
            o.model_params,
            vec![("filters".to_string(), "16,16".to_string())]
        );
        assert!(o.resolve().is_ok());
        Ok(())
    }
}
