//! The readers against real files from outside the project (`../shared/testdata`),
//! checked against the facts its README gives and values read by pyedflib 0.1.42.
//! Skips with a message when the folder is absent (fails with
//! `SPINDLE_REQUIRE_TESTDATA=1`).

use std::path::PathBuf;

use spindle_signals::recording::{Format, read_recording};

fn testdata(rel: &str) -> Option<PathBuf> {
    spindle_signals::testdata::path(rel)
}

/// (channel, rate Hz, samples, sum of the first 3 values, sum of all values) from pyedflib.
type Facts = (&'static str, f64, usize, f64, f64);

fn check_channels(file: &str, facts: &[Facts]) {
    let Some(path) = testdata(file) else { return };
    let rec = read_recording(&path).unwrap_or_else(|e| panic!("{e}"));
    for &(label, rate, n, head3, sum) in facts {
        let ch = rec
            .channels
            .iter()
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("{file}: no channel {label}"));
        assert_eq!(ch.rate_hz, rate, "{file} {label} rate");
        assert_eq!(ch.samples.len(), n, "{file} {label} samples");
        let h: f64 = ch.samples[..3].iter().map(|&v| v as f64).sum();
        assert!(
            (h - head3).abs() < 1e-3 * head3.abs().max(1.0),
            "{file} {label} head {h} vs {head3}"
        );
        let s: f64 = ch.samples.iter().map(|&v| v as f64).sum();
        // f32 samples: allow one part in 10^6 of the summed magnitudes.
        let scale: f64 = ch.samples.iter().map(|&v| (v as f64).abs()).sum();
        assert!(
            (s - sum).abs() < 1e-6 * scale.max(1.0),
            "{file} {label} sum {s} vs {sum}"
        );
    }
}

