//! Taking a trained run out of Spindle: an ONNX model that takes raw
//! windows in physical units ([`export_onnx`]) and a braindecode state dict
//! ([`export_braindecode`]).
//!
//! Runs are loaded through `train::load_run`, so `run.json` and
//! `model.safetensors` are checked as for `predict` before anything is
//! built. Runs whose preprocessing cannot be written into the exported
//! model (filters over whole recordings, exponential moving
//! standardization, spectrogram representations) are refused with one
//! line saying why.

mod braindecode;
mod onnx_graph;
mod onnx_layers;
pub mod onnx_proto;

use std::path::{Path, PathBuf};

use prost::Message;

use crate::dataset::{Normalization, Representation};
use crate::train::{DeviceChoice, RunInfo, RunPaths, TrainError, load_run};
use onnx_graph::{Attr, Graph};

pub use braindecode::{BraindecodeExport, export_braindecode};
pub use onnx_graph::OPSET;

/// Why a run could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The run folder could not be loaded (or is not a sound run).
    #[error(transparent)]
    Load(#[from] TrainError),
    /// The run cannot be expressed in the target format.
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The run folder.
        path: PathBuf,
        /// Why, in one line.
        reason: String,
    },
}

impl ExportError {
    fn refused(path: &Path, reason: impl Into<String>) -> Self {
        Self::Refused {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// The run's weights, as the exporters read them.
fn load_weights(dir: &Path) -> Result<onnx_layers::Weights, ExportError> {
    let path = RunPaths::new(dir).weights();
    let tensors = candle_core::safetensors::load(&path, &candle_core::Device::Cpu)
        .map_err(|e| TrainError::run_folder(&path, e))?;
    onnx_layers::Weights::new(&tensors)
        .map_err(|e| ExportError::Load(TrainError::run_folder(&path, e)))
}

/// Refuses runs whose preprocessing of raw windows an exported model cannot
/// repeat: a filter or a standardization over whole recordings, or a
/// spectrogram representation.
fn check_preprocessing(dir: &Path, info: &RunInfo) -> Result<(), ExportError> {
    if info.dataset_config.representation != Representation::Raw {
        return Err(ExportError::refused(
            dir,
            "the run reads spectrograms, which the export does not compute; train on the raw representation to export",
        ));
    }
    if info.dataset_config.filter.is_active() {
        return Err(ExportError::refused(
            dir,
            "the run filters whole recordings (zero-phase, forward and backward), which a model of single windows cannot repeat; train without --highpass/--lowpass/--notch to export",
        ));
    }
    if info.normalization_mode == Normalization::Ems {
        return Err(ExportError::refused(
            dir,
            "the run standardizes whole recordings (exponential moving standardization), which a model of single windows cannot repeat; train with --normalization baseline or zscore to export",
        ));
    }
    Ok(())
}

/// The run's model spec as its network was built: kernels and poolings
/// sized to the run's rate and window where the architecture sizes them
/// (`size_to_window`), so that an export has the trained network's shapes.
fn built_spec(info: &RunInfo) -> serde_json::Value {
    let (built, _) = info.model.sized_for(&info.input_shape());
    serde_json::to_value(&built).unwrap_or_default()
}

/// The metadata props of an exported model: what its input and output are.
fn metadata(dir: &Path, info: &RunInfo) -> Vec<(String, String)> {
    let json = |v: serde_json::Value| v.to_string();
    let run = dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    vec![
        ("channels".into(), json(serde_json::json!(info.channels))),
        ("rate_hz".into(), info.rate_hz.to_string()),
        (
            "window_s".into(),
            (info.window_len as f64 / info.rate_hz).to_string(),
        ),
        ("window_samples".into(), info.window_len.to_string()),
        ("unit".into(), info.input_unit.clone().unwrap_or_default()),
        ("classes".into(), json(serde_json::json!(info.classes))),
        (
            "output".into(),
            if info.regression {
                "value: [batch, 1], the predicted number".into()
            } else {
                "probabilities: [batch, classes], softmax in the order of `classes`".into()
            },
        ),
        (
            "input".into(),
            "window: [batch, channels, samples] raw samples in `unit`, channels in the order of `channels`, at `rate_hz`; normalization is inside the model".into(),
        ),
        (
            "normalization".into(),
            serde_json::to_value(info.normalization_mode)
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .unwrap_or_default(),
        ),
        ("model".into(), serde_json::to_string(&info.model).unwrap_or_default()),
        ("run".into(), run),
        ("spindle_version".into(), info.spindle_version.clone()),
        ("exported_by".into(), format!("spindle {}", env!("CARGO_PKG_VERSION"))),
    ]
}

/// The run's per-window preprocessing as graph nodes on `x`: baseline
/// removal (each window's mean per channel) when the run used it, then the
/// fitted per-channel standardization.
fn preprocessing(g: &mut Graph, info: &RunInfo, x: &str) -> String {
    let c = info.input_channels;
    let mut y = x.to_string();
    if info.normalization_mode == Normalization::Baseline {
        let mean = g.op(
            "ReduceMean",
            &[&y],
            &[("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(1))],
        );
        y = g.op("Sub", &[&y, &mean], &[]);
    }
    let stats = &info.normalization;
    if stats.mean.iter().any(|&m| m != 0.0) {
        let mean = g.constant("mean", &[1, c, 1], stats.mean.clone());
        y = g.op("Sub", &[&y, &mean], &[]);
    }
    if stats.std.iter().any(|&s| s != 1.0) {
        let inv: Vec<f32> = stats.std.iter().map(|&s| 1.0 / s).collect();
        let scale = g.constant("inv_std", &[1, c, 1], inv);
        y = g.op("Mul", &[&y, &scale], &[]);
    }
    y
}

/// The ONNX model (opset [`OPSET`]) of the run in `dir`, encoded: input
/// `window` `[batch, channels, samples]` of raw samples in the run's
/// channels' unit, channel order and rate; output `probabilities`
/// `[batch, classes]` (softmax) or `value` `[batch, 1]` for regression,
/// in the target's unit (the run's `target_scale` is inside the graph, as
/// is its normalization).
pub fn export_onnx(dir: &Path) -> Result<Vec<u8>, ExportError> {
    let run = load_run(dir, DeviceChoice::Cpu)?;
    let info = &run.info;
    check_preprocessing(dir, info)?;
    let weights = load_weights(dir)?;
    let spec = built_spec(info);
    let mut g = Graph::default();
    let x = preprocessing(&mut g, info, "window");
    let logits = onnx_layers::network(
        &mut g,
        &weights,
        info.model.kind(),
        &spec,
        &x,
        (info.input_channels, info.input_len),
    )
    .map_err(|reason| ExportError::refused(dir, reason))?;
    let (out, name, n) = if info.regression {
        // The network learned standardized targets: back to their unit.
        let scale = info.target_scale();
        let mut value = logits;
        if !scale.is_identity() {
            let sd = g.constant("target_sd", &[1], vec![scale.sd as f32]);
            let mean = g.constant("target_mean", &[1], vec![scale.mean as f32]);
            value = g.op("Mul", &[&value, &sd], &[]);
            value = g.op("Add", &[&value, &mean], &[]);
        }
        (value, "value", 1)
    } else {
        let p = g.op("Softmax", &[&logits], &[("axis", Attr::Int(1))]);
        (p, "probabilities", info.classes.len())
    };
    let doc = format!(
        "{} trained by Spindle on {} channels at {} Hz",
        info.model.display_name(),
        info.channels.len(),
        info.rate_hz
    );
    let model = g.finish(
        ("window", &[info.input_channels, info.input_len]),
        (&out, name, &[n]),
        metadata(dir, info),
        doc,
    );
    Ok(model.encode_to_vec())
}
