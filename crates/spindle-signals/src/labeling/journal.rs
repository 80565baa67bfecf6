//! The edit journal: every label edit appended, as it is made, to a file
//! beside the sidecar (`X_events.tsv` -> `X_events.tsv.journal`), so that
//! the edits made after the last save survive a crash. A successful save
//! removes the journal; a journal found when a recording is opened holds the
//! edits an earlier session never saved.
//!
//! The file is one JSON record per line: the first is a snapshot of the
//! whole label set after the first unsaved edit, each later one the next
//! edit (or another snapshot, after an undo, a redo or a replacement of the
//! whole set). Times are written as text that reads back to the same `f64`,
//! so that an edit finds its label by value on replay. Appends are not
//! flushed to disk one by one: the journal is for a crash of the program,
//! which leaves the operating system's buffers intact. A record cut short by
//! a crash ends the replay; everything before it is kept.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Edit;
use crate::recording::{Label, LabelSet, RecordingError};

/// The journal of a label file: `X_events.tsv` -> `X_events.tsv.journal`.
pub fn journal_path(sidecar: &Path) -> PathBuf {
    let mut name = sidecar
        .file_name()
        .map(std::ffi::OsString::from)
        .unwrap_or_default();
    name.push(".journal");
    sidecar.with_file_name(name)
}

/// Appends a session's label edits to its journal file.
#[derive(Debug)]
pub struct EditJournal {
    path: PathBuf,
    /// Open for appending once this session has written a snapshot.
    file: Option<File>,
}

impl EditJournal {
    /// A journal writing to `path` (see [`journal_path`]); nothing is written
    /// before the first [`Self::record`].
    pub fn new(path: PathBuf) -> Self {
        Self { path, file: None }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `edit`, which turned the labels into `after`. The first record
    /// since [`Self::new`] or [`Self::clear`] replaces whatever the file held
    /// with a snapshot of `after`; so does a record without an edit (undo,
    /// redo) or with an [`Edit::Replace`].
    pub fn record(&mut self, edit: Option<&Edit>, after: &LabelSet) -> Result<(), RecordingError> {
        crate::io_guard::note(&self.path);
        let record = match (&self.file, edit) {
            (Some(_), Some(edit)) if !matches!(edit, Edit::Replace { .. }) => {
                Record::Edit(EditRecord::from(edit))
            }
            _ => Record::snapshot(after),
        };
        let mut line = serde_json::to_string(&record)
            .map_err(|e| RecordingError::invalid(&self.path, e.to_string()))?;
        line.push('\n');
        let io = |e| RecordingError::io(&self.path, e);
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&self.path)
                .map_err(io)?;
            self.file = Some(file);
        }
        let written = match &mut self.file {
            Some(file) => file.write_all(line.as_bytes()),
            None => Ok(()),
        };
        if let Err(e) = written {
            // The next record starts over with a snapshot.
            self.file = None;
            return Err(io(e));
        }
        Ok(())
    }

    /// Removes the journal file (after a successful save, or when the user
    /// discards its edits); the next record starts a new one.
    pub fn clear(&mut self) -> Result<(), RecordingError> {
        crate::io_guard::note(&self.path);
        self.file = None;
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(RecordingError::io(&self.path, e)),
            _ => Ok(()),
        }
    }
}

/// What a journal file holds: the labels its edits lead to.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalReplay {
    /// The journal file.
    pub path: PathBuf,
    /// How many edits it records (each snapshot stands for the edit that
    /// made it).
    pub edits: usize,
    /// The labels after the last edit.
    pub labels: LabelSet,
}

/// Replays the journal at `path`: `None` when it does not exist or holds no
/// whole record. Reading stops at the first record that is cut short or does
/// not apply, keeping the edits before it. An unreadable file is an error.
pub fn replay_journal(path: &Path) -> Result<Option<JournalReplay>, RecordingError> {
    crate::io_guard::note(path);
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RecordingError::io(path, e)),
    };
    let mut labels: Option<LabelSet> = None;
    let mut edits = 0;
    // Only lines that end in a line break were written whole.
    let mut lines = bytes.split_inclusive(|&b| b == b'\n');
    for line in lines.by_ref() {
        let Some(line) = line.strip_suffix(b"\n") else {
            break;
        };
        let Ok(record) = serde_json::from_slice::<Record>(line) else {
            break;
        };
        match (record, &mut labels) {
            (
                Record::Snapshot {
                    labels: l,
                    extra_columns,
                },
                _,
            ) => {
                labels = Some(
                    LabelSet {
                        labels: l.into_iter().map(Label::from).collect(),
                        extra_columns,
                    }
                    .sorted(),
                );
            }
            (Record::Edit(edit), Some(set)) => {
                if Edit::from(edit).apply(set).is_err() {
                    break;
                }
            }
            (Record::Edit(_), None) => break,
        }
        edits += 1;
    }
    Ok(labels.map(|labels| JournalReplay {
        path: path.to_path_buf(),
        edits,
        labels,
    }))
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Record {
    /// The whole label set.
    Snapshot {
        labels: Vec<LabelRecord>,
        extra_columns: Vec<String>,
    },
    /// One edit of the set before it.
    Edit(EditRecord),
}

