//! Reading a scorer's file: a BIDS `events.tsv`, an EDF+ file's annotations
//! (a Sleep-EDF hypnogram or any annotated recording), or a CSV, split into
//! an epoch scoring and event labels.
//!
//! CSV layouts, told apart by the header (names case-insensitive):
//! - `onset_s,duration_s,label`: Spindle's label CSV
//!   ([`read_labels_csv`]);
//! - a column `stage` (or `hypno`, `hypnogram`, `sleep_stage`), with
//!   `onset_s`/`onset` and `duration_s`/`duration` columns or without
//!   (then one row per epoch from 0 s): stage names, or YASA's integer codes
//!   (W 0, N1 1, N2 2, N3 3, REM 4, -1 artefact and -2 unscored: both
//!   unscored). This reads Spindle's hypnogram CSV and YASA's
//!   `Hypnogram.as_int().to_csv()`;
//! - no header, one integer code per line: YASA's `np.savetxt` of a
//!   hypnogram, one row per epoch from 0 s.

use std::path::{Path, PathBuf};

use super::EpochScoring;
use super::epochs::{DEFAULT_EPOCH_S, ScoredLabels, split_labels};
use super::export::HypnogramHeader;
use super::stage::{SleepStage, StageName, parse_stage};
use crate::recording::{
    Label, LabelSet, LabelSource, RecordingError, labels_for_recording, open_for_viewing,
    read_events_tsv, read_labels_csv,
};

/// Names of a CSV column of stages.
const STAGE_COLUMNS: [&str; 4] = ["stage", "hypno", "hypnogram", "sleep_stage"];

/// Reads the scorer's file at `path` (see the module documentation) and
/// splits its labels as [`split_labels`] does, with epochs of `epoch_s`
/// (inferred when `None`; a CSV without times uses it, or 30 s). Labels that
/// are not a regular epoch scoring are an error naming the file and the
/// label at fault.
pub fn read_scoring_file(
    path: &Path,
    epoch_s: Option<f64>,
) -> Result<ScoredLabels, RecordingError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let labels = match ext.as_str() {
        "csv" => read_stage_csv(path, epoch_s.unwrap_or(DEFAULT_EPOCH_S))?,
        "tsv" => read_events_tsv(path)?,
        // A recording's annotations, read without decoding its samples (a
        // whole-night PSG given as a scorer's file stays on disk).
        _ => {
            let (rec, _) = open_for_viewing(path, 0)?;
            if rec.annotations.is_empty() {
                return Err(RecordingError::invalid(
                    path,
                    "holds no annotations to use as labels",
                ));
            }
            LabelSet::from_annotations(&rec.annotations)
        }
    };
    split_labels(&labels, epoch_s)
        .map_err(|e| RecordingError::invalid(path, format!("not a regular epoch scoring: {e}")))
}

/// The scoring of a recording and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingScoring {
    /// The file the labels were read from: the sidecar, a paired or given
    /// label file, or the recording itself (its annotations).
    pub source: PathBuf,
    /// The scoring of its sleep-stage labels.
    pub scoring: EpochScoring,
    /// The other labels, and notes on how the labels were read.
    pub labels: ScoredLabels,
    /// The recording's header fields for a hypnogram file.
    pub header: HypnogramHeader,
}

/// The header fields of the recording at `path`, read without decoding
/// samples.
pub fn read_hypnogram_header(path: &Path) -> Result<HypnogramHeader, RecordingError> {
    let (rec, _) = open_for_viewing(path, 0)?;
    Ok(HypnogramHeader::of(&rec))
}

/// The epoch scoring of `recording`: from `labels` when given (any file
/// [`read_scoring_file`] reads), else from the recording's own labels
/// ([`labels_for_recording`]: its `events.tsv` sidecar, a hypnogram paired
/// by name, or its annotations). Errors name the file at fault: one that is
/// not a regular scoring, or that holds no sleep-stage label.
pub fn read_recording_scoring(
    recording: &Path,
    labels: Option<&Path>,
    epoch_s: Option<f64>,
) -> Result<RecordingScoring, RecordingError> {
    let (rec, _) = open_for_viewing(recording, 0)?;
    let header = HypnogramHeader::of(&rec);
    let (source, split) = match labels {
        Some(file) => (file.to_path_buf(), read_scoring_file(file, epoch_s)?),
        None => {
            let (set, from) = labels_for_recording(recording, &rec.annotations)?;
            let source = match from {
                LabelSource::Sidecar(p) | LabelSource::LabelFile(p) => p,
                LabelSource::FileAnnotations | LabelSource::None => recording.to_path_buf(),
            };
            let split = split_labels(&set, epoch_s).map_err(|e| {
                RecordingError::invalid(&source, format!("not a regular epoch scoring: {e}"))
            })?;
            (source, split)
        }
    };
    let Some(scoring) = split.scoring.clone() else {
        let mut classes = split.events.classes();
        classes.truncate(8);
        let what = if classes.is_empty() {
            "holds no labels".to_owned()
        } else {
            format!(
                "holds no sleep-stage labels (its classes: {})",
                classes.join(", ")
            )
        };
        return Err(RecordingError::invalid(&source, what));
    };
    Ok(RecordingScoring {
        source,
        scoring,
        labels: split,
        header,
    })
}

