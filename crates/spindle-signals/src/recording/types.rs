//! The in-memory model of a recording, shared by every reader and writer.

use std::path::PathBuf;

/// The file format a recording was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// European Data Format, 16-bit, no EDF+ extensions.
    Edf,
    /// EDF+ with contiguous data records.
    EdfPlusC,
    /// EDF+ with discontinuous data records (gaps between records).
    EdfPlusD,
    /// BioSemi Data Format, 24-bit.
    Bdf,
    /// BDF+ with contiguous data records.
    BdfPlusC,
    /// BDF+ with discontinuous data records.
    BdfPlusD,
    /// BrainVision Core Data Format (`.vhdr` + `.vmrk` + `.eeg`).
    BrainVision,
    /// RIFF/WAVE audio.
    Wav,
}

impl Format {
    /// The name used by `spindle inspect` (`"EDF+C"`, `"BrainVision"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Edf => "EDF",
            Format::EdfPlusC => "EDF+C",
            Format::EdfPlusD => "EDF+D",
            Format::Bdf => "BDF",
            Format::BdfPlusC => "BDF+C",
            Format::BdfPlusD => "BDF+D",
            Format::BrainVision => "BrainVision",
            Format::Wav => "WAV",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A calendar date and time of day at which a recording started (local time of
/// the recording site, as the formats store it; no time zone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartTime {
    /// Four-digit year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day of month, 1-31.
    pub day: u32,
    /// Hour, 0-23.
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Seconds including the fraction, `0.0 <= second < 60.0`.
    pub second: f64,
}

impl StartTime {
    /// ISO 8601 text, e.g. `2004-01-24T05:56:07.123` (fraction only when non-zero,
    /// to the microsecond).
    pub fn iso8601(&self) -> String {
        let whole = self.second.floor();
        let micros = ((self.second - whole) * 1e6).round() as u64;
        let (whole, micros) = if micros >= 1_000_000 {
            (whole + 1.0, 0)
        } else {
            (whole, micros)
        };
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, whole as u32
        );
        if micros > 0 {
            let frac = format!("{micros:06}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s
    }

    /// This time moved by `seconds` (may be negative), carrying into minutes,
    /// hours and calendar days.
    pub fn plus_seconds(&self, seconds: f64) -> StartTime {
        let days = days_from_civil(self.year, self.month, self.day);
        let total = days as f64 * 86_400.0
            + self.hour as f64 * 3600.0
            + self.minute as f64 * 60.0
            + self.second
            + seconds;
        let day_index = (total / 86_400.0).floor();
        // Rounding can leave `in_day` a hair outside the day; a shift of
        // millions of years (a damaged file's claim) is held at the limit of
        // what the calendar arithmetic and an `i32` year can take.
        let in_day = total - day_index * 86_400.0;
        let in_day = if in_day.is_nan() {
            0.0
        } else {
            in_day.clamp(0.0, 86_399.999_999)
        };
        let (year, month, day) = civil_from_days(day_index.clamp(-MAX_DAYS, MAX_DAYS) as i64);
        let hour = (in_day / 3600.0).floor();
        let minute = ((in_day - hour * 3600.0) / 60.0).floor();
        StartTime {
            year,
            month,
            day,
            hour: hour as u32,
            minute: minute as u32,
            second: in_day - hour * 3600.0 - minute * 60.0,
        }
    }
}

/// The most days [`StartTime::plus_seconds`] moves from 1970 (about 2.7
/// million years either way).
const MAX_DAYS: f64 = 1e9;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = year as i64 - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// One signal of a recording, its samples in physical units.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// The channel's name, e.g. `Fp1` or `EEG O1-A2`, trimmed.
    pub label: String,
    /// The physical unit, e.g. `uV`; empty when the file gives none. WAV: empty
    /// (samples are normalized to about -1..1).
    pub unit: String,
    /// Samples per second (Hz).
    pub rate_hz: f64,
    /// The smallest physical value the file can represent, in `unit`.
    pub physical_min: f64,
    /// The largest physical value the file can represent, in `unit`.
    pub physical_max: f64,
    /// Transducer type (EDF), empty where the format has none.
    pub transducer: String,
    /// Prefiltering description (EDF), empty where the format has none.
    pub prefilter: String,
    /// The samples in physical units, in time order. Across gaps of an EDF+D file
    /// they are concatenated; [`Recording::segments`] says where each run starts.
    pub samples: Vec<f32>,
}

/// Channels sampled at this rate (Hz) or faster are sound, not EEG: they
/// are scaled to their peak, played at normal speed and shown with an
/// audio spectrogram.
pub const AUDIO_RATE_HZ: f64 = 4000.0;

impl Channel {
    /// A channel built in memory (e.g. to write with
    /// [`write_edf`](super::write_edf)): `samples` in µV (`uV`) at `rate_hz`,
    /// the physical range the samples' own (widened by 1 on each side when
    /// they are all equal or absent), no transducer or prefilter. Change the
    /// rest with struct update syntax:
    ///
    /// ```
    /// use spindle_signals::recording::Channel;
    ///
    /// let c = Channel::new("Fz", 256.0, vec![-20.0, 35.5, 10.0]);
    /// assert_eq!((c.physical_min, c.physical_max), (-20.0, 35.5));
    /// let wide = Channel { physical_min: -500.0, physical_max: 500.0, ..c };
    /// assert_eq!(wide.unit, "uV");
    /// ```
    pub fn new(label: impl Into<String>, rate_hz: f64, samples: Vec<f32>) -> Self {
        let (lo, hi) = samples
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let (physical_min, physical_max) = if lo < hi {
            (f64::from(lo), f64::from(hi))
        } else if lo == hi {
            (f64::from(lo) - 1.0, f64::from(hi) + 1.0)
        } else {
            (-1.0, 1.0)
        };
        Self {
            label: label.into(),
            unit: "uV".into(),
            rate_hz,
            physical_min,
            physical_max,
            transducer: String::new(),
            prefilter: String::new(),
            samples,
        }
    }

