//! The text files of the format (header and marker file): reading with a size
//! limit, decoding as their `Codepage=` declares, INI-style sections with
//! `key=value` lines, the identification line, and the `\1` comma coding of
//! comma-separated fields.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::recording::RecordingError;

/// Reads a whole text file of at most `max` bytes.
pub fn read_limited(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, RecordingError> {
    let file = File::open(path).map_err(|e| RecordingError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| RecordingError::io(path, e))?
        .len();
    if len > max {
        return Err(RecordingError::invalid(
            path,
            format!("{len} bytes is too large for a BrainVision {what}"),
        ));
    }
    let mut bytes = Vec::new();
    file.take(max)
        .read_to_end(&mut bytes)
        .map_err(|e| RecordingError::io(path, e))?;
    Ok(bytes)
}

/// A character set a file may declare with `Codepage=`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Codepage {
    Utf8,
    Ansi,
    Undeclared,
}

/// The first `Codepage=` declaration in `bytes`.
fn declared_codepage(bytes: &[u8]) -> Codepage {
    for line in bytes.split(|&b| b == b'\n' || b == b'\r') {
        let line = line.trim_ascii();
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (
            line.get(..eq).unwrap_or_default().trim_ascii(),
            line.get(eq + 1..).unwrap_or_default().trim_ascii(),
        );
        if key.eq_ignore_ascii_case(b"Codepage") {
            return if value.eq_ignore_ascii_case(b"UTF-8") || value.eq_ignore_ascii_case(b"UTF8") {
                Codepage::Utf8
            } else {
                Codepage::Ansi
            };
        }
    }
    Codepage::Undeclared
}

/// Decodes a header or marker file as it declares (see
/// [`read_brainvision`](super::read_brainvision)).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(body).into_owned();
    }
    match declared_codepage(bytes) {
        Codepage::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Codepage::Ansi => windows_1252(bytes),
        Codepage::Undeclared => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => windows_1252(bytes),
        },
    }
}

/// Windows-1252 ("ANSI") to UTF-8: Latin-1, with 0x80-0x9F mapped as
/// Windows does (`€`, `‘`, ...).
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH.get(usize::from(b - 0x80)).copied().unwrap_or('?'),
            _ => char::from(b),
        })
        .collect()
}

/// One `key=value` line of an INI-like file, borrowed from the text.
#[derive(Debug)]
struct Entry<'a> {
    /// The section's name as written, trimmed (compared ignoring ASCII case).
    section: &'a str,
    /// The key as written, trimmed.
    key: &'a str,
    /// The value as written, trimmed.
    value: &'a str,
}

/// An INI-like file: its first non-empty line, and its `key=value` entries
/// found by reading the text again on each question. Nothing is stored per
/// line: a marker file of millions of lines costs no memory beyond its text.
pub struct Ini<'a> {
    /// The first non-empty line, trimmed (the identification line).
    pub first_line: &'a str,
    text: &'a str,
}

/// The non-empty lines of `text`, trimmed.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

impl<'a> Ini<'a> {
    /// Reads `text` as sections and `key=value` entries. Lines starting with
    /// `;` are comments; the free text of a `[Comment]` section is skipped.
    pub fn parse(text: &'a str) -> Self {
        Self {
            first_line: lines(text).next().unwrap_or(""),
            text,
        }
    }

    /// Every `key=value` line, in file order.
    fn entries(&self) -> impl Iterator<Item = Entry<'a>> + use<'a> {
        let mut all = lines(self.text);
        let first = all.next().unwrap_or("");
        // A file without its identification line may start with a section.
        let first_section = first.starts_with('[').then_some(first);
        let mut section = "";
        first_section
            .into_iter()
            .chain(all)
            .filter_map(move |line| {
                if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    section = name.trim();
                    return None;
                }
                if line.starts_with(';') || section.eq_ignore_ascii_case("comment") {
                    return None;
                }
                let (key, value) = line.split_once('=')?;
                Some(Entry {
                    section,
                    key: key.trim(),
                    value: value.trim(),
                })
            })
    }

    /// The value of the first `key` (case-insensitive) in `section` (lower case).
    pub fn get(&self, section: &str, key: &str) -> Option<&'a str> {
        self.entries()
            .find(|e| e.section.eq_ignore_ascii_case(section) && e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value)
    }

    /// The entries of `section` whose key is `prefix` followed by a number,
    /// with that number (`Ch12` -> 12); other keys are counted in the second
    /// value. The list is allocated once, at its final size.
    pub fn numbered(&self, section: &str, prefix: &str) -> (Vec<(u64, &'a str)>, usize) {
        let number = |e: &Entry<'a>| -> Option<u64> {
            e.key
                .get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .and_then(|_| e.key.get(prefix.len()..))
                .and_then(|n| n.parse::<u64>().ok())
        };
        let in_section = || {
            self.entries()
                .filter(|e| e.section.eq_ignore_ascii_case(section))
        };
        let (mut count, mut other) = (0, 0);
        for e in in_section() {
            match number(&e) {
                Some(_) => count += 1,
                None => other += 1,
            }
        }
        let mut found = Vec::with_capacity(count);
        found.extend(in_section().filter_map(|e| number(&e).map(|n| (n, e.value))));
        (found, other)
    }
}

