//! Spindle's learning layer: datasets, models, training and what is done
//! with trained runs.

pub mod bench;
pub mod dataset;
pub mod explain;
pub mod export;
pub mod jobs;
pub mod model;
pub mod runs;
pub mod train;
