//! Time-stamped Annotation Lists (TALs), the content of EDF+ annotation signals:
//! `+onset[\x15duration]\x14text\x14[text\x14...]\0`, several per record, the
//! first of each record an empty "time-keeping" TAL giving the record's onset.

/// One TAL: an onset, an optional duration and zero or more texts.
#[derive(Debug, Clone, PartialEq)]
pub struct Tal {
    /// Seconds from the file's start time (header date and time).
    pub onset_s: f64,
    /// Duration in seconds, when given.
    pub duration_s: Option<f64>,
    /// The annotation texts; empty for a time-keeping TAL.
    pub texts: Vec<String>,
}

/// Malformed TALs met while reading: how many, and the first in words (a
/// damaged annotation signal may hold millions; one is enough to show).
#[derive(Debug, Default)]
pub struct Problems {
    /// How many TALs were skipped.
    pub count: usize,
    /// What was wrong with the first.
    pub first: Option<String>,
}

impl Problems {
    /// Counts one more problem, keeping its description when it is the first.
    pub fn push(&mut self, problem: String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(problem);
        }
    }

    /// Adds the problems of a later stretch of the file.
    pub fn extend(&mut self, later: Problems) {
        self.count += later.count;
        if self.first.is_none() {
            self.first = later.first;
        }
    }
}

/// Parses every TAL in the annotation bytes of one data record, handing each
/// to `found` in order (nothing is collected: a record of thousands of tiny
/// TALs costs only what `found` keeps). Malformed TALs are skipped and counted
/// in `problems`.
pub fn parse_record(bytes: &[u8], problems: &mut Problems, mut found: impl FnMut(Tal)) {
    for chunk in bytes.split(|&b| b == 0) {
        if chunk.is_empty() {
            continue;
        }
        match parse_one(chunk) {
            Ok(tal) => found(tal),
            Err(why) => problems.push(why),
        }
    }
}

fn parse_one(chunk: &[u8]) -> Result<Tal, String> {
    let mut parts = chunk.split(|&b| b == 0x14);
    let time = parts.next().unwrap_or_default();
    let (onset, duration) = match time.iter().position(|&b| b == 0x15) {
        Some(i) => (&time[..i], Some(&time[i + 1..])),
        None => (time, None),
    };
    let onset_s = parse_time(onset, true)
        .ok_or_else(|| format!("TAL onset {:?} is not a signed number", shown(onset)))?;
    let duration_s = match duration {
        Some(d) if !d.is_empty() => Some(
            parse_time(d, false)
                .ok_or_else(|| format!("TAL duration {:?} is not a number", shown(d)))?,
        ),
        _ => None,
    };
    if !chunk.ends_with(&[0x14]) {
        return Err(format!("TAL {:?} does not end with byte 20", shown(chunk)));
    }
    let texts = parts
        .filter(|t| !t.is_empty())
        .map(lossy)
        .collect::<Vec<_>>();
    Ok(Tal {
        onset_s,
        duration_s,
        texts,
    })
}

/// Parses `[+-]digits[.digits]`; the sign is required for onsets.
fn parse_time(bytes: &[u8], signed: bool) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = match text.as_bytes().first() {
        Some(b'+' | b'-') => &text[1..],
        _ if signed => return None,
        _ => text,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    v.is_finite().then_some(v)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// At most the first 40 bytes of `bytes` as text, for a message (`…` when cut).
fn shown(bytes: &[u8]) -> String {
    const MAX: usize = 40;
    match bytes.get(..MAX) {
        Some(head) if bytes.len() > MAX => format!("{}…", String::from_utf8_lossy(head)),
        _ => lossy(bytes),
    }
}

/// Formats seconds for a TAL: sign, up to 7 decimals (100 ns), no trailing zeros.
pub fn format_time(seconds: f64, signed: bool) -> String {
    let mut s = format!("{:.7}", seconds.abs());
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    match (signed, seconds < 0.0) {
        (_, true) => format!("-{s}"),
        (true, false) => format!("+{s}"),
        (false, false) => s,
    }
}

/// Encodes one TAL, including its terminating NUL.
pub fn encode(tal: &Tal) -> Vec<u8> {
    let mut out = format_time(tal.onset_s, true).into_bytes();
    if let Some(d) = tal.duration_s {
        out.push(0x15);
        out.extend_from_slice(format_time(d, false).as_bytes());
    }
    out.push(0x14);
    if tal.texts.is_empty() {
        out.push(0x14);
    }
    for t in &tal.texts {
        // The separators and NUL cannot appear inside a text.
        out.extend(t.bytes().map(|b| if b < 0x20 { b' ' } else { b }));
        out.push(0x14);
    }
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8], problems: &mut Problems) -> Vec<Tal> {
        let mut tals = Vec::new();
        parse_record(bytes, problems, |t| tals.push(t));
        tals
    }

    #[test]
    fn parses_timekeeping_and_annotations() {
        let bytes = b"+0.3945312\x14\x14\x00+2.3457031\x14XLSpike\x14\x00\x00\x00";
        let mut problems = Problems::default();
        let tals = parse_all(bytes, &mut problems);
        assert_eq!(problems.count, 0);
        assert_eq!(tals.len(), 2);
        assert_eq!(tals[0].onset_s, 0.3945312);
        assert!(tals[0].texts.is_empty());
        assert_eq!(tals[1].texts, vec!["XLSpike".to_string()]);
    }

    #[test]
    fn parses_duration_and_several_texts() {
        let bytes = "-1.5\x1520\x14first\x14zweiter \u{4e2d}\x14\x00".as_bytes();
        let mut problems = Problems::default();
        let tals = parse_all(bytes, &mut problems);
        assert_eq!(tals[0].onset_s, -1.5);
        assert_eq!(tals[0].duration_s, Some(20.0));
        assert_eq!(tals[0].texts, vec!["first", "zweiter \u{4e2d}"]);
    }

    #[test]
    fn malformed_tals_are_reported_not_fatal() {
        let mut problems = Problems::default();
        let tals = parse_all(
            b"abc\x14x\x14\x00+1\x14ok\x14\x00+2\x14no end",
            &mut problems,
        );
        assert_eq!(tals.len(), 1);
        assert_eq!(problems.count, 2);
        assert!(problems.first.unwrap().starts_with("TAL onset \"abc\""));
    }

    #[test]
    fn onset_needs_a_sign() {
        assert_eq!(parse_time(b"12", true), None);
        assert_eq!(parse_time(b"+12", true), Some(12.0));
        assert_eq!(parse_time(b"+1e5", true), None);
        assert_eq!(parse_time(b"+", true), None);
    }

    #[test]
    fn encode_round_trips() {
        let tal = Tal {
            onset_s: 12.25,
            duration_s: Some(0.5),
            texts: vec!["eyes closed".into(), "\u{4e2d}\u{6587}".into()],
        };
        let bytes = encode(&tal);
        let mut problems = Problems::default();
        assert_eq!(parse_all(&bytes, &mut problems), vec![tal]);
        let keeping = Tal {
            onset_s: 3.0,
            duration_s: None,
            texts: vec![],
        };
        assert_eq!(encode(&keeping), b"+3\x14\x14\x00");
    }

    #[test]
    fn format_time_trims() {
        assert_eq!(format_time(0.0, true), "+0");
        assert_eq!(format_time(1.0 / 3.0, false), "0.3333333");
        assert_eq!(format_time(-2.5, true), "-2.5");
    }
}
