//! What the first layer learned: its temporal filters as frequency
//! responses (which rhythms each passes) and, for EEGNet, ShallowConvNet
//! and Deep4, the spatial filters that follow them as weights per channel
//! (scalp maps where channel names follow 10-20/10-10), read from a run's
//! `model.safetensors` or any set of weights by name.

use std::path::{Path, PathBuf};

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::ExplainError;
use crate::dataset::Representation;
use crate::model::ModelSpec;
use crate::train::{DeviceChoice, RunPaths};

/// The file the CLI writes into the run folder.
pub const FILTERS_TSV: &str = "filters.tsv";
/// Its header.
pub const FILTERS_HEADER: &str = "filter\tspatial\tchannel\tfreq_hz\tvalue";
/// Frequencies of each response, 0 to the Nyquist frequency.
pub const RESPONSE_POINTS: usize = 129;

/// One temporal filter of the first layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporalFilter {
    /// Its index in the layer.
    pub index: usize,
    /// Gain `|H(f)|` at each of [`LearnedFilters::freqs_hz`] (for a kernel
    /// over several input channels: the root mean square over them).
    pub gain: Vec<f32>,
    /// The frequency of the largest gain, Hz.
    pub peak_hz: f64,
}

/// One spatial filter: a weight per channel, applied after a temporal filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpatialFilter {
    /// Its index in its layer.
    pub index: usize,
    /// The temporal filter it follows (EEGNet: its own; ShallowConvNet and
    /// Deep4 mix all of them: the one it weighs most).
    pub temporal: usize,
    /// One weight per channel, in [`LearnedFilters::channels`]' order.
    pub weights: Vec<f32>,
}

/// A network's first-layer filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedFilters {
    /// The weights read (e.g. `conv_temporal.weight`).
    pub layer: String,
    /// The input's sample rate, Hz.
    pub rate_hz: f64,
    /// The frequencies of every response, Hz.
    pub freqs_hz: Vec<f64>,
    /// The temporal filters.
    pub temporal: Vec<TemporalFilter>,
    /// The input channels.
    pub channels: Vec<String>,
    /// The spatial filters (empty for architectures without them).
    pub spatial: Vec<SpatialFilter>,
}

impl LearnedFilters {
    /// The mean over temporal filters of the share of each one's power
    /// (gain²) that lies in `low_hz..=high_hz`.
    pub fn band_share(&self, low_hz: f64, high_hz: f64) -> f64 {
        let shares: Vec<f64> = self
            .temporal
            .iter()
            .map(|f| {
                let power = |keep: &dyn Fn(f64) -> bool| -> f64 {
                    f.gain
                        .iter()
                        .zip(&self.freqs_hz)
                        .filter(|(_, hz)| keep(**hz))
                        .map(|(g, _)| f64::from(*g) * f64::from(*g))
                        .sum()
                };
                let total = power(&|_| true);
                if total > 0.0 {
                    power(&|hz| (low_hz..=high_hz).contains(&hz)) / total
                } else {
                    0.0
                }
            })
            .collect();
        if shares.is_empty() {
            0.0
        } else {
            shares.iter().sum::<f64>() / shares.len() as f64
        }
    }

    /// `filters.tsv`: [`FILTERS_HEADER`], then per temporal filter one row
    /// per frequency (`spatial` and `channel` `-`, `value` the gain), then
    /// per spatial filter one row per channel (`freq_hz` `-`, `value` the
    /// weight, `filter` the temporal filter it follows).
    pub fn to_tsv(&self) -> String {
        let mut out = String::from(FILTERS_HEADER);
        out.push('\n');
        for f in &self.temporal {
            for (hz, g) in self.freqs_hz.iter().zip(&f.gain) {
                out.push_str(&format!("{}\t-\t-\t{hz}\t{g}\n", f.index));
            }
        }
        for s in &self.spatial {
            for (name, w) in self.channels.iter().zip(&s.weights) {
                let name = name.replace(['\t', '\n'], " ");
                out.push_str(&format!("{}\t{}\t{name}\t-\t{w}\n", s.temporal, s.index));
            }
        }
        out
    }

    /// Writes [`LearnedFilters::to_tsv`] to `run_dir/filters.tsv` atomically.
    pub fn save(&self, run_dir: &Path) -> Result<PathBuf, ExplainError> {
        let path = run_dir.join(FILTERS_TSV);
        spindle_signals::recording::write_atomic(&path, self.to_tsv().as_bytes())
            .map_err(|e| ExplainError::file(&path, e))?;
        Ok(path)
    }
}

