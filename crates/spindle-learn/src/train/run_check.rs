//! A run folder is input like a recording: everything `run.json` claims is
//! checked before anything is allocated from it, and the network it
//! describes is checked against `model.safetensors`' header.
//!
//! The one place every loader goes through: [`RunInfo::load`] checks the
//! file's size and then [`RunInfo::check`] (the model settings against
//! their architecture's ranges, channel counts, window lengths, class
//! lists and normalization statistics against each other and against
//! bounds), and [`build_checked`] builds the network with a variable
//! builder that compares every tensor the settings ask for with the
//! weights file's header before allocating it. `predict`, `explain`,
//! `export`, `--init` and the app's Runs, Results, suggestions and
//! "Explain again" all load runs through these.

use std::path::Path;
use std::sync::Mutex;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::VarMap;
use candle_nn::var_builder::SimpleBackend;

use super::weights_file::WeightsHeader;
use super::{RunInfo, RunPaths, TrainError};
use crate::dataset::Representation;
use crate::model::{self, InputShape, ModelSummary};

/// The largest `run.json` read (bytes).
pub const MAX_RUN_JSON_BYTES: u64 = 64 << 20;
/// The most input rows (channels) a run may claim.
const MAX_CHANNELS: usize = 4096;
/// The most samples (or frames) per window a run may claim.
const MAX_WINDOW: usize = 1 << 24;
/// The most values in one input window (rows x columns).
const MAX_WINDOW_VALUES: usize = 1 << 25;
/// The most classes a run may claim.
const MAX_CLASSES: usize = 10_000;
/// The highest sample rate a run may claim, Hz.
const MAX_RATE_HZ: f64 = 1e7;

impl RunInfo {
    /// Reads `run.json` of `dir` as untrusted input: its size is checked
    /// before it is read and what it claims ([`RunInfo::check`]) before it
    /// is returned. Errors name the file and the setting.
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let path = RunPaths::new(dir).run_json();
        check_run_json_size(&path)?;
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::run_folder(&path, e))?;
        let mut value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| TrainError::run_folder(&path, format!("not a Spindle run.json: {e}")))?;
        // `get_mut`, not indexing: indexing a run.json that is not an object
        // (an array, a number) would panic.
        if let Some(spec) = value.get_mut("model") {
            model::settings_before_sizing(spec);
        }
        let info: Self = serde_json::from_value(value)
            .map_err(|e| TrainError::run_folder(&path, format!("not a Spindle run.json: {e}")))?;
        info.check()
            .map_err(|reason| TrainError::run_folder(&path, reason))?;
        Ok(info)
    }

    /// Checks that what `run.json` claims is consistent and bounded, so
    /// that loading the run allocates only what a real run needs: the model
    /// settings within their architecture's ranges, channel and class
    /// counts, window lengths, rates and the normalization statistics.
    /// The reason names the setting.
    pub fn check(&self) -> Result<(), String> {
        let arch = model::architecture_of(&self.model);
        if let Some(arch) = arch {
            arch.check_ranges(&self.model)
                .map_err(|e| format!("model setting out of range for {}: {e}", arch.title))?;
        }
        self.model
            .validate()
            .map_err(|e| format!("model setting: {e}"))?;
        let rate = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= MAX_RATE_HZ {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a rate between 0 and {MAX_RATE_HZ} Hz, got {v}"
                ))
            }
        };
        rate("rate_hz", self.rate_hz)?;
        rate("input_rate_hz", self.input_rate_hz)?;
        let count = |name: &str, v: usize, max: usize| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between 1 and {max}, got {v}"))
            }
        };
        count("channels (number of)", self.channels.len(), MAX_CHANNELS)?;
        count("input_channels", self.input_channels, MAX_CHANNELS * 512)?;
        count("window_len", self.window_len, MAX_WINDOW)?;
        count("stride_len", self.stride_len.max(1), MAX_WINDOW)?;
        count("input_len", self.input_len, MAX_WINDOW)?;
        if self.input_channels.saturating_mul(self.input_len) > MAX_WINDOW_VALUES {
            return Err(format!(
                "input_channels x input_len ({} x {}) is more than any window's {MAX_WINDOW_VALUES} values",
                self.input_channels, self.input_len
            ));
        }
        self.check_representation()?;
        if self.regression {
            if !self.classes.is_empty() {
                return Err("a regression run has no classes".into());
            }
            if let Some(scale) = &self.target_scale {
                scale.check()?;
            }
        } else {
            count("classes (number of)", self.classes.len(), MAX_CLASSES)?;
        }
        let stats = &self.normalization;
        if stats.mean.len() != self.input_channels || stats.std.len() != self.input_channels {
            return Err(format!(
                "normalization has {} means and {} deviations for {} input rows",
                stats.mean.len(),
                stats.std.len(),
                self.input_channels
            ));
        }
        if stats.mean.iter().any(|v| !v.is_finite())
            || stats.std.iter().any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err("normalization statistics must be finite, deviations positive".into());
        }
        Ok(())
    }

    /// The representation's settings are bounded and give the input shape
    /// the run claims.
    fn check_representation(&self) -> Result<(), String> {
        let window_s = self.window_len as f64 / self.rate_hz;
        let frame = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= window_s {
                Ok(())
            } else {
                Err(format!(
                    "representation {name} must be between 0 and the window ({window_s} s), got {v}"
                ))
            }
        };
        match self.dataset_config.representation {
            Representation::Raw => {}
            Representation::Spectrogram {
                frame_s,
                hop_s,
                max_hz,
            } => {
                frame("frame_s", frame_s)?;
                frame("hop_s", hop_s)?;
                if !(max_hz.is_finite() && max_hz > 0.0) {
                    return Err(format!(
                        "representation max_hz must be positive, got {max_hz}"
                    ));
                }
            }
            Representation::LogMel {
                mels,
                frame_s,
                hop_s,
            } => {
                frame("frame_s", frame_s)?;
                frame("hop_s", hop_s)?;
                if !(1..=1024).contains(&mels) {
                    return Err(format!(
                        "representation mels must be between 1 and 1024, got {mels}"
                    ));
                }
            }
        }
        let shape = self.dataset_config.representation.output_shape(
            self.channels.len(),
            self.window_len,
            self.rate_hz,
        );
        match shape {
            Some((rows, cols, _)) if rows == self.input_channels && cols == self.input_len => {
                Ok(())
            }
            _ => Err(format!(
                "input shape {} x {} does not follow from {} channels, windows of {} samples and the representation",
                self.input_channels,
                self.input_len,
                self.channels.len(),
                self.window_len
            )),
        }
    }

    /// The network's input: the run's rows, columns, rate and outputs.
    pub fn input_shape(&self) -> InputShape {
        InputShape {
            channels: self.input_channels,
            samples: self.input_len,
            rate_hz: self.input_rate_hz,
            n_outputs: if self.regression {
                1
            } else {
                self.classes.len()
            },
        }
    }
}

