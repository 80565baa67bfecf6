//! Writing a [`Recording`] as EDF+C or BDF+C with its annotations.

use std::path::Path;

use super::tal::{self, Tal};
use crate::recording::{Recording, RecordingError, StartTime, write_atomic};

/// How to write an EDF+/BDF+ file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdfWriteOptions {
    /// Write BDF+ (24-bit samples) instead of EDF+ (16-bit).
    pub bdf: bool,
    /// Duration of one data record in seconds; every channel's rate times this
    /// must be a whole number of samples.
    pub record_duration_s: f64,
}

impl Default for EdfWriteOptions {
    fn default() -> Self {
        Self {
            bdf: false,
            record_duration_s: 1.0,
        }
    }
}

/// Writes `rec` as EDF+C (or BDF+C) with an annotation signal holding its
/// annotations, atomically (temporary file, fsync, rename).
///
/// Samples are quantized to the full digital range over each channel's
/// physical range (widened to the data when the data exceeds it). Channels
/// shorter than the longest are padded with zeros to whole records. A
/// recording without channels (a hypnogram) gets as many records as span
/// its annotations.
pub fn write_edf(
    path: &Path,
    rec: &Recording,
    opts: &EdfWriteOptions,
) -> Result<(), RecordingError> {
    crate::io_guard::note(path);
    let bytes = encode(rec, opts).map_err(|why| RecordingError::unsupported(path, why))?;
    write_atomic(path, &bytes)
}

/// The file's bytes, or why it cannot be written.
fn encode(rec: &Recording, opts: &EdfWriteOptions) -> Result<Vec<u8>, String> {
    let dur = opts.record_duration_s;
    if !(dur > 0.0 && dur.is_finite()) {
        return Err(format!("record duration {dur} s is not positive"));
    }
    if rec.channels.is_empty() && rec.annotations.is_empty() {
        return Err("a recording without channels or annotations cannot be written".into());
    }
    let digital = Digital::of(opts.bdf);
    let spr = samples_per_record(rec, dur)?;
    let n_records = record_count(rec, &spr, dur);

    // The fractional part of the start goes into the time-keeping TALs.
    let (start, fraction) = match rec.start {
        Some(st) => {
            let whole = st.second.floor();
            (
                Some(StartTime {
                    second: whole,
                    ..st
                }),
                st.second - whole,
            )
        }
        None => (None, 0.0),
    };
    let annotation_records = place_annotations(rec, n_records, dur, fraction);
    let max_tal_bytes = annotation_records.iter().map(Vec::len).max().unwrap_or(0);
    let annotation_spr = max_tal_bytes.div_ceil(digital.width).max(1);
    let signals = signal_fields(rec, opts.bdf, &spr, annotation_spr, digital);

    let ns = signals.len();
    let record_bytes: usize =
        signals.iter().map(|s| s.samples_per_record).sum::<usize>() * digital.width;
    let mut out = Vec::with_capacity(256 * (ns + 1) + record_bytes * n_records);
    let header = Header {
        bdf: opts.bdf,
        start,
        n_records,
        record_duration_s: dur,
    };
    write_header(&mut out, rec, &header, &signals);
    let records = Records {
        spr: &spr,
        signals: &signals,
        annotation_records: &annotation_records,
        annotation_spr,
        digital,
    };
    write_records(&mut out, rec, &records);
    Ok(out)
}

/// The digital sample format: bytes per sample and the integer range.
#[derive(Debug, Clone, Copy)]
struct Digital {
    width: usize,
    min: i64,
    max: i64,
}

impl Digital {
    /// BDF's 24-bit samples or EDF's 16-bit ones.
    fn of(bdf: bool) -> Self {
        if bdf {
            Digital {
                width: 3,
                min: -(1 << 23),
                max: (1 << 23) - 1,
            }
        } else {
            Digital {
                width: 2,
                min: -(1 << 15),
                max: (1 << 15) - 1,
            }
        }
    }
}