/// The first-layer filters of the run in `run_dir` (loaded and checked as
/// `predict` does).
pub fn run_filters(run_dir: &Path, device: DeviceChoice) -> Result<LearnedFilters, ExplainError> {
    let (info, _net, _device) = crate::train::load_run_traced(run_dir, device)?;
    let run_json = run_dir.join("run.json");
    if info.dataset_config.representation != Representation::Raw {
        return Err(ExplainError::file(
            &run_json,
            "the network reads a spectrogram, not samples: its first layer has no frequency response",
        ));
    }
    let weights = RunPaths::new(run_dir).weights();
    // The header was checked against the file when the network was built.
    let tensors = candle_core::safetensors::load(&weights, &candle_core::Device::Cpu)
        .map_err(|e| ExplainError::file(&weights, e))?;
    filters_from_weights(&info.model, info.input_rate_hz, &info.channels, &|name| {
        tensors.get(name).cloned()
    })
    .map_err(|problem| ExplainError::file(&weights, problem))
}

/// The first-layer filters of a freshly initialized network of `spec` for
/// input `input` with `channels`, its weights drawn from `seed` as
/// training draws them: what training starts from.
pub fn initial_filters(
    spec: &ModelSpec,
    input: &crate::model::InputShape,
    seed: u64,
    channels: &[String],
) -> Result<LearnedFilters, String> {
    let varmap = candle_nn::VarMap::new();
    let vb = crate::model::seeded_var_builder(
        &varmap,
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
        seed,
    );
    crate::model::build(spec, input, vb).map_err(|e| e.to_string())?;
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| "the weights' lock is poisoned".to_string())?
        .clone();
    filters_from_weights(spec, input.rate_hz, channels, &|name| {
        vars.get(name).map(|v| v.as_tensor().clone())
    })
}

/// The first-layer filters of a network of `spec` whose weights `get`
/// gives by name, for input at `rate_hz` with `channels`.
pub fn filters_from_weights(
    spec: &ModelSpec,
    rate_hz: f64,
    channels: &[String],
    get: &dyn Fn(&str) -> Option<Tensor>,
) -> Result<LearnedFilters, String> {
    let layer = match spec.kind() {
        "eegnet" => "conv_temporal.weight",
        "shallow" | "deep4" => "conv_time.weight",
        "m5" => "conv0.weight",
        "cnn1d" | "crnn" => "block0.conv.weight",
        "sleep" => "feature_extractor.0.weight",
        _ => {
            return Err(format!(
                "{} has no convolution over time as its first layer",
                spec.display_name()
            ));
        }
    };
    let kernels = read(get, layer)?;
    let (n, inputs, k) = match kernels.dims() {
        [n, k] => (*n, 1, *k),
        [n, c, k] => (*n, *c, *k),
        other => return Err(format!("{layer} has shape {other:?}")),
    };
    let values: Vec<f32> = flat(&kernels)?;
    let freqs_hz: Vec<f64> = (0..RESPONSE_POINTS)
        .map(|i| i as f64 * rate_hz / 2.0 / (RESPONSE_POINTS - 1) as f64)
        .collect();
    let temporal = (0..n)
        .map(|f| {
            let rows: Vec<&[f32]> = (0..inputs)
                .map(|c| &values[(f * inputs + c) * k..(f * inputs + c + 1) * k])
                .collect();
            let gain: Vec<f32> = freqs_hz
                .iter()
                .map(|&hz| rms_gain(&rows, hz / rate_hz))
                .collect();
            let peak = gain
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            TemporalFilter {
                index: f,
                gain,
                peak_hz: freqs_hz[peak],
            }
        })
        .collect();
    let spatial = match spec.kind() {
        "eegnet" => eegnet_spatial(get, n, channels.len())?,
        "shallow" | "deep4" => mixed_spatial(get, n, channels.len())?,
        _ => Vec::new(),
    };
    Ok(LearnedFilters {
        layer: layer.to_string(),
        rate_hz,
        freqs_hz,
        temporal,
        channels: channels.to_vec(),
        spatial,
    })
}

/// The root mean square over `rows` of `|Σ w[t] e^{-2πi f t}|` at `f` in
/// cycles per sample.
fn rms_gain(rows: &[&[f32]], cycles: f64) -> f32 {
    let w = std::f64::consts::TAU * cycles;
    let sum: f64 = rows
        .iter()
        .map(|row| {
            let (re, im) = row
                .iter()
                .enumerate()
                .fold((0.0, 0.0), |(re, im), (t, &v)| {
                    let a = w * t as f64;
                    (re + f64::from(v) * a.cos(), im - f64::from(v) * a.sin())
                });
            re * re + im * im
        })
        .sum();
    (sum / rows.len().max(1) as f64).sqrt() as f32
}

