//! Folder listings: the recordings under a folder, described from their
//! headers alone.

use std::path::{Path, PathBuf};

use crate::recording::{is_audio_folder, is_recording_path, labels_for_recording, read_summary};

/// Folders deeper than this below the listed one are not scanned.
pub const MAX_SCAN_DEPTH: usize = 4;

/// A recording found under a folder, described from its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The file.
    pub path: PathBuf,
    /// Path relative to the scanned folder, for display.
    pub name: String,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Number of data channels.
    pub channels: usize,
    /// Highest channel rate, Hz.
    pub rate_hz: f64,
    /// Number of labels (sidecar or file annotations).
    pub labels: usize,
    /// The class of a file in an audio folder (`root/<class>/x.wav`).
    pub class: Option<String>,
    /// That audio folder (`root`), when the file is in one.
    pub audio_root: Option<PathBuf>,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

/// Lists the recordings under `root` (hidden entries skipped, at most
/// [`MAX_SCAN_DEPTH`] folders down), recordings first, then audio files, by
/// path within each, handing each [`Entry`] to `each` as it is described;
/// stops early when `each` returns false. Returns false when it stopped
/// early.
pub fn scan_folder(root: &Path, mut each: impl FnMut(Entry) -> bool) -> bool {
    let mut files = Vec::new();
    collect_recordings(root, 0, &mut files);
    files.sort_by_key(|p| {
        (
            p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")),
            p.clone(),
        )
    });
    files.iter().all(|path| each(describe(root, path)))
}

/// Appends the recordings under `dir` to `out`.
fn collect_recordings(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    crate::io_guard::note(dir);
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

/// The audio folder (`root`) holding `path` when it sits in one
/// (`root/<class>/x.wav`), with the class.
fn audio_folder_of(path: &Path) -> Option<(PathBuf, String)> {
    let class_dir = path.parent()?;
    let root = class_dir.parent()?;
    let is_wav = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if !is_wav || !is_audio_folder(root) {
        return None;
    }
    let class = class_dir.file_name()?.to_str()?.to_owned();
    Some((root.to_path_buf(), class))
}

/// The class of `path` when it sits in an audio folder (`root/<class>/x.wav`).
pub fn audio_class(path: &Path) -> Option<String> {
    audio_folder_of(path).map(|(_, class)| class)
}

/// The entry of `path`, found under `root`, from its header.
pub fn describe(root: &Path, path: &Path) -> Entry {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let (audio_root, class) = audio_folder_of(path).unzip();
    let mut entry = Entry {
        path: path.to_path_buf(),
        name,
        duration_s: 0.0,
        channels: 0,
        rate_hz: 0.0,
        labels: 0,
        class,
        audio_root,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Channel, EdfWriteOptions, Recording, write_edf, write_wav};

    #[test]
    fn a_folder_lists_recordings_first_with_their_audio_classes() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.edf", "a.edf"] {
            let path = dir.path().join(name);
            let rec = Recording {
                path: path.clone(),
                ..Recording::from_channels(vec![Channel::new("Cz", 100.0, vec![0.0; 1000])])
            };
            write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
        }
        let calls = dir.path().join("calls").join("trill");
        std::fs::create_dir_all(&calls).unwrap();
        let wav = calls.join("x.wav");
        write_wav(
            &wav,
            8000,
            &[vec![0.0; 800]],
            crate::recording::WavSampleFormat::Pcm16,
        )
        .unwrap();
        let mut found = Vec::new();
        assert!(scan_folder(dir.path(), |e| {
            found.push(e);
            true
        }));
        let names: Vec<&str> = found.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a.edf", "b.edf", "calls/trill/x.wav"]);
        assert!(
            found[..2]
                .iter()
                .all(|e| e.channels == 1 && e.duration_s == 10.0)
        );
        assert_eq!(found[2].class.as_deref(), Some("trill"));
        assert_eq!(
            found[2].audio_root.as_deref(),
            Some(dir.path().join("calls").as_path())
        );
        // Stopped after the first: false, one entry.
        let mut one = 0;
        assert!(!scan_folder(dir.path(), |_| {
            one += 1;
            false
        }));
        assert_eq!(one, 1);
    }
}
