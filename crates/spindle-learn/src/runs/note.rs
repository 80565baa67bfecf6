//! `note.json`: what the user says about a run (pinned on top of the list,
//! tags, a free-text note), kept in the run folder beside what training
//! wrote so that it travels with the run. Written atomically; a missing
//! file is an empty note, a damaged or hand-edited one an error naming it.

use std::path::{Path, PathBuf};

use super::RunsError;

/// The note's file name in a run folder.
pub const NOTE_JSON: &str = "note.json";

/// A `note.json` larger than this is refused before it is read.
pub const MAX_NOTE_BYTES: u64 = 1 << 20;

/// What the user says about a run (`note.json`). Every field may be left out
/// of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunNote {
    /// Listed above the other runs.
    pub pinned: bool,
    /// Short words to filter and group by (`baseline`, `paper`), in the
    /// order given, without duplicates or blanks.
    pub tags: Vec<String>,
    /// Free text.
    pub note: String,
}

impl RunNote {
    /// True when the note says nothing (not pinned, no tags, no text).
    pub fn is_empty(&self) -> bool {
        !self.pinned && self.tags.is_empty() && self.note.trim().is_empty()
    }

    /// The tags of a comma-separated list such as `baseline, paper`:
    /// trimmed, blanks and repeats dropped.
    pub fn parse_tags(text: &str) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }
        tags
    }

    /// The note's file in run folder `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(NOTE_JSON)
    }

    /// Reads the note of run folder `dir`: `Ok(None)` without a `note.json`,
    /// an error naming the file when it cannot be read, is too large or is
    /// not a note.
    pub fn load(dir: &Path) -> Result<Option<Self>, RunsError> {
        let path = Self::path(dir);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RunsError::io(&path, e)),
        };
        if meta.len() > MAX_NOTE_BYTES {
            return Err(RunsError::Invalid {
                path,
                message: format!(
                    "{} bytes, more than a note can be ({MAX_NOTE_BYTES})",
                    meta.len()
                ),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RunsError::io(&path, e))?;
        let note: Self = serde_json::from_str(&text)
            .map_err(|e| RunsError::json(&path, format!("not a run note: {e}")))?;
        Ok(Some(note))
    }

    /// Writes the note into run folder `dir` atomically (a reader sees the
    /// old note or the new one); an empty note removes the file. Refuses a
    /// folder that is not a run folder.
    pub fn save(&self, dir: &Path) -> Result<(), RunsError> {
        if !super::is_run_dir(dir) {
            return Err(RunsError::Invalid {
                path: dir.to_path_buf(),
                message: "not a run folder (no run.json or metrics.csv)".into(),
            });
        }
        let path = Self::path(dir);
        if self.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(RunsError::io(&path, e)),
                _ => Ok(()),
            };
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| RunsError::json(&path, e))?;
        spindle_signals::recording::write_atomic(&path, text.as_bytes()).map_err(|e| {
            RunsError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_removes_an_empty_note() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert!(RunNote::load(dir).unwrap().is_none());
        let note = RunNote {
            pinned: true,
            tags: RunNote::parse_tags(" baseline, paper,,baseline "),
            note: "lr too high?".into(),
        };
        assert_eq!(note.tags, vec!["baseline", "paper"]);
        // Not a run folder yet.
        assert!(note.save(dir).is_err());
        std::fs::write(dir.join("metrics.csv"), "h\n").unwrap();
        note.save(dir).unwrap();
        assert_eq!(RunNote::load(dir).unwrap(), Some(note));
        RunNote::default().save(dir).unwrap();
        assert!(!dir.join(NOTE_JSON).exists());
        RunNote::default().save(dir).unwrap();
    }

    #[test]
    fn a_damaged_note_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join(NOTE_JSON), "{\"pinned\": yes").unwrap();
        let e = RunNote::load(dir).unwrap_err().to_string();
        assert!(
            e.starts_with(&dir.join(NOTE_JSON).display().to_string()),
            "{e}"
        );
        assert!(e.contains("not a run note"), "{e}");
        std::fs::write(dir.join(NOTE_JSON), "{\"colour\": 3}").unwrap();
        assert!(RunNote::load(dir).is_err());
        // Only some fields: the rest default.
        std::fs::write(dir.join(NOTE_JSON), "{\"tags\": [\"a\"]}").unwrap();
        let n = RunNote::load(dir).unwrap().unwrap();
        assert_eq!(n.tags, vec!["a"]);
        assert!(!n.pinned);
    }
}