/// Samples per record of each channel: its rate times the record duration
/// `dur`, which must be a whole number.
fn samples_per_record(rec: &Recording, dur: f64) -> Result<Vec<usize>, String> {
    let mut spr = Vec::with_capacity(rec.channels.len());
    for ch in &rec.channels {
        let n = ch.rate_hz * dur;
        if (n - n.round()).abs() > 1e-6 || n.round() < 1.0 {
            return Err(format!(
                "channel {} at {} Hz does not give a whole number of samples per {dur}-s record",
                ch.label, ch.rate_hz
            ));
        }
        spr.push(n.round() as usize);
    }
    Ok(spr)
}

/// The header fields of every channel (its physical range widened to its
/// data) and of the annotation signal, last.
fn signal_fields(
    rec: &Recording,
    bdf: bool,
    spr: &[usize],
    annotation_spr: usize,
    digital: Digital,
) -> Vec<SignalFields> {
    let mut signals: Vec<SignalFields> = Vec::with_capacity(rec.channels.len() + 1);
    for (ch, &s) in rec.channels.iter().zip(spr) {
        let (data_min, data_max) = ch
            .samples
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v as f64), hi.max(v as f64))
            });
        let (mut lo, mut hi) = (
            ch.physical_min.min(ch.physical_max),
            ch.physical_min.max(ch.physical_max),
        );
        if data_min.is_finite() {
            lo = lo.min(data_min);
            hi = hi.max(data_max);
        }
        if !(lo.is_finite() && hi.is_finite()) || lo >= hi {
            (lo, hi) = (lo.min(0.0) - 1.0, hi.max(0.0) + 1.0);
        }
        let phys_min = number_field(lo, Round::Down);
        let phys_max = number_field(hi, Round::Up);
        signals.push(SignalFields {
            label: ch.label.clone(),
            transducer: ch.transducer.clone(),
            unit: ch.unit.clone(),
            physical_min: phys_min,
            physical_max: phys_max,
            digital_min: digital.min,
            digital_max: digital.max,
            prefilter: ch.prefilter.clone(),
            samples_per_record: s,
        });
    }
    signals.push(SignalFields {
        label: if bdf {
            "BDF Annotations"
        } else {
            "EDF Annotations"
        }
        .into(),
        transducer: String::new(),
        unit: String::new(),
        physical_min: "-1".into(),
        physical_max: "1".into(),
        digital_min: digital.min,
        digital_max: digital.max,
        prefilter: String::new(),
        samples_per_record: annotation_spr,
    });
    signals
}

/// The facts of the file header besides its signals.
struct Header {
    bdf: bool,
    /// The start, whole seconds (the fraction goes into the TALs).
    start: Option<StartTime>,
    n_records: usize,
    record_duration_s: f64,
}

/// Appends the header: the file's fields, then each column of the signals'.
fn write_header(out: &mut Vec<u8>, rec: &Recording, header: &Header, signals: &[SignalFields]) {
    let ns = signals.len();
    let version: &[u8] = if header.bdf {
        b"\xFFBIOSEMI"
    } else {
        b"0       "
    };
    out.extend_from_slice(version);
    let patient = if rec.patient.trim().is_empty() {
        "X X X X"
    } else {
        &rec.patient
    };
    put(out, patient, 80);
    put(out, &recording_field(rec, header.start), 80);
    match header.start {
        Some(st) => {
            put(
                out,
                &format!(
                    "{:02}.{:02}.{:02}",
                    st.day,
                    st.month,
                    st.year.rem_euclid(100)
                ),
                8,
            );
            put(
                out,
                &format!("{:02}.{:02}.{:02}", st.hour, st.minute, st.second as u32),
                8,
            );
        }
        None => {
            put(out, "01.01.85", 8);
            put(out, "00.00.00", 8);
        }
    }
    put(out, &(256 * (ns + 1)).to_string(), 8);
    put(out, if header.bdf { "BDF+C" } else { "EDF+C" }, 44);
    put(out, &header.n_records.to_string(), 8);
    put(
        out,
        &number_field(header.record_duration_s, Round::Nearest),
        8,
    );
    put(out, &ns.to_string(), 4);
    let columns: [Column; 10] = [
        (16, |s| s.label.clone()),
        (80, |s| s.transducer.clone()),
        (8, |s| s.unit.clone()),
        (8, |s| s.physical_min.clone()),
        (8, |s| s.physical_max.clone()),
        (8, |s| s.digital_min.to_string()),
        (8, |s| s.digital_max.to_string()),
        (80, |s| s.prefilter.clone()),
        (8, |s| s.samples_per_record.to_string()),
        (32, |_| String::new()),
    ];
    for (width, get) in columns {
        for s in signals {
            put(out, &get(s), width);
        }
    }
}

