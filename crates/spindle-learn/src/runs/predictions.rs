//! `predictions.tsv`: one row per test window of a finished run.

use std::path::{Path, PathBuf};

use super::RunsError;

/// The columns every `predictions.tsv` starts with.
const FIXED_COLUMNS: [&str; 5] = ["file", "onset", "duration", "true", "predicted"];

/// One test window's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    /// The recording the window was cut from, as written.
    pub file: PathBuf,
    /// Start of the window in the recording, seconds.
    pub onset_s: f64,
    /// Length of the window, seconds.
    pub duration_s: f64,
    /// The true class name (regression: the target value as text).
    pub truth: String,
    /// The predicted class name (regression: the predicted value as text).
    pub predicted: String,
    /// The model's probability of each class, in
    /// [`PredictionTable::classes`] order; empty for regression.
    pub probabilities: Vec<f32>,
}

/// The contents of a `predictions.tsv`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictionTable {
    /// Class names from the `p_<class>` columns; empty for regression.
    pub classes: Vec<String>,
    /// The rows in file order.
    pub rows: Vec<PredictionRow>,
}

impl PredictionTable {
    /// Parses the text of a `predictions.tsv` (tab-separated, header `file
    /// onset duration true predicted p_<class>...`); `path` names it in
    /// errors, which give the 1-based line number. Empty lines are skipped.
    pub fn parse(text: &str, path: &Path) -> Result<Self, RunsError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((header_line, header)) = lines.next() else {
            return Err(RunsError::line(path, 1, "empty file: no header"));
        };
        let names: Vec<&str> = header.split('\t').collect();
        if names.len() < FIXED_COLUMNS.len() || names[..FIXED_COLUMNS.len()] != FIXED_COLUMNS {
            return Err(RunsError::line(
                path,
                header_line,
                format!(
                    "not a predictions.tsv header: expected `{}` then `p_<class>` columns",
                    FIXED_COLUMNS.join(" ")
                ),
            ));
        }
        let mut classes = Vec::new();
        for name in &names[FIXED_COLUMNS.len()..] {
            match name.strip_prefix("p_") {
                Some(class) => classes.push(class.to_string()),
                None => {
                    return Err(RunsError::line(
                        path,
                        header_line,
                        format!("column `{name}` is not a class probability `p_<class>`"),
                    ));
                }
            }
        }
        let mut rows = Vec::new();
        for (n, line) in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != names.len() {
                return Err(RunsError::line(
                    path,
                    n,
                    format!("expected {} columns, found {}", names.len(), fields.len()),
                ));
            }
            let number = |i: usize| -> Result<f64, RunsError> {
                fields[i].trim().parse().map_err(|_| {
                    RunsError::line(
                        path,
                        n,
                        format!("{} `{}` is not a number", names[i], fields[i]),
                    )
                })
            };
            let onset_s = number(1)?;
            let duration_s = number(2)?;
            let mut probabilities = Vec::with_capacity(classes.len());
            for i in FIXED_COLUMNS.len()..fields.len() {
                let p: f32 = fields[i].trim().parse().map_err(|_| {
                    RunsError::line(
                        path,
                        n,
                        format!("{} `{}` is not a number", names[i], fields[i]),
                    )
                })?;
                probabilities.push(p);
            }
            rows.push(PredictionRow {
                file: PathBuf::from(fields[0]),
                onset_s,
                duration_s,
                truth: fields[3].to_string(),
                predicted: fields[4].to_string(),
                probabilities,
            });
        }
        Ok(Self { classes, rows })
    }

    /// Reads and parses the `predictions.tsv` at `path`.
    pub fn load(path: &Path) -> Result<Self, RunsError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunsError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// True when the run was a regression (no probability columns).
    pub fn is_regression(&self) -> bool {
        self.classes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSIFICATION: &str = "file\tonset\tduration\ttrue\tpredicted\tp_wake\tp_n2\n\
        data/a.edf\t0.000\t30.000\twake\twake\t0.9000\t0.1000\n\
        data/b c.edf\t30.000\t30.000\tn2\twake\t0.6000\t0.4000\n\
        \n";

    #[test]
    fn parses_classification_rows() {
        let t = PredictionTable::parse(CLASSIFICATION, Path::new("p.tsv")).unwrap();
        assert_eq!(t.classes, vec!["wake", "n2"]);
        assert!(!t.is_regression());
        assert_eq!(t.rows.len(), 2);
        let b = &t.rows[1];
        assert_eq!(b.file, PathBuf::from("data/b c.edf"));
        assert_eq!((b.onset_s, b.duration_s), (30.0, 30.0));
        assert_eq!((b.truth.as_str(), b.predicted.as_str()), ("n2", "wake"));
        assert_eq!(b.probabilities, vec![0.6, 0.4]);
    }

    #[test]
    fn parses_regression_rows() {
        let text = "file\tonset\tduration\ttrue\tpredicted\nx.wav\t1.500\t2.000\t3.25\t3.1\n";
        let t = PredictionTable::parse(text, Path::new("p.tsv")).unwrap();
        assert!(t.is_regression());
        assert_eq!(t.rows[0].onset_s, 1.5);
        assert_eq!(t.rows[0].truth, "3.25");
        assert_eq!(t.rows[0].predicted, "3.1");
        assert!(t.rows[0].probabilities.is_empty());
    }

    #[test]
    fn bad_lines_give_their_number() {
        let path = Path::new("run/predictions.tsv");
        let short = CLASSIFICATION.replace("\t0.4000", "");
        let err = PredictionTable::parse(&short, path)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "run/predictions.tsv: line 3: expected 7 columns, found 6"
        );
        let bad_number = CLASSIFICATION.replace("0.9000", "high");
        let err = PredictionTable::parse(&bad_number, path)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "run/predictions.tsv: line 2: p_wake `high` is not a number"
        );
        let bad_onset = CLASSIFICATION.replace("\t30.000\t30.000", "\tlate\t30.000");
        let err = PredictionTable::parse(&bad_onset, path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3: onset `late`"), "{err}");
        let bad_header = CLASSIFICATION.replace("p_n2", "n2");
        let err = PredictionTable::parse(&bad_header, path)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("run/predictions.tsv: line 1: column `n2`"),
            "{err}"
        );
        let err = PredictionTable::parse("", path).unwrap_err().to_string();
        assert!(err.contains("line 1: empty file"), "{err}");
        let err = PredictionTable::parse("a\tb\n", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a predictions.tsv header"), "{err}");
    }
}
