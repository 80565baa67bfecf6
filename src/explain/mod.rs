//! What a trained model learned: permutation importance of channels, band
//! importance by band-stop filtering, amplitude perturbation (channel ×
//! frequency), and saliency over time (gradient × input, Grad-CAM). No
//! drawing here: the CLI prints and the app draws an [`Explanation`].

mod report;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

pub use report::{
    AmplitudeMap, BandImportance, CAVEAT, ClassSaliency, EXPLAIN_JSON, ExplainedWindows,
    Explanation, Importance, Saliency, SkippedBand, WindowSaliency,
};

use crate::train::DeviceChoice;

/// One way of explaining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Permutation importance of each channel.
    Channels,
    /// Importance of each frequency band.
    Bands,
    /// Amplitude perturbation per channel and frequency.
    Amplitude,
    /// Gradient × input and Grad-CAM over time.
    Saliency,
}

impl Method {
    /// Every method, in the order they run.
    pub const ALL: [Method; 4] = [
        Method::Channels,
        Method::Bands,
        Method::Amplitude,
        Method::Saliency,
    ];

    /// The name on the command line and in `explain.json`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Channels => "channels",
            Method::Bands => "bands",
            Method::Amplitude => "amplitude",
            Method::Saliency => "saliency",
        }
    }
}

/// A frequency band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Its name ("alpha").
    pub name: String,
    /// Lower edge, Hz.
    pub low_hz: f64,
    /// Upper edge, Hz.
    pub high_hz: f64,
}

/// Delta 1–4, theta 4–8, alpha 8–13, beta 13–30, gamma 30–45 Hz.
pub fn default_bands() -> Vec<Band> {
    [
        ("delta", 1.0, 4.0),
        ("theta", 4.0, 8.0),
        ("alpha", 8.0, 13.0),
        ("beta", 13.0, 30.0),
        ("gamma", 30.0, 45.0),
    ]
    .into_iter()
    .map(|(name, low_hz, high_hz)| Band {
        name: name.into(),
        low_hz,
        high_hz,
    })
    .collect()
}

/// What to explain and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainOptions {
    /// The methods to run.
    pub methods: Vec<Method>,
    /// Recordings to explain on; empty: the run's test windows.
    pub data: Vec<PathBuf>,
    /// Permutation repeats per channel and band.
    pub repeats: usize,
    /// Seed of shuffles and perturbations.
    pub seed: u64,
    /// The bands of band importance.
    pub bands: Vec<Band>,
    /// Where the network runs.
    pub device: DeviceChoice,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        Self {
            methods: Method::ALL.to_vec(),
            data: Vec::new(),
            repeats: 5,
            seed: 0,
            bands: default_bands(),
            device: DeviceChoice::Auto,
        }
    }
}

/// How far an explanation has come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExplainProgress {
    /// The method running.
    pub method: Method,
    /// Steps done of that method.
    pub done: usize,
    /// Its steps in all.
    pub total: usize,
}

/// Why an explanation failed.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// A file could not be read or written, or makes no sense.
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The run could not be loaded or its windows rebuilt.
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
    /// A computation failed.
    #[error("{0}")]
    Compute(String),
    /// The user stopped it.
    #[error("cancelled")]
    Cancelled,
}

impl ExplainError {
    /// An error about `path`.
    pub fn file(path: &Path, problem: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.to_path_buf(),
            problem: problem.to_string(),
        }
    }
}

/// Explains the run in folder `run_dir`: loads it, rebuilds its test windows
/// (or windows of `options.data`), runs `options.methods`, reporting each
/// step to `progress`, and stops with [`ExplainError::Cancelled`] soon after
/// `cancel` is set. Does not write `explain.json` ([`Explanation::save`] does).
pub fn explain_run(
    run_dir: &Path,
    options: &ExplainOptions,
    progress: &mut dyn FnMut(ExplainProgress),
    cancel: &AtomicBool,
) -> Result<Explanation, ExplainError> {
    let _ = (run_dir, options, progress, cancel);
    todo!("the methods")
}

/// Positions of standard 10-20/10-10 electrodes on a unit disc seen from
/// above (nose up, `x` to the right ear), by channel label; `None` for a
/// label that is not a standard electrode. Accepts common spellings
/// ("EEG Fpz-Cz" uses its first electrode, case-insensitive, "T3" = "T7").
pub fn electrode_position(label: &str) -> Option<(f32, f32)> {
    let _ = label;
    todo!("the positions")
}