/// EEGNet's depthwise spatial filters `[F1 * D, C]`: `D` per temporal filter.
fn eegnet_spatial(
    get: &dyn Fn(&str) -> Option<Tensor>,
    temporal: usize,
    channels: usize,
) -> Result<Vec<SpatialFilter>, String> {
    let name = "conv_spatial.weight";
    let w = read(get, name)?;
    let (rows, c) = w.dims2().map_err(|e| format!("{name}: {e}"))?;
    if c != channels || temporal == 0 || rows % temporal != 0 {
        return Err(format!("{name} has shape [{rows}, {c}]"));
    }
    let d = rows / temporal;
    let values = flat(&w)?;
    Ok((0..rows)
        .map(|r| SpatialFilter {
            index: r,
            temporal: r / d,
            weights: values[r * c..(r + 1) * c].to_vec(),
        })
        .collect())
}

/// ShallowConvNet's and Deep4's spatial filters `[G, F, C]`, each over all
/// temporal filters: the weights of the temporal filter it weighs most.
fn mixed_spatial(
    get: &dyn Fn(&str) -> Option<Tensor>,
    temporal: usize,
    channels: usize,
) -> Result<Vec<SpatialFilter>, String> {
    let name = "conv_spat.weight";
    let w = read(get, name)?;
    let (g, f, c) = w.dims3().map_err(|e| format!("{name}: {e}"))?;
    if f != temporal || c != channels {
        return Err(format!("{name} has shape [{g}, {f}, {c}]"));
    }
    let values = flat(&w)?;
    Ok((0..g)
        .map(|s| {
            let row = |t: usize| &values[(s * f + t) * c..(s * f + t + 1) * c];
            let energy = |t: usize| row(t).iter().map(|v| v * v).sum::<f32>();
            let strongest = (0..f)
                .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
                .unwrap_or(0);
            SpatialFilter {
                index: s,
                temporal: strongest,
                weights: row(strongest).to_vec(),
            }
        })
        .collect())
}

fn read(get: &dyn Fn(&str) -> Option<Tensor>, name: &str) -> Result<Tensor, String> {
    get(name).ok_or_else(|| format!("no tensor {name}"))
}

fn flat(t: &Tensor) -> Result<Vec<f32>, String> {
    t.to_dtype(candle_core::DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn a_ten_hertz_kernel_peaks_at_ten_hertz_with_its_spatial_filters() {
        // Two EEGNet temporal filters at 128 Hz: a 10 Hz wavelet and a
        // single tap (flat response).
        let k = 64;
        let mut w = vec![0.0f32; 2 * k];
        for (t, v) in w.iter_mut().take(k).enumerate() {
            let hann = 0.5 - 0.5 * (std::f64::consts::TAU * t as f64 / k as f64).cos();
            *v = (hann * (std::f64::consts::TAU * 10.0 * t as f64 / 128.0).cos()) as f32;
        }
        w[k + 5] = 1.0;
        let kernels = Tensor::from_vec(w, (2, 1, k), &Device::Cpu).unwrap();
        let spatial = Tensor::from_vec(
            vec![1.0f32, 0.0, 0.0, 1.0, 0.5, 0.5, -1.0, 2.0],
            (4, 2),
            &Device::Cpu,
        )
        .unwrap();
        let Some(spec) = ModelSpec::by_name("eegnet") else {
            panic!()
        };
        let get = |name: &str| match name {
            "conv_temporal.weight" => Some(kernels.clone()),
            "conv_spatial.weight" => Some(spatial.clone()),
            _ => None,
        };
        let channels = vec!["C3".to_string(), "C4".to_string()];
        let f = filters_from_weights(&spec, 128.0, &channels, &get).unwrap();
        assert_eq!(f.freqs_hz.len(), RESPONSE_POINTS);
        assert_eq!(f.freqs_hz[RESPONSE_POINTS - 1], 64.0);
        assert!(
            (f.temporal[0].peak_hz - 10.0).abs() <= 0.5,
            "{}",
            f.temporal[0].peak_hz
        );
        assert!(f.temporal[1].gain.iter().all(|g| (g - 1.0).abs() < 1e-5));
        assert!(f.band_share(8.0, 13.0) > 0.4);
        assert_eq!(f.spatial.len(), 4);
        assert_eq!(f.spatial[3].temporal, 1);
        assert_eq!(f.spatial[3].weights, vec![-1.0, 2.0]);
        let tsv = f.to_tsv();
        assert!(tsv.starts_with(FILTERS_HEADER));
        assert_eq!(tsv.lines().count(), 1 + 2 * RESPONSE_POINTS + 4 * 2);
        assert!(tsv.contains("1\t3\tC4\t-\t2\n"), "{tsv}");

        let Some(lstm) = ModelSpec::by_name("lstm") else {
            panic!()
        };
        assert!(filters_from_weights(&lstm, 128.0, &channels, &get).is_err());
    }
}
