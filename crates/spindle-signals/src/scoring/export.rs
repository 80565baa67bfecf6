//! A scoring written for other sleep tools: an annotation-only EDF+
//! hypnogram as Sleep-EDF ships them, or a CSV with one row per epoch.
//! Both are written atomically.

use std::fmt::Write as _;
use std::path::Path;

use super::EpochScoring;
use super::stage::{SLEEP_EDF_UNSCORED, SleepStage, UNSCORED_CODE};
use crate::recording::{
    Annotation, EdfWriteOptions, Format, Recording, RecordingError, StartTime, write_atomic,
    write_edf,
};

/// What the hypnogram file takes from the scored recording's header.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HypnogramHeader {
    /// When the recording started (the file's start date and time).
    pub start: Option<StartTime>,
    /// Patient identification (EDF header), or empty.
    pub patient: String,
    /// Recording identification (EDF header), or empty.
    pub recording_id: String,
}

impl HypnogramHeader {
    /// The header fields of `recording`.
    pub fn of(recording: &Recording) -> Self {
        Self {
            start: recording.start,
            patient: recording.patient.clone(),
            recording_id: recording.recording_id.clone(),
        }
    }
}

/// The hypnogram as an annotation-only recording: one annotation per epoch,
/// named as Sleep-EDF names them (`Sleep stage W`, `Sleep stage 1`, `Sleep
/// stage 2`, `Sleep stage 3`, `Sleep stage R`, and `Sleep stage ?` for an
/// unscored epoch), onsets in seconds from the recording's start.
pub fn hypnogram_recording(
    path: &Path,
    scoring: &EpochScoring,
    header: &HypnogramHeader,
) -> Recording {
    let annotations = scoring
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| Annotation {
            onset_s: scoring.onset_s(i),
            duration_s: Some(scoring.epoch_s),
            text: s
                .map_or(SLEEP_EDF_UNSCORED, SleepStage::sleep_edf_name)
                .to_owned(),
        })
        .collect();
    Recording {
        path: path.to_path_buf(),
        format: Format::EdfPlusC,
        patient: header.patient.clone(),
        recording_id: header.recording_id.clone(),
        start: header.start,
        channels: Vec::new(),
        annotations,
        segments: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Writes the hypnogram as EDF+C with one annotation signal and data
/// records of one epoch each (see [`hypnogram_recording`]), atomically.
pub fn write_hypnogram_edf(
    path: &Path,
    scoring: &EpochScoring,
    header: &HypnogramHeader,
) -> Result<(), RecordingError> {
    let rec = hypnogram_recording(path, scoring, header);
    let options = EdfWriteOptions {
        record_duration_s: scoring.epoch_s,
        ..EdfWriteOptions::default()
    };
    write_edf(path, &rec, &options)
}

/// The header of the hypnogram CSV before any probability column.
pub const CSV_HEADER: &str = "onset_s,duration_s,stage,code";

/// The hypnogram as CSV: header [`CSV_HEADER`], then when the scoring
/// comes from a run `confidence` and `p_<stage>` per stage the model knows
/// (hypnogram order); one row per epoch: onset and duration in seconds (3
/// decimals), the stage (`W`, `N1`, `N2`, `N3`, `REM`, `?` unscored), YASA's
/// integer code (W 0, N1 1, N2 2, N3 3, REM 4, unscored -2), and the
/// model's largest probability and its probabilities (4 decimals; empty for
/// an epoch it did not predict).
pub fn hypnogram_csv(scoring: &EpochScoring) -> String {
    let mut out = String::from(CSV_HEADER);
    let columns: Vec<(SleepStage, usize)> = scoring
        .probabilities
        .as_ref()
        .map(|p| {
            SleepStage::ALL
                .into_iter()
                .filter_map(|s| p.classes.iter().position(|c| *c == s).map(|i| (s, i)))
                .collect()
        })
        .unwrap_or_default();
    if scoring.probabilities.is_some() {
        out.push_str(",confidence");
        for (s, _) in &columns {
            let _ = write!(out, ",p_{}", s.name());
        }
    }
    out.push('\n');
    for (i, stage) in scoring.stages.iter().enumerate() {
        let (name, code) = stage.map_or(("?", UNSCORED_CODE), |s| (s.name(), s.yasa_code()));
        let _ = write!(
            out,
            "{:.3},{:.3},{name},{code}",
            scoring.onset_s(i),
            scoring.epoch_s
        );
        if let Some(p) = &scoring.probabilities {
            let row = p.per_epoch.get(i).filter(|r| !r.is_empty());
            match (row, scoring.confidence(i)) {
                (Some(row), Some(c)) => {
                    let _ = write!(out, ",{c:.4}");
                    for (_, k) in &columns {
                        let _ = write!(out, ",{:.4}", row.get(*k).copied().unwrap_or(0.0));
                    }
                }
                _ => out.push_str(&",".repeat(columns.len() + 1)),
            }
        }
        out.push('\n');
    }
    out
}

/// Writes [`hypnogram_csv`] to `path`, atomically.
pub fn write_hypnogram_csv(path: &Path, scoring: &EpochScoring) -> Result<(), RecordingError> {
    write_atomic(path, hypnogram_csv(scoring).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{labels_for_recording, read_recording};
    use crate::scoring::SleepStage::*;
    use crate::scoring::{StageProbabilities, read_scoring_file};

    fn scoring() -> EpochScoring {
        EpochScoring::new(
            30.0,
            0.0,
            vec![Some(W), Some(N1), Some(N2), Some(N3), None, Some(Rem)],
        )
    }

    #[test]
    fn the_edf_hypnogram_reads_back_as_the_same_scoring_and_as_the_recordings_labels() {
        let dir = tempfile::tempdir().unwrap();
        // The scored recording: X.edf, with no label file of its own.
        let data = dir.path().join("night.edf");
        std::fs::write(&data, b"only its name matters here").unwrap();
        let path = dir.path().join("night-Hypnogram.edf");
        let header = HypnogramHeader {
            start: Some(StartTime {
                year: 2026,
                month: 3,
                day: 14,
                hour: 22,
                minute: 45,
                second: 0.0,
            }),
            patient: "X X X X".into(),
            recording_id: String::new(),
        };
        write_hypnogram_edf(&path, &scoring(), &header).unwrap();
        // One data record per epoch (header: records at byte 236, their
        // duration at 244), so that no record nears EDF+'s 61,440 bytes.
        let bytes = std::fs::read(&path).unwrap();
        let field = |at: usize| {
            String::from_utf8_lossy(&bytes[at..at + 8])
                .trim()
                .to_owned()
        };
        assert_eq!((field(236), field(244)), ("6".to_owned(), "30".to_owned()));
        let rec = read_recording(&path).unwrap();
        assert!(rec.channels.is_empty());
        assert_eq!(rec.format, Format::EdfPlusC);
        assert_eq!(rec.start, header.start);
        assert_eq!(rec.duration_s(), 180.0);
        let texts: Vec<&str> = rec.annotations.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Sleep stage W",
                "Sleep stage 1",
                "Sleep stage 2",
                "Sleep stage 3",
                "Sleep stage ?",
                "Sleep stage R"
            ]
        );
        let back = read_scoring_file(&path, None).unwrap().scoring.unwrap();
        assert_eq!(back, scoring());
        // Paired by name, it is the recording's labels.
        let (labels, _) = labels_for_recording(&data, &[]).unwrap();
        let paired = EpochScoring::from_labels(&labels, None).unwrap().unwrap();
        assert_eq!(paired, scoring());
    }

    #[test]
    fn the_csv_has_one_row_per_epoch_with_yasa_codes_and_probabilities() {
        let mut s = scoring();
        assert_eq!(
            hypnogram_csv(&s).lines().nth(5),
            Some("120.000,30.000,?,-2"),
            "unscored is YASA's -2"
        );
        s.probabilities = Some(StageProbabilities {
            classes: vec![N2, W, Rem, N1, N3],
            per_epoch: vec![
                vec![0.1, 0.6, 0.1, 0.1, 0.1],
                vec![0.2, 0.1, 0.1, 0.5, 0.1],
                vec![0.7, 0.1, 0.1, 0.05, 0.05],
                vec![0.1, 0.1, 0.1, 0.1, 0.6],
                vec![],
                vec![0.1, 0.1, 0.8, 0.0, 0.0],
            ],
        });
        let text = hypnogram_csv(&s);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "onset_s,duration_s,stage,code,confidence,p_W,p_N1,p_N2,p_N3,p_REM"
        );
        assert_eq!(
            lines[1],
            "0.000,30.000,W,0,0.6000,0.6000,0.1000,0.1000,0.1000,0.1000"
        );
        assert_eq!(lines[5], "120.000,30.000,?,-2,,,,,,");
        assert_eq!(
            lines[6],
            "150.000,30.000,REM,4,0.8000,0.1000,0.0000,0.1000,0.0000,0.8000"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("night.csv");
        write_hypnogram_csv(&path, &s).unwrap();
        let back = read_scoring_file(&path, None).unwrap().scoring.unwrap();
        assert_eq!(back.stages, s.stages);
    }
}
