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
//! annotations, both declared UTF-8.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::{Annotation, Channel, Format, Recording, RecordingError, Segment, StartTime};

/// More channels than this is taken as a damaged header, not a recording.
const MAX_CHANNELS: usize = 10_000;
/// A header larger than this (bytes) is not a BrainVision header.
const MAX_HEADER_BYTES: u64 = 16 << 20;
/// A marker file larger than this (bytes) is ignored with a warning.
const MAX_MARKER_BYTES: u64 = 256 << 20;
/// Size of the read buffer used while decoding binary data (bytes).
const CHUNK_BYTES: usize = 1 << 20;
/// At most this many individual marker problems are listed in the warnings.
const MAX_MARKER_WARNINGS: usize = 5;

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
/// Markers become [`Annotation`]s sorted by onset: text = description (the
/// type when the description is empty), onset = (position - 1) / rate in
/// seconds, duration = size / rate when the size is above one point. A data
/// file that is not a whole number of sample frames is read up to its last
/// whole frame, with a warning; a missing marker file is a warning.
///
/// Text is decoded as the files declare (`Codepage=UTF-8` or `ANSI`, read as
/// Windows-1252, a superset of Latin-1); without a declaration, as UTF-8 when
/// the bytes are valid UTF-8, else as Windows-1252. Decoding never fails.
pub fn read_brainvision(vhdr_path: &Path) -> Result<Recording, RecordingError> {
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

/// Writes `rec` as a BrainVision triple: `vhdr_path`, and beside it a data
/// file and a marker file with the header's name and the extensions `.eeg`
/// and `.vmrk`, replacing existing files.
///
/// Samples are written as `IEEE_FLOAT_32`, multiplexed, resolution 1, in each
/// channel's unit (an empty unit reads back as `µV`, the format's default).
/// Every channel must have the same rate (Hz) and number of samples. The
/// annotations become `Comment` markers (position = round(onset x rate) + 1,
/// size = round(duration x rate), at least 1); the start time, when known,
/// becomes a dated `New Segment` marker.
pub fn write_brainvision(vhdr_path: &Path, rec: &Recording) -> Result<(), RecordingError> {
    let Some(first) = rec.channels.first() else {
        return Err(RecordingError::invalid(
            vhdr_path,
            "no channels to write: a BrainVision file needs at least one",
        ));
    };
    let rate_hz = first.rate_hz;
    if !(rate_hz.is_finite() && rate_hz > 0.0) {
        return Err(RecordingError::invalid(
            vhdr_path,
            format!("channel {} has sample rate {rate_hz} Hz", first.label),
        ));
    }
    let n_samples = first.samples.len();
    for ch in &rec.channels {
        if (ch.rate_hz - rate_hz).abs() > rate_hz * 1e-9 {
            return Err(RecordingError::unsupported(
                vhdr_path,
                format!(
                    "BrainVision has one sample rate for all channels, but {} is at {} Hz and {} at {} Hz",
                    first.label, rate_hz, ch.label, ch.rate_hz
                ),
            ));
        }
        if ch.samples.len() != n_samples {
            return Err(RecordingError::unsupported(
                vhdr_path,
                format!(
                    "BrainVision needs equally long channels, but {} has {} samples and {} has {}",
                    first.label,
                    n_samples,
                    ch.label,
                    ch.samples.len()
                ),
            ));
        }
    }
    let Some(stem) = vhdr_path.file_stem() else {
        return Err(RecordingError::invalid(vhdr_path, "not a file path"));
    };
    let stem = stem.to_string_lossy();
    let data_name = format!("{stem}.eeg");
    let marker_name = format!("{stem}.vmrk");
    let data_path = vhdr_path.with_file_name(&data_name);
    let marker_path = vhdr_path.with_file_name(&marker_name);

    write_samples(&data_path, &rec.channels)?;

    let vmrk = marker_text(rec, rate_hz, &data_name);
    write_file(&marker_path, vmrk.as_bytes())?;

    let mut vhdr = String::new();
    vhdr.push_str("Brain Vision Data Exchange Header File Version 1.0\r\n");
    vhdr.push_str("; Data written by Spindle\r\n\r\n[Common Infos]\r\nCodepage=UTF-8\r\n");
    vhdr.push_str(&format!(
        "DataFile={data_name}\r\nMarkerFile={marker_name}\r\nDataFormat=BINARY\r\n"
    ));
    vhdr.push_str("; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...\r\n");
    vhdr.push_str("DataOrientation=MULTIPLEXED\r\n");
    vhdr.push_str(&format!("NumberOfChannels={}\r\n", rec.channels.len()));
    vhdr.push_str("; Sampling interval in microseconds\r\n");
    vhdr.push_str(&format!("SamplingInterval={}\r\n", 1e6 / rate_hz));
    vhdr.push_str("\r\n[Binary Infos]\r\nBinaryFormat=IEEE_FLOAT_32\r\n\r\n[Channel Infos]\r\n");
    vhdr.push_str("; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,\r\n");
    vhdr.push_str("; <Resolution in \"Unit\">,<Unit>, Future extensions..\r\n");
    vhdr.push_str("; Fields are delimited by commas, some fields might be omitted (empty).\r\n");
    vhdr.push_str("; Commas in channel names are coded as \"\\1\".\r\n");
    for (i, ch) in rec.channels.iter().enumerate() {
        vhdr.push_str(&format!(
            "Ch{}={},,1,{}\r\n",
            i + 1,
            escape_field(&ch.label),
            escape_field(&ch.unit)
        ));
    }
    write_file(vhdr_path, vhdr.as_bytes())
}

// ---------------------------------------------------------------------------
// Header

/// The parts of a `.vhdr` the reader uses, checked for sense.
#[derive(Debug)]
struct Header {
    /// `DataFile`, relative to the header's folder.
    data_file: String,
    /// `MarkerFile`, when given.
    marker_file: Option<String>,
    /// `DataFormat=ASCII`.
    ascii: bool,
    /// `DataOrientation=VECTORIZED`.
    vectorized: bool,
    /// Samples per second (Hz), from `SamplingInterval` (µs).
    rate_hz: f64,
    /// The binary sample type (`None` for ASCII data).
    sample_format: Option<SampleFormat>,
    /// `UseBigEndianOrder=YES`.
    big_endian: bool,
    /// `DataPoints` (samples per channel), when given and numeric.
    data_points: Option<u64>,
    /// One entry per channel, in order; never empty, at most [`MAX_CHANNELS`].
    channels: Vec<ChannelInfo>,
    /// `[ASCII Infos]`.
    ascii_infos: AsciiInfos,
}

/// One `Ch<n>=` line.
#[derive(Debug)]
struct ChannelInfo {
    /// Name, with `\1` turned back into commas, trimmed.
    label: String,
    /// Unit as written, `µV` when none is given.
    unit: String,
    /// Physical units per raw unit.
    resolution: f64,
}

/// The `[ASCII Infos]` section.
#[derive(Debug, Default)]
struct AsciiInfos {
    /// Character used as the decimal point (`.` or `,`).
    decimal_comma: bool,
    /// Lines to skip at the start of the data file.
    skip_lines: usize,
    /// Values to skip at the start of each line.
    skip_columns: usize,
}

/// A binary sample type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SampleFormat {
    Int16,
    UInt16,
    Int32,
    Float32,
    Float64,
}

impl SampleFormat {
    /// Parses a `BinaryFormat=` value.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        [
            ("INT_16", Self::Int16),
            ("UINT_16", Self::UInt16),
            ("INT_32", Self::Int32),
            ("IEEE_FLOAT_32", Self::Float32),
            ("IEEE_FLOAT_64", Self::Float64),
        ]
        .into_iter()
        .find(|(name, _)| text.eq_ignore_ascii_case(name))
        .map(|(_, fmt)| fmt)
    }

    /// Bytes per sample.
    fn bytes(self) -> usize {
        match self {
            Self::Int16 | Self::UInt16 => 2,
            Self::Int32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }

    /// The physical range a channel can hold: the integer type's range times
    /// the resolution, or the data's range for float types.
    fn physical_range(self, resolution: f64, samples: &[f32]) -> (f64, f64) {
        let raw = match self {
            Self::Int16 => (f64::from(i16::MIN), f64::from(i16::MAX)),
            Self::UInt16 => (f64::from(u16::MIN), f64::from(u16::MAX)),
            Self::Int32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
            Self::Float32 | Self::Float64 => return data_range(samples),
        };
        let (a, b) = (raw.0 * resolution, raw.1 * resolution);
        (a.min(b), a.max(b))
    }
}

/// The smallest and largest finite sample, or `(0, 0)` when there is none.
fn data_range(samples: &[f32]) -> (f64, f64) {
    let (lo, hi) = samples
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi {
        (f64::from(lo), f64::from(hi))
    } else {
        (0.0, 0.0)
    }
}

