//! Helpers shared by the fuzz targets: each input is written to a scratch
//! file (in RAM under `/dev/shm` when it exists) because the readers take a
//! path, and every recording a reader accepts is checked against the file's
//! length.

use std::path::{Path, PathBuf};

use spindle_signals::recording::Recording;

/// Separates the parts of a BrainVision input: header, markers, data.
pub const PART_SEPARATOR: &[u8] = b"\x00SPINDLE-PART\x00";

/// The folder this process writes its inputs to: `$SPINDLE_FUZZ_SCRATCH`, else
/// `/dev/shm/spindle-fuzz-<pid>` (or the same under the temporary folder).
pub fn scratch_dir() -> PathBuf {
    let dir = match std::env::var_os("SPINDLE_FUZZ_SCRATCH") {
        Some(d) => PathBuf::from(d),
        None => {
            let shm = Path::new("/dev/shm");
            let base = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            base.join(format!("spindle-fuzz-{}", std::process::id()))
        }
    };
    // A failure shows up as the write below failing.
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Writes `bytes` to the scratch file `name` and returns its path.
pub fn write_scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        // The harness cannot work without its scratch file.
        panic!("cannot write the fuzz input to {}: {e}", path.display());
    }
    path
}

/// Removes the scratch file `name` (when an input has no such part).
pub fn remove_scratch(name: &str) {
    let _ = std::fs::remove_file(scratch_dir().join(name));
}

/// Splits `data` at [`PART_SEPARATOR`] into at most `N` parts; missing parts
/// are `None`, and the last part keeps any further separators.
pub fn split_parts<const N: usize>(data: &[u8]) -> [Option<&[u8]>; N] {
    let mut out = [None; N];
    let mut rest = data;
    for (i, slot) in out.iter_mut().enumerate() {
        if i + 1 == N {
            *slot = Some(rest);
            break;
        }
        match find(rest, PART_SEPARATOR) {
            Some(at) => {
                *slot = Some(&rest[..at]);
                rest = &rest[at + PART_SEPARATOR.len()..];
            }
            None => {
                *slot = Some(rest);
                break;
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What every accepted recording must satisfy: at least one channel, and no
/// more decoded samples than the input has bytes (every format stores a
/// sample in at least one byte), so nothing was invented from a header.
pub fn check_recording(rec: &Recording, input_bytes: usize) {
    // A recording may have no channels only as an EDF+ file of annotations
    // alone (a hypnogram).
    assert!(
        !rec.channels.is_empty()
            || matches!(
                rec.format,
                spindle_signals::recording::Format::EdfPlusC
                    | spindle_signals::recording::Format::EdfPlusD
                    | spindle_signals::recording::Format::BdfPlusC
                    | spindle_signals::recording::Format::BdfPlusD
            ),
        "a recording without channels that is not EDF+/BDF+"
    );
    let samples: usize = rec.channels.iter().map(|c| c.samples.len()).sum();
    assert!(
        samples <= input_bytes,
        "{samples} samples decoded from {input_bytes} bytes"
    );
    for c in &rec.channels {
        assert!(
            c.rate_hz.is_finite() && c.rate_hz > 0.0,
            "channel {} has rate {} Hz",
            c.label,
            c.rate_hz
        );
    }
}
