//! Settings for turning labeled recordings into a dataset.

use std::collections::BTreeMap;
use std::path::PathBuf;

use spindle_signals::dsp::DisplayFilter;
use spindle_signals::recording::ChannelKind;

use super::Representation;

/// How windows are standardized before they reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// Baseline correction or z-score, chosen by 5-fold cross-validation on
    /// the training trials: baseline correction when the baseline-corrected
    /// windows already predict the class or the window means make it worse,
    /// else z-score, which keeps them (see `choose_normalization`).
    #[default]
    Auto,
    /// Remove each window's own mean per channel (baseline correction: the DC
    /// offset of an electrode carries no information), then divide by each
    /// channel's standard deviation over the training windows.
    Baseline,
    /// Per-channel z-score with mean and standard deviation of the training windows.
    #[cfg_attr(feature = "cli", value(name = "zscore"))]
    ZScore,
    /// Exponential moving standardization of whole recordings before
    /// windowing (braindecode's: each sample minus a running mean over a
    /// running standard deviation, smoothing factor 0.001, the first 1000
    /// samples standardized as a block). Adapts to slow drifts and to each
    /// recording's own scale.
    Ems,
    /// No scaling: the model sees physical units.
    None,
}

impl Normalization {
    /// Every choice, in the order the command line lists them.
    pub const ALL: [Normalization; 5] = [
        Normalization::Auto,
        Normalization::Baseline,
        Normalization::ZScore,
        Normalization::Ems,
        Normalization::None,
    ];

    /// The name `--normalization` takes: `auto`, `baseline`, `zscore`,
    /// `ems` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Normalization::Auto => "auto",
            Normalization::Baseline => "baseline",
            Normalization::ZScore => "zscore",
            Normalization::Ems => "ems",
            Normalization::None => "none",
        }
    }
}

impl std::str::FromStr for Normalization {
    type Err = String;

    /// One of the [`Normalization::name`]s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Normalization::ALL
            .into_iter()
            .find(|n| n.name() == s)
            .ok_or_else(|| format!("{s:?} is not one of auto, baseline, zscore, ems, none"))
    }
}

/// Everything that decides which windows a dataset holds and how they look.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetConfig {
    /// Window length in seconds; `None`: the median duration of the labeled segments.
    pub window_s: Option<f64>,
    /// Step between windows in seconds; `None`: equal to the window (no overlap).
    pub stride_s: Option<f64>,
    /// Only these classes (after merging); empty: all.
    pub classes: Vec<String>,
    /// Renames applied to label texts before anything else (`from -> to`), to merge classes.
    pub merge: BTreeMap<String, String>,
    /// Treat unlabeled time as a class of this name.
    pub unlabeled_class: Option<String>,
    /// Only these channels, by label; empty: the channels every recording has.
    pub channels: Vec<String>,
    /// Only channels of these types ([`channel_kinds`]: a BIDS channels.tsv,
    /// else the names); empty: every type. Used when `channels` is empty.
    ///
    /// [`channel_kinds`]: spindle_signals::recording::channel_kinds
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_types: Vec<ChannelKind>,
    /// Resample every channel to this rate (Hz); `None`: the most common rate.
    pub rate_hz: Option<f64>,
    /// Standardization fitted on the training windows.
    pub normalization: Normalization,
    /// Share of the training recordings (or time, per class) held out for validation.
    pub validation_fraction: f64,
    /// Share held out for testing when no test recordings are given.
    pub test_fraction: f64,
    /// Seed for choosing held-out recordings.
    pub seed: u64,
    /// Labels are numbers to predict (regression) rather than classes.
    #[serde(default)]
    pub regression: bool,
    /// Zero-phase high-pass, low-pass and notch filters applied to whole
    /// recordings before windows are cut.
    #[serde(default)]
    pub filter: DisplayFilter,
    /// What the model sees of a window: raw samples or a spectrogram.
    #[serde(default)]
    pub representation: Representation,
    /// Shortest window in samples when each file is one example (labeled audio
    /// folders) and no window length is given: shorter files are padded up
    /// to it. Set to the model's minimum input so that short clips still fit.
    #[serde(default)]
    pub min_window_samples: usize,
    /// Trials of the training recordings that form the test set (a
    /// cross-validation fold's blocks of trials, [`super::plan_folds`]);
    /// training windows overlapping them are dropped. Empty: the test set is
    /// the test recordings, else held out as usual.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_trials: Vec<Trial>,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            window_s: None,
            stride_s: None,
            classes: Vec::new(),
            merge: BTreeMap::new(),
            unlabeled_class: None,
            channels: Vec::new(),
            channel_types: Vec::new(),
            rate_hz: None,
            normalization: Normalization::Auto,
            validation_fraction: 0.2,
            test_fraction: 0.2,
            seed: 0,
            regression: false,
            filter: DisplayFilter::default(),
            representation: Representation::Raw,
            min_window_samples: 0,
            test_trials: Vec::new(),
        }
    }
}

/// One labeled segment of a recording, after merging: the unit that
/// trial-block folds hold out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Trial {
    /// The recording.
    pub file: PathBuf,
    /// Start, seconds from the recording's start.
    pub onset_s: f64,
    /// Length, seconds.
    pub duration_s: f64,
    /// The class (label text after merging).
    pub class: String,
}
