//! WAV (RIFF/WAVE) audio: a reader that parses the RIFF layer itself, so that it
//! accepts everything the spec allows (odd-sized chunks with pad bytes,
//! `WAVE_FORMAT_EXTENSIBLE`, `fact` chunks, streaming writers' placeholder
//! sizes, RF64) and checks every size against the real file length, and a
//! deterministic writer built on `hound`.
//!
//! Samples are normalized to about -1..1: an integer sample is divided by
//! 2^(bits - 1) of its container (8-bit WAV is unsigned, offset 128), IEEE float
//! samples are kept as stored, and G.711 mu-law/A-law are decoded to the 16-bit
//! scale and divided by 32768.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::{Annotation, Channel, Format, Recording, RecordingError, Segment, write_atomic};

/// How [`write_wav`] stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavSampleFormat {
    /// 16-bit signed integer PCM (samples clamped to -1..1, scaled by 32768).
    Pcm16,
    /// 24-bit signed integer PCM (samples clamped to -1..1, scaled by 2^23).
    Pcm24,
    /// 32-bit IEEE float, samples stored as they are.
    Float32,
}

/// The largest metadata chunk (`cue `, `LIST`) read into memory, bytes.
const MAX_META_CHUNK: u64 = 16 << 20;
/// Bytes of sample data decoded at a time.
const READ_BLOCK: usize = 1 << 20;
/// Tail of the GUID of every `KSDATAFORMAT_SUBTYPE_*` derived from a format code.
const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// How one sample is stored in the data chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Unsigned 8-bit PCM, offset 128.
    Unsigned8,
    /// Signed little-endian PCM in a container of 2, 3 or 4 bytes.
    Signed(usize),
    /// 32-bit IEEE float.
    Float32,
    /// 64-bit IEEE float.
    Float64,
    /// G.711 mu-law, 8 bits.
    MuLaw,
    /// G.711 A-law, 8 bits.
    ALaw,
}

/// What the `fmt ` chunk says, checked.
#[derive(Debug, Clone, Copy)]
struct WavFormat {
    encoding: Encoding,
    channels: usize,
    rate_hz: u32,
    /// Bytes per frame (one sample of every channel).
    block_align: usize,
    /// Bytes per sample of one channel.
    container: usize,
}

/// A cue point: an id and a position in sample frames.
#[derive(Debug, Clone, Copy)]
struct Cue {
    id: u32,
    frame: u32,
}

/// Reads a WAV file into a [`Recording`]: one [`Channel`] per WAV channel,
/// labelled `ch1`, `ch2`, ..., with an empty unit, `rate_hz` the sample rate and
/// samples normalized to about -1..1 (integer / 2^(container bits - 1); 8-bit:
/// (byte - 128) / 128; float as stored). The physical range is -1..1 for
/// integer and G.711 data and the data's own min/max for float data. Cue points
/// with `labl`/`ltxt` texts become annotations.
///
/// Every size in the file is checked against the file's length; damaged files
/// give [`RecordingError::Invalid`], codecs Spindle does not decode (ADPCM, MP3,
/// ...) give [`RecordingError::Unsupported`]. A data chunk whose size is a
/// streaming writer's placeholder (0 or 0xFFFFFFFF) or larger than the file is
/// read to the end of the file, with a warning in [`Recording::warnings`].
pub fn read_wav(path: &Path) -> Result<Recording, RecordingError> {
    let mut warnings = Vec::new();
    let (mut src, layout) = open_chunks(path, &mut warnings)?;
    let fmt = layout.format;
    let (data_start, data_len) = layout.data;

    let channels = decode_data(path, &mut src, fmt, data_start, data_len, &mut warnings)?;
    let frames = channels.first().map_or(0, Vec::len);
    let rate_hz = f64::from(fmt.rate_hz);

    let is_float = matches!(fmt.encoding, Encoding::Float32 | Encoding::Float64);
    let mut non_finite = 0usize;
    let channels: Vec<Channel> = channels
        .into_iter()
        .enumerate()
        .map(|(i, samples)| {
            let (physical_min, physical_max) = if is_float {
                let (lo, hi, bad) = finite_range(&samples);
                non_finite += bad;
                if lo <= hi { (lo, hi) } else { (-1.0, 1.0) }
            } else {
                (-1.0, 1.0)
            };
            Channel {
                label: format!("ch{}", i + 1),
                unit: String::new(),
                rate_hz,
                physical_min,
                physical_max,
                transducer: String::new(),
                prefilter: String::new(),
                samples,
            }
        })
        .collect();
    if non_finite > 0 {
        warnings.push(format!(
            "{non_finite} float samples are NaN or infinite; kept as stored"
        ));
    }

    let annotations = cue_annotations(&layout, rate_hz);
    Ok(Recording {
        path: path.to_path_buf(),
        format: Format::Wav,
        patient: String::new(),
        recording_id: String::new(),
        start: None,
        channels,
        annotations,
        segments: vec![Segment {
            onset_s: 0.0,
            duration_s: frames as f64 / rate_hz,
        }],
        warnings,
    })
}

/// The facts [`read_wav`] would give without decoding a sample: channels,
/// rate (Hz), whole frames and the cue annotations.
pub(super) fn read_wav_summary(
    path: &Path,
) -> Result<(usize, f64, u64, Vec<Annotation>), RecordingError> {
    let mut warnings = Vec::new();
    let (_, layout) = open_chunks(path, &mut warnings)?;
    let fmt = layout.format;
    let rate_hz = f64::from(fmt.rate_hz);
    let frames = layout.data.1 / fmt.block_align.max(1) as u64;
    Ok((
        fmt.channels,
        rate_hz,
        frames,
        cue_annotations(&layout, rate_hz),
    ))
}

