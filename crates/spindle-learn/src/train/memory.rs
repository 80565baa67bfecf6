//! Whether one training step fits in memory, checked before training starts,
//! and the message for a step that does not (or for a device that ran out).
//!
//! The estimate is a lower bound: it counts the input batch and each layer's
//! output (the [`ModelSummary`] shapes) twice, once for the forward pass and
//! once for its gradient, plus the trainable parameters four times (weights,
//! gradients and AdamW's two moments), all `f32`. Candle keeps more
//! intermediate tensors than the summary lists, so a step refused by this
//! estimate cannot fit, while one it lets through may still run short.
//!
//! The load comes first: building the dataset refuses, before allocating
//! them, windows (and whole channels of a recording that cannot be read a
//! window at a time) that would not fit in the free memory
//! ([`crate::dataset::check_load_fits`]). The step is then checked here
//! against what the load left free, so the two together count both.

use crate::model::ModelSummary;

/// Bytes of one `f32`.
const F32_BYTES: u64 = 4;

/// Copies of every trainable parameter during a step: the weights, their
/// gradients and AdamW's first and second moments.
const PARAMETER_COPIES: u64 = 4;

/// Copies of every activation: the forward value and its gradient.
const ACTIVATION_COPIES: u64 = 2;

/// Bytes one window adds to a training step: its input values and every
/// layer's output, forward and backward.
pub fn window_step_bytes(summary: &ModelSummary, input_values_per_window: usize) -> u64 {
    let activations: u64 = summary
        .layers
        .iter()
        .map(|l| l.output_shape.iter().map(|&d| d as u64).product::<u64>())
        .sum();
    (input_values_per_window as u64)
        .saturating_add(activations)
        .saturating_mul(ACTIVATION_COPIES * F32_BYTES)
}

/// Bytes of a training step that do not depend on the batch: the trainable
/// parameters with their gradients and optimizer state.
pub fn parameter_step_bytes(summary: &ModelSummary) -> u64 {
    (summary.trainable_params as u64).saturating_mul(PARAMETER_COPIES * F32_BYTES)
}

/// A lower estimate of the memory one training step on `batch` windows needs,
/// bytes.
pub fn step_memory_bytes(
    summary: &ModelSummary,
    input_values_per_window: usize,
    batch: usize,
) -> u64 {
    parameter_step_bytes(summary).saturating_add(
        window_step_bytes(summary, input_values_per_window).saturating_mul(batch as u64),
    )
}

/// The largest batch whose step fits in `available_bytes` by
/// [`step_memory_bytes`]; 0 when not even one window fits.
pub fn largest_fitting_batch(
    summary: &ModelSummary,
    input_values_per_window: usize,
    available_bytes: u64,
) -> usize {
    let per_window = window_step_bytes(summary, input_values_per_window).max(1);
    let left = available_bytes.saturating_sub(parameter_step_bytes(summary));
    usize::try_from(left / per_window).unwrap_or(usize::MAX)
}

pub use crate::dataset::{available_memory_bytes, parse_mem_available};

/// True when a candle error says that the device ran out of memory (CUDA's
/// `CUDA_ERROR_OUT_OF_MEMORY`, Metal's and the allocators' "out of memory").
pub fn is_out_of_memory(error: &candle_core::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    text.contains("out of memory") || text.contains("out_of_memory")
}

/// A training step that does not fit in memory, with the batch size that would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryShortfall {
    /// The batch size asked for.
    pub requested_batch: usize,
    /// Windows in one step: the batch size, at most the training windows.
    pub batch: usize,
    /// The estimated need of one step, bytes (`None`: the device ran out).
    pub needed_bytes: Option<u64>,
    /// The memory free before training, bytes (`None`: not known).
    pub available_bytes: Option<u64>,
    /// The largest batch size to try; 0 when not even one window fits.
    pub largest_batch: usize,
    /// The device, e.g. `cpu` or `cuda:0`.
    pub device: String,
}

impl std::fmt::Display for MemoryShortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let batch = if self.requested_batch > self.batch {
            format!(
                "a batch of {} (all {} training windows)",
                self.requested_batch, self.batch
            )
        } else {
            format!("a batch of {} windows", self.batch)
        };
        match (self.needed_bytes, self.available_bytes) {
            (Some(needed), Some(available)) => write!(
                f,
                "--batch: one training step on {batch} needs at least {} (the windows and every layer's output with their gradients, and the weights with AdamW's state), but only {} of memory is free",
                gigabytes(needed),
                gigabytes(available)
            )?,
            _ => write!(
                f,
                "--batch: the device ({}) ran out of memory during a training step on {batch}",
                self.device
            )?,
        }
        if self.largest_batch == 0 {
            write!(
                f,
                "; not even one window fits: use shorter windows or a smaller model"
            )
        } else {
            write!(
                f,
                "; set the batch size to {} or less (--batch {}), or use shorter windows or a smaller model",
                self.largest_batch, self.largest_batch
            )
        }
    }
}

