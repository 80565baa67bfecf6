//! Reading EDF/EDF+/BDF/BDF+ files into a [`Recording`].

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::header::{self, BLOCK, Flavour, Header};
use super::tal;
use crate::recording::{Annotation, Channel, Format, Recording, RecordingError, Segment};

/// Bytes read per chunk: whole data records, about this many bytes.
const CHUNK_BYTES: usize = 8 << 20;

/// Records whose onsets differ from back-to-back by less than this are contiguous (s).
const GAP_TOLERANCE_S: f64 = 1e-5;

/// Reads an EDF, EDF+, BDF or BDF+ file (the header decides which).
///
/// Every count in the header is checked against the file's length before
/// anything is allocated. A file whose last data record is cut short is read up
/// to its last whole record, with a warning; a header that contradicts itself
/// is an error.
pub fn read_edf(path: &Path) -> Result<Recording, RecordingError> {
    crate::io_guard::note(path);
    let Opened {
        mut file,
        header,
        n_records,
        warnings,
    } = open_header(path)?;
    let data = read_records(&mut file, &header, n_records).map_err(|e| match e {
        ReadFailure::Io(e) => RecordingError::io(path, e),
    })?;
    Ok(assemble(path, header, data, warnings))
}

/// A file whose header has been read and checked against its length.
pub(super) struct Opened {
    /// The file, positioned after the header.
    pub file: File,
    /// The parsed header.
    pub header: Header,
    /// Whole data records to read (the header's claim, bounded by the file).
    pub n_records: usize,
    /// Odd things in the header, in words.
    pub warnings: Vec<String>,
}

/// Opens `path` and reads its header, checking every count against the file.
pub(super) fn open_header(path: &Path) -> Result<Opened, RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
    let mut file = File::open(path).map_err(|e| RecordingError::io(path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| RecordingError::io(path, e))?
        .len();

    let mut head = vec![0u8; file_len.min(BLOCK as u64) as usize];
    file.read_exact(&mut head)
        .map_err(|e| RecordingError::io(path, e))?;
    let header_len = declared_header_len(&head, file_len).map_err(invalid)?;
    head.resize(header_len, 0);
    file.read_exact(&mut head[BLOCK..])
        .map_err(|e| RecordingError::io(path, e))?;

    let mut warnings = Vec::new();
    let header = header::parse(&head, &mut warnings).map_err(invalid)?;
    drop(head);
    let n_records = count_records(&header, file_len, &mut warnings).map_err(invalid)?;
    Ok(Opened {
        file,
        header,
        n_records,
        warnings,
    })
}

/// The header length that the signal count claims, checked against the file.
fn declared_header_len(head: &[u8], file_len: u64) -> Result<usize, String> {
    if head.len() < BLOCK {
        return Err(format!(
            "file is {file_len} bytes, shorter than the 256-byte EDF/BDF header"
        ));
    }
    let field = String::from_utf8_lossy(&head[252..256]);
    let ns: usize = field
        .trim()
        .parse()
        .map_err(|_| format!("the number of signals is {:?}, not a number", field.trim()))?;
    let needed = (ns as u64 + 1) * BLOCK as u64;
    if needed > file_len {
        return Err(format!(
            "the header of {ns} signals needs {needed} bytes but the file has {file_len}"
        ));
    }
    Ok(needed as usize)
}

/// How many data records to read, given what the header claims and what the
/// file holds.
fn count_records(
    header: &Header,
    file_len: u64,
    warnings: &mut Vec<String>,
) -> Result<usize, String> {
    let record_bytes = header.record_bytes() as u64;
    let available = file_len - header.header_bytes as u64;
    let whole = (available / record_bytes) as usize;
    let rest = available % record_bytes;
    let n = match header.n_records {
        None => {
            warnings.push(format!(
                "the number of data records is -1 (unknown); read the {whole} whole records in the file"
            ));
            whole
        }
        Some(claimed) if claimed > whole => {
            warnings.push(format!(
                "the header claims {claimed} data records but the file holds {whole}{}; read those",
                if rest > 0 { " and part of another" } else { "" }
            ));
            whole
        }
        Some(claimed) => {
            if claimed < whole || rest > 0 {
                warnings.push(format!(
                    "{} bytes after the {claimed} data records the header claims were ignored",
                    available - claimed as u64 * record_bytes
                ));
            }
            claimed
        }
    };
    if n == 0 {
        return Err(format!(
            "no whole data record: each needs {record_bytes} bytes, {available} follow the header"
        ));
    }
    Ok(n)
}

enum ReadFailure {
    Io(std::io::Error),
}

