//! What the tests of spindle-signals share: byte builders of EDF/BDF, WAV
//! and BrainVision files whose fields a test can damage one by one
//! ([`files`], shared with `tests/alloc_bounded.rs`), and writing bytes
//! into a folder.

pub mod files;

use std::path::{Path, PathBuf};

/// Writes `bytes` to `dir/name` and returns the path.
pub fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