/// Checks the identification line `first` against `Brain[ ]Vision Data
/// Exchange <kind> File[,] Version x.y`; returns the version text, or `None`
/// when the line is not such an identification.
pub fn identification_version(first: &str, kind: &str) -> Option<String> {
    let lower = first.to_ascii_lowercase();
    let rest = ["brain vision data exchange ", "brainvision data exchange "]
        .iter()
        .find_map(|p| lower.strip_prefix(p))?;
    let rest = rest.strip_prefix(kind)?.trim_start();
    let rest = rest.strip_prefix("file")?.trim_start();
    let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    let version = rest.strip_prefix("version").unwrap_or(rest).trim();
    Some(version.to_owned())
}

/// Makes `text` safe as one comma-separated field on one line.
pub fn escape_field(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace(',', "\\1")
}

#[cfg(test)]
mod tests {
    use crate::recording::brainvision::fixtures::{pack, triple, vhdr};
    use crate::recording::read_brainvision;

    #[test]
    fn latin1_header_and_markers() {
        let dir = tempfile::tempdir().unwrap();
        let header = vhdr(
            "MULTIPLEXED",
            "INT_16",
            "1000",
            &["Fp1,,0.5,µV", "Gésture,,1,µV"],
        )
        .replace("Codepage=UTF-8", "Codepage=ANSI");
        let latin1: Vec<u8> = header.chars().map(|c| c as u32 as u8).collect();
        assert!(std::str::from_utf8(&latin1).is_err());
        let markers = "Brain Vision Data Exchange Marker File, Version 1.0\r\n[Common Infos]\r\n\
            Codepage=ANSI\r\n[Marker Infos]\r\nMk1=Comment,Bl\u{e9}\u{e9}p 5\u{b5}s \u{20ac},2,1,0\r\n";
        let mut markers_bytes: Vec<u8> = Vec::new();
        for c in markers.chars() {
            markers_bytes.push(if c == '€' { 0x80 } else { c as u32 as u8 });
        }
        let data = pack(&[vec![2i16, 4], vec![1, 3]], false, i16::to_le_bytes);
        let path = triple(dir.path(), &latin1, Some(&markers_bytes), &data);
        let rec = read_brainvision(&path).unwrap();
        assert_eq!(rec.channels[0].unit, "µV");
        assert_eq!(rec.channels[1].label, "Gésture");
        assert_eq!(rec.channels[0].samples, vec![1.0, 2.0]);
        assert_eq!(rec.annotations[0].text, "Bléép 5µs €");

        // Undeclared and not UTF-8: read as Latin-1; undeclared UTF-8 stays UTF-8.
        let undeclared: Vec<u8> = header
            .replace("Codepage=ANSI\r\n", "")
            .chars()
            .map(|c| c as u32 as u8)
            .collect();
        let path = triple(dir.path(), &undeclared, None, &data);
        assert_eq!(
            read_brainvision(&path).unwrap().channels[1].label,
            "Gésture"
        );
        let utf8 = header.replace("Codepage=ANSI\r\n", "");
        let path = triple(dir.path(), utf8.as_bytes(), None, &data);
        assert_eq!(
            read_brainvision(&path).unwrap().channels[1].label,
            "Gésture"
        );
        // Declared UTF-8 with a stray Latin-1 byte: replaced, never an error.
        let broken: Vec<u8> = vhdr("MULTIPLEXED", "INT_16", "1000", &["X\u{e9},,1,µV", "Y"])
            .into_bytes()
            .into_iter()
            .filter(|&b| b != 0xC3)
            .collect();
        let path = triple(dir.path(), &broken, None, &data);
        let rec = read_brainvision(&path).unwrap();
        assert!(rec.channels[0].label.starts_with('X'));
    }
}