/// The decoded content of the data records.
pub(super) struct RecordData {
    /// Data records read.
    pub n_records: usize,
    /// Physical samples of each data signal, in header order; empty vectors
    /// when the samples stay in the file (read on demand).
    pub samples: Vec<Vec<f32>>,
    /// Onset of each record from its time-keeping TAL (seconds from the header
    /// start time); `None` where a record had none.
    pub record_onsets: Vec<Option<f64>>,
    /// The annotations of every annotation signal.
    pub annotations: Vec<Annotation>,
    /// Malformed TALs, counted.
    pub tal_problems: tal::Problems,
}

fn read_records(
    file: &mut File,
    header: &Header,
    n_records: usize,
) -> Result<RecordData, ReadFailure> {
    let width = header.sample_bytes();
    let record_bytes = header.record_bytes();
    let plan: Vec<SignalPlan> = {
        let mut offset = 0;
        header
            .signals
            .iter()
            .map(|s| {
                let (gain, off) = s.gain_offset();
                let plan = SignalPlan {
                    start: offset,
                    len: s.samples_per_record * width,
                    spr: s.samples_per_record,
                    annotation: s.is_annotation(),
                    gain,
                    offset: off,
                };
                offset += plan.len;
                plan
            })
            .collect()
    };
    // Zeroed allocations are mapped lazily: nothing is touched twice.
    let mut samples: Vec<Vec<f32>> = plan
        .iter()
        .filter(|p| !p.annotation)
        .map(|p| {
            let v = vec![0.0f32; p.spr * n_records];
            advise_huge_pages(&v);
            v
        })
        .collect();

    // Split the records between threads; each reads its own range with pread
    // and decodes into disjoint slices of every channel.
    let data_bytes = n_records * record_bytes;
    let threads = if data_bytes < PARALLEL_MIN_BYTES {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4)
    };
    let per_thread = n_records.div_ceil(threads);
    let mut parts: Vec<Part<'_>> = Vec::with_capacity(threads);
    {
        let mut rest: Vec<&mut [f32]> = samples.iter_mut().map(|v| v.as_mut_slice()).collect();
        let mut first = 0;
        while first < n_records {
            let count = per_thread.min(n_records - first);
            let mut outputs = Vec::with_capacity(rest.len());
            let mut remaining = Vec::with_capacity(rest.len());
            for (slice, p) in rest.into_iter().zip(plan.iter().filter(|p| !p.annotation)) {
                let (mine, theirs) = slice.split_at_mut(count * p.spr);
                outputs.push(mine);
                remaining.push(theirs);
            }
            rest = remaining;
            parts.push(Part {
                first,
                count,
                outputs,
            });
            first += count;
        }
    }
    let base = header.header_bytes as u64;
    let file = &*file;
    let plan = &plan;
    let results: Vec<Result<PartData, std::io::Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || decode_part(file, base, record_bytes, width, plan, part))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a decoding thread panicked")))
            })
            .collect()
    });
    let mut data = RecordData {
        n_records,
        samples,
        record_onsets: Vec::new(),
        annotations: Vec::new(),
        tal_problems: tal::Problems::default(),
    };
    for r in results {
        let mut part = r.map_err(ReadFailure::Io)?;
        // The first part is moved, not copied: a file read on one thread
        // never holds its annotations twice.
        if data.record_onsets.is_empty() {
            std::mem::swap(&mut data.record_onsets, &mut part.record_onsets);
        }
        if data.annotations.is_empty() {
            std::mem::swap(&mut data.annotations, &mut part.annotations);
        }
        data.record_onsets.extend(part.record_onsets);
        data.annotations.extend(part.annotations);
        data.tal_problems.extend(part.tal_problems);
    }
    Ok(data)
}

/// Files smaller than this are decoded on one thread (bytes of data records).
const PARALLEL_MIN_BYTES: usize = 16 << 20;

/// A range of records and the slices of each data channel they decode into.
struct Part<'a> {
    first: usize,
    count: usize,
    outputs: Vec<&'a mut [f32]>,
}

/// What a part found in its annotation signals.
#[derive(Default)]
pub(super) struct PartData {
    /// The time-keeping onset of each record, where it had one.
    pub record_onsets: Vec<Option<f64>>,
    /// The annotations found.
    pub annotations: Vec<Annotation>,
    /// Malformed TALs, counted.
    pub tal_problems: tal::Problems,
}

