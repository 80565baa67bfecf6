//! EDF+/BDF+ writer round trips, EDF+D gaps, and hostile files: every damaged
//! header or body is rejected cleanly (or read with a warning), never a panic.

use spindle_signals::recording::{
    Annotation, Channel, EdfWriteOptions, Format, Recording, Segment, StartTime, read_edf,
    read_recording, write_edf,
};
use spindle_signals::testdata::sample;

use crate::support::file;
use crate::support::files::put;

fn channel(label: &str, rate_hz: f64, samples: Vec<f32>) -> Channel {
    Channel {
        physical_min: -500.0,
        physical_max: 500.0,
        transducer: "AgAgCl".into(),
        prefilter: "HP:0.1Hz".into(),
        ..Channel::new(label, rate_hz, samples)
    }
}

fn sample_recording() -> Recording {
    let a: Vec<f32> = (0..1000).map(|i| 100.0 * (i as f32 * 0.05).sin()).collect();
    let b: Vec<f32> = (0..500).map(|i| -250.0 + i as f32).collect();
    Recording {
        path: "mem".into(),
        patient: "P01 M 01-JAN-1970 Doe".into(),
        start: Some(StartTime {
            year: 2021,
            month: 6,
            day: 3,
            hour: 14,
            minute: 5,
            second: 9.25,
        }),
        annotations: vec![
            Annotation {
                onset_s: 0.5,
                duration_s: Some(2.0),
                text: "eyes closed".into(),
            },
            Annotation {
                onset_s: 3.25,
                duration_s: None,
                text: "marker µ 中文".into(),
            },
            Annotation {
                onset_s: 9.999,
                duration_s: Some(0.001),
                text: "end".into(),
            },
        ],
        ..Recording::from_channels(vec![channel("Fp1", 100.0, a), channel("O2", 50.0, b)])
    }
}

fn assert_close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol, "sample {i}: {x} vs {y}");
    }
}

#[test]
fn edf_and_bdf_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let original = sample_recording();
    for (bdf, name, tol) in [
        (false, "x.edf", 1000.0 / 65535.0),
        (true, "x.bdf", 1000.0 / 16_777_215.0),
    ] {
        let path = dir.path().join(name);
        write_edf(
            &path,
            &original,
            &EdfWriteOptions {
                bdf,
                record_duration_s: 1.0,
            },
        )
        .unwrap();
        let back = read_edf(&path).unwrap();
        assert_eq!(
            back.format,
            if bdf {
                Format::BdfPlusC
            } else {
                Format::EdfPlusC
            }
        );
        assert_eq!(back.channels.len(), 2);
        for (c, o) in back.channels.iter().zip(&original.channels) {
            assert_eq!(c.label, o.label);
            assert_eq!(c.unit, o.unit);
            assert_eq!(c.rate_hz, o.rate_hz);
            assert_close(&c.samples, &o.samples, tol * 0.51 + 1e-4);
        }
        let start = back.start.unwrap();
        assert_eq!(
            (start.year, start.month, start.day, start.hour, start.minute),
            (2021, 6, 3, 14, 5)
        );
        assert!((start.second - 9.25).abs() < 1e-6);
        assert_eq!(back.annotations.len(), 3);
        for (a, o) in back.annotations.iter().zip(&original.annotations) {
            assert!((a.onset_s - o.onset_s).abs() < 1e-6);
            assert_eq!(a.duration_s, o.duration_s);
            assert_eq!(a.text, o.text);
        }
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.duration_s(), 10.0);
    }
}

#[test]
fn many_annotations_in_few_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = sample_recording();
    rec.annotations = (0..2000)
        .map(|i| Annotation {
            onset_s: i as f64 * 0.005,
            duration_s: Some(0.004),
            text: format!("event {i}"),
        })
        .collect();
    let path = dir.path().join("many.edf");
    write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
    let back = read_edf(&path).unwrap();
    assert_eq!(back.annotations.len(), 2000);
    assert!(
        back.annotations
            .windows(2)
            .all(|w| w[0].onset_s <= w[1].onset_s)
    );
    assert_eq!(back.annotations[1999].text, "event 1999");
}

