//! Run folders for the tests of `crate::runs`.

use std::collections::BTreeMap;
use std::path::Path;

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
