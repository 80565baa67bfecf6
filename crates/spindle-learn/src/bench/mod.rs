//! Measurements behind `spindle bench`: reader throughput now, training
//! throughput of the standard configurations as they land.

mod cpu_time;
mod edf_read;
mod memory;
mod train_step;

pub use cpu_time::process_cpu_seconds;
pub use edf_read::{EdfReadResult, bench_edf_read, write_bench_edf};
pub use memory::{peak_rss_mb, reset_peak_rss};
pub use train_step::{BenchConfig, STANDARD_CONFIGS, TrainBenchResult, bench_train_step};
