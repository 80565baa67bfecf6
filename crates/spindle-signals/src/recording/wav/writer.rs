//! The deterministic WAV writer, built on `hound`.

use std::path::Path;

use crate::recording::{RecordingError, write_atomic};

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

/// Writes `channels` (equal lengths, samples in -1..1) as a WAV file at
/// `rate_hz` samples per second, through `hound`.
///
/// PCM samples are clamped to -1..1, scaled by 2^(bits - 1), rounded to the
/// nearest integer and clamped to the integer range (NaN becomes 0), so that
/// reading with [`read_wav`](super::read_wav) and writing again gives the same bytes. Float
/// samples are stored as they are. The output is the same bytes for the same
/// input. The file is written atomically with [`write_atomic`] (temporary
/// file, fsync, rename).
pub fn write_wav(
    path: &Path,
    rate_hz: u32,
    channels: &[Vec<f32>],
    format: WavSampleFormat,
) -> Result<(), RecordingError> {
    crate::io_guard::note(path);
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
pub(super) fn quantize(x: f32, bits: u32) -> i32 {
    if x.is_nan() {
        return 0;
    }
    let scale = (1i64 << (bits - 1)) as f64;
    let v = (f64::from(x).clamp(-1.0, 1.0) * scale).round();
    v.clamp(-scale, scale - 1.0) as i32
}