/// A `VarMap` that hands out a variable only when the weights file holds a
/// tensor of that name and shape, and records the first mismatch instead.
struct MatchingHeader<'a> {
    varmap: VarMap,
    header: &'a WeightsHeader,
    mismatch: Mutex<Option<String>>,
}

impl MatchingHeader<'_> {
    fn refuse(&self, reason: String) -> candle_core::Error {
        if let Ok(mut first) = self.mismatch.lock()
            && first.is_none()
        {
            *first = Some(reason.clone());
        }
        candle_core::Error::Msg(reason)
    }
}

impl SimpleBackend for MatchingHeader<'_> {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        match self.header.tensors.get(name) {
            None => Err(self.refuse(format!(
                "holds no tensor {name}, which run.json's model needs (the weights belong to another model)"
            ))),
            Some(entry) if entry.shape != s.dims() => Err(self.refuse(format!(
                "tensor {name} is {:?}, but run.json's model settings make it {:?}",
                entry.shape,
                s.dims()
            ))),
            Some(_) => self.varmap.get(s, name, h, dtype, dev),
        }
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> candle_core::Result<Tensor> {
        Err(self.refuse(format!("asked for {name} without a shape")))
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.header.tensors.contains_key(name)
    }
}

/// Builds the run's network into `varmap`, each variable only after its
/// shape matched the tensor of the same name in `header` (the header of
/// `weights`, whose path names the file in errors), then loads the weights.
/// A regression's network is wrapped so that it outputs the target's unit
/// (`target_scale`).
pub(crate) fn build_checked(
    info: &RunInfo,
    header: &WeightsHeader,
    weights: &Path,
    device: &Device,
) -> Result<(Box<dyn model::Traced>, ModelSummary), TrainError> {
    let mut varmap = VarMap::new();
    let backend = MatchingHeader {
        varmap: varmap.clone(),
        header,
        mismatch: Mutex::new(None),
    };
    let mismatch = |backend: &MatchingHeader| {
        backend
            .mismatch
            .lock()
            .ok()
            .and_then(|mut m| m.take())
            .map(|reason| TrainError::run_folder(weights, reason))
    };
    let built = {
        let vb =
            candle_nn::VarBuilder::from_backend(Box::new(&backend), DType::F32, device.clone());
        model::build_traced(&info.model, &info.input_shape(), vb)
    };
    let (net, summary) = match built {
        Ok(b) => b,
        Err(e) => return Err(mismatch(&backend).unwrap_or(TrainError::Model(e))),
    };
    varmap.load(weights).map_err(|e| {
        TrainError::run_folder(
            weights,
            format!("weights do not fit the model in run.json: {e}"),
        )
    })?;
    let scale = info.target_scale();
    if info.regression && !scale.is_identity() {
        let net = super::target_scale::Unscaled { inner: net, scale };
        return Ok((Box::new(net), summary));
    }
    Ok((net, summary))
}

impl SimpleBackend for &MatchingHeader<'_> {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        (*self).get(s, name, h, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        (*self).get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        (*self).contains_tensor(name)
    }
}

/// Checks `path` (`run.json`) is no larger than any run's before it is read.
fn check_run_json_size(path: &Path) -> Result<(), TrainError> {
    let len = std::fs::metadata(path)
        .map_err(|e| TrainError::run_folder(path, e))?
        .len();
    if len > MAX_RUN_JSON_BYTES {
        return Err(TrainError::run_folder(
            path,
            format!("{len} bytes is larger than any run.json ({MAX_RUN_JSON_BYTES} at most)"),
        ));
    }
    Ok(())
}
