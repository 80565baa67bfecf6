//! EDF/BDF files read on demand: opening reads the header and the annotation
//! signals only; the samples of a data channel are decoded when a span of
//! them is asked for, a block of records at a time, and kept in a cache of
//! bounded size.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::header::Header;
use super::reader::{
    PartData, RecordData, assemble, collect_record_tals, decode, open_header, read_exact_at,
};
use crate::recording::{Recording, RecordingError};

/// Samples of the fastest channel held by one cache block (at least one
/// record). A block holds the same records of every channel: the viewer
/// shows all channels over the same time.
const BLOCK_SAMPLES: usize = 1 << 14;

/// Bytes of decoded samples the cache keeps at most.
const CACHE_BYTES: usize = 32 << 20;

/// Bytes of whole records read at once by [`PagedEdf::stream`].
const STREAM_BYTES: usize = 8 << 20;

/// Where one data channel sits in a record and how to convert it.
#[derive(Debug, Clone, Copy)]
struct ChannelPlan {
    /// Byte offset of the channel's samples within a record.
    start: usize,
    /// Samples per record.
    spr: usize,
    gain: f64,
    offset: f64,
}

/// The samples of a run of records, one vector per data channel.
type Block = Arc<Vec<Vec<f32>>>;

/// Decoded blocks, least recently used first out.
#[derive(Debug, Default)]
struct BlockCache {
    blocks: HashMap<usize, (Block, u64)>,
    bytes: usize,
    clock: u64,
}

/// An EDF, EDF+, BDF or BDF+ file whose samples stay in the file until asked
/// for (see the module documentation).
#[derive(Debug)]
pub struct PagedEdf {
    path: PathBuf,
    file: File,
    header_bytes: u64,
    record_bytes: usize,
    n_records: usize,
    width: usize,
    channels: Vec<ChannelPlan>,
    /// Records per cache block.
    records_per_block: usize,
    cache: Mutex<BlockCache>,
}

/// Opens an EDF/BDF file for reading on demand: the [`Recording`] it returns
/// has every header fact, the annotations and the segments, but no samples
/// (each channel's `samples` is empty); [`PagedEdf`] reads them.
///
/// The header is checked as [`read_edf`](super::read_edf) checks it; the
/// annotation signals (EDF+/BDF+) are read record by record, the data
/// signals not at all.
pub fn open_edf_paged(path: &Path) -> Result<(Recording, PagedEdf), RecordingError> {
    crate::io_guard::note(path);
    let opened = open_header(path)?;
    let header = opened.header;
    let found = read_annotation_signals(&opened.file, &header, opened.n_records)
        .map_err(|e| RecordingError::io(path, e))?;
    let width = header.sample_bytes();
    let mut start = 0;
    let mut channels = Vec::new();
    for s in &header.signals {
        if !s.is_annotation() {
            let (gain, offset) = s.gain_offset();
            channels.push(ChannelPlan {
                start,
                spr: s.samples_per_record,
                gain,
                offset,
            });
        }
        start += s.samples_per_record * width;
    }
    let max_spr = channels.iter().map(|c| c.spr).max().unwrap_or(1);
    let paged = PagedEdf {
        records_per_block: (BLOCK_SAMPLES / max_spr.max(1)).max(1),
        path: path.to_path_buf(),
        file: opened.file,
        header_bytes: header.header_bytes as u64,
        record_bytes: header.record_bytes(),
        n_records: opened.n_records,
        width,
        cache: Mutex::new(BlockCache::default()),
        channels: channels.clone(),
    };
    let data = RecordData {
        n_records: opened.n_records,
        samples: vec![Vec::new(); channels.len()],
        record_onsets: found.record_onsets,
        annotations: found.annotations,
        tal_problems: found.tal_problems,
    };
    let recording = assemble(path, header, data, opened.warnings);
    Ok((recording, paged))
}

