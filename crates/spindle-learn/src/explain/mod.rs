//! What a trained model learned: permutation importance of channels, band
//! importance by band-stop filtering, amplitude perturbation (channel ×
//! frequency), saliency over time (gradient × input, Grad-CAM), maps of
//! what the network learned to see ([`embedding`]). No
//! drawing here: the CLI prints and the app draws an [`Explanation`].

mod amplitude;
mod bands;
pub mod embedding;
pub mod filters;
mod permutation;
mod report;
mod saliency;
mod scalp;
mod scoring;
mod windows;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use report::{
    AmplitudeMap, BandImportance, CAVEAT, ClassSaliency, EXPLAIN_JSON, ExplainedWindows,
    Explanation, Importance, Saliency, SkippedBand, WindowSaliency,
};

pub use amplitude::MAX_FREQS;
pub use saliency::{MAX_SALIENCY_WINDOWS, SALIENCY_BINS};

use crate::train::DeviceChoice;
use scoring::{Scorer, Steps};

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

/// A band's name with its edges ("alpha 8–13 Hz"), or the name alone when
/// it says them already ("2 kHz–4 kHz").
pub fn band_label(name: &str, low_hz: f64, high_hz: f64) -> String {
    if name.contains("Hz") {
        name.to_owned()
    } else {
        format!("{name} {low_hz}–{high_hz} Hz")
    }
}

/// Slow 0–1 Hz, delta 1–4, theta 4–8, alpha 8–13, beta 13–30, gamma
/// 30–45 Hz. The slow band is not a brain rhythm: it holds blinks, eye
/// and body movements and drift, which a network often leans on (a model of
/// the Blink data needs nothing else), and without it their loss would go
/// unmeasured.
pub fn default_bands() -> Vec<Band> {
    [
        ("slow", 0.0, 1.0),
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

/// The default bands for recordings at `rate_hz`: [`default_bands`] for
/// EEG, octaves up to the Nyquist frequency for sound (at or above
/// [`spindle_signals::recording::AUDIO_RATE_HZ`]), where EEG rhythms would all fall
/// in the lowest few hundred hertz and tell nothing.
pub fn default_bands_for(rate_hz: f64) -> Vec<Band> {
    if rate_hz < spindle_signals::recording::AUDIO_RATE_HZ {
        return default_bands();
    }
    let nyquist = rate_hz / 2.0;
    let hz = |v: f64| {
        if v >= 1000.0 {
            format!("{} kHz", v / 1000.0)
        } else {
            format!("{v} Hz")
        }
    };
    let mut bands = vec![Band {
        name: "below 250 Hz".into(),
        low_hz: 0.0,
        high_hz: 250.0,
    }];
    let mut low_hz = 250.0;
    while low_hz < nyquist {
        let high_hz = (low_hz * 2.0).min(nyquist);
        bands.push(Band {
            name: format!("{}–{}", hz(low_hz), hz(high_hz)),
            low_hz,
            high_hz,
        });
        low_hz *= 2.0;
    }
    bands
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
    /// The bands of band importance; empty: [`default_bands_for`] the
    /// run's sample rate.
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
            bands: Vec::new(),
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
    if options.repeats == 0 {
        return Err(ExplainError::Compute(
            "the number of repeats must be at least 1".into(),
        ));
    }
    let (info, net, device) = crate::train::load_run_traced(run_dir, options.device)?;
    if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ExplainError::Cancelled);
    }
    let set = if options.data.is_empty() {
        windows::run_test_windows(&info, run_dir)?
    } else {
        windows::data_windows(&info, &options.data)?
    };
    let scorer = Scorer {
        info: &info,
        net: net.as_ref(),
        device: &device,
        truth: &set.truth,
    };
    let predictions = scorer.outputs(&set.raw)?;
    let baseline = scorer.score_outputs(&predictions);
    let mut methods = options.methods.clone();
    methods.sort();
    methods.dedup();
    let asked = if options.bands.is_empty() {
        default_bands_for(info.rate_hz)
    } else {
        options.bands.clone()
    };
    let (usable, skipped_bands) = bands::usable_bands(&asked, info.rate_hz);
    let mut out = Explanation {
        caveat: CAVEAT.to_string(),
        spindle_version: env!("CARGO_PKG_VERSION").to_string(),
        windows: ExplainedWindows {
            description: set.description.clone(),
            count: set.count(),
            files: set.used_files(),
        },
        metric: scorer.metric().to_string(),
        baseline_score: baseline,
        chance_score: scorer.chance(),
        repeats: options.repeats,
        seed: options.seed,
        channels: None,
        bands: None,
        skipped_bands: Vec::new(),
        amplitude: None,
        saliency: None,
        seconds: BTreeMap::new(),
    };
    let (repeats, seed) = (options.repeats, options.seed);
    for method in methods {
        let started = Instant::now();
        match method {
            Method::Channels => {
                let total = info.channels.len() * repeats;
                let mut steps = Steps::start(method, total, progress, cancel)?;
                out.channels = Some(permutation::channel_importance(
                    &set,
                    &scorer,
                    &info.channels,
                    baseline,
                    repeats,
                    seed,
                    &mut steps,
                )?);
            }
            Method::Bands => {
                let mut steps = Steps::start(method, usable.len(), progress, cancel)?;
                out.bands = Some(bands::band_importance(
                    &set,
                    &scorer,
                    &usable,
                    info.rate_hz,
                    baseline,
                    &mut steps,
                )?);
                out.skipped_bands = skipped_bands.clone();
            }
            Method::Amplitude => {
                let mut steps = Steps::start(method, repeats, progress, cancel)?;
                out.amplitude = Some(amplitude::amplitude_map(
                    &set,
                    &scorer,
                    &info.classes,
                    &info.channels,
                    info.rate_hz,
                    repeats,
                    seed,
                    &mut steps,
                )?);
            }
            Method::Saliency => {
                let batches = set.count().div_ceil(saliency::BATCH);
                let mut steps = Steps::start(method, batches, progress, cancel)?;
                out.saliency = Some(saliency::saliency(
                    &set,
                    &scorer,
                    &predictions,
                    &info.channels,
                    &mut steps,
                )?);
            }
        }
        out.seconds
            .insert(method.name().to_string(), started.elapsed().as_secs_f64());
    }
    Ok(out)
}