/// One `key=value` line of an INI-like file, with its section (lower case).
#[derive(Debug)]
struct Entry {
    section: String,
    key: String,
    value: String,
}

/// A parsed INI-like file: its first non-empty line and its entries.
struct Ini {
    first_line: String,
    entries: Vec<Entry>,
}

impl Ini {
    /// Splits `text` into sections and `key=value` entries. Lines starting with
    /// `;` are comments; the free text of a `[Comment]` section is skipped.
    fn parse(text: &str) -> Self {
        let mut lines = text
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|l| !l.is_empty());
        let first_line = lines.next().unwrap_or("");
        let mut section = String::new();
        let mut entries = Vec::new();
        // A file without its identification line may start with a section.
        let first_section = first_line.starts_with('[').then_some(first_line);
        for line in first_section.into_iter().chain(lines) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_ascii_lowercase();
                continue;
            }
            if line.starts_with(';') || section == "comment" {
                continue;
            }
            if let Some((key, value)) = line.split_once('=') {
                entries.push(Entry {
                    section: section.clone(),
                    key: key.trim().to_owned(),
                    value: value.trim().to_owned(),
                });
            }
        }
        Self {
            first_line: first_line.to_owned(),
            entries,
        }
    }

    /// The value of the first `key` (case-insensitive) in `section` (lower case).
    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.section == section && e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }

    /// The entries of `section` whose key is `prefix` followed by a number,
    /// with that number (`Ch12` -> 12); other keys are counted in the second
    /// value.
    fn numbered<'a>(&'a self, section: &str, prefix: &str) -> (Vec<(u64, &'a str)>, usize) {
        let mut found = Vec::new();
        let mut other = 0;
        for e in self.entries.iter().filter(|e| e.section == section) {
            let number = e
                .key
                .get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .and_then(|_| e.key.get(prefix.len()..))
                .and_then(|n| n.parse::<u64>().ok());
            match number {
                Some(n) => found.push((n, e.value.as_str())),
                None => other += 1,
            }
        }
        (found, other)
    }
}

/// Checks the identification line `first` against `Brain[ ]Vision Data
/// Exchange <kind> File[,] Version x.y`; returns the version text, or `None`
/// when the line is not such an identification.
fn identification_version(first: &str, kind: &str) -> Option<String> {
    let lower = first.to_ascii_lowercase();
    let rest = ["brain vision data exchange ", "brainvision data exchange "]
        .iter()
        .find_map(|p| lower.strip_prefix(p))?;
    let rest = rest.strip_prefix(kind)?.trim_start();
    let rest = rest.strip_prefix("file")?.trim_start();
    let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    let version = rest.strip_prefix("version").unwrap_or(rest).trim();
    Some(version.to_owned())
}

/// Parses and checks the header text of `path`.
fn parse_header(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Header, RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
    let ini = Ini::parse(text);
    if ini.first_line.is_empty() {
        return Err(invalid("header file is empty".into()));
    }
    let Some(version) = identification_version(&ini.first_line, "header") else {
        return Err(invalid(format!(
            "not a BrainVision header: the first line is \"{}\", not \"Brain Vision Data Exchange Header File Version 1.0\"",
            printable_prefix(&ini.first_line, 60)
        )));
    };
    if version != "1.0" && version != "2.0" {
        warnings.push(format!(
            "header declares version \"{}\"; read as version 1.0",
            printable_prefix(&version, 20)
        ));
    }

    const COMMON: &str = "common infos";
    let data_format = ini.get(COMMON, "DataFormat").unwrap_or("BINARY");
    let ascii = if data_format.eq_ignore_ascii_case("BINARY") {
        false
    } else if data_format.eq_ignore_ascii_case("ASCII") {
        true
    } else {
        return Err(invalid(format!(
            "unknown DataFormat \"{}\" (expected BINARY or ASCII)",
            printable_prefix(data_format, 40)
        )));
    };
    if let Some(data_type) = ini.get(COMMON, "DataType") {
        if data_type.eq_ignore_ascii_case("FREQUENCYDOMAIN")
            || data_type
                .to_ascii_uppercase()
                .starts_with("FREQUENCYDOMAIN")
        {
            return Err(RecordingError::unsupported(
                path,
                "frequency-domain data (DataType=FREQUENCYDOMAIN)",
            ));
        }
        if !data_type.eq_ignore_ascii_case("TIMEDOMAIN") {
            return Err(invalid(format!(
                "unknown DataType \"{}\" (expected TIMEDOMAIN)",
                printable_prefix(data_type, 40)
            )));
        }
    }
    let vectorized = match ini.get(COMMON, "DataOrientation") {
        None => {
            warnings.push("header gives no DataOrientation; read as MULTIPLEXED".into());
            false
        }
        Some(o) if o.eq_ignore_ascii_case("MULTIPLEXED") => false,
        Some(o) if o.eq_ignore_ascii_case("VECTORIZED") => true,
        Some(o) => {
            return Err(invalid(format!(
                "unknown DataOrientation \"{}\" (expected MULTIPLEXED or VECTORIZED)",
                printable_prefix(o, 40)
            )));
        }
    };
    if let Some(seg) = ini.get(COMMON, "SegmentationType")
        && !seg.eq_ignore_ascii_case("NOTSEGMENTED")
    {
        warnings.push(format!(
            "segmented data (SegmentationType={}) read as one continuous run",
            printable_prefix(seg, 40)
        ));
    }

    let Some(n_text) = ini.get(COMMON, "NumberOfChannels") else {
        return Err(invalid("header gives no NumberOfChannels".into()));
    };
    let Ok(n_channels) = n_text.parse::<u64>() else {
        return Err(invalid(format!(
            "NumberOfChannels \"{}\" is not a whole number",
            printable_prefix(n_text, 40)
        )));
    };
    if n_channels == 0 {
        return Err(invalid("NumberOfChannels is 0".into()));
    }
    let n_channels = match usize::try_from(n_channels) {
        Ok(n) if n <= MAX_CHANNELS => n,
        _ => {
            return Err(invalid(format!(
                "NumberOfChannels {n_channels} is absurd (more than {MAX_CHANNELS})"
            )));
        }
    };

    let Some(interval_text) = ini.get(COMMON, "SamplingInterval") else {
        return Err(invalid("header gives no SamplingInterval".into()));
    };
    let interval_us = interval_text.parse::<f64>().ok().filter(|v| v.is_finite());
    let Some(interval_us) = interval_us else {
        return Err(invalid(format!(
            "SamplingInterval \"{}\" is not a number of microseconds",
            printable_prefix(interval_text, 40)
        )));
    };
    let rate_hz = 1e6 / interval_us;
    if !(interval_us > 0.0 && rate_hz.is_finite()) {
        return Err(invalid(format!(
            "SamplingInterval is {interval_us} µs; it must be a positive number of microseconds"
        )));
    }

    let data_points = match ini.get(COMMON, "DataPoints") {
        None => None,
        Some(t) => match t.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                warnings.push(format!(
                    "DataPoints \"{}\" is not a whole number; ignored",
                    printable_prefix(t, 40)
                ));
                None
            }
        },
    };

    let (sample_format, big_endian) = if ascii {
        (None, false)
    } else {
        const BINARY: &str = "binary infos";
        let Some(fmt_text) = ini.get(BINARY, "BinaryFormat") else {
            return Err(invalid(
                "header gives no BinaryFormat in [Binary Infos]".into(),
            ));
        };
        let Some(fmt) = SampleFormat::parse(fmt_text) else {
            return Err(invalid(format!(
                "unknown BinaryFormat \"{}\" (expected INT_16, INT_32 or IEEE_FLOAT_32)",
                printable_prefix(fmt_text, 40)
            )));
        };
        let big_endian = ini
            .get(BINARY, "UseBigEndianOrder")
            .is_some_and(|v| v.eq_ignore_ascii_case("YES"));
        (Some(fmt), big_endian)
    };

    let ascii_infos = if ascii {
        const ASCII: &str = "ascii infos";
        let count = |key: &str, warnings: &mut Vec<String>| match ini.get(ASCII, key) {
            None => 0,
            Some(t) => t.parse::<usize>().unwrap_or_else(|_| {
                warnings.push(format!(
                    "{key} \"{}\" is not a whole number; read as 0",
                    printable_prefix(t, 40)
                ));
                0
            }),
        };
        AsciiInfos {
            decimal_comma: ini.get(ASCII, "DecimalSymbol") == Some(","),
            skip_lines: count("SkipLines", warnings),
            skip_columns: count("SkipColumns", warnings),
        }
    } else {
        AsciiInfos::default()
    };

    let channels = parse_channels(path, &ini, n_channels, warnings)?;

    let data_file = ini.get(COMMON, "DataFile").unwrap_or("");
    if data_file.is_empty() {
        return Err(invalid("header gives no DataFile".into()));
    }
    let marker_file = ini
        .get(COMMON, "MarkerFile")
        .filter(|m| !m.is_empty())
        .map(str::to_owned);

    Ok(Header {
        data_file: data_file.to_owned(),
        marker_file,
        ascii,
        vectorized,
        rate_hz,
        sample_format,
        big_endian,
        data_points,
        channels,
        ascii_infos,
    })
}

