//! Spindle: a workbench for deep learning on EEG and audio recordings.
//!
//! The library holds everything that is not drawing; the GUI and the CLI are
//! thin front ends over it. Lower layers never import higher ones:
//! `recording` -> `dsp` -> `dataset` -> `model` -> `train` -> `eval`.

pub mod bench;
pub mod dataset;
pub mod explain;
#[cfg(feature = "gui")]
pub mod gui;
pub mod jobs;
pub mod model;
pub mod playback;
pub mod runs;
pub mod train;

// Until the tests and the CLI name the crates themselves.
pub use spindle_signals::{dsp, eval, labeling, recording, rng, synth, testdata};
