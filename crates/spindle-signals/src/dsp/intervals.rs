//! Finding the intervals (labels, events) that overlap a time window among
//! many, in logarithmic time.

/// Intervals sorted by start, with the running maximum of their ends, so that
/// the ones overlapping a window are found by two binary searches.
#[derive(Debug, Clone, Default)]
pub struct IntervalIndex {
    starts: Vec<f64>,
    ends: Vec<f64>,
    max_end: Vec<f64>,
}

impl IntervalIndex {
    /// Indexes `(start_s, end_s)` pairs, which must be sorted by start.
    pub fn new(intervals: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let mut index = Self::default();
        let mut running = f64::NEG_INFINITY;
        for (start, end) in intervals {
            running = running.max(end);
            index.starts.push(start);
            index.ends.push(end);
            index.max_end.push(running);
        }
        index
    }

    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Calls `f` with the position of every interval that overlaps
    /// `[t0_s, t1_s]` (touching counts, so zero-length intervals are found).
    pub fn for_each_overlap(&self, t0_s: f64, t1_s: f64, mut f: impl FnMut(usize)) {
        let lo = self.max_end.partition_point(|&e| e < t0_s);
        let hi = self.starts.partition_point(|&s| s <= t1_s);
        for i in lo..hi {
            if self.ends[i] >= t0_s {
                f(i);
            }
        }
    }

    /// The positions of the intervals overlapping `[t0_s, t1_s]`, in order.
    pub fn overlapping(&self, t0_s: f64, t1_s: f64) -> Vec<usize> {
        let mut out = Vec::new();
        self.for_each_overlap(t0_s, t1_s, |i| out.push(i));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_overlaps_including_long_early_intervals() {
        let idx = IntervalIndex::new([(0.0, 100.0), (5.0, 6.0), (10.0, 10.0), (20.0, 25.0)]);
        assert_eq!(idx.overlapping(9.0, 11.0), vec![0, 2]);
        assert_eq!(idx.overlapping(101.0, 200.0), Vec::<usize>::new());
        assert_eq!(idx.overlapping(24.0, 30.0), vec![0, 3]);
        assert_eq!(idx.overlapping(10.0, 10.0), vec![0, 2]);
    }
}