/// What the data records hold besides the channels' samples.
struct Records<'a> {
    /// Samples per record of each channel.
    spr: &'a [usize],
    /// The header fields, whose physical ranges set each channel's scaling.
    signals: &'a [SignalFields],
    /// The encoded TALs of each record.
    annotation_records: &'a [Vec<u8>],
    /// Samples per record of the annotation signal.
    annotation_spr: usize,
    digital: Digital,
}

/// Appends the data records: each channel's samples quantized over its
/// physical range (short channels padded with zeros), then the record's TALs.
fn write_records(out: &mut Vec<u8>, rec: &Recording, records: &Records<'_>) {
    let Digital {
        width,
        min: dig_min,
        max: dig_max,
    } = records.digital;
    let conversions: Vec<(f64, f64)> = records.signals[..rec.channels.len()]
        .iter()
        .map(|s| {
            let lo: f64 = s.physical_min.parse().unwrap_or(-1.0);
            let hi: f64 = s.physical_max.parse().unwrap_or(1.0);
            let gain = (hi - lo) / (dig_max - dig_min) as f64;
            (gain, lo - dig_min as f64 * gain)
        })
        .collect();
    for (k, tals) in records.annotation_records.iter().enumerate() {
        for ((ch, &s), &(gain, offset)) in rec.channels.iter().zip(records.spr).zip(&conversions) {
            let from = (k * s).min(ch.samples.len());
            let to = ((k + 1) * s).min(ch.samples.len());
            let encode = |v: f32| {
                let d = ((v as f64 - offset) / gain).round();
                let d = if d.is_nan() {
                    0
                } else {
                    (d as i64).clamp(dig_min, dig_max)
                };
                (d as i32).to_le_bytes()
            };
            for &v in &ch.samples[from..to] {
                out.extend_from_slice(&encode(v)[..width]);
            }
            for _ in (to - from)..s {
                out.extend_from_slice(&encode(0.0)[..width]);
            }
        }
        out.extend_from_slice(tals);
        out.resize(out.len() + records.annotation_spr * width - tals.len(), 0);
    }
}

/// One column of the signal header: its width and how to read it from a signal.
type Column = (usize, fn(&SignalFields) -> String);

/// Header fields of one signal, as text.
struct SignalFields {
    label: String,
    transducer: String,
    unit: String,
    physical_min: String,
    physical_max: String,
    digital_min: i64,
    digital_max: i64,
    prefilter: String,
    samples_per_record: usize,
}

/// The EDF+ recording field: kept when it already follows EDF+, else built.
fn recording_field(rec: &Recording, start: Option<StartTime>) -> String {
    if rec.recording_id.starts_with("Startdate ") {
        return rec.recording_id.clone();
    }
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let date = match start {
        Some(st) => format!(
            "{:02}-{}-{:04}",
            st.day,
            MONTHS[(st.month.clamp(1, 12) - 1) as usize],
            st.year
        ),
        None => "X".into(),
    };
    let rest = if rec.recording_id.trim().is_empty() {
        "X X X".to_string()
    } else {
        rec.recording_id.clone()
    };
    format!("Startdate {date} {rest}")
}

/// Data records of the file: enough for the longest channel (`spr`:
/// samples per record of each), or for a file without channels
/// [`annotation_records`].
fn record_count(rec: &Recording, spr: &[usize], dur: f64) -> usize {
    if rec.channels.is_empty() {
        return annotation_records(rec, dur);
    }
    rec.channels
        .iter()
        .zip(spr)
        .map(|(c, &s)| c.samples.len().div_ceil(s))
        .max()
        .unwrap_or(0)
        .max(1)
}

/// Most data records of a file without channels.
const MAX_ANNOTATION_RECORDS: usize = 1_000_000;