/// Builds a small EDF+ file by hand so that fields can be damaged one by one.
fn hand_made(reserved: &str, n_records: &str, record_tals: &[&[u8]]) -> Vec<u8> {
    let ns = 2;
    let spr = [4usize, 16];
    let mut h = Vec::new();
    put(&mut h, "0", 8);
    put(&mut h, "X X X X", 80);
    put(&mut h, "Startdate 01-JAN-2020 X X X", 80);
    put(&mut h, "01.01.20", 8);
    put(&mut h, "10.00.00", 8);
    put(&mut h, &(256 * (ns + 1)).to_string(), 8);
    put(&mut h, reserved, 44);
    put(&mut h, n_records, 8);
    put(&mut h, "1", 8);
    put(&mut h, &ns.to_string(), 4);
    for l in ["C3", "EDF Annotations"] {
        put(&mut h, l, 16)
    }
    for _ in 0..ns {
        put(&mut h, "", 80)
    }
    for u in ["uV", ""] {
        put(&mut h, u, 8)
    }
    for _ in 0..ns {
        put(&mut h, "-100", 8)
    }
    for _ in 0..ns {
        put(&mut h, "100", 8)
    }
    for _ in 0..ns {
        put(&mut h, "-32768", 8)
    }
    for _ in 0..ns {
        put(&mut h, "32767", 8)
    }
    for _ in 0..ns {
        put(&mut h, "", 80)
    }
    for s in spr {
        put(&mut h, &s.to_string(), 8)
    }
    for _ in 0..ns {
        put(&mut h, "", 32)
    }
    for (k, tal) in record_tals.iter().enumerate() {
        for i in 0..spr[0] {
            h.extend_from_slice(&((k * 100 + i) as i16).to_le_bytes());
        }
        let mut t = tal.to_vec();
        t.resize(spr[1] * 2, 0);
        h.extend_from_slice(&t);
    }
    h
}

#[test]
fn edf_plus_d_keeps_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = hand_made(
        "EDF+D",
        "3",
        &[
            b"+0\x14\x14\x00",
            b"+1\x14\x14\x00",
            b"+5\x14\x14\x00+5.5\x14late\x14\x00",
        ],
    );
    let rec = read_edf(&file(dir.path(), "d.edf", &bytes)).unwrap();
    assert_eq!(rec.format, Format::EdfPlusD);
    assert_eq!(
        rec.segments,
        vec![
            Segment {
                onset_s: 0.0,
                duration_s: 2.0
            },
            Segment {
                onset_s: 5.0,
                duration_s: 1.0
            }
        ]
    );
    assert!(rec.has_gaps());
    assert_eq!(rec.duration_s(), 6.0);
    assert_eq!(rec.channels[0].samples.len(), 12);
    // Sample 8 is the first of the third record, at 5 s.
    assert_eq!(rec.sample_time_s(4.0, 8), 5.0);
    assert_eq!(rec.annotations[0].text, "late");
    // Digital 0..3 map to physical with gain 200/65535 and offset.
    let gain = 200.0 / 65535.0;
    let expect = (0.0 + 32768.0) * gain - 100.0;
    assert!((rec.channels[0].samples[0] as f64 - expect).abs() < 1e-4);
}

#[test]
fn unknown_record_count_and_truncation_are_read_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let tals: [&[u8]; 3] = [b"+0\x14\x14\x00", b"+1\x14\x14\x00", b"+2\x14\x14\x00"];
    let rec = read_edf(&file(
        dir.path(),
        "m1.edf",
        &hand_made("EDF+C", "-1", &tals),
    ))
    .unwrap();
    assert_eq!(rec.duration_s(), 3.0);
    assert!(rec.warnings.iter().any(|w| w.contains("-1")));
    let mut bytes = hand_made("EDF+C", "3", &tals);
    bytes.truncate(bytes.len() - 5);
    let rec = read_edf(&file(dir.path(), "cut.edf", &bytes)).unwrap();
    assert_eq!(rec.duration_s(), 2.0);
    assert!(
        rec.warnings.iter().any(|w| w.contains("claims 3")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn lying_and_broken_headers_are_rejected_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let tals: [&[u8]; 2] = [b"+0\x14\x14\x00", b"+1\x14\x14\x00"];
    let good = hand_made("EDF+C", "2", &tals);
    let cases: Vec<(&str, usize, &[u8], &str)> = vec![
        ("ns-huge", 252, b"9999", "header of 9999 signals"),
        ("ns-zero", 252, b"0   ", "0 signals"),
        ("ns-text", 252, b"ab  ", "not a number"),
        ("records-negative", 236, b"-5      ", "-5"),
        ("records-text", 236, b"many    ", "not a number"),
        ("duration-text", 244, b"one     ", "not a number"),
        ("duration-zero", 244, b"0       ", "0 s"),
        ("header-bytes", 184, b"999     ", "header size"),
        ("version", 0, b"9", "not an EDF"),
        (
            "digital-range",
            256 + 2 * 128,
            b"-40000  ",
            "digital minimum",
        ),
        (
            "digital-overflow",
            256 + 2 * 128,
            b"99999   ",
            "does not fit",
        ),
        ("spr-zero", 256 + 2 * 216, b"0       ", "0 samples"),
        (
            "phys-nan",
            256 + 2 * 104,
            b"nan     ",
            "not a finite number",
        ),
    ];
    for (name, offset, patch, expect) in cases {
        let mut bytes = good.clone();
        bytes[offset..offset + patch.len()].copy_from_slice(patch);
        let path = file(dir.path(), &format!("{name}.edf"), &bytes);
        let err = read_recording(&path).expect_err(name).to_string();
        assert!(err.contains(expect), "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.edf")),
            "{name}: the message names the file: {err}"
        );
    }
}

