//! The marker file (`.vmrk`): reading its markers as annotations and the
//! start time, and writing a recording's annotations as markers.

use std::path::Path;

use super::ini::{Ini, decode_text, escape_field, identification_version, read_limited};
use super::{display_name, printable_prefix};
use crate::recording::{Annotation, Recording, StartTime};

/// A marker file larger than this (bytes) is ignored with a warning.
const MAX_MARKER_BYTES: u64 = 256 << 20;
/// At most this many individual marker problems are listed in the warnings.
const MAX_MARKER_WARNINGS: usize = 5;

/// What a marker file gives: annotations and maybe the start time.
pub struct Markers {
    /// One annotation per marker, in marker-number order (not sorted by onset).
    pub annotations: Vec<Annotation>,
    /// From the earliest dated `New Segment` marker, moved back to the first sample.
    pub start: Option<StartTime>,
}

/// Reads the markers of `path`; problems become warnings, never errors.
pub fn read_markers(
    path: &Path,
    rate_hz: f64,
    n_samples: usize,
    warnings: &mut Vec<String>,
) -> Markers {
    let mut out = Markers {
        annotations: Vec::new(),
        start: None,
    };
    let name = display_name(path);
    let bytes = match read_limited(path, MAX_MARKER_BYTES, "marker file") {
        Ok(b) => b,
        Err(e) => {
            warnings.push(format!("markers not read: {e}"));
            return out;
        }
    };
    let text = decode_text(&bytes);
    drop(bytes);
    let ini = Ini::parse(&text);
    if identification_version(ini.first_line, "marker").is_none() {
        warnings.push(format!(
            "marker file {name} does not start with \"Brain Vision Data Exchange Marker File, Version 1.0\""
        ));
    }
    let (mut lines, _) = ini.numbered("marker infos", "Mk");
    lines.sort_by_key(|(n, _)| *n);
    // One annotation per line at most: room for all at once, not doubling.
    out.annotations.reserve_exact(lines.len());

    let mut problems = Problems::default();
    let mut beyond_end = 0usize;
    // (position, start) of the earliest dated New Segment marker so far, and
    // the index of its annotation.
    let mut new_segment: Option<(u64, StartTime, usize)> = None;
    for (number, value) in lines {
        let mut fields = value.split(',');
        let kind = fields.next().unwrap_or("").replace("\\1", ",");
        let description = fields.next().unwrap_or("").replace("\\1", ",");
        let position_text = fields.next().unwrap_or("").trim();
        let size_text = fields.next().unwrap_or("").trim();
        let _channel = fields.next();
        let date_text = fields.next().unwrap_or("").trim();

        let position = match position_text.parse::<u64>() {
            Ok(p) => p,
            Err(_) => {
                problems.push(format!(
                    "Mk{number}: position \"{}\" is not a whole number",
                    printable_prefix(position_text, 30)
                ));
                continue;
            }
        };
        if position == 0 {
            problems.push(format!(
                "Mk{number}: position 0 read as 1 (positions start at 1)"
            ));
        }
        let size = if size_text.is_empty() {
            1
        } else {
            size_text.parse::<u64>().unwrap_or_else(|_| {
                problems.push(format!(
                    "Mk{number}: size \"{}\" is not a whole number; read as 1",
                    printable_prefix(size_text, 30)
                ));
                1
            })
        };
        if usize::try_from(position).map_or(true, |p| p > n_samples) {
            beyond_end += 1;
        }
        let text = if description.trim().is_empty() {
            kind.trim().to_owned()
        } else {
            description
        };
        out.annotations.push(Annotation {
            onset_s: position.saturating_sub(1) as f64 / rate_hz,
            duration_s: (size > 1).then(|| size as f64 / rate_hz),
            text,
        });

        if kind.trim().eq_ignore_ascii_case("New Segment") && !date_text.is_empty() {
            match parse_marker_date(date_text) {
                Some(t) => {
                    let index = out.annotations.len() - 1;
                    if new_segment.is_none_or(|(p, _, _)| position < p) {
                        new_segment = Some((position, t, index));
                    }
                }
                None => problems.push(format!(
                    "Mk{number}: New Segment date \"{}\" is not a valid YYYYMMDDhhmmssuuuuuu time",
                    printable_prefix(date_text, 30)
                )),
            }
        }
    }
    if let Some((position, start, index)) = new_segment {
        if index < out.annotations.len() {
            out.annotations.remove(index);
        }
        // A recording whose first dated segment starts later than its first
        // sample started that much earlier.
        out.start = Some(if position > 1 {
            start.plus_seconds(-((position - 1) as f64 / rate_hz))
        } else {
            start
        });
    }
    if beyond_end > 0 {
        problems.push(format!(
            "{beyond_end} marker(s) lie beyond the end of the data"
        ));
    }
    for p in problems.listed {
        warnings.push(format!("{name}: {p}"));
    }
    if problems.count > MAX_MARKER_WARNINGS {
        warnings.push(format!(
            "{name}: {} more marker problem(s) not listed",
            problems.count - MAX_MARKER_WARNINGS
        ));
    }
    out
}

/// Marker problems: the first [`MAX_MARKER_WARNINGS`] in words and how many
/// there were in all (a damaged file may hold millions; only a few are shown).
#[derive(Default)]
struct Problems {
    listed: Vec<String>,
    count: usize,
}

impl Problems {
    fn push(&mut self, problem: String) {
        self.count += 1;
        if self.listed.len() < MAX_MARKER_WARNINGS {
            self.listed.push(problem);
        }
    }
}