impl Record {
    fn snapshot(set: &LabelSet) -> Self {
        Self::Snapshot {
            labels: set.labels.iter().map(LabelRecord::from).collect(),
            extra_columns: set.extra_columns.clone(),
        }
    }
}

/// An [`Edit`] as written; a replacement is written as a snapshot instead.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EditRecord {
    Insert(LabelRecord),
    Remove(LabelRecord),
    Change {
        before: LabelRecord,
        after: LabelRecord,
    },
    Batch(Vec<EditRecord>),
    Replace {
        before: Vec<LabelRecord>,
        before_columns: Vec<String>,
        after: Vec<LabelRecord>,
        after_columns: Vec<String>,
    },
}

impl From<&Edit> for EditRecord {
    fn from(edit: &Edit) -> Self {
        let labels = |set: &LabelSet| set.labels.iter().map(LabelRecord::from).collect();
        match edit {
            Edit::Insert(l) => Self::Insert(l.into()),
            Edit::Remove(l) => Self::Remove(l.into()),
            Edit::Change { before, after } => Self::Change {
                before: before.into(),
                after: after.into(),
            },
            Edit::Batch(edits) => Self::Batch(edits.iter().map(Self::from).collect()),
            Edit::Replace { before, after } => Self::Replace {
                before: labels(before),
                before_columns: before.extra_columns.clone(),
                after: labels(after),
                after_columns: after.extra_columns.clone(),
            },
        }
    }
}

impl From<EditRecord> for Edit {
    fn from(record: EditRecord) -> Self {
        let set = |labels: Vec<LabelRecord>, extra_columns| LabelSet {
            labels: labels.into_iter().map(Label::from).collect(),
            extra_columns,
        };
        match record {
            EditRecord::Insert(l) => Self::Insert(l.into()),
            EditRecord::Remove(l) => Self::Remove(l.into()),
            EditRecord::Change { before, after } => Self::Change {
                before: before.into(),
                after: after.into(),
            },
            EditRecord::Batch(edits) => Self::Batch(edits.into_iter().map(Self::from).collect()),
            EditRecord::Replace {
                before,
                before_columns,
                after,
                after_columns,
            } => Self::Replace {
                before: set(before, before_columns),
                after: set(after, after_columns),
            },
        }
    }
}

/// A [`Label`] as written: times as text that reads back exactly.
#[derive(Debug, Serialize, Deserialize)]
struct LabelRecord {
    #[serde(with = "exact_seconds")]
    onset_s: f64,
    #[serde(with = "exact_seconds")]
    duration_s: f64,
    trial_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    extra: Vec<String>,
}

impl From<&Label> for LabelRecord {
    fn from(l: &Label) -> Self {
        Self {
            onset_s: l.onset_s,
            duration_s: l.duration_s,
            trial_type: l.trial_type.clone(),
            extra: l.extra.clone(),
        }
    }
}

impl From<LabelRecord> for Label {
    fn from(l: LabelRecord) -> Self {
        Self {
            onset_s: l.onset_s,
            duration_s: l.duration_s,
            trial_type: l.trial_type,
            extra: l.extra,
        }
    }
}

/// Seconds as the shortest text that reads back to the same `f64` (a JSON
/// number might not, by the last bit).
mod exact_seconds {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn odd_label(onset_s: f64, class: &str) -> Label {
        // Times that a decimal text with few digits would not give back.
        Label::new(onset_s + 1.0 / 3.0, 0.1 + 0.2, class)
    }

