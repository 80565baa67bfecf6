//! Where the samples of an open recording come from: memory for files that
//! fit comfortably, the file itself (decoded on demand) for large EDF/BDF
//! files, behind one interface that serves a span of one channel.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::edf::{PagedEdf, open_edf_paged};
use super::{Recording, RecordingError, read_recording};

/// EDF/BDF files larger than this (bytes) are read on demand by
/// [`open_for_viewing`]; smaller ones, and every other format, are read whole.
pub const READ_ON_DEMAND_BYTES: u64 = 32 << 20;

/// The samples of an open recording.
#[derive(Debug, Clone)]
pub enum SampleStore {
    /// Decoded whole: the recording's own channels.
    Memory(Arc<Recording>),
    /// Read from the file on demand.
    Paged(Arc<PagedEdf>),
}

impl SampleStore {
    /// Samples of channel `channel` (0 for one that does not exist).
    pub fn len(&self, channel: usize) -> usize {
        match self {
            Self::Memory(rec) => rec.channels.get(channel).map_or(0, |c| c.samples.len()),
            Self::Paged(paged) => paged.len(channel),
        }
    }

    /// True when there is no channel.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Memory(rec) => rec.channels.is_empty(),
            Self::Paged(paged) => paged.is_empty(),
        }
    }

    /// All samples of `channel` when they are in memory, `None` when they are
    /// read on demand (or the channel does not exist).
    pub fn in_memory(&self, channel: usize) -> Option<&[f32]> {
        match self {
            Self::Memory(rec) => rec.channels.get(channel).map(|c| c.samples.as_slice()),
            Self::Paged(_) => None,
        }
    }

    /// True when samples are read from the file on demand.
    pub fn is_paged(&self) -> bool {
        matches!(self, Self::Paged(_))
    }

    /// Appends samples `range` of `channel` (clamped to the channel) to `out`.
    /// Errors only for a paged file that changed or vanished since opening.
    pub fn read(
        &self,
        channel: usize,
        range: Range<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), RecordingError> {
        match self {
            Self::Memory(rec) => {
                if let Some(c) = rec.channels.get(channel) {
                    let end = range.end.min(c.samples.len());
                    let start = range.start.min(end);
                    out.extend_from_slice(&c.samples[start..end]);
                }
                Ok(())
            }
            Self::Paged(paged) => paged.read(channel, range, out),
        }
    }

    /// An address that tells two stores apart (never dereferenced), so that
    /// a cached drawing knows when its data changed.
    pub fn identity(&self) -> usize {
        match self {
            Self::Memory(rec) => Arc::as_ptr(rec) as usize,
            Self::Paged(paged) => Arc::as_ptr(paged) as usize,
        }
    }
}

/// Opens `path` for viewing. An EDF/BDF file larger than
/// `on_demand_from_bytes` is opened with [`open_edf_paged`]: the returned
/// recording has its header facts and annotations but empty channel samples,
/// and the store reads them from the file. Anything else is read whole.
pub fn open_for_viewing(
    path: &Path,
    on_demand_from_bytes: u64,
) -> Result<(Arc<Recording>, SampleStore), RecordingError> {
    let len = std::fs::metadata(path)
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    let is_edf = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["edf", "bdf", "rec"].contains(&e.to_ascii_lowercase().as_str()));
    if is_edf && len > on_demand_from_bytes {
        let (recording, paged) = open_edf_paged(path)?;
        return Ok((Arc::new(recording), SampleStore::Paged(Arc::new(paged))));
    }
    let recording = Arc::new(read_recording(path)?);
    Ok((recording.clone(), SampleStore::Memory(recording)))
}
