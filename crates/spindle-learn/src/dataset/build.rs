//! Assembling a [`Dataset`]: channel selection, a common rate, windows,
//! splits, normalization and the windows' samples laid out for the model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use spindle_signals::recording::{ChannelKind, channel_kinds};

use super::finite::check_finite;
use super::split::{Holdout, HoldoutMethod, hold_out};
use super::{
    ChannelStats, DatasetConfig, DatasetError, LoadedSource, Normalization, Representation,
    SplitData, SplitName, WindowRef,
    auto_norm::{NormalizationChoice, choose_normalization},
    available_memory_bytes, check_load_fits, cut_windows, hold_out_trials, median_duration_s,
    normalize::remove_window_means,
    signals::Signals,
    windows_readable_on_demand,
};

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

impl Dataset {
    /// A copy of everything but the windows: the three splits are empty.
    /// Cheaper than a clone whose splits are replaced at once, which would
    /// hold every window twice for a moment.
    pub fn without_windows(&self) -> Dataset {
        Dataset {
            channels: self.channels.clone(),
            rate_hz: self.rate_hz,
            window_len: self.window_len,
            input_channels: self.input_channels,
            input_len: self.input_len,
            input_rate_hz: self.input_rate_hz,
            normalization: self.normalization,
            stride_len: self.stride_len,
            classes: self.classes.clone(),
            regression: self.regression,
            stats: self.stats.clone(),
            files: self.files.clone(),
            whole_file: self.whole_file,
            train_files: self.train_files,
            validation_files: self.validation_files,
            train: SplitData::default(),
            validation: SplitData::default(),
            test: SplitData::default(),
            summary: self.summary.clone(),
            input_unit: self.input_unit.clone(),
        }
    }
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
    let mut sources: Vec<LoadedSource> = train_sources
        .into_iter()
        .chain(validation_sources)
        .chain(test_sources)
        .collect();
    merge_labels(&mut sources, &config.merge);
    decode_where_needed(&mut sources, config)?;
    let plan = Plan::new(&sources, n_train_sources, n_validation_sources, config)?;
    let mut summary = DatasetSummary::default();
    summary.warnings.extend(plan.padded_note.clone());
    let windows = plan.windows(&mut summary);
    let classes = plan.classes(&windows)?;
    let splits = plan.splits(&windows, &mut summary)?;
    let [train, validation, test] = plan.fill_splits(windows, splits, &classes, &mut summary)?;
    plan.warn_of_thin_splits(&classes, [&validation, &test], &mut summary);
    let shaped = plan.shape(train, validation, test, classes.len(), &mut summary)?;
    Ok(Dataset {
        channels: plan.channels,
        rate_hz: plan.rate_hz,
        window_len: plan.window_len,
        stride_len: plan.stride_len,
        input_channels: shaped.input_channels,
        input_len: shaped.input_len,
        input_rate_hz: shaped.input_rate_hz,
        normalization: shaped.normalization,
        classes,
        regression: config.regression,
        stats: shaped.stats,
        files: sources.iter().map(|s| s.path().to_path_buf()).collect(),
        train_files: n_train_sources,
        validation_files: n_validation_sources,
        whole_file: plan.whole_file,
        train: shaped.train,
        validation: shaped.validation,
        test: shaped.test,
        summary,
        input_unit: plan.input_unit,
    })
}

