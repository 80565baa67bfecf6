//! Training: the loop (AdamW, schedules, clipping, early stopping, best
//! checkpoint), the events it streams, the run folder it writes, and
//! prediction from a saved run.
//!
//! Nothing here knows about a GUI: [`train`] runs on whatever thread calls it
//! and reports over a channel; `crate::jobs` puts it on a worker thread.

pub(crate) mod adamw;
mod coach;
mod config;
mod device;
mod error;
mod evaluate;
mod events;
mod file_hash;
mod final_fit;
mod history;
mod loss;
mod memory;
mod option_args;
mod options;
pub(crate) mod pca;
mod predict;
mod run_check;
mod run_folder;
mod stages;
mod target_scale;
pub mod timings;
mod trainer;
mod weights_file;

pub use coach::{Advice, Diagnosis, advise};
pub use config::{LiveMapOptions, Schedule, TrainConfig};
pub use device::{DeviceChoice, available_devices, device_name, select_device};
pub use error::TrainError;
pub use evaluate::{Predictions, predict_windows};
pub use events::{
    Command, EpochMetrics, Event, Failure, FailureStage, LiveMap, Outcome, StartInfo,
};
pub(crate) use file_hash::sha256_file_cached;
pub use final_fit::{FinalFit, KeptBy, REFIT_MAX_WINDOWS, Refit, smoothed_best_epoch};
pub use history::{BatchPoint, JobState, RunHistory};
pub use loss::cross_entropy;
pub use memory::{
    MemoryShortfall, available_memory_bytes, check_step_fits, largest_fitting_batch,
    parse_mem_available, step_memory_bytes,
};
pub use option_args::TRAIN_OPTION_FLAGS;
pub use options::{
    DataRoles, OptionsError, RepresentationChoice, ResolvedOptions, TrainOptions, parse_key_value,
    parse_param,
};
pub(crate) use predict::load_run_traced;
pub use predict::{
    LoadedRun, PREDICT_CHUNK_WINDOWS, PredictedWindow, load_run, predict_file,
    predict_file_in_chunks,
};
pub use run_check::MAX_RUN_JSON_BYTES;
pub use run_folder::{RunInfo, RunPaths};
pub use stages::{predict_stages, run_stages, scoring_from_windows, stage_classes};
pub use target_scale::TargetScale;
pub use timings::{PhaseTime, Timings};
pub use trainer::{TrainRequest, merged_train, train};
pub use weights_file::{
    MAX_HEADER_BYTES, TensorEntry, WeightsHeader, read_weights_header, save_weights,
    weights_metadata,
};
