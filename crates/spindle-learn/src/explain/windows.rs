//! The windows an explanation runs on: the run's own test windows, rebuilt
//! from `run.json` exactly as training cut them, or windows of other
//! labeled recordings cut with the run's settings. Windows are kept raw
//! (after the run's filters, before its representation and normalization),
//! so that a perturbation acts on the signal whatever the model sees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spindle_signals::dsp::BandStop;
use spindle_signals::recording::{Label, LabelSet, read_recording_channels};

use super::ExplainError;
use crate::dataset::{
    DatasetConfig, LoadedSource, Normalization, Representation, build_dataset_with_roles,
    cut_windows, load_sources, normalize_windows, prepare_signals,
};
use crate::train::RunInfo;

/// What each window is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Truth {
    /// Class indices in the run's class order.
    Classes(Vec<usize>),
    /// Target values (regression).
    Values(Vec<f32>),
}

/// Where a window lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placed {
    /// Index into [`WindowSet::files`].
    pub source: usize,
    /// First sample in the source's prepared signals.
    pub start: usize,
    /// Onset, seconds from the recording's start.
    pub onset_s: f64,
}

/// Windows with their truth and the signals they were cut from.
#[derive(Debug, Clone)]
pub(crate) struct WindowSet {
    /// The recordings, by source index.
    pub files: Vec<PathBuf>,
    /// Each source's prepared channels (empty for a source without windows).
    signals: Vec<Vec<Vec<f32>>>,
    /// The windows, in file order.
    pub windows: Vec<Placed>,
    /// Their truth.
    pub truth: Truth,
    /// Raw windows `[n, channels, window_len]`.
    pub raw: Vec<f32>,
    /// Channels per window.
    pub channels: usize,
    /// Samples per window.
    pub len: usize,
    /// In words, for `explain.json`.
    pub description: String,
}

impl WindowSet {
    /// Number of windows.
    pub fn count(&self) -> usize {
        self.windows.len()
    }

    /// The files that hold at least one window.
    pub fn used_files(&self) -> Vec<PathBuf> {
        let mut used: Vec<usize> = self.windows.iter().map(|w| w.source).collect();
        used.sort_unstable();
        used.dedup();
        used.into_iter().map(|i| self.files[i].clone()).collect()
    }

    /// The raw windows with `stop` applied to each channel, filtering
    /// `margin` samples of the recording around each window (where there
    /// are any) so that the filter's start-up stays outside the window.
    pub fn band_stopped(&self, stop: &BandStop, margin: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.raw.len());
        let mut buf = Vec::new();
        for w in &self.windows {
            for ch in &self.signals[w.source] {
                let from = w.start.saturating_sub(margin).min(ch.len());
                let to = (w.start + self.len + margin).min(ch.len());
                buf.clear();
                buf.extend_from_slice(&ch[from..to]);
                stop.apply(&mut buf);
                cut(&buf, w.start - from, self.len, &mut out);
            }
        }
        out
    }
}

/// Appends `len` samples of `signal` from `start`, zero-padded past its end
/// (as the dataset pads a short file).
fn cut(signal: &[f32], start: usize, len: usize, out: &mut Vec<f32>) {
    let end = (start + len).min(signal.len());
    let from = start.min(end);
    out.extend_from_slice(&signal[from..end]);
    out.resize(out.len() + len - (end - from), 0.0);
}

/// The run's settings for windows before representation and normalization:
/// the same windows, splits and filters, raw samples out.
fn raw_config(info: &RunInfo) -> DatasetConfig {
    let c = &info.dataset_config;
    DatasetConfig {
        channels: info.channels.clone(),
        rate_hz: Some(info.rate_hz),
        representation: Representation::Raw,
        // Moving standardization acts on whole recordings before windows
        // are cut: it stays; window standardization comes later.
        normalization: if c.normalization == Normalization::Ems {
            Normalization::Ems
        } else {
            Normalization::None
        },
        ..c.clone()
    }
}