fn decode_part(
    file: &File,
    base: u64,
    record_bytes: usize,
    width: usize,
    plan: &[SignalPlan],
    mut part: Part<'_>,
) -> Result<PartData, std::io::Error> {
    let mut found = PartData::default();
    let per_chunk = (CHUNK_BYTES / record_bytes).clamp(1, part.count.max(1));
    let mut buf = vec![0u8; per_chunk * record_bytes];
    let mut done = 0;
    while done < part.count {
        let count = per_chunk.min(part.count - done);
        let chunk = &mut buf[..count * record_bytes];
        let at = base + ((part.first + done) * record_bytes) as u64;
        read_exact_at(file, chunk, at)?;
        for (k, record) in chunk.chunks_exact(record_bytes).enumerate() {
            let r = done + k;
            let mut channel = 0;
            let mut first_annotation = true;
            for p in plan {
                let bytes = &record[p.start..p.start + p.len];
                if p.annotation {
                    collect_record_tals(bytes, first_annotation, &mut found);
                    first_annotation = false;
                } else {
                    let out = &mut part.outputs[channel][r * p.spr..(r + 1) * p.spr];
                    decode(bytes, width, p.gain, p.offset, out);
                    channel += 1;
                }
            }
        }
        done += count;
    }
    Ok(found)
}

/// Reads exactly `buf.len()` bytes at `offset` without moving a shared cursor.
pub(super) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Asks the kernel to back a large buffer with transparent huge pages: fewer
/// page faults when it is first written (Linux; a no-op elsewhere).
fn advise_huge_pages(v: &[f32]) {
    #[cfg(target_os = "linux")]
    if v.len() * 4 >= 4 << 20 {
        // madvise wants a page-aligned start. A buffer this large is its own
        // mapping, which begins on the page holding its first element (the
        // allocator's header shares that page), so round down to the page.
        const PAGE: usize = 4096;
        let start = v.as_ptr() as usize;
        let end = start + v.len() * 4;
        let aligned = start - start % PAGE;
        if aligned < end {
            // SAFETY: madvise only gives advice about a range inside a buffer
            // this process owns; it cannot change the memory's contents or validity.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
}

/// Where one signal sits in a record and how to convert it.
struct SignalPlan {
    start: usize,
    len: usize,
    spr: usize,
    annotation: bool,
    gain: f64,
    offset: f64,
}

/// Files the TALs of one annotation signal of one record (`bytes`): the
/// first TAL of the first annotation signal (`first_signal`) is the record's
/// time-keeping TAL when it holds no text.
pub(super) fn collect_record_tals(bytes: &[u8], first_signal: bool, found: &mut PartData) {
    let mut first_tal = first_signal;
    let mut keeping = None;
    let annotations = &mut found.annotations;
    tal::parse_record(bytes, &mut found.tal_problems, |t| {
        if std::mem::take(&mut first_tal) && t.texts.is_empty() {
            keeping = Some(t.onset_s);
            return;
        }
        for text in t.texts {
            annotations.push(Annotation {
                onset_s: t.onset_s,
                duration_s: t.duration_s,
                text,
            });
        }
    });
    if first_signal {
        found.record_onsets.push(keeping);
    }
}

/// Converts little-endian 16- or 24-bit samples to physical values in `out`
/// (`out.len()` samples).
pub(super) fn decode(bytes: &[u8], width: usize, gain: f64, offset: f64, out: &mut [f32]) {
    let (gain, offset) = (gain as f32, offset as f32);
    if width == 2 {
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *o = i16::from_le_bytes([b[0], b[1]]) as f32 * gain + offset;
        }
    } else {
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(3)) {
            let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            *o = v as f32 * gain + offset;
        }
    }
}