/// Reads the `[Channel Infos]` lines `Ch1`..`Ch<n_channels>`.
fn parse_channels(
    path: &Path,
    ini: &Ini,
    n_channels: usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<ChannelInfo>, RecordingError> {
    let (lines, other) = ini.numbered("channel infos", "Ch");
    if other > 0 {
        warnings.push(format!(
            "{other} line(s) in [Channel Infos] are not Ch<n>= entries; ignored"
        ));
    }
    // n_channels <= MAX_CHANNELS, checked by the caller.
    let mut slots: Vec<Option<ChannelInfo>> = (0..n_channels).map(|_| None).collect();
    let mut beyond = 0usize;
    for (number, value) in lines {
        let slot = usize::try_from(number)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| slots.get_mut(i));
        let Some(slot) = slot else {
            beyond += 1;
            continue;
        };
        if slot.is_some() {
            warnings.push(format!("Ch{number} is given twice; the first is used"));
            continue;
        }
        let mut fields = value.split(',');
        let name = fields.next().unwrap_or("").replace("\\1", ",");
        let _reference = fields.next();
        let res_text = fields.next().unwrap_or("").trim();
        let unit = fields.next().map(str::trim).unwrap_or("");
        let resolution = if res_text.is_empty() {
            1.0
        } else {
            match res_text.parse::<f64>() {
                Ok(r) if r.is_finite() => r,
                _ => {
                    return Err(RecordingError::invalid(
                        path,
                        format!(
                            "Ch{number}: resolution \"{}\" is not a number",
                            printable_prefix(res_text, 40)
                        ),
                    ));
                }
            }
        };
        if resolution == 0.0 {
            warnings.push(format!(
                "Ch{number} has resolution 0: all its samples read as 0"
            ));
        }
        let mut label = name.trim().to_owned();
        if label.is_empty() {
            label = format!("Ch{number}");
            warnings.push(format!("Ch{number} has no name; called {label}"));
        }
        *slot = Some(ChannelInfo {
            label,
            unit: if unit.is_empty() { "µV" } else { unit }.to_owned(),
            resolution,
        });
    }
    if beyond > 0 {
        warnings.push(format!(
            "{beyond} channel line(s) beyond NumberOfChannels={n_channels} ignored"
        ));
    }
    let missing: Vec<usize> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| i + 1)
        .collect();
    if let Some(first) = missing.first() {
        return Err(RecordingError::invalid(
            path,
            format!(
                "NumberOfChannels is {n_channels} but {} channel(s) have no Ch<n>= line in [Channel Infos] (the first: Ch{first})",
                missing.len()
            ),
        ));
    }
    Ok(slots.into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------
// Data

/// Decoded samples: one vector per channel, all `n_samples` long.
struct Data {
    samples: Vec<Vec<f32>>,
    n_samples: usize,
}

/// Makes `n` empty vectors each able to hold `capacity` samples, failing
/// cleanly (not aborting) when memory runs out.
fn allocate(path: &Path, n: usize, capacity: usize) -> Result<Vec<Vec<f32>>, RecordingError> {
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| out_of_memory(path, n, capacity))?;
    for _ in 0..n {
        let mut v = Vec::new();
        v.try_reserve_exact(capacity)
            .map_err(|_| out_of_memory(path, n, capacity))?;
        out.push(v);
    }
    Ok(out)
}

/// The error for a recording that does not fit in memory.
fn out_of_memory(path: &Path, n: usize, capacity: usize) -> RecordingError {
    RecordingError::invalid(
        path,
        format!("not enough memory for {n} channels of {capacity} samples"),
    )
}

