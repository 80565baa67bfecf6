//! Spindle's signal layer: recordings and what is done with them before any
//! learning — reading and writing them, filtering and spectra, labels and
//! their editing, evaluation metrics, seeded random numbers and the
//! generated teaching data.
//!
//! The lowest layer of the workspace: it depends on no other Spindle crate,
//! and knows nothing of models, training or drawing. Its modules, bottom up:
//!
//! - [`recording`]: `Recording`s (channels of `f32` samples in physical
//!   units, annotations, segments), readers and writers for EDF/EDF+/BDF/BDF+,
//!   BrainVision and WAV, labeled audio folders, the `events.tsv` label
//!   sidecar, reading on demand and atomic writes. The leaves [`rng`]
//!   (seeded random numbers) and [`testdata`] (where tests find the shared
//!   recordings) sit beside it.
//! - [`dsp`]: filters, resampling helpers, spectra, the viewer's min/max
//!   pyramids and traces.
//! - [`labeling`]: label edits as values (undo, redo, autosave, journal),
//!   the folder's label scheme, epoch scoring and suggestions.
//! - [`eval`]: metrics and reports from plain slices (confusion matrices,
//!   chance levels, ROC curves, regression scores, rater agreement).
//! - [`scoring`]: sleep-stage scorings as values, sleep statistics,
//!   agreement between scorers, hypnogram exports and review order.
//! - [`synth`]: the generated teaching recordings of `sample_data/`.
//! - [`viewing`]: what a viewer needs from files, as services for its
//!   workers: folder listings, recordings opened with their default
//!   scales and labels, the overview job of a recording read on demand.
//! - [`io_guard`]: the counting guard that proves a UI thread touches no
//!   file.
//!
//! # Example
//!
//! Read one of the bundled sample recordings and list its channels and
//! labels:
//!
//! ```
//! use std::path::Path;
//! use spindle_signals::recording::{labels_for_recording, read_recording};
//!
//! let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample_data/eeg/sub-01.edf");
//! let recording = read_recording(&path)?;
//! for channel in &recording.channels {
//!     println!("{}: {} Hz, {} samples", channel.label, channel.rate_hz, channel.samples.len());
//! }
//! assert!(!recording.channels.is_empty());
//! let (labels, _source) = labels_for_recording(&path, &recording.annotations)?;
//! assert!(!labels.labels.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod dsp;
pub mod eval;
pub mod io_guard;
pub mod labeling;
pub mod recording;
pub mod rng;
pub mod scoring;
pub mod synth;
pub mod testdata;
pub mod viewing;
