//! Recordings whose samples stay in the file until a window needs them.
//!
//! An EDF/BDF file larger than [`READ_ON_DEMAND_BYTES`] is loaded for
//! training or prediction with its header, annotations and segments only
//! ([`open_edf_paged`], the reader the viewer uses); the samples of a window
//! are read from the file when the window is filled ([`PagedEdf::read_span`]:
//! only the records holding it, only the chosen channels). Memory is then
//! bounded by the windows held, not by the file.
//!
//! Reading windows on demand gives the samples decoding whole channels
//! would only when nothing needs whole channels: every chosen channel at the
//! dataset's rate (no resampling), no filter, and no exponential moving
//! standardization (which runs over the whole recording). Otherwise the
//! chosen channels are decoded whole ([`FileSamples::read_whole`]), as they
//! are for BrainVision and WAV files, which have no reader on demand.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use spindle_signals::dsp::DisplayFilter;
use spindle_signals::recording::{PagedEdf, Recording, RecordingError, open_edf_paged};

use super::{DatasetError, LoadedSource, Normalization, prepare_signals};

pub use spindle_signals::recording::READ_ON_DEMAND_BYTES;

/// The samples of a source left in its file (an EDF/BDF file read on
/// demand), found by channel label.
#[derive(Debug, Clone)]
pub struct FileSamples {
    paged: Arc<PagedEdf>,
    /// The labels of the file's data channels, in the reader's order.
    labels: Vec<String>,
}

impl FileSamples {
    /// Opens `path` (an EDF/BDF file) on demand: the recording has every
    /// header fact, the annotations and segments, and channels without
    /// samples.
    pub fn open(path: &Path) -> Result<(Recording, Self), RecordingError> {
        let (recording, paged) = open_edf_paged(path)?;
        let labels = recording.channels.iter().map(|c| c.label.clone()).collect();
        Ok((
            recording,
            Self {
                paged: Arc::new(paged),
                labels,
            },
        ))
    }

    /// The reader's index of the channel labeled `label`.
    pub fn index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// Samples in the channel labeled `label` (0 when there is none).
    pub fn len(&self, label: &str) -> usize {
        self.index(label).map_or(0, |c| self.paged.len(c))
    }

    /// True when the file has no data channel.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes the samples of the channels `labels` take decoded whole.
    pub fn whole_bytes(&self, labels: &[String]) -> u64 {
        labels.iter().map(|l| self.len(l) as u64 * 4).sum()
    }

    /// Every sample of the channels labeled `labels`, in that order (an
    /// empty vector for a label the file lacks), decoded in one pass.
    pub fn read_whole(&self, labels: &[String]) -> Result<Vec<Vec<f32>>, RecordingError> {
        let indices: Vec<usize> = labels
            .iter()
            .map(|l| self.index(l).unwrap_or(usize::MAX))
            .collect();
        self.paged.read_whole(&indices)
    }

    /// Appends samples `range` of each channel of `indices` ([`Self::index`])
    /// one after the other to `out` (clamped to each channel).
    pub fn read_span(
        &self,
        indices: &[usize],
        range: Range<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), RecordingError> {
        self.paged.read_span(indices, range, out)
    }
}

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
    /// [`windows_readable_on_demand`]).
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

/// True when windows read from the file on demand equal windows cut from
/// whole prepared channels: every channel of `channel_rates_hz` already at
/// `rate_hz`, no active filter and no exponential moving standardization.
pub fn windows_readable_on_demand(
    channel_rates_hz: impl IntoIterator<Item = f64>,
    rate_hz: f64,
    filter: &DisplayFilter,
    normalization: Normalization,
) -> bool {
    !filter.is_active()
        && normalization != Normalization::Ems
        && channel_rates_hz
            .into_iter()
            .all(|r| (r - rate_hz).abs() < 1e-9)
}

/// Refuses, before anything is allocated, a load of `needed_bytes` (what
/// holding `what` takes) when more than `available_bytes` (when known) is
/// free.
pub fn check_load_fits(
    needed_bytes: u64,
    available_bytes: Option<u64>,
    what: &str,
) -> Result<(), DatasetError> {
    match available_bytes {
        Some(available) if needed_bytes > available => Err(DatasetError::Invalid(format!(
            "{what} would take {}, but only {} of memory is free; use fewer or shorter windows (a longer --stride, fewer labels or --classes), fewer channels (--channels), or a lower --rate",
            size_text(needed_bytes),
            size_text(available)
        ))),
        _ => Ok(()),
    }
}

/// Bytes in words: gigabytes with one decimal, megabytes below 1 GB.
fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", (b / 1e6).max(1.0))
    }
}

/// Memory the system can give this process without swapping, bytes: Linux's
/// `MemAvailable`. `None` where it is not known (other systems, an unreadable
/// `/proc/meminfo`); the memory checks are then skipped.
pub fn available_memory_bytes() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

/// The `MemAvailable:` line of a `/proc/meminfo` text, in bytes.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    let scale = match words.next() {
        Some("kB") => 1024,
        None => 1,
        Some(_) => return None,
    };
    value.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{DatasetConfig, SplitData, build_dataset, load_sources_on_demand};
    use spindle_signals::recording::{
        Channel, EdfWriteOptions, Label, LabelSet, write_edf, write_events_tsv,
    };
    use std::collections::BTreeMap;
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
                filter: filter.clone(),
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
                assert_eq!(on_demand.summary, whole.summary, "{case}");
                same_split(&on_demand.train, &whole.train);
                same_split(&on_demand.validation, &whole.validation);
                same_split(&on_demand.test, &whole.test);
            }
        }
    }

    #[test]
    fn a_load_larger_than_free_memory_is_refused_with_advice() {
        assert!(check_load_fits(10, Some(10), "x").is_ok());
        assert!(check_load_fits(10, None, "x").is_ok());
        let err = check_load_fits(3_000_000_000, Some(900_000_000), "holding the 9 windows")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("holding the 9 windows would take 3.0 GB")
                && err.contains("only 900 MB of memory is free")
                && err.contains("--channels"),
            "{err}"
        );
    }

    #[test]
    fn only_windows_that_need_no_whole_channel_are_read_on_demand() {
        let none = DisplayFilter::default();
        let z = Normalization::ZScore;
        assert!(windows_readable_on_demand([256.0, 256.0], 256.0, &none, z));
        assert!(!windows_readable_on_demand([256.0, 512.0], 256.0, &none, z));
        assert!(!windows_readable_on_demand(
            [256.0],
            256.0,
            &none,
            Normalization::Ems
        ));
    }
}
