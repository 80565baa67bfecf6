//! Datasets built from real files: windows, splits without leakage, normalization.

use spindle_learn::dataset::{
    DatasetConfig, Normalization, SplitData, build_dataset, load_sources,
};
use spindle_signals::testdata::sample;

fn overlaps(a: &SplitData, b: &SplitData, len: usize) -> usize {
    let mut n = 0;
    for wa in &a.windows {
        for wb in &b.windows {
            if wa.source == wb.source && wa.start.abs_diff(wb.start) < len {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn overlapping_windows_never_cross_splits_with_two_recordings() {
    let mut warnings = Vec::new();
    let sources = load_sources(
        &[sample("eeg/sub-01.edf"), sample("eeg/sub-02.edf")],
        &Default::default(),
        &[],
        &mut warnings,
    )
    .unwrap();
    // Windows of 1 s every 0.25 s inside 2-s trials: heavy overlap.
    let config = DatasetConfig {
        window_s: Some(1.0),
        stride_s: Some(0.25),
        normalization: Normalization::Baseline,
        ..DatasetConfig::default()
    };
    let ds = build_dataset(sources, Vec::new(), &config).unwrap();
    assert_eq!(ds.window_len, 256);
    assert!(ds.summary.test_method.contains("last block of time"));
    assert!(
        ds.summary
            .warnings
            .iter()
            .any(|w| w.contains("blocks of trials") && w.contains("--cv")),
        "a validation block of the training recordings is flagged: {:?}",
        ds.summary.warnings
    );
    assert!(
        ds.summary.purged > 0,
        "overlapping neighbours of held-out windows are dropped"
    );
    for (a, b) in [
        (&ds.train, &ds.validation),
        (&ds.train, &ds.test),
        (&ds.validation, &ds.test),
    ] {
        assert_eq!(overlaps(a, b, ds.window_len), 0);
    }
    // Every class appears in every split.
    for split in ["train", "validation", "test"] {
        let counts = ds
            .summary
            .counts
            .iter()
            .find(|(k, _)| k.as_str() == split)
            .map(|(_, v)| v)
            .unwrap();
        assert_eq!(counts.len(), 4, "{split}: {counts:?}");
    }
    // Baseline normalization: every row of every window has mean 0, and the
    // training windows have unit variance per channel.
    let per = ds.input_channels * ds.input_len;
    for w in ds.train.x.chunks(per).take(5) {
        for row in w.chunks(ds.input_len) {
            let mean: f32 = row.iter().sum::<f32>() / row.len() as f32;
            assert!(mean.abs() < 1e-4);
        }
    }
    let var: f64 =
        ds.train.x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / ds.train.x.len() as f64;
    assert!((var - 1.0).abs() < 0.05, "{var}");
}

#[test]
fn whole_recordings_are_held_out_from_five() {
    let mut warnings = Vec::new();
    let sources = load_sources(&[sample("eeg")], &Default::default(), &[], &mut warnings).unwrap();
    assert_eq!(sources.len(), 5);
    let ds = build_dataset(sources, Vec::new(), &DatasetConfig::default()).unwrap();
    assert_eq!(ds.window_len, 512, "the median label is 2 s at 256 Hz");
    let sources_of = |s: &SplitData| {
        s.windows
            .iter()
            .map(|w| w.source)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (tr, va, te) = (
        sources_of(&ds.train),
        sources_of(&ds.validation),
        sources_of(&ds.test),
    );
    assert!(tr.is_disjoint(&va) && tr.is_disjoint(&te) && va.is_disjoint(&te));
    assert_eq!(tr.len() + va.len() + te.len(), 5);
    // One window per trial: all labels are 2 s.
    let trials: usize = (1..=5)
        .map(|i| {
            spindle_signals::recording::read_events_tsv(&sample(&format!(
                "eeg/sub-0{i}_events.tsv"
            )))
            .unwrap()
            .len()
        })
        .sum();
    assert_eq!(ds.train.len() + ds.validation.len() + ds.test.len(), trials);
}

#[test]
fn audio_folders_split_by_file_and_stratify() {
    let mut warnings = Vec::new();
    let sources =
        load_sources(&[sample("audio")], &Default::default(), &[], &mut warnings).unwrap();
    let ds = build_dataset(sources, Vec::new(), &DatasetConfig::default()).unwrap();
    assert_eq!(
        ds.classes,
        vec!["falling_chirp", "harmonic_whistle", "rising_chirp", "trill"]
    );
    assert!(ds.whole_file);
    for counts in ds.summary.counts.values() {
        let v: Vec<usize> = counts.values().copied().collect();
        assert!(
            v.iter().all(|&c| c == v[0]),
            "balanced per split: {counts:?}"
        );
    }
}

#[test]
fn short_audio_files_are_padded_to_the_model_minimum() {
    let mut warnings = Vec::new();
    let sources =
        load_sources(&[sample("audio")], &Default::default(), &[], &mut warnings).unwrap();
    let config = DatasetConfig {
        min_window_samples: 10_000,
        ..DatasetConfig::default()
    };
    let ds = build_dataset(sources, Vec::new(), &config).unwrap();
    assert_eq!(
        ds.window_len, 10_000,
        "0.5-s clips at 16 kHz padded from 8000 samples"
    );
    assert!(
        ds.summary.warnings.iter().any(|w| w.contains("padded")),
        "{:?}",
        ds.summary.warnings
    );
    // Padding is zeros after the clip.
    let first = &ds.train.x[..ds.window_len];
    assert!(first[8_000..].iter().all(|&v| v == first[8_000]));
}

#[test]
fn channel_types_choose_the_sleep_nights_eeg() {
    use spindle_signals::recording::ChannelKind;
    let mut warnings = Vec::new();
    let sources =
        load_sources(&[sample("sleep")], &Default::default(), &[], &mut warnings).unwrap();
    let config = |types: Vec<ChannelKind>| DatasetConfig {
        channel_types: types,
        window_s: Some(30.0),
        ..DatasetConfig::default()
    };
    let eeg = build_dataset(sources.clone(), Vec::new(), &config(vec![ChannelKind::Eeg])).unwrap();
    assert_eq!(eeg.channels, ["Fpz-Cz", "Pz-Oz"]);
    let eye_and_chin = build_dataset(
        sources.clone(),
        Vec::new(),
        &config(vec![ChannelKind::Emg, ChannelKind::Eog]),
    )
    .unwrap();
    assert_eq!(eye_and_chin.channels, ["EOG horizontal", "EMG submental"]);
    let none = build_dataset(sources, Vec::new(), &config(vec![ChannelKind::Ecg]))
        .unwrap_err()
        .to_string();
    assert!(none.contains("no channel of type ECG"), "{none}");
}
