//! Labels: the model ([`Label`], [`LabelSet`]) and its files on disk, the BIDS
//! `events.tsv` sidecar (`X.edf` -> `X_events.tsv`) and the
//! `onset_s,duration_s,label` CSV layout.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Annotation, RecordingError, atomic::write_atomic};

/// The marker BIDS uses for a missing value.
const NA: &str = "n/a";

/// The trial type given to events of a file that has neither a `trial_type`
/// nor a `value` column.
const DEFAULT_TRIAL_TYPE: &str = "event";

/// One labeled span (or point, when the duration is 0) of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Start, in seconds from the recording's start (may be negative in BIDS).
    pub onset_s: f64,
    /// Length in seconds, `>= 0`; 0 for a point event.
    pub duration_s: f64,
    /// The class, e.g. `LongBlink`.
    pub trial_type: String,
    /// Values of the extra columns, in the order of [`LabelSet::extra_columns`].
    pub extra: Vec<String>,
}

impl Label {
    /// A label with no extra column values; times in seconds.
    pub fn new(onset_s: f64, duration_s: f64, trial_type: impl Into<String>) -> Self {
        Self {
            onset_s,
            duration_s,
            trial_type: trial_type.into(),
            extra: Vec::new(),
        }
    }

    /// The sort order of labels: by onset, then duration, then trial type.
    pub fn order(&self, other: &Self) -> Ordering {
        self.onset_s
            .total_cmp(&other.onset_s)
            .then(self.duration_s.total_cmp(&other.duration_s))
            .then_with(|| self.trial_type.cmp(&other.trial_type))
    }
}

/// The labels of one recording, with the names of any extra columns their file
/// carries (BIDS allows columns beyond `onset`, `duration`, `trial_type`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSet {
    /// The labels, sorted by [`Label::order`] when read or built here.
    pub labels: Vec<Label>,
    /// Names of the extra columns, in file order.
    pub extra_columns: Vec<String>,
}

impl LabelSet {
    /// A set of labels without extra columns, sorted.
    pub fn new(labels: Vec<Label>) -> Self {
        Self {
            labels,
            extra_columns: Vec::new(),
        }
        .sorted()
    }

    /// Sorts the labels in place by (onset, duration, trial type); stable.
    pub fn sort(&mut self) {
        self.labels.sort_by(Label::order);
    }

    /// The same set with its labels sorted by (onset, duration, trial type).
    pub fn sorted(mut self) -> Self {
        self.sort();
        self
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The distinct trial types, sorted.
    pub fn classes(&self) -> Vec<String> {
        self.counts().into_keys().collect()
    }

    /// How many labels each trial type has, keyed (and so sorted) by trial type.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for label in &self.labels {
            *counts.entry(label.trial_type.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Labels from a file's annotations: the text becomes the trial type and a
    /// missing duration becomes 0 s. Sorted; no extra columns.
    pub fn from_annotations(annotations: &[Annotation]) -> Self {
        Self::new(
            annotations
                .iter()
                .map(|a| Label::new(a.onset_s, a.duration_s.unwrap_or(0.0), a.text.clone()))
                .collect(),
        )
    }

    /// The labels as annotations, in the set's order; a duration of 0 s (a point
    /// event) becomes `None`. Extra column values are dropped.
    pub fn to_annotations(&self) -> Vec<Annotation> {
        self.labels
            .iter()
            .map(|l| Annotation {
                onset_s: l.onset_s,
                duration_s: (l.duration_s != 0.0).then_some(l.duration_s),
                text: l.trial_type.clone(),
            })
            .collect()
    }
}

/// Where the labels of a recording came from.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelSource {
    /// The `X_events.tsv` sidecar at this path.
    Sidecar(PathBuf),
    /// The annotations stored in the recording file itself (EDF+, BDF+, ...).
    FileAnnotations,
    /// A label file beside the recording that pairs with it by name (a
    /// hypnogram: see [`paired_label_file`](super::paired_label_file)), or
    /// one given explicitly.
    LabelFile(PathBuf),
    /// Neither: the recording has no labels.
    None,
}

/// The label sidecar of a recording: `dir/X.edf` -> `dir/X_events.tsv`, for any
/// extension (`.bdf`, `.wav`, `.vhdr`, ...) or none; for a recording named
/// the BIDS way the suffix is replaced instead, as BIDS pairs them:
/// `sub-01_task-demo_eeg.edf` -> `sub-01_task-demo_events.tsv` (see
/// [`bids_base`](super::bids_base)). Labels are read from and saved to
/// this file.
pub fn sidecar_path(recording: &Path) -> PathBuf {
    if let Some(base) = super::bids_base(recording) {
        return recording.with_file_name(format!("{base}_events.tsv"));
    }
    let mut name = recording
        .file_stem()
        .map(OsString::from)
        .unwrap_or_default();
    name.push("_events.tsv");
    recording.with_file_name(name)
}

/// The labels of a recording: its sidecar (see [`sidecar_path`]) when that file
/// exists, even when empty, else a label file paired with it by name (see
/// [`paired_label_file`](super::paired_label_file)), else the recording's
/// own `annotations`.
pub fn labels_for_recording(
    recording_path: &Path,
    annotations: &[Annotation],
) -> Result<(LabelSet, LabelSource), RecordingError> {
    let sidecar = sidecar_path(recording_path);
    let exists = sidecar
        .try_exists()
        .map_err(|e| RecordingError::io(&sidecar, e))?;
    // A BIDS recording labeled by Spindle before it read BIDS names has
    // its labels in `…_eeg_events.tsv`: read that while no BIDS one exists.
    let older = super::spindle_sidecar_path(recording_path);
    if exists {
        let labels = read_events_tsv(&sidecar)?;
        Ok((labels, LabelSource::Sidecar(sidecar)))
    } else if older != sidecar && older.is_file() {
        let labels = read_events_tsv(&older)?;
        Ok((labels, LabelSource::Sidecar(older)))
    } else if let Some(file) = super::paired_label_file(recording_path) {
        let labels = super::read_label_file(&file)?;
        Ok((labels, LabelSource::LabelFile(file)))
    } else if annotations.is_empty() {
        Ok((LabelSet::default(), LabelSource::None))
    } else {
        Ok((
            LabelSet::from_annotations(annotations),
            LabelSource::FileAnnotations,
        ))
    }
}

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
    let text = read_text(path)?;
    parse_events_text(path, &text)
}