/// Reads the annotation signals of every record (one read per record and
/// annotation signal), so that annotations and record onsets are known
/// without touching the data signals.
fn read_annotation_signals(
    file: &File,
    header: &Header,
    n_records: usize,
) -> std::io::Result<PartData> {
    let width = header.sample_bytes();
    let record_bytes = header.record_bytes() as u64;
    let mut parts = Vec::new();
    let mut start = 0;
    for s in &header.signals {
        let len = s.samples_per_record * width;
        if s.is_annotation() {
            parts.push((start, len));
        }
        start += len;
    }
    let mut found = PartData::default();
    if parts.is_empty() {
        return Ok(found);
    }
    let mut buf = Vec::new();
    for r in 0..n_records as u64 {
        for (k, &(start, len)) in parts.iter().enumerate() {
            buf.resize(len, 0);
            let at = header.header_bytes as u64 + r * record_bytes + start as u64;
            read_exact_at(file, &mut buf, at)?;
            collect_record_tals(&buf, k == 0, &mut found);
        }
    }
    Ok(found)
}

impl PagedEdf {
    /// The file the samples come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of data channels.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Samples of data channel `channel` (0 for a channel that does not exist).
    pub fn len(&self, channel: usize) -> usize {
        self.channels
            .get(channel)
            .map_or(0, |c| c.spr * self.n_records)
    }

    /// True when the file has no data channel.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Appends samples `range` of `channel` (clamped to the channel) to
    /// `out`, in physical units. A file that shrank or vanished since it was
    /// opened is an error naming it.
    pub fn read(
        &self,
        channel: usize,
        range: Range<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), RecordingError> {
        let Some(plan) = self.channels.get(channel) else {
            return Ok(());
        };
        let end = range.end.min(self.len(channel));
        let mut at = range.start;
        let per_block = self.records_per_block * plan.spr;
        while at < end {
            let block = at / per_block;
            let samples = self.block(block)?;
            let samples = &samples[channel];
            let first = block * per_block;
            let stop = end.min(first + samples.len());
            if stop <= at {
                break;
            }
            out.extend_from_slice(&samples[at - first..stop - first]);
            at = stop;
        }
        Ok(())
    }