/// Bytes as gigabytes with one decimal (megabytes below 1 GB, kilobytes
/// below 1 MB).
fn gigabytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// Checks that a step on `batch` windows fits in `available_bytes` (when
/// known) by [`step_memory_bytes`].
pub fn check_step_fits(
    summary: &ModelSummary,
    input_values_per_window: usize,
    requested_batch: usize,
    n_train: usize,
    available_bytes: Option<u64>,
    device: &str,
) -> Result<(), MemoryShortfall> {
    let Some(available) = available_bytes else {
        return Ok(());
    };
    let batch = requested_batch.min(n_train).max(1);
    let needed = step_memory_bytes(summary, input_values_per_window, batch);
    if needed <= available {
        return Ok(());
    }
    Err(MemoryShortfall {
        requested_batch,
        batch,
        needed_bytes: Some(needed),
        available_bytes: Some(available),
        largest_batch: largest_fitting_batch(summary, input_values_per_window, available),
        device: device.to_owned(),
    })
}

/// The shortfall for a device that ran out of memory on `batch` windows:
/// half the batch is the size to try.
pub fn device_ran_out(requested_batch: usize, batch: usize, device: &str) -> MemoryShortfall {
    MemoryShortfall {
        requested_batch,
        batch,
        needed_bytes: None,
        available_bytes: None,
        largest_batch: batch / 2,
        device: device.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerInfo;

    /// Input [2, 100]; conv [8, 100]; pool [8, 50]; dense [3] with 200 params.
    fn summary() -> ModelSummary {
        let layer = |name: &str, output_shape: Vec<usize>, params| LayerInfo {
            name: name.into(),
            output_shape,
            params,
        };
        ModelSummary::new(
            vec![
                layer("conv", vec![8, 100], 50),
                layer("pool", vec![8, 50], 0),
                layer("fc", vec![3], 150),
            ],
            10,
            100.0,
        )
    }

    #[test]
    fn the_step_counts_activations_twice_and_parameters_four_times() {
        let s = summary();
        // (200 input + 800 + 400 + 3) values x 2 copies x 4 bytes.
        assert_eq!(window_step_bytes(&s, 200), 1403 * 8);
        // 200 parameters x 4 copies x 4 bytes.
        assert_eq!(parameter_step_bytes(&s), 3200);
        assert_eq!(step_memory_bytes(&s, 200, 10), 3200 + 10 * 11_224);
    }

    #[test]
    fn the_largest_batch_is_the_one_that_still_fits() {
        let s = summary();
        let fits_7 = step_memory_bytes(&s, 200, 7);
        assert_eq!(largest_fitting_batch(&s, 200, fits_7), 7);
        assert_eq!(largest_fitting_batch(&s, 200, fits_7 - 1), 6);
        assert_eq!(largest_fitting_batch(&s, 200, 3000), 0);
    }

    #[test]
    fn a_huge_batch_saturates_instead_of_overflowing() {
        let s = summary();
        assert_eq!(step_memory_bytes(&s, usize::MAX, usize::MAX), u64::MAX);
    }

    #[test]
    fn a_step_too_large_is_refused_with_the_batch_that_fits() {
        let s = summary();
        let available = step_memory_bytes(&s, 200, 7);
        assert_eq!(
            check_step_fits(&s, 200, 7, 100, Some(available), "cpu"),
            Ok(())
        );
        assert_eq!(check_step_fits(&s, 200, 5000, 100, None, "cpu"), Ok(()));
        let e = check_step_fits(&s, 200, 5000, 100, Some(available), "cpu").unwrap_err();
        assert_eq!((e.batch, e.largest_batch), (100, 7));
        assert_eq!(
            e.to_string(),
            "--batch: one training step on a batch of 5000 (all 100 training windows) needs at least 1 MB (the windows and every layer's output with their gradients, and the weights with AdamW's state), but only 82 kB of memory is free; set the batch size to 7 or less (--batch 7), or use shorter windows or a smaller model"
        );
        let e = check_step_fits(&s, 200, 50, 100, Some(3000), "cpu").unwrap_err();
        assert!(
            e.to_string()
                .ends_with("; not even one window fits: use shorter windows or a smaller model"),
            "{e}"
        );
    }

    #[test]
    fn a_device_that_ran_out_suggests_half_the_batch() {
        assert_eq!(
            device_ran_out(64, 64, "cuda:0").to_string(),
            "--batch: the device (cuda:0) ran out of memory during a training step on a batch of 64 windows; set the batch size to 32 or less (--batch 32), or use shorter windows or a smaller model"
        );
    }

    #[test]
    fn out_of_memory_errors_are_recognized_by_their_text() {
        let cuda = candle_core::Error::Msg(
            "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")".into(),
        );
        assert!(is_out_of_memory(&cuda));
        let metal = candle_core::Error::Msg("Metal: Out of memory allocating buffer".into());
        assert!(is_out_of_memory(&metal));
        let shape = candle_core::Error::Msg("shape mismatch in matmul".into());
        assert!(!is_out_of_memory(&shape));
    }

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = "MemTotal:       24684084 kB\nMemFree:  1 kB\nMemAvailable:   21556044 kB\n";
        assert_eq!(parse_mem_available(text), Some(21_556_044 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: lots\n"), None);
    }
}
