//! Opening any supported recording: the format is recognized from the file's
//! first bytes, not trusted from its extension.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{Recording, RecordingError, read_brainvision, read_edf, read_wav};

/// File extensions Spindle opens as recordings (lower case, without the dot).
pub const RECORDING_EXTENSIONS: &[&str] = &["edf", "bdf", "rec", "vhdr", "wav"];

/// True when `path` has one of [`RECORDING_EXTENSIONS`] (case-insensitive).
pub fn is_recording_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RECORDING_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sniffed {
    Edf,
    BrainVisionHeader,
    Wav,
    Unknown,
}

fn sniff(head: &[u8]) -> Sniffed {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    if head.starts_with(b"\xFFBIOSEMI") || head.starts_with(b"0       ") {
        Sniffed::Edf
    } else if head.starts_with(b"RIFF") || head.starts_with(b"RIFX") || head.starts_with(b"RF64") {
        Sniffed::Wav
    } else if text.starts_with("Brain Vision Data Exchange Header")
        || text.starts_with("BrainVision Data Exchange Header")
    {
        Sniffed::BrainVisionHeader
    } else {
        Sniffed::Unknown
    }
}

/// Reads the recording at `path`, whatever its supported format.
///
/// A file whose content does not match any format is rejected with a message
/// that says what it looks like (for example a WAV file named `.edf`).
pub fn read_recording(path: &Path) -> Result<Recording, RecordingError> {
    match recognize(path)? {
        Sniffed::Edf => read_edf(path),
        Sniffed::Wav => read_wav(path),
        Sniffed::BrainVisionHeader => read_brainvision(path),
        Sniffed::Unknown => Err(RecordingError::invalid(path, "not a recording")),
    }
}

/// True when `path` holds an EDF, EDF+, BDF or BDF+ file (by its content,
/// never its name), which can be read on demand; a file that is no recording
/// is the error [`read_recording`] gives for it.
pub fn is_edf_file(path: &Path) -> Result<bool, RecordingError> {
    Ok(recognize(path)? == Sniffed::Edf)
}

/// What `path` holds by its first bytes; a folder, an empty file or content
/// of no supported format is the error [`read_recording`] gives for it
/// (never [`Sniffed::Unknown`]).
pub(super) fn recognize(path: &Path) -> Result<Sniffed, RecordingError> {
    crate::io_guard::note(path);
    if path.is_dir() {
        return Err(RecordingError::invalid(
            path,
            "is a folder, not a recording file",
        ));
    }
    let mut head = [0u8; 64];
    let n = {
        let mut f = File::open(path).map_err(|e| RecordingError::io(path, e))?;
        let mut n = 0;
        loop {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    if n == head.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RecordingError::io(path, e)),
            }
        }
        n
    };
    if n == 0 {
        return Err(RecordingError::invalid(path, "file is empty"));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match sniff(&head[..n]) {
        Sniffed::Unknown => Err(RecordingError::invalid(
            path,
            match ext.as_str() {
                "edf" | "bdf" | "rec" => {
                    "not an EDF or BDF file (the version field is neither \"0\" nor BIOSEMI)"
                }
                "wav" => "not a WAV file (no RIFF/WAVE header)",
                "vhdr" => {
                    "not a BrainVision header (first line is not the BrainVision identification)"
                }
                "eeg" | "vmrk" => {
                    "open the BrainVision .vhdr header file, not the .eeg/.vmrk beside it"
                }
                _ => "not a recording Spindle can read (EDF, BDF, BrainVision .vhdr or WAV)",
            },
        )),
        known => Ok(known),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats_by_content() {
        assert_eq!(sniff(b"0       X X X"), Sniffed::Edf);
        assert_eq!(sniff(b"\xFFBIOSEMI"), Sniffed::Edf);
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WAVE"), Sniffed::Wav);
        assert_eq!(
            sniff("\u{feff}Brain Vision Data Exchange Header File Version 1.0".as_bytes()),
            Sniffed::BrainVisionHeader
        );
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
    }

    #[test]
    fn recording_paths_by_extension() {
        assert!(is_recording_path(Path::new("a/B.EDF")));
        assert!(is_recording_path(Path::new("x.vhdr")));
        assert!(!is_recording_path(Path::new("x.eeg")));
        assert!(!is_recording_path(Path::new("x_events.tsv")));
    }
}
