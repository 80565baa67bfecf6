//! Labels kept in a file of their own beside the recording, as sleep labs
//! and the Sleep-EDF collection ship them: an EDF+ file holding only an
//! annotation signal (`SC4001EC-Hypnogram.edf` beside `SC4001E0-PSG.edf`),
//! or a table of labels. Pairs are found by name; a label file can also be
//! given explicitly.

use std::path::{Path, PathBuf};

use super::{LabelSet, RecordingError, read_events_tsv, read_labels_csv, read_recording};

/// Name endings (case-insensitive, after the stem) that mark a label file.
const LABEL_SUFFIXES: &[&str] = &["-hypnogram", "_hypnogram", "-scoring", "_scoring"];

/// Name endings of the recording a label file belongs to, removed before
/// names are compared (`SC4001E0-PSG` -> `SC4001E0`).
const RECORDING_SUFFIXES: &[&str] = &["-psg", "_psg"];

/// `stem` without the first of `suffixes` it ends with (case-insensitive),
/// or `None` when it ends with none of them.
fn strip_suffix<'a>(stem: &'a str, suffixes: &[&str]) -> Option<&'a str> {
    let lower = stem.to_ascii_lowercase();
    suffixes
        .iter()
        .find(|s| lower.ends_with(*s))
        .map(|s| &stem[..stem.len() - s.len()])
}

/// True when `path`'s name says it holds labels, not data
/// (`X-Hypnogram.edf`, `X_scoring.edf`, ...).
pub fn is_label_file_name(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| strip_suffix(s, LABEL_SUFFIXES))
        .is_some()
}

/// The label file beside `recording` that pairs with it by name, if exactly
/// one does: `X-Hypnogram.edf` for `X.edf` or `X-PSG.edf`; or, as Sleep-EDF
/// names them (the last letter before the ending names the scorer, not the
/// night), `SC4001EC-Hypnogram.edf` for `SC4001E0-PSG.edf`.
pub fn paired_label_file(recording: &Path) -> Option<PathBuf> {
    if is_label_file_name(recording) {
        return None;
    }
    let stem = recording.file_stem()?.to_str()?;
    let psg = strip_suffix(stem, RECORDING_SUFFIXES);
    let base = psg.unwrap_or(stem);
    let dir = recording.parent().filter(|d| !d.as_os_str().is_empty());
    let entries = std::fs::read_dir(dir.unwrap_or(Path::new("."))).ok()?;
    let mut exact = Vec::new();
    let mut near = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_edf = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("edf") || e.eq_ignore_ascii_case("bdf"));
        let Some(other) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| strip_suffix(s, LABEL_SUFFIXES))
        else {
            continue;
        };
        if !is_edf {
            continue;
        }
        if other.eq_ignore_ascii_case(base) {
            exact.push(path);
        } else if psg.is_some() && sleep_edf_pair(base, other) {
            near.push(path);
        }
    }
    match (exact.len(), near.len()) {
        (1, _) => exact.pop(),
        (0, 1) => near.pop(),
        _ => None,
    }
}

/// True when `label` scores the Sleep-EDF recording `base`: the same name
/// but for the last character, a digit in the recording (`SC4001E0`) and a
/// letter naming the scorer in the label file (`SC4001EC`).
fn sleep_edf_pair(base: &str, label: &str) -> bool {
    let (Some(b), Some(l)) = (base.chars().last(), label.chars().last()) else {
        return false;
    };
    base.len() == label.len()
        && b.is_ascii_digit()
        && l.is_ascii_alphabetic()
        && base[..base.len() - 1].eq_ignore_ascii_case(&label[..label.len() - 1])
}

/// The labels in a label file: an EDF+/BDF+ file's annotations (one of
/// annotations alone, or any recording), a BIDS `events.tsv` or a CSV table
/// (`onset_s,duration_s,label`), by the file's extension.
pub fn read_label_file(path: &Path) -> Result<LabelSet, RecordingError> {
    crate::io_guard::note(path);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "tsv" => read_events_tsv(path),
        "csv" => read_labels_csv(path),
        _ => {
            let rec = read_recording(path)?;
            if rec.annotations.is_empty() {
                return Err(RecordingError::invalid(
                    path,
                    "holds no annotations to use as labels",
                ));
            }
            Ok(LabelSet::from_annotations(&rec.annotations))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Annotation, EdfWriteOptions, Format, Recording, write_edf};

    fn touch(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, b"x").unwrap();
        p
    }

    #[test]
    fn label_files_pair_with_their_recordings_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let psg = touch(d, "SC4001E0-PSG.edf");
        let hyp = touch(d, "SC4001EC-Hypnogram.edf");
        let psg2 = touch(d, "SC4002E0-PSG.edf");
        let hyp2 = touch(d, "SC4002EC-Hypnogram.edf");
        let plain = touch(d, "night.edf");
        let plain_hyp = touch(d, "night_hypnogram.edf");
        let lonely = touch(d, "other.edf");
        // Another subject's scoring is never taken for a missing one.
        let sub1 = touch(d, "sub-01.edf");
        touch(d, "sub-02-Hypnogram.edf");
        assert_eq!(paired_label_file(&sub1), None);
        assert_eq!(paired_label_file(&psg), Some(hyp.clone()));
        assert_eq!(paired_label_file(&psg2), Some(hyp2));
        assert_eq!(paired_label_file(&plain), Some(plain_hyp.clone()));
        assert_eq!(paired_label_file(&lonely), None);
        assert_eq!(
            paired_label_file(&hyp),
            None,
            "a label file has no labels of its own"
        );
        assert!(is_label_file_name(&hyp) && is_label_file_name(&plain_hyp));
        assert!(!is_label_file_name(&psg));
        // Two scorers of one night: ambiguous, so nothing is guessed.
        touch(d, "SC4001ED-Hypnogram.edf");
        assert_eq!(paired_label_file(&psg), None);
    }

    #[test]
    fn an_annotation_only_edf_file_opens_and_gives_its_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n1-Hypnogram.edf");
        let stage = |onset_s: f64, text: &str| Annotation {
            onset_s,
            duration_s: Some(30.0),
            text: text.into(),
        };
        let rec = Recording {
            path: path.clone(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: Vec::new(),
            annotations: vec![stage(0.0, "Sleep stage W"), stage(30.0, "Sleep stage 1")],
            segments: Vec::new(),
            warnings: Vec::new(),
        };
        write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
        let back = read_recording(&path).unwrap();
        assert!(back.channels.is_empty());
        assert_eq!(back.annotations, rec.annotations);
        assert_eq!(back.duration_s(), 60.0);
        let labels = read_label_file(&path).unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(labels.labels[1].trial_type, "Sleep stage 1");
    }
}