/// Parses a marker date `YYYYMMDDhhmmss` followed by up to six digits of
/// fraction of a second (microseconds when all six are there).
fn parse_marker_date(text: &str) -> Option<StartTime> {
    if !(14..=20).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(num(0..4)?).ok()?;
    let (month, day) = (num(4..6)?, num(6..8)?);
    let (hour, minute, whole) = (num(8..10)?, num(10..12)?, num(12..14)?);
    let fraction = text.get(14..)?;
    let fraction = if fraction.is_empty() {
        0.0
    } else {
        f64::from(fraction.parse::<u32>().ok()?) / 10f64.powi(i32::try_from(fraction.len()).ok()?)
    };
    let valid = year > 0
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && whole < 60;
    valid.then_some(StartTime {
        year,
        month,
        day,
        hour,
        minute,
        second: f64::from(whole) + fraction,
    })
}

/// The text of a marker file for `rec`.
pub fn marker_text(rec: &Recording, rate_hz: f64, data_name: &str) -> String {
    let mut s = String::new();
    s.push_str("Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n");
    s.push_str(&format!(
        "[Common Infos]\r\nCodepage=UTF-8\r\nDataFile={data_name}\r\n\r\n[Marker Infos]\r\n"
    ));
    s.push_str(
        "; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>,\r\n",
    );
    s.push_str(
        "; <Size in data points>, <Channel number (0 = marker is related to all channels)>\r\n",
    );
    s.push_str("; Fields are delimited by commas, some fields might be omitted (empty).\r\n");
    s.push_str("; Commas in type or description text are coded as \"\\1\".\r\n");
    let mut number = 0usize;
    if let Some(start) = &rec.start {
        number += 1;
        s.push_str(&format!(
            "Mk{number}=New Segment,,1,1,0,{}\r\n",
            marker_date(start)
        ));
    }
    for a in &rec.annotations {
        number += 1;
        let position = points(a.onset_s, rate_hz).saturating_add(1);
        let size = a.duration_s.map_or(1, |d| points(d, rate_hz).max(1));
        s.push_str(&format!(
            "Mk{number}=Comment,{},{position},{size},0\r\n",
            escape_field(&a.text)
        ));
    }
    s
}

/// `seconds x rate_hz` rounded to whole samples (0 for negative or NaN).
fn points(seconds: f64, rate_hz: f64) -> u64 {
    // `as` saturates: negative and NaN become 0.
    (seconds * rate_hz).round() as u64
}

/// A start time as a marker date `YYYYMMDDhhmmssuuuuuu`.
fn marker_date(t: &StartTime) -> String {
    let second = if t.second.is_finite() {
        t.second.clamp(0.0, 59.999_999)
    } else {
        0.0
    };
    let whole = second.floor();
    let micros = (((second - whole) * 1e6).round() as u32).min(999_999);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:06}",
        t.year.clamp(0, 9999),
        t.month.min(99),
        t.day.min(99),
        t.hour.min(99),
        t.minute.min(99),
        whole as u32,
        micros
    )
}

#[cfg(test)]
mod tests {
    use super::MAX_MARKER_WARNINGS;
    use crate::recording::StartTime;
    use crate::recording::brainvision::fixtures::{MARKERS, pack, triple, vhdr};
    use crate::recording::read_brainvision;

    #[test]
    fn markers_become_sorted_annotations_and_start() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,1,µV"]);
        let data = pack(&[vec![1i16, 2, 3, 4, 5, 6]], false, i16::to_le_bytes);
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(MARKERS.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        assert_eq!(
            rec.start,
            Some(StartTime {
                year: 2004,
                month: 1,
                day: 24,
                hour: 5,
                minute: 56,
                second: 7.123456,
            })
        );
        let got: Vec<(f64, Option<f64>, &str)> = rec
            .annotations
            .iter()
            .map(|a| (a.onset_s, a.duration_s, a.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0.002, None, "Response"),
                (0.002, Some(0.006), "blink, left"),
                (0.004, None, "S  1"),
                (0.006, None, "New Segment"),
            ]
        );
    }

    #[test]
    fn start_from_a_later_new_segment_is_moved_back() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,1,µV"]);
        let data = pack(&[vec![0i16; 1000]], false, i16::to_le_bytes);
        let markers = "Brain Vision Data Exchange Marker File, Version 1.0\n[Marker Infos]\n\
            Mk1=Stimulus,S  1,1,1,0\nMk2=New Segment,,501,1,0,20040101000000500000\n";
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(markers.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        let start = rec.start.unwrap();
        assert_eq!((start.year, start.month, start.day), (2003, 12, 31));
        assert_eq!((start.hour, start.minute), (23, 59));
        assert!((start.second - 59.5).abs() < 1e-6, "{start:?}");
        assert_eq!(rec.annotations.len(), 1);
        assert_eq!(rec.annotations[0].text, "S  1");
    }

    #[test]
    fn hostile_markers_are_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr("MULTIPLEXED", "INT_16", "2000", &["A,,1,µV"]);
        let data = pack(&[vec![1i16, 2]], false, i16::to_le_bytes);
        let markers = "not a marker file\n[Marker Infos]\nMk1=New Segment,,1,1,0,00000000000000000000\n\
            Mk2=Stimulus,S 1,abc,1,0\nMk3=Stimulus,S 2,0,x,0\nMk4=Stimulus\nMk5=Stimulus,S 3,99999999999999999999999,1\n\
            Mk6=Stimulus,S 4,100,1,0\nMk7=,,2\nMkX=Stimulus,S 5,1,1,0\n";
        let path = triple(
            dir.path(),
            header.as_bytes(),
            Some(markers.as_bytes()),
            &data,
        );
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.start, None);
        let texts: Vec<_> = rec.annotations.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["New Segment", "S 2", "", "S 4"]);
        assert!(rec.warnings.len() >= 3, "{:?}", rec.warnings);
        assert!(rec.warnings.len() <= MAX_MARKER_WARNINGS + 2);
    }
}