/// Parses bands written `name:low-high` and separated by commas
/// (`"delta:1-4,alpha:8-13"`); the message says what is wrong.
pub fn parse_bands(text: &str) -> Result<Vec<Band>, String> {
    let mut out: Vec<Band> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, range)) = part.split_once(':') else {
            return Err(format!("{part:?} is not NAME:LOW-HIGH (e.g. alpha:8-13)"));
        };
        let name = name.trim();
        let Some((low, high)) = range.split_once('-') else {
            return Err(format!(
                "{part:?}: the range is not LOW-HIGH in Hz (e.g. 8-13)"
            ));
        };
        let number = |s: &str| {
            s.trim()
                .trim_end_matches("Hz")
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let (Some(low_hz), Some(high_hz)) = (number(low), number(high)) else {
            return Err(format!(
                "{part:?}: the edges must be numbers of Hz, 0 or more"
            ));
        };
        if name.is_empty() {
            return Err(format!("{part:?}: the band needs a name"));
        }
        if low_hz >= high_hz {
            return Err(format!(
                "{part:?}: the lower edge must be below the upper one"
            ));
        }
        if out.iter().any(|b| b.name == name) {
            return Err(format!("band {name:?} is given twice"));
        }
        out.push(Band {
            name: name.to_string(),
            low_hz,
            high_hz,
        });
    }
    if out.is_empty() {
        return Err("no bands given".into());
    }
    Ok(out)
}

/// Positions of standard 10-20/10-10 electrodes on a unit disc seen from
/// above (nose up, `x` to the right ear), by channel label; `None` for a
/// label that is not a standard electrode. Accepts common spellings
/// ("EEG Fpz-Cz" uses its first electrode, case-insensitive, "T3" = "T7").
pub fn electrode_position(label: &str) -> Option<(f32, f32)> {
    scalp::position(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sound_gets_octave_bands_up_to_nyquist_and_eeg_the_rhythms() {
        assert_eq!(default_bands_for(256.0), default_bands());
        let sound = default_bands_for(16_000.0);
        let edges: Vec<(f64, f64)> = sound.iter().map(|b| (b.low_hz, b.high_hz)).collect();
        assert_eq!(
            edges,
            [
                (0.0, 250.0),
                (250.0, 500.0),
                (500.0, 1000.0),
                (1000.0, 2000.0),
                (2000.0, 4000.0),
                (4000.0, 8000.0)
            ]
        );
        let last = default_bands_for(11_025.0).pop().unwrap();
        assert_eq!(
            (last.high_hz, last.name.as_str()),
            (5512.5, "4 kHz–5.5125 kHz")
        );
        assert_eq!(band_label("alpha", 8.0, 13.0), "alpha 8–13 Hz");
        assert_eq!(band_label(&last.name, 4000.0, 5512.5), last.name);
    }

    #[test]
    fn bands_parse_from_text_and_bad_text_says_why() {
        let Ok(bands) = parse_bands("delta:1-4, alpha : 8-13 Hz") else {
            panic!("valid bands")
        };
        assert_eq!(bands.len(), 2);
        assert_eq!(bands[1].name, "alpha");
        assert_eq!((bands[1].low_hz, bands[1].high_hz), (8.0, 13.0));
        for (bad, says) in [
            ("alpha", "NAME:LOW-HIGH"),
            ("alpha:8", "LOW-HIGH"),
            ("alpha:x-13", "numbers"),
            ("alpha:13-8", "below"),
            (":1-4", "name"),
            ("a:1-4,a:4-8", "twice"),
            ("", "no bands"),
        ] {
            match parse_bands(bad) {
                Err(e) => assert!(e.contains(says), "{bad:?}: {e}"),
                Ok(b) => panic!("{bad:?} accepted as {b:?}"),
            }
        }
    }
}
