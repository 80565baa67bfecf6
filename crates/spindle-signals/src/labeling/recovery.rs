//! A recording's labels as found when it is opened, with what may rescue
//! them: the sidecar's backup when the sidecar is damaged, and the edit
//! journal an earlier session left behind. Nothing here writes; what to do
//! is the user's decision.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::journal::{JournalReplay, journal_path, replay_journal};
use crate::recording::{
    Annotation, LabelSet, LabelSource, RecordingError, backup_path, events_tsv_text,
    labels_for_recording, read_events_tsv, sidecar_path,
};

/// A sidecar that exists but does not read as a label table.
#[derive(Debug, Clone, PartialEq)]
pub struct DamagedSidecar {
    /// The sidecar (`X_events.tsv`).
    pub path: PathBuf,
    /// Why it does not read, without the path (e.g. `line 3: onset `x` is
    /// not a number`).
    pub reason: String,
    /// The labels of its backup (`X_events.tsv.bak`) when that reads.
    pub backup: Option<LabelSet>,
}

/// A recording's labels when opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedLabels {
    /// The labels to show: the sidecar's, else (also when the sidecar is
    /// damaged) the recording's annotations.
    pub labels: LabelSet,
    /// Where `labels` came from.
    pub source: LabelSource,
    /// Set when the sidecar exists but could not be read: saving over it
    /// would destroy it.
    pub damaged: Option<DamagedSidecar>,
    /// Edits in the journal that the sidecar does not hold (an earlier
    /// session ended before saving them).
    pub journal: Option<JournalReplay>,
    /// A problem that is not the sidecar's (e.g. an unreadable journal).
    pub warning: Option<String>,
}

/// Reads the labels of `recording_path` (see [`labels_for_recording`]), and
/// what opening them should offer: a damaged sidecar's backup, and the
/// journal's edits when they lead to labels other than the sidecar's.
pub fn open_labels(recording_path: &Path, annotations: &[Annotation]) -> OpenedLabels {
    crate::io_guard::note(recording_path);
    let sidecar = sidecar_path(recording_path);
    let (labels, source, damaged) = match labels_for_recording(recording_path, annotations) {
        Ok((labels, source)) => (labels, source, None),
        Err(e) => {
            let backup = read_events_tsv(&backup_path(&sidecar)).ok();
            let damaged = DamagedSidecar {
                reason: without_path(&sidecar, &e),
                path: sidecar.clone(),
                backup,
            };
            let source = if annotations.is_empty() {
                LabelSource::None
            } else {
                LabelSource::FileAnnotations
            };
            (
                LabelSet::from_annotations(annotations),
                source,
                Some(damaged),
            )
        }
    };
    let (journal, warning) = match replay_journal(&journal_path(&sidecar)) {
        Ok(Some(replay)) if !already_saved(&sidecar, &replay.labels) => (Some(replay), None),
        Ok(_) => (None, None),
        Err(e) => (None, Some(format!("edit journal not read: {e}"))),
    };
    OpenedLabels {
        labels,
        source,
        damaged,
        journal,
        warning,
    }
}

/// True when the sidecar holds exactly what saving `labels` would write.
fn already_saved(sidecar: &Path, labels: &LabelSet) -> bool {
    match (fs::read(sidecar), events_tsv_text(sidecar, labels)) {
        (Ok(on_disk), Ok(text)) => on_disk == text.as_bytes(),
        _ => false,
    }
}

/// `error`'s message without the leading `PATH: `.
fn without_path(path: &Path, error: &RecordingError) -> String {
    let message = error.to_string();
    let prefix = format!("{}: ", path.display());
    message
        .strip_prefix(&prefix)
        .map_or_else(|| message.clone(), str::to_owned)
}

/// Renames a damaged sidecar out of the way, to
/// `X_events.tsv.damaged-<seconds since 1970>` (`-2`, `-3`... when taken),
/// and returns the new name. The file is kept, never deleted.
pub fn set_aside_damaged(sidecar: &Path) -> Result<PathBuf, RecordingError> {
    crate::io_guard::note(sidecar);
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = sidecar
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    for n in 1..1000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let aside = sidecar.with_file_name(format!("{name}.damaged-{seconds}{suffix}"));
        let taken = aside
            .try_exists()
            .map_err(|e| RecordingError::io(&aside, e))?;
        if !taken {
            fs::rename(sidecar, &aside).map_err(|e| RecordingError::io(sidecar, e))?;
            return Ok(aside);
        }
    }
    Err(RecordingError::invalid(
        sidecar,
        "no free name to set the damaged file aside",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labeling::{Edit, EditJournal};
    use crate::recording::{Label, write_events_tsv};

    #[test]
    fn a_damaged_sidecar_is_reported_with_its_backup() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("rec.edf");
        let sidecar = sidecar_path(&recording);
        let good = LabelSet::new(vec![Label::new(1.0, 2.0, "good")]);
        write_events_tsv(&sidecar, &good).unwrap();
        fs::copy(&sidecar, backup_path(&sidecar)).unwrap();
        fs::write(&sidecar, b"onset\tduration\nx\t1\n").unwrap();
        let annotations = [Annotation {
            onset_s: 3.0,
            duration_s: None,
            text: "from file".into(),
        }];
        let opened = open_labels(&recording, &annotations);
        assert_eq!(opened.source, LabelSource::FileAnnotations);
        assert_eq!(opened.labels.labels, [Label::new(3.0, 0.0, "from file")]);
        let damaged = opened.damaged.unwrap();
        assert_eq!(damaged.path, sidecar);
        assert_eq!(damaged.reason, "line 2: onset `x` is not a number");
        assert_eq!(damaged.backup, Some(good));

        // Without a readable backup there is nothing to offer.
        fs::write(backup_path(&sidecar), b"junk").unwrap();
        let opened = open_labels(&recording, &[]);
        assert_eq!(opened.source, LabelSource::None);
        assert_eq!(opened.damaged.unwrap().backup, None);

        let aside = set_aside_damaged(&sidecar).unwrap();
        assert!(!sidecar.exists());
        let name = aside.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("rec_events.tsv.damaged-"), "{name}");
        assert_eq!(fs::read(&aside).unwrap(), b"onset\tduration\nx\t1\n");
        // A second damaged file in the same second gets its own name.
        fs::write(&sidecar, b"again").unwrap();
        let second = set_aside_damaged(&sidecar).unwrap();
        assert_ne!(second, aside);
        assert!(aside.exists() && second.exists());
    }

    #[test]
    fn the_journal_is_offered_only_when_it_holds_unsaved_edits() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("rec.wav");
        let sidecar = sidecar_path(&recording);
        let saved = LabelSet::new(vec![Label::new(1.0, 2.0, "a")]);
        write_events_tsv(&sidecar, &saved).unwrap();
        assert_eq!(open_labels(&recording, &[]).journal, None);

        let mut labels = saved.clone();
        let edit = Edit::Insert(Label::new(4.0 + 1.0 / 3.0, 1.0, "b"));
        edit.apply(&mut labels).unwrap();
        let mut journal = EditJournal::new(journal_path(&sidecar));
        journal.record(Some(&edit), &labels).unwrap();
        let opened = open_labels(&recording, &[]);
        assert_eq!(opened.labels, saved);
        let replay = opened.journal.unwrap();
        assert_eq!((replay.edits, &replay.labels), (1, &labels));

        // Saved before the journal was removed: nothing to offer.
        write_events_tsv(&sidecar, &labels).unwrap();
        assert_eq!(open_labels(&recording, &[]).journal, None);
    }
}
