//! What `explain.json` holds: the explanations of one run, written into its
//! run folder by `spindle explain` and the app, read back for display.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ExplainError;

/// The file name of explanations inside a run folder.
pub const EXPLAIN_JSON: &str = "explain.json";

/// Said with every explanation, in plain words.
pub const CAVEAT: &str = "These maps describe what the network uses to decide, not what the brain does: a channel or band can matter to the model because it carries noise that happens to differ between classes, and one that does not matter can still carry the signal (Haufe et al. 2014).";

/// Everything explained about one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// [`CAVEAT`], stored so that a reader of the file sees it too.
    pub caveat: String,
    /// Spindle's version that computed it.
    pub spindle_version: String,
    /// Which windows were explained.
    pub windows: ExplainedWindows,
    /// The score whose drop measures importance: "balanced accuracy" or "R²".
    pub metric: String,
    /// That score on the unperturbed windows.
    pub baseline_score: f64,
    /// The score a model that ignores its input reaches (classification:
    /// 1 / classes for balanced accuracy; regression: 0).
    pub chance_score: f64,
    /// Permutation repeats per channel and per band.
    pub repeats: usize,
    /// The seed of every shuffle and perturbation.
    pub seed: u64,
    /// Permutation importance of each channel, in the run's channel order.
    pub channels: Option<Vec<Importance>>,
    /// Importance of each frequency band (band-stop filtered), in band order.
    pub bands: Option<Vec<BandImportance>>,
    /// Bands not measured, with the reason (e.g. above the Nyquist frequency).
    #[serde(default)]
    pub skipped_bands: Vec<SkippedBand>,
    /// Amplitude-perturbation correlations (classification only).
    pub amplitude: Option<AmplitudeMap>,
    /// Saliency over time.
    pub saliency: Option<Saliency>,
    /// Seconds each method took, by method name.
    pub seconds: BTreeMap<String, f64>,
}

/// The windows an explanation was computed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainedWindows {
    /// In words: "the run's 120 test windows" or "96 windows of 2 recordings".
    pub description: String,
    /// How many windows.
    pub count: usize,
    /// The recordings they come from.
    pub files: Vec<PathBuf>,
}

/// How much the score drops when one input is destroyed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// The channel's label.
    pub name: String,
    /// Mean drop of the score over the repeats (positive: the model needs it).
    pub mean_drop: f64,
    /// Sample standard deviation of the drop over the repeats.
    pub spread: f64,
    /// The drop of each repeat.
    pub drops: Vec<f64>,
}

/// How much the score drops when one frequency band is removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandImportance {
    /// The band's name ("alpha").
    pub name: String,
    /// Lower edge, Hz.
    pub low_hz: f64,
    /// Upper edge, Hz.
    pub high_hz: f64,
    /// Mean drop of the score (positive: the model needs the band).
    pub mean_drop: f64,
    /// Sample standard deviation over repeats (0 with one repeat: filtering
    /// is deterministic; repeats differ only where noise is involved).
    pub spread: f64,
    /// The drop of each repeat.
    pub drops: Vec<f64>,
}

/// A band that was not measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedBand {
    /// The band's name.
    pub name: String,
    /// Why, in words.
    pub reason: String,
}

/// Amplitude perturbation: for each class, channel and frequency, the
/// correlation between a change of the Fourier amplitude and the change of
/// the class output, over windows and perturbations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmplitudeMap {
    /// Class names, the map's first index.
    pub classes: Vec<String>,
    /// Channel labels, the second index.
    pub channels: Vec<String>,
    /// Frequencies of the third index, Hz.
    pub freqs_hz: Vec<f64>,
    /// `correlation[class][channel][freq]`, each in -1..=1.
    pub correlation: Vec<Vec<Vec<f32>>>,
}

/// Saliency over time: gradient × input, and Grad-CAM for the CNNs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saliency {
    /// Channel labels, the first index of every map.
    pub channels: Vec<String>,
    /// The window's length, seconds.
    pub window_s: f64,
    /// Time bins across the window (every map's last index).
    pub bins: usize,
    /// The layer Grad-CAM looked at, when the model has convolutions.
    pub grad_cam_layer: Option<String>,
    /// Averages per class (regression: one entry named "output").
    pub classes: Vec<ClassSaliency>,
    /// Per window, for the viewer's overlay: the first windows in file
    /// order, at most [`super::MAX_SALIENCY_WINDOWS`] and fewer with many
    /// channels (about 250,000 values in all).
    pub windows: Vec<WindowSaliency>,
}

/// Saliency averaged over the windows of one true class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSaliency {
    /// The class.
    pub class: String,
    /// How many windows were averaged.
    pub windows: usize,
    /// |gradient × input| toward the class's output, `[channel][bin]`,
    /// scaled so that the map's largest value is 1.
    pub gradient_x_input: Vec<Vec<f32>>,
    /// Grad-CAM over time `[bin]`, scaled to a largest value of 1.
    pub grad_cam: Option<Vec<f32>>,
}

/// Saliency of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSaliency {
    /// The recording.
    pub file: PathBuf,
    /// Onset, seconds from the recording's start.
    pub onset_s: f64,
    /// Duration, seconds.
    pub duration_s: f64,
    /// The true class (or value as text).
    pub truth: String,
    /// The predicted class (or value as text).
    pub predicted: String,
    /// |gradient × input| toward the predicted output, `[channel][bin]`,
    /// scaled to a largest value of 1.
    pub gradient_x_input: Vec<Vec<f32>>,
    /// Grad-CAM `[bin]`, scaled to a largest value of 1.
    pub grad_cam: Option<Vec<f32>>,
}

