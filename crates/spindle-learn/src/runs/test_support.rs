//! Run folders and a labeled audio folder for the tests of `crate::runs`
//! and `crate::jobs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spindle_signals::eval::ClassificationReport;

use crate::dataset::{ChannelStats, DatasetConfig, DatasetSummary, Normalization};
use crate::model::{ModelSpec, ModelSummary};
use crate::train::{RunInfo, TrainConfig};

/// A plausible `run.json` of an EEGNet classifier with default settings.
pub(crate) fn run_info(classes: &[&str]) -> RunInfo {
    let model: ModelSpec = serde_json::from_value(serde_json::json!({"kind": "eegnet"})).unwrap();
    RunInfo {
        spindle_version: "0.1.0".into(),
        data: Vec::new(),
        dataset_config: DatasetConfig::default(),
        channels: vec!["Cz".into(), "Pz".into()],
        rate_hz: 128.0,
        window_len: 256,
        stride_len: 256,
        input_channels: 2,
        input_len: 256,
        input_rate_hz: 128.0,
        normalization_mode: Normalization::Baseline,
        classes: classes.iter().map(|c| c.to_string()).collect(),
        regression: false,
        whole_file: false,
        normalization: ChannelStats::identity(2),
        model,
        model_summary: ModelSummary::new(Vec::new(), 64, 128.0),
        train: TrainConfig::default(),
        device: "cpu".into(),
        split: DatasetSummary::default(),
        versions: BTreeMap::new(),
        input_unit: None,
        final_fit: None,
        target_scale: None,
        kept_by: None,
    }
}

/// Writes a classification `report.json` into `dir` as `write_report` in
/// `crate::train` does, with test accuracy 0.8 (8 of 10).
pub(crate) fn write_report_json(dir: &Path) {
    let truth = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    let predicted = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0];
    let test = ClassificationReport::new(&["a", "b"], &truth, &predicted, None).unwrap();
    let value = serde_json::json!({
        "test": test,
        "validation": test,
        "best_epoch": 4,
        "epochs_run": 6,
        "stopped_early": true,
        "train_seconds": 3.25,
    });
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&value).unwrap(),
    )
    .unwrap();
}

/// A labeled audio folder `root/calls/class<c>/call-<i>.wav` of `classes` x
/// `per_class` short generated calls (8 kHz, 0.25 s); its path.
pub(crate) fn audio_folder(root: &Path, classes: usize, per_class: usize) -> PathBuf {
    use spindle_signals::recording::{WavSampleFormat, write_wav};
    let folder = root.join("calls");
    for c in 0..classes {
        let dir = folder.join(format!("class{c}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..per_class {
            let call = spindle_signals::synth::synth_call(c, 8_000.0, 0.25, (c * 100 + i) as u64);
            let path = dir.join(format!("call-{i:02}.wav"));
            write_wav(&path, 8_000, &[call], WavSampleFormat::Pcm16).unwrap();
        }
    }
    folder
}