    /// True for a sound channel (see [`AUDIO_RATE_HZ`]).
    pub fn is_audio(&self) -> bool {
        self.rate_hz >= AUDIO_RATE_HZ
    }

    /// Duration covered by the samples, in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.rate_hz > 0.0 {
            self.samples.len() as f64 / self.rate_hz
        } else {
            0.0
        }
    }
}

/// An event in a recording: a labeled point or span of time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Annotation {
    /// Seconds from the recording's start (including any fractional start).
    pub onset_s: f64,
    /// Duration in seconds; `None` when the file gives none.
    pub duration_s: Option<f64>,
    /// The annotation text (UTF-8).
    pub text: String,
}

/// A run of contiguous data: where it sits in time and how much of each
/// channel's samples it holds. A contiguous recording has exactly one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Onset of the run, seconds from the recording's start.
    pub onset_s: f64,
    /// Duration of the run, seconds.
    pub duration_s: f64,
}

/// A recording read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The file it was read from.
    pub path: PathBuf,
    /// The format it was read as.
    pub format: Format,
    /// Patient identification as stored in the header (EDF), or empty.
    pub patient: String,
    /// Recording identification as stored in the header (EDF), or empty.
    pub recording_id: String,
    /// When the recording started, when the file says so.
    pub start: Option<StartTime>,
    /// The data channels (annotation signals are not channels).
    pub channels: Vec<Channel>,
    /// Events stored in the file, sorted by onset.
    pub annotations: Vec<Annotation>,
    /// Runs of contiguous data in time order; more than one only for files with
    /// gaps (EDF+D/BDF+D). Their durations add up to each channel's
    /// [`Channel::duration_s`].
    pub segments: Vec<Segment>,
    /// Odd things met while reading that did not stop it, in words.
    pub warnings: Vec<String>,
}