/// The labels of a CSV of one of the module's layouts.
fn read_stage_csv(path: &Path, epoch_s: f64) -> Result<LabelSet, RecordingError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecordingError::io(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(RecordingError::invalid(path, "the file is empty"));
    };
    let names: Vec<String> = header
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let column = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
    if header.trim().parse::<i32>().is_ok() {
        // No header: every line (the first included) is a code.
        let rows = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty());
        return stage_rows(path, rows, 0, None, None, epoch_s);
    }
    let Some(stage) = column(&STAGE_COLUMNS) else {
        return read_labels_csv(path);
    };
    let onset = column(&["onset_s", "onset"]);
    let duration = column(&["duration_s", "duration"]);
    stage_rows(path, lines, stage, onset, duration, epoch_s)
}

/// Labels from CSV rows `(line number, text)`: the stage in column
/// `stage`, times from the `onset` and `duration` columns or, without them,
/// one epoch of `epoch_s` per row from 0 s.
fn stage_rows<'a>(
    path: &Path,
    rows: impl Iterator<Item = (usize, &'a str)>,
    stage: usize,
    onset: Option<usize>,
    duration: Option<usize>,
    epoch_s: f64,
) -> Result<LabelSet, RecordingError> {
    let mut labels = Vec::new();
    for (row, (line, text)) in rows.enumerate() {
        let fields: Vec<&str> = text
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        let field = |i: usize| {
            fields.get(i).copied().ok_or_else(|| {
                RecordingError::invalid(path, format!("line {line}: has no column {}", i + 1))
            })
        };
        let number = |i: usize, what: &str| -> Result<f64, RecordingError> {
            let f = field(i)?;
            f.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    RecordingError::invalid(
                        path,
                        format!("line {line}: {what} '{f}' is not a number"),
                    )
                })
        };
        let value = field(stage)?;
        let name = match value.parse::<i32>() {
            Ok(code) => SleepStage::from_yasa_code(code).ok_or_else(|| {
                RecordingError::invalid(
                    path,
                    format!("line {line}: {code} is not a YASA stage code (-2 to 4)"),
                )
            })?,
            Err(_) => parse_stage(value).ok_or_else(|| {
                RecordingError::invalid(
                    path,
                    format!("line {line}: '{value}' is not a sleep stage"),
                )
            })?,
        };
        let onset_s = match onset {
            Some(i) => number(i, "onset")?,
            None => row as f64 * epoch_s,
        };
        let duration_s = match duration {
            Some(i) => number(i, "duration")?,
            None => epoch_s,
        };
        let class = match name {
            StageName::Stage(s) => s.name(),
            StageName::Unscored => "?",
        };
        labels.push(Label::new(onset_s, duration_s, class));
    }
    Ok(LabelSet::new(labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::SleepStage::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_layouts_of_spindle_and_yasa_read_as_one_scoring() {
        let dir = tempfile::tempdir().unwrap();
        let want = vec![Some(W), Some(N1), Some(N2), Some(N3), Some(Rem), None];
        let files = [
            write(dir.path(), "plain.csv", "0\n1\n2\n3\n4\n-2\n"),
            write(
                dir.path(),
                "yasa.csv",
                "Epoch,Stage\n0,0\n1,1\n2,2\n3,3\n4,4\n5,-1\n",
            ),
            write(
                dir.path(),
                "names.csv",
                "epoch,stage\n0,WAKE\n1,N1\n2,N2\n3,N3\n4,REM\n5,UNS\n",
            ),
            write(
                dir.path(),
                "spindle.csv",
                "onset_s,duration_s,stage,code\n0.000,30.000,W,0\n30.000,30.000,N1,1\n\
                 60.000,30.000,N2,2\n90.000,30.000,N3,3\n120.000,30.000,REM,4\n150.000,30.000,?,-2\n",
            ),
        ];
        for f in &files {
            let s = read_scoring_file(f, None).unwrap().scoring.unwrap();
            assert_eq!(s.stages, want, "{}", f.display());
            assert_eq!(s.epoch_s, 30.0);
        }
        let twenty = read_scoring_file(&files[0], Some(20.0))
            .unwrap()
            .scoring
            .unwrap();
        assert_eq!((twenty.epoch_s, twenty.end_s()), (20.0, 120.0));
    }

    #[test]
    fn bad_rows_and_irregular_labels_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad.csv", "stage\nW\n7\n");
        let err = read_scoring_file(&bad, None).unwrap_err().to_string();
        assert!(
            err.ends_with("bad.csv: line 3: 7 is not a YASA stage code (-2 to 4)"),
            "{err}"
        );
        let odd = write(
            dir.path(),
            "odd_events.tsv",
            "onset\tduration\ttrial_type\n0\t30\tW\n30\t45\tN2\n",
        );
        let err = read_scoring_file(&odd, Some(30.0)).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "odd_events.tsv: not a regular epoch scoring: label 'N2' at 30.000 s lasts 45.000 s, not a whole number of 30-s epochs"
            ),
            "{err}"
        );
        let events = write(
            dir.path(),
            "e.csv",
            "onset_s,duration_s,label\n1,0.5,blink\n",
        );
        let read = read_scoring_file(&events, None).unwrap();
        assert!(read.scoring.is_none());
        assert_eq!(read.events.len(), 1);
    }
}
