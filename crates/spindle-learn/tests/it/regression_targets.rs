//! Regression targets are standardized on the training split, so the unit
//! they are given in does not matter: the reaction-time recordings of
//! `spindle synth` labeled in seconds and the same labeled in milliseconds
//! (x1000) train to the same R² (before standardizing, milliseconds gave an
//! R² far below zero: the network's output had to travel to a mean of
//! about 450 by steps of the learning rate). A saved run predicts in the
//! target's unit.

use std::path::{Path, PathBuf};

use spindle_learn::dataset::{DatasetConfig, Normalization};
use spindle_learn::jobs::{RunFolder, TrainJob, TrainJobSpec};
use spindle_learn::model::ModelSpec;
use spindle_learn::train::{
    DataRoles, DeviceChoice, Outcome, Refit, RunInfo, TrainConfig, load_run, predict_file,
};
use spindle_signals::eval::RegressionReport;
use spindle_signals::recording::{
    EdfWriteOptions, LabelSet, sidecar_path, write_edf, write_events_tsv,
};
use spindle_signals::synth::synth_drowsy;

use crate::support::finish;

/// Subjects 1 to 4 of the drowsiness recordings (200 s each), their labels
/// multiplied by `factor`, in `dir`; the last one is the test recording.
fn write_subjects(dir: &Path, factor: f64) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (1..=4)
        .map(|subject| {
            let (recording, labels) = synth_drowsy(subject, 200.0, 11);
            let labels = LabelSet::new(
                labels
                    .labels
                    .into_iter()
                    .map(|mut l| {
                        let seconds: f64 = l.trial_type.parse().unwrap();
                        l.trial_type = format!("{}", seconds * factor);
                        l
                    })
                    .collect(),
            );
            let path = dir.join(format!("sub-{subject:02}.edf"));
            write_edf(&path, &recording, &EdfWriteOptions::default()).unwrap();
            write_events_tsv(&sidecar_path(&path), &labels).unwrap();
            path
        })
        .collect()
}

fn train(files: &[PathBuf], run_dir: &Path) -> Outcome {
    let job = TrainJob::spawn(
        TrainJobSpec {
            data: DataRoles {
                train: files[..3].to_vec(),
                validation: Vec::new(),
                test: files[3..].to_vec(),
                labels: Default::default(),
            },
            dataset: DatasetConfig {
                regression: true,
                normalization: Normalization::ZScore,
                ..DatasetConfig::default()
            },
            model: ModelSpec::by_name("shallow").unwrap(),
            train: TrainConfig {
                epochs: 12,
                refit: Refit::Off,
                ..TrainConfig::default()
            },
            run_dir: RunFolder::At(run_dir.to_path_buf()),
            init_from: None,
        },
        || {},
    );
    finish(job, &run_dir.display().to_string())
}

#[test]
fn targets_in_milliseconds_train_as_well_as_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let seconds = write_subjects(&dir.path().join("s"), 1.0);
    let millis = write_subjects(&dir.path().join("ms"), 1000.0);
    let o_s = train(&seconds, &dir.path().join("run-s"));
    let o_ms = train(&millis, &dir.path().join("run-ms"));
    let (r_s, r_ms) = (
        o_s.test_regression.clone().unwrap(),
        o_ms.test_regression.clone().unwrap(),
    );
    let (r2_s, r2_ms) = (r_s.r2.unwrap(), r_ms.r2.unwrap());
    eprintln!(
        "R² in seconds {r2_s:.3} (MAE {:.4} s), in milliseconds {r2_ms:.3} (MAE {:.1} ms)",
        r_s.mae, r_ms.mae
    );
    assert!(r2_s > 0.5, "the task is learnable: R² {r2_s:.3}");
    assert!(
        (r2_s - r2_ms).abs() < 0.05,
        "the unit changes nothing: R² {r2_s:.3} in s, {r2_ms:.3} in ms"
    );
    // The error is reported in the target's unit.
    assert!(
        (r_ms.mae / r_s.mae - 1000.0).abs() < 100.0,
        "{r_s:?} {r_ms:?}"
    );

    // The scale is stored, and a loaded run predicts milliseconds.
    let run_dir = dir.path().join("run-ms");
    let info = RunInfo::load(&run_dir).unwrap();
    let scale = info.target_scale.expect("a regression stores its scale");
    assert!((300.0..600.0).contains(&scale.mean), "{scale:?}");
    let kept = o_ms.target_scale.unwrap();
    assert!((kept.mean - scale.mean).abs() < 1e-9 && (kept.sd / scale.sd - 1.0).abs() < 1e-12);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["target_scale"]["mean"], scale.mean);
    let run = load_run(&run_dir, DeviceChoice::Cpu).unwrap();
    let predicted = predict_file(&run, &millis[3]).unwrap();
    let truth = spindle_signals::recording::read_events_tsv(&sidecar_path(&millis[3])).unwrap();
    let (t, p): (Vec<f32>, Vec<f32>) = predicted
        .iter()
        .filter_map(|w| {
            let l = truth
                .labels
                .iter()
                .find(|l| (l.onset_s - w.onset_s).abs() < 1e-6)?;
            Some((
                l.trial_type.parse::<f32>().ok()?,
                w.label.parse::<f32>().ok()?,
            ))
        })
        .unzip();
    assert!(t.len() > 50, "{} windows matched", t.len());
    let loaded = RegressionReport::new(&t, &p).unwrap();
    assert!(
        (loaded.r2.unwrap() - r2_ms).abs() < 0.1,
        "predict gives milliseconds: R² {:?} vs the run's {r2_ms:.3}",
        loaded.r2
    );
}
