//! Spindle's learning layer: leakage-safe datasets cut from recordings,
//! models, training, explanations of trained models, the run folder, and
//! the background jobs that run training and explaining on threads of their
//! own.
//!
//! It builds on `spindle-signals` (recordings, filters, labels, metrics)
//! and `spindle-kernels` (the CPU kernels of the hot layers), and knows
//! nothing of drawing or of the command line (the binary turns on the `cli`
//! feature for the clap derives of [`train::TrainOptions`]). Its modules,
//! bottom up:
//!
//! - [`dataset`]: sources loaded from paths, windows, splits without
//!   leakage (whole recordings, or blocks of time), cross-validation folds,
//!   normalization, spectrogram inputs, augmentation. [`model`]: every
//!   architecture behind one serializable [`model::ModelSpec`], its
//!   registry and layer summary; it knows nothing of datasets or recordings
//!   (it is told an input shape and window facts).
//! - [`train`]: the training loop and its [`train::Event`]s, the options
//!   people give ([`train::TrainOptions`]), the run folder, prediction from
//!   a saved run.
//! - [`explain`]: which channels, bands, frequencies and times a trained
//!   model relies on; [`runs`]: reading, listing, comparing run folders, and
//!   sweeps (grids and folds as tasks, here or on Slurm); [`bench`](mod@bench):
//!   throughput measurements.
//! - [`jobs`]: [`jobs::TrainJob`] and [`jobs::ExplainJob`], handles of work
//!   on a thread with a typed event stream, which the app and the CLI drive.
//!
//! # Example
//!
//! Train a small network on the bundled sample EEG, holding out whole
//! recordings for validation and testing, and read the test score:
//!
//! ```
//! use spindle_learn::dataset::DatasetConfig;
//! use spindle_learn::jobs::{RunFolder, TrainJob, TrainJobSpec};
//! use spindle_learn::model::ModelSpec;
//! use spindle_learn::train::{DataRoles, Event, TrainConfig};
//!
//! let spec = TrainJobSpec {
//!     data: DataRoles {
//!         train: vec![spindle_signals::testdata::sample("eeg")],
//!         ..DataRoles::default()
//!     },
//!     dataset: DatasetConfig::default(),
//!     model: ModelSpec::by_name("mlp").ok_or("no mlp")?,
//!     train: TrainConfig { epochs: 3, ..TrainConfig::default() },
//!     run_dir: RunFolder::None, // RunFolder::At(folder) writes a run folder
//!     init_from: None,
//! };
//! let job = TrainJob::spawn(spec, || {}); // the closure wakes a UI after each event
//! loop {
//!     match job.events.recv()? {
//!         Event::Epoch(m) => println!("epoch {}: training loss {:.3}", m.epoch, m.train_loss),
//!         Event::Finished(outcome) => {
//!             let test = outcome.test.ok_or("no test windows")?;
//!             println!("test balanced accuracy {:.2}", test.balanced_accuracy);
//!             assert!((0.0..=1.0).contains(&test.balanced_accuracy));
//!             break;
//!         }
//!         Event::Failed(failure) => return Err(failure.to_string().into()),
//!         _ => {}
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bench;
pub mod dataset;
pub mod explain;
pub mod export;
pub mod jobs;
pub mod model;
pub mod runs;
pub mod sample_data;
pub mod train;
