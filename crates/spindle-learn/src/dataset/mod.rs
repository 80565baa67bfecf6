//! Datasets: labeled windows cut from recordings (or whole files of a labeled
//! audio folder), split by recording so that no window and no overlap of two
//! windows straddles two splits, normalized with statistics of the training
//! windows only.

pub mod augment;
mod auto_norm;
mod build;
mod config;
mod error;
mod features;
mod file_samples;
mod finite;
mod folds;
mod normalize;
mod resample;
pub(crate) mod signals;
mod source;
mod split;
mod split_data;
mod windows;

pub use augment::{Augmentation, Transform, TransformKind};
pub use auto_norm::{NormalizationChoice, choose_normalization};
pub use build::{Dataset, DatasetSummary, build_dataset, build_dataset_with_roles};
pub use config::{DatasetConfig, Normalization, Trial};
pub use error::DatasetError;
pub use features::Representation;
pub use file_samples::{
    FileSamples, READ_ON_DEMAND_BYTES, available_memory_bytes, check_load_fits,
    parse_mem_available, windows_readable_on_demand,
};
pub use folds::{
    CvScheme, Fold, FoldError, FoldKind, FoldPlan, file_trials, hold_out_trials, plan_file_folds,
    plan_folds, subject_of, trials_of,
};
pub use normalize::{
    ChannelStats, exponential_moving_standardize, normalize_windows, remove_window_means,
};
pub use signals::{extract_signals, prepare_signals};
pub use source::{LoadedSource, load_sources, load_sources_on_demand};
pub use split::SplitName;
pub use split_data::SplitData;
pub use windows::{WindowRef, cut_windows, median_duration_s};
