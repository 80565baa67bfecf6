//! The samples of the data file: binary (`INT_16`, `UINT_16`, `INT_32`,
//! `IEEE_FLOAT_32`, `IEEE_FLOAT_64`, little- or big-endian) or ASCII, each
//! multiplexed or vectorized, decoded into physical values.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::header::Header;
use super::printable_prefix;
use super::sample_format::SampleFormat;
use crate::recording::RecordingError;

/// Size of the read buffer used while decoding binary data (bytes).
const CHUNK_BYTES: usize = 1 << 20;
/// Decoded samples: one vector per channel, all `n_samples` long.
pub struct Data {
    /// One vector of physical values per channel, in the header's order.
    pub samples: Vec<Vec<f32>>,
    /// Samples per channel.
    pub n_samples: usize,
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
pub fn out_of_memory(path: &Path, n: usize, capacity: usize) -> RecordingError {
    RecordingError::invalid(
        path,
        format!("not enough memory for {n} channels of {capacity} samples"),
    )
}

/// Reads binary data, checking the header's counts against the file length.
pub fn read_binary(
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
pub fn read_ascii(
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

#[cfg(test)]
mod tests {
    use crate::recording::brainvision::fixtures::{
        MARKERS, assert_invalid, pack, scaled, triple, vhdr,
    };
    use crate::recording::{Format, Segment, read_brainvision};

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
}
