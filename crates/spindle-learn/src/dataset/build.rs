//! Assembling a [`Dataset`]: channel selection, a common rate, windows,
//! splits, normalization and the windows' samples laid out for the model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use spindle_signals::dsp::DisplayFilter;

use super::finite::check_finite;
use super::split::{Holdout, HoldoutMethod, hold_out};
use super::{
    ChannelStats, DatasetConfig, DatasetError, LoadedSource, Normalization, Representation,
    SplitName, WindowRef,
    auto_norm::{NormalizationChoice, choose_normalization},
    cut_windows, hold_out_trials, median_duration_s,
    normalize::{exponential_moving_standardize, remove_window_means},
    resample::resample,
};

/// The windows of one split, ready for a model.
#[derive(Debug, Clone, Default)]
pub struct SplitData {
    /// Samples laid out `[n, channels, window_len]`, normalized.
    pub x: Vec<f32>,
    /// Class index of each window (classification).
    pub y: Vec<usize>,
    /// Target value of each window (regression).
    pub values: Vec<f32>,
    /// Where each window came from.
    pub windows: Vec<WindowRef>,
}

impl SplitData {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// True without windows.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

/// Counts and decisions worth showing to the user.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetSummary {
    /// Windows per class in each split.
    pub counts: BTreeMap<SplitName, BTreeMap<String, usize>>,
    /// Labeled segments shorter than one window (skipped).
    pub skipped_short: usize,
    /// Training windows dropped because they overlapped a held-out window.
    pub purged: usize,
    /// How the validation set was chosen, in words.
    pub validation_method: String,
    /// How the test set was chosen, in words.
    pub test_method: String,
    /// Things the user should know (small splits, missing classes ...).
    pub warnings: Vec<String>,
    /// What `--normalization auto` chose and why (`None` for a fixed choice).
    #[serde(default)]
    pub normalization: Option<NormalizationChoice>,
}

/// A dataset: the windows of each split and everything needed to cut and
/// standardize new recordings the same way.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Channel labels, in model input order.
    pub channels: Vec<String>,
    /// The common sample rate, Hz.
    pub rate_hz: f64,
    /// Window length in samples.
    pub window_len: usize,
    /// Rows of the model's input per window (channels, or channels x bins).
    pub input_channels: usize,
    /// Columns of the model's input per window (samples, or frames).
    pub input_len: usize,
    /// Columns per second of the model's input, Hz.
    pub input_rate_hz: f64,
    /// The standardization actually applied (a spectrogram is z-scored, not baseline-corrected).
    pub normalization: Normalization,
    /// Step between windows in samples.
    pub stride_len: usize,
    /// Class names, sorted; empty for regression.
    pub classes: Vec<String>,
    /// True when the labels are numbers to predict (regression).
    pub regression: bool,
    /// Standardization fitted on the training windows.
    pub stats: ChannelStats,
    /// The source files, training sources first, then test sources.
    pub files: Vec<PathBuf>,
    /// True when every source is one example (a labeled audio folder).
    pub whole_file: bool,
    /// How many of `files` are training sources (they come first).
    pub train_files: usize,
    /// How many of `files` were given as validation data (after the training
    /// sources; the rest were given as test data).
    pub validation_files: usize,
    /// Training windows.
    pub train: SplitData,
    /// Validation windows.
    pub validation: SplitData,
    /// Test windows.
    pub test: SplitData,
    /// Counts and decisions.
    pub summary: DatasetSummary,
    /// The physical unit all chosen channels share (as the first
    /// recording's header gives it, e.g. `uV`); `None` when they differ or
    /// have none.
    pub input_unit: Option<String>,
}

/// Builds the dataset from training sources and (optionally) test sources;
/// the validation set is held out from the training sources.
pub fn build_dataset(
    train_sources: Vec<LoadedSource>,
    test_sources: Vec<LoadedSource>,
    config: &DatasetConfig,
) -> Result<Dataset, DatasetError> {
    build_dataset_with_roles(train_sources, Vec::new(), test_sources, config)
}

