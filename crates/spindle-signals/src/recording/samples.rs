//! Where the samples of an open recording come from: memory for files that
//! fit comfortably, the file itself (decoded on demand) for large EDF/BDF
//! files, behind one interface that serves a span of one channel.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::edf::{PagedEdf, open_edf_paged};
use super::open::{Sniffed, recognize};
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

    /// Like [`Self::read`] without touching the file: `false`, with nothing
    /// appended, when samples read on demand are not in the cache yet
    /// ([`Self::warm`] them on a worker). Always `true` in memory.
    pub fn read_cached(&self, channel: usize, range: Range<usize>, out: &mut Vec<f32>) -> bool {
        match self {
            Self::Memory(_) => self.read(channel, range, out).is_ok(),
            Self::Paged(paged) => paged.read_cached(channel, range, out),
        }
    }

    /// For samples read on demand, decodes those of `range` of `channel`
    /// into the cache ahead of drawing them; nothing to do in memory.
    pub fn warm(&self, channel: usize, range: Range<usize>) -> Result<(), RecordingError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Paged(paged) => paged.warm(channel, range),
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

/// Opens `path` for viewing. An EDF/BDF file (by its content) larger than
/// `on_demand_from_bytes` is opened with [`open_edf_paged`]: the returned
/// recording has its header facts and annotations but empty channel samples,
/// and the store reads them from the file. Anything else is read whole.
pub fn open_for_viewing(
    path: &Path,
    on_demand_from_bytes: u64,
) -> Result<(Arc<Recording>, SampleStore), RecordingError> {
    crate::io_guard::note(path);
    let len = std::fs::metadata(path)
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    // Recognized by content, as `read_recording` does, never by extension.
    if len > on_demand_from_bytes && recognize(path)? == Sniffed::Edf {
        let (recording, paged) = open_edf_paged(path)?;
        return Ok((Arc::new(recording), SampleStore::Paged(Arc::new(paged))));
    }
    let recording = Arc::new(read_recording(path)?);
    Ok((recording.clone(), SampleStore::Memory(recording)))
}

/// Reads `path` with the channels labeled in `wanted` only (every channel
/// when `wanted` is empty). An EDF/BDF file decodes just those channels, in
/// one pass, so that a model of 4 channels trained on 64-channel overnight
/// recordings holds 4 channels in memory; other formats are read whole and
/// the other channels dropped. A wanted label the file lacks is simply
/// absent from the result (the caller names what is missing).
pub fn read_recording_channels(
    path: &Path,
    wanted: &[String],
) -> Result<Recording, RecordingError> {
    if wanted.is_empty() {
        return read_recording(path);
    }
    if recognize(path)? != Sniffed::Edf {
        let mut rec = read_recording(path)?;
        rec.channels.retain(|c| wanted.contains(&c.label));
        return Ok(rec);
    }
    let (mut rec, paged) = open_edf_paged(path)?;
    let keep: Vec<usize> = (0..rec.channels.len())
        .filter(|&c| wanted.contains(&rec.channels[c].label))
        .collect();
    let mut samples = paged.read_whole(&keep)?.into_iter();
    let mut index = 0;
    rec.channels.retain(|_| {
        let kept = keep.contains(&index);
        index += 1;
        kept
    });
    for ch in &mut rec.channels {
        ch.samples = samples.next().unwrap_or_default();
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Channel, EdfWriteOptions, Format, Segment, write_edf};

    #[test]
    fn only_the_wanted_channels_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.edf");
        let channel = |label: &str, k: f32| Channel {
            label: label.into(),
            unit: "uV".into(),
            rate_hz: 100.0,
            physical_min: -100.0,
            physical_max: 100.0,
            transducer: String::new(),
            prefilter: String::new(),
            samples: (0..1000).map(|i| ((i as f32 * k) % 50.0).round()).collect(),
        };
        let rec = Recording {
            path: path.clone(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: vec![channel("Fz", 1.0), channel("Cz", 3.0), channel("Pz", 7.0)],
            annotations: Vec::new(),
            segments: vec![Segment {
                onset_s: 0.0,
                duration_s: 10.0,
            }],
            warnings: Vec::new(),
        };
        write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
        let whole = read_recording(&path).unwrap();
        let some = read_recording_channels(&path, &["Pz".into(), "Fz".into()]).unwrap();
        let labels: Vec<&str> = some.channels.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["Fz", "Pz"], "file order is kept");
        assert_eq!(some.channels[0], whole.channels[0]);
        assert_eq!(some.channels[1], whole.channels[2]);
        assert_eq!(some.segments, whole.segments);
        assert_eq!(read_recording_channels(&path, &[]).unwrap(), whole);
    }

    #[test]
    fn files_are_opened_on_demand_by_their_content_not_their_name() {
        let dir = tempfile::tempdir().unwrap();
        // A WAV file named .edf is read as the WAV it is, whatever its size.
        let wav = dir.path().join("call.edf");
        crate::recording::write_wav(
            &wav,
            8000,
            &[vec![0.25; 800]],
            crate::recording::WavSampleFormat::Pcm16,
        )
        .unwrap();
        let (rec, samples) = open_for_viewing(&wav, 0).unwrap();
        assert_eq!(rec.format, Format::Wav);
        assert!(!samples.is_paged());
        // Bytes that are no recording at all: the error read_recording gives.
        let junk = dir.path().join("junk.edf");
        std::fs::write(&junk, b"1       this is not the EDF version field").unwrap();
        let err = open_for_viewing(&junk, 0).unwrap_err().to_string();
        assert!(
            err.contains("junk.edf") && err.contains("not an EDF"),
            "{err}"
        );
    }
}
