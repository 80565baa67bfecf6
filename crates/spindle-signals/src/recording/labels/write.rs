//! Writing the `events.tsv` sidecar, atomically and with a backup of the
//! version it replaces.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::read::{NA, parse_events_text};
use super::{Label, LabelSet, backup_path};
use crate::recording::{RecordingError, write_atomic};

/// Writes `labels` as a BIDS `events.tsv`, atomically (see [`write_atomic`]):
/// header `onset\tduration\ttrial_type` plus the extra columns, one row per label
/// in sorted order, seconds with exactly 3 decimals. Tabs and line breaks inside
/// text become spaces and empty text becomes `n/a`; a label with fewer extra
/// values than there are extra columns gets `n/a` for the rest.
///
/// The file before the last one replaced is kept as the backup
/// [`backup_path`] (`X_events.tsv.bak`), itself written atomically before the
/// new file replaces the old: when the process dies at any moment, the file
/// holds the old labels or the new ones, and the backup a version that reads.
/// The backup is left alone when the old file holds the same text as the new
/// one, or does not read as a label table (a damaged file never replaces a good
/// backup). An old file that exists but cannot be read is an error, and
/// nothing is written.
///
/// Non-finite times, a negative duration, more extra values than extra columns,
/// or an extra column named like a standard one is an error.
pub fn write_events_tsv(path: &Path, labels: &LabelSet) -> Result<(), RecordingError> {
    crate::io_guard::note(path);
    let text = events_tsv_text(path, labels)?;
    match fs::read(path) {
        Ok(old) => {
            let readable = std::str::from_utf8(&old)
                .ok()
                .is_some_and(|old| old != text && parse_events_text(path, old).is_ok());
            if readable {
                write_atomic(&backup_path(path), &old)?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(RecordingError::io(path, e)),
    }
    write_atomic(path, text.as_bytes())
}

/// The text [`write_events_tsv`] writes for `labels`, with its checks; `path`
/// only names the file in errors.
pub fn events_tsv_text(path: &Path, labels: &LabelSet) -> Result<String, RecordingError> {
    let mut out = String::from("onset\tduration\ttrial_type");
    for name in &labels.extra_columns {
        let name = clean_text(name);
        if matches!(name.as_str(), "onset" | "duration" | "trial_type") {
            return Err(RecordingError::invalid(
                path,
                format!("extra column `{name}` has the name of a standard column"),
            ));
        }
        out.push('\t');
        out.push_str(&name);
    }
    out.push('\n');

    let mut order: Vec<&Label> = labels.labels.iter().collect();
    order.sort_by(|a, b| a.order(b));
    for label in order {
        let what = || format!("label `{}` at {} s", label.trial_type, label.onset_s);
        if !label.onset_s.is_finite() || !label.duration_s.is_finite() {
            return Err(RecordingError::invalid(
                path,
                format!("{}: onset or duration is not a finite number", what()),
            ));
        }
        if label.duration_s < 0.0 {
            return Err(RecordingError::invalid(
                path,
                format!("{}: negative duration {} s", what(), label.duration_s),
            ));
        }
        if label.extra.len() > labels.extra_columns.len() {
            return Err(RecordingError::invalid(
                path,
                format!(
                    "{}: {} extra values but {} extra columns",
                    what(),
                    label.extra.len(),
                    labels.extra_columns.len()
                ),
            ));
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{}\t{}\t{}",
            seconds(label.onset_s),
            seconds(label.duration_s),
            clean_text(&label.trial_type)
        );
        for i in 0..labels.extra_columns.len() {
            out.push('\t');
            out.push_str(&clean_text(label.extra.get(i).map_or("", String::as_str)));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Seconds with millisecond precision, without a `-0.000`.
fn seconds(value_s: f64) -> String {
    let text = format!("{value_s:.3}");
    if text == "-0.000" {
        "0.000".to_owned()
    } else {
        text
    }
}

/// A cell's text: tabs and line breaks replaced by spaces, empty as `n/a`.
fn clean_text(text: &str) -> String {
    if text.is_empty() {
        return NA.to_owned();
    }
    text.replace(['\t', '\n', '\r'], " ")
}