/// Builds the dataset from sources whose role the user chose: training,
/// validation and test. Empty validation sources: the validation set is held
/// out from the training sources; empty test sources: likewise the test set.
pub fn build_dataset_with_roles(
    train_sources: Vec<LoadedSource>,
    validation_sources: Vec<LoadedSource>,
    test_sources: Vec<LoadedSource>,
    config: &DatasetConfig,
) -> Result<Dataset, DatasetError> {
    if train_sources.is_empty() {
        return Err(DatasetError::Invalid("no training recordings given".into()));
    }
    let n_train_sources = train_sources.len();
    let n_validation_sources = validation_sources.len();
    let n_held_sources = n_train_sources + n_validation_sources;
    let mut sources: Vec<LoadedSource> = train_sources
        .into_iter()
        .chain(validation_sources)
        .chain(test_sources)
        .collect();
    for s in &mut sources {
        for l in &mut s.labels.labels {
            if let Some(to) = config.merge.get(&l.trial_type) {
                l.trial_type = to.clone();
            }
        }
    }
    let whole_file = sources.iter().all(|s| s.whole_file);
    let channels = choose_channels(&sources, &config.channels)?;
    let input_unit = common_unit(&sources[0], &channels);
    // Before filtering or resampling, which would smear a NaN over its channel.
    check_finite(&sources, &channels)?;
    let rate_hz = match config.rate_hz {
        Some(r) if r > 0.0 => r,
        _ => most_common_rate(&sources, &channels),
    };
    let signals: Vec<Vec<Vec<f32>>> = sources
        .iter()
        .map(|s| prepare_signals(s, &channels, rate_hz, &config.filter, config.normalization))
        .collect::<Result<_, _>>()?;

    let window_s = match config.window_s {
        Some(w) => w,
        None if whole_file => median_duration_s(sources.iter().map(|s| &s.labels))
            .ok_or_else(|| DatasetError::Invalid("the audio files are empty".into()))?,
        None => median_duration_s(sources[..n_train_sources].iter().map(|s| &s.labels))
            .ok_or_else(|| {
                DatasetError::Invalid(
                    "no labeled segments with a duration in the training recordings: label some segments, or give --window"
                        .into(),
                )
            })?,
    };
    let mut window_len = (window_s * rate_hz).round() as usize;
    let mut padded_note = None;
    if whole_file && config.window_s.is_none() && window_len < config.min_window_samples {
        padded_note = Some(format!(
            "files are shorter ({window_s:.3} s) than the model needs; each is padded to {:.3} s",
            config.min_window_samples as f64 / rate_hz
        ));
        window_len = config.min_window_samples;
    }
    if window_len < 2 {
        return Err(DatasetError::Invalid(format!(
            "a window of {window_s} s at {rate_hz} Hz holds fewer than 2 samples"
        )));
    }
    let stride_len = config
        .stride_s
        .map_or(window_len, |s| ((s * rate_hz).round() as usize).max(1));

    // Windows.
    let mut windows = Vec::new();
    let mut summary = DatasetSummary::default();
    summary.warnings.extend(padded_note);
    for (i, (s, sig)) in sources.iter().zip(&signals).enumerate() {
        let n_samples = sig.first().map_or(0, Vec::len);
        if s.whole_file {
            windows.push(WindowRef {
                source: i,
                start: 0,
                onset_s: 0.0,
                class: s
                    .labels
                    .labels
                    .first()
                    .map(|l| l.trial_type.clone())
                    .unwrap_or_default(),
            });
            continue;
        }
        let (w, skipped) = cut_windows(
            i,
            &s.recording,
            &s.labels,
            rate_hz,
            n_samples,
            window_len,
            stride_len,
            config.unlabeled_class.as_deref(),
        );
        summary.skipped_short += skipped;
        windows.extend(w);
    }
    if !config.classes.is_empty() {
        let keep: BTreeSet<&str> = config.classes.iter().map(String::as_str).collect();
        windows.retain(|w| keep.contains(w.class.as_str()));
    }
    if summary.skipped_short > 0 {
        summary.warnings.push(format!(
            "{} labeled segment(s) shorter than the {window_s:.3}-s window were skipped",
            summary.skipped_short
        ));
    }
    let class_set: BTreeSet<String> = windows.iter().map(|w| w.class.clone()).collect();
    let regression = config.regression;
    if let Some(bad) = class_set
        .iter()
        .find(|c| regression && c.trim().parse::<f64>().is_err())
    {
        return Err(DatasetError::Invalid(format!(
            "regression needs numeric labels, but one label is {bad:?}"
        )));
    }
    let classes: Vec<String> = if regression {
        Vec::new()
    } else {
        class_set.into_iter().collect()
    };
    if !regression && classes.len() < 2 {
        return Err(DatasetError::Invalid(format!(
            "training needs at least two classes; the labels give {}",
            if classes.is_empty() {
                "none".to_string()
            } else {
                format!("only {:?}", classes[0])
            }
        )));
    }

    // Splits.
    let mut splits: Vec<Option<SplitName>> = windows
        .iter()
        .map(|w| {
            Some(if w.source >= n_held_sources {
                SplitName::Test
            } else if w.source >= n_train_sources {
                SplitName::Validation
            } else {
                SplitName::Train
            })
        })
        .collect();
    let describe = |m: HoldoutMethod, what: &str| match m {
        HoldoutMethod::Recordings if whole_file => {
            format!("{what}: whole files, stratified by class")
        }
        HoldoutMethod::Recordings => format!("{what}: whole recordings"),
        HoldoutMethod::TimeBlocks => format!(
            "{what}: the last block of time of each class in each recording (overlapping training windows dropped)"
        ),
    };
    if !config.test_trials.is_empty() {
        let files: Vec<&std::path::Path> = sources.iter().map(LoadedSource::path).collect();
        let (n, rate) = (window_len, rate_hz);
        hold_out_trials(&windows, &files, &config.test_trials, n, rate, &mut splits).map_err(
            |file| {
                DatasetError::Invalid(format!(
                    "{}: holds test trials of the fold but is not among the training recordings",
                    file.display()
                ))
            },
        )?;
        summary.test_method =
            "the fold's blocks of trials (overlapping training windows dropped)".into();
    } else if n_held_sources == sources.len() {
        let m = hold_out(
            &windows,
            &mut splits,
            Holdout {
                from: SplitName::Train,
                to: SplitName::Test,
                fraction: config.test_fraction,
                window_len,
                whole_file,
                seed: config.seed ^ 0x7E57,
            },
        );
        summary.test_method = describe(m, "held out from the training data");
    } else {
        summary.test_method = "the recordings given as test data".into();
    }
    if n_validation_sources == 0 {
        let m = hold_out(
            &windows,
            &mut splits,
            Holdout {
                from: SplitName::Train,
                to: SplitName::Validation,
                fraction: config.validation_fraction,
                window_len,
                whole_file,
                seed: config.seed ^ 0x7A11D,
            },
        );
        summary.validation_method = describe(m, "held out from the training data");
        if m == HoldoutMethod::TimeBlocks && config.test_trials.is_empty() {
            summary.warnings.push(
                "validation is the last stretch of time of the training recording(s), so the epoch kept is chosen on one part of one session and can be a lucky or unlucky one; give more recordings, or use `spindle train --cv 5` for a steadier estimate".into(),
            );
        }
    } else {
        summary.validation_method = "the recordings given as validation data".into();
    }
    summary.purged = splits.iter().filter(|s| s.is_none()).count();

    // Samples per split.
    let class_index: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut data: BTreeMap<SplitName, SplitData> = BTreeMap::new();
    for (w, split) in windows.into_iter().zip(splits) {
        let Some(split) = split else { continue };
        let d = data.entry(split).or_default();
        let sig = &signals[w.source];
        let before = d.x.len();
        for ch in sig {
            let end = (w.start + window_len).min(ch.len());
            d.x.extend_from_slice(&ch[w.start.min(end)..end]);
            d.x.resize(d.x.len() + window_len - (end - w.start.min(end)), 0.0);
        }
        if let Some(bad) = d.x[before..].iter().position(|v| !v.is_finite()) {
            let ch = bad / window_len;
            return Err(DatasetError::Invalid(format!(
                "{}: channel {} has a non-finite value (NaN or infinity) at {:.3} s; fix or exclude the channel",
                sources[w.source].path().display(),
                channels[ch],
                w.onset_s + (bad % window_len) as f64 / rate_hz
            )));
        }
        if regression {
            d.values
                .push(w.class.trim().parse::<f64>().unwrap_or(0.0) as f32);
        } else {
            d.y.push(class_index.get(w.class.as_str()).copied().unwrap_or(0));
        }
        *summary
            .counts
            .entry(split)
            .or_default()
            .entry(w.class.clone())
            .or_default() += 1;
        d.windows.push(w);
    }
    let mut train = data.remove(&SplitName::Train).unwrap_or_default();
    let mut validation = data.remove(&SplitName::Validation).unwrap_or_default();
    let mut test = data.remove(&SplitName::Test).unwrap_or_default();
    if train.is_empty() {
        return Err(DatasetError::Invalid(
            "no training windows: the labels give no window of the chosen length".into(),
        ));
    }
    for (name, split) in [("validation", &validation), ("test", &test)] {
        if split.len() < 10 {
            summary.warnings.push(format!(
                "the {name} set has only {} window(s); its scores will be noisy",
                split.len()
            ));
        }
    }
    if !regression {
        for c in &classes {
            for split in [SplitName::Train, SplitName::Validation, SplitName::Test] {
                if summary
                    .counts
                    .get(&split)
                    .and_then(|m| m.get(c))
                    .copied()
                    .unwrap_or(0)
                    == 0
                {
                    summary.warnings.push(format!(
                        "class {c:?} has no window in the {} set",
                        split.as_str()
                    ));
                }
            }
        }
    }

    let Some((input_channels, input_len, input_rate_hz)) =
        config
            .representation
            .output_shape(channels.len(), window_len, rate_hz)
    else {
        return Err(DatasetError::Invalid(format!(
            "a window of {window_s:.3} s is shorter than one spectrogram frame; use longer windows"
        )));
    };
    for split in [&mut train, &mut validation, &mut test] {
        split.x = config
            .representation
            .apply(&split.x, channels.len(), window_len, rate_hz);
    }
    // Baseline correction removes a window's mean per row: right for raw
    // signals, wrong for spectra (it would erase the spectral shape).
    let spectra = matches!(
        config.representation,
        Representation::Spectrogram { .. } | Representation::LogMel { .. }
    );
    let normalization = match (config.normalization, spectra) {
        (Normalization::Baseline, true) => Normalization::ZScore,
        (Normalization::Auto, true) => {
            summary.normalization = Some(NormalizationChoice {
                chosen: Normalization::ZScore,
                reason: "auto: spectra are z-scored (removing each row's mean would erase the spectral shape)".into(),
                baseline_score: None,
                with_means_score: None,
                chance: None,
            });
            Normalization::ZScore
        }
        (Normalization::Auto, false) => {
            let choice = choose_normalization(
                &train,
                &validation,
                input_channels,
                input_len,
                classes.len(),
                regression,
            );
            let chosen = choice.chosen;
            summary.normalization = Some(choice);
            chosen
        }
        (mode, _) => mode,
    };
    if normalization == Normalization::Baseline {
        for split in [&mut train, &mut validation, &mut test] {
            remove_window_means(&mut split.x, input_len);
        }
    }
    let stats = match normalization {
        Normalization::Baseline | Normalization::ZScore | Normalization::Auto => {
            let mut stats = ChannelStats::fit(&train.x, input_channels, input_len);
            if normalization == Normalization::Baseline {
                stats.mean.fill(0.0);
            }
            stats
        }
        Normalization::Ems | Normalization::None => ChannelStats::identity(input_channels),
    };
    for split in [&mut train, &mut validation, &mut test] {
        stats.apply(&mut split.x, input_len);
    }
    Ok(Dataset {
        channels,
        rate_hz,
        window_len,
        stride_len,
        input_channels,
        input_len,
        input_rate_hz,
        normalization,
        classes,
        regression,
        stats,
        files: sources.iter().map(|s| s.path().to_path_buf()).collect(),
        train_files: n_train_sources,
        validation_files: n_validation_sources,
        whole_file,
        train,
        validation,
        test,
        summary,
        input_unit,
    })
}

