//! Parsing and validating the fixed-size EDF/BDF header.

use crate::recording::StartTime;

/// Bytes in the fixed part of the header, and in each signal's part.
pub const BLOCK: usize = 256;

/// Which flavour of the format a file declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Plain EDF or BDF (no `EDF+`/`BDF+` in the reserved field).
    Plain,
    /// `EDF+C` / `BDF+C`.
    Contiguous,
    /// `EDF+D` / `BDF+D`.
    Discontinuous,
}

/// One signal's header fields, parsed.
#[derive(Debug, Clone)]
pub struct SignalHeader {
    pub label: String,
    pub transducer: String,
    pub unit: String,
    pub physical_min: f64,
    pub physical_max: f64,
    pub digital_min: i64,
    pub digital_max: i64,
    pub prefilter: String,
    pub samples_per_record: usize,
}

impl SignalHeader {
    /// True for an `EDF Annotations` / `BDF Annotations` signal.
    pub fn is_annotation(&self) -> bool {
        self.label == "EDF Annotations" || self.label == "BDF Annotations"
    }

    /// Gain and offset so that `physical = digital * gain + offset`.
    pub fn gain_offset(&self) -> (f64, f64) {
        let gain =
            (self.physical_max - self.physical_min) / (self.digital_max - self.digital_min) as f64;
        (gain, self.physical_min - self.digital_min as f64 * gain)
    }
}

/// The whole header, parsed and checked for internal consistency (not yet
/// against the file length).
#[derive(Debug, Clone)]
pub struct Header {
    pub bdf: bool,
    pub flavour: Flavour,
    pub patient: String,
    pub recording_id: String,
    pub start: Option<StartTime>,
    pub header_bytes: usize,
    /// The record count the header claims; `None` for -1 (unknown).
    pub n_records: Option<usize>,
    pub record_duration_s: f64,
    pub signals: Vec<SignalHeader>,
}

impl Header {
    /// Bytes per stored sample: 2 for EDF, 3 for BDF.
    pub fn sample_bytes(&self) -> usize {
        if self.bdf { 3 } else { 2 }
    }

    /// Bytes in one data record.
    pub fn record_bytes(&self) -> usize {
        self.signals
            .iter()
            .map(|s| s.samples_per_record)
            .sum::<usize>()
            * self.sample_bytes()
    }
}

/// Text of a header field: ASCII as is, other bytes decoded as UTF-8 when valid,
/// else as Latin-1; `odd` is set when the field held non-ASCII bytes.
fn text(bytes: &[u8], odd: &mut bool) -> String {
    if !bytes.is_ascii() {
        *odd = true;
    }
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    };
    s.trim_matches(|c: char| c == ' ' || c == '\0').to_string()
}

fn number<T: std::str::FromStr>(field: &str, what: &str) -> Result<T, String> {
    field
        .parse::<T>()
        .map_err(|_| format!("{what} is {field:?}, not a number"))
}

fn float(field: &str, what: &str) -> Result<f64, String> {
    let v: f64 = number(field, what)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{what} is {field:?}, not a finite number"))
    }
}

/// Parses `dd.mm.yy` and `hh.mm.ss`; years 85-99 are 19yy and 00-84 are 20yy,
/// as the specification says. `None` when either field is not a valid date.
fn start_time(date: &str, time: &str) -> Option<StartTime> {
    let parts = |s: &str| -> Option<[u32; 3]> {
        let mut it = s.split(['.', ':']).map(|p| p.trim().parse::<u32>().ok());
        let a = it.next()??;
        let b = it.next()??;
        let c = it.next()??;
        it.next().is_none().then_some([a, b, c])
    };
    let [day, month, yy] = parts(date)?;
    let [hour, minute, second] = parts(time)?;
    let valid = (1..=31).contains(&day)
        && (1..=12).contains(&month)
        && yy <= 99
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| StartTime {
        year: if yy >= 85 {
            1900 + yy as i32
        } else {
            2000 + yy as i32
        },
        month,
        day,
        hour,
        minute,
        second: second as f64,
    })
}

