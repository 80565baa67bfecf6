//! Property tests: random headers (labels, units, physical ranges, record
//! durations, start times, patient fields), signals and annotations written by
//! Spindle's writers come back from its readers: EDF (16-bit, no annotations),
//! EDF+ and BDF+ (with annotations and a fractional start), WAV in every sample
//! format the writer has, BrainVision, and `events.tsv` label sets.
//!
//! EDF/BDF samples must come back within half a digital step,
//! `(phys_max - phys_min) / (dig_max - dig_min) / 2`, of what was written, plus
//! the rounding of the reader's `f32` arithmetic (a few `f32` epsilons of the
//! physical range); everything else must come back exactly. The cases are few
//! (see `config`) so that the file runs in seconds in release builds.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use spindle_signals::recording::{
    Annotation, Channel, EdfWriteOptions, Format, Label, LabelSet, Recording, StartTime,
    WavSampleFormat, read_brainvision, read_edf, read_events_tsv, read_recording,
    write_brainvision, write_edf, write_events_tsv, write_wav,
};

/// Cases per property: enough to meet odd headers, few enough for a quick run.
fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// A scratch folder, in RAM where `/dev/shm` exists (the writers fsync).
fn scratch() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

// ---- EDF, EDF+, BDF+ ---------------------------------------------------------

/// One signal's header fields and its samples as fractions of its range.
#[derive(Debug, Clone)]
struct SignalCase {
    label: String,
    unit: String,
    transducer: String,
    prefilter: String,
    samples_per_record: usize,
    physical_min: f64,
    physical_max: f64,
}

#[derive(Debug, Clone)]
struct EdfCase {
    bdf: bool,
    record_s: f64,
    n_records: usize,
    patient: String,
    recording_rest: String,
    start: StartTime,
    signals: Vec<SignalCase>,
    /// Per signal, `samples_per_record * n_records` values in `0..=1`.
    fractions: Vec<Vec<f64>>,
    annotations: Vec<Annotation>,
}

/// Printable ASCII of 1..=`max` characters, no blank at either end (the
/// reader trims header fields).
fn field(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[!-~]([ -~]{{0,{}}}[!-~])?", max - 2)).unwrap()
}

fn signal_case() -> impl Strategy<Value = SignalCase> {
    (
        proptest::string::string_regex("[A-Za-z]([A-Za-z0-9 _.:-]{0,13}[A-Za-z0-9])?").unwrap(),
        prop_oneof![
            proptest::string::string_regex("[A-Za-z%]{0,8}").unwrap(),
            Just("µV".to_string())
        ],
        prop_oneof![Just(String::new()), field(80)],
        prop_oneof![Just(String::new()), field(80)],
        1usize..=12,
        -5000.0f64..5000.0,
        0.01f64..10000.0,
    )
        .prop_map(
            |(label, unit, transducer, prefilter, spr, lo, width)| SignalCase {
                label,
                unit,
                transducer,
                prefilter,
                samples_per_record: spr,
                physical_min: lo,
                physical_max: lo + width,
            },
        )
}

/// A start time in the years EDF's two-digit year can hold, with a fraction
/// of a second in whole milliseconds.
fn start_time() -> impl Strategy<Value = StartTime> {
    (
        1985i32..=2084,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1000,
    )
        .prop_map(|(year, month, day, hour, minute, second, ms)| StartTime {
            year,
            month,
            day,
            hour,
            minute,
            second: f64::from(second) + f64::from(ms) / 1000.0,
        })
}

fn annotation(duration_s: f64) -> impl Strategy<Value = Annotation> {
    (
        0.0..duration_s,
        proptest::option::of(0.0f64..100.0),
        "\\PC{1,20}",
    )
        .prop_map(|(onset_s, duration_s, text)| Annotation {
            onset_s,
            duration_s,
            text,
        })
}

