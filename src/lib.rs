//! Spindle: a workbench for deep learning on EEG and audio recordings.
//!
//! The library holds everything that is not drawing; the GUI and the CLI are
//! thin front ends over it. Lower layers never import higher ones:
//! `recording` -> `dsp` -> `dataset` -> `model` -> `train` -> `eval`.

#[cfg(feature = "gui")]
pub mod gui;
pub mod playback;

// Until the tests and the CLI name the crates themselves.
pub use spindle_learn::{bench, dataset, explain, jobs, model, runs, train};
pub use spindle_signals::{dsp, eval, labeling, recording, rng, scoring, synth, testdata};
