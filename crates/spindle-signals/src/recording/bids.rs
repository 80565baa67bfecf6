//! BIDS naming and folders: a recording `sub-01_task-demo_eeg.edf` (suffix
//! `_eeg`, `_ieeg` or `_meg`) has its events in `sub-01_task-demo_events.tsv`
//! and its channel types and bad channels in `sub-01_task-demo_channels.tsv`
//! beside it; a BIDS root holds recordings in `sub-*/[ses-*/]eeg/` (or
//! `ieeg/`, `meg/`).
//!
//! Files named otherwise keep Spindle's naming (`X.edf` -> `X_events.tsv`);
//! [`sidecar_path`] gives a recording's events file either way.

use std::path::{Path, PathBuf};

use super::{RecordingError, is_label_file_name, is_recording_path};

/// The BIDS data-type suffixes of recordings Spindle reads.
const SUFFIXES: [&str; 3] = ["_eeg", "_ieeg", "_meg"];

/// The data-type folders of a BIDS subject or session.
const DATATYPE_DIRS: [&str; 3] = ["eeg", "ieeg", "meg"];

/// The largest `channels.tsv` read (bytes).
const MAX_CHANNELS_TSV_BYTES: u64 = 16 << 20;

/// `sub-01_task-demo` for a recording named the BIDS way
/// (`sub-01_task-demo_eeg.edf`): a file stem that starts with the `sub-`
/// entity and ends with a data-type suffix. `None` for other names.
pub fn bids_base(recording: &Path) -> Option<String> {
    let stem = recording.file_stem()?.to_str()?;
    if !stem.starts_with("sub-") {
        return None;
    }
    SUFFIXES
        .iter()
        .find_map(|s| stem.strip_suffix(s))
        .filter(|base| !base.is_empty())
        .map(str::to_string)
}

/// The label sidecar of a recording: `dir/X.edf` -> `dir/X_events.tsv`, for any
/// extension (`.bdf`, `.wav`, `.vhdr`, ...) or none; for a recording named
/// the BIDS way the suffix is replaced instead, as BIDS pairs them:
/// `sub-01_task-demo_eeg.edf` -> `sub-01_task-demo_events.tsv` (see
/// [`bids_base`]). Labels are read from and saved to this file.
pub fn sidecar_path(recording: &Path) -> PathBuf {
    if let Some(base) = bids_base(recording) {
        return recording.with_file_name(format!("{base}_events.tsv"));
    }
    spindle_sidecar_path(recording)
}

/// Spindle's own sidecar name, `X_events.tsv` for `X.ext`, whatever the
/// name (for a BIDS recording, the name Spindle used before it read BIDS).
pub fn spindle_sidecar_path(recording: &Path) -> PathBuf {
    let mut name = recording
        .file_stem()
        .map(std::ffi::OsString::from)
        .unwrap_or_default();
    name.push("_events.tsv");
    recording.with_file_name(name)
}

/// `…_channels.tsv` beside a BIDS recording (`None` for other names).
pub fn channels_tsv_path(recording: &Path) -> Option<PathBuf> {
    bids_base(recording).map(|b| recording.with_file_name(format!("{b}_channels.tsv")))
}

/// One row of a BIDS `channels.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidsChannel {
    /// The channel's name (`name` column), as in the recording.
    pub name: String,
    /// Its type (`type` column: `EEG`, `EOG`, `EMG`, `ECG`, `MISC`, ...),
    /// upper case; empty when not given.
    pub kind: String,
    /// True when `status` is `bad`.
    pub bad: bool,
}

/// The rows of a BIDS `channels.tsv` (columns found by name: `name`,
/// `type`, `status`; others ignored).
pub fn read_channels_tsv(path: &Path) -> Result<Vec<BidsChannel>, RecordingError> {
    let len = std::fs::metadata(path)
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    if len > MAX_CHANNELS_TSV_BYTES {
        return Err(RecordingError::invalid(
            path,
            format!("{len} bytes is too large for a channels.tsv"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| RecordingError::io(path, e))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let Some(name_col) = column("name") else {
        return Err(RecordingError::invalid(path, "no `name` column"));
    };
    let (type_col, status_col) = (column("type"), column("status"));
    Ok(lines
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).copied().unwrap_or("");
            BidsChannel {
                name: cell(Some(name_col)).to_string(),
                kind: cell(type_col).to_ascii_uppercase(),
                bad: cell(status_col).eq_ignore_ascii_case("bad"),
            }
        })
        .collect())
}

/// The channels `channels.tsv` marks `bad` for the BIDS recording at
/// `recording` (empty for other names or without the file).
pub fn bad_channels(recording: &Path) -> Result<Vec<String>, RecordingError> {
    match channels_tsv_path(recording) {
        Some(p) if p.is_file() => Ok(read_channels_tsv(&p)?
            .into_iter()
            .filter(|c| c.bad)
            .map(|c| c.name)
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// True when `dir` looks like a BIDS root: a `dataset_description.json`, or
/// a `sub-*` folder.
pub fn is_bids_root(dir: &Path) -> bool {
    dir.join("dataset_description.json").is_file() || !subject_dirs(dir).is_empty()
}

fn subject_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("sub-"))
        })
        .collect();
    dirs.sort();
    dirs
}

