//! The `.vhdr` header: the parts the reader uses, parsed and checked for sense.

use std::path::Path;

use super::ini::{Ini, identification_version};
use super::printable_prefix;
use super::sample_format::SampleFormat;
use crate::recording::RecordingError;

/// More channels than this is taken as a damaged header, not a recording.
pub const MAX_CHANNELS: usize = 10_000;

/// The parts of a `.vhdr` the reader uses, checked for sense.
#[derive(Debug)]
pub struct Header {
    /// `DataFile`, relative to the header's folder.
    pub data_file: String,
    /// `MarkerFile`, when given.
    pub marker_file: Option<String>,
    /// `DataFormat=ASCII`.
    pub ascii: bool,
    /// `DataOrientation=VECTORIZED`.
    pub vectorized: bool,
    /// Samples per second (Hz), from `SamplingInterval` (µs).
    pub rate_hz: f64,
    /// The binary sample type (`None` for ASCII data).
    pub sample_format: Option<SampleFormat>,
    /// `UseBigEndianOrder=YES`.
    pub big_endian: bool,
    /// `DataPoints` (samples per channel), when given and numeric.
    pub data_points: Option<u64>,
    /// One entry per channel, in order; never empty, at most [`MAX_CHANNELS`].
    pub channels: Vec<ChannelInfo>,
    /// `[ASCII Infos]`.
    pub ascii_infos: AsciiInfos,
}

/// One `Ch<n>=` line.
#[derive(Debug)]
pub struct ChannelInfo {
    /// Name, with `\1` turned back into commas, trimmed.
    pub label: String,
    /// Unit as written, `µV` when none is given.
    pub unit: String,
    /// Physical units per raw unit.
    pub resolution: f64,
}

/// The `[ASCII Infos]` section.
#[derive(Debug, Default)]
pub struct AsciiInfos {
    /// `DecimalSymbol=,`: the decimal point is a comma, not `.`.
    pub decimal_comma: bool,
    /// Lines to skip at the start of the data file.
    pub skip_lines: usize,
    /// Values to skip at the start of each line.
    pub skip_columns: usize,
}

/// The section of the general facts.
const COMMON: &str = "common infos";

/// Parses and checks the header text of `path`.
pub fn parse_header(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Header, RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
    let ini = Ini::parse(text);
    check_version(path, &ini, warnings)?;
    let (ascii, vectorized) = data_layout(path, &ini, warnings)?;
    let n_channels = channel_count(path, &ini)?;
    let rate_hz = sampling_rate(path, &ini)?;
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
        binary_infos(path, &ini)?
    };
    let ascii_infos = if ascii {
        ascii_infos(&ini, warnings)
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

/// Checks the identification line; warns of a version other than 1.0 or 2.0.
fn check_version(
    path: &Path,
    ini: &Ini<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
    if ini.first_line.is_empty() {
        return Err(invalid("header file is empty".into()));
    }
    let Some(version) = identification_version(ini.first_line, "header") else {
        return Err(invalid(format!(
            "not a BrainVision header: the first line is \"{}\", not \"Brain Vision Data Exchange Header File Version 1.0\"",
            printable_prefix(ini.first_line, 60)
        )));
    };
    if version != "1.0" && version != "2.0" {
        warnings.push(format!(
            "header declares version \"{}\"; read as version 1.0",
            printable_prefix(&version, 20)
        ));
    }
    Ok(())
}

/// Whether the data is ASCII (else binary) and vectorized (else
/// multiplexed); time-domain data only.
fn data_layout(
    path: &Path,
    ini: &Ini<'_>,
    warnings: &mut Vec<String>,
) -> Result<(bool, bool), RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
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
    Ok((ascii, vectorized))
}

/// `NumberOfChannels`: 1 to [`MAX_CHANNELS`].
fn channel_count(path: &Path, ini: &Ini<'_>) -> Result<usize, RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
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
    match usize::try_from(n_channels) {
        Ok(n) if n <= MAX_CHANNELS => Ok(n),
        _ => Err(invalid(format!(
            "NumberOfChannels {n_channels} is absurd (more than {MAX_CHANNELS})"
        ))),
    }
}

/// The sample rate in Hz, from `SamplingInterval` (µs, positive).
fn sampling_rate(path: &Path, ini: &Ini<'_>) -> Result<f64, RecordingError> {
    let invalid = |reason: String| RecordingError::invalid(path, reason);
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
    Ok(rate_hz)
}

/// `[Binary Infos]`: the sample type and whether it is big-endian.
fn binary_infos(
    path: &Path,
    ini: &Ini<'_>,
) -> Result<(Option<SampleFormat>, bool), RecordingError> {
    const BINARY: &str = "binary infos";
    let invalid = |reason: String| RecordingError::invalid(path, reason);
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
    Ok((Some(fmt), big_endian))
}

/// `[ASCII Infos]`; a count that is not a whole number is read as 0.
fn ascii_infos(ini: &Ini<'_>, warnings: &mut Vec<String>) -> AsciiInfos {
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
    // Every channel needs its line: check that before making room for
    // NumberOfChannels entries, so that a header claiming thousands of
    // channels in a few bytes is rejected without allocating for them.
    let mut numbers: Vec<u64> = lines
        .iter()
        .map(|&(number, _)| number)
        .filter(|&number| number >= 1 && number <= n_channels as u64)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    if numbers.len() < n_channels {
        let first = numbers
            .iter()
            .zip(1u64..)
            .find(|&(&number, expected)| number != expected)
            .map_or(numbers.len() as u64 + 1, |(_, expected)| expected);
        return Err(RecordingError::invalid(
            path,
            format!(
                "NumberOfChannels is {n_channels} but {} channel(s) have no Ch<n>= line in [Channel Infos] (the first: Ch{first})",
                n_channels - numbers.len()
            ),
        ));
    }
    drop(numbers);
    // n_channels <= MAX_CHANNELS and at most the number of lines.
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
    // Every slot is filled: each number in 1..=n_channels has a line (above).
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::MAX_CHANNELS;
    use crate::recording::brainvision::fixtures::{assert_invalid, pack, triple, vhdr};
    use crate::recording::{RecordingError, read_brainvision};

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
}