/// Parses the fixed header part (`bytes.len() >= 256`) and the signal part that
/// follows, checking every field. `warnings` collects oddities that do not stop
/// reading. Returns a reason in words on failure.
pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<Header, String> {
    if bytes.len() < BLOCK {
        return Err(format!(
            "file is {} bytes, shorter than the 256-byte EDF/BDF header",
            bytes.len()
        ));
    }
    let bdf = is_bdf(&bytes[0..8])?;
    let mut odd = false;
    let patient = text(&bytes[8..88], &mut odd);
    let recording_id = text(&bytes[88..168], &mut odd);
    let date = text(&bytes[168..176], &mut odd);
    let time = text(&bytes[176..184], &mut odd);
    let header_bytes: usize = number(&text(&bytes[184..192], &mut odd), "the header size")?;
    let reserved = text(&bytes[192..236], &mut odd);
    let n_records: i64 = number(
        &text(&bytes[236..244], &mut odd),
        "the number of data records",
    )?;
    let record_duration_s = float(
        &text(&bytes[244..252], &mut odd),
        "the duration of a data record",
    )?;
    let n_signals: usize = number(&text(&bytes[252..256], &mut odd), "the number of signals")?;

    let prefix = if bdf { "BDF+" } else { "EDF+" };
    let flavour = if reserved.starts_with(&format!("{prefix}C")) {
        Flavour::Contiguous
    } else if reserved.starts_with(&format!("{prefix}D")) {
        Flavour::Discontinuous
    } else {
        if reserved.starts_with("EDF+") || reserved.starts_with("BDF+") {
            warnings.push(format!(
                "reserved field says {reserved:?}; read as plain data"
            ));
        }
        Flavour::Plain
    };
    if n_signals == 0 {
        return Err("the header declares 0 signals".into());
    }
    let expected_header = BLOCK * (n_signals + 1);
    if header_bytes != expected_header {
        return Err(format!(
            "the header size field says {header_bytes} bytes but {n_signals} signals need {expected_header}"
        ));
    }
    if bytes.len() < expected_header {
        return Err(format!(
            "the header of {n_signals} signals needs {expected_header} bytes but the file has {}",
            bytes.len()
        ));
    }
    let n_records = match n_records {
        -1 => None,
        n if n >= 0 => Some(n as usize),
        n => return Err(format!("the number of data records is {n}")),
    };
    if record_duration_s < 0.0 {
        return Err(format!(
            "the duration of a data record is {record_duration_s} s"
        ));
    }

    let signals = signal_headers(bytes, n_signals, bdf, &mut odd, warnings)?;
    let has_data = signals.iter().any(|s| !s.is_annotation());
    if has_data && record_duration_s == 0.0 {
        return Err("the duration of a data record is 0 s but the file holds data signals".into());
    }
    // An EDF+ file of annotations alone (a hypnogram or a scoring file kept
    // beside its recording) is valid; a plain EDF file without data is not.
    if !has_data && flavour == Flavour::Plain {
        return Err("the file holds no data signals, only annotations".into());
    }
    if odd {
        warnings.push("header holds bytes outside ASCII".into());
    }
    let mut start = start_time(&date, &time);
    if start.is_none() {
        warnings.push(format!(
            "start date {date:?} / time {time:?} is not a valid date and time"
        ));
    }
    // EDF+ keeps the 4-digit year in the recording field ("Startdate 24-JAN-2020 ...");
    // the header's dd.mm.yy is authoritative for 1985-2084, so only note a mismatch.
    if flavour != Flavour::Plain
        && let (Some(st), Some(year)) = (start.as_mut(), startdate_year(&recording_id))
        && year != st.year
    {
        warnings.push(format!(
            "recording field says the year is {year} but the header date says {}",
            st.year
        ));
    }
    Ok(Header {
        bdf,
        flavour,
        patient,
        recording_id,
        start,
        header_bytes,
        n_records,
        record_duration_s,
        signals,
    })
}

/// Whether the version field says BDF (`\xFFBIOSEMI`) rather than EDF (`0`).
fn is_bdf(version: &[u8]) -> Result<bool, String> {
    match version {
        [0xFF, rest @ ..] if rest == b"BIOSEMI" => Ok(true),
        b"0       " => Ok(false),
        other
            if other.first() == Some(&b'0') && other[1..].iter().all(|&b| b == b' ' || b == 0) =>
        {
            Ok(false)
        }
        _ => Err("not an EDF or BDF file (the version field is neither \"0\" nor BIOSEMI)".into()),
    }
}