impl Explanation {
    /// The |correlation| of the amplitude map below which a cell may be
    /// chance: three standard deviations of a correlation over as many
    /// unrelated pairs as were pooled (windows × repeats), `3 / √n`.
    pub fn chance_correlation(&self) -> f64 {
        let pairs = (self.windows.count * self.repeats.max(1)).max(1);
        3.0 / (pairs as f64).sqrt()
    }

    /// Reads `explain.json` of run folder `dir`; `Ok(None)` when there is none.
    pub fn load(dir: &Path) -> Result<Option<Self>, ExplainError> {
        let path = dir.join(EXPLAIN_JSON);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ExplainError::file(&path, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ExplainError::file(&path, format!("not a Spindle explain.json: {e}")))
    }

    /// Writes `explain.json` into run folder `dir` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), ExplainError> {
        let path = dir.join(EXPLAIN_JSON);
        let text = serde_json::to_string(self).map_err(|e| ExplainError::file(&path, e))?;
        spindle_signals::recording::write_atomic(&path, text.as_bytes())
            .map_err(|e| ExplainError::file(&path, e))
    }
}

impl ClassSaliency {
    /// Gradient × input summed over time, per channel.
    pub fn mass_by_channel(&self) -> Vec<f64> {
        self.gradient_x_input
            .iter()
            .map(|row| row.iter().map(|&v| f64::from(v)).sum())
            .collect()
    }

    /// Gradient × input summed over channels, per time bin.
    pub fn mass_over_time(&self) -> Vec<f64> {
        let bins = self.gradient_x_input.first().map_or(0, Vec::len);
        (0..bins)
            .map(|b| {
                self.gradient_x_input
                    .iter()
                    .map(|row| f64::from(row.get(b).copied().unwrap_or(0.0)))
                    .sum()
            })
            .collect()
    }

    /// The share of [`Self::mass_over_time`] in the second half of the
    /// window (the later half of the bins), 0..=1; 0 when there is none.
    pub fn share_in_second_half(&self) -> f64 {
        let over_time = self.mass_over_time();
        let total: f64 = over_time.iter().sum();
        let late: f64 = over_time[over_time.len() / 2..].iter().sum();
        if total > 0.0 { late / total } else { 0.0 }
    }
}

impl AmplitudeMap {
    /// Mean |correlation| of each channel toward class index `class`, over
    /// the frequencies in `low_hz..=high_hz`.
    pub fn mean_abs_by_channel(&self, class: usize, low_hz: f64, high_hz: f64) -> Vec<f64> {
        let Some(rows) = self.correlation.get(class) else {
            return Vec::new();
        };
        rows.iter()
            .map(|row| {
                let inside: Vec<f64> = row
                    .iter()
                    .zip(&self.freqs_hz)
                    .filter(|&(_, &f)| f >= low_hz && f <= high_hz)
                    .map(|(&r, _)| f64::from(r.abs()))
                    .collect();
                inside.iter().sum::<f64>() / inside.len().max(1) as f64
            })
            .collect()
    }

    /// The `n` channel × frequency cells of class index `class` with the
    /// largest |correlation|: `(channel, frequency index, correlation)`.
    pub fn strongest(&self, class: usize, n: usize) -> Vec<(usize, usize, f32)> {
        let Some(rows) = self.correlation.get(class) else {
            return Vec::new();
        };
        let mut cells: Vec<(usize, usize, f32)> = rows
            .iter()
            .enumerate()
            .flat_map(|(c, row)| row.iter().enumerate().map(move |(f, &r)| (c, f, r)))
            .collect();
        cells.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()));
        cells.truncate(n);
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explanation_saves_loads_and_says_where_chance_ends() {
        let e: Explanation = serde_json::from_value(serde_json::json!({
            "caveat": CAVEAT, "spindle_version": "0", "metric": "balanced accuracy",
            "windows": {"description": "100 windows", "count": 100, "files": []},
            "baseline_score": 0.9, "chance_score": 0.5, "repeats": 4, "seed": 0,
            "channels": null, "bands": null, "amplitude": null, "saliency": null,
            "seconds": {}
        }))
        .unwrap();
        // 400 pooled pairs: 3 / 20.
        assert!((e.chance_correlation() - 0.15).abs() < 1e-12);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Explanation::load(dir.path()).unwrap(), None);
        e.save(dir.path()).unwrap();
        assert_eq!(Explanation::load(dir.path()).unwrap(), Some(e));
        std::fs::write(dir.path().join(EXPLAIN_JSON), "{").unwrap();
        let err = Explanation::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("explain.json") && err.contains("not a Spindle"),
            "{err}"
        );
    }

    #[test]
    fn the_second_half_share_sums_every_channel() {
        let class = ClassSaliency {
            class: "a".into(),
            windows: 1,
            gradient_x_input: vec![vec![1.0, 0.0, 1.0, 2.0], vec![0.0, 0.0, 0.0, 0.0]],
            grad_cam: None,
        };
        assert!((class.share_in_second_half() - 0.75).abs() < 1e-12);
        let empty = ClassSaliency {
            gradient_x_input: vec![vec![0.0; 4]],
            ..class
        };
        assert_eq!(empty.share_in_second_half(), 0.0);
    }
}