/// Opens `path` and walks its RIFF chunks: the reader, positioned after
/// them, and where the parts are.
fn open_chunks(
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<(Source, Layout), RecordingError> {
    let file = File::open(path).map_err(|e| RecordingError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    let mut src = Source {
        reader: BufReader::with_capacity(64 << 10, file),
        pos: 0,
        len,
    };
    let layout = scan_chunks(path, &mut src, warnings)?;
    Ok((src, layout))
}

/// Writes `channels` (equal lengths, samples in -1..1) as a WAV file at
/// `rate_hz` samples per second, through `hound`.
///
/// PCM samples are clamped to -1..1, scaled by 2^(bits - 1), rounded to the
/// nearest integer and clamped to the integer range (NaN becomes 0), so that
/// reading with [`read_wav`] and writing again gives the same bytes. Float
/// samples are stored as they are. The output is the same bytes for the same
/// input. The file is written atomically with [`write_atomic`] (temporary
/// file, fsync, rename).
pub fn write_wav(
    path: &Path,
    rate_hz: u32,
    channels: &[Vec<f32>],
    format: WavSampleFormat,
) -> Result<(), RecordingError> {
    let Some(first) = channels.first() else {
        return Err(RecordingError::invalid(path, "no channels to write"));
    };
    let Ok(channel_count) = u16::try_from(channels.len()) else {
        return Err(RecordingError::invalid(
            path,
            format!(
                "{} channels are more than WAV can hold (65535)",
                channels.len()
            ),
        ));
    };
    if rate_hz == 0 {
        return Err(RecordingError::invalid(
            path,
            "sample rate of 0 Hz cannot be written",
        ));
    }
    let frames = first.len();
    if let Some((i, ch)) = channels
        .iter()
        .enumerate()
        .find(|(_, ch)| ch.len() != frames)
    {
        return Err(RecordingError::invalid(
            path,
            format!(
                "channel {} has {} samples but channel 1 has {frames}; WAV channels must have equal lengths",
                i + 1,
                ch.len()
            ),
        ));
    }
    let (bits, sample_format) = match format {
        WavSampleFormat::Pcm16 => (16u16, hound::SampleFormat::Int),
        WavSampleFormat::Pcm24 => (24, hound::SampleFormat::Int),
        WavSampleFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let data_bytes = frames as u64 * u64::from(channel_count) * u64::from(bits / 8);
    // hound's header (at most 68 bytes) and the RIFF size field must fit in u32.
    if data_bytes > u64::from(u32::MAX) - 128 {
        return Err(RecordingError::invalid(
            path,
            format!("{data_bytes} bytes of samples are more than a WAV file can hold (4 GiB)"),
        ));
    }
    let spec = hound::WavSpec {
        channels: channel_count,
        sample_rate: rate_hz,
        bits_per_sample: bits,
        sample_format,
    };

    let bytes = encode(path, spec, channels, format)?;
    write_atomic(path, &bytes)
}

/// The whole file's bytes, written by hound; errors name `path`.
fn encode(
    path: &Path,
    spec: hound::WavSpec,
    channels: &[Vec<f32>],
    format: WavSampleFormat,
) -> Result<Vec<u8>, RecordingError> {
    let hound_err = |e: hound::Error| match e {
        hound::Error::IoError(e) => RecordingError::io(path, e),
        other => RecordingError::invalid(path, format!("WAV writer: {other}")),
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).map_err(hound_err)?;
    let frames = channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        for ch in channels {
            let x = ch[i];
            match format {
                WavSampleFormat::Pcm16 => writer.write_sample(quantize(x, 16) as i16),
                WavSampleFormat::Pcm24 => writer.write_sample(quantize(x, 24)),
                WavSampleFormat::Float32 => writer.write_sample(x),
            }
            .map_err(hound_err)?;
        }
    }
    writer.finalize().map_err(hound_err)?;
    Ok(out.into_inner())
}

/// `x` clamped to -1..1, scaled by 2^(bits - 1), rounded and clamped to the
/// signed `bits`-bit range; NaN gives 0.
fn quantize(x: f32, bits: u32) -> i32 {
    if x.is_nan() {
        return 0;
    }
    let scale = (1i64 << (bits - 1)) as f64;
    let v = (f64::from(x).clamp(-1.0, 1.0) * scale).round();
    v.clamp(-scale, scale - 1.0) as i32
}

/// The smallest and largest finite value of `samples`, and how many are not
/// finite. `(inf, -inf, n)` when none is finite.
fn finite_range(samples: &[f32]) -> (f64, f64, usize) {
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    let mut bad = 0;
    for &x in samples {
        if x.is_finite() {
            lo = lo.min(x);
            hi = hi.max(x);
        } else {
            bad += 1;
        }
    }
    (f64::from(lo), f64::from(hi), bad)
}

/// A buffered file with a known length and position, for walking chunks.
struct Source {
    reader: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Source {
    /// Moves to byte `offset`, keeping the buffer where possible.
    fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        let delta = i64::try_from(offset)
            .ok()
            .zip(i64::try_from(self.pos).ok())
            .map(|(a, b)| a - b)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        self.reader.seek_relative(delta)?;
        self.pos = offset;
        Ok(())
    }

    /// Fills `buf` from byte `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.seek_to(offset)?;
        self.reader.read_exact(buf)?;
        self.pos = offset + buf.len() as u64;
        Ok(())
    }

    /// The 8-byte chunk header at `offset` (id, size), or `None` past the end.
    fn chunk_header(&mut self, offset: u64) -> io::Result<Option<([u8; 4], u32)>> {
        if offset.saturating_add(8) > self.len {
            return Ok(None);
        }
        let mut h = [0u8; 8];
        self.read_at(offset, &mut h)?;
        Ok(Some(([h[0], h[1], h[2], h[3]], le_u32(&h, 4))))
    }
}

/// Where the parts of a WAV file are.
struct Layout {
    format: WavFormat,
    /// Start and length of the sample data, bytes, within the file.
    data: (u64, u64),
    cues: Vec<Cue>,
    /// Cue id -> label text (`labl`, else `note`).
    labels: HashMap<u32, String>,
    /// Cue id -> region length in frames (`ltxt`).
    lengths: HashMap<u32, u32>,
}

/// Walks the RIFF chunks, checks the `fmt ` chunk and finds the data.
fn scan_chunks(
    path: &Path,
    src: &mut Source,
    warnings: &mut Vec<String>,
) -> Result<Layout, RecordingError> {
    let io_err = |e| RecordingError::io(path, e);
    let len = src.len;
    if len < 12 {
        return Err(RecordingError::invalid(
            path,
            format!("file is {len} bytes, too short for a WAV header (12 bytes)"),
        ));
    }
    let mut head = [0u8; 12];
    src.read_at(0, &mut head).map_err(io_err)?;
    let is_rf64 = match &head[0..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        b"RIFX" | b"FFIR" => {
            return Err(RecordingError::unsupported(
                path,
                "big-endian RIFX WAV files are not read",
            ));
        }
        _ if head.starts_with(b"0       ") => {
            return Err(RecordingError::invalid(
                path,
                "not a WAV file: it starts like an EDF file (\"0       \"), not with RIFF",
            ));
        }
        other => {
            return Err(RecordingError::invalid(
                path,
                format!(
                    "not a WAV file: it starts with \"{}\", not with RIFF",
                    other.escape_ascii()
                ),
            ));
        }
    };
    if &head[8..12] != b"WAVE" {
        return Err(RecordingError::invalid(
            path,
            format!(
                "not a WAV file: a RIFF file of type \"{}\", not WAVE",
                head[8..12].escape_ascii()
            ),
        ));
    }

    let mut format: Option<WavFormat> = None;
    let mut data: Option<(u64, u64)> = None;
    let mut ds64_data: Option<u64> = None;
    let mut cues = Vec::new();
    let mut labels = HashMap::new();
    let mut lengths = HashMap::new();

    let mut off = 12u64;
    loop {
        let Some((id, size)) = src.chunk_header(off).map_err(io_err)? else {
            let rest = len.saturating_sub(off);
            if rest > 1 && data.is_some() {
                warnings.push(format!(
                    "ignored {rest} trailing bytes at byte {off}, too few for a chunk"
                ));
            }
            break;
        };
        if !is_fourcc(&id) {
            if data.is_some() {
                warnings.push(format!(
                    "ignored {} bytes of unreadable data after the chunks, from byte {off}",
                    len - off
                ));
                break;
            }
            return Err(RecordingError::invalid(
                path,
                format!(
                    "damaged chunk header at byte {off} (id \"{}\") before the data",
                    id.escape_ascii()
                ),
            ));
        }
        let body = off + 8;
        let remaining = len - body;
        let name = id.escape_ascii().to_string();

        if &id == b"data" {
            let (data_len, to_eof) =
                data_extent(src, body, size, ds64_data, warnings).map_err(io_err)?;
            if data.is_some() {
                warnings.push(format!("ignored a second data chunk at byte {off}"));
            } else {
                data = Some((body, data_len));
            }
            if to_eof {
                break;
            }
            off = next_chunk(src, body, data_len, &name, warnings).map_err(io_err)?;
            continue;
        }

        let size = u64::from(size);
        if size > remaining {
            if &id == b"fmt " || data.is_none() {
                return Err(RecordingError::invalid(
                    path,
                    format!(
                        "chunk \"{name}\" at byte {off} claims {size} bytes but the file holds only {remaining} more (truncated or damaged)"
                    ),
                ));
            }
            warnings.push(format!(
                "chunk \"{name}\" at byte {off} claims {size} bytes but the file holds only {remaining} more; ignored"
            ));
            break;
        }
        match &id {
            b"fmt " => {
                if format.is_some() {
                    warnings.push(format!("ignored a second fmt chunk at byte {off}"));
                } else {
                    // Only the first 40 bytes (WAVE_FORMAT_EXTENSIBLE) matter.
                    let mut buf = vec![0u8; size.min(40) as usize];
                    src.read_at(body, &mut buf).map_err(io_err)?;
                    format = Some(parse_fmt(path, &buf, warnings)?);
                }
            }
            b"ds64" if is_rf64 => {
                if size >= 24 {
                    let mut buf = [0u8; 24];
                    src.read_at(body, &mut buf).map_err(io_err)?;
                    ds64_data = Some(le_u64(&buf, 8));
                } else {
                    warnings.push(format!("ignored a ds64 chunk of only {size} bytes"));
                }
            }
            b"cue " | b"LIST" => {
                if size > MAX_META_CHUNK {
                    warnings.push(format!(
                        "ignored a {size}-byte \"{name}\" chunk (metadata larger than {MAX_META_CHUNK} bytes)"
                    ));
                } else {
                    let mut buf = vec![0u8; size as usize];
                    src.read_at(body, &mut buf).map_err(io_err)?;
                    if &id == b"cue " {
                        parse_cue(&buf, &mut cues, warnings);
                    } else {
                        parse_list(&buf, &mut labels, &mut lengths);
                    }
                }
            }
            _ => {}
        }
        off = next_chunk(src, body, size, &name, warnings).map_err(io_err)?;
    }

    // Cue ids are unique; a repeated one would repeat its label's text once
    // per repetition (a short file could ask for gigabytes of copies).
    let mut seen = HashSet::new();
    let before = cues.len();
    cues.retain(|c| seen.insert(c.id));
    if cues.len() < before {
        warnings.push(format!(
            "ignored {} cue point(s) repeating the id of an earlier one",
            before - cues.len()
        ));
    }
    drop(seen);

    let Some(format) = format else {
        return Err(RecordingError::invalid(
            path,
            "no fmt chunk: the file does not say how its samples are stored",
        ));
    };
    let Some(data) = data else {
        return Err(RecordingError::invalid(
            path,
            "no data chunk: the file holds no samples",
        ));
    };
    Ok(Layout {
        format,
        data,
        cues,
        labels,
        lengths,
    })
}

/// The length of a data chunk whose body starts at `body` and whose header
/// says `size`, and whether it runs to the end of the file (no chunks after).
fn data_extent(
    src: &mut Source,
    body: u64,
    size: u32,
    ds64_data: Option<u64>,
    warnings: &mut Vec<String>,
) -> io::Result<(u64, bool)> {
    let remaining = src.len - body;
    if size == u32::MAX
        && let Some(real) = ds64_data
    {
        if real > remaining {
            warnings.push(format!(
                "the ds64 chunk gives {real} bytes of data but the file holds {remaining}; read what is present"
            ));
            return Ok((remaining, true));
        }
        return Ok((real, false));
    }
    if size == u32::MAX || (size == 0 && remaining > 0 && !chunks_tile(src, body)?) {
        warnings.push(format!(
            "data chunk size is {size:#X}, a streaming writer's placeholder; read the {remaining} bytes to the end of the file"
        ));
        return Ok((remaining, true));
    }
    let size = u64::from(size);
    if size > remaining {
        warnings.push(format!(
            "data chunk claims {size} bytes but the file holds only {remaining}; read what is present (the file is probably truncated)"
        ));
        return Ok((remaining, true));
    }
    Ok((size, false))
}

/// True when the bytes from `start` to the end of the file are a clean run of
/// chunks (printable ids, sizes that end exactly at the end of the file), i.e.
/// what follows an empty data chunk is metadata, not a stream's samples.
fn chunks_tile(src: &mut Source, start: u64) -> io::Result<bool> {
    let mut off = start;
    for _ in 0..64 {
        if off == src.len || (off + 1 == src.len && off > start) {
            return Ok(true);
        }
        let Some((id, size)) = src.chunk_header(off)? else {
            return Ok(false);
        };
        if !is_fourcc(&id) {
            return Ok(false);
        }
        off = off + 8 + u64::from(size) + u64::from(size & 1);
        if off > src.len + 1 {
            return Ok(false);
        }
    }
    Ok(false)
}

/// The offset of the chunk after one of `size` bytes starting at `body`: after
/// the pad byte when `size` is odd, unless the writer left the pad byte out
/// (the padded position holds no chunk id but the unpadded one does).
fn next_chunk(
    src: &mut Source,
    body: u64,
    size: u64,
    name: &str,
    warnings: &mut Vec<String>,
) -> io::Result<u64> {
    let unpadded = body + size;
    if size.is_multiple_of(2) {
        return Ok(unpadded);
    }
    let padded = unpadded + 1;
    let padded_ok = src
        .chunk_header(padded)?
        .is_some_and(|(id, _)| is_fourcc(&id));
    if !padded_ok
        && src
            .chunk_header(unpadded)?
            .is_some_and(|(id, _)| is_fourcc(&id))
    {
        warnings.push(format!(
            "chunk \"{name}\" has an odd size ({size} bytes) but no pad byte after it"
        ));
        return Ok(unpadded);
    }
    Ok(padded)
}

/// True for a chunk id of four printable ASCII characters.
fn is_fourcc(id: &[u8; 4]) -> bool {
    id.iter().all(|b| (0x20..=0x7E).contains(b))
}

/// Checks the first (up to 40) bytes of a `fmt ` chunk.
fn parse_fmt(
    path: &Path,
    b: &[u8],
    warnings: &mut Vec<String>,
) -> Result<WavFormat, RecordingError> {
    if b.len() < 16 {
        return Err(RecordingError::invalid(
            path,
            format!(
                "fmt chunk is {} bytes, shorter than the 16 a WAV format needs",
                b.len()
            ),
        ));
    }
    let tag = le_u16(b, 0);
    let channels = usize::from(le_u16(b, 2));
    let rate_hz = le_u32(b, 4);
    let byte_rate = le_u32(b, 8);
    let block_align = usize::from(le_u16(b, 12));
    let bits = le_u16(b, 14);

    if channels == 0 {
        return Err(RecordingError::invalid(
            path,
            "header says the file has 0 channels",
        ));
    }
    if rate_hz == 0 {
        return Err(RecordingError::invalid(
            path,
            "header says the sample rate is 0 Hz",
        ));
    }
    let code = if tag == 0xFFFE {
        if b.len() < 40 {
            return Err(RecordingError::invalid(
                path,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, shorter than the 40 it needs",
                    b.len()
                ),
            ));
        }
        let valid_bits = le_u16(b, 18);
        if valid_bits > bits {
            warnings.push(format!(
                "header says {valid_bits} valid bits in a {bits}-bit sample; read as {bits}-bit"
            ));
        }
        let guid = &b[24..40];
        if guid[2..] != GUID_TAIL {
            return Err(RecordingError::unsupported(
                path,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE with sub-format {}",
                    guid.iter().map(|x| format!("{x:02X}")).collect::<String>()
                ),
            ));
        }
        le_u16(guid, 0)
    } else {
        tag
    };

    let container = usize::from(bits).div_ceil(8);
    let encoding = match code {
        1 => match container {
            0 => {
                return Err(RecordingError::invalid(
                    path,
                    "header says 0 bits per sample",
                ));
            }
            1 => Encoding::Unsigned8,
            2..=4 => Encoding::Signed(container),
            _ => {
                return Err(RecordingError::unsupported(
                    path,
                    format!("{bits}-bit integer PCM"),
                ));
            }
        },
        3 => match bits {
            32 => Encoding::Float32,
            64 => Encoding::Float64,
            _ => {
                return Err(RecordingError::invalid(
                    path,
                    format!("{bits}-bit IEEE float samples (only 32 and 64 exist)"),
                ));
            }
        },
        6 | 7 if bits == 8 => {
            if code == 6 {
                Encoding::ALaw
            } else {
                Encoding::MuLaw
            }
        }
        6 | 7 => {
            return Err(RecordingError::unsupported(
                path,
                format!("{bits}-bit G.711 samples (only 8-bit exist)"),
            ));
        }
        other => {
            return Err(RecordingError::unsupported(
                path,
                format!("{} audio (format code {other:#06X})", codec_name(other)),
            ));
        }
    };
    if block_align != channels * container {
        return Err(RecordingError::invalid(
            path,
            format!(
                "header says {block_align} bytes per frame but {channels} channels of {bits}-bit samples take {}",
                channels * container
            ),
        ));
    }
    if u64::from(byte_rate) != u64::from(rate_hz) * block_align as u64 {
        warnings.push(format!(
            "header says {byte_rate} bytes per second but {rate_hz} Hz x {block_align} bytes per frame is {}; ignored",
            u64::from(rate_hz) * block_align as u64
        ));
    }
    Ok(WavFormat {
        encoding,
        channels,
        rate_hz,
        block_align,
        container,
    })
}

