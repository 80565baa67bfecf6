//! Folder scans: the recordings under a folder, described from their
//! headers for the browser.

use std::path::{Path, PathBuf};

use spindle_signals::recording::{
    is_audio_folder, is_recording_path, labels_for_recording, read_summary,
};

use super::protocol::Entry;

/// Folders deeper than this below the opened one are not scanned.
const MAX_SCAN_DEPTH: usize = 4;

/// Appends the recordings under `dir` (hidden entries skipped, at most
/// [`MAX_SCAN_DEPTH`] folders down) to `out`.
pub(super) fn collect_recordings(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            if depth < MAX_SCAN_DEPTH {
                collect_recordings(&path, depth + 1, out);
            }
        } else if is_recording_path(&path) {
            out.push(path);
        }
    }
}

/// The class of `path` when it sits in an audio folder (`root/<class>/x.wav`).
pub(super) fn audio_class(path: &Path) -> Option<String> {
    let class_dir = path.parent()?;
    let root = class_dir.parent()?;
    let is_wav = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    (is_wav && is_audio_folder(root)).then(|| class_dir.file_name()?.to_str().map(str::to_owned))?
}

/// The browser's entry of `path`, found under `root`, from its header.
pub(super) fn describe(root: &Path, path: &Path) -> Entry {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let mut entry = Entry {
        path: path.to_path_buf(),
        name,
        duration_s: 0.0,
        channels: 0,
        rate_hz: 0.0,
        labels: 0,
        class: audio_class(path),
        error: None,
    };
    match read_summary(path) {
        Ok(summary) => {
            entry.duration_s = summary.duration_s;
            entry.channels = summary.channels;
            entry.rate_hz = summary.rate_hz;
            match labels_for_recording(path, &summary.annotations) {
                Ok((labels, _)) => entry.labels = labels.len(),
                Err(e) => entry.error = Some(e.to_string()),
            }
        }
        Err(e) => entry.error = Some(e.to_string()),
    }
    entry
}
