//! Spindle: a workbench for deep learning on EEG and audio recordings.
//!
//! The library holds everything that is not drawing; the GUI and the CLI are
//! thin front ends over it. Lower layers never import higher ones:
//! `recording` -> `dsp` -> `dataset` -> `model` -> `train` -> `eval`.

pub mod bench;
pub mod dataset;
pub mod dsp;
pub mod eval;
pub mod explain;
#[cfg(feature = "gui")]
pub mod gui;
pub mod jobs;
pub mod labeling;
pub mod model;
pub mod playback;
pub mod recording;
pub mod rng;
pub mod runs;
pub mod synth;
pub mod testdata;
pub mod train;
