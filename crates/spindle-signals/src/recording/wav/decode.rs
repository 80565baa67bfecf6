//! The samples of the data chunk decoded into physical values, a block at a
//! time.

use std::io::{self, Read};
use std::path::Path;

use super::chunks::Source;
use super::format::{Encoding, WavFormat};
use crate::recording::RecordingError;

/// Bytes of sample data decoded at a time.
const READ_BLOCK: usize = 1 << 20;
/// Decodes `len` bytes of sample data from `start` into one vector per channel,
/// a block at a time (never a second copy of the file in memory).
pub(super) fn decode_data(
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
pub(super) fn mulaw_to_i16(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i16::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 { -magnitude } else { magnitude }
}

/// G.711 A-law byte to a 16-bit linear sample (range -32256..32256).
pub(super) fn alaw_to_i16(byte: u8) -> i16 {
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

/// The smallest and largest finite value of `samples`, and how many are not
/// finite. `(inf, -inf, n)` when none is finite.
pub(super) fn finite_range(samples: &[f32]) -> (f64, f64, usize) {
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