/// Reads binary data, checking the header's counts against the file length.
fn read_binary(
    path: &Path,
    header: &Header,
    warnings: &mut Vec<String>,
) -> Result<Data, RecordingError> {
    let Some(fmt) = header.sample_format else {
        return Err(RecordingError::invalid(path, "no BinaryFormat"));
    };
    let mut file = File::open(path).map_err(|e| RecordingError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    if len == 0 {
        return Err(RecordingError::invalid(path, "data file is empty"));
    }
    let n_channels = header.channels.len();
    let bytes_per_sample = fmt.bytes();
    // At most MAX_CHANNELS x 8 bytes: no overflow.
    let frame = n_channels * bytes_per_sample;
    let frame_u64 = frame as u64;
    let whole = len / frame_u64;
    let rest = len % frame_u64;

    let n_samples = if header.vectorized {
        match header.data_points {
            Some(points) if points.checked_mul(frame_u64).is_some_and(|b| b <= len) => {
                if points != whole || rest != 0 {
                    warnings.push(format!(
                        "data file holds {len} bytes, more than DataPoints={points} x {n_channels} channels x {bytes_per_sample} bytes; the rest is ignored"
                    ));
                }
                points
            }
            Some(points) => {
                return Err(RecordingError::invalid(
                    path,
                    format!(
                        "data file is truncated: the header says {points} samples for each of {n_channels} channels ({bytes_per_sample} bytes each), the file holds only {len} bytes, and vectorized data cannot be read in part"
                    ),
                ));
            }
            None if rest != 0 => {
                return Err(RecordingError::invalid(
                    path,
                    format!(
                        "data file holds {len} bytes, not a whole number of {n_channels} channels x {bytes_per_sample} bytes: cannot tell where each vectorized channel starts"
                    ),
                ));
            }
            None => whole,
        }
    } else {
        if rest != 0 {
            warnings.push(format!(
                "data file holds {len} bytes, not a whole number of {frame}-byte sample frames ({n_channels} channels x {bytes_per_sample} bytes): the last {rest} bytes are ignored"
            ));
        }
        if let Some(points) = header.data_points
            && points != whole
        {
            warnings.push(format!(
                "header says DataPoints={points} but the data file holds {whole} samples per channel; read {whole}"
            ));
        }
        whole
    };
    if n_samples == 0 {
        return Err(RecordingError::invalid(
            path,
            format!(
                "data file holds {len} bytes, less than one sample of each of {n_channels} channels ({frame} bytes)"
            ),
        ));
    }
    let Ok(n_samples) = usize::try_from(n_samples) else {
        return Err(out_of_memory(path, n_channels, usize::MAX));
    };

    let mut samples = allocate(path, n_channels, n_samples)?;
    let scales: Vec<f64> = header.channels.iter().map(|c| c.resolution).collect();
    let big = header.big_endian;
    let read_err = |e: std::io::Error| RecordingError::io(path, e);

    if header.vectorized {
        let chunk_values = (CHUNK_BYTES / bytes_per_sample).max(1).min(n_samples);
        let mut buf = vec![0u8; chunk_values * bytes_per_sample];
        for (channel, scale) in samples.iter_mut().zip(&scales) {
            let mut left = n_samples;
            while left > 0 {
                let values = left.min(chunk_values);
                let Some(part) = buf.get_mut(..values * bytes_per_sample) else {
                    break;
                };
                file.read_exact(part).map_err(read_err)?;
                decode(
                    fmt,
                    big,
                    part,
                    std::slice::from_ref(scale),
                    std::slice::from_mut(channel),
                );
                left -= values;
            }
        }
    } else {
        let chunk_frames = (CHUNK_BYTES / frame).max(1).min(n_samples);
        let mut buf = vec![0u8; chunk_frames * frame];
        let mut left = n_samples;
        while left > 0 {
            let frames = left.min(chunk_frames);
            let Some(part) = buf.get_mut(..frames * frame) else {
                break;
            };
            file.read_exact(part).map_err(read_err)?;
            decode(fmt, big, part, &scales, &mut samples);
            left -= frames;
        }
    }
    Ok(Data { samples, n_samples })
}

/// Decodes multiplexed `bytes` of `fmt` (one value per channel in turn) into
/// `out`, multiplying each channel by its scale.
fn decode(fmt: SampleFormat, big: bool, bytes: &[u8], scales: &[f64], out: &mut [Vec<f32>]) {
    use SampleFormat::*;
    match (fmt, big) {
        (Int16, false) => demux::<2>(bytes, scales, out, |b| f64::from(i16::from_le_bytes(b))),
        (Int16, true) => demux::<2>(bytes, scales, out, |b| f64::from(i16::from_be_bytes(b))),
        (UInt16, false) => demux::<2>(bytes, scales, out, |b| f64::from(u16::from_le_bytes(b))),
        (UInt16, true) => demux::<2>(bytes, scales, out, |b| f64::from(u16::from_be_bytes(b))),
        (Int32, false) => demux::<4>(bytes, scales, out, |b| f64::from(i32::from_le_bytes(b))),
        (Int32, true) => demux::<4>(bytes, scales, out, |b| f64::from(i32::from_be_bytes(b))),
        (Float32, false) => demux::<4>(bytes, scales, out, |b| f64::from(f32::from_le_bytes(b))),
        (Float32, true) => demux::<4>(bytes, scales, out, |b| f64::from(f32::from_be_bytes(b))),
        (Float64, false) => demux::<8>(bytes, scales, out, f64::from_le_bytes),
        (Float64, true) => demux::<8>(bytes, scales, out, f64::from_be_bytes),
    }
}

/// Splits `bytes` into `N`-byte values, converts each with `raw`, scales it and
/// appends it to the channels in turn. A trailing partial frame is ignored.
#[inline(always)]
fn demux<const N: usize>(
    bytes: &[u8],
    scales: &[f64],
    out: &mut [Vec<f32>],
    raw: impl Fn([u8; N]) -> f64,
) {
    let (values, _) = bytes.as_chunks::<N>();
    match (out, scales) {
        ([channel], [scale]) => {
            channel.extend(values.iter().map(|&v| (raw(v) * scale) as f32));
        }
        (out, scales) if !out.is_empty() => {
            for frame in values.chunks_exact(out.len()) {
                for ((&v, channel), scale) in frame.iter().zip(out.iter_mut()).zip(scales) {
                    channel.push((raw(v) * scale) as f32);
                }
            }
        }
        _ => {}
    }
}

/// Reads ASCII data: numbers separated by blanks (or `;`, or `,` when the
/// decimal symbol is `.`), one time point per line (multiplexed) or one
/// channel per line (vectorized, optionally starting with the channel name).
fn read_ascii(
    path: &Path,
    header: &Header,
    warnings: &mut Vec<String>,
) -> Result<Data, RecordingError> {
    let bytes = std::fs::read(path).map_err(|e| RecordingError::io(path, e))?;
    if bytes.is_empty() {
        return Err(RecordingError::invalid(path, "data file is empty"));
    }
    let text = String::from_utf8_lossy(&bytes);
    let infos = &header.ascii_infos;
    let n_channels = header.channels.len();
    let scales: Vec<f64> = header.channels.iter().map(|c| c.resolution).collect();
    let comma = infos.decimal_comma;
    let is_separator = |c: char| c.is_whitespace() || c == ';' || (!comma && c == ',');
    let parse = |token: &str| -> Option<f64> {
        if comma {
            token.replace(',', ".").parse().ok()
        } else {
            token.parse().ok()
        }
    };
    let lines = text
        .lines()
        .enumerate()
        .skip(infos.skip_lines)
        .filter(|(_, l)| !l.trim().is_empty());
    let not_a_number = |line: usize, token: &str| {
        RecordingError::invalid(
            path,
            format!(
                "line {}: \"{}\" is not a number",
                line + 1,
                printable_prefix(token, 40)
            ),
        )
    };

    let mut samples: Vec<Vec<f32>> = (0..n_channels).map(|_| Vec::new()).collect();
    if header.vectorized {
        let mut extra = 0usize;
        let mut next = samples.iter_mut().zip(&scales);
        for (number, line) in lines {
            let Some((channel, scale)) = next.next() else {
                extra += 1;
                continue;
            };
            let mut tokens = line
                .split(is_separator)
                .filter(|t| !t.is_empty())
                .skip(infos.skip_columns)
                .peekable();
            // Exports often start each channel's line with its name.
            if tokens.peek().is_some_and(|t| parse(t).is_none()) {
                tokens.next();
            }
            for token in tokens {
                let v = parse(token).ok_or_else(|| not_a_number(number, token))?;
                channel.push((v * scale) as f32);
            }
        }
        if extra > 0 {
            warnings.push(format!(
                "data file has {extra} line(s) beyond the {n_channels} channels; ignored"
            ));
        }
        let lengths = samples.iter().map(Vec::len);
        let shortest = lengths.clone().min().unwrap_or(0);
        if lengths.clone().max().unwrap_or(0) != shortest {
            warnings.push(format!(
                "channels have different numbers of values; all are cut to {shortest}"
            ));
            for channel in &mut samples {
                channel.truncate(shortest);
            }
        }
    } else {
        let mut row = Vec::with_capacity(n_channels);
        for (number, line) in lines {
            row.clear();
            for token in line
                .split(is_separator)
                .filter(|t| !t.is_empty())
                .skip(infos.skip_columns)
                .take(n_channels)
            {
                row.push(parse(token).ok_or_else(|| not_a_number(number, token))?);
            }
            if row.len() < n_channels {
                warnings.push(format!(
                    "line {} has {} values for {n_channels} channels: reading stopped there",
                    number + 1,
                    row.len()
                ));
                break;
            }
            for ((channel, &v), scale) in samples.iter_mut().zip(&row).zip(&scales) {
                channel.push((v * scale) as f32);
            }
        }
    }
    let n_samples = samples.first().map_or(0, Vec::len);
    if n_samples == 0 {
        return Err(RecordingError::invalid(
            path,
            "ASCII data file holds no complete sample",
        ));
    }
    Ok(Data { samples, n_samples })
}

// ---------------------------------------------------------------------------
// Markers

/// What a marker file gives: annotations and maybe the start time.
struct Markers {
    annotations: Vec<Annotation>,
    start: Option<StartTime>,
}

/// Reads the markers of `path`; problems become warnings, never errors.
fn read_markers(
    path: &Path,
    rate_hz: f64,
    n_samples: usize,
    warnings: &mut Vec<String>,
) -> Markers {
    let mut out = Markers {
        annotations: Vec::new(),
        start: None,
    };
    let name = display_name(path);
    let bytes = match read_limited(path, MAX_MARKER_BYTES, "marker file") {
        Ok(b) => b,
        Err(e) => {
            warnings.push(format!("markers not read: {e}"));
            return out;
        }
    };
    let text = decode_text(&bytes);
    drop(bytes);
    let ini = Ini::parse(&text);
    if identification_version(&ini.first_line, "marker").is_none() {
        warnings.push(format!(
            "marker file {name} does not start with \"Brain Vision Data Exchange Marker File, Version 1.0\""
        ));
    }
    let (mut lines, _) = ini.numbered("marker infos", "Mk");
    lines.sort_by_key(|(n, _)| *n);

    let mut problems = Vec::new();
    let mut beyond_end = 0usize;
    // (position, start) of the earliest dated New Segment marker so far, and
    // the index of its annotation.
    let mut new_segment: Option<(u64, StartTime, usize)> = None;
    for (number, value) in lines {
        let mut fields = value.split(',');
        let kind = fields.next().unwrap_or("").replace("\\1", ",");
        let description = fields.next().unwrap_or("").replace("\\1", ",");
        let position_text = fields.next().unwrap_or("").trim();
        let size_text = fields.next().unwrap_or("").trim();
        let _channel = fields.next();
        let date_text = fields.next().unwrap_or("").trim();

        let position = match position_text.parse::<u64>() {
            Ok(p) => p,
            Err(_) => {
                problems.push(format!(
                    "Mk{number}: position \"{}\" is not a whole number",
                    printable_prefix(position_text, 30)
                ));
                continue;
            }
        };
        if position == 0 {
            problems.push(format!(
                "Mk{number}: position 0 read as 1 (positions start at 1)"
            ));
        }
        let size = if size_text.is_empty() {
            1
        } else {
            size_text.parse::<u64>().unwrap_or_else(|_| {
                problems.push(format!(
                    "Mk{number}: size \"{}\" is not a whole number; read as 1",
                    printable_prefix(size_text, 30)
                ));
                1
            })
        };
        if usize::try_from(position).map_or(true, |p| p > n_samples) {
            beyond_end += 1;
        }
        let text = if description.trim().is_empty() {
            kind.trim().to_owned()
        } else {
            description
        };
        out.annotations.push(Annotation {
            onset_s: position.saturating_sub(1) as f64 / rate_hz,
            duration_s: (size > 1).then(|| size as f64 / rate_hz),
            text,
        });

        if kind.trim().eq_ignore_ascii_case("New Segment") && !date_text.is_empty() {
            match parse_marker_date(date_text) {
                Some(t) => {
                    let index = out.annotations.len() - 1;
                    if new_segment.is_none_or(|(p, _, _)| position < p) {
                        new_segment = Some((position, t, index));
                    }
                }
                None => problems.push(format!(
                    "Mk{number}: New Segment date \"{}\" is not a valid YYYYMMDDhhmmssuuuuuu time",
                    printable_prefix(date_text, 30)
                )),
            }
        }
    }
    if let Some((position, start, index)) = new_segment {
        if index < out.annotations.len() {
            out.annotations.remove(index);
        }
        // A recording whose first dated segment starts later than its first
        // sample started that much earlier.
        out.start = Some(if position > 1 {
            start.plus_seconds(-((position - 1) as f64 / rate_hz))
        } else {
            start
        });
    }
    if beyond_end > 0 {
        problems.push(format!(
            "{beyond_end} marker(s) lie beyond the end of the data"
        ));
    }
    let count = problems.len();
    for p in problems.into_iter().take(MAX_MARKER_WARNINGS) {
        warnings.push(format!("{name}: {p}"));
    }
    if count > MAX_MARKER_WARNINGS {
        warnings.push(format!(
            "{name}: {} more marker problem(s) not listed",
            count - MAX_MARKER_WARNINGS
        ));
    }
    out
}

/// Parses a marker date `YYYYMMDDhhmmss` followed by up to six digits of
/// fraction of a second (microseconds when all six are there).
fn parse_marker_date(text: &str) -> Option<StartTime> {
    if !(14..=20).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(num(0..4)?).ok()?;
    let (month, day) = (num(4..6)?, num(6..8)?);
    let (hour, minute, whole) = (num(8..10)?, num(10..12)?, num(12..14)?);
    let fraction = text.get(14..)?;
    let fraction = if fraction.is_empty() {
        0.0
    } else {
        f64::from(fraction.parse::<u32>().ok()?) / 10f64.powi(i32::try_from(fraction.len()).ok()?)
    };
    let valid = year > 0
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && whole < 60;
    valid.then_some(StartTime {
        year,
        month,
        day,
        hour,
        minute,
        second: f64::from(whole) + fraction,
    })
}

// ---------------------------------------------------------------------------
// Writing

/// The text of a marker file for `rec`.
fn marker_text(rec: &Recording, rate_hz: f64, data_name: &str) -> String {
    let mut s = String::new();
    s.push_str("Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n");
    s.push_str(&format!(
        "[Common Infos]\r\nCodepage=UTF-8\r\nDataFile={data_name}\r\n\r\n[Marker Infos]\r\n"
    ));
    s.push_str(
        "; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>,\r\n",
    );
    s.push_str(
        "; <Size in data points>, <Channel number (0 = marker is related to all channels)>\r\n",
    );
    s.push_str("; Fields are delimited by commas, some fields might be omitted (empty).\r\n");
    s.push_str("; Commas in type or description text are coded as \"\\1\".\r\n");
    let mut number = 0usize;
    if let Some(start) = &rec.start {
        number += 1;
        s.push_str(&format!(
            "Mk{number}=New Segment,,1,1,0,{}\r\n",
            marker_date(start)
        ));
    }
    for a in &rec.annotations {
        number += 1;
        let position = points(a.onset_s, rate_hz).saturating_add(1);
        let size = a.duration_s.map_or(1, |d| points(d, rate_hz).max(1));
        s.push_str(&format!(
            "Mk{number}=Comment,{},{position},{size},0\r\n",
            escape_field(&a.text)
        ));
    }
    s
}

/// `seconds x rate_hz` rounded to whole samples (0 for negative or NaN).
fn points(seconds: f64, rate_hz: f64) -> u64 {
    // `as` saturates: negative and NaN become 0.
    (seconds * rate_hz).round() as u64
}

/// A start time as a marker date `YYYYMMDDhhmmssuuuuuu`.
fn marker_date(t: &StartTime) -> String {
    let second = if t.second.is_finite() {
        t.second.clamp(0.0, 59.999_999)
    } else {
        0.0
    };
    let whole = second.floor();
    let micros = (((second - whole) * 1e6).round() as u32).min(999_999);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:06}",
        t.year.clamp(0, 9999),
        t.month.min(99),
        t.day.min(99),
        t.hour.min(99),
        t.minute.min(99),
        whole as u32,
        micros
    )
}

