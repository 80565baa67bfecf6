//! The samples of one source's chosen channels at the dataset's rate, as
//! training and prediction cut windows from them: prepared whole in memory
//! (resampled, filtered, standardized over time), or read from the file a
//! window at a time for a source left there (see `file_samples.rs`).

use spindle_signals::dsp::DisplayFilter;

use super::{
    DatasetError, FileSamples, LoadedSource, Normalization,
    normalize::exponential_moving_standardize, resample::resample,
};

/// The samples of one source's chosen channels at the dataset's rate.
pub(crate) enum Signals {
    /// Resampled, filtered and cut to one length, in memory.
    Prepared(Vec<Vec<f32>>),
    /// Left in the file (already at the dataset's rate, unfiltered): each
    /// window reads its samples from there.
    InFile {
        file: FileSamples,
        /// The reader's index of each chosen channel.
        indices: Vec<usize>,
        /// Samples of the shortest chosen channel.
        len: usize,
    },
}

impl Signals {
    /// The chosen channels of `source`, prepared in memory unless the source
    /// was left in its file (whose windows must then be readable on demand,
    /// [`windows_readable_on_demand`](super::windows_readable_on_demand)).
    pub(crate) fn of(
        source: &LoadedSource,
        channels: &[String],
        rate_hz: f64,
        filter: &DisplayFilter,
        normalization: Normalization,
    ) -> Result<Self, DatasetError> {
        let Some(file) = &source.file else {
            let prepared = prepare_signals(source, channels, rate_hz, filter, normalization)?;
            return Ok(Self::Prepared(prepared));
        };
        let mut indices = Vec::with_capacity(channels.len());
        for label in channels {
            let Some(index) = file.index(label) else {
                return Err(DatasetError::Invalid(format!(
                    "{}: has no channel {label:?}",
                    source.path().display()
                )));
            };
            indices.push(index);
        }
        let len = channels.iter().map(|l| file.len(l)).min().unwrap_or(0);
        Ok(Self::InFile {
            file: file.clone(),
            indices,
            len,
        })
    }

    /// Samples per channel.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Prepared(channels) => channels.first().map_or(0, Vec::len),
            Self::InFile { len, .. } => *len,
        }
    }

    /// Appends `len` samples of every channel from `start` (zeros past the
    /// end), channel after channel, to `x`.
    pub(crate) fn window(
        &self,
        start: usize,
        len: usize,
        x: &mut Vec<f32>,
    ) -> Result<(), DatasetError> {
        match self {
            Self::Prepared(channels) => {
                for ch in channels {
                    let end = (start + len).min(ch.len());
                    x.extend_from_slice(&ch[start.min(end)..end]);
                    x.resize(x.len() + len - (end - start.min(end)), 0.0);
                }
            }
            Self::InFile {
                file,
                indices,
                len: n,
            } if start + len <= *n => file.read_span(indices, start..start + len, x)?,
            Self::InFile { file, indices, .. } => {
                for &c in indices {
                    let before = x.len();
                    file.read_span(&[c], start..start + len, x)?;
                    x.resize(before + len, 0.0);
                }
            }
        }
        Ok(())
    }

    /// [`Self::window`] for each of `starts` in turn. Windows left in the
    /// file are read a run of neighbours at a time (at most
    /// [`SPAN_VALUES`] samples in one read), so that the windows of a whole
    /// recording read each record once rather than once per window.
    pub(crate) fn windows(
        &self,
        starts: &[usize],
        len: usize,
        x: &mut Vec<f32>,
    ) -> Result<(), DatasetError> {
        let Self::InFile {
            file,
            indices,
            len: n,
        } = self
        else {
            for &start in starts {
                self.window(start, len, x)?;
            }
            return Ok(());
        };
        let n_channels = indices.len().max(1);
        let mut span = Vec::new();
        let mut first = 0;
        while first < starts.len() {
            let from = starts[first];
            let mut last = first;
            while last + 1 < starts.len()
                && starts[last + 1] >= starts[last]
                && starts[last + 1] + len <= *n
                && (starts[last + 1] + len - from) * n_channels <= SPAN_VALUES
            {
                last += 1;
            }
            if last == first || from + len > *n {
                self.window(from, len, x)?;
                first += 1;
                continue;
            }
            let to = starts[last] + len;
            span.clear();
            file.read_span(indices, from..to, &mut span)?;
            let width = to - from;
            for &start in &starts[first..=last] {
                for c in 0..indices.len() {
                    let at = c * width + start - from;
                    x.extend_from_slice(&span[at..at + len]);
                }
            }
            first = last + 1;
        }
        Ok(())
    }
}