/// Parses the text of an `events.tsv` (see [`read_events_tsv`]); `path` only
/// names the file in errors.
fn parse_events_text(path: &Path, text: &str) -> Result<LabelSet, RecordingError> {
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
    let text = read_text(path)?;
    let layout = Layout {
        onset: "onset_s",
        duration: "duration_s",
        class: &["label"],
        default_class: None,
    };
    parse_table(path, &text, &layout, split_csv_line)
}

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

/// The backup of a label file: `X_events.tsv` -> `X_events.tsv.bak`, the
/// version before the last one [`write_events_tsv`] replaced.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(".bak");
    path.with_file_name(name)
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
fn split_csv_line(line: &str) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, content).unwrap();
        path
    }

    fn reason(err: RecordingError) -> String {
        match err {
            RecordingError::Invalid { reason, .. } => reason,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

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
    fn set_is_sorted_with_classes_and_counts() {
        let set = LabelSet::new(vec![
            Label::new(2.0, 1.0, "b"),
            Label::new(1.0, 2.0, "a"),
            Label::new(1.0, 1.0, "b"),
            Label::new(1.0, 1.0, "a"),
        ]);
        let order: Vec<(f64, f64, &str)> = set
            .labels
            .iter()
            .map(|l| (l.onset_s, l.duration_s, l.trial_type.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (1.0, 1.0, "a"),
                (1.0, 1.0, "b"),
                (1.0, 2.0, "a"),
                (2.0, 1.0, "b")
            ]
        );
        assert_eq!(set.classes(), ["a", "b"]);
        assert_eq!(
            set.counts(),
            BTreeMap::from([("a".to_owned(), 2), ("b".to_owned(), 2)])
        );
        assert_eq!(set.len(), 4);
        assert!(LabelSet::default().is_empty());
    }

    #[test]
    fn annotations_convert_both_ways() {
        let annotations = vec![
            Annotation {
                onset_s: 3.0,
                duration_s: None,
                text: "spike".into(),
            },
            Annotation {
                onset_s: 1.5,
                duration_s: Some(0.25),
                text: "blink".into(),
            },
        ];
        let set = LabelSet::from_annotations(&annotations);
        assert_eq!(
            set.labels,
            [
                Label::new(1.5, 0.25, "blink"),
                Label::new(3.0, 0.0, "spike")
            ]
        );
        let back = set.to_annotations();
        assert_eq!(back, [annotations[1].clone(), annotations[0].clone()]);
    }

    #[test]
    fn round_trip_keeps_labels_and_extra_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        let set = LabelSet {
            labels: vec![
                Label {
                    onset_s: 10.125,
                    duration_s: 0.0,
                    trial_type: "ShortBlink".into(),
                    extra: vec!["r2".into(), "7".into()],
                },
                Label {
                    onset_s: 0.5,
                    duration_s: 2.0,
                    trial_type: "Long Blink".into(),
                    extra: vec!["r1".into(), "3".into()],
                },
            ],
            extra_columns: vec!["rater".into(), "value".into()],
        };
        write_events_tsv(&path, &set).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "onset\tduration\ttrial_type\trater\tvalue\n\
             0.500\t2.000\tLong Blink\tr1\t3\n\
             10.125\t0.000\tShortBlink\tr2\t7\n"
        );
        let read = read_events_tsv(&path).unwrap();
        assert_eq!(read, set.clone().sorted());
        // Writing what was read gives the same bytes.
        write_events_tsv(&path, &read).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn write_cleans_text_and_fills_missing_extras() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        let mut label = Label::new(-0.0001, 1.23456, "a\tb\nc\r");
        label.extra = vec!["x\ty".into()];
        let set = LabelSet {
            labels: vec![label, Label::new(1.0, 0.0, "")],
            extra_columns: vec!["note".into(), "other".into()],
        };
        write_events_tsv(&path, &set).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "onset\tduration\ttrial_type\tnote\tother\n\
             0.000\t1.235\ta b c \tx y\tn/a\n\
             1.000\t0.000\tn/a\tn/a\tn/a\n"
        );
    }

    #[test]
    fn write_rejects_bad_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        let bad = [
            LabelSet::new(vec![Label::new(f64::NAN, 1.0, "a")]),
            LabelSet::new(vec![Label::new(1.0, -1.0, "a")]),
            LabelSet {
                labels: vec![Label {
                    extra: vec!["1".into()],
                    ..Label::new(1.0, 1.0, "a")
                }],
                extra_columns: vec![],
            },
            LabelSet {
                labels: vec![],
                extra_columns: vec!["onset".into()],
            },
        ];
        for set in bad {
            let err = write_events_tsv(&path, &set).unwrap_err();
            assert!(matches!(err, RecordingError::Invalid { .. }), "{err}");
            assert!(!path.exists());
        }
    }

    #[test]
    fn write_replaces_an_existing_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(dir.path(), "x_events.tsv", b"old");
        write_events_tsv(&path, &LabelSet::new(vec![Label::new(1.0, 2.0, "a")])).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "onset\tduration\ttrial_type\n1.000\t2.000\ta\n"
        );
    }

    #[test]
    fn replacing_a_sidecar_keeps_the_previous_version_as_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        let bak = backup_path(&path);
        assert_eq!(bak, dir.path().join("x_events.tsv.bak"));
        let (a, b, c) = (
            LabelSet::new(vec![Label::new(1.0, 2.0, "a")]),
            LabelSet::new(vec![Label::new(3.0, 1.0, "b")]),
            LabelSet::new(vec![Label::new(5.0, 0.0, "c")]),
        );
        write_events_tsv(&path, &a).unwrap();
        assert!(!bak.exists(), "nothing to back up yet");
        write_events_tsv(&path, &b).unwrap();
        assert_eq!(read_events_tsv(&bak).unwrap(), a);
        // Writing the same labels again keeps the older backup.
        write_events_tsv(&path, &b).unwrap();
        assert_eq!(read_events_tsv(&bak).unwrap(), a);
        write_events_tsv(&path, &c).unwrap();
        assert_eq!(read_events_tsv(&path).unwrap(), c);
        assert_eq!(read_events_tsv(&bak).unwrap(), b);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp file left"
        );
        // A damaged file is replaced, but never becomes the backup.
        fs::write(&path, b"onset\tduration\n1\n").unwrap();
        write_events_tsv(&path, &a).unwrap();
        assert_eq!(read_events_tsv(&path).unwrap(), a);
        assert_eq!(read_events_tsv(&bak).unwrap(), b);
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_old_sidecar_is_an_error_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        fs::create_dir(&path).unwrap();
        let err =
            write_events_tsv(&path, &LabelSet::new(vec![Label::new(1.0, 2.0, "a")])).unwrap_err();
        assert!(matches!(err, RecordingError::Io { .. }), "{err}");
        assert_eq!(err.path(), path);
        assert!(path.is_dir() && !backup_path(&path).exists());
    }

    #[test]
    fn reads_columns_in_any_order_with_na() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(
            dir.path(),
            "x_events.tsv",
            b"trial_type\tsample\tduration\tonset\n\
              b\t10\tn/a\t3.5\n\
              a\tn/a\t1\tn/a\n\
              \n\
              a\t20\t0.5\t1.25\n",
        );
        let set = read_events_tsv(&path).unwrap();
        assert_eq!(set.extra_columns, ["sample"]);
        assert_eq!(
            set.labels,
            [
                Label {
                    extra: vec!["20".into()],
                    ..Label::new(1.25, 0.5, "a")
                },
                Label {
                    extra: vec!["10".into()],
                    ..Label::new(3.5, 0.0, "b")
                },
            ]
        );
    }

    #[test]
    fn class_falls_back_to_value_then_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(
            dir.path(),
            "v_events.tsv",
            b"onset\tduration\tvalue\n1\t0\tS 1\n",
        );
        let set = read_events_tsv(&path).unwrap();
        assert_eq!(set.extra_columns, ["value"]);
        assert_eq!(set.labels[0].trial_type, "S 1");
        assert_eq!(set.labels[0].extra, ["S 1"]);

        let path = write_file(dir.path(), "e_events.tsv", b"onset\tduration\n1\t0\n");
        let set = read_events_tsv(&path).unwrap();
        assert!(set.extra_columns.is_empty());
        assert_eq!(set.labels, [Label::new(1.0, 0.0, "event")]);
    }

    #[test]
    fn tolerates_crlf_and_bom() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(
            dir.path(),
            "x_events.tsv",
            b"\xEF\xBB\xBFonset\tduration\ttrial_type\r\n0.5\t1\tblink\r\n\r\n",
        );
        let set = read_events_tsv(&path).unwrap();
        assert!(set.extra_columns.is_empty());
        assert_eq!(set.labels, [Label::new(0.5, 1.0, "blink")]);
    }

    #[test]
    fn header_only_file_is_an_empty_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(dir.path(), "x_events.tsv", b"onset\tduration\ttrial_type\n");
        assert_eq!(read_events_tsv(&path).unwrap(), LabelSet::default());
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[u8], &str); 9] = [
            (b"", "empty file"),
            (
                b"onset\ttrial_type\n1\ta\n",
                "line 1: the header has no `duration` column",
            ),
            (
                b"onset_s,duration_s,label\n",
                "line 1: the header has no `onset` column",
            ),
            (
                b"onset\tduration\n1\t0\nx\t0\n",
                "line 3: onset `x` is not a number",
            ),
            (
                b"onset\tduration\n\t0\n",
                "line 2: onset `` is not a number",
            ),
            (
                b"onset\tduration\n1\t0\n\n1\t0\tz\n",
                "line 4: 3 columns, but the header has 2",
            ),
            (
                b"onset\tduration\n1\tabc\n",
                "line 2: duration `abc` is not a number",
            ),
            (
                b"onset\tduration\n1\t-0.5\n",
                "line 2: negative duration -0.5",
            ),
            (
                b"onset\tduration\nNaN\t1\n",
                "line 2: onset `NaN` is not a number",
            ),
        ];
        for (i, (content, expected)) in cases.into_iter().enumerate() {
            let path = write_file(dir.path(), &format!("{i}_events.tsv"), content);
            let err = read_events_tsv(&path).unwrap_err();
            assert_eq!(err.path(), path);
            assert!(err.to_string().contains(&path.display().to_string()));
            let reason = reason(err);
            assert!(reason.starts_with(expected), "{reason:?} vs {expected:?}");
        }
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(
            dir.path(),
            "x_events.tsv",
            b"onset\tduration\ttrial_type\n1\t0\tbad\xFF\n",
        );
        assert_eq!(
            reason(read_events_tsv(&path).unwrap_err()),
            "line 2: not UTF-8 text"
        );
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none_events.tsv");
        let err = read_events_tsv(&path).unwrap_err();
        assert!(matches!(err, RecordingError::Io { .. }));
        assert_eq!(err.path(), path);
    }

    #[test]
    fn sidecar_wins_over_file_annotations() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("rec.edf");
        let annotations = [Annotation {
            onset_s: 1.0,
            duration_s: Some(2.0),
            text: "from file".into(),
        }];

        let (set, source) = labels_for_recording(&recording, &[]).unwrap();
        assert_eq!((set, source), (LabelSet::default(), LabelSource::None));

        let (set, source) = labels_for_recording(&recording, &annotations).unwrap();
        assert_eq!(source, LabelSource::FileAnnotations);
        assert_eq!(set.labels, [Label::new(1.0, 2.0, "from file")]);

        let sidecar = write_file(
            dir.path(),
            "rec_events.tsv",
            b"onset\tduration\ttrial_type\n5\t1\tfrom sidecar\n",
        );
        let (set, source) = labels_for_recording(&recording, &annotations).unwrap();
        assert_eq!(source, LabelSource::Sidecar(sidecar.clone()));
        assert_eq!(set.labels, [Label::new(5.0, 1.0, "from sidecar")]);

        fs::write(&sidecar, b"onset\tduration\tx\n1\n").unwrap();
        let err = labels_for_recording(&recording, &annotations).unwrap_err();
        assert_eq!(err.path(), sidecar);
    }

    #[test]
    fn csv_reads_quotes_and_any_column_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(
            dir.path(),
            "x_labels.csv",
            b"label,onset_s,note,duration_s\r\n\"a, b\",2.5,\"say \"\"hi\"\"\",1\r\nc,1,,n/a\r\n",
        );
        let set = read_labels_csv(&path).unwrap();
        assert_eq!(set.extra_columns, ["note"]);
        assert_eq!(
            set.labels,
            [
                Label {
                    extra: vec![String::new()],
                    ..Label::new(1.0, 0.0, "c")
                },
                Label {
                    extra: vec!["say \"hi\"".into()],
                    ..Label::new(2.5, 1.0, "a, b")
                },
            ]
        );
    }

    #[test]
    fn csv_requires_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(dir.path(), "x.csv", b"onset_s,duration_s\n1,2\n");
        assert!(reason(read_labels_csv(&path).unwrap_err()).contains("no `label` column"));
        let path = write_file(
            dir.path(),
            "y.csv",
            b"onset\tduration\ttrial_type\n1\t2\ta\n",
        );
        assert!(reason(read_labels_csv(&path).unwrap_err()).contains("no `onset_s` column"));
        let path = write_file(dir.path(), "z.csv", b"onset_s,duration_s,label\n1,2\n");
        assert_eq!(
            reason(read_labels_csv(&path).unwrap_err()),
            "line 2: 2 columns, but the header has 3"
        );
    }

    #[test]
    fn split_csv_line_cases() {
        assert_eq!(split_csv_line("a,b,,c"), ["a", "b", "", "c"]);
        assert_eq!(split_csv_line("\"x,y\",z"), ["x,y", "z"]);
        assert_eq!(split_csv_line("\"a\"\"b\""), ["a\"b"]);
        assert_eq!(split_csv_line(""), [""]);
    }

    #[test]
    fn real_blink_label_csv_files() {
        let (Some(train), Some(test)) = (
            crate::testdata::path("eeg-blink/blink_train_labels.csv"),
            crate::testdata::path("eeg-blink/blink_test_labels.csv"),
        ) else {
            return;
        };
        let set = read_labels_csv(&train).unwrap();
        assert_eq!(set.len(), 500);
        assert!(set.extra_columns.is_empty());
        assert_eq!(set.classes(), ["LongBlink", "ShortBlink"]);
        assert_eq!(
            set.counts(),
            BTreeMap::from([
                ("LongBlink".to_owned(), 250),
                ("ShortBlink".to_owned(), 250)
            ])
        );
        assert_eq!(set.labels[0], Label::new(0.0, 2.0, "LongBlink"));
        assert!(set.labels.iter().all(|l| l.duration_s == 2.0));
        assert!(set.labels.windows(2).all(|w| w[0].order(&w[1]).is_le()));

        let set = read_labels_csv(&test).unwrap();
        assert_eq!(
            set.counts(),
            BTreeMap::from([
                ("LongBlink".to_owned(), 200),
                ("ShortBlink".to_owned(), 250)
            ])
        );

        // The CSV converts to an events.tsv and back without loss.
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("blink_test_events.tsv");
        write_events_tsv(&path, &set).unwrap();
        assert_eq!(read_events_tsv(&path).unwrap(), set);
    }
}