impl Recording {
    /// A continuous recording built in memory from `channels` (e.g. to write
    /// with [`write_edf`](super::write_edf)): EDF+C, no path, patient,
    /// recording id, start time, annotations or warnings, and one segment from
    /// 0 to the end of the longest channel. Change the rest with struct update
    /// syntax:
    ///
    /// ```
    /// use spindle_signals::recording::{Annotation, Channel, Recording};
    ///
    /// let recording = Recording {
    ///     annotations: vec![Annotation { onset_s: 0.5, duration_s: Some(1.0), text: "blink".into() }],
    ///     ..Recording::from_channels(vec![Channel::new("Fz", 100.0, vec![0.0; 300])])
    /// };
    /// assert_eq!(recording.duration_s(), 3.0);
    /// ```
    pub fn from_channels(channels: Vec<Channel>) -> Self {
        let duration_s = channels.iter().map(Channel::duration_s).fold(0.0, f64::max);
        Self {
            path: PathBuf::new(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels,
            annotations: Vec::new(),
            segments: vec![Segment {
                onset_s: 0.0,
                duration_s,
            }],
            warnings: Vec::new(),
        }
    }

    /// Total duration in seconds: from the start to the end of the last segment.
    pub fn duration_s(&self) -> f64 {
        self.segments
            .last()
            .map(|s| s.onset_s + s.duration_s)
            .unwrap_or_else(|| {
                self.channels
                    .iter()
                    .map(Channel::duration_s)
                    .fold(0.0, f64::max)
            })
    }

    /// True when the data has gaps in time (EDF+D/BDF+D with non-adjacent records).
    pub fn has_gaps(&self) -> bool {
        self.segments
            .windows(2)
            .any(|w| (w[1].onset_s - (w[0].onset_s + w[0].duration_s)).abs() > 1e-9)
    }

    /// The time in seconds from the start of sample `index` of a channel sampled
    /// at `rate_hz`, following the segments across gaps.
    pub fn sample_time_s(&self, rate_hz: f64, index: usize) -> f64 {
        let t_data = index as f64 / rate_hz;
        let mut covered = 0.0;
        for seg in &self.segments {
            if t_data < covered + seg.duration_s {
                return seg.onset_s + (t_data - covered);
            }
            covered += seg.duration_s;
        }
        match self.segments.last() {
            Some(last) => last.onset_s + last.duration_s + (t_data - covered),
            None => t_data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: f64) -> StartTime {
        StartTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    #[test]
    fn iso8601_shows_fraction_only_when_present() {
        assert_eq!(at(2004, 1, 24, 5, 56, 7.0).iso8601(), "2004-01-24T05:56:07");
        assert_eq!(
            at(2004, 1, 24, 5, 56, 7.3945312).iso8601(),
            "2004-01-24T05:56:07.394531"
        );
    }

    #[test]
    fn plus_seconds_carries_across_days_and_years() {
        let t = at(1999, 12, 31, 23, 59, 59.5).plus_seconds(0.75);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute),
            (2000, 1, 1, 0, 0)
        );
        assert!((t.second - 0.25).abs() < 1e-9);
        let t = at(2024, 3, 1, 0, 0, 0.0).plus_seconds(-1.0);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute),
            (2024, 2, 29, 23, 59)
        );
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2084, 7, 15)), (2084, 7, 15));
    }

    #[test]
    fn absurd_shifts_stop_at_the_calendar_limit() {
        // A damaged EDF+ file's first record may claim to start 9e23 s (about
        // 3e16 years) after the header's date; the day count overflowed.
        let t = at(2021, 1, 1, 0, 0, 0.0);
        let (limit_year, _, _) = civil_from_days(MAX_DAYS as i64);
        let (first_year, _, _) = civil_from_days(-MAX_DAYS as i64);
        for (shift_s, year) in [
            (9e23, limit_year),
            (f64::INFINITY, limit_year),
            (-9e23, first_year),
            (f64::NEG_INFINITY, first_year),
        ] {
            let moved = t.plus_seconds(shift_s);
            assert_eq!(moved.year, year, "{shift_s} s");
            assert!((1..=12).contains(&moved.month) && (1..=31).contains(&moved.day));
            assert!(moved.hour < 24 && moved.minute < 60);
            assert!((0.0..60.0).contains(&moved.second), "{moved:?}");
        }
        assert!(limit_year > 2_700_000 && first_year < -2_700_000);
    }
}