/// The run's dataset rebuilt from the data files named in `run.json` with
/// raw windows ([`raw_config`]), the sources it was built from and that
/// configuration.
fn rebuild_run_dataset(
    info: &RunInfo,
    run_dir: &Path,
) -> Result<(crate::dataset::Dataset, Vec<LoadedSource>, DatasetConfig), ExplainError> {
    let mut by_role: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for d in &info.data {
        // A file changed since training would give other windows than the
        // run was scored on (a missing one is named when it is loaded).
        // Every byte is read: the remembered hashes judge by size and
        // modification time, which a copy with `cp -p` keeps.
        if d.path.exists()
            && crate::train::sha256_file_cached(&d.path, None, |_, _| {})? != d.sha256
        {
            return Err(ExplainError::file(
                &d.path,
                "changed since the run was trained (its SHA-256 differs from the one in run.json); explain on it with --data, or train again",
            ));
        }
        by_role
            .entry(d.role.as_str())
            .or_default()
            .push(d.path.clone());
    }
    let load = |role: &str| -> Result<Vec<LoadedSource>, ExplainError> {
        let paths = by_role.get(role).cloned().unwrap_or_default();
        load_files(info, &paths)
    };
    let (train, validation, test) = (load("train")?, load("validation")?, load("test")?);
    let sources: Vec<LoadedSource> = train
        .iter()
        .chain(&validation)
        .chain(&test)
        .cloned()
        .collect();
    let config = raw_config(info);
    let ds = build_dataset_with_roles(train, validation, test, &config)
        .map_err(crate::train::TrainError::from)?;
    if ds.window_len != info.window_len || (!info.regression && ds.classes != info.classes) {
        return Err(ExplainError::file(
            &run_dir.join("run.json"),
            format!(
                "its data files no longer give the run's windows ({} samples of classes {:?}, now {} samples of {:?}); were they changed?",
                info.window_len, info.classes, ds.window_len, ds.classes
            ),
        ));
    }
    Ok((ds, sources, config))
}

/// Rebuilds the run's test windows from the data files named in `run.json`.
pub(crate) fn run_test_windows(info: &RunInfo, run_dir: &Path) -> Result<WindowSet, ExplainError> {
    let (ds, sources, config) = rebuild_run_dataset(info, run_dir)?;
    if ds.test.is_empty() {
        return Err(ExplainError::file(
            &run_dir.join("run.json"),
            "the run has no test windows to explain; give recordings with --data",
        ));
    }
    let mut signals = vec![Vec::new(); sources.len()];
    for w in &ds.test.windows {
        if signals[w.source].is_empty() {
            signals[w.source] = prepare(info, &config, &sources[w.source])?;
        }
    }
    let n = ds.test.len();
    let mut set = split_set(info, &ds.files, &ds.test);
    set.signals = signals;
    set.description = format!("the run's {n} test windows");
    Ok(set)
}

/// Every window of the run (training, validation and test, in that order),
/// rebuilt from the data files named in `run.json`, with the split of each.
/// The set keeps no recording signals: it is not for band filtering.
pub(crate) fn run_all_windows(
    info: &RunInfo,
    run_dir: &Path,
) -> Result<(WindowSet, Vec<crate::dataset::SplitName>), ExplainError> {
    use crate::dataset::SplitName;
    let (ds, _, _) = rebuild_run_dataset(info, run_dir)?;
    let mut set = split_set(info, &ds.files, &crate::dataset::SplitData::default());
    let mut splits = Vec::new();
    for (name, part) in [
        (SplitName::Train, &ds.train),
        (SplitName::Validation, &ds.validation),
        (SplitName::Test, &ds.test),
    ] {
        let more = split_set(info, &ds.files, part);
        set.windows.extend(more.windows);
        set.raw.extend(more.raw);
        match (&mut set.truth, more.truth) {
            (Truth::Classes(a), Truth::Classes(b)) => a.extend(b),
            (Truth::Values(a), Truth::Values(b)) => a.extend(b),
            _ => {}
        }
        splits.extend(std::iter::repeat_n(name, part.len()));
    }
    if set.windows.is_empty() {
        return Err(ExplainError::file(
            &run_dir.join("run.json"),
            "the run's data gives no windows",
        ));
    }
    set.description = format!("the run's {} windows", set.count());
    Ok((set, splits))
}

/// The windows of one split as a set without signals or description.
fn split_set(info: &RunInfo, files: &[PathBuf], part: &crate::dataset::SplitData) -> WindowSet {
    WindowSet {
        files: files.to_vec(),
        signals: vec![Vec::new(); files.len()],
        windows: part
            .windows
            .iter()
            .map(|w| Placed {
                source: w.source,
                start: w.start,
                onset_s: w.onset_s,
            })
            .collect(),
        truth: if info.regression {
            Truth::Values(part.values.clone())
        } else {
            Truth::Classes(part.y.clone())
        },
        raw: part.x.clone(),
        channels: info.channels.len(),
        len: info.window_len,
        description: String::new(),
    }
}

