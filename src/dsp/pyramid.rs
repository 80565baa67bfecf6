//! Min/max pyramids: per-block minima and maxima of a channel at block sizes
//! growing by [`FACTOR`], so that the envelope of any time span at any zoom is
//! read from a few precomputed blocks per pixel column.

/// Samples per block at the finest pyramid level.
pub const BASE_BLOCK: usize = 16;

/// How many blocks of one level make one block of the next.
pub const FACTOR: usize = 4;

/// One level: the min and max of each block of `block` samples.
#[derive(Debug, Clone, Default)]
struct Level {
    block: usize,
    min: Vec<f32>,
    max: Vec<f32>,
}

/// The min/max pyramid of one channel. Memory: about `2 * 4 / 3 / BASE_BLOCK`
/// floats per sample (1/6 of the samples' own size).
#[derive(Debug, Clone, Default)]
pub struct MinMaxPyramid {
    levels: Vec<Level>,
    len: usize,
}

impl MinMaxPyramid {
    /// Builds the pyramid of `samples`, block by block (NaNs are skipped).
    pub fn build(samples: &[f32]) -> Self {
        let mut levels = Vec::new();
        let mut base = Level {
            block: BASE_BLOCK,
            ..Level::default()
        };
        for chunk in samples.chunks(BASE_BLOCK) {
            let (lo, hi) = min_max(chunk);
            base.min.push(lo);
            base.max.push(hi);
        }
        levels.push(base);
        while let Some(last) = levels.last() {
            if last.min.len() <= 1 {
                break;
            }
            let mut next = Level {
                block: last.block * FACTOR,
                min: Vec::with_capacity(last.min.len() / FACTOR + 1),
                max: Vec::with_capacity(last.min.len() / FACTOR + 1),
            };
            for (mins, maxs) in last.min.chunks(FACTOR).zip(last.max.chunks(FACTOR)) {
                next.min
                    .push(mins.iter().copied().fold(f32::INFINITY, f32::min));
                next.max
                    .push(maxs.iter().copied().fold(f32::NEG_INFINITY, f32::max));
            }
            levels.push(next);
        }
        Self {
            levels,
            len: samples.len(),
        }
    }

    /// Number of samples the pyramid summarizes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when built from no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The min and max of `samples[start..end]` (sample indices, clamped), read
    /// from the coarsest level whose blocks fit the span; block edges widen the
    /// span to whole blocks. `samples` must be the slice the pyramid was built from.
    pub fn range_min_max(&self, samples: &[f32], start: usize, end: usize) -> (f32, f32) {
        let end = end.min(self.len).min(samples.len());
        if start >= end {
            return (f32::NAN, f32::NAN);
        }
        let span = end - start;
        if span < 2 * BASE_BLOCK {
            return min_max(&samples[start..end]);
        }
        let level = self
            .levels
            .iter()
            .rev()
            .find(|l| l.block * 2 <= span)
            .unwrap_or(&self.levels[0]);
        let first = start / level.block;
        let last = ((end - 1) / level.block).min(level.min.len().saturating_sub(1));
        let mut lo = f32::INFINITY;
        let mut hi = f32::NEG_INFINITY;
        for i in first..=last {
            lo = lo.min(level.min[i]);
            hi = hi.max(level.max[i]);
        }
        (lo, hi)
    }
}

/// The min and max of `values`, skipping NaNs; `(inf, -inf)` when none.
pub fn min_max(values: &[f32]) -> (f32, f32) {
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    for &v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_range_covers_exact_extremes() {
        let samples: Vec<f32> = (0..10_000).map(|i| ((i * 37) % 1001) as f32).collect();
        let p = MinMaxPyramid::build(&samples);
        for (a, b) in [(0, 10_000), (5, 17), (100, 5000), (9_990, 10_000), (0, 1)] {
            let (lo, hi) = p.range_min_max(&samples, a, b);
            let (elo, ehi) = min_max(&samples[a..b]);
            // Whole-block reads may widen the range, never narrow it.
            assert!(lo <= elo && hi >= ehi, "{a}..{b}");
        }
        let (lo, hi) = p.range_min_max(&samples, 0, 10_000);
        assert_eq!((lo, hi), (0.0, 1000.0));
    }

    #[test]
    fn empty_and_out_of_range_give_nan() {
        let p = MinMaxPyramid::build(&[]);
        assert!(p.is_empty());
        assert!(p.range_min_max(&[], 0, 10).0.is_nan());
    }
}