/// The unit every one of `channels` of `source` has, when they share one.
fn common_unit(source: &LoadedSource, channels: &[String]) -> Option<String> {
    let mut units = channels.iter().map(|label| {
        source
            .recording
            .channels
            .iter()
            .find(|c| &c.label == label)
            .map(|c| c.unit.trim().to_string())
    });
    let first = units.next()??;
    (!first.is_empty() && units.all(|u| u.as_deref() == Some(first.as_str()))).then_some(first)
}

/// The chosen channels: `wanted` when given (every recording must have them),
/// else the labels every recording has, in the first recording's order.
fn choose_channels(
    sources: &[LoadedSource],
    wanted: &[String],
) -> Result<Vec<String>, DatasetError> {
    if !wanted.is_empty() {
        for s in sources {
            for w in wanted {
                if !s.recording.channels.iter().any(|c| &c.label == w) {
                    return Err(DatasetError::Invalid(format!(
                        "{}: has no channel {w:?}",
                        s.path().display()
                    )));
                }
            }
        }
        return Ok(wanted.to_vec());
    }
    let first = &sources[0].recording.channels;
    let common: Vec<String> = first
        .iter()
        .map(|c| c.label.clone())
        .filter(|l| {
            sources
                .iter()
                .all(|s| s.recording.channels.iter().any(|c| &c.label == l))
        })
        .collect();
    if common.is_empty() {
        return Err(DatasetError::Invalid(
            "the recordings share no channel label; choose channels explicitly".into(),
        ));
    }
    Ok(common)
}

