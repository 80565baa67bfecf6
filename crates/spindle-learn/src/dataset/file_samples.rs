//! Recordings whose samples stay in the file until a window needs them.
//!
//! An EDF/BDF file larger than [`READ_ON_DEMAND_BYTES`] is loaded for
//! training or prediction with its header, annotations and segments only
//! ([`open_edf_paged`], the reader the viewer uses); the samples of a window
//! are read from the file when the window is filled (`Signals` in
//! `signals.rs`, through [`PagedEdf::read_span`]:
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

use super::{DatasetError, Normalization};

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