/// A name for a WAV format code Spindle does not decode.
fn codec_name(code: u16) -> &'static str {
    match code {
        0x0002 => "Microsoft ADPCM",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MP3",
        0x0160..=0x0163 => "Windows Media Audio",
        0x2000 => "AC-3",
        _ => "compressed or unknown",
    }
}

/// Reads cue points from a `cue ` chunk body.
fn parse_cue(b: &[u8], cues: &mut Vec<Cue>, warnings: &mut Vec<String>) {
    if b.len() < 4 {
        warnings.push("ignored a cue chunk too short for its count".to_string());
        return;
    }
    let count = le_u32(b, 0) as usize;
    let room = (b.len() - 4) / 24;
    if count > room {
        warnings.push(format!(
            "cue chunk claims {count} cue points but holds {room}; read {room}"
        ));
    }
    for p in b[4..].chunks_exact(24).take(count.min(room)) {
        cues.push(Cue {
            id: le_u32(p, 0),
            frame: le_u32(p, 20),
        });
    }
}

/// Reads `labl`, `note` and `ltxt` entries from a `LIST` chunk of type `adtl`.
fn parse_list(b: &[u8], labels: &mut HashMap<u32, String>, lengths: &mut HashMap<u32, u32>) {
    if b.len() < 4 || &b[0..4] != b"adtl" {
        return;
    }
    let mut off = 4usize;
    while off + 8 <= b.len() {
        let id = &b[off..off + 4];
        let size = le_u32(b, off + 4) as usize;
        let start = off + 8;
        let end = start.saturating_add(size).min(b.len());
        let body = &b[start..end];
        match id {
            b"labl" | b"note" if body.len() >= 4 => {
                let text = cstr(&body[4..]);
                let cue = le_u32(body, 0);
                if id == b"labl" || !labels.contains_key(&cue) {
                    labels.insert(cue, text);
                }
            }
            b"ltxt" if body.len() >= 8 => {
                lengths.insert(le_u32(body, 0), le_u32(body, 4));
            }
            _ => {}
        }
        off = start.saturating_add(size).saturating_add(size & 1);
    }
}