/// The recordings of a BIDS root, sorted: every recording file in
/// `sub-*/eeg/`, `sub-*/ses-*/eeg/` (and `ieeg/`, `meg/`), plus warnings
/// for `…_events.tsv` files there that no recording pairs with.
pub fn bids_recordings(root: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let mut folders = Vec::new();
    for sub in subject_dirs(root) {
        let mut parents = vec![sub.clone()];
        if let Ok(entries) = std::fs::read_dir(&sub) {
            let mut sessions: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_dir()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("ses-"))
                })
                .collect();
            sessions.sort();
            parents.extend(sessions);
        }
        for parent in parents {
            for kind in DATATYPE_DIRS {
                let dir = parent.join(kind);
                if dir.is_dir() {
                    folders.push(dir);
                }
            }
        }
    }
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for dir in folders {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut all: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        all.sort();
        let recordings: Vec<PathBuf> = all
            .iter()
            .filter(|p| p.is_file() && is_recording_path(p) && !is_label_file_name(p))
            .cloned()
            .collect();
        for events in all.iter().filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("_events.tsv"))
        }) {
            let used = recordings
                .iter()
                .any(|r| &sidecar_path(r) == events || &spindle_sidecar_path(r) == events);
            if !used {
                warnings.push(format!(
                    "{}: no recording in this folder pairs with this events file (expected one named like {}_eeg.edf); it is not used",
                    events.display(),
                    events
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_suffix("_events.tsv"))
                        .unwrap_or("")
                ));
            }
        }
        files.extend(recordings);
    }
    (files, warnings)
}

/// Events files beside `recording` that exist but are not read: for a BIDS
/// recording whose BIDS sidecar exists, Spindle's older
/// `…_eeg_events.tsv` beside it. Each as a warning naming the file.
pub fn unused_events_files(recording: &Path) -> Vec<String> {
    if bids_base(recording).is_none() {
        return Vec::new();
    }
    let bids = sidecar_path(recording);
    let older = spindle_sidecar_path(recording);
    if bids.is_file() && older.is_file() {
        vec![format!(
            "{}: not used: the BIDS events file {} beside it is read instead",
            older.display(),
            bids.display()
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_path_replaces_any_extension() {
        let cases = [
            ("data/X.edf", "data/X_events.tsv"),
            ("data/X.bdf", "data/X_events.tsv"),
            ("X.wav", "X_events.tsv"),
            (
                "/a/b/sub-01_task-rest.vhdr",
                "/a/b/sub-01_task-rest_events.tsv",
            ),
            ("dir/noext", "dir/noext_events.tsv"),
            ("dir/two.dots.edf", "dir/two.dots_events.tsv"),
            (
                "/d/sub-01/eeg/sub-01_task-demo_eeg.edf",
                "/d/sub-01/eeg/sub-01_task-demo_events.tsv",
            ),
            (
                "sub-01_ses-2_task-x_ieeg.vhdr",
                "sub-01_ses-2_task-x_events.tsv",
            ),
        ];
        for (recording, sidecar) in cases {
            assert_eq!(sidecar_path(Path::new(recording)), Path::new(sidecar));
        }
    }

    #[test]
    fn bids_names_pair_by_replacing_the_suffix() {
        let p = Path::new("/d/sub-01/eeg/sub-01_task-demo_eeg.edf");
        assert_eq!(bids_base(p).as_deref(), Some("sub-01_task-demo"));
        assert_eq!(
            channels_tsv_path(p),
            Some(PathBuf::from("/d/sub-01/eeg/sub-01_task-demo_channels.tsv"))
        );
        assert_eq!(
            bids_base(Path::new("sub-02_ses-1_task-x_run-1_ieeg.vhdr")).as_deref(),
            Some("sub-02_ses-1_task-x_run-1")
        );
        assert_eq!(bids_base(Path::new("sub-01.edf")), None);
        assert_eq!(bids_base(Path::new("night_eeg.edf")), None);
        assert_eq!(
            spindle_sidecar_path(p),
            PathBuf::from("/d/sub-01/eeg/sub-01_task-demo_eeg_events.tsv")
        );
    }

    #[test]
    fn channels_tsv_gives_types_and_bad_channels() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("sub-01_task-a_eeg.edf");
        std::fs::write(
            dir.path().join("sub-01_task-a_channels.tsv"),
            "name\ttype\tunits\tstatus\nFp1\tEEG\tuV\tgood\nEOG\teog\tuV\tbad\nCz\tEEG\tuV\tn/a\n",
        )
        .unwrap();
        let rows = read_channels_tsv(&channels_tsv_path(&rec).unwrap()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].kind, "EOG");
        assert_eq!(bad_channels(&rec).unwrap(), vec!["EOG".to_string()]);
        assert!(bad_channels(&dir.path().join("x.edf")).unwrap().is_empty());
    }
}