    /// Appends samples `range` of each data channel of `channels` (clamped
    /// to the channel), one channel after the other, to `out`. Only the
    /// records holding the span are read, in one read, and only the asked
    /// channels decoded; the cache is not used. Training and prediction read
    /// their windows here: each is read once, so caching them would only
    /// evict what the viewer shows.
    pub fn read_span(
        &self,
        channels: &[usize],
        range: Range<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), RecordingError> {
        let plans: Vec<(usize, ChannelPlan)> = channels
            .iter()
            .filter_map(|&c| self.channels.get(c).map(|p| (c, *p)))
            .collect();
        let spans: Vec<Range<usize>> = plans
            .iter()
            .map(|&(c, _)| {
                let end = range.end.min(self.len(c));
                range.start.min(end)..end
            })
            .collect();
        let records = plans
            .iter()
            .zip(&spans)
            .filter(|(_, s)| !s.is_empty())
            .map(|(&(_, p), s)| s.start / p.spr..s.end.div_ceil(p.spr))
            .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end));
        let Some(records) = records else {
            return Ok(());
        };
        let mut bytes = vec![0u8; records.len() * self.record_bytes];
        let at = self.header_bytes + (records.start * self.record_bytes) as u64;
        crate::io_guard::note(&self.path);
        read_exact_at(&self.file, &mut bytes, at).map_err(|e| self.changed(e))?;
        let mut decoded = Vec::new();
        for ((_, plan), span) in plans.iter().zip(spans) {
            if span.is_empty() {
                continue;
            }
            let (first, last) = (span.start / plan.spr, span.end.div_ceil(plan.spr));
            decoded.clear();
            decoded.resize((last - first) * plan.spr, 0.0);
            let len = plan.spr * self.width;
            for (k, r) in (first..last).enumerate() {
                let record = &bytes[(r - records.start) * self.record_bytes..];
                let part = &record[plan.start..plan.start + len];
                let dst = &mut decoded[k * plan.spr..(k + 1) * plan.spr];
                decode(part, self.width, plan.gain, plan.offset, dst);
            }
            let skip = span.start - first * plan.spr;
            out.extend_from_slice(&decoded[skip..skip + span.len()]);
        }
        Ok(())
    }

    /// Like [`Self::read`], from the cache alone: `false`, with nothing
    /// appended, when a block holding part of `range` is not decoded yet
    /// (then [`Self::warm`] it on a worker). Never touches the file, so the
    /// UI thread may call it.
    pub fn read_cached(&self, channel: usize, range: Range<usize>, out: &mut Vec<f32>) -> bool {
        let Some(plan) = self.channels.get(channel) else {
            return true;
        };
        let end = range.end.min(self.len(channel));
        if range.start >= end {
            return true;
        }
        let per_block = self.records_per_block * plan.spr;
        let first_block = range.start / per_block;
        let blocks: Option<Vec<Block>> = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.clock += 1;
            let now = cache.clock;
            (first_block..=(end - 1) / per_block)
                .map(|b| {
                    cache.blocks.get_mut(&b).map(|(samples, used)| {
                        *used = now;
                        samples.clone()
                    })
                })
                .collect()
        };
        let Some(blocks) = blocks else {
            return false;
        };
        let mut at = range.start;
        for (k, samples) in blocks.iter().enumerate() {
            let samples = &samples[channel];
            let first = (first_block + k) * per_block;
            let stop = end.min(first + samples.len());
            if stop <= at {
                break;
            }
            out.extend_from_slice(&samples[at - first..stop - first]);
            at = stop;
        }
        true
    }

    /// Decodes into the cache the blocks holding samples `range` of
    /// `channel` (clamped), so that drawing them later reads no file; a
    /// worker calls this for the time around the view.
    pub fn warm(&self, channel: usize, range: Range<usize>) -> Result<(), RecordingError> {
        let Some(plan) = self.channels.get(channel) else {
            return Ok(());
        };
        let end = range.end.min(self.len(channel));
        if range.start >= end {
            return Ok(());
        }
        let per_block = self.records_per_block * plan.spr;
        for block in range.start / per_block..=(end - 1) / per_block {
            self.block(block)?;
        }
        Ok(())
    }

    /// Block `block` (every channel), from the cache or decoded from the file.
    fn block(&self, block: usize) -> Result<Block, RecordingError> {
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.clock += 1;
            let now = cache.clock;
            if let Some((samples, used)) = cache.blocks.get_mut(&block) {
                *used = now;
                return Ok(samples.clone());
            }
        }
        let first = block * self.records_per_block;
        let count = self
            .records_per_block
            .min(self.n_records.saturating_sub(first));
        let mut bytes = vec![0u8; count * self.record_bytes];
        let at = self.header_bytes + (first * self.record_bytes) as u64;
        crate::io_guard::note(&self.path);
        read_exact_at(&self.file, &mut bytes, at).map_err(|e| self.changed(e))?;
        let mut decoded = Vec::with_capacity(self.channels.len());
        self.decode_records(&bytes, &mut decoded);
        let size: usize = decoded.iter().map(|c| c.len() * 4).sum();
        let samples = Arc::new(decoded);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.bytes += size;
        let now = cache.clock;
        cache.blocks.insert(block, (samples.clone(), now));
        while cache.bytes > CACHE_BYTES && cache.blocks.len() > 1 {
            let Some(oldest) = cache
                .blocks
                .iter()
                .filter(|(k, _)| **k != block)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some((gone, _)) = cache.blocks.remove(&oldest) {
                cache.bytes -= gone.iter().map(|c| c.len() * 4).sum::<usize>();
            }
        }
        Ok(samples)
    }

    /// Decodes whole records `bytes` into one vector per data channel
    /// (resized to fit).
    fn decode_records(&self, bytes: &[u8], out: &mut Vec<Vec<f32>>) {
        let count = bytes.len() / self.record_bytes.max(1);
        out.resize_with(self.channels.len(), Vec::new);
        for (plan, samples) in self.channels.iter().zip(out.iter_mut()) {
            samples.resize(count * plan.spr, 0.0);
            let len = plan.spr * self.width;
            for (k, record) in bytes.chunks_exact(self.record_bytes).enumerate() {
                let part = &record[plan.start..plan.start + len];
                let dst = &mut samples[k * plan.spr..(k + 1) * plan.spr];
                decode(part, self.width, plan.gain, plan.offset, dst);
            }
        }
    }

    /// A read that failed: the file was truncated, replaced or removed.
    fn changed(&self, e: std::io::Error) -> RecordingError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            RecordingError::invalid(
                &self.path,
                "the file became shorter while open (changed or replaced on disk); open it again",
            )
        } else {
            RecordingError::io(&self.path, e)
        }
    }

    /// All samples of the data channels `channels` (indices), decoded in
    /// one pass over the file a few MB at a time; no other channel is
    /// decoded. An index that does not exist gives an empty vector.
    pub fn read_whole(&self, channels: &[usize]) -> Result<Vec<Vec<f32>>, RecordingError> {
        let mut out: Vec<Vec<f32>> = Vec::with_capacity(channels.len());
        for &c in channels {
            let mut v = Vec::new();
            v.try_reserve_exact(self.len(c)).map_err(|_| {
                RecordingError::io(
                    &self.path,
                    std::io::Error::new(
                        std::io::ErrorKind::OutOfMemory,
                        format!(
                            "cannot hold the {} samples of channel {}",
                            self.len(c),
                            c + 1
                        ),
                    ),
                )
            })?;
            out.push(v);
        }
        let per_chunk = (STREAM_BYTES / self.record_bytes.max(1)).max(1);
        let mut bytes = Vec::new();
        let mut first = 0;
        while first < self.n_records {
            let count = per_chunk.min(self.n_records - first);
            bytes.resize(count * self.record_bytes, 0);
            let at = self.header_bytes + (first * self.record_bytes) as u64;
            crate::io_guard::note(&self.path);
            read_exact_at(&self.file, &mut bytes, at).map_err(|e| self.changed(e))?;
            for (&c, samples) in channels.iter().zip(out.iter_mut()) {
                let Some(plan) = self.channels.get(c) else {
                    continue;
                };
                let len = plan.spr * self.width;
                for record in bytes.chunks_exact(self.record_bytes) {
                    let start = samples.len();
                    samples.resize(start + plan.spr, 0.0);
                    let part = &record[plan.start..plan.start + len];
                    decode(
                        part,
                        self.width,
                        plan.gain,
                        plan.offset,
                        &mut samples[start..],
                    );
                }
            }
            first += count;
        }
        Ok(out)
    }

    /// Decodes every record in order, a few MB at a time, and hands each
    /// piece to `each` as one slice of samples per data channel; stops early
    /// (returning `Ok(false)`) when `each` returns false. The cache is not
    /// used, so streaming a whole file does not evict what is on screen.
    pub fn stream(
        &self,
        mut each: impl FnMut(&[Vec<f32>]) -> bool,
    ) -> Result<bool, RecordingError> {
        let per_chunk = (STREAM_BYTES / self.record_bytes.max(1)).max(1);
        let mut bytes = Vec::new();
        let mut decoded: Vec<Vec<f32>> = Vec::new();
        let mut first = 0;
        while first < self.n_records {
            let count = per_chunk.min(self.n_records - first);
            bytes.resize(count * self.record_bytes, 0);
            let at = self.header_bytes + (first * self.record_bytes) as u64;
            crate::io_guard::note(&self.path);
            read_exact_at(&self.file, &mut bytes, at).map_err(|e| self.changed(e))?;
            self.decode_records(&bytes, &mut decoded);
            if !each(&decoded) {
                return Ok(false);
            }
            first += count;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{
        Annotation, Channel, EdfWriteOptions, Format, Segment, read_edf, write_edf,
    };

    fn recording(path: &Path, bdf: bool) -> Recording {
        let channel = |label: &str, rate_hz: f64, k: f32| Channel {
            label: label.into(),
            unit: "uV".into(),
            rate_hz,
            physical_min: -500.0,
            physical_max: 500.0,
            transducer: String::new(),
            prefilter: String::new(),
            samples: (0..(rate_hz as usize * 300))
                .map(|i| ((i as f32 * k).sin() * 300.0).round())
                .collect(),
        };
        Recording {
            path: path.to_path_buf(),
            format: if bdf {
                Format::BdfPlusC
            } else {
                Format::EdfPlusC
            },
            patient: "X".into(),
            recording_id: String::new(),
            start: None,
            channels: vec![channel("Fz", 256.0, 0.01), channel("EMG", 100.0, 0.3)],
            annotations: vec![Annotation {
                onset_s: 12.5,
                duration_s: Some(30.0),
                text: "N2".into(),
            }],
            segments: vec![Segment {
                onset_s: 0.0,
                duration_s: 300.0,
            }],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn spans_read_on_demand_equal_the_whole_file_read() {
        let dir = tempfile::tempdir().unwrap();
        for bdf in [false, true] {
            let path = dir.path().join(if bdf { "x.bdf" } else { "x.edf" });
            write_edf(&path, &recording(&path, bdf), &EdfWriteOptions::default()).unwrap();
            let whole = read_edf(&path).unwrap();
            let (header_only, paged) = open_edf_paged(&path).unwrap();
            assert!(header_only.channels.iter().all(|c| c.samples.is_empty()));
            assert_eq!(header_only.annotations, whole.annotations);
            assert_eq!(header_only.segments, whole.segments);
            assert_eq!(header_only.duration_s(), whole.duration_s());
            for (c, ch) in whole.channels.iter().enumerate() {
                assert_eq!(paged.len(c), ch.samples.len());
                for range in [0..10, 70_000..70_500, 65_530..65_600, 76_000..90_000] {
                    let mut out = Vec::new();
                    paged.read(c, range.clone(), &mut out).unwrap();
                    let end = range.end.min(ch.samples.len());
                    let start = range.start.min(end);
                    assert_eq!(out, ch.samples[start..end], "channel {c}, {range:?}");
                }
            }
            let mut streamed = vec![Vec::new(); 2];
            assert!(
                paged
                    .stream(|piece| {
                        for (all, p) in streamed.iter_mut().zip(piece) {
                            all.extend_from_slice(p);
                        }
                        true
                    })
                    .unwrap()
            );
            assert_eq!(streamed[0], whole.channels[0].samples);
            assert_eq!(streamed[1], whole.channels[1].samples);
            let only = paged.read_whole(&[1]).unwrap();
            assert_eq!(only, vec![whole.channels[1].samples.clone()]);
            // Spans of several channels at once, read past the cache.
            for range in [
                0..10,
                255..257,
                25_000..25_700,
                29_990..90_000,
                90_000..90_010,
            ] {
                let mut out = Vec::new();
                paged.read_span(&[1, 0], range.clone(), &mut out).unwrap();
                let mut expected = Vec::new();
                for c in [1, 0] {
                    let samples = &whole.channels[c].samples;
                    let end = range.end.min(samples.len());
                    expected.extend_from_slice(&samples[range.start.min(end)..end]);
                }
                assert_eq!(out, expected, "{range:?}");
            }
        }
    }

    #[test]
    fn cached_reads_never_touch_the_file_and_say_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.edf");
        write_edf(&path, &recording(&path, false), &EdfWriteOptions::default()).unwrap();
        let rec = read_edf(&path).unwrap();
        let (_, paged) = open_edf_paged(&path).unwrap();
        let mut out = Vec::new();
        assert!(!paged.read_cached(0, 1000..2000, &mut out));
        assert!(out.is_empty());
        paged.warm(0, 1000..2000).unwrap();
        let counted = crate::io_guard::UiThread::enter_counting();
        let before = crate::io_guard::accesses();
        assert!(paged.read_cached(0, 1000..2000, &mut out));
        assert_eq!(out, rec.channels[0].samples[1000..2000]);
        // The other channel shares the blocks of the same records.
        out.clear();
        assert!(paged.read_cached(1, 400..700, &mut out));
        assert_eq!(out, rec.channels[1].samples[400..700]);
        assert_eq!(crate::io_guard::accesses(), before, "no file access");
        drop(counted);
    }

    #[test]
    fn a_file_cut_short_while_open_is_reported_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.edf");
        write_edf(&path, &recording(&path, false), &EdfWriteOptions::default()).unwrap();
        let (_, paged) = open_edf_paged(&path).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(4096).unwrap();
        let mut out = Vec::new();
        let err = paged
            .read(0, 50_000..50_100, &mut out)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x.edf") && err.contains("became shorter"),
            "{err}"
        );
        assert!(paged.stream(|_| true).is_err());
    }
}
