//! Labeled audio folders: a dataset laid out as `root/<class>/*.wav`, one label
//! per file, the label being the name of the subfolder that holds it.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use super::RecordingError;

/// A labeled audio dataset found under `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFolder {
    /// The folder that was scanned.
    pub root: PathBuf,
    /// The class names (subfolders holding at least one `.wav` file), sorted.
    pub classes: Vec<String>,
    /// Every WAV file, sorted by class, then file name.
    pub files: Vec<AudioFile>,
}

/// One WAV file of an [`AudioFolder`] and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFile {
    /// Path of the file (`root/<class>/<name>.wav`).
    pub path: PathBuf,
    /// The class: the name of the subfolder that holds the file.
    pub class: String,
}

impl AudioFolder {
    /// The index of `class` in [`AudioFolder::classes`], if it is one.
    pub fn class_index(&self, class: &str) -> Option<usize> {
        self.classes
            .binary_search_by(|c| c.as_str().cmp(class))
            .ok()
    }
}

/// Scans `root` for the layout `root/<class>/*.wav`.
///
/// Only direct subfolders are classes and only files directly inside them
/// count; the extension is matched case-insensitively (`.wav`, `.WAV`), hidden
/// files and folders (names starting with `.`) are ignored, and a subfolder
/// without WAV files is not a class. A missing root, or one without any class
/// folder holding WAV files, is an error naming the folder.
pub fn scan_audio_folder(root: &Path) -> Result<AudioFolder, RecordingError> {
    crate::io_guard::note(root);
    let mut classes = Vec::new();
    let mut files = Vec::new();
    for dir in subfolders(root)? {
        let Some(class) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let wavs = wav_files(&dir)?;
        if wavs.is_empty() {
            continue;
        }
        files.extend(wavs.into_iter().map(|path| AudioFile {
            path,
            class: class.clone(),
        }));
        classes.push(class);
    }
    if classes.is_empty() {
        return Err(RecordingError::invalid(
            root,
            "no class folders with .wav files (expected <folder>/<class>/*.wav)",
        ));
    }
    classes.sort();
    classes.dedup();
    files.sort_by(|a, b| {
        a.class
            .cmp(&b.class)
            .then_with(|| a.path.file_name().cmp(&b.path.file_name()))
    });
    Ok(AudioFolder {
        root: root.to_path_buf(),
        classes,
        files,
    })
}

/// True when `path` is a folder with at least one (non-hidden) subfolder that
/// holds a `.wav` file, i.e. when [`scan_audio_folder`] would succeed.
pub fn is_audio_folder(path: &Path) -> bool {
    crate::io_guard::note(path);
    let Ok(dirs) = subfolders(path) else {
        return false;
    };
    dirs.iter()
        .any(|d| wav_files(d).is_ok_and(|files| !files.is_empty()))
}

/// The non-hidden subfolders of `root` (following links).
fn subfolders(root: &Path) -> Result<Vec<PathBuf>, RecordingError> {
    let meta = fs::metadata(root).map_err(|e| RecordingError::io(root, e))?;
    if !meta.is_dir() {
        return Err(RecordingError::invalid(
            root,
            "not a folder (an audio dataset is a folder of class folders)",
        ));
    }
    let entries = fs::read_dir(root).map_err(|e| RecordingError::io(root, e))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RecordingError::io(root, e))?;
        let path = entry.path();
        if is_hidden(&entry.file_name()) {
            continue;
        }
        if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            dirs.push(path);
        }
    }
    Ok(dirs)
}

/// The non-hidden `.wav` files directly inside `dir` (following links).
fn wav_files(dir: &Path) -> Result<Vec<PathBuf>, RecordingError> {
    let entries = fs::read_dir(dir).map_err(|e| RecordingError::io(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RecordingError::io(dir, e))?;
        let name = entry.file_name();
        if is_hidden(&name) {
            continue;
        }
        let path = entry.path();
        let is_wav = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("wav"));
        if is_wav && fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            files.push(path);
        }
    }
    Ok(files)
}

