//! Permutation importance of channels: one channel's samples are shuffled
//! across the windows (each window gets the channel of another, so the
//! channel keeps its look but loses its link to the class), and the drop of
//! the score measures how much the network needs that channel.

use spindle_signals::rng::Rng;

use super::scoring::{Scorer, Steps, mean_and_spread};
use super::windows::WindowSet;
use super::{ExplainError, Importance};

/// The importance of each channel, in the run's channel order: `repeats`
/// seeded shuffles per channel, each scored against `baseline`.
pub(crate) fn channel_importance(
    set: &WindowSet,
    scorer: &Scorer,
    names: &[String],
    baseline: f64,
    repeats: usize,
    seed: u64,
    steps: &mut Steps,
) -> Result<Vec<Importance>, ExplainError> {
    let mut out = Vec::with_capacity(names.len());
    for (c, name) in names.iter().enumerate() {
        let mut rng = Rng::new(channel_seed(seed, c));
        let mut drops = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let shuffled = shuffle_channel(&set.raw, set.channels, set.len, c, &mut rng);
            drops.push(baseline - scorer.score(&shuffled)?);
            steps.step()?;
        }
        let (mean_drop, spread) = mean_and_spread(&drops);
        out.push(Importance {
            name: name.clone(),
            mean_drop,
            spread,
            drops,
        });
    }
    Ok(out)
}

/// The seed of channel `c`'s shuffles: each channel's result depends on
/// the seed and the channel alone, not on which channels ran before.
fn channel_seed(seed: u64, c: usize) -> u64 {
    seed ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `raw` (`[n, channels, len]`) with channel `c` of window `i` taken from
/// window `order[i]` of a random permutation.
fn shuffle_channel(raw: &[f32], channels: usize, len: usize, c: usize, rng: &mut Rng) -> Vec<f32> {
    let per = channels * len;
    let n = raw.len().checked_div(per).unwrap_or(0);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut out = raw.to_vec();
    for (i, &j) in order.iter().enumerate() {
        let (to, from) = (i * per + c * len, j * per + c * len);
        out[to..to + len].copy_from_slice(&raw[from..from + len]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffling_moves_one_channel_only_and_repeats_from_the_seed() {
        // 6 windows x 2 channels x 3 samples: channel 0 holds the window index.
        let raw: Vec<f32> = (0..6)
            .flat_map(|w| [w as f32; 3].into_iter().chain([100.0 + w as f32; 3]))
            .collect();
        let a = shuffle_channel(&raw, 2, 3, 0, &mut Rng::new(channel_seed(7, 0)));
        let b = shuffle_channel(&raw, 2, 3, 0, &mut Rng::new(channel_seed(7, 0)));
        assert_eq!(a, b, "same seed, same shuffle");
        let c = shuffle_channel(&raw, 2, 3, 0, &mut Rng::new(channel_seed(8, 0)));
        assert_ne!(a, c, "another seed, another shuffle");
        let mut firsts: Vec<f32> = a.chunks(6).map(|w| w[0]).collect();
        assert_ne!(firsts, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        firsts.sort_by(f32::total_cmp);
        assert_eq!(firsts, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "a permutation");
        for (w, window) in a.chunks(6).enumerate() {
            assert_eq!(window[3..], [100.0 + w as f32; 3], "channel 1 stays");
            assert!(
                window[..3].iter().all(|&v| v == window[0]),
                "whole rows move"
            );
        }
    }
}