/// Samples (all channels together) read at once by [`Signals::windows`]:
/// 32 MB of `f32`.
const SPAN_VALUES: usize = 8 << 20;

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
        let mut views: Vec<&mut [f32]> = signals.iter_mut().map(|ch| &mut ch[..]).collect();
        filter.apply_zero_phase_many(&mut views, rate_hz);
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
    if source.file.is_some() {
        let mut decoded = source.clone();
        decoded.decode_whole(channels)?;
        return extract_signals(&decoded, channels, rate_hz);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{DatasetConfig, SplitData, build_dataset, load_sources_on_demand};
    use spindle_signals::recording::Recording;
    use spindle_signals::recording::{
        Channel, EdfWriteOptions, Label, LabelSet, write_edf, write_events_tsv,
    };
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::path::PathBuf;

    /// A 3-channel EDF file of `seconds` at 100 Hz (one channel at 50 Hz
    /// when `mixed_rates`), with labels `a`/`b` of 2 s every 5 s in an
    /// events file beside it; returns the file and its labels.
    fn labeled_edf(
        dir: &Path,
        name: &str,
        seconds: usize,
        mixed_rates: bool,
    ) -> (PathBuf, PathBuf) {
        let path = dir.join(format!("{name}.edf"));
        let channel = |c: usize, rate_hz: f64| Channel {
            physical_min: -500.0,
            physical_max: 500.0,
            ..Channel::new(
                format!("C{c}"),
                rate_hz,
                (0..seconds * rate_hz as usize)
                    .map(|i| {
                        let t = i as f32 / rate_hz as f32;
                        (100.0 * (t * (3 + c) as f32).sin() + (i * 7 % 13) as f32 + c as f32 * 20.0)
                            .round()
                    })
                    .collect(),
            )
        };
        let channels = (0..3)
            .map(|c| channel(c, if mixed_rates && c == 2 { 50.0 } else { 100.0 }))
            .collect();
        let rec = Recording {
            path: path.clone(),
            ..Recording::from_channels(channels)
        };
        write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
        let labels: Vec<Label> = (0..seconds / 5 - 1)
            .map(|k| {
                Label::new(
                    1.0 + 5.0 * k as f64,
                    2.0,
                    if k % 3 == 0 { "a" } else { "b" },
                )
            })
            .collect();
        let events = dir.join(format!("{name}_events.tsv"));
        write_events_tsv(&events, &LabelSet::new(labels)).unwrap();
        (path, events)
    }

    fn same_split(a: &SplitData, b: &SplitData) {
        assert_eq!(a.windows, b.windows);
        assert_eq!(a.y, b.y);
        assert_eq!(a.values, b.values);
        assert_eq!(a.x, b.x);
    }

    /// A summary without the probes' measured seconds, which differ between
    /// any two runs.
    fn timeless(summary: &crate::dataset::DatasetSummary) -> crate::dataset::DatasetSummary {
        let mut summary = summary.clone();
        if let Some(choice) = summary.normalization.as_mut() {
            choice.probe_seconds = None;
        }
        summary
    }

    #[test]
    fn windows_read_on_demand_equal_windows_of_whole_channels() {
        let dir = tempfile::tempdir().unwrap();
        let (big, big_events) = labeled_edf(dir.path(), "big", 300, false);
        let (mixed, mixed_events) = labeled_edf(dir.path(), "mixed", 200, true);
        let filtered = DisplayFilter {
            lowpass_hz: Some(20.0),
            ..DisplayFilter::default()
        };
        let cases = [
            (
                vec![big.clone()],
                Normalization::Auto,
                DisplayFilter::default(),
            ),
            (
                vec![big.clone()],
                Normalization::ZScore,
                DisplayFilter::default(),
            ),
            (
                vec![big.clone()],
                Normalization::Baseline,
                DisplayFilter::default(),
            ),
            // Whole channels needed: decoded whole after all.
            (vec![big.clone()], Normalization::ZScore, filtered),
            (
                vec![big.clone()],
                Normalization::Ems,
                DisplayFilter::default(),
            ),
            (
                vec![big.clone(), mixed.clone()],
                Normalization::ZScore,
                DisplayFilter::default(),
            ),
        ];
        let mixed_bytes = std::fs::metadata(&mixed).unwrap().len();
        let label_files = BTreeMap::from([(big, big_events), (mixed, mixed_events)]);
        for (paths, normalization, filter) in cases {
            let config = DatasetConfig {
                window_s: Some(1.0),
                stride_s: Some(0.5),
                normalization,
                filter,
                ..DatasetConfig::default()
            };
            let build = |on_demand_from_bytes: u64| {
                let sources = load_sources_on_demand(
                    &paths,
                    &label_files,
                    &[],
                    &mut Vec::new(),
                    on_demand_from_bytes,
                )
                .unwrap();
                let in_file = sources.iter().filter(|s| s.file.is_some()).count();
                (
                    build_dataset(sources, Vec::new(), &config).unwrap(),
                    in_file,
                )
            };
            let (whole, kept) = build(u64::MAX);
            assert_eq!(kept, 0);
            // Every file on demand, then only the larger one (the other,
            // with a channel to resample, read whole).
            for threshold in [0, mixed_bytes] {
                let (on_demand, in_file) = build(threshold);
                assert!(in_file >= 1, "{normalization:?}");
                let case = format!(
                    "{normalization:?}, {filter:?}, {} file(s) from {threshold} bytes",
                    paths.len()
                );
                assert!(whole.train.len() > 50, "{case}");
                assert_eq!(on_demand.channels, whole.channels, "{case}");
                assert_eq!(on_demand.classes, whole.classes, "{case}");
                assert_eq!(on_demand.normalization, whole.normalization, "{case}");
                assert_eq!(on_demand.stats, whole.stats, "{case}");
                assert_eq!(
                    timeless(&on_demand.summary),
                    timeless(&whole.summary),
                    "{case}"
                );
                same_split(&on_demand.train, &whole.train);
                same_split(&on_demand.validation, &whole.validation);
                same_split(&on_demand.test, &whole.test);
            }
        }
    }
}