/// Text up to the first NUL, lossy UTF-8, trimmed.
fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

/// Cue points as annotations, sorted by onset then text.
fn cue_annotations(layout: &Layout, rate_hz: f64) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = layout
        .cues
        .iter()
        .map(|cue| Annotation {
            onset_s: f64::from(cue.frame) / rate_hz,
            duration_s: layout
                .lengths
                .get(&cue.id)
                .filter(|&&n| n > 0)
                .map(|&n| f64::from(n) / rate_hz),
            text: layout
                .labels
                .get(&cue.id)
                .cloned()
                .unwrap_or_else(|| format!("cue {}", cue.id)),
        })
        .collect();
    out.sort_by(|a, b| {
        a.onset_s
            .total_cmp(&b.onset_s)
            .then_with(|| a.text.cmp(&b.text))
    });
    out
}

/// Decodes `len` bytes of sample data from `start` into one vector per channel,
/// a block at a time (never a second copy of the file in memory).
fn decode_data(
    path: &Path,
    src: &mut Source,
    fmt: WavFormat,
    start: u64,
    len: u64,
    warnings: &mut Vec<String>,
) -> Result<Vec<Vec<f32>>, RecordingError> {
    let ba = fmt.block_align;
    let frames = len / ba as u64;
    let partial = len % ba as u64;
    if partial != 0 {
        warnings.push(format!(
            "data ends with a partial frame of {partial} bytes ({ba} bytes per frame); ignored"
        ));
    }
    let out_of_memory = || {
        RecordingError::io(
            path,
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("cannot hold {frames} samples of {} channels", fmt.channels),
            ),
        )
    };
    let frames_usize = usize::try_from(frames).map_err(|_| out_of_memory())?;
    let mut out = Vec::new();
    out.try_reserve_exact(fmt.channels)
        .map_err(|_| out_of_memory())?;
    for _ in 0..fmt.channels {
        let mut v: Vec<f32> = Vec::new();
        v.try_reserve_exact(frames_usize)
            .map_err(|_| out_of_memory())?;
        out.push(v);
    }

    src.seek_to(start)
        .map_err(|e| RecordingError::io(path, e))?;
    // The buffer is never larger than the data: a short file gets a short one.
    let frames_per_block = (READ_BLOCK / ba).clamp(1, frames_usize.max(1));
    let mut buf = vec![0u8; frames_per_block * ba];
    let mut left = frames_usize;
    while left > 0 {
        let n = left.min(frames_per_block);
        let block = &mut buf[..n * ba];
        src.reader
            .read_exact(block)
            .map_err(|e| RecordingError::io(path, e))?;
        src.pos += block.len() as u64;
        decode_block(block, fmt, &mut out);
        left -= n;
    }
    Ok(out)
}