/// Decodes the chosen channels of the sources left in their files whole,
/// unless their windows can be read on demand
/// ([`windows_readable_on_demand`]); what decoding takes is checked against
/// the free memory first.
fn decode_where_needed(
    sources: &mut [LoadedSource],
    config: &DatasetConfig,
) -> Result<(), DatasetError> {
    if sources.iter().all(|s| s.file.is_none()) {
        return Ok(());
    }
    let channels = choose_channels(sources, &config.channels, &config.channel_types)?;
    let rate_hz = common_rate(config, sources, &channels);
    let rates = sources
        .iter()
        .filter(|s| s.file.is_some())
        .flat_map(|s| &s.recording.channels)
        .filter(|c| channels.contains(&c.label))
        .map(|c| c.rate_hz);
    let whole_file = sources.iter().any(|s| s.whole_file);
    if !whole_file
        && windows_readable_on_demand(rates, rate_hz, &config.filter, config.normalization)
    {
        return Ok(());
    }
    let needed: u64 = sources.iter().map(|s| s.undecoded_bytes(&channels)).sum();
    check_load_fits(
        needed,
        available_memory_bytes(),
        "decoding the chosen channels of the large recordings whole (resampling, a filter or --normalization ems needs whole channels)",
    )?;
    for s in sources {
        s.decode_whole(&channels)?;
    }
    Ok(())
}

/// The dataset's rate: the one configured, else the most common rate of the
/// chosen channels.
fn common_rate(config: &DatasetConfig, sources: &[LoadedSource], channels: &[String]) -> f64 {
    match config.rate_hz {
        Some(r) if r > 0.0 => r,
        _ => most_common_rate(sources, channels),
    }
}

/// Renames the labels of every source as `merge` says (`from -> to`).
fn merge_labels(sources: &mut [LoadedSource], merge: &BTreeMap<String, String>) {
    for s in sources {
        for l in &mut s.labels.labels {
            if let Some(to) = merge.get(&l.trial_type) {
                l.trial_type = to.clone();
            }
        }
    }
}

/// What every stage of building a dataset reads: the sources (training,
/// then validation, then test) with their prepared signals, the common
/// channels and rate, and the window length.
struct Plan<'a> {
    sources: &'a [LoadedSource],
    config: &'a DatasetConfig,
    /// How many of `sources` are training sources (they come first).
    n_train_sources: usize,
    /// Training plus validation sources (the test sources follow them).
    n_held_sources: usize,
    /// True when every source is one example (a labeled audio folder).
    whole_file: bool,
    channels: Vec<String>,
    /// The physical unit all `channels` share, when they do.
    input_unit: Option<String>,
    rate_hz: f64,
    /// Per source, the chosen channels resampled, filtered and cut to one
    /// length, or read from the file a window at a time.
    signals: Vec<Signals>,
    window_s: f64,
    window_len: usize,
    stride_len: usize,
    /// Why short files were padded, when they were.
    padded_note: Option<String>,
}

/// The windows of the three splits laid out for the model and standardized.
struct Shaped {
    train: SplitData,
    validation: SplitData,
    test: SplitData,
    input_channels: usize,
    input_len: usize,
    input_rate_hz: f64,
    normalization: Normalization,
    stats: ChannelStats,
}

impl<'a> Plan<'a> {
    /// Chooses the channels and the rate, prepares every source's signals and
    /// decides the window and stride.
    fn new(
        sources: &'a [LoadedSource],
        n_train_sources: usize,
        n_validation_sources: usize,
        config: &'a DatasetConfig,
    ) -> Result<Self, DatasetError> {
        let whole_file = sources.iter().all(|s| s.whole_file);
        let channels = choose_channels(sources, &config.channels, &config.channel_types)?;
        let input_unit = common_unit(&sources[0], &channels);
        // Before filtering or resampling, which would smear a NaN over its channel.
        check_finite(sources, &channels)?;
        let rate_hz = common_rate(config, sources, &channels);
        let signals: Vec<Signals> = sources
            .iter()
            .map(|s| Signals::of(s, &channels, rate_hz, &config.filter, config.normalization))
            .collect::<Result<_, _>>()?;
        let window_s = window_seconds(sources, n_train_sources, whole_file, config)?;
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
        Ok(Plan {
            sources,
            config,
            n_train_sources,
            n_held_sources: n_train_sources + n_validation_sources,
            whole_file,
            channels,
            input_unit,
            rate_hz,
            signals,
            window_s,
            window_len,
            stride_len,
            padded_note,
        })
    }