/// Builds the [`Recording`] from the header and the decoded records: places
/// records in time, shifts everything to the fractional start, sorts
/// annotations.
pub(super) fn assemble(
    path: &Path,
    header: Header,
    data: RecordData,
    mut warnings: Vec<String>,
) -> Recording {
    let has_annotation_signal = header.signals.iter().any(|s| s.is_annotation());
    let format = match (header.bdf, header.flavour) {
        (false, Flavour::Plain) => Format::Edf,
        (false, Flavour::Contiguous) => Format::EdfPlusC,
        (false, Flavour::Discontinuous) => Format::EdfPlusD,
        (true, Flavour::Plain) => Format::Bdf,
        (true, Flavour::Contiguous) => Format::BdfPlusC,
        (true, Flavour::Discontinuous) => Format::BdfPlusD,
    };
    if header.flavour == Flavour::Plain && has_annotation_signal {
        warnings.push(
            "plain EDF/BDF file with an annotation signal: its annotations were read as EDF+"
                .into(),
        );
    }
    if header.flavour != Flavour::Plain && !has_annotation_signal {
        warnings.push(format!("{format} file without an annotation signal"));
    }
    if let Some(first) = &data.tal_problems.first {
        warnings.push(format!(
            "{} malformed annotation(s) skipped; the first: {first}",
            data.tal_problems.count,
        ));
    }

    let dur = header.record_duration_s;
    let n_records = data.n_records;
    let missing = data.record_onsets.iter().filter(|o| o.is_none()).count();
    if has_annotation_signal && missing > 0 {
        warnings.push(format!(
            "{missing} data record(s) lack a time-keeping annotation; placed after the previous record"
        ));
    }
    // Record onsets in file time, one at a time (a file of tiny records has
    // millions); a record without a time-keeping TAL follows the previous one.
    // The first onset gives the fractional start.
    let record_onsets = &data.record_onsets;
    let mut previous: Option<f64> = None;
    let onsets = (0..n_records).map(|k| {
        let onset = match record_onsets.get(k).copied().flatten() {
            Some(t) => t,
            None => previous.map_or(k as f64 * dur, |prev| prev + dur),
        };
        previous = Some(onset);
        onset
    });
    let start_offset = record_onsets.first().copied().flatten().unwrap_or(0.0);
    let has_data = header.signals.iter().any(|s| !s.is_annotation());
    let segments = if has_data {
        segments_from_onsets(onsets, start_offset, dur, header.flavour, &mut warnings)
    } else {
        Vec::new()
    };

    let mut start = header.start;
    if let Some(st) = start.as_mut()
        && start_offset != 0.0
    {
        *st = st.plus_seconds(start_offset);
    }
    let mut annotations = data.annotations;
    for a in &mut annotations {
        a.onset_s -= start_offset;
    }
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    // A file of annotations alone lasts until its last annotation ends.
    let segments = if has_data {
        segments
    } else {
        let end_s = annotations
            .iter()
            .map(|a| a.onset_s + a.duration_s.unwrap_or(0.0))
            .fold(0.0, f64::max);
        vec![Segment {
            onset_s: 0.0,
            duration_s: end_s,
        }]
    };

    let channels = header
        .signals
        .into_iter()
        .filter(|s| !s.is_annotation())
        .zip(data.samples)
        .map(|(s, samples)| Channel {
            rate_hz: s.samples_per_record as f64 / dur,
            label: s.label,
            unit: s.unit,
            physical_min: s.physical_min,
            physical_max: s.physical_max,
            transducer: s.transducer,
            prefilter: s.prefilter,
            samples,
        })
        .collect();
    Recording {
        path: path.to_path_buf(),
        format,
        patient: header.patient,
        recording_id: header.recording_id,
        start,
        channels,
        annotations,
        segments,
        warnings,
    }
}

/// Merges back-to-back records into segments (relative to `start_offset`).
fn segments_from_onsets(
    onsets: impl IntoIterator<Item = f64>,
    start_offset: f64,
    dur: f64,
    flavour: Flavour,
    warnings: &mut Vec<String>,
) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut disorder = false;
    for onset in onsets {
        let t = onset - start_offset;
        match segments.last_mut() {
            Some(last) if (last.onset_s + last.duration_s - t).abs() <= GAP_TOLERANCE_S => {
                last.duration_s += dur;
            }
            Some(last)
                if flavour != Flavour::Discontinuous || t < last.onset_s + last.duration_s =>
            {
                disorder |= true;
                last.duration_s += dur;
            }
            _ => segments.push(Segment {
                onset_s: t,
                duration_s: dur,
            }),
        }
    }
    if disorder {
        warnings.push(match flavour {
            Flavour::Discontinuous => {
                "data records overlap or run backwards in time; placed back to back".into()
            }
            _ => {
                "data record onsets are not back to back in a contiguous file; placed back to back"
                    .into()
            }
        });
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_16_and_24_bit() {
        let mut out = vec![0.0; 2];
        decode(&[0xFF, 0x7F, 0x00, 0x80], 2, 1.0, 0.0, &mut out);
        assert_eq!(out, vec![32767.0, -32768.0]);
        let mut out = vec![0.0; 3];
        let bytes = [0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF];
        decode(&bytes, 3, 1.0, 0.0, &mut out);
        assert_eq!(out, vec![8388607.0, -8388608.0, -1.0]);
        let mut out = vec![0.0; 1];
        decode(&[0x02, 0x00], 2, 0.5, 10.0, &mut out);
        assert_eq!(out, vec![11.0]);
    }

    #[test]
    fn gaps_become_segments() {
        let mut w = Vec::new();
        let segs = segments_from_onsets(
            [0.5, 1.5, 4.5, 5.5],
            0.5,
            1.0,
            Flavour::Discontinuous,
            &mut w,
        );
        assert_eq!(
            segs,
            vec![
                Segment {
                    onset_s: 0.0,
                    duration_s: 2.0
                },
                Segment {
                    onset_s: 4.0,
                    duration_s: 2.0
                }
            ]
        );
        assert!(w.is_empty());
        let segs = segments_from_onsets([0.0, 3.0], 0.0, 1.0, Flavour::Contiguous, &mut w);
        assert_eq!(segs.len(), 1);
        assert_eq!(w.len(), 1);
    }
}
