//! The RIFF layer: a buffered reader of the file and the walk over its
//! chunks, every size checked against the file's length (odd sizes with or
//! without their pad byte, streaming writers' placeholder sizes, RF64).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::bytes::{le_u32, le_u64};
use super::cues::{CueTable, parse_cue, parse_list};
use super::format::{WavFormat, parse_fmt};
use crate::recording::RecordingError;

/// The largest metadata chunk (`cue `, `LIST`) read into memory, bytes.
const MAX_META_CHUNK: u64 = 16 << 20;
/// Opens `path` and walks its RIFF chunks: the reader, positioned after
/// them, and where the parts are.
pub(super) fn open_chunks(
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

/// A buffered file with a known length and position, for walking chunks.
pub(super) struct Source {
    pub(super) reader: BufReader<File>,
    pub(super) pos: u64,
    pub(super) len: u64,
}

impl Source {
    /// Moves to byte `offset`, keeping the buffer where possible.
    pub(super) fn seek_to(&mut self, offset: u64) -> io::Result<()> {
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
pub(super) struct Layout {
    pub(super) format: WavFormat,
    /// Start and length of the sample data, bytes, within the file.
    pub(super) data: (u64, u64),
    pub(super) cues: CueTable,
}

/// Walks the RIFF chunks, checks the `fmt ` chunk and finds the data.
fn scan_chunks(
    path: &Path,
    src: &mut Source,
    warnings: &mut Vec<String>,
) -> Result<Layout, RecordingError> {
    let io_err = |e| RecordingError::io(path, e);
    let len = src.len;
    let is_rf64 = riff_kind(path, src)?;
    let mut found = Found::default();
    let mut off = 12u64;
    loop {
        let Some((id, size)) = src.chunk_header(off).map_err(io_err)? else {
            let rest = len.saturating_sub(off);
            if rest > 1 && found.data.is_some() {
                warnings.push(format!(
                    "ignored {rest} trailing bytes at byte {off}, too few for a chunk"
                ));
            }
            break;
        };
        if !is_fourcc(&id) {
            if found.data.is_some() {
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
                data_extent(src, body, size, found.ds64_data, warnings).map_err(io_err)?;
            if found.data.is_some() {
                warnings.push(format!("ignored a second data chunk at byte {off}"));
            } else {
                found.data = Some((body, data_len));
            }
            if to_eof {
                break;
            }
            off = next_chunk(src, body, data_len, &name, warnings).map_err(io_err)?;
            continue;
        }

        let size = u64::from(size);
        if size > remaining {
            if &id == b"fmt " || found.data.is_none() {
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
        let chunk = Chunk {
            id,
            name: &name,
            offset: off,
            size,
        };
        found.read(path, src, &chunk, is_rf64, warnings)?;
        off = next_chunk(src, body, size, &name, warnings).map_err(io_err)?;
    }
    found.cues.drop_repeated_ids(warnings);
    found.into_layout(path)
}

/// Checks the 12-byte RIFF header: true for RF64 (or BW64), false for RIFF.
fn riff_kind(path: &Path, src: &mut Source) -> Result<bool, RecordingError> {
    let len = src.len;
    if len < 12 {
        return Err(RecordingError::invalid(
            path,
            format!("file is {len} bytes, too short for a WAV header (12 bytes)"),
        ));
    }
    let mut head = [0u8; 12];
    src.read_at(0, &mut head)
        .map_err(|e| RecordingError::io(path, e))?;
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
    Ok(is_rf64)
}

/// A chunk other than `data` whose size fits in the file.
struct Chunk<'a> {
    id: [u8; 4],
    /// Its id as text, for messages.
    name: &'a str,
    /// Where its header starts, bytes.
    offset: u64,
    /// Its body's size, bytes.
    size: u64,
}

/// What the walk over the chunks has found so far.
#[derive(Default)]
struct Found {
    format: Option<WavFormat>,
    /// Start and length of the sample data, bytes.
    data: Option<(u64, u64)>,
    /// The data size of an RF64 file's `ds64` chunk.
    ds64_data: Option<u64>,
    cues: CueTable,
}

impl Found {
    /// Reads the chunks that matter besides `data`: the first `fmt `, an
    /// RF64 file's `ds64`, `cue ` and `LIST` (up to [`MAX_META_CHUNK`]).
    fn read(
        &mut self,
        path: &Path,
        src: &mut Source,
        chunk: &Chunk<'_>,
        is_rf64: bool,
        warnings: &mut Vec<String>,
    ) -> Result<(), RecordingError> {
        let io_err = |e| RecordingError::io(path, e);
        let (off, size, name) = (chunk.offset, chunk.size, chunk.name);
        let body = off + 8;
        match &chunk.id {
            b"fmt " => {
                if self.format.is_some() {
                    warnings.push(format!("ignored a second fmt chunk at byte {off}"));
                } else {
                    // Only the first 40 bytes (WAVE_FORMAT_EXTENSIBLE) matter.
                    let mut buf = vec![0u8; size.min(40) as usize];
                    src.read_at(body, &mut buf).map_err(io_err)?;
                    self.format = Some(parse_fmt(path, &buf, warnings)?);
                }
            }
            b"ds64" if is_rf64 => {
                if size >= 24 {
                    let mut buf = [0u8; 24];
                    src.read_at(body, &mut buf).map_err(io_err)?;
                    self.ds64_data = Some(le_u64(&buf, 8));
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
                    let cues = &mut self.cues;
                    if &chunk.id == b"cue " {
                        parse_cue(&buf, &mut cues.cues, warnings);
                    } else {
                        parse_list(&buf, &mut cues.labels, &mut cues.lengths);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The layout, once a `fmt ` and a `data` chunk were found.
    fn into_layout(self, path: &Path) -> Result<Layout, RecordingError> {
        let Some(format) = self.format else {
            return Err(RecordingError::invalid(
                path,
                "no fmt chunk: the file does not say how its samples are stored",
            ));
        };
        let Some(data) = self.data else {
            return Err(RecordingError::invalid(
                path,
                "no data chunk: the file holds no samples",
            ));
        };
        Ok(Layout {
            format,
            data,
            cues: self.cues,
        })
    }
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