/// Decodes whole frames of `block` and appends each channel's samples.
fn decode_block(block: &[u8], fmt: WavFormat, out: &mut [Vec<f32>]) {
    let c = fmt.container;
    match fmt.encoding {
        Encoding::Unsigned8 => push_frames(block, c, out, |b| (f32::from(b[0]) - 128.0) / 128.0),
        Encoding::Signed(2) => push_frames(block, c, out, |b| {
            f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0
        }),
        Encoding::Signed(3) => push_frames(block, c, out, |b| {
            (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
        }),
        Encoding::Signed(_) => push_frames(block, c, out, |b| {
            (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
        }),
        Encoding::Float32 => push_frames(block, c, out, |b| {
            f32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }),
        Encoding::Float64 => push_frames(block, c, out, |b| {
            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }),
        Encoding::MuLaw => {
            let table: [f32; 256] =
                std::array::from_fn(|i| f32::from(mulaw_to_i16(i as u8)) / 32768.0);
            push_frames(block, c, out, |b| table[usize::from(b[0])]);
        }
        Encoding::ALaw => {
            let table: [f32; 256] =
                std::array::from_fn(|i| f32::from(alaw_to_i16(i as u8)) / 32768.0);
            push_frames(block, c, out, |b| table[usize::from(b[0])]);
        }
    }
}

/// Splits `block` into frames of `out.len()` samples of `container` bytes and
/// appends `decode(sample bytes)` to each channel.
#[inline]
fn push_frames(
    block: &[u8],
    container: usize,
    out: &mut [Vec<f32>],
    decode: impl Fn(&[u8]) -> f32,
) {
    if let [only] = out {
        only.extend(block.chunks_exact(container).map(decode));
        return;
    }
    for frame in block.chunks_exact(container * out.len()) {
        for (ch, s) in out.iter_mut().zip(frame.chunks_exact(container)) {
            ch.push(decode(s));
        }
    }
}

/// G.711 mu-law byte to a 16-bit linear sample (range -32124..32124).
fn mulaw_to_i16(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i16::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 { -magnitude } else { magnitude }
}

/// G.711 A-law byte to a 16-bit linear sample (range -32256..32256).
fn alaw_to_i16(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i16::from(a & 0x0F);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    if a & 0x80 != 0 { magnitude } else { -magnitude }
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `fmt ` chunk body of 16 bytes.
    fn fmt16(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        b.extend_from_slice(&block_align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    /// A `WAVE_FORMAT_EXTENSIBLE` `fmt ` body (40 bytes) with sub-format `code`.
    fn fmt_ext(code: u16, channels: u16, rate: u32, bits: u16, valid: u16, mask: u32) -> Vec<u8> {
        let block_align = channels * bits.div_ceil(8);
        let mut b = fmt16(0xFFFE, channels, rate, block_align, bits);
        b.extend_from_slice(&22u16.to_le_bytes());
        b.extend_from_slice(&valid.to_le_bytes());
        b.extend_from_slice(&mask.to_le_bytes());
        b.extend_from_slice(&code.to_le_bytes());
        b.extend_from_slice(&GUID_TAIL);
        b
    }

    /// A chunk with its header, padded to even length.
    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = id.to_vec();
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(body);
        if body.len() % 2 == 1 {
            b.push(0);
        }
        b
    }

    /// A RIFF/WAVE file of the given chunks, with a correct RIFF size.
    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        b.extend_from_slice(b"WAVE");
        b.extend_from_slice(&body);
        b
    }

    /// Writes `bytes` to a file in a fresh temporary folder and reads it.
    fn read_bytes(bytes: &[u8]) -> Result<Recording, RecordingError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        std::fs::write(&path, bytes).unwrap();
        read_wav(&path)
    }

    fn samples(rec: &Recording, ch: usize) -> &[f32] {
        &rec.channels[ch].samples
    }

    fn i16s(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn pcm16_mono(data: &[i16]) -> Vec<u8> {
        riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            chunk(b"data", &i16s(data)),
        ])
    }

    // ---- writer round trips -------------------------------------------------

    fn round_trip(format: WavSampleFormat, channels: &[Vec<f32>]) -> Recording {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rt.wav");
        write_wav(&path, 16000, channels, format).unwrap();
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let rec = read_wav(&path).unwrap();
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        assert_eq!(rec.format, Format::Wav);
        assert_eq!(rec.channels.len(), channels.len());
        for (i, ch) in rec.channels.iter().enumerate() {
            assert_eq!(ch.label, format!("ch{}", i + 1));
            assert_eq!(ch.unit, "");
            assert_eq!(ch.rate_hz, 16000.0);
            assert_eq!(ch.samples.len(), channels[i].len());
        }
        assert_eq!(rec.segments.len(), 1);
        assert_eq!(rec.segments[0].onset_s, 0.0);
        assert!((rec.duration_s() - channels[0].len() as f64 / 16000.0).abs() < 1e-12);
        rec
    }

    #[test]
    fn round_trip_pcm16_is_exact_on_the_grid() {
        let ch: Vec<f32> = (-32768..32768)
            .step_by(7)
            .map(|k| k as f32 / 32768.0)
            .collect();
        let rec = round_trip(WavSampleFormat::Pcm16, std::slice::from_ref(&ch));
        assert_eq!(samples(&rec, 0), &ch[..]);
        assert_eq!(
            (rec.channels[0].physical_min, rec.channels[0].physical_max),
            (-1.0, 1.0)
        );
    }

    #[test]
    fn round_trip_pcm24_is_exact_on_the_grid() {
        let ch: Vec<f32> = (-8_388_608..8_388_608)
            .step_by(997)
            .map(|k| k as f32 / 8_388_608.0)
            .collect();
        let rec = round_trip(WavSampleFormat::Pcm24, std::slice::from_ref(&ch));
        assert_eq!(samples(&rec, 0), &ch[..]);
    }

    #[test]
    fn round_trip_float32_keeps_values_and_range() {
        let ch = vec![0.1f32, -2.5, 3.75, 1e-7, 0.0, -0.0];
        let rec = round_trip(WavSampleFormat::Float32, std::slice::from_ref(&ch));
        assert_eq!(samples(&rec, 0), &ch[..]);
        assert_eq!(rec.channels[0].physical_min, -2.5);
        assert_eq!(rec.channels[0].physical_max, 3.75);
    }

    #[test]
    fn round_trip_multichannel_every_format() {
        let n = 1000;
        let channels: Vec<Vec<f32>> = (0..5)
            .map(|c| {
                (0..n)
                    .map(|i| (((i * (c + 3)) % 200) as f32 - 100.0) / 128.0)
                    .collect()
            })
            .collect();
        for format in [
            WavSampleFormat::Pcm16,
            WavSampleFormat::Pcm24,
            WavSampleFormat::Float32,
        ] {
            for count in [1, 2, 3, 5] {
                let rec = round_trip(format, &channels[..count]);
                for (c, want) in channels[..count].iter().enumerate() {
                    assert_eq!(samples(&rec, c), &want[..], "{format:?} {count} ch{c}");
                }
            }
        }
    }

    #[test]
    fn writer_clamps_rounds_and_zeroes_nan() {
        let ch = vec![
            1.0f32,
            1.5,
            -1.0,
            -7.0,
            f32::NAN,
            0.4 / 32768.0,
            0.6 / 32768.0,
            -0.6 / 32768.0,
        ];
        let rec = round_trip(WavSampleFormat::Pcm16, &[ch]);
        let want = [
            32767.0 / 32768.0,
            32767.0 / 32768.0,
            -1.0,
            -1.0,
            0.0,
            0.0,
            1.0 / 32768.0,
            -1.0 / 32768.0,
        ];
        assert_eq!(samples(&rec, 0), &want[..]);
        assert_eq!(quantize(1.0, 24), 8_388_607);
        assert_eq!(quantize(-1.0, 24), -8_388_608);
        assert_eq!(quantize(0.5, 24), 4_194_304);
    }

    #[test]
    fn writer_is_deterministic_and_canonical() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.wav");
        let b = dir.path().join("b.wav");
        let ch = vec![vec![0.0f32, 0.5, -0.5]];
        write_wav(&a, 8000, &ch, WavSampleFormat::Pcm16).unwrap();
        write_wav(&b, 8000, &ch, WavSampleFormat::Pcm16).unwrap();
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(bytes, std::fs::read(&b).unwrap());
        // The canonical 44-byte header followed by the samples.
        let want = pcm16_mono(&[0, 16384, -16384]);
        assert_eq!(bytes, want);
        // Overwriting an existing file works and leaves no temporary file.
        write_wav(&a, 8000, &[vec![0.25f32]], WavSampleFormat::Float32).unwrap();
        assert_eq!(samples(&read_wav(&a).unwrap(), 0), &[0.25]);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn writer_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.wav");
        let e = write_wav(&p, 8000, &[], WavSampleFormat::Pcm16).unwrap_err();
        assert!(e.to_string().contains("no channels"), "{e}");
        let e = write_wav(&p, 0, &[vec![0.0]], WavSampleFormat::Pcm16).unwrap_err();
        assert!(e.to_string().contains("0 Hz"), "{e}");
        let e = write_wav(
            &p,
            8000,
            &[vec![0.0; 3], vec![0.0; 2]],
            WavSampleFormat::Pcm24,
        )
        .unwrap_err();
        assert!(e.to_string().contains("channel 2 has 2 samples"), "{e}");
        let e = write_wav(
            &dir.path().join("no/such/dir/x.wav"),
            8000,
            &[vec![0.0]],
            WavSampleFormat::Pcm16,
        )
        .unwrap_err();
        assert!(matches!(e, RecordingError::Io { .. }), "{e}");
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn empty_channels_round_trip() {
        let rec = round_trip(WavSampleFormat::Pcm16, &[vec![], vec![]]);
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(rec.duration_s(), 0.0);
    }

    // ---- normalization ------------------------------------------------------

    #[test]
    fn normalizes_8_bit_unsigned() {
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 1, 8)),
            chunk(b"data", &[0, 128, 255, 64]),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[-1.0, 0.0, 127.0 / 128.0, -0.5]);
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    }

    #[test]
    fn normalizes_16_bit() {
        let rec = read_bytes(&pcm16_mono(&[-32768, 0, 16384, 32767, -1])).unwrap();
        assert_eq!(
            samples(&rec, 0),
            &[-1.0, 0.0, 0.5, 32767.0 / 32768.0, -1.0 / 32768.0]
        );
    }

    #[test]
    fn normalizes_24_bit() {
        let vals: [i32; 4] = [-8_388_608, 4_194_304, 8_388_607, -1];
        let data: Vec<u8> = vals
            .iter()
            .flat_map(|v| v.to_le_bytes()[..3].to_vec())
            .collect();
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 44100, 3, 24)),
            chunk(b"data", &data),
        ]))
        .unwrap();
        assert_eq!(
            samples(&rec, 0),
            &[-1.0, 0.5, 8_388_607.0 / 8_388_608.0, -1.0 / 8_388_608.0]
        );
    }

    #[test]
    fn normalizes_32_bit() {
        let vals: [i32; 4] = [i32::MIN, 1 << 30, -(1 << 29), 256];
        let data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 48000, 4, 32)),
            chunk(b"data", &data),
        ]))
        .unwrap();
        assert_eq!(
            samples(&rec, 0),
            &[-1.0, 0.5, -0.25, 256.0 / 2_147_483_648.0]
        );
    }

    #[test]
    fn bits_not_a_multiple_of_8_use_the_container() {
        // 12-bit samples, left-justified in 16-bit containers.
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 12)),
            chunk(b"data", &i16s(&[0x7FF0, -0x8000, 0x10])),
        ]))
        .unwrap();
        assert_eq!(
            samples(&rec, 0),
            &[0x7FF0 as f32 / 32768.0, -1.0, 16.0 / 32768.0]
        );
        // 20 valid bits in 24-bit containers (extensible).
        let data: Vec<u8> = [0x40_0000i32, -0x80_0000]
            .iter()
            .flat_map(|v| v.to_le_bytes()[..3].to_vec())
            .collect();
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt_ext(1, 1, 8000, 24, 20, 4)),
            chunk(b"data", &data),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[0.5, -1.0]);
        // 20 bits in a legacy header: 3-byte container.
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 3, 20)),
            chunk(b"data", &data),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[0.5, -1.0]);
    }

    #[test]
    fn float_32_and_64_as_stored() {
        let data: Vec<u8> = [0.25f32, -3.5, 1e-3]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(3, 1, 8000, 4, 32)),
            chunk(b"data", &data),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[0.25, -3.5, 1e-3]);
        assert_eq!(
            (rec.channels[0].physical_min, rec.channels[0].physical_max),
            (-3.5, 0.25)
        );

        let data: Vec<u8> = [0.1f64, -0.75, 2.0, f64::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(3, 2, 8000, 16, 64)),
            chunk(b"data", &data),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[0.1f32, 2.0]);
        assert_eq!(samples(&rec, 1)[0], -0.75);
        assert!(samples(&rec, 1)[1].is_nan());
        assert_eq!(
            (rec.channels[1].physical_min, rec.channels[1].physical_max),
            (-0.75, -0.75)
        );
        assert!(
            rec.warnings.iter().any(|w| w.contains("NaN")),
            "{:?}",
            rec.warnings
        );
    }

    #[test]
    fn decodes_g711() {
        assert_eq!(mulaw_to_i16(0xFF), 0);
        assert_eq!(mulaw_to_i16(0x00), -32124);
        assert_eq!(mulaw_to_i16(0x80), 32124);
        assert_eq!(mulaw_to_i16(0xF0), 120);
        assert_eq!(alaw_to_i16(0xD5), 8);
        assert_eq!(alaw_to_i16(0x55), -8);
        assert_eq!(alaw_to_i16(0xAA), 32256);
        assert_eq!(alaw_to_i16(0x2A), -32256);
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(7, 1, 8000, 1, 8)),
            chunk(b"data", &[0xFF, 0x80]),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[0.0, 32124.0 / 32768.0]);
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(6, 1, 8000, 1, 8)),
            chunk(b"data", &[0xAA]),
        ]))
        .unwrap();
        assert_eq!(samples(&rec, 0), &[32256.0 / 32768.0]);
    }

    #[test]
    fn interleaved_channels_are_split() {
        let rec = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(1, 3, 8000, 6, 16)),
            chunk(b"data", &i16s(&[1, 2, 3, 4, 5, 6])),
        ]))
        .unwrap();
        let labels: Vec<_> = rec.channels.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["ch1", "ch2", "ch3"]);
        assert_eq!(samples(&rec, 0), &[1.0 / 32768.0, 4.0 / 32768.0]);
        assert_eq!(samples(&rec, 2), &[3.0 / 32768.0, 6.0 / 32768.0]);
    }

    // ---- layouts hound rejects or that writers produce ----------------------

    #[test]
    fn odd_list_chunk_before_data_with_pad_byte() {
        let bytes = riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00abcd\x00"),
            chunk(b"data", &i16s(&[16384])),
        ]);
        assert_eq!(bytes.len() % 2, 0);
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(samples(&rec, 0), &[0.5]);
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    }

    #[test]
    fn odd_chunk_without_pad_byte_is_tolerated() {
        let mut odd = b"junk".to_vec();
        odd.extend_from_slice(&3u32.to_le_bytes());
        odd.extend_from_slice(b"abc");
        let bytes = riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            odd,
            chunk(b"data", &i16s(&[-16384])),
        ]);
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(samples(&rec, 0), &[-0.5]);
        assert!(
            rec.warnings.iter().any(|w| w.contains("no pad byte")),
            "{:?}",
            rec.warnings
        );
    }

    #[test]
    fn extensible_pcm_and_float_with_any_mask() {
        for mask in [0u32, 0x3, 0x8000_0000, 0xFFFF_FFFF] {
            let bytes = riff(&[
                chunk(b"fmt ", &fmt_ext(1, 2, 8000, 16, 16, mask)),
                chunk(b"data", &i16s(&[16384, -16384])),
            ]);
            let rec = read_bytes(&bytes).unwrap();
            assert_eq!(
                (samples(&rec, 0), samples(&rec, 1)),
                (&[0.5f32][..], &[-0.5f32][..])
            );
        }
        let data: Vec<u8> = [0.5f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = riff(&[
            chunk(b"fmt ", &fmt_ext(3, 1, 8000, 32, 32, 4)),
            chunk(b"fact", &2u32.to_le_bytes()),
            chunk(b"data", &data),
        ]);
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(samples(&rec, 0), &[0.5, 2.0]);
        // An unknown sub-format GUID is unsupported, not invalid.
        let mut fmt = fmt_ext(1, 1, 8000, 16, 16, 4);
        fmt[30] = 0x11;
        let e = read_bytes(&riff(&[chunk(b"fmt ", &fmt), chunk(b"data", &[0, 0])])).unwrap_err();
        assert!(matches!(e, RecordingError::Unsupported { .. }), "{e}");
        // A truncated extensible fmt chunk is invalid.
        let e = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt_ext(1, 1, 8000, 16, 16, 4)[..30]),
            chunk(b"data", &[0, 0]),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("EXTENSIBLE"), "{e}");
    }

    #[test]
    fn fmt_with_cb_size_and_fact_chunk() {
        let mut fmt = fmt16(1, 1, 8000, 2, 16);
        fmt.extend_from_slice(&0u16.to_le_bytes());
        let bytes = riff(&[
            chunk(b"fmt ", &fmt),
            chunk(b"fact", &1u32.to_le_bytes()),
            chunk(b"data", &i16s(&[8192])),
        ]);
        assert_eq!(samples(&read_bytes(&bytes).unwrap(), 0), &[0.25]);
    }

    /// A mono 16-bit file whose data chunk claims `size` bytes, holding `data`.
    fn with_data_size(size: u32, data: &[i16], after: &[u8]) -> Vec<u8> {
        let mut b = riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16))]);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&i16s(data));
        b.extend_from_slice(after);
        b
    }

    #[test]
    fn streaming_placeholder_sizes_read_to_end_of_file() {
        for size in [0u32, u32::MAX] {
            let mut bytes = with_data_size(size, &[100, 200, 300], &[]);
            bytes[4..8].copy_from_slice(&size.to_le_bytes());
            let rec = read_bytes(&bytes).unwrap();
            assert_eq!(samples(&rec, 0).len(), 3, "size {size:#X}");
            assert!(
                rec.warnings.iter().any(|w| w.contains("streaming")),
                "{:?}",
                rec.warnings
            );
        }
        // An empty data chunk with nothing after it is just empty.
        let rec = read_bytes(&with_data_size(0, &[], &[])).unwrap();
        assert!(samples(&rec, 0).is_empty());
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        // An empty data chunk followed by a metadata chunk is empty too.
        let rec = read_bytes(&with_data_size(0, &[], &chunk(b"LIST", b"INFOabc"))).unwrap();
        assert!(samples(&rec, 0).is_empty());
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    }

    #[test]
    fn data_larger_than_file_reads_what_is_present() {
        let rec = read_bytes(&with_data_size(1000, &[1, 2], &[])).unwrap();
        assert_eq!(samples(&rec, 0).len(), 2);
        assert!(
            rec.warnings.iter().any(|w| w.contains("truncated")),
            "{:?}",
            rec.warnings
        );
        // A partial last frame is dropped with a warning.
        let rec = read_bytes(&with_data_size(1000, &[1, 2], &[7])).unwrap();
        assert_eq!(samples(&rec, 0).len(), 2);
        assert!(
            rec.warnings.iter().any(|w| w.contains("partial frame")),
            "{:?}",
            rec.warnings
        );
    }

    #[test]
    fn chunks_after_data_and_trailing_garbage() {
        let mut bytes = riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            chunk(b"data", &i16s(&[5, 6])),
            chunk(b"LIST", b"INFOx"),
        ]);
        bytes.extend_from_slice(&[0xFF; 20]);
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(samples(&rec, 0).len(), 2);
        assert!(
            rec.warnings.iter().any(|w| w.contains("unreadable")),
            "{:?}",
            rec.warnings
        );
    }

    #[test]
    fn rf64_with_ds64() {
        let mut ds64 = Vec::new();
        ds64.extend_from_slice(&0u64.to_le_bytes());
        ds64.extend_from_slice(&4u64.to_le_bytes());
        ds64.extend_from_slice(&2u64.to_le_bytes());
        ds64.extend_from_slice(&0u32.to_le_bytes());
        let mut bytes = riff(&[
            chunk(b"ds64", &ds64),
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        ]);
        bytes[0..4].copy_from_slice(b"RF64");
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&i16s(&[16384, 8192]));
        bytes.extend_from_slice(&chunk(b"LIST", b"INFO"));
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(samples(&rec, 0), &[0.5, 0.25]);
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    }

    #[test]
    fn cue_points_become_annotations() {
        let mut cue = 2u32.to_le_bytes().to_vec();
        for (id, frame) in [(7u32, 4000u32), (3, 800)] {
            cue.extend_from_slice(&id.to_le_bytes());
            cue.extend_from_slice(&frame.to_le_bytes());
            cue.extend_from_slice(b"data");
            cue.extend_from_slice(&[0; 8]);
            cue.extend_from_slice(&frame.to_le_bytes());
        }
        let mut adtl = b"adtl".to_vec();
        let mut labl = 7u32.to_le_bytes().to_vec();
        labl.extend_from_slice(b"yes\0");
        adtl.extend_from_slice(&chunk(b"labl", &labl));
        let mut ltxt = 3u32.to_le_bytes().to_vec();
        ltxt.extend_from_slice(&1600u32.to_le_bytes());
        ltxt.extend_from_slice(b"rgn \0\0\0\0\0\0\0\0");
        adtl.extend_from_slice(&chunk(b"ltxt", &ltxt));
        let bytes = riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            chunk(b"data", &i16s(&[0; 10])),
            chunk(b"cue ", &cue),
            chunk(b"LIST", &adtl),
        ]);
        let rec = read_bytes(&bytes).unwrap();
        let got: Vec<_> = rec
            .annotations
            .iter()
            .map(|a| (a.onset_s, a.duration_s, a.text.as_str()))
            .collect();
        assert_eq!(got, [(0.1, Some(0.2), "cue 3"), (0.5, None, "yes")]);
    }

    // ---- hostile files ------------------------------------------------------

    fn assert_invalid(bytes: &[u8], needle: &str) {
        match read_bytes(bytes) {
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
                assert!(
                    msg.contains("x.wav"),
                    "message does not name the file: {msg}"
                );
            }
            Ok(rec) => panic!(
                "expected an error containing {needle:?}, got {:?}",
                rec.warnings
            ),
        }
    }

    #[test]
    fn rejects_bad_headers_cleanly() {
        let data = chunk(b"data", &[0; 8]);
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(1, 0, 8000, 0, 16)), data.clone()]),
            "0 channels",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(1, 1, 0, 2, 16)), data.clone()]),
            "0 Hz",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 0, 0)), data.clone()]),
            "0 bits",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(1, 2, 8000, 2, 16)), data.clone()]),
            "bytes per frame",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 8, 64)), data.clone()]),
            "64-bit integer",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(3, 1, 8000, 2, 16)), data.clone()]),
            "16-bit IEEE float",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(2, 1, 8000, 256, 4)), data.clone()]),
            "Microsoft ADPCM",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(0x11, 1, 8000, 256, 4)), data.clone()]),
            "IMA ADPCM",
        );
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(7, 1, 8000, 2, 16)), data.clone()]),
            "G.711",
        );
        assert_invalid(
            &riff(&[
                chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)[..14]),
                data.clone(),
            ]),
            "fmt chunk is 14 bytes",
        );
        assert_invalid(&riff(std::slice::from_ref(&data)), "no fmt chunk");
        assert_invalid(
            &riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16))]),
            "no data chunk",
        );
        assert_invalid(b"RIFF", "too short");
        assert_invalid(b"", "too short");
        assert_invalid(b"RIFX\0\0\0\0WAVE", "big-endian");
        assert_invalid(b"RIFF\0\0\0\0AVI LIST", "type \"AVI \"");
        assert_invalid(b"ID3\x03\0\0\0\0\0\0\0\0\0\0\0\0", "not a WAV file");
        let mut edf = b"0       ".to_vec();
        edf.extend_from_slice(&[b' '; 248]);
        assert_invalid(&edf, "EDF");
        // The codec errors are Unsupported, the damaged ones Invalid.
        let e = read_bytes(&riff(&[
            chunk(b"fmt ", &fmt16(0x55, 1, 8000, 1, 0)),
            data.clone(),
        ]))
        .unwrap_err();
        assert!(matches!(e, RecordingError::Unsupported { .. }), "{e}");
        let e = read_bytes(&riff(&[chunk(b"fmt ", &fmt16(1, 0, 8000, 0, 16)), data])).unwrap_err();
        assert!(matches!(e, RecordingError::Invalid { .. }), "{e}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let e = read_wav(Path::new("/definitely/not/here.wav")).unwrap_err();
        assert!(matches!(e, RecordingError::Io { .. }), "{e}");
        assert!(e.to_string().contains("here.wav"));
    }

    #[test]
    fn lying_sizes_are_caught_before_allocating() {
        // fmt chunk claiming 4 GB.
        let mut bytes = riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            chunk(b"data", &[0; 4]),
        ]);
        bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_invalid(&bytes, "claims 4294967295 bytes");
        // A metadata chunk before the data claiming more than the file.
        let mut list = b"LIST".to_vec();
        list.extend_from_slice(&0x7FFF_FFF0u32.to_le_bytes());
        list.extend_from_slice(b"INFO");
        let bytes = riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)), list]);
        assert_invalid(&bytes, "\"LIST\"");
        // RIFF size lies: ignored, the chunks are read.
        let mut bytes = pcm16_mono(&[1, 2, 3]);
        bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(samples(&read_bytes(&bytes).unwrap(), 0).len(), 3);
        // A cue chunk claiming a billion points.
        let mut cue = u32::MAX.to_le_bytes().to_vec();
        cue.extend_from_slice(&[0; 24]);
        let bytes = riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
            chunk(b"cue ", &cue),
            chunk(b"data", &[0; 2]),
        ]);
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(rec.annotations.len(), 1);
        assert!(
            rec.warnings.iter().any(|w| w.contains("cue chunk claims")),
            "{:?}",
            rec.warnings
        );
        // 65535 channels of 4 bytes do not fit a u16 block align: a clean error.
        assert_invalid(
            &riff(&[
                chunk(b"fmt ", &fmt16(1, 0xFFFF, 8000, 0xFFFF, 32)),
                chunk(b"data", &[0; 4]),
            ]),
            "bytes per frame",
        );
    }

    /// A file with every kind of chunk the reader handles.
    fn rich_file() -> Vec<u8> {
        let mut cue = 1u32.to_le_bytes().to_vec();
        cue.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        cue.extend_from_slice(b"data");
        cue.extend_from_slice(&[0; 8]);
        cue.extend_from_slice(&2u32.to_le_bytes());
        let mut labl = 1u32.to_le_bytes().to_vec();
        labl.extend_from_slice(b"mark\0");
        let mut adtl = b"adtl".to_vec();
        adtl.extend_from_slice(&chunk(b"labl", &labl));
        riff(&[
            chunk(b"fmt ", &fmt_ext(1, 2, 8000, 24, 20, 3)),
            chunk(b"fact", &4u32.to_le_bytes()),
            chunk(b"LIST", b"INFOINAM\x03\x00\x00\x00ab\0"),
            chunk(b"data", &(0..24u8).collect::<Vec<_>>()),
            chunk(b"cue ", &cue),
            chunk(b"LIST", &adtl),
        ])
    }

    #[test]
    fn truncated_at_every_byte_never_panics() {
        let full = rich_file();
        let rec = read_bytes(&full).unwrap();
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        assert_eq!(rec.channels[0].samples.len(), 4);
        assert_eq!(rec.annotations[0].text, "mark");
        let data_at = full.windows(4).position(|w| w == b"data").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        for cut in 0..full.len() {
            let mut bytes = full[..cut].to_vec();
            // Also with the RIFF size fixed to the cut length.
            for fix in [false, true] {
                if fix && cut >= 8 {
                    bytes[4..8].copy_from_slice(&(cut as u32 - 8).to_le_bytes());
                }
                std::fs::write(&path, &bytes).unwrap();
                let result = read_wav(&path);
                if cut < data_at + 8 {
                    assert!(result.is_err(), "cut at {cut} read as {result:?}");
                }
                if let Ok(rec) = result {
                    assert!(rec.channels[0].samples.len() <= 4);
                }
            }
        }
    }

    /// xorshift64*: deterministic bytes for fuzz-like tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn byte(&mut self) -> u8 {
            (self.next() >> 56) as u8
        }
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.wav");
        // Pure noise, and noise behind a valid RIFF/WAVE preamble.
        for i in 0..300 {
            let n = (rng.next() % 200) as usize;
            let mut bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            if i % 2 == 0 {
                let mut head = b"RIFF\0\0\0\0WAVE".to_vec();
                head.append(&mut bytes);
                bytes = head;
            }
            std::fs::write(&path, &bytes).unwrap();
            let _ = read_wav(&path);
        }
        // A valid file with random bytes overwritten (headers included).
        let full = rich_file();
        for _ in 0..2000 {
            let mut bytes = full.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % bytes.len();
                bytes[at] = rng.byte();
            }
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(rec) = read_wav(&path) {
                let total: usize = rec.channels.iter().map(|c| c.samples.len()).sum();
                assert!(
                    total <= full.len(),
                    "{total} samples from {} bytes",
                    full.len()
                );
            }
        }
    }
}