fn most_common_rate(sources: &[LoadedSource], channels: &[String]) -> f64 {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for s in sources {
        for c in &s.recording.channels {
            if channels.contains(&c.label) {
                *counts.entry(c.rate_hz.to_bits()).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(bits, n)| (n, bits))
        .map_or(1.0, |(bits, _)| f64::from_bits(bits))
}

/// The chosen channels of a source, resampled to `rate_hz`, filtered with
/// `filter` (zero phase), standardized over time when `normalization` is
/// [`Normalization::Ems`], and cut to a common length.
pub fn prepare_signals(
    source: &LoadedSource,
    channels: &[String],
    rate_hz: f64,
    filter: &DisplayFilter,
    normalization: Normalization,
) -> Result<Vec<Vec<f32>>, DatasetError> {
    let mut signals = extract_signals(source, channels, rate_hz)?;
    if filter.is_active() {
        for ch in &mut signals {
            filter.apply_zero_phase(ch, rate_hz);
        }
    }
    if normalization == Normalization::Ems {
        for ch in &mut signals {
            exponential_moving_standardize(ch, 1e-3, 1000, 1e-4);
        }
    }
    Ok(signals)
}

/// The chosen channels of a source, resampled to `rate_hz` and cut to a
/// common length.
pub fn extract_signals(
    source: &LoadedSource,
    channels: &[String],
    rate_hz: f64,
) -> Result<Vec<Vec<f32>>, DatasetError> {
    let mut out = Vec::with_capacity(channels.len());
    for label in channels {
        let Some(ch) = source.recording.channels.iter().find(|c| &c.label == label) else {
            return Err(DatasetError::Invalid(format!(
                "{}: has no channel {label:?}",
                source.path().display()
            )));
        };
        out.push(resample(&ch.samples, ch.rate_hz, rate_hz));
    }
    let n = out.iter().map(Vec::len).min().unwrap_or(0);
    for ch in &mut out {
        ch.truncate(n);
    }
    Ok(out)
}
