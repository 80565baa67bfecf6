//! Reading label tables: the BIDS `events.tsv` and the label CSV, both
//! through one parser of a header row and one label per row.

use std::fs;
use std::path::Path;

use super::{Label, LabelSet};
use crate::recording::RecordingError;

/// The marker BIDS uses for a missing value.
pub(super) const NA: &str = "n/a";

/// The trial type given to events of a file that has neither a `trial_type`
/// nor a `value` column.
const DEFAULT_TRIAL_TYPE: &str = "event";

/// Reads a BIDS `events.tsv`: tab-separated, a header row with `onset` and
/// `duration` columns (seconds) in any order, the class from `trial_type` (else
/// from `value`, else `"event"`), and any other columns kept as extras (a
/// `value` column used as the class is kept too).
///
/// Rows whose onset is `n/a` are skipped; a duration of `n/a` (or empty) is 0 s.
/// A UTF-8 BOM, CRLF line ends and blank lines are tolerated. A non-numeric
/// onset, a negative duration or a row with the wrong number of columns is an
/// error naming the line. The labels come back sorted.
pub fn read_events_tsv(path: &Path) -> Result<LabelSet, RecordingError> {
    crate::io_guard::note(path);
    let text = read_text(path)?;
    parse_events_text(path, &text)
}

/// Parses the text of an `events.tsv` (see [`read_events_tsv`]); `path` only
/// names the file in errors.
pub(super) fn parse_events_text(path: &Path, text: &str) -> Result<LabelSet, RecordingError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let layout = Layout {
        onset: "onset",
        duration: "duration",
        class: &["trial_type", "value"],
        default_class: Some(DEFAULT_TRIAL_TYPE),
    };
    parse_table(path, text, &layout, |line| {
        line.split('\t').map(str::to_owned).collect()
    })
}

/// Reads a label CSV with a header naming the columns `onset_s`, `duration_s`
/// (seconds) and `label` (the class), in any order; other columns are kept as
/// extras. Fields may be double-quoted. Otherwise the rules of
/// [`read_events_tsv`] apply (`n/a` onsets skipped, `n/a` durations 0 s, errors
/// name the line). The labels come back sorted.
pub fn read_labels_csv(path: &Path) -> Result<LabelSet, RecordingError> {
    crate::io_guard::note(path);
    let text = read_text(path)?;
    let layout = Layout {
        onset: "onset_s",
        duration: "duration_s",
        class: &["label"],
        default_class: None,
    };
    parse_table(path, &text, &layout, split_csv_line)
}

/// The file as UTF-8 text, without a leading byte order mark.
fn read_text(path: &Path) -> Result<String, RecordingError> {
    let bytes = fs::read(path).map_err(|e| RecordingError::io(path, e))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(RecordingError::invalid(
                path,
                format!("line {line}: not UTF-8 text"),
            ))
        }
    }
}

/// The column names a label table uses.
struct Layout {
    /// Name of the onset column (seconds).
    onset: &'static str,
    /// Name of the duration column (seconds).
    duration: &'static str,
    /// Names that may hold the class, the first found wins.
    class: &'static [&'static str],
    /// The class when no column holds it; `None` makes the class column required.
    default_class: Option<&'static str>,
}

/// Where each column of a table sits.
struct Columns {
    onset: usize,
    duration: usize,
    class: Option<usize>,
    extra: Vec<usize>,
    count: usize,
}

/// Parses a label table: header, then one label per non-blank row.
fn parse_table(
    path: &Path,
    text: &str,
    layout: &Layout,
    split: impl Fn(&str) -> Vec<String>,
) -> Result<LabelSet, RecordingError> {
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty());

    let Some((header_line, header)) = lines.next() else {
        return Err(RecordingError::invalid(
            path,
            format!(
                "empty file: expected a header row with `{}` and `{}` columns",
                layout.onset, layout.duration
            ),
        ));
    };
    let names: Vec<String> = split(header).iter().map(|n| n.trim().to_owned()).collect();
    let columns = find_columns(path, header_line, &names, layout)?;

    let mut set = LabelSet {
        labels: Vec::new(),
        extra_columns: columns.extra.iter().map(|&i| names[i].clone()).collect(),
    };
    for (line_no, line) in lines {
        let cells = split(line);
        if cells.len() != columns.count {
            return Err(RecordingError::invalid(
                path,
                format!(
                    "line {line_no}: {} columns, but the header has {}",
                    cells.len(),
                    columns.count
                ),
            ));
        }
        let onset = cells[columns.onset].trim();
        if onset == NA {
            continue;
        }
        let onset_s = parse_seconds(onset).ok_or_else(|| {
            RecordingError::invalid(
                path,
                format!("line {line_no}: onset `{onset}` is not a number"),
            )
        })?;
        let duration = cells[columns.duration].trim();
        let duration_s = if duration == NA || duration.is_empty() {
            0.0
        } else {
            parse_seconds(duration).ok_or_else(|| {
                RecordingError::invalid(
                    path,
                    format!("line {line_no}: duration `{duration}` is not a number"),
                )
            })?
        };
        if duration_s < 0.0 {
            return Err(RecordingError::invalid(
                path,
                format!("line {line_no}: negative duration {duration}"),
            ));
        }
        let trial_type = match columns.class {
            Some(i) => cells[i].clone(),
            None => layout
                .default_class
                .unwrap_or(DEFAULT_TRIAL_TYPE)
                .to_owned(),
        };
        let extra = columns.extra.iter().map(|&i| cells[i].clone()).collect();
        set.labels.push(Label {
            onset_s,
            duration_s,
            trial_type,
            extra,
        });
    }
    Ok(set.sorted())
}

/// Finds the layout's columns in a header row.
fn find_columns(
    path: &Path,
    line_no: usize,
    names: &[String],
    layout: &Layout,
) -> Result<Columns, RecordingError> {
    let position = |wanted: &str| -> Result<Option<usize>, RecordingError> {
        let mut found = names.iter().enumerate().filter(|(_, n)| *n == wanted);
        let first = found.next().map(|(i, _)| i);
        if found.next().is_some() {
            return Err(RecordingError::invalid(
                path,
                format!("line {line_no}: the header names column `{wanted}` twice"),
            ));
        }
        Ok(first)
    };
    let required = |wanted: &str| -> Result<usize, RecordingError> {
        position(wanted)?.ok_or_else(|| {
            RecordingError::invalid(
                path,
                format!(
                    "line {line_no}: the header has no `{wanted}` column (it reads `{}`)",
                    names.join(" | ")
                ),
            )
        })
    };

    let onset = required(layout.onset)?;
    let duration = required(layout.duration)?;
    let mut class = None;
    for name in layout.class {
        if let Some(i) = position(name)? {
            class = Some((name, i));
            break;
        }
    }
    if class.is_none()
        && layout.default_class.is_none()
        && let Some(name) = layout.class.first()
    {
        required(name)?;
    }
    // A `value` column standing in for `trial_type` is kept as an extra too, so
    // that writing the set back loses nothing.
    let class_is_own_column = class.is_some_and(|(name, _)| Some(name) == layout.class.first());
    let extra = (0..names.len())
        .filter(|&i| i != onset && i != duration)
        .filter(|&i| !(class_is_own_column && class.is_some_and(|(_, c)| c == i)))
        .collect();
    Ok(Columns {
        onset,
        duration,
        class: class.map(|(_, i)| i),
        extra,
        count: names.len(),
    })
}

/// A finite number of seconds, or `None`.
fn parse_seconds(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Splits one CSV line into fields: commas separate, double quotes enclose a
/// field that may hold commas, `""` inside quotes is a quote.
pub(super) fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}