    /// Every window of every source (one per file for whole files) of the
    /// chosen classes; counts the labeled segments too short for a window.
    fn windows(&self, summary: &mut DatasetSummary) -> Vec<WindowRef> {
        let config = self.config;
        let mut windows = Vec::new();
        for (i, (s, sig)) in self.sources.iter().zip(&self.signals).enumerate() {
            let n_samples = sig.len();
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
                self.rate_hz,
                n_samples,
                self.window_len,
                self.stride_len,
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
                "{} labeled segment(s) shorter than the {:.3}-s window were skipped",
                summary.skipped_short, self.window_s
            ));
        }
        windows
    }

    /// The class names, sorted (none for regression, whose labels must be
    /// numbers); a classifier needs two at least.
    fn classes(&self, windows: &[WindowRef]) -> Result<Vec<String>, DatasetError> {
        let class_set: BTreeSet<String> = windows.iter().map(|w| w.class.clone()).collect();
        let regression = self.config.regression;
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
        Ok(classes)
    }

    /// The split of each window (`None`: dropped, it overlaps a held-out
    /// one): by the role of its source, then the test and validation sets
    /// held out of the training sources where none were given.
    fn splits(
        &self,
        windows: &[WindowRef],
        summary: &mut DatasetSummary,
    ) -> Result<Vec<Option<SplitName>>, DatasetError> {
        let config = self.config;
        let mut splits: Vec<Option<SplitName>> = windows
            .iter()
            .map(|w| {
                Some(if w.source >= self.n_held_sources {
                    SplitName::Test
                } else if w.source >= self.n_train_sources {
                    SplitName::Validation
                } else {
                    SplitName::Train
                })
            })
            .collect();
        if !config.test_trials.is_empty() {
            let files: Vec<&std::path::Path> =
                self.sources.iter().map(LoadedSource::path).collect();
            let (n, rate) = (self.window_len, self.rate_hz);
            hold_out_trials(windows, &files, &config.test_trials, n, rate, &mut splits).map_err(
                |file| {
                    DatasetError::Invalid(format!(
                        "{}: holds test trials of the fold but is not among the training recordings",
                        file.display()
                    ))
                },
            )?;
            summary.test_method =
                "the fold's blocks of trials (overlapping training windows dropped)".into();
        } else if self.n_held_sources == self.sources.len() {
            let m = hold_out(
                windows,
                &mut splits,
                self.holdout(SplitName::Test, config.test_fraction, 0x7E57, false),
            );
            summary.test_method = self.describe(m, "held out from the training data");
        } else {
            summary.test_method = "the recordings given as test data".into();
        }
        if self.n_held_sources == self.n_train_sources {
            let m = hold_out(
                windows,
                &mut splits,
                self.holdout(
                    SplitName::Validation,
                    config.validation_fraction,
                    0x7A11D,
                    true,
                ),
            );
            summary.validation_method = self.describe(m, "held out from the training data");
            if m == HoldoutMethod::SpreadBlocks && config.test_trials.is_empty() {
                summary.warnings.push(
                    "validation is blocks of trials of the training recording(s), so the epoch kept is chosen within the sessions it trains on and its scores flatter the model; give more recordings, or use `spindle train --cv 5` for a steadier estimate".into(),
                );
            }
        } else {
            summary.validation_method = "the recordings given as validation data".into();
        }
        summary.purged = splits.iter().filter(|s| s.is_none()).count();
        Ok(splits)
    }

    /// Holding `fraction` of the training windows out for split `to`, as
    /// blocks spread over each recording when `spread` (else its last block).
    fn holdout(&self, to: SplitName, fraction: f64, salt: u64, spread: bool) -> Holdout {
        Holdout {
            from: SplitName::Train,
            to,
            fraction,
            window_len: self.window_len,
            whole_file: self.whole_file,
            seed: self.config.seed ^ salt,
            spread,
        }
    }

    /// How a held-out set was chosen, in words.
    fn describe(&self, m: HoldoutMethod, what: &str) -> String {
        match m {
            HoldoutMethod::Recordings if self.whole_file => {
                format!("{what}: whole files, stratified by class")
            }
            HoldoutMethod::Recordings => format!("{what}: whole recordings"),
            HoldoutMethod::TimeBlocks => format!(
                "{what}: the last block of time of each class in each recording (overlapping training windows dropped)"
            ),
            HoldoutMethod::SpreadBlocks => format!(
                "{what}: blocks of trials of each class spread over each recording (overlapping training windows dropped)"
            ),
        }
    }

    /// The samples and targets of every kept window, by split (training,
    /// validation, test), counted per class; a non-finite sample is an
    /// error naming its file, channel and time.
    fn fill_splits(
        &self,
        windows: Vec<WindowRef>,
        splits: Vec<Option<SplitName>>,
        classes: &[String],
        summary: &mut DatasetSummary,
    ) -> Result<[SplitData; 3], DatasetError> {
        let window_len = self.window_len;
        let class_index: BTreeMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let kept = splits.iter().filter(|s| s.is_some()).count();
        let window_bytes = (self.channels.len() * window_len * 4) as u64;
        check_load_fits(
            window_bytes.saturating_mul(kept as u64),
            available_memory_bytes(),
            &format!("holding the {kept} windows"),
        )?;
        let mut data: BTreeMap<SplitName, SplitData> = BTreeMap::new();
        for (w, split) in windows.into_iter().zip(splits) {
            let Some(split) = split else { continue };
            let d = data.entry(split).or_default();
            let before = d.x.len();
            self.signals[w.source].window(w.start, window_len, &mut d.x)?;
            if let Some(bad) = d.x[before..].iter().position(|v| !v.is_finite()) {
                let ch = bad / window_len;
                return Err(DatasetError::Invalid(format!(
                    "{}: channel {} has a non-finite value (NaN or infinity) at {:.3} s; fix or exclude the channel",
                    self.sources[w.source].path().display(),
                    self.channels[ch],
                    w.onset_s + (bad % window_len) as f64 / self.rate_hz
                )));
            }
            if self.config.regression {
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
        let train = data.remove(&SplitName::Train).unwrap_or_default();
        let validation = data.remove(&SplitName::Validation).unwrap_or_default();
        let test = data.remove(&SplitName::Test).unwrap_or_default();
        if train.is_empty() {
            return Err(DatasetError::Invalid(
                "no training windows: the labels give no window of the chosen length".into(),
            ));
        }
        Ok([train, validation, test])
    }

    /// Warns of a validation or test set too small to score well, and of a
    /// class missing from a split.
    fn warn_of_thin_splits(
        &self,
        classes: &[String],
        [validation, test]: [&SplitData; 2],
        summary: &mut DatasetSummary,
    ) {
        for (name, split) in [("validation", validation), ("test", test)] {
            if split.len() < 10 {
                summary.warnings.push(format!(
                    "the {name} set has only {} window(s); its scores will be noisy",
                    split.len()
                ));
            }
        }
        if self.config.regression {
            return;
        }
        for c in classes {
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

    /// The windows laid out as the representation says, then standardized
    /// as the normalization says (`auto` decided on the validation windows
    /// and reported in `summary`), with statistics of the training windows.
    fn shape(
        &self,
        mut train: SplitData,
        mut validation: SplitData,
        mut test: SplitData,
        n_classes: usize,
        summary: &mut DatasetSummary,
    ) -> Result<Shaped, DatasetError> {
        let config = self.config;
        let (n_channels, window_len, rate_hz) =
            (self.channels.len(), self.window_len, self.rate_hz);
        let Some((input_channels, input_len, input_rate_hz)) = config
            .representation
            .output_shape(n_channels, window_len, rate_hz)
        else {
            return Err(DatasetError::Invalid(format!(
                "a window of {:.3} s is shorter than one spectrogram frame; use longer windows",
                self.window_s
            )));
        };
        if config.representation != Representation::Raw {
            for split in [&mut train, &mut validation, &mut test] {
                split.x = config
                    .representation
                    .apply(&split.x, n_channels, window_len, rate_hz);
            }
        }
        let normalization = choose_applied_normalization(
            config,
            &train,
            (input_channels, input_len),
            n_classes,
            summary,
        );
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
        Ok(Shaped {
            train,
            validation,
            test,
            input_channels,
            input_len,
            input_rate_hz,
            normalization,
            stats,
        })
    }
}

/// The window length in seconds: the one given, else the median labeled
/// segment (of every file for whole files, else of the training recordings).
fn window_seconds(
    sources: &[LoadedSource],
    n_train_sources: usize,
    whole_file: bool,
    config: &DatasetConfig,
) -> Result<f64, DatasetError> {
    match config.window_s {
        Some(w) => Ok(w),
        None if whole_file => median_duration_s(sources.iter().map(|s| &s.labels))
            .ok_or_else(|| DatasetError::Invalid("the audio files are empty".into())),
        None => median_duration_s(sources[..n_train_sources].iter().map(|s| &s.labels))
            .ok_or_else(|| {
                DatasetError::Invalid(
                    "no labeled segments with a duration in the training recordings: label some segments, or give --window"
                        .into(),
                )
            }),
    }
}

/// The normalization to apply to inputs of shape `(rows, columns)`: the
/// configured one, except that spectra are z-scored rather than
/// baseline-corrected (removing each row's mean would erase the spectral
/// shape), and `auto` decided (on raw windows, by cross-validation over the
/// training windows `train`; recorded in `summary`).
fn choose_applied_normalization(
    config: &DatasetConfig,
    train: &SplitData,
    (rows, columns): (usize, usize),
    n_classes: usize,
    summary: &mut DatasetSummary,
) -> Normalization {
    let spectra = matches!(
        config.representation,
        Representation::Spectrogram { .. } | Representation::LogMel { .. }
    );
    match (config.normalization, spectra) {
        (Normalization::Baseline, true) => Normalization::ZScore,
        (Normalization::Auto, true) => {
            summary.normalization = Some(NormalizationChoice {
                chosen: Normalization::ZScore,
                reason: "auto: spectra are z-scored (removing each row's mean would erase the spectral shape)".into(),
                baseline_score: None,
                with_means_score: None,
                chance: None,
                margin: None,
                spread: None,
                folds: None,
                probe_seconds: None,
            });
            Normalization::ZScore
        }
        (Normalization::Auto, false) => {
            let started = std::time::Instant::now();
            let mut choice =
                choose_normalization(train, rows, columns, n_classes, config.regression);
            choice.probe_seconds = Some(started.elapsed().as_secs_f64());
            let chosen = choice.chosen;
            summary.normalization = Some(choice);
            chosen
        }
        (mode, _) => mode,
    }
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
/// else the labels every recording has, in the first recording's order, of
/// the `types` asked for (all types when empty; each recording's own
/// [`channel_kinds`] decide).
fn choose_channels(
    sources: &[LoadedSource],
    wanted: &[String],
    types: &[ChannelKind],
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
    let mut kinds = Vec::with_capacity(sources.len());
    for s in sources {
        kinds.push(if types.is_empty() {
            Vec::new()
        } else {
            channel_kinds(&s.recording)?
        });
    }
    // A channel counts in a recording when it is there with a wanted type.
    let usable = |s: &LoadedSource, kinds: &[ChannelKind], label: &str| {
        s.recording
            .channels
            .iter()
            .enumerate()
            .any(|(i, c)| c.label == label && (types.is_empty() || types.contains(&kinds[i])))
    };
    let first = &sources[0].recording.channels;
    let common: Vec<String> = first
        .iter()
        .map(|c| c.label.clone())
        .filter(|l| sources.iter().zip(&kinds).all(|(s, k)| usable(s, k, l)))
        .collect();
    if common.is_empty() && !types.is_empty() {
        let names: Vec<&str> = types.iter().map(|k| k.name()).collect();
        return Err(DatasetError::Invalid(format!(
            "the recordings share no channel of type {}; see each file's channel types with spindle inspect",
            names.join(", ")
        )));
    }
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
