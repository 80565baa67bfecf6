//! BrainVision Core Data Format 1.0 (Brain Products): a text header (`.vhdr`),
//! an optional marker file (`.vmrk`) and a data file (usually `.eeg`).
//!
//! [`read_brainvision`] never trusts the header: every count it claims is
//! checked against the data file's real length before anything is allocated,
//! and the samples are decoded in one sequential pass straight into one
//! `Vec<f32>` per channel (physical value = raw value x resolution), holding
//! at most a 1 MiB read buffer besides the decoded samples. The markers become
//! annotations; the first dated `New Segment` marker gives the start time.
//!
//! [`write_brainvision`] writes 32-bit float, multiplexed data (resolution 1,
//! so the samples are stored as they are) and a marker file holding the
//! annotations, both declared UTF-8, each file atomically and the header last.
//!
//! The parts: `ini` reads the text files (size limit, code pages, INI-style
//! sections and `key=value` lines), `header` turns a `.vhdr` into a checked
//! header, `sample_format` holds the binary sample types (which `header`
//! reads and `data` decodes), `data` decodes the binary or ASCII samples,
//! `markers` reads and writes `.vmrk` files and `writer` writes the whole
//! triple.

mod data;
#[cfg(test)]
mod fixtures;
mod header;
mod ini;
mod markers;
mod sample_format;
mod writer;

use std::path::{Path, PathBuf};

use super::{Channel, Format, Recording, RecordingError, Segment};
use data::{read_ascii, read_binary};
use header::parse_header;
use ini::{decode_text, read_limited};
use markers::read_markers;
use sample_format::data_range;

pub use writer::write_brainvision;

/// A header larger than this (bytes) is not a BrainVision header.
const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Reads a BrainVision recording given its header file (`.vhdr`).
///
/// The data file and the marker file are looked up relative to the header's
/// folder (when the names in the header do not exist, files with the header's
/// own name and the extensions `.eeg`/`.vmrk` are used instead, with a
/// warning). Supported: `DataFormat=BINARY` with `INT_16`, `UINT_16`,
/// `INT_32`, `IEEE_FLOAT_32` and `IEEE_FLOAT_64` samples (little-endian, or
/// big-endian with `UseBigEndianOrder=YES`), and simple `DataFormat=ASCII`
/// files; both `MULTIPLEXED` and `VECTORIZED` orientations.
///
/// Channels get `rate_hz = 1e6 / SamplingInterval` (the interval is in µs),
/// samples in physical units (raw x resolution; the unit as the header gives
/// it, `µV` when it gives none) and, for integer data, `physical_min/max` = the
/// type's range x resolution (for float and ASCII data: the data's range).
/// Markers become [`Annotation`](super::Annotation)s sorted by onset: text = description (the
/// type when the description is empty), onset = (position - 1) / rate in
/// seconds, duration = size / rate when the size is above one point. A data
/// file that is not a whole number of sample frames is read up to its last
/// whole frame, with a warning; a missing marker file is a warning.
///
/// Text is decoded as the files declare (`Codepage=UTF-8` or `ANSI`, read as
/// Windows-1252, a superset of Latin-1); without a declaration, as UTF-8 when
/// the bytes are valid UTF-8, else as Windows-1252. Decoding never fails.
pub fn read_brainvision(vhdr_path: &Path) -> Result<Recording, RecordingError> {
    crate::io_guard::note(vhdr_path);
    let mut warnings = Vec::new();
    let bytes = read_limited(vhdr_path, MAX_HEADER_BYTES, "header")?;
    let text = decode_text(&bytes);
    drop(bytes);
    let header = parse_header(vhdr_path, &text, &mut warnings)?;
    drop(text);

    let dir = vhdr_path.parent().unwrap_or(Path::new(""));
    let Some(data_path) = locate(dir, vhdr_path, &header.data_file, "eeg", &mut warnings) else {
        return Err(RecordingError::invalid(
            &dir.join(&header.data_file),
            format!(
                "data file not found (named by DataFile in {})",
                display_name(vhdr_path)
            ),
        ));
    };

    let data = if header.ascii {
        read_ascii(&data_path, &header, &mut warnings)?
    } else {
        read_binary(&data_path, &header, &mut warnings)?
    };
    let n_samples = data.n_samples;

    let mut annotations = Vec::new();
    let mut start = None;
    if let Some(marker_file) = &header.marker_file {
        match locate(dir, vhdr_path, marker_file, "vmrk", &mut warnings) {
            Some(vmrk_path) => {
                let markers = read_markers(&vmrk_path, header.rate_hz, n_samples, &mut warnings);
                annotations = markers.annotations;
                start = markers.start;
            }
            None => warnings.push(format!(
                "marker file {marker_file} not found: the recording has no annotations"
            )),
        }
    }
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));

    let channels = header
        .channels
        .into_iter()
        .zip(data.samples)
        .map(|(info, samples)| {
            let (physical_min, physical_max) = match (header.sample_format, header.ascii) {
                (Some(fmt), false) => fmt.physical_range(info.resolution, &samples),
                _ => data_range(&samples),
            };
            Channel {
                label: info.label,
                unit: info.unit,
                rate_hz: header.rate_hz,
                physical_min,
                physical_max,
                transducer: String::new(),
                prefilter: String::new(),
                samples,
            }
        })
        .collect();

    Ok(Recording {
        path: vhdr_path.to_path_buf(),
        format: Format::BrainVision,
        patient: String::new(),
        recording_id: String::new(),
        start,
        channels,
        annotations,
        segments: vec![Segment {
            onset_s: 0.0,
            duration_s: n_samples as f64 / header.rate_hz,
        }],
        warnings,
    })
}

