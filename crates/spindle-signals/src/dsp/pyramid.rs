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
        let mut builder = PyramidBuilder::new(BASE_BLOCK);
        builder.push(samples);
        builder.finish()
    }

    /// Samples per block at the finest level ([`BASE_BLOCK`] unless built
    /// coarser with a [`PyramidBuilder`]).
    pub fn base_block(&self) -> usize {
        self.levels.first().map_or(BASE_BLOCK, |l| l.block)
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
        if end - start < 2 * self.base_block() {
            return min_max(&samples[start..end]);
        }
        self.blocks_min_max(start, end)
    }

    /// The min and max of samples `start..end` read from blocks alone, so
    /// without the samples: below two blocks of the finest level the span is
    /// widened to the blocks that hold it (the envelope is coarser, never
    /// narrower). `(NaN, NaN)` for an empty or out-of-range span.
    pub fn blocks_min_max(&self, start: usize, end: usize) -> (f32, f32) {
        let end = end.min(self.len);
        if start >= end || self.levels.is_empty() {
            return (f32::NAN, f32::NAN);
        }
        let span = end - start;
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

/// Builds a [`MinMaxPyramid`] from samples pushed in order, a piece at a
/// time, so that a recording larger than memory is summarized while it is
/// streamed from its file.
#[derive(Debug, Clone)]
pub struct PyramidBuilder {
    base: Level,
    /// Min and max of the samples of the block being filled, and how many.
    open: (f32, f32, usize),
    len: usize,
}

impl PyramidBuilder {
    /// A builder whose finest level has `base_block` samples per block
    /// (at least 1).
    pub fn new(base_block: usize) -> Self {
        Self {
            base: Level {
                block: base_block.max(1),
                ..Level::default()
            },
            open: (f32::INFINITY, f32::NEG_INFINITY, 0),
            len: 0,
        }
    }

    /// The finest block size that keeps the pyramid of `samples` samples
    /// within about `budget_bytes`: [`BASE_BLOCK`] times a power of
    /// [`FACTOR`].
    pub fn base_block_for(samples: usize, budget_bytes: usize) -> usize {
        // Two f32 per block, and 1/3 more for the coarser levels.
        let bytes = |block: usize| samples.div_ceil(block) * 8 * 4 / 3;
        let mut block = BASE_BLOCK;
        while bytes(block) > budget_bytes && block < samples {
            block *= FACTOR;
        }
        block
    }

    /// Adds the next samples.
    pub fn push(&mut self, mut samples: &[f32]) {
        self.len += samples.len();
        let block = self.base.block;
        while !samples.is_empty() {
            let (lo, hi, n) = self.open;
            let take = (block - n).min(samples.len());
            let (part_lo, part_hi) = min_max(&samples[..take]);
            self.open = (lo.min(part_lo), hi.max(part_hi), n + take);
            samples = &samples[take..];
            if self.open.2 == block {
                self.close_block();
            }
        }
    }

    fn close_block(&mut self) {
        let (lo, hi, _) = self.open;
        self.base.min.push(lo);
        self.base.max.push(hi);
        self.open = (f32::INFINITY, f32::NEG_INFINITY, 0);
    }

    /// The pyramid of everything pushed.
    pub fn finish(mut self) -> MinMaxPyramid {
        if self.open.2 > 0 {
            self.close_block();
        }
        let mut levels = vec![self.base];
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
        MinMaxPyramid {
            levels,
            len: self.len,
        }
    }
}

/// The min and max of `values`, skipping NaNs; `(inf, -inf)` when none.
///
/// Eight running minima and maxima side by side, folded at the end: the
/// compiler turns them into SIMD min/max, about four times as fast as one
/// running pair (whose every step waits on the last). It is most of the
/// viewer's work per frame when it scrolls a window of a minute or more.
pub fn min_max(values: &[f32]) -> (f32, f32) {
    const LANES: usize = 8;
    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            lo[k] = lo[k].min(chunk[k]);
            hi[k] = hi[k].max(chunk[k]);
        }
    }
    let mut lo = lo.into_iter().fold(f32::INFINITY, f32::min);
    let mut hi = hi.into_iter().fold(f32::NEG_INFINITY, f32::max);
    for &v in rest {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_matches_one_running_pair_and_skips_nans() {
        let naive = |v: &[f32]| {
            v.iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                })
        };
        let mut v: Vec<f32> = (0..1003)
            .map(|i| ((i * 7919) % 2003) as f32 - 1000.0)
            .collect();
        v[5] = f32::NAN;
        v[1001] = f32::NAN;
        for (a, b) in [(0, 1003), (0, 7), (3, 19), (5, 6), (100, 900), (996, 1003)] {
            assert_eq!(min_max(&v[a..b]), naive(&v[a..b]), "{a}..{b}");
        }
        assert_eq!(min_max(&v), (-1000.0, 1002.0));
        assert_eq!(min_max(&[]), (f32::INFINITY, f32::NEG_INFINITY));
        assert_eq!(min_max(&[f32::NAN; 9]), (f32::INFINITY, f32::NEG_INFINITY));
    }

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
    fn pushing_in_pieces_builds_the_same_pyramid_as_at_once() {
        let samples: Vec<f32> = (0..5_000)
            .map(|i| ((i * 53) % 997) as f32 - 400.0)
            .collect();
        let whole = MinMaxPyramid::build(&samples);
        let mut builder = PyramidBuilder::new(BASE_BLOCK);
        for piece in samples.chunks(333) {
            builder.push(piece);
        }
        let pieces = builder.finish();
        assert_eq!(pieces.len(), whole.len());
        for (a, b) in [(0, 5_000), (17, 900), (4_000, 4_999)] {
            assert_eq!(
                pieces.range_min_max(&samples, a, b),
                whole.range_min_max(&samples, a, b)
            );
        }
    }

    #[test]
    fn a_coarse_pyramid_answers_from_blocks_and_never_narrows() {
        let samples: Vec<f32> = (0..100_000).map(|i| ((i * 37) % 1001) as f32).collect();
        let block = PyramidBuilder::base_block_for(samples.len(), 4_000);
        assert!(block > BASE_BLOCK && samples.len().div_ceil(block) * 8 * 4 / 3 <= 4_000);
        let mut builder = PyramidBuilder::new(block);
        builder.push(&samples);
        let p = builder.finish();
        assert_eq!(p.base_block(), block);
        for (a, b) in [(0, 100_000), (5, 17), (50_000, 50_100), (99_990, 100_000)] {
            let (lo, hi) = p.blocks_min_max(a, b);
            let (elo, ehi) = min_max(&samples[a..b]);
            assert!(lo <= elo && hi >= ehi, "{a}..{b}");
        }
        assert_eq!(p.blocks_min_max(0, 100_000), (0.0, 1000.0));
        assert!(p.blocks_min_max(100_000, 100_010).0.is_nan());
    }

    #[test]
    fn empty_and_out_of_range_give_nan() {
        let p = MinMaxPyramid::build(&[]);
        assert!(p.is_empty());
        assert!(p.range_min_max(&[], 0, 10).0.is_nan());
    }
}