/// True for names starting with `.` (hidden on Unix, and macOS `._` files).
fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{WavSampleFormat, read_wav, write_wav};

    fn touch_wav(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_wav(path, 8000, &[vec![0.0, 0.5]], WavSampleFormat::Pcm16).unwrap();
    }

    #[test]
    fn scans_classes_sorted_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch_wav(&root.join("yes/b.wav"));
        touch_wav(&root.join("yes/A.WAV"));
        touch_wav(&root.join("no/c.Wav"));
        touch_wav(&root.join("no/.hidden.wav"));
        touch_wav(&root.join("no/deeper/d.wav"));
        touch_wav(&root.join(".cache/e.wav"));
        touch_wav(&root.join("loose.wav"));
        fs::create_dir_all(root.join("empty")).unwrap();
        fs::create_dir_all(root.join("notes")).unwrap();
        fs::write(root.join("notes/readme.txt"), "x").unwrap();
        fs::write(root.join("notes/fake.wav.txt"), "x").unwrap();
        fs::create_dir_all(root.join("yes/dir.wav")).unwrap();

        let folder = scan_audio_folder(root).unwrap();
        assert_eq!(folder.root, root);
        assert_eq!(folder.classes, ["no", "yes"]);
        let got: Vec<(String, String)> = folder
            .files
            .iter()
            .map(|f| {
                (
                    f.class.clone(),
                    f.path.file_name().unwrap().to_string_lossy().into_owned(),
                )
            })
            .collect();
        let want = [("no", "c.Wav"), ("yes", "A.WAV"), ("yes", "b.wav")];
        assert_eq!(
            got,
            want.map(|(c, f)| (c.to_string(), f.to_string())).to_vec()
        );
        assert_eq!(folder.files[0].path, root.join("no/c.Wav"));
        assert_eq!(folder.class_index("yes"), Some(1));
        assert_eq!(folder.class_index("maybe"), None);
        assert!(is_audio_folder(root));
        assert!(!is_audio_folder(&root.join("yes")));
        assert!(!is_audio_folder(&root.join("yes/b.wav")));
    }

    #[test]
    fn missing_or_empty_roots_are_errors_naming_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let e = scan_audio_folder(&missing).unwrap_err();
        assert!(e.to_string().contains("nowhere"), "{e}");
        assert!(!is_audio_folder(&missing));

        let empty = dir.path().join("empty");
        fs::create_dir_all(empty.join("cls")).unwrap();
        touch_wav(&empty.join("top.wav"));
        let e = scan_audio_folder(&empty).unwrap_err();
        assert!(e.to_string().contains("no class folders"), "{e}");
        assert!(e.to_string().contains("empty"), "{e}");
        assert!(!is_audio_folder(&empty));

        let e = scan_audio_folder(&empty.join("top.wav")).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
    }

    #[test]
    fn real_spoken_digits() {
        let Some(root) = crate::testdata::path("audio-digits") else {
            return;
        };
        let root = root.as_path();
        assert!(is_audio_folder(root));
        let folder = scan_audio_folder(root).unwrap();
        let want: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        assert_eq!(folder.classes, want);
        assert_eq!(folder.files.len(), 50);
        for (i, file) in folder.files.iter().enumerate() {
            assert_eq!(file.class, folder.classes[i / 5]);
            assert_eq!(
                file.path.parent().unwrap().file_name().unwrap(),
                file.class.as_str()
            );
            let rec = read_wav(&file.path).unwrap();
            assert_eq!(rec.channels.len(), 1, "{}", file.path.display());
            let ch = &rec.channels[0];
            assert_eq!(ch.rate_hz, 8000.0);
            assert!(!ch.samples.is_empty());
            assert!(rec.duration_s() > 0.1 && rec.duration_s() < 5.0);
            assert!(ch.samples.iter().all(|x| (-1.0..1.0).contains(x)));
            assert!(
                ch.samples.iter().any(|&x| x.abs() > 0.05),
                "silent: {}",
                file.path.display()
            );
        }
        assert!(folder.files[0].path.ends_with("0/en_US_f_Allison.wav"));
    }
}