#[test]
fn every_truncation_and_random_damage_is_handled() {
    let dir = tempfile::tempdir().unwrap();
    let original = sample_recording();
    let path = dir.path().join("x.edf");
    write_edf(&path, &original, &EdfWriteOptions::default()).unwrap();
    let good = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.edf");
    // Every cut in the header, then every 97th byte in the data.
    let offsets = (0..1024.min(good.len())).chain((1024..good.len()).step_by(97));
    for len in offsets {
        std::fs::write(&cut, &good[..len]).unwrap();
        if let Ok(rec) = read_recording(&cut) {
            assert!(
                !rec.warnings.is_empty(),
                "cut at {len} read without a warning"
            );
        }
    }
    // Random byte damage (deterministic).
    let mut rng = spindle_signals::rng::Rng::new(99);
    for round in 0..400 {
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(if round % 2 == 0 { 1024 } else { bytes.len() });
            bytes[at] = rng.below(256) as u8;
        }
        std::fs::write(&cut, &bytes).unwrap();
        let _ = read_recording(&cut);
    }
    // Random bytes and other file types renamed.
    for n in [0usize, 1, 100, 255, 256, 257, 5000] {
        let bytes: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
        std::fs::write(&cut, &bytes).unwrap();
        assert!(read_recording(&cut).is_err());
    }
    let wav_as_edf = dir.path().join("sound.edf");
    spindle_signals::recording::write_wav(
        &wav_as_edf,
        8000,
        &[vec![0.1; 100]],
        spindle_signals::recording::WavSampleFormat::Pcm16,
    )
    .unwrap();
    let rec = read_recording(&wav_as_edf).unwrap();
    assert_eq!(
        rec.format,
        Format::Wav,
        "content decides the format, not the name"
    );
}

/// An independent oracle on a file our writer made: pyedflib 0.1.42 and
/// MNE 1.13 read the committed `sample_data/eeg/sub-01.edf` as below.
#[test]
fn our_edf_reads_the_same_in_pyedflib_and_mne() {
    let path = sample("eeg/sub-01.edf");
    let rec = read_edf(&path).unwrap();
    let facts = [
        ("Fp1", 0, -5.969_329_365_987_64, 196_187.222_095_063_7),
        ("O1", 10, 32.483_405_813_687_34, 204.251_163_500_415_7),
        ("O2", 11, 27.673_762_111_848_63, -16_988.516_060_120_546),
    ];
    for (label, i, head3, sum) in facts {
        let ch = &rec.channels[i];
        assert_eq!(ch.label, label);
        assert_eq!(ch.rate_hz, 256.0);
        assert_eq!(ch.samples.len(), 38_400);
        assert_eq!((ch.physical_min, ch.physical_max), (-800.0, 800.0));
        let h: f64 = ch.samples[..3].iter().map(|&v| v as f64).sum();
        assert!((h - head3).abs() < 1e-3, "{label} head {h} vs {head3}");
        let s: f64 = ch.samples.iter().map(|&v| v as f64).sum();
        let scale: f64 = ch.samples.iter().map(|&v| (v as f64).abs()).sum();
        assert!((s - sum).abs() < 1e-6 * scale, "{label} sum {s} vs {sum}");
    }
    assert_eq!(rec.annotations.len(), 52);
    assert_eq!(
        (rec.annotations[0].onset_s, rec.annotations[0].text.as_str()),
        (2.0, "eyes_closed")
    );
    assert_eq!(
        (rec.annotations[1].onset_s, rec.annotations[1].text.as_str()),
        (5.041, "blink")
    );
    assert_eq!(rec.start.unwrap().iso8601(), "2026-01-11T09:30:00");
    assert_eq!(rec.duration_s(), 150.0);
}