/// Makes `text` safe as one comma-separated field on one line.
fn escape_field(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace(',', "\\1")
}

/// Writes the channels multiplexed as little-endian `f32`.
fn write_samples(path: &Path, channels: &[Channel]) -> Result<(), RecordingError> {
    let err = |e: std::io::Error| RecordingError::io(path, e);
    let file = File::create(path).map_err(err)?;
    let mut out = BufWriter::with_capacity(CHUNK_BYTES, file);
    let mut iters: Vec<_> = channels.iter().map(|c| c.samples.iter()).collect();
    let mut frame = Vec::with_capacity(channels.len() * 4);
    loop {
        frame.clear();
        for it in &mut iters {
            if let Some(v) = it.next() {
                frame.extend_from_slice(&v.to_le_bytes());
            }
        }
        if frame.is_empty() {
            break;
        }
        out.write_all(&frame).map_err(err)?;
    }
    out.into_inner()
        .map_err(|e| err(e.into_error()))?
        .sync_all()
        .map_err(err)
}

/// Writes `bytes` to `path`, replacing it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), RecordingError> {
    std::fs::write(path, bytes).map_err(|e| RecordingError::io(path, e))
}

// ---------------------------------------------------------------------------
// Files and text

/// Reads a whole text file of at most `max` bytes.
fn read_limited(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, RecordingError> {
    let file = File::open(path).map_err(|e| RecordingError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    if len > max {
        return Err(RecordingError::invalid(
            path,
            format!("{len} bytes is too large for a BrainVision {what}"),
        ));
    }
    let mut bytes = Vec::new();
    file.take(max)
        .read_to_end(&mut bytes)
        .map_err(|e| RecordingError::io(path, e))?;
    Ok(bytes)
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
fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// At most `max` characters of `text`, control characters shown as `?`.
fn printable_prefix(text: &str, max: usize) -> String {
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

/// A character set a file may declare with `Codepage=`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Codepage {
    Utf8,
    Ansi,
    Undeclared,
}

/// The first `Codepage=` declaration in `bytes`.
fn declared_codepage(bytes: &[u8]) -> Codepage {
    for line in bytes.split(|&b| b == b'\n' || b == b'\r') {
        let line = line.trim_ascii();
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (
            line.get(..eq).unwrap_or_default().trim_ascii(),
            line.get(eq + 1..).unwrap_or_default().trim_ascii(),
        );
        if key.eq_ignore_ascii_case(b"Codepage") {
            return if value.eq_ignore_ascii_case(b"UTF-8") || value.eq_ignore_ascii_case(b"UTF8") {
                Codepage::Utf8
            } else {
                Codepage::Ansi
            };
        }
    }
    Codepage::Undeclared
}

/// Decodes a header or marker file as it declares (see [`read_brainvision`]).
fn decode_text(bytes: &[u8]) -> String {
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(body).into_owned();
    }
    match declared_codepage(bytes) {
        Codepage::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Codepage::Ansi => windows_1252(bytes),
        Codepage::Undeclared => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => windows_1252(bytes),
        },
    }
}

/// Windows-1252 ("ANSI") to UTF-8: Latin-1, with 0x80-0x9F mapped as
/// Windows does (`€`, `‘`, ...).
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH.get(usize::from(b - 0x80)).copied().unwrap_or('?'),
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A header for `channels` (`Ch<n>=` values) with the given layout.
    fn vhdr(orientation: &str, format: &str, interval: &str, channels: &[&str]) -> String {
        let mut s = format!(
            "Brain Vision Data Exchange Header File Version 1.0\r\n\
             ; Data created by a test\r\n\r\n\
             [Common Infos]\r\nCodepage=UTF-8\r\nDataFile=rec.eeg\r\nMarkerFile=rec.vmrk\r\n\
             DataFormat=BINARY\r\n; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...\r\n\
             DataOrientation={orientation}\r\nNumberOfChannels={}\r\n\
             ; Sampling interval in microseconds\r\nSamplingInterval={interval}\r\n\r\n\
             [Binary Infos]\r\nBinaryFormat={format}\r\n\r\n[Channel Infos]\r\n\
             ; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,\r\n",
            channels.len()
        );
        for (i, c) in channels.iter().enumerate() {
            s.push_str(&format!("Ch{}={c}\r\n", i + 1));
        }
        s.push_str("\r\n[Coordinates]\r\nCh1=1,0,0\r\n\r\n[Comment]\r\n\r\nA m p l i f i e r  S e t u p\r\nCh1=not a channel\r\n");
        s
    }

    /// Writes `rec.vhdr`, `rec.eeg` and (when given) `rec.vmrk` into `dir`.
    fn triple(dir: &Path, header: &[u8], markers: Option<&[u8]>, data: &[u8]) -> PathBuf {
        let path = dir.join("rec.vhdr");
        fs::write(&path, header).unwrap();
        fs::write(dir.join("rec.eeg"), data).unwrap();
        if let Some(m) = markers {
            fs::write(dir.join("rec.vmrk"), m).unwrap();
        }
        path
    }

    /// Lays out per-channel values multiplexed or vectorized.
    fn pack<T: Copy, const N: usize>(
        channels: &[Vec<T>],
        vectorized: bool,
        to_bytes: impl Fn(T) -> [u8; N],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        if vectorized {
            for ch in channels {
                for &v in ch {
                    out.extend_from_slice(&to_bytes(v));
                }
            }
        } else {
            for i in 0..channels[0].len() {
                for ch in channels {
                    out.extend_from_slice(&to_bytes(ch[i]));
                }
            }
        }
        out
    }

    fn scaled(values: &[f64], resolution: f64) -> Vec<f32> {
        values.iter().map(|&v| (v * resolution) as f32).collect()
    }

    const MARKERS: &str = "Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n\
        [Common Infos]\r\nCodepage=UTF-8\r\nDataFile=rec.eeg\r\n\r\n[Marker Infos]\r\n\
        ; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>,\r\n\
        Mk1=New Segment,,1,1,0,20040124055607123456\r\n\
        Mk2=Stimulus,S  1,3,1,0\r\n\
        Mk4=Comment,blink\\1 left,2,3,1\r\n\
        Mk3=Response,,2,1,0\r\n\
        Mk5=New Segment,,4,1,0,20040124055608000000\r\n";

    #[test]
    fn int16_both_orientations_exact_physical_values() {
        let fp1: Vec<i16> = vec![100, -32768, 7, 0];
        let cz: Vec<i16> = vec![-5, 32767, 0, 1];
        for vectorized in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let orientation = if vectorized {
                "VECTORIZED"
            } else {
                "MULTIPLEXED"
            };
            let header = vhdr(orientation, "INT_16", "2000", &["Fp1,,0.1,µV", "Cz,,,"]);
            let data = pack(&[fp1.clone(), cz.clone()], vectorized, i16::to_le_bytes);
            let path = triple(
                dir.path(),
                header.as_bytes(),
                Some(MARKERS.as_bytes()),
                &data,
            );
            let rec = read_brainvision(&path).unwrap();
            assert_eq!(rec.format, Format::BrainVision);
            assert_eq!(rec.path, path);
            assert_eq!(rec.channels.len(), 2);
            let (a, b) = (&rec.channels[0], &rec.channels[1]);
            assert_eq!((a.label.as_str(), a.unit.as_str()), ("Fp1", "µV"));
            assert_eq!((b.label.as_str(), b.unit.as_str()), ("Cz", "µV"));
            assert_eq!(a.rate_hz, 500.0);
            let fp1_f: Vec<f64> = fp1.iter().map(|&v| f64::from(v)).collect();
            let cz_f: Vec<f64> = cz.iter().map(|&v| f64::from(v)).collect();
            assert_eq!(a.samples, scaled(&fp1_f, 0.1));
            assert_eq!(b.samples, vec![-5.0, 32767.0, 0.0, 1.0]);
            assert_eq!(b.samples, scaled(&cz_f, 1.0));
            assert_eq!(
                (a.physical_min, a.physical_max),
                (-32768.0 * 0.1, 32767.0 * 0.1)
            );
            assert_eq!((b.physical_min, b.physical_max), (-32768.0, 32767.0));
            assert_eq!(
                rec.segments,
                vec![Segment {
                    onset_s: 0.0,
                    duration_s: 4.0 / 500.0
                }]
            );
            assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        }
    }

    #[test]
    fn int32_both_orientations_exact_physical_values() {
        let x: Vec<i32> = vec![i32::MIN, i32::MAX, -3, 123_456_789];
        let y: Vec<i32> = vec![1, 2, 3, 4];
        for vectorized in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let orientation = if vectorized {
                "VECTORIZED"
            } else {
                "MULTIPLEXED"
            };
            let header = vhdr(orientation, "INT_32", "1000", &["X,REF,0.5,mV", "Y,,2,V"]);
            let data = pack(&[x.clone(), y.clone()], vectorized, i32::to_le_bytes);
            let path = triple(dir.path(), header.as_bytes(), None, &data);
            let rec = read_brainvision(&path).unwrap();
            let xf: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            assert_eq!(rec.channels[0].samples, scaled(&xf, 0.5));
            assert_eq!(rec.channels[1].samples, vec![2.0, 4.0, 6.0, 8.0]);
            assert_eq!(rec.channels[0].unit, "mV");
            assert_eq!(rec.channels[1].unit, "V");
            assert_eq!(rec.channels[0].rate_hz, 1000.0);
            assert_eq!(
                (rec.channels[0].physical_min, rec.channels[0].physical_max),
                (f64::from(i32::MIN) * 0.5, f64::from(i32::MAX) * 0.5)
            );
            // The marker file is named but missing: a warning, not an error.
            assert!(rec.warnings.iter().any(|w| w.contains("rec.vmrk")));
            assert!(rec.annotations.is_empty());
        }
    }

    #[test]
    fn float32_both_orientations_range_from_data() {
        let a: Vec<f32> = vec![1.5, -2.25, 1e-3, 3.0e6, f32::MIN_POSITIVE];
        let b: Vec<f32> = vec![0.0, -0.0, 10.0, -7.5, 2.0];
        let c: Vec<f32> = vec![9.0; 5];
        for vectorized in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let orientation = if vectorized {
                "VECTORIZED"
            } else {
                "MULTIPLEXED"
            };
            let header = vhdr(
                orientation,
                "IEEE_FLOAT_32",
                "3906.25",
                &["A,,1,µV", "B,,,µV", "C,,0.5,uV"],
            );
            let data = pack(
                &[a.clone(), b.clone(), c.clone()],
                vectorized,
                f32::to_le_bytes,
            );
            let path = triple(dir.path(), header.as_bytes(), None, &data);
            let rec = read_brainvision(&path).unwrap();
            assert_eq!(rec.channels[0].samples, a);
            assert_eq!(rec.channels[1].samples, b);
            assert_eq!(rec.channels[2].samples, vec![4.5; 5]);
            assert_eq!(rec.channels[2].unit, "uV");
            assert_eq!(rec.channels[0].rate_hz, 256.0);
            assert_eq!(rec.channels[0].physical_min, -2.25);
            assert_eq!(rec.channels[0].physical_max, 3.0e6);
            assert_eq!(
                (rec.channels[1].physical_min, rec.channels[1].physical_max),
                (-7.5, 10.0)
            );
            assert_eq!(rec.segments[0].duration_s, 5.0 / 256.0);
        }
    }

    #[test]
    fn uint16_float64_and_big_endian() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "UINT_16", "1000", &["U,,0.25,µV"]);
        let data = pack(&[vec![0u16, 65535, 4]], false, u16::to_le_bytes);
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![0.0, 65535.0 * 0.25, 1.0]);
        assert_eq!(rec.channels[0].physical_max, 65535.0 * 0.25);

        let header = vhdr("VECTORIZED", "IEEE_FLOAT_64", "1000", &["D,,,", "E,,,"]);
        let data = pack(
            &[vec![0.1f64, 2.5], vec![-1.0, 1e10]],
            true,
            f64::to_le_bytes,
        );
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![0.1f32, 2.5]);
        assert_eq!(rec.channels[1].samples, vec![-1.0, 1e10f32]);

        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["B,,0.5,µV", "C,,1,µV"]).replace(
            "[Binary Infos]\r\n",
            "[Binary Infos]\r\nUseBigEndianOrder=YES\r\n",
        );
        let data = pack(&[vec![258i16, -2], vec![1, 3]], false, i16::to_be_bytes);
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![129.0, -1.0]);
        assert_eq!(rec.channels[1].samples, vec![1.0, 3.0]);
    }

    #[test]
    fn channel_names_units_and_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr(
            "MULTIPLEXED",
            "INT_16",
            "500",
            &[
                " EEG Fp1\\1Fp2 ,Cz,0.0488281,µV",
                "EMG,,,",
                "Temp",
                "Resp,,10.0,",
            ],
        );
        let data = pack(
            &[vec![10i16], vec![20], vec![30], vec![-40]],
            false,
            i16::to_le_bytes,
        );
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        let labels: Vec<_> = rec.channels.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["EEG Fp1,Fp2", "EMG", "Temp", "Resp"]);
        assert!(rec.channels.iter().all(|c| c.unit == "µV"));
        assert_eq!(rec.channels[0].samples, vec![(10.0 * 0.0488281) as f32]);
        assert_eq!(rec.channels[1].samples, vec![20.0]);
        assert_eq!(rec.channels[2].samples, vec![30.0]);
        assert_eq!(rec.channels[3].samples, vec![-400.0]);
        assert_eq!(rec.channels[0].rate_hz, 2000.0);
        assert!(rec.channels.iter().all(|c| c.transducer.is_empty()));
    }

    #[test]
    fn markers_become_sorted_annotations_and_start() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,1,µV"]);
        let data = pack(&[vec![1i16, 2, 3, 4, 5, 6]], false, i16::to_le_bytes);
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(MARKERS.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        assert_eq!(
            rec.start,
            Some(StartTime {
                year: 2004,
                month: 1,
                day: 24,
                hour: 5,
                minute: 56,
                second: 7.123456,
            })
        );
        let got: Vec<(f64, Option<f64>, &str)> = rec
            .annotations
            .iter()
            .map(|a| (a.onset_s, a.duration_s, a.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0.002, None, "Response"),
                (0.002, Some(0.006), "blink, left"),
                (0.004, None, "S  1"),
                (0.006, None, "New Segment"),
            ]
        );
    }

    #[test]
    fn start_from_a_later_new_segment_is_moved_back() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,1,µV"]);
        let data = pack(&[vec![0i16; 1000]], false, i16::to_le_bytes);
        let markers = "Brain Vision Data Exchange Marker File, Version 1.0\n[Marker Infos]\n\
            Mk1=Stimulus,S  1,1,1,0\nMk2=New Segment,,501,1,0,20040101000000500000\n";
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(markers.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        let start = rec.start.unwrap();
        assert_eq!((start.year, start.month, start.day), (2003, 12, 31));
        assert_eq!((start.hour, start.minute), (23, 59));
        assert!((start.second - 59.5).abs() < 1e-6, "{start:?}");
        assert_eq!(rec.annotations.len(), 1);
        assert_eq!(rec.annotations[0].text, "S  1");
    }

    #[test]
    fn hostile_markers_are_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,1,µV"]);
        let data = pack(&[vec![1i16, 2]], false, i16::to_le_bytes);
        let markers = "not a marker file\n[Marker Infos]\nMk1=New Segment,,1,1,0,00000000000000000000\n\
            Mk2=Stimulus,S 1,abc,1,0\nMk3=Stimulus,S 2,0,x,0\nMk4=Stimulus\nMk5=Stimulus,S 3,99999999999999999999999,1\n\
            Mk6=Stimulus,S 4,100,1,0\nMk7=,,2\nMkX=Stimulus,S 5,1,1,0\n";
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(markers.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.start, None);
        let texts: Vec<_> = rec.annotations.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["New Segment", "S 2", "", "S 4"]);
        assert!(rec.warnings.len() >= 3, "{:?}", rec.warnings);
        assert!(rec.warnings.len() <= MAX_MARKER_WARNINGS + 2);
    }

    #[test]
    fn latin1_header_and_markers() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr(
            "MULTIPLEXED",
            "INT_16",
            "1000",
            &["Fp1,,0.5,µV", "Gésture,,1,µV"],
        )
        .replace("Codepage=UTF-8", "Codepage=ANSI");
        let latin1: Vec<u8> = header.chars().map(|c| c as u32 as u8).collect();
        assert!(std::str::from_utf8(&latin1).is_err());
        let markers = "Brain Vision Data Exchange Marker File, Version 1.0\r\n[Common Infos]\r\n\
            Codepage=ANSI\r\n[Marker Infos]\r\nMk1=Comment,Bl\u{e9}\u{e9}p 5\u{b5}s \u{20ac},2,1,0\r\n";
        let mut markers_bytes: Vec<u8> = Vec::new();
        for c in markers.chars() {
            markers_bytes.push(if c == '€' { 0x80 } else { c as u32 as u8 });
        }
        let data = pack(&[vec![2i16, 4], vec![1, 3]], false, i16::to_le_bytes);
        let path = triple(dir.path(), &latin1, Some(&markers_bytes), &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].unit, "µV");
        assert_eq!(rec.channels[1].label, "Gésture");
        assert_eq!(rec.channels[0].samples, vec![1.0, 2.0]);
        assert_eq!(rec.annotations[0].text, "Bléép 5µs €");

        // Undeclared and not UTF-8: read as Latin-1; undeclared UTF-8 stays UTF-8.
        let undeclared: Vec<u8> = header
            .replace("Codepage=ANSI\r\n", "")
            .chars()
            .map(|c| c as u32 as u8)
            .collect();
        let path = triple(dir.path(), &undeclared, None, &data);
        assert_eq!(
            read_brainvision(&path).unwrap().channels[1].label,
            "Gésture"
        );
        let utf8 = header.replace("Codepage=ANSI\r\n", "");
        let path = triple(dir.path(), utf8.as_bytes(), None, &data);
        assert_eq!(
            read_brainvision(&path).unwrap().channels[1].label,
            "Gésture"
        );
        // Declared UTF-8 with a stray Latin-1 byte: replaced, never an error.
        let broken: Vec<u8> = vhdr("MULTIPLEXED", "INT_16", "1000", &["X\u{e9},,1,µV", "Y"])
            .into_bytes()
            .into_iter()
            .filter(|&b| b != 0xC3)
            .collect();
        let path = triple(dir.path(), &broken, None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert!(rec.channels[0].label.starts_with('X'));
    }

    #[test]
    fn round_trip_through_writer() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recording {
            path: PathBuf::new(),
            format: Format::Edf,
            patient: String::new(),
            recording_id: String::new(),
            start: Some(StartTime {
                year: 2021,
                month: 12,
                day: 31,
                hour: 23,
                minute: 59,
                second: 58.25,
            }),
            channels: vec![
                Channel {
                    label: "EEG Fp1, left".into(),
                    unit: "µV".into(),
                    rate_hz: 256.0,
                    physical_min: -100.0,
                    physical_max: 100.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples: vec![0.5, -1.25, 3.0e-5, 99.0, -0.0],
                },
                Channel {
                    label: "Resp".into(),
                    unit: "mV".into(),
                    rate_hz: 256.0,
                    physical_min: -1.0,
                    physical_max: 1.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                },
            ],
            annotations: vec![
                Annotation {
                    onset_s: 0.0,
                    duration_s: None,
                    text: "start".into(),
                },
                Annotation {
                    onset_s: 2.0 / 256.0,
                    duration_s: Some(2.0 / 256.0),
                    text: "blink, twice\nnewline".into(),
                },
            ],
            segments: vec![],
            warnings: vec![],
        };
        let path = dir.path().join("sub-01.task.vhdr");
        write_brainvision(&path, &rec).unwrap();
        assert!(dir.path().join("sub-01.task.eeg").is_file());
        assert!(dir.path().join("sub-01.task.vmrk").is_file());
        let back = read_brainvision(&path).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.start, rec.start);
        assert_eq!(back.channels.len(), 2);
        for (a, b) in back.channels.iter().zip(&rec.channels) {
            assert_eq!(a.label, b.label);
            assert_eq!(a.unit, b.unit);
            assert_eq!(a.rate_hz, b.rate_hz);
            assert_eq!(a.samples, b.samples);
        }
        assert_eq!(back.annotations.len(), 2);
        assert_eq!(back.annotations[0], rec.annotations[0]);
        assert_eq!(back.annotations[1].onset_s, rec.annotations[1].onset_s);
        assert_eq!(
            back.annotations[1].duration_s,
            rec.annotations[1].duration_s
        );
        assert_eq!(back.annotations[1].text, "blink, twice newline");
        assert_eq!(back.duration_s(), 5.0 / 256.0);

        // Different rates or lengths cannot be written.
        let mut bad = rec.clone();
        bad.channels[1].rate_hz = 128.0;
        assert!(matches!(
            write_brainvision(&path, &bad),
            Err(RecordingError::Unsupported { .. })
        ));
        let mut bad = rec.clone();
        bad.channels[1].samples.pop();
        assert!(write_brainvision(&path, &bad).is_err());
        bad.channels.clear();
        assert!(write_brainvision(&path, &bad).is_err());
    }

    #[test]
    fn ascii_both_orientations() {
        let dir = tempfile::tempdir().unwrap();
        let ascii_header = |orientation: &str, extra: &str| {
            vhdr(orientation, "INT_16", "1000", &["A,,1,µV", "B,,0.5,µV"])
                .replace("DataFormat=BINARY", "DataFormat=ASCII")
                .replace("[Binary Infos]\r\n", &format!("[ASCII Infos]\r\n{extra}"))
        };
        let header = ascii_header("MULTIPLEXED", "DecimalSymbol=.\r\nSkipLines=1\r\n");
        let data = "A B\n1.5 2\n-3 4e1\n\n5 6\n7\n";
        let path = triple(dir.path(), header.as_bytes(), None, data.as_bytes());
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![1.5, -3.0, 5.0]);
        assert_eq!(rec.channels[1].samples, vec![1.0, 20.0, 3.0]);
        assert!(rec.warnings.iter().any(|w| w.contains("line 6")));

        let header = ascii_header("VECTORIZED", "DecimalSymbol=,\r\n");
        let data = "A 1,5 2 3\r\nB 4 5 6,5\r\n";
        let path = triple(dir.path(), header.as_bytes(), None, data.as_bytes());
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![1.5, 2.0, 3.0]);
        assert_eq!(rec.channels[1].samples, vec![2.0, 2.5, 3.25]);

        let path = triple(dir.path(), header.as_bytes(), None, b"A 1 x 3\nB 1 2 3\n");
        assert!(read_brainvision(&path).is_err());
    }

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

    /// Asserts `result` is an `Invalid` error about `file` mentioning `words`.
    fn assert_invalid(result: Result<Recording, RecordingError>, file: &str, words: &str) {
        match result {
            Err(e @ RecordingError::Invalid { .. }) => {
                let message = e.to_string();
                assert!(e.path().ends_with(file), "{message} should be about {file}");
                assert!(message.contains(words), "{message} should say {words}");
            }
            other => panic!("expected an Invalid error about {file}, got {other:?}"),
        }
    }

    #[test]
    fn truncated_data_reads_whole_frames_with_warning() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV", "B,,1,µV"]);
        let mut data = pack(&[vec![1i16, 2, 3], vec![4, 5, 6]], false, i16::to_le_bytes);
        data.truncate(data.len() - 1);
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].samples, vec![1.0, 2.0]);
        assert_eq!(rec.channels[1].samples, vec![4.0, 5.0]);
        assert!(rec.warnings.iter().any(|w| w.contains("last 3 bytes")));

        // Vectorized: where each channel starts is unknown.
        let header = vhdr("VECTORIZED", "INT_16", "1000", &["A,,1,µV", "B,,1,µV"]);
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        assert_invalid(read_brainvision(&path), "rec.eeg", "vectorized");
        // ...unless DataPoints says so.
        let with_points = header.replace("NumberOfChannels", "DataPoints=2\r\nNumberOfChannels");
        let path = triple(dir.path(), with_points.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        // (The bytes were laid out multiplexed: 1 4 2 5 3 6.)
        assert_eq!(rec.channels[0].samples, vec![1.0, 4.0]);
        assert_eq!(rec.channels[1].samples, vec![2.0, 5.0]);
        let lying = header.replace("NumberOfChannels", "DataPoints=3\r\nNumberOfChannels");
        let path = triple(dir.path(), lying.as_bytes(), None, &data);
        assert_invalid(read_brainvision(&path), "rec.eeg", "truncated");

        // Less than one frame, and an empty file.
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV", "B,,1,µV"]);
        let path = triple(dir.path(), header.as_bytes(), None, &[1, 2, 3]);
        assert_invalid(read_brainvision(&path), "rec.eeg", "less than one sample");
        let path = triple(dir.path(), header.as_bytes(), None, &[]);
        assert_invalid(read_brainvision(&path), "rec.eeg", "empty");
    }

    #[test]
    fn lying_channel_count() {
        let dir = tempfile::tempdir().unwrap();
        let data = pack(&[vec![1i16, 2, 3, 4]], false, i16::to_le_bytes);
        // More channels claimed than described.
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV", "B,,1,µV"])
            .replace("NumberOfChannels=2", "NumberOfChannels=3");
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        assert_invalid(read_brainvision(&path), "rec.vhdr", "Ch3");
        // Huge counts never allocate.
        for n in [
            "10001",
            "4000000000",
            "18446744073709551615",
            "99999999999999999999999",
        ] {
            let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV"])
                .replace("NumberOfChannels=1", &format!("NumberOfChannels={n}"));
            let path = triple(dir.path(), header.as_bytes(), None, &data);
            assert_invalid(read_brainvision(&path), "rec.vhdr", "NumberOfChannels");
        }
        // Fewer claimed than described: the extra lines are ignored with a warning.
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV", "B,,1,µV"])
            .replace("NumberOfChannels=2", "NumberOfChannels=1");
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels.len(), 1);
        assert_eq!(rec.channels[0].samples.len(), 4);
        assert!(!rec.warnings.is_empty());
        // A count that does not divide the data: read what is whole, warn.
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A", "B", "C"]);
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[2].samples, vec![3.0]);
        assert!(!rec.warnings.is_empty());
        // A 10000-channel header against a tiny file.
        let names: Vec<String> = (0..MAX_CHANNELS).map(|i| format!("C{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let header = vhdr("MULTIPLEXED", "INT_32", "1000", &names);
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        assert_invalid(read_brainvision(&path), "rec.eeg", "less than one sample");
    }

    #[test]
    fn bad_header_fields_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let data = pack(&[vec![1i16, 2, 3, 4]], false, i16::to_le_bytes);
        let good = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV"]);
        let cases: &[(&str, &str, &str)] = &[
            (
                "NumberOfChannels=1",
                "NumberOfChannels=one",
                "NumberOfChannels",
            ),
            (
                "NumberOfChannels=1",
                "NumberOfChannels=0",
                "NumberOfChannels is 0",
            ),
            (
                "NumberOfChannels=1",
                "NumberOfChannels=-1",
                "NumberOfChannels",
            ),
            ("NumberOfChannels=1\r\n", "", "NumberOfChannels"),
            (
                "SamplingInterval=1000",
                "SamplingInterval=fast",
                "SamplingInterval",
            ),
            (
                "SamplingInterval=1000",
                "SamplingInterval=0",
                "SamplingInterval",
            ),
            (
                "SamplingInterval=1000",
                "SamplingInterval=-2",
                "SamplingInterval",
            ),
            (
                "SamplingInterval=1000",
                "SamplingInterval=NaN",
                "SamplingInterval",
            ),
            (
                "SamplingInterval=1000",
                "SamplingInterval=inf",
                "SamplingInterval",
            ),
            (
                "SamplingInterval=1000",
                "SamplingInterval=1e-320",
                "SamplingInterval",
            ),
            ("SamplingInterval=1000\r\n", "", "SamplingInterval"),
            ("Ch1=A,,1,µV", "Ch1=A,,x,µV", "resolution"),
            ("Ch1=A,,1,µV", "Ch1=A,,inf,µV", "resolution"),
            ("Ch1=A,,1,µV", "Chan1=A,,1,µV", "Ch1"),
            ("BinaryFormat=INT_16", "BinaryFormat=INT_24", "BinaryFormat"),
            ("BinaryFormat=INT_16\r\n", "", "BinaryFormat"),
            ("DataFormat=BINARY", "DataFormat=HDF5", "DataFormat"),
            (
                "DataOrientation=MULTIPLEXED",
                "DataOrientation=DIAGONAL",
                "DataOrientation",
            ),
            ("DataFile=rec.eeg", "DataFile=", "DataFile"),
            (
                "Brain Vision Data Exchange Header File",
                "Brain Vision Data Exchange Marker File",
                "not a BrainVision header",
            ),
        ];
        for (from, to, words) in cases {
            assert!(good.contains(from), "{from}");
            let header = good.replacen(from, to, 1);
            let path = triple(dir.path(), header.as_bytes(), None, &data);
            assert_invalid(read_brainvision(&path), "rec.vhdr", words);
        }
        let header = good.replace("Codepage=UTF-8", "DataType=FREQUENCYDOMAIN");
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        assert!(matches!(
            read_brainvision(&path),
            Err(RecordingError::Unsupported { .. })
        ));
        // The other identification spelling is fine.
        let header = good.replace("Brain Vision", "BrainVision");
        let path = triple(dir.path(), header.as_bytes(), None, &data);
        assert!(read_brainvision(&path).is_ok());
    }

    #[test]
    fn not_a_header_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.vhdr");
        // Empty, blank, random bytes, a WAV file renamed.
        fs::write(&path, b"").unwrap();
        assert_invalid(read_brainvision(&path), "x.vhdr", "empty");
        fs::write(&path, b"\r\n \n\t\n").unwrap();
        assert_invalid(read_brainvision(&path), "x.vhdr", "empty");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        fs::write(&path, &random).unwrap();
        assert_invalid(
            read_brainvision(&path),
            "x.vhdr",
            "not a BrainVision header",
        );
        let mut wav = b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x08\x00\x00".to_vec();
        wav.extend(std::iter::repeat_n(0u8, 2048));
        fs::write(&path, &wav).unwrap();
        assert_invalid(
            read_brainvision(&path),
            "x.vhdr",
            "not a BrainVision header",
        );
        // Missing header, missing data file.
        let missing = dir.path().join("missing.vhdr");
        assert!(matches!(
            read_brainvision(&missing),
            Err(RecordingError::Io { .. })
        ));
        let header = vhdr("MULTIPLEXED", "INT_16", "1000", &["A,,1,µV"])
            .replace("DataFile=rec.eeg", "DataFile=gone.eeg");
        fs::write(&path, header).unwrap();
        assert_invalid(read_brainvision(&path), "gone.eeg", "not found");
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
