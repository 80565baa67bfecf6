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
//!
//! The parts: `chunks` walks the RIFF layer, `format` checks the `fmt `
//! chunk, `cues` turns cue points into annotations, `decode` turns the data
//! chunk into samples and `writer` writes files; `bytes` reads integers.

mod bytes;
mod chunks;
mod cues;
mod decode;
mod format;
#[cfg(test)]
mod tests;
mod writer;

use std::path::Path;

use super::{Annotation, Channel, Format, Recording, RecordingError, Segment};
use chunks::open_chunks;
use cues::cue_annotations;
use decode::{decode_data, finite_range};
use format::Encoding;
pub use writer::{WavSampleFormat, write_wav};

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
    crate::io_guard::note(path);
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

    let annotations = cue_annotations(&layout.cues, rate_hz);
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
        cue_annotations(&layout.cues, rate_hz),
    ))
}
