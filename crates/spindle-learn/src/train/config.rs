//! Optimizer and loop settings.

use super::{DeviceChoice, Refit};
use crate::dataset::Augmentation;

/// How the learning rate changes over epochs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// Multiply the rate by `gamma` every `every_epochs` epochs.
    Step {
        /// Epochs between reductions.
        every_epochs: usize,
        /// Factor applied at each reduction.
        gamma: f64,
    },
    /// Half a cosine from the initial rate down to zero over all epochs.
    Cosine,
}

impl Schedule {
    /// The learning rate for `epoch` (0-based) of `epochs`, starting from `lr`.
    pub fn rate(&self, lr: f64, epoch: usize, epochs: usize) -> f64 {
        match *self {
            Schedule::Constant => lr,
            Schedule::Step {
                every_epochs,
                gamma,
            } => lr * gamma.powi((epoch / every_epochs.max(1)) as i32),
            Schedule::Cosine => {
                let t = epoch as f64 / epochs.max(1) as f64;
                lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// The map of the validation windows sent while training
/// ([`super::Event::Map`]): what the penultimate layer makes of them,
/// projected to 2-D by PCA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveMapOptions {
    /// A map before the first epoch, after the first and every this many
    /// epochs, and after the last.
    pub every_epochs: usize,
    /// Validation windows mapped at most (evenly spaced over them).
    pub max_windows: usize,
}

impl Default for LiveMapOptions {
    fn default() -> Self {
        Self {
            every_epochs: 5,
            max_windows: 500,
        }
    }
}

/// Everything that decides how a model is trained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// Passes over the training windows.
    pub epochs: usize,
    /// Windows per optimizer step; `None` chooses from the dataset's size
    /// (see [`TrainConfig::batch_for`]).
    pub batch_size: Option<usize>,
    /// Initial learning rate of AdamW.
    pub lr: f64,
    /// AdamW's decoupled weight decay (a regularizer: it keeps weights small).
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Clip the gradient's global L2 norm to this value.
    pub grad_clip: Option<f64>,
    /// Stop after this many epochs without a better validation loss, and keep
    /// the best epoch's weights.
    pub patience: Option<usize>,
    /// Weight the loss by inverse class frequency (for imbalanced labels).
    pub class_weights: bool,
    /// Seed for initialization, shuffling and dropout order; CPU runs repeat exactly.
    pub seed: u64,
    /// Where to compute.
    pub device: DeviceChoice,
    /// Random changes to training windows (off by default; runs made before
    /// augmentation existed read as off).
    #[serde(default)]
    pub augmentation: Augmentation,
    /// Train again on training plus validation for the chosen number of
    /// epochs (see `Refit`); runs made before it existed read as `off`.
    #[serde(default = "Refit::before_refit")]
    pub refit: Refit,
    /// Send a map of the validation windows every few epochs (display
    /// only: it changes nothing of the training and is not saved).
    #[serde(skip)]
    pub live_map: Option<LiveMapOptions>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: None,
            lr: 1e-3,
            weight_decay: 1e-2,
            schedule: Schedule::Constant,
            grad_clip: Some(5.0),
            patience: None,
            class_weights: false,
            seed: 0,
            device: DeviceChoice::Auto,
            augmentation: Augmentation::default(),
            refit: Refit::Auto,
            live_map: None,
        }
    }
}

impl TrainConfig {
    /// The batch size for `n_train` training windows: the configured one, or
    /// a power of two from 8 to 64 that gives an epoch at least about 25
    /// optimizer steps (small datasets learn little from a few large steps).
    pub fn batch_for(&self, n_train: usize) -> usize {
        match self.batch_size {
            Some(b) => b.max(1),
            None => {
                let target = (n_train / 25).clamp(8, 64);
                // Largest power of two not above the target.
                1 << (usize::BITS - 1 - target.leading_zeros())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_batch_size() {
        let c = TrainConfig::default();
        assert_eq!(c.batch_for(100), 8);
        assert_eq!(c.batch_for(400), 16);
        assert_eq!(c.batch_for(1000), 32);
        assert_eq!(c.batch_for(100_000), 64);
        let fixed = TrainConfig {
            batch_size: Some(5),
            ..TrainConfig::default()
        };
        assert_eq!(fixed.batch_for(100_000), 5);
    }

    #[test]
    fn schedules() {
        assert_eq!(Schedule::Constant.rate(0.1, 5, 10), 0.1);
        let step = Schedule::Step {
            every_epochs: 2,
            gamma: 0.5,
        };
        assert_eq!(step.rate(1.0, 0, 10), 1.0);
        assert_eq!(step.rate(1.0, 3, 10), 0.5);
        assert_eq!(step.rate(1.0, 4, 10), 0.25);
        assert_eq!(Schedule::Cosine.rate(1.0, 0, 10), 1.0);
        assert!((Schedule::Cosine.rate(1.0, 5, 10) - 0.5).abs() < 1e-12);
    }
}
