//! The `fmt ` chunk: how the samples are stored (PCM, IEEE float, G.711),
//! checked against itself.

use std::path::Path;

use super::bytes::{le_u16, le_u32};
use crate::recording::RecordingError;

/// Tail of the GUID of every `KSDATAFORMAT_SUBTYPE_*` derived from a format code.
pub(super) const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// How one sample is stored in the data chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
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
pub(super) struct WavFormat {
    pub(super) encoding: Encoding,
    pub(super) channels: usize,
    pub(super) rate_hz: u32,
    /// Bytes per frame (one sample of every channel).
    pub(super) block_align: usize,
    /// Bytes per sample of one channel.
    pub(super) container: usize,
}

/// Checks the first (up to 40) bytes of a `fmt ` chunk.
pub(super) fn parse_fmt(
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