/// Records of a file of annotations alone: as many as span its annotations
/// (so that each record keeps a few annotations, within EDF+'s limit of
/// 61,440 bytes per record), at least one, at most
/// [`MAX_ANNOTATION_RECORDS`].
fn annotation_records(rec: &Recording, dur: f64) -> usize {
    let end_s = rec
        .annotations
        .iter()
        .map(|a| a.onset_s + a.duration_s.unwrap_or(0.0))
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    ((end_s / dur - 1e-9).ceil().max(1.0) as usize).min(MAX_ANNOTATION_RECORDS)
}

/// The encoded TALs of each data record: a time-keeping TAL, then the
/// annotations whose onset falls in the record, spilling into later records
/// when one grows much larger than the average.
fn place_annotations(rec: &Recording, n_records: usize, dur: f64, fraction: f64) -> Vec<Vec<u8>> {
    let mut records: Vec<Vec<u8>> = (0..n_records)
        .map(|k| {
            tal::encode(&Tal {
                onset_s: fraction + k as f64 * dur,
                duration_s: None,
                texts: vec![],
            })
        })
        .collect();
    let encoded: Vec<(usize, Vec<u8>)> = rec
        .annotations
        .iter()
        .map(|a| {
            let onset = a.onset_s + fraction;
            let k = ((a.onset_s / dur).floor().max(0.0) as usize).min(n_records - 1);
            let bytes = tal::encode(&Tal {
                onset_s: onset,
                duration_s: a.duration_s,
                texts: vec![a.text.clone()],
            });
            (k, bytes)
        })
        .collect();
    let total: usize = encoded.iter().map(|(_, b)| b.len()).sum::<usize>()
        + records.iter().map(Vec::len).sum::<usize>();
    let largest = encoded.iter().map(|(_, b)| b.len()).max().unwrap_or(0);
    let budget = (total.div_ceil(n_records) * 2).max(largest + records[0].len() + 16);
    let mut k = 0;
    for (want, bytes) in encoded {
        k = k.max(want);
        while k + 1 < n_records && records[k].len() + bytes.len() > budget {
            k += 1;
        }
        records[k].extend_from_slice(&bytes);
    }
    records
}

/// How to round a number that does not fit the 8-character header field.
#[derive(Clone, Copy)]
enum Round {
    Down,
    Up,
    Nearest,
}

/// Formats `v` in at most 8 characters, rounding in the given direction when
/// digits must be dropped.
fn number_field(v: f64, round: Round) -> String {
    for decimals in (0..=7).rev() {
        let scale = 10f64.powi(decimals);
        let r = match round {
            Round::Down => (v * scale).floor() / scale,
            Round::Up => (v * scale).ceil() / scale,
            Round::Nearest => (v * scale).round() / scale,
        };
        let mut s = format!("{r:.*}", decimals as usize);
        if s.contains('.') {
            s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        if s == "-0" {
            s = "0".into();
        }
        if s.len() <= 8 {
            return s;
        }
    }
    // Beyond 8 digits: saturate at the largest representable magnitude.
    if v < 0.0 {
        "-9999999".into()
    } else {
        "99999999".into()
    }
}

/// Appends `text` as an ASCII field of exactly `width` bytes, space padded;
/// `µ` becomes `u` and other non-ASCII characters `_`.
fn put(out: &mut Vec<u8>, text: &str, width: usize) {
    let mut bytes: Vec<u8> = text
        .chars()
        .map(|c| match c {
            'µ' | 'μ' => b'u',
            c if c.is_ascii() && !c.is_ascii_control() => c as u8,
            _ => b'_',
        })
        .take(width)
        .collect();
    bytes.resize(width, b' ');
    out.extend_from_slice(&bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_fields_fit_and_round_outward() {
        assert_eq!(number_field(1.0, Round::Nearest), "1");
        assert_eq!(number_field(-3276.8, Round::Down), "-3276.8");
        assert_eq!(number_field(1.0 / 3.0, Round::Up), "0.333334");
        assert_eq!(number_field(-1.0 / 3.0, Round::Down), "-0.33334");
        assert_eq!(number_field(123456789.0, Round::Up), "99999999");
    }

    #[test]
    fn put_pads_and_sanitizes() {
        let mut out = Vec::new();
        put(&mut out, "µV", 8);
        assert_eq!(out, b"uV      ");
    }
}