/// The facts [`read_brainvision`] would give without decoding samples:
/// channels, rate (Hz), samples per channel (from the data file's length)
/// and the markers as annotations. ASCII data is read whole, since only
/// reading it tells its length.
pub(super) fn read_brainvision_summary(
    vhdr_path: &Path,
) -> Result<(usize, f64, u64, Vec<super::Annotation>), RecordingError> {
    let mut warnings = Vec::new();
    let bytes = read_limited(vhdr_path, MAX_HEADER_BYTES, "header")?;
    let header = parse_header(vhdr_path, &decode_text(&bytes), &mut warnings)?;
    let (Some(fmt), false) = (header.sample_format, header.ascii) else {
        let rec = read_brainvision(vhdr_path)?;
        let n = rec.channels.first().map_or(0, |c| c.samples.len() as u64);
        return Ok((rec.channels.len(), header.rate_hz, n, rec.annotations));
    };
    let dir = vhdr_path.parent().unwrap_or(Path::new(""));
    let Some(data_path) = locate(dir, vhdr_path, &header.data_file, "eeg", &mut warnings) else {
        return Err(RecordingError::invalid(
            &dir.join(&header.data_file),
            format!(
                "data file not found (named by DataFile in {})",
                display_name(vhdr_path)
            ),
        ));
    };
    let len = std::fs::metadata(&data_path)
        .map_err(|e| RecordingError::io(&data_path, e))?
        .len();
    let frame = (header.channels.len() * fmt.bytes()) as u64;
    let whole = len / frame.max(1);
    let n_samples = match header.data_points {
        Some(points) if header.vectorized && points <= whole => points,
        _ => whole,
    };
    let mut annotations = Vec::new();
    if let Some(marker_file) = &header.marker_file
        && let Some(vmrk_path) = locate(dir, vhdr_path, marker_file, "vmrk", &mut warnings)
    {
        annotations = read_markers(
            &vmrk_path,
            header.rate_hz,
            n_samples as usize,
            &mut warnings,
        )
        .annotations;
    }
    Ok((
        header.channels.len(),
        header.rate_hz,
        n_samples,
        annotations,
    ))
}

/// Finds a file named in a header: as given (relative to `dir`), then by its
/// last path component alone (headers written on Windows may hold `\`), then
/// as the header's own name with extension `ext` (files renamed after
/// recording). Warns when a fallback is used.
fn locate(
    dir: &Path,
    vhdr_path: &Path,
    name: &str,
    ext: &str,
    warnings: &mut Vec<String>,
) -> Option<PathBuf> {
    let given = dir.join(name);
    if given.is_file() {
        return Some(given);
    }
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut candidates = vec![dir.join(base)];
    if let Some(stem) = vhdr_path.file_stem() {
        let mut own = stem.to_os_string();
        own.push(".");
        own.push(ext);
        candidates.push(dir.join(own));
    }
    let found = candidates.into_iter().find(|c| c.is_file())?;
    warnings.push(format!(
        "{name} named by the header does not exist; read {} instead",
        display_name(&found)
    ));
    Some(found)
}

/// The file name of `path` for messages.
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// At most `max` characters of `text`, control characters shown as `?`.
pub fn printable_prefix(text: &str, max: usize) -> String {
    let mut s: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::fixtures::{MARKERS, pack, triple, vhdr};
    use super::read_brainvision;

    #[test]
    fn renamed_files_are_found_by_the_headers_name() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV"])
            .replace("DataFile=rec.eeg", "DataFile=C:\\data\\old.eeg")
            .replace("MarkerFile=rec.vmrk", "MarkerFile=old.vmrk");
        let data = pack(&[vec![1i16, 2, 3, 4, 5, 6]], false, i16::to_le_bytes);
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(MARKERS.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(rec.warnings.len(), 2, "{:?}", rec.warnings);
        assert!(rec.start.is_some());
    }

    #[test]
    fn mangled_files_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,0.1,µV", "B\\1x,,,"]);
        let data = pack(&[vec![1i16, 2, 3], vec![4, 5, 6]], false, i16::to_le_bytes);
        let good = header.as_bytes();
        // Every truncation of the header and the markers.
        for cut in 0..good.len() {
            let path = triple(dir.path(), &good[..cut], Some(MARKERS.as_bytes()), &data);
            let _ = read_brainvision(&path);
        }
        let path = triple(dir.path(), good, None, &data);
        for cut in 0..MARKERS.len() {
            fs::write(dir.path().join("rec.vmrk"), &MARKERS.as_bytes()[..cut]).unwrap();
            assert!(read_brainvision(&path).is_ok());
        }
        // Random byte changes in all three files, and random data lengths.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let mut h = good.to_vec();
            let mut m = MARKERS.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % h.len();
                h[i] = next() as u8;
                let j = (next() as usize) % m.len();
                m[j] = next() as u8;
            }
            let d: Vec<u8> = (0..(next() % 40)).map(|_| next() as u8).collect();
            let path = triple(dir.path(), &h, Some(&m), &d);
            if let Ok(rec) = read_brainvision(&path) {
                assert!(!rec.channels.is_empty());
                let n = rec.channels[0].samples.len();
                assert!(rec.channels.iter().all(|c| c.samples.len() == n));
            }
        }
    }
}