#[test]
fn edf_plus_generator_file() {
    check_channels(
        "pyedflib/test_generator.edf",
        &[
            ("squarewave", 200.0, 120_000, 299.9771, 1831.08),
            ("ramp", 200.0, 120_000, -296.8948, -58155.18),
            ("pulse", 200.0, 120_000, 299.9771, 241776.15),
        ],
    );
    let Some(path) = testdata("pyedflib/test_generator.edf") else {
        return;
    };
    let rec = read_recording(&path).unwrap();
    assert_eq!(rec.format, Format::EdfPlusC);
    assert_eq!(rec.channels.len(), 11);
    assert_eq!(rec.duration_s(), 600.0);
    assert_eq!(rec.start.unwrap().iso8601(), "2011-04-04T12:57:02");
    let texts: Vec<(f64, Option<f64>, &str)> = rec
        .annotations
        .iter()
        .map(|a| (a.onset_s, a.duration_s, a.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        vec![
            (0.0, None, "Recording starts"),
            (600.0, None, "Recording ends")
        ]
    );
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
}

#[test]
fn plain_edf_with_annotation_signal() {
    let Some(path) = testdata("pyedflib/test_legacy.edf") else {
        return;
    };
    let rec = read_recording(&path).unwrap();
    assert_eq!(rec.format, Format::Edf);
    assert_eq!(
        rec.channels.len(),
        11,
        "the annotation signal is not a channel"
    );
    assert_eq!(rec.annotations.len(), 2);
    assert!(rec.warnings.iter().any(|w| w.contains("annotation signal")));
    check_channels(
        "pyedflib/test_legacy.edf",
        &[("squarewave", 200.0, 120_000, 299.9771, 1831.08)],
    );
}

#[test]
fn bdf_plus_with_mixed_rates_and_record_lengths() {
    let facts: [(&str, [Facts; 3]); 3] = [
        (
            "pyedflib/test_generator.bdf",
            [
                ("sine 5Hz", 1000.0, 30_000, 188.3091, 0.0),
                ("square 13Hz", 800.0, 24_000, 2999.9989, -12006002.14),
                ("ramp 7Hz", 500.0, 15_000, -2775.9994, -3744000.02),
            ],
        ),
        (
            "pyedflib/test_generator_datarec_generator_0_5.bdf",
            [
                ("sine 10Hz", 2000.0, 60_000, 188.3091, 0.0),
                ("square 26Hz", 1600.0, 48_000, 2999.9989, -24006004.29),
                ("ramp 14Hz", 1000.0, 30_000, -2775.9994, -7507999.98),
            ],
        ),
        (
            "pyedflib/test_generator_datarec_generator_2.bdf",
            [
                ("sine 2.5Hz", 500.0, 15_000, 188.3091, 0.0),
                ("square 6.5Hz", 400.0, 12_000, 2999.9989, -6004001.07),
                ("ramp 3.5Hz", 250.0, 7_500, -2775.9994, -1874000.0),
            ],
        ),
    ];
    for (file, f) in &facts {
        check_channels(file, f);
        let Some(path) = testdata(file) else { return };
        let rec = read_recording(&path).unwrap();
        assert_eq!(rec.format, Format::BdfPlusC);
        assert_eq!(rec.channels.len(), 5);
        assert_eq!(rec.duration_s(), 30.0);
        assert!(rec.annotations.is_empty());
    }
}

#[test]
fn subsecond_start_and_inverted_physical_range() {
    let Some(path) = testdata("pyedflib/test_subsecond.edf") else {
        return;
    };
    let rec = read_recording(&path).unwrap();
    // The first record's time-keeping TAL (+0.3945312) is the fraction of the start.
    assert_eq!(rec.start.unwrap().iso8601(), "2020-01-24T04:05:56.394531");
    assert_eq!(rec.annotations.len(), 4);
    assert_eq!(rec.annotations[0].text, "XLSpike");
    assert!((rec.annotations[0].onset_s - 1.951172).abs() < 1e-6);
    assert!(
        rec.warnings.iter().any(|w| w.contains("inverted")),
        "{:?}",
        rec.warnings
    );
    check_channels(
        "pyedflib/test_subsecond.edf",
        &[("Fp1", 128.0, 89_344, 24.0588, -26791.09)],
    );
}

#[test]
fn utf8_annotations() {
    let Some(path) = testdata("pyedflib/test_utf8.edf") else {
        return;
    };
    let rec = read_recording(&path).unwrap();
    assert_eq!(rec.annotations.len(), 5);
    assert!(rec.annotations.iter().any(|a| a.text == "中文测试八个字"));
    assert!((rec.annotations[0].onset_s - 1.556641).abs() < 1e-6);
}

#[test]
fn blink_recordings_edf_and_bdf_agree() {
    let facts_edf = [
        ("EEG1", 255.0, 229_500, 2539.6961, 193969504.9),
        ("EEG2", 255.0, 229_500, 2560.1901, 167811888.63),
        ("EEG3", 255.0, 229_500, 2532.4362, 211334100.64),
    ];
    check_channels("eeg-blink/blink_test.edf", &facts_edf);
    let facts_bdf = [
        ("EEG1", 255.0, 229_500, 2539.6701, 193969417.81),
        ("EEG2", 255.0, 229_500, 2560.2197, 167811986.41),
        ("EEG3", 255.0, 229_500, 2532.4176, 211334158.2),
    ];
    check_channels("eeg-blink/blink_test.bdf", &facts_bdf);
    check_channels(
        "eeg-blink/blink_train.edf",
        &[("EEG1", 255.0, 255_000, 2396.2379, 216388334.9)],
    );
    for (file, n, long) in [
        ("eeg-blink/blink_train.edf", 500, 250),
        ("eeg-blink/blink_test.edf", 450, 200),
        ("eeg-blink/blink_test.bdf", 450, 200),
    ] {
        let Some(path) = testdata(file) else { return };
        let rec = read_recording(&path).unwrap();
        assert_eq!(rec.channels.len(), 4);
        assert_eq!(rec.annotations.len(), n, "{file}");
        assert_eq!(
            rec.annotations
                .iter()
                .filter(|a| a.text == "LongBlink")
                .count(),
            long
        );
        assert!(rec.annotations.iter().all(|a| a.duration_s == Some(2.0)));
    }
}

#[test]
fn audio_digits_read_as_wav() {
    let Some(root) = testdata("audio-digits") else {
        return;
    };
    for digit in 0..10 {
        let dir = root.join(digit.to_string());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rec = read_recording(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(rec.format, Format::Wav);
            assert_eq!(rec.channels.len(), 1);
            assert_eq!(rec.channels[0].rate_hz, 8000.0);
            assert!(
                rec.channels[0]
                    .samples
                    .iter()
                    .all(|v| (-1.0..1.0).contains(v))
            );
        }
    }
}