fn edf_case(with_annotations: bool) -> impl Strategy<Value = EdfCase> {
    (
        any::<bool>(),
        prop::sample::select(vec![0.1, 0.25, 0.5, 1.0, 2.0]),
        1usize..=4,
        field(80),
        field(40),
        start_time(),
        prop::collection::vec(signal_case(), 1..=4),
    )
        .prop_flat_map(
            move |(bdf, record_s, n_records, patient, rest, start, signals)| {
                let fractions: Vec<_> = signals
                    .iter()
                    .map(|s| prop::collection::vec(0.0f64..=1.0, s.samples_per_record * n_records))
                    .collect();
                let count = if with_annotations { 0..=5usize } else { 0..=0 };
                let annotations =
                    prop::collection::vec(annotation(record_s * n_records as f64), count);
                (
                    Just((bdf, record_s, n_records, patient, rest, start, signals)),
                    fractions,
                    annotations,
                )
            },
        )
        .prop_map(
            |(
                (bdf, record_s, n_records, patient, recording_rest, start, signals),
                fractions,
                mut annotations,
            )| {
                // The reader returns annotations sorted by onset.
                annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
                EdfCase {
                    bdf,
                    record_s,
                    n_records,
                    patient,
                    recording_rest,
                    start,
                    signals,
                    fractions,
                    annotations,
                }
            },
        )
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// Writes the case, reads it back and checks every field.
fn check_edf_round_trip(case: &EdfCase, plus: bool) -> Result<(), TestCaseError> {
    let channels: Vec<Channel> = case
        .signals
        .iter()
        .zip(&case.fractions)
        .map(|(s, fractions)| Channel {
            label: s.label.clone(),
            unit: s.unit.clone(),
            rate_hz: s.samples_per_record as f64 / case.record_s,
            physical_min: s.physical_min,
            physical_max: s.physical_max,
            transducer: s.transducer.clone(),
            prefilter: s.prefilter.clone(),
            samples: fractions
                .iter()
                .map(|u| (s.physical_min + u * (s.physical_max - s.physical_min)) as f32)
                .collect(),
        })
        .collect();
    let mut rec = Recording {
        annotations: case.annotations.clone(),
        ..Recording::from_channels(channels)
    };
    rec.patient = case.patient.clone();
    rec.recording_id = case.recording_rest.clone();
    // Plain files get a whole-second start: no time-keeping fraction.
    rec.start = Some(if plus {
        case.start
    } else {
        StartTime {
            second: case.start.second.floor(),
            ..case.start
        }
    });
    let dir = scratch();
    let path = dir.path().join(if case.bdf { "p.bdf" } else { "p.edf" });
    let opts = EdfWriteOptions {
        bdf: case.bdf,
        record_duration_s: case.record_s,
    };
    write_edf(&path, &rec, &opts).unwrap();
    let back = read_edf(&path).unwrap();
    prop_assert_eq!(&back.warnings, &Vec::<String>::new());
    prop_assert_eq!(
        back.format,
        if case.bdf {
            Format::BdfPlusC
        } else {
            Format::EdfPlusC
        }
    );
    prop_assert_eq!(&back.patient, &case.patient);
    let st = case.start;
    let expected_id = format!(
        "Startdate {:02}-{}-{:04} {}",
        st.day,
        MONTHS[st.month as usize - 1],
        st.year,
        case.recording_rest
    );
    let expected_id: String = expected_id.chars().take(80).collect();
    prop_assert_eq!(&back.recording_id, expected_id.trim_end());

    let read_start = back.start.unwrap();
    let want = rec.start.unwrap();
    prop_assert_eq!(
        (read_start.year, read_start.month, read_start.day),
        (want.year, want.month, want.day)
    );
    prop_assert_eq!(
        (read_start.hour, read_start.minute),
        (want.hour, want.minute)
    );
    prop_assert!(
        (read_start.second - want.second).abs() < 1e-6,
        "start second {} instead of {}",
        read_start.second,
        want.second
    );
    let duration_s = case.record_s * case.n_records as f64;
    prop_assert!((back.duration_s() - duration_s).abs() < 1e-9);

    let (dig_min, dig_max) = if case.bdf {
        (-8_388_608.0, 8_388_607.0)
    } else {
        (-32768.0, 32767.0)
    };
    prop_assert_eq!(back.channels.len(), rec.channels.len());
    for (got, want) in back.channels.iter().zip(&rec.channels) {
        prop_assert_eq!(&got.label, &want.label);
        prop_assert_eq!(&got.unit, &want.unit.replace('µ', "u"));
        prop_assert_eq!(&got.transducer, &want.transducer);
        prop_assert_eq!(&got.prefilter, &want.prefilter);
        prop_assert!((got.rate_hz - want.rate_hz).abs() <= 1e-9 * want.rate_hz);
        // The header's range is the requested one rounded outward to 8 characters.
        let (lo, hi) = (want.physical_min, want.physical_max);
        prop_assert!(got.physical_min <= lo && lo - got.physical_min <= 1e-4 * lo.abs().max(1.0));
        prop_assert!(got.physical_max >= hi && got.physical_max - hi <= 1e-4 * hi.abs().max(1.0));
        let step = (got.physical_max - got.physical_min) / (dig_max - dig_min);
        let magnitude = got.physical_min.abs().max(got.physical_max.abs());
        let tolerance = step / 2.0 + 4.0 * f64::from(f32::EPSILON) * magnitude;
        prop_assert_eq!(got.samples.len(), want.samples.len());
        for (i, (&g, &w)) in got.samples.iter().zip(&want.samples).enumerate() {
            let error = (f64::from(g) - f64::from(w)).abs();
            prop_assert!(
                error <= tolerance,
                "{} sample {i}: {g} read for {w} written (error {error}, step {step})",
                want.label
            );
        }
    }
    prop_assert_eq!(back.annotations.len(), case.annotations.len());
    for (got, want) in back.annotations.iter().zip(&case.annotations) {
        prop_assert_eq!(&got.text, &want.text);
        prop_assert!(
            (got.onset_s - want.onset_s).abs() < 1e-6,
            "{got:?} for {want:?}"
        );
        match (got.duration_s, want.duration_s) {
            (None, None) => {}
            (Some(g), Some(w)) => prop_assert!((g - w).abs() < 1e-6, "{got:?} for {want:?}"),
            _ => prop_assert!(false, "{got:?} for {want:?}"),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// EDF+C and BDF+C with annotations and a start time with a fraction of a
    /// second (carried by the time-keeping annotations).
    #[test]
    fn edf_plus_and_bdf_plus_round_trip(case in edf_case(true)) {
        check_edf_round_trip(&case, true)?;
    }

    /// 16- and 24-bit files without annotations or fractional start: only the
    /// header fields and the samples.
    #[test]
    fn edf_and_bdf_without_annotations_round_trip(case in edf_case(false)) {
        check_edf_round_trip(&case, false)?;
    }
}

// ---- WAV -----------------------------------------------------------------------

/// `x` as the writer stores it in `bits`-bit PCM, read back.
fn pcm_value(x: f32, bits: u32) -> f32 {
    if x.is_nan() {
        return 0.0;
    }
    let scale = (1i64 << (bits - 1)) as f64;
    let q = (f64::from(x).clamp(-1.0, 1.0) * scale)
        .round()
        .clamp(-scale, scale - 1.0);
    (q / scale) as f32
}

fn wav_case() -> impl Strategy<Value = (u32, WavSampleFormat, Vec<Vec<f32>>)> {
    (
        1u32..=384_000,
        prop::sample::select(vec![
            WavSampleFormat::Pcm16,
            WavSampleFormat::Pcm24,
            WavSampleFormat::Float32,
        ]),
        1usize..=4,
        0usize..=64,
    )
        .prop_flat_map(|(rate, format, n_channels, frames)| {
            let sample = prop_oneof![
                8 => -1.25f32..1.25,
                1 => prop::sample::select(vec![-1.0f32, 1.0, 0.0, -0.0, 1.0 / 32768.0]),
                1 => any::<f32>(),
            ];
            (
                Just(rate),
                Just(format),
                prop::collection::vec(prop::collection::vec(sample, frames), n_channels),
            )
        })
}

proptest! {
    #![proptest_config(config())]

    /// Every sample format the writer has: PCM samples come back as the
    /// writer's quantization of them, float samples bit for bit.
    #[test]
    fn wav_round_trip((rate, format, channels) in wav_case()) {
        let dir = scratch();
        let path = dir.path().join("a.wav");
        write_wav(&path, rate, &channels, format).unwrap();
        let back = read_recording(&path).unwrap();
        prop_assert_eq!(back.format, Format::Wav);
        prop_assert_eq!(back.channels.len(), channels.len());
        let all_finite = channels.iter().flatten().all(|x| x.is_finite());
        if format != WavSampleFormat::Float32 || all_finite {
            prop_assert_eq!(&back.warnings, &Vec::<String>::new());
        }
        for (got, want) in back.channels.iter().zip(&channels) {
            prop_assert_eq!(got.rate_hz, f64::from(rate));
            prop_assert_eq!(got.samples.len(), want.len());
            for (&g, &w) in got.samples.iter().zip(want) {
                let expected = match format {
                    WavSampleFormat::Pcm16 => pcm_value(w, 16),
                    WavSampleFormat::Pcm24 => pcm_value(w, 24),
                    WavSampleFormat::Float32 => w,
                };
                if format == WavSampleFormat::Float32 {
                    prop_assert_eq!(g.to_bits(), expected.to_bits(), "{} read for {}", g, w);
                } else {
                    prop_assert_eq!(g, expected, "{} read for {}", g, w);
                }
            }
        }
        let frames = channels[0].len() as f64;
        prop_assert_eq!(back.duration_s(), frames / f64::from(rate));
    }
}

// ---- BrainVision -----------------------------------------------------------------

fn brainvision_case() -> impl Strategy<Value = Recording> {
    (
        prop::sample::select(vec![
            100.0, 128.0, 200.0, 250.0, 256.0, 500.0, 512.0, 1000.0, 1024.0, 2000.0, 5000.0, 8192.0,
        ]),
        1usize..=50,
        prop::collection::vec(
            (
                "[\\p{L}\\p{N}]([\\p{L}\\p{N} ,;=_.:-]{0,10}[\\p{L}\\p{N}])?",
                prop_oneof![Just(String::new()), "[A-Za-zµ%]{1,4}"],
            ),
            1..=4,
        ),
        proptest::option::of(start_time()),
        0u32..1_000_000,
    )
        .prop_flat_map(|(rate, n, names, start, micros)| {
            let samples = prop::collection::vec(
                prop::collection::vec(any::<f32>().prop_filter("finite", |x| x.is_finite()), n),
                names.len(),
            );
            let markers = prop::collection::vec(
                (
                    0..n,
                    proptest::option::of(2u32..=20),
                    "[\\p{L}\\p{N}][\\p{L}\\p{N} ,;=_.!?-]{0,15}",
                ),
                0..=5,
            );
            (Just((rate, names, start, micros)), samples, markers)
        })
        .prop_map(|((rate, names, start, micros), samples, markers)| {
            let channels = names
                .into_iter()
                .zip(samples)
                .map(|((label, unit), samples)| Channel {
                    label,
                    unit,
                    rate_hz: rate,
                    physical_min: -1.0,
                    physical_max: 1.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples,
                })
                .collect();
            let mut annotations: Vec<Annotation> = markers
                .into_iter()
                .map(|(position, size, text)| Annotation {
                    onset_s: position as f64 / rate,
                    duration_s: size.map(|m| f64::from(m) / rate),
                    text,
                })
                .collect();
            annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
            let mut rec = Recording {
                annotations,
                ..Recording::from_channels(channels)
            };
            rec.start = start.map(|s| StartTime {
                second: s.second.floor() + f64::from(micros) / 1e6,
                ..s
            });
            rec
        })
}

proptest! {
    #![proptest_config(config())]

    /// Labels (with commas, `=` and `;`), units, the rate, float samples bit
    /// for bit, markers as annotations and the start time to the microsecond.
    #[test]
    fn brainvision_round_trip(rec in brainvision_case()) {
        let dir = scratch();
        let path = dir.path().join("b.vhdr");
        write_brainvision(&path, &rec).unwrap();
        let back = read_brainvision(&path).unwrap();
        prop_assert_eq!(&back.warnings, &Vec::<String>::new());
        prop_assert_eq!(back.format, Format::BrainVision);
        prop_assert_eq!(back.channels.len(), rec.channels.len());
        for (got, want) in back.channels.iter().zip(&rec.channels) {
            prop_assert_eq!(&got.label, &want.label);
            let unit = if want.unit.is_empty() { "µV" } else { want.unit.as_str() };
            prop_assert_eq!(&got.unit, unit);
            prop_assert_eq!(got.rate_hz, want.rate_hz);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got.samples), bits(&want.samples));
        }
        // Annotations with equal onsets may come back in another order.
        let key = |a: &Annotation| (a.onset_s.to_bits(), a.text.clone());
        let mut got = back.annotations.clone();
        let mut want = rec.annotations.clone();
        got.sort_by_key(key);
        want.sort_by_key(key);
        prop_assert_eq!(got, want);
        match (back.start, rec.start) {
            (None, None) => {}
            (Some(g), Some(w)) => {
                prop_assert_eq!((g.year, g.month, g.day, g.hour, g.minute), (w.year, w.month, w.day, w.hour, w.minute));
                prop_assert!((g.second - w.second).abs() < 1e-9, "{g:?} for {w:?}");
            }
            (g, w) => prop_assert!(false, "start {g:?} for {w:?}"),
        }
    }
}

// ---- events.tsv --------------------------------------------------------------------

fn label_set() -> impl Strategy<Value = LabelSet> {
    prop::collection::btree_set("[a-z][a-z0-9_]{0,7}", 0..=3)
        .prop_map(|names| {
            names
                .into_iter()
                .filter(|n| !matches!(n.as_str(), "onset" | "duration" | "trial_type"))
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|extra_columns| {
            let n_extra = extra_columns.len();
            let label = (
                -100_000i64..10_000_000,
                0i64..1_000_000,
                "\\PC{1,12}",
                prop::collection::vec("\\PC{1,8}", n_extra),
            )
                .prop_map(|(onset_ms, duration_ms, trial_type, extra)| Label {
                    onset_s: onset_ms as f64 / 1000.0,
                    duration_s: duration_ms as f64 / 1000.0,
                    trial_type,
                    extra,
                });
            (prop::collection::vec(label, 0..=20), Just(extra_columns))
        })
        .prop_map(|(labels, extra_columns)| LabelSet {
            labels,
            extra_columns,
        })
}

proptest! {
    #![proptest_config(config())]

    /// Millisecond times, any class text and extra columns come back exactly,
    /// sorted.
    #[test]
    fn events_tsv_round_trip(set in label_set()) {
        let dir = scratch();
        let path = dir.path().join("x_events.tsv");
        write_events_tsv(&path, &set).unwrap();
        let back = read_events_tsv(&path).unwrap();
        prop_assert_eq!(back, set.sorted());
    }
}
