//! The live map of training: when `TrainConfig::live_map` asks for it,
//! the validation windows (at most `max_windows`, evenly spaced) are run
//! through the network's penultimate layer before the first epoch, after
//! the first, every `every_epochs` epochs and after the last, projected to
//! 2-D by PCA and sent as [`Event::Map`], so that a presenter can show the
//! classes coming apart as the network learns. It changes nothing of the
//! training (evaluation mode, no weight touched); a map that cannot be
//! made is a warning, and a full event channel drops the map rather than
//! wait.

use candle_core::Tensor;
use crossbeam_channel::Sender;

use super::Session;
use crate::train::pca::principal_components;
use crate::train::{Event, LiveMap, LiveMapOptions};

/// Whether epoch `epoch` (0: before training) of `epochs` gets a map.
fn due(options: LiveMapOptions, epoch: usize, epochs: usize) -> bool {
    epoch <= 1 || epoch == epochs || epoch.is_multiple_of(options.every_epochs.max(1))
}

/// `max` indices evenly spaced over `0..n` (all of them when `n <= max`).
fn spread(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    (0..max).map(|k| k * n / max.max(1)).collect()
}

impl Session<'_> {
    /// Sends the live map of the validation windows after `epoch` (0:
    /// before training) when the configuration asks for one then.
    pub(super) fn send_live_map(&self, epoch: usize, events: &Sender<Event>) {
        let Some(options) = self.config.live_map else {
            return;
        };
        if self.ds.validation.is_empty() || !due(options, epoch, self.config.epochs) {
            return;
        }
        match self.live_map(options, epoch) {
            Ok(map) => {
                let _ = events.try_send(Event::Map(Box::new(map)));
            }
            Err(e) => {
                let _ = events.try_send(Event::Warning(format!(
                    "the map of the validation windows at epoch {epoch} could not be made: {e}"
                )));
            }
        }
    }

    /// The map of (at most `options.max_windows` of) the validation windows.
    fn live_map(&self, options: LiveMapOptions, epoch: usize) -> candle_core::Result<LiveMap> {
        let split = &self.ds.validation;
        let chosen = spread(split.len(), options.max_windows);
        let per = self.channels * self.samples;
        let mut features = Vec::new();
        let mut width = 0;
        for batch in chosen.chunks(self.batch.max(1)) {
            let mut x = Vec::with_capacity(batch.len() * per);
            for &i in batch {
                x.extend_from_slice(&split.x[i * per..(i + 1) * per]);
            }
            let xb = Tensor::from_vec(x, (batch.len(), self.channels, self.samples), &self.device)?;
            let f = self.net.features(&xb)?;
            width = f.dim(1)?;
            features.extend(f.flatten_all()?.to_vec1::<f32>()?);
        }
        let (scores, _) = principal_components(&features, chosen.len(), width, 2)?;
        let points = scores.chunks_exact(2).map(|r| [r[0], r[1]]).collect();
        let regression = self.ds.regression;
        Ok(LiveMap {
            epoch,
            points,
            classes: if regression {
                Vec::new()
            } else {
                chosen.iter().map(|&i| split.y[i]).collect()
            },
            values: if regression {
                chosen.iter().map(|&i| split.values[i]).collect()
            } else {
                Vec::new()
            },
            class_names: if regression {
                Vec::new()
            } else {
                self.ds.classes.clone()
            },
            n_validation: split.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_come_at_the_start_every_few_epochs_and_at_the_end_from_spread_windows() {
        let o = LiveMapOptions {
            every_epochs: 5,
            max_windows: 4,
        };
        let due_at: Vec<usize> = (0..=12).filter(|&e| due(o, e, 12)).collect();
        assert_eq!(due_at, [0, 1, 5, 10, 12]);
        assert_eq!(spread(3, 4), [0, 1, 2]);
        assert_eq!(spread(10, 4), [0, 2, 5, 7]);
    }
}