/// The `ns` signal headers that follow the fixed part, each checked;
/// `odd` is set when a field holds bytes outside ASCII.
fn signal_headers(
    bytes: &[u8],
    ns: usize,
    bdf: bool,
    odd: &mut bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<SignalHeader>, String> {
    let field = |offset: usize, width: usize, i: usize| -> &[u8] {
        let start = BLOCK + offset * ns + width * i;
        &bytes[start..start + width]
    };
    let mut signals = Vec::with_capacity(ns);
    for i in 0..ns {
        let n = i + 1;
        let label = text(field(0, 16, i), odd);
        let what = |f: &str| format!("signal {n} ({label}): {f}");
        let signal = SignalHeader {
            transducer: text(field(16, 80, i), odd),
            unit: text(field(96, 8, i), odd),
            physical_min: float(&text(field(104, 8, i), odd), &what("physical minimum"))?,
            physical_max: float(&text(field(112, 8, i), odd), &what("physical maximum"))?,
            digital_min: number(&text(field(120, 8, i), odd), &what("digital minimum"))?,
            digital_max: number(&text(field(128, 8, i), odd), &what("digital maximum"))?,
            prefilter: text(field(136, 80, i), odd),
            samples_per_record: number(
                &text(field(216, 8, i), odd),
                &what("samples per data record"),
            )?,
            label: label.clone(),
        };
        check_signal(n, &signal, bdf, warnings)?;
        signals.push(signal);
    }
    Ok(signals)
}

/// Refuses signal `n` when its digital range is empty or too wide for the
/// sample width, or it has no samples; warns of an odd physical range.
fn check_signal(
    n: usize,
    signal: &SignalHeader,
    bdf: bool,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let label = &signal.label;
    let limit: i64 = if bdf { 1 << 23 } else { 1 << 15 };
    if signal.digital_min >= signal.digital_max {
        return Err(format!(
            "signal {n} ({label}): digital minimum {} is not below digital maximum {}",
            signal.digital_min, signal.digital_max
        ));
    }
    if signal.digital_min < -limit || signal.digital_max > limit - 1 {
        return Err(format!(
            "signal {n} ({label}): digital range {}..{} does not fit {}-bit samples",
            signal.digital_min,
            signal.digital_max,
            if bdf { 24 } else { 16 }
        ));
    }
    if signal.samples_per_record == 0 {
        return Err(format!("signal {n} ({label}): 0 samples per data record"));
    }
    if !signal.is_annotation() {
        if signal.physical_min > signal.physical_max {
            warnings.push(format!(
                "signal {n} ({label}): physical minimum {} is above maximum {} (inverted polarity)",
                signal.physical_min, signal.physical_max
            ));
        } else if signal.physical_min == signal.physical_max {
            warnings.push(format!(
                "signal {n} ({label}): physical minimum equals maximum; its samples are all {}",
                signal.physical_min
            ));
        }
    }
    Ok(())
}

/// The 4-digit year in an EDF+ recording field `Startdate dd-MMM-yyyy ...`.
fn startdate_year(recording_id: &str) -> Option<i32> {
    let mut words = recording_id.split_whitespace();
    if words.next()? != "Startdate" {
        return None;
    }
    words.next()?.rsplit('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_follow_the_1985_rule() {
        assert_eq!(
            start_time("01.02.85", "00.00.00").map(|s| s.year),
            Some(1985)
        );
        assert_eq!(
            start_time("01.02.84", "00.00.00").map(|s| s.year),
            Some(2084)
        );
        assert_eq!(
            start_time("31.12.99", "23.59.59").map(|s| s.year),
            Some(1999)
        );
        assert!(start_time("32.01.99", "00.00.00").is_none());
        assert!(start_time("01.13.99", "00.00.00").is_none());
        assert!(start_time("01.01.yy", "00.00.00").is_none());
        assert!(start_time("01.01.99", "24.00.00").is_none());
    }

    #[test]
    fn startdate_year_reads_edf_plus_field() {
        assert_eq!(startdate_year("Startdate 24-JAN-2020 X X X"), Some(2020));
        assert_eq!(startdate_year("Startdate X X X X"), None);
        assert_eq!(startdate_year("something else"), None);
    }

    #[test]
    fn short_input_is_rejected() {
        let mut w = Vec::new();
        assert!(parse(b"0       ", &mut w).is_err());
        assert!(parse(&[b'x'; 300], &mut w).is_err());
    }
}
