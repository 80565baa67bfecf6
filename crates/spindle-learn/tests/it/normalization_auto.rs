//! `--normalization auto` on generated EEG whose class lives only in the
//! window mean (a slow shift of the potential, as in slow cortical potentials):
//! baseline correction erases the class, auto keeps it and says why.

use std::path::{Path, PathBuf};

use spindle_learn::dataset::{DatasetConfig, Normalization};
use spindle_learn::jobs::{RunFolder, TrainJob, TrainJobSpec};
use spindle_learn::model::ModelSpec;
use spindle_learn::train::{DataRoles, Outcome, TrainConfig};
use spindle_signals::recording::{
    Channel, EdfWriteOptions, Label, LabelSet, Recording, sidecar_path, write_edf, write_events_tsv,
};

const RATE_HZ: f64 = 100.0;
const TRIAL_S: f64 = 2.0;
const TRIALS: usize = 60;

use crate::support::{Noise, finish};

/// Two channels of white noise (10 µV); each 2-s trial is labeled `up` or
/// `down` and shifts both channels by +6 or -6 µV: the class is in the
/// window mean and nowhere else.
fn write_subject(dir: &Path, subject: usize) -> PathBuf {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ subject as u64);
    let n = (TRIALS as f64 * TRIAL_S * RATE_HZ) as usize;
    let per_trial = (TRIAL_S * RATE_HZ) as usize;
    let mut labels = LabelSet::default();
    let mut shifts = vec![0.0f64; n];
    for t in 0..TRIALS {
        let up = noise.uniform() < 0.5;
        labels.labels.push(Label::new(
            t as f64 * TRIAL_S,
            TRIAL_S,
            if up { "up" } else { "down" },
        ));
        let shift = if up { 6.0 } else { -6.0 };
        shifts[t * per_trial..(t + 1) * per_trial].fill(shift);
    }
    let channel = |label: &str, noise: &mut Noise| Channel {
        physical_min: -200.0,
        physical_max: 200.0,
        ..Channel::new(
            label,
            RATE_HZ,
            shifts
                .iter()
                .map(|s| (s + 10.0 * noise.normal()) as f32)
                .collect(),
        )
    };
    let channels = vec![channel("Cz", &mut noise), channel("Pz", &mut noise)];
    let recording = Recording {
        patient: format!("sub-{subject:02} X X X"),
        ..Recording::from_channels(channels)
    };
    let path = dir.join(format!("sub-{subject:02}.edf"));
    write_edf(&path, &recording, &EdfWriteOptions::default()).unwrap();
    write_events_tsv(&sidecar_path(&path), &labels).unwrap();
    path
}

fn train(dir: &Path, data: &[PathBuf], normalization: Normalization, name: &str) -> Outcome {
    let job = TrainJob::spawn(
        TrainJobSpec {
            data: DataRoles {
                train: data[..3].to_vec(),
                validation: vec![data[3].clone()],
                test: vec![data[4].clone()],
                labels: Default::default(),
            },
            dataset: DatasetConfig {
                normalization,
                ..DatasetConfig::default()
            },
            model: ModelSpec::by_name("mlp").unwrap(),
            train: TrainConfig {
                epochs: 15,
                seed: 0,
                ..TrainConfig::default()
            },
            run_dir: RunFolder::At(dir.join(name)),
            init_from: None,
        },
        || {},
    );
    finish(job, name)
}

#[test]
fn auto_keeps_the_window_mean_when_it_carries_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<PathBuf> = (1..=5).map(|s| write_subject(dir.path(), s)).collect();
    let accuracy = |o: &Outcome| o.test.as_ref().unwrap().accuracy;

    let baseline = train(dir.path(), &data, Normalization::Baseline, "baseline");
    let auto = train(dir.path(), &data, Normalization::Auto, "auto");
    assert!(
        baseline.normalization.is_none(),
        "a fixed choice is not explained"
    );
    eprintln!(
        "test accuracy: baseline {:.3}, auto {:.3}",
        accuracy(&baseline),
        accuracy(&auto)
    );
    let choice = auto.normalization.clone().expect("auto says what it chose");
    assert_eq!(choice.chosen, Normalization::ZScore, "{}", choice.reason);
    assert!(choice.reason.contains("window means"), "{}", choice.reason);
    assert!(
        accuracy(&auto) >= accuracy(&baseline) + 0.05,
        "auto {:.3} vs baseline {:.3}",
        accuracy(&auto),
        accuracy(&baseline)
    );
    assert!(accuracy(&auto) > 0.9, "auto {:.3}", accuracy(&auto));
    assert!(
        accuracy(&baseline) < 0.7,
        "baseline {:.3}",
        accuracy(&baseline)
    );

    // Both run folders record the choice and its reason.
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("auto/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["normalization_mode"], "z_score");
    assert_eq!(run["split"]["normalization"]["chosen"], "z_score");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("auto/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["normalization"]["chosen"], "z_score");
    assert!(
        report["normalization"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("z-score"))
    );
}
