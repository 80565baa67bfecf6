//! Files built byte by byte, so that any field can be made to lie: EDF/BDF
//! headers, RIFF/WAVE chunks and BrainVision triples. Shared by the `it`
//! binary and `tests/alloc_bounded.rs` (which includes this file), so every
//! builder here is used by both.

use std::path::{Path, PathBuf};

/// Appends `text` to `out`, cut or padded with blanks to `width` bytes (an
/// EDF header field).
pub fn put(out: &mut Vec<u8>, text: &str, width: usize) {
    let mut b = text.as_bytes().to_vec();
    b.resize(width, b' ');
    out.extend_from_slice(&b[..width]);
}

/// One column of the signal header: its width and how to fill it from a
/// signal's (label, samples per record).
type Column = dyn Fn(&(&str, usize)) -> String;

/// An EDF/BDF file from raw header fields: `signals` are (label, samples per
/// record), each in µV from -100 to 100 (an `EDF Annotations` signal has no
/// unit and -1 to 1); `records` is the record-count field, `ns_field` the
/// signal-count field (default: the number of signals); `body` follows the
/// header.
pub fn edf_bytes(
    bdf: bool,
    reserved: &str,
    records: &str,
    ns_field: Option<&str>,
    signals: &[(&str, usize)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(if bdf { b"\xFFBIOSEMI" } else { b"0       " });
    put(&mut out, "X X X X", 80);
    put(&mut out, "Startdate X X X X", 80);
    put(&mut out, "01.02.21", 8);
    put(&mut out, "10.00.00", 8);
    put(&mut out, &(256 * (signals.len() + 1)).to_string(), 8);
    put(&mut out, reserved, 44);
    put(&mut out, records, 8);
    put(&mut out, "1", 8);
    put(&mut out, ns_field.unwrap_or(&signals.len().to_string()), 4);
    let (dmin, dmax) = if bdf {
        ("-8388608", "8388607")
    } else {
        ("-32768", "32767")
    };
    let columns: [(usize, &Column); 10] = [
        (16, &|s| s.0.to_string()),
        (80, &|_| String::new()),
        (8, &|s| if is_annotations(s) { "" } else { "uV" }.into()),
        (8, &|s| if is_annotations(s) { "-1" } else { "-100" }.into()),
        (8, &|s| if is_annotations(s) { "1" } else { "100" }.into()),
        (8, &|_| dmin.into()),
        (8, &|_| dmax.into()),
        (80, &|_| String::new()),
        (8, &|s| s.1.to_string()),
        (32, &|_| String::new()),
    ];
    for (width, get) in columns {
        for s in signals {
            put(&mut out, &get(s), width);
        }
    }
    out.extend_from_slice(body);
    out
}

/// Whether a signal of [`edf_bytes`] is the EDF+ annotation signal.
fn is_annotations(signal: &(&str, usize)) -> bool {
    signal.0 == "EDF Annotations"
}

/// A RIFF/WAVE file at 8000 Hz: `fmt ` (tag, channels, bits), then `chunks`
/// (id, size field, bytes) as given.
pub fn wav_bytes(tag: u16, channels: u16, bits: u16, chunks: &[(&[u8; 4], u32, &[u8])]) -> Vec<u8> {
    let block = channels * bits.div_ceil(8);
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&(8000 * u32::from(block)).to_le_bytes());
    fmt.extend_from_slice(&block.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    body.extend_from_slice(b"fmt ");
    body.extend_from_slice(&16u32.to_le_bytes());
    body.extend_from_slice(&fmt);
    for (id, size, bytes) in chunks {
        body.extend_from_slice(&id[..]);
        body.extend_from_slice(&size.to_le_bytes());
        body.extend_from_slice(bytes);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// The first lines of a BrainVision marker file.
pub const MARKER_HEAD: &str = "Brain Vision Data Exchange Marker File, Version 1.0\r\n[Common Infos]\r\nCodepage=UTF-8\r\n[Marker Infos]\r\n";

/// A BrainVision header of `INT_16` data in `b.eeg` with `n_channels`
/// claimed, `orientation` (`MULTIPLEXED` or `VECTORIZED`), `DataPoints` when
/// given, and `lines` channel lines `Ch<i>=C<i>,,1,uV`.
pub fn vhdr(n_channels: &str, orientation: &str, points: Option<&str>, lines: usize) -> String {
    let mut s = String::from(
        "Brain Vision Data Exchange Header File Version 1.0\r\n[Common Infos]\r\nCodepage=UTF-8\r\nDataFile=b.eeg\r\nMarkerFile=b.vmrk\r\nDataFormat=BINARY\r\n",
    );
    s.push_str(&format!(
        "DataOrientation={orientation}\r\nNumberOfChannels={n_channels}\r\nSamplingInterval=1000\r\n"
    ));
    if let Some(p) = points {
        s.push_str(&format!("DataPoints={p}\r\n"));
    }
    s.push_str("[Binary Infos]\r\nBinaryFormat=INT_16\r\n[Channel Infos]\r\n");
    for i in 1..=lines {
        s.push_str(&format!("Ch{i}=C{i},,1,uV\r\n"));
    }
    s
}

/// Writes a BrainVision triple `b.vhdr`/`b.vmrk`/`b.eeg` into `dir/name`
/// and returns the header's path.
pub fn brainvision(dir: &Path, name: &str, header: &str, markers: &[u8], data: &[u8]) -> PathBuf {
    let sub = dir.join(name);
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("b.vmrk"), markers).unwrap();
    std::fs::write(sub.join("b.eeg"), data).unwrap();
    let path = sub.join("b.vhdr");
    std::fs::write(&path, header).unwrap();
    path
}