    #[test]
    fn replays_snapshot_then_edits_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir.path().join("x_events.tsv"));
        assert_eq!(path, dir.path().join("x_events.tsv.journal"));
        assert_eq!(replay_journal(&path).unwrap(), None);

        let mut set = LabelSet::new(vec![odd_label(1.0, "a")]);
        let mut journal = EditJournal::new(path.clone());
        let edits = [
            Edit::Insert(odd_label(5.0, "tab\there")),
            Edit::Change {
                before: odd_label(1.0, "a"),
                after: odd_label(2.0, "b\nc"),
            },
            Edit::Batch(vec![
                Edit::Remove(odd_label(5.0, "tab\there")),
                Edit::Insert(odd_label(7.0, "d")),
            ]),
        ];
        for (i, edit) in edits.iter().enumerate() {
            edit.apply(&mut set).unwrap();
            journal.record(Some(edit), &set).unwrap();
            let replay = replay_journal(&path).unwrap().unwrap();
            assert_eq!(replay.edits, i + 1);
            assert_eq!(replay.labels, set);
        }
        // An undo is recorded as a snapshot; the edits after it still apply.
        edits[2].inverse().apply(&mut set).unwrap();
        journal.record(None, &set).unwrap();
        let more = Edit::Remove(odd_label(2.0, "b\nc"));
        more.apply(&mut set).unwrap();
        journal.record(Some(&more), &set).unwrap();
        let replay = replay_journal(&path).unwrap().unwrap();
        assert_eq!((replay.edits, &replay.labels), (5, &set));

        journal.clear().unwrap();
        assert!(!path.exists());
        journal.clear().unwrap();
        // The next record starts a new journal with a snapshot.
        journal.record(Some(&edits[0]), &set).unwrap();
        let replay = replay_journal(&path).unwrap().unwrap();
        assert_eq!((replay.edits, &replay.labels), (1, &set));
    }

    #[test]
    fn a_new_session_replaces_an_old_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv.journal");
        fs::write(&path, b"old session\n").unwrap();
        let set = LabelSet::new(vec![Label::new(1.0, 1.0, "a")]);
        let mut journal = EditJournal::new(path.clone());
        journal
            .record(Some(&Edit::Insert(Label::new(1.0, 1.0, "a"))), &set)
            .unwrap();
        assert_eq!(replay_journal(&path).unwrap().unwrap().labels, set);
    }

    #[test]
    fn a_record_cut_short_ends_the_replay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv.journal");
        let mut set = LabelSet::default();
        let mut journal = EditJournal::new(path.clone());
        for t in [1.0, 2.0] {
            let edit = Edit::Insert(Label::new(t, 1.0, "a"));
            edit.apply(&mut set).unwrap();
            journal.record(Some(&edit), &set).unwrap();
        }
        let whole = fs::read(&path).unwrap();
        let edit = Edit::Insert(Label::new(3.0, 1.0, "a"));
        let mut after = set.clone();
        edit.apply(&mut after).unwrap();
        journal.record(Some(&edit), &after).unwrap();
        let full = fs::read(&path).unwrap();
        // Every cut inside the third record gives the first two edits back.
        for cut in whole.len()..full.len() {
            fs::write(&path, &full[..cut]).unwrap();
            let replay = replay_journal(&path).unwrap().unwrap();
            assert_eq!((replay.edits, &replay.labels), (2, &set), "cut at {cut}");
        }
        fs::write(&path, &full).unwrap();
        assert_eq!(replay_journal(&path).unwrap().unwrap().labels, after);
        // Garbage or an edit that does not apply ends it too.
        let mut bad = whole.clone();
        bad.extend_from_slice(b"{\"edit\":{\"remove\":{\"onset_s\":\"9\",\"duration_s\":\"1\",\"trial_type\":\"zz\"}}}\n");
        bad.extend_from_slice(&full[whole.len()..]);
        fs::write(&path, &bad).unwrap();
        assert_eq!(replay_journal(&path).unwrap().unwrap().labels, set);
        // A journal without a whole first snapshot holds nothing.
        fs::write(&path, &full[..10]).unwrap();
        assert_eq!(replay_journal(&path).unwrap(), None);
    }

    #[test]
    fn a_replacement_is_recorded_as_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv.journal");
        let mut set = LabelSet::new(vec![Label::new(1.0, 1.0, "a")]);
        let mut journal = EditJournal::new(path.clone());
        let first = Edit::Insert(Label::new(2.0, 1.0, "b"));
        first.apply(&mut set).unwrap();
        journal.record(Some(&first), &set).unwrap();
        let replace = Edit::Replace {
            before: set.clone(),
            after: LabelSet {
                labels: vec![Label {
                    extra: vec!["r1".into()],
                    ..Label::new(4.0, 0.0, "c")
                }],
                extra_columns: vec!["rater".into()],
            },
        };
        replace.apply(&mut set).unwrap();
        journal.record(Some(&replace), &set).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(
            text.lines().all(|l| l.starts_with("{\"snapshot\"")),
            "{text}"
        );
        let replay = replay_journal(&path).unwrap().unwrap();
        assert_eq!((replay.edits, &replay.labels), (2, &set));
    }
}