/// Windows of the recordings `paths` labeled with the run's classes (or
/// with numbers, for regression), cut with the run's window and stride.
pub(crate) fn data_windows(info: &RunInfo, paths: &[PathBuf]) -> Result<WindowSet, ExplainError> {
    let config = raw_config(info);
    let mut warnings = Vec::new();
    let mut sources = load_sources(paths, &BTreeMap::new(), &info.channels, &mut warnings)
        .map_err(crate::train::TrainError::from)?;
    for s in &mut sources {
        for l in &mut s.labels.labels {
            if let Some(to) = config.merge.get(&l.trial_type) {
                l.trial_type = to.clone();
            }
        }
    }
    let (len, stride) = (info.window_len, info.stride_len.max(1));
    let mut set = WindowSet {
        files: sources.iter().map(|s| s.path().to_path_buf()).collect(),
        signals: Vec::with_capacity(sources.len()),
        windows: Vec::new(),
        truth: if info.regression {
            Truth::Values(Vec::new())
        } else {
            Truth::Classes(Vec::new())
        },
        raw: Vec::new(),
        channels: info.channels.len(),
        len,
        description: String::new(),
    };
    for (i, s) in sources.iter().enumerate() {
        let signals = prepare(info, &config, s)?;
        let n_samples = signals.first().map_or(0, Vec::len);
        let windows = if s.whole_file {
            let class = s.labels.labels.first().map(|l| l.trial_type.clone());
            class
                .map(|class| crate::dataset::WindowRef {
                    source: i,
                    start: 0,
                    onset_s: 0.0,
                    class,
                })
                .into_iter()
                .collect()
        } else {
            let unlabeled = config.unlabeled_class.as_deref();
            cut_windows(
                i,
                &s.recording,
                &s.labels,
                info.rate_hz,
                n_samples,
                len,
                stride,
                unlabeled,
            )
            .0
        };
        for w in windows {
            let truth_ok = match &mut set.truth {
                Truth::Classes(y) => match info.classes.iter().position(|c| *c == w.class) {
                    Some(k) => {
                        y.push(k);
                        true
                    }
                    None => false,
                },
                Truth::Values(v) => match w.class.trim().parse::<f32>() {
                    Ok(value) if value.is_finite() => {
                        v.push(value);
                        true
                    }
                    _ => false,
                },
            };
            if !truth_ok {
                continue;
            }
            for ch in &signals {
                cut(ch, w.start, len, &mut set.raw);
            }
            set.windows.push(Placed {
                source: i,
                start: w.start,
                onset_s: w.onset_s,
            });
        }
        set.signals.push(signals);
    }
    if set.windows.is_empty() {
        let first = paths.first().cloned().unwrap_or_default();
        return Err(ExplainError::file(
            &first,
            if info.regression {
                "no window with a numeric label to explain on".to_string()
            } else {
                format!(
                    "no labeled window of the run's classes ({}) to explain on",
                    info.classes.join(", ")
                )
            },
        ));
    }
    if let Some(bad) = set.raw.iter().position(|v| !v.is_finite()) {
        let w = set.windows[bad / (len * set.channels)];
        return Err(ExplainError::file(
            &set.files[w.source],
            format!(
                "a non-finite value (NaN or infinity) in the window at {:.3} s",
                w.onset_s
            ),
        ));
    }
    set.description = format!(
        "{} windows of {} recording(s)",
        set.windows.len(),
        set.used_files().len()
    );
    Ok(set)
}

/// Reads the recordings a run was trained on, as training read them: a
/// run on a labeled audio folder has one example per file, its class the
/// file's folder.
fn load_files(info: &RunInfo, paths: &[PathBuf]) -> Result<Vec<LoadedSource>, ExplainError> {
    if !info.whole_file {
        let mut warnings = Vec::new();
        return load_sources(paths, &info.label_files(), &info.channels, &mut warnings)
            .map_err(|e| crate::train::TrainError::from(e).into());
    }
    paths
        .iter()
        .map(|path| {
            let recording = read_recording_channels(path, &[]).map_err(|e| {
                crate::train::TrainError::from(crate::dataset::DatasetError::from(e))
            })?;
            let class = path
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let duration = recording.duration_s();
            Ok(LoadedSource {
                recording,
                labels: LabelSet::new(vec![Label::new(0.0, duration, class)]),
                whole_file: true,
                file: None,
            })
        })
        .collect()
}

fn prepare(
    info: &RunInfo,
    config: &DatasetConfig,
    source: &LoadedSource,
) -> Result<Vec<Vec<f32>>, ExplainError> {
    prepare_signals(
        source,
        &info.channels,
        info.rate_hz,
        &config.filter,
        config.normalization,
    )
    .map_err(|e| crate::train::TrainError::from(e).into())
}

/// What the model sees of raw windows `[n, channels, window_len]`: the
/// run's representation, then its normalization with the fitted statistics.
pub(crate) fn model_input(info: &RunInfo, raw: &[f32]) -> Vec<f32> {
    let mut x = info.dataset_config.representation.apply(
        raw,
        info.channels.len(),
        info.window_len,
        info.rate_hz,
    );
    normalize_windows(
        &mut x,
        info.input_len,
        info.normalization_mode,
        &info.normalization,
    );
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_past_the_end_is_padded_with_zeros() {
        let mut out = Vec::new();
        cut(&[1.0, 2.0, 3.0], 1, 4, &mut out);
        assert_eq!(out, vec![2.0, 3.0, 0.0, 0.0]);
        cut(&[1.0], 5, 2, &mut out);
        assert_eq!(out[4..], [0.0, 0.0]);
    }
}
