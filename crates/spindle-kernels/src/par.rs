//! Splitting work over the compute threads of a persistent pool.
//!
//! The pool is candle's own (`candle_core::utils::barrier_pool`): its
//! workers are started once, at the first use, and wait between calls
//! (spinning briefly, then parked), so a call costs a wake-up instead of a
//! thread spawn, and candle's element-wise ops and these kernels share the
//! same threads instead of competing for the cores. Its size is candle's
//! thread count (`CANDLE_NUM_THREADS` / `RAYON_NUM_THREADS`, set by the
//! CLI's `--threads`): one setting governs candle's ops and these kernels.
//! The calling thread takes part in the work.
//!
//! Work is split into contiguous ranges, a few per thread, which the
//! threads claim from a shared cursor (a thread that starts late, or that
//! another process holds up, finds its ranges taken by one that is running). A call made from inside a part (a
//! kernel nested in another) runs its parts on the calling thread: the pool
//! serves one call at a time.

use std::cell::Cell;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// Whether this thread is running a part of a parallel call.
    static IN_PART: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as inside a part until dropped (also when the
/// part panics).
struct InPart(bool);

impl InPart {
    fn enter() -> Self {
        InPart(IN_PART.with(|c| c.replace(true)))
    }
}

impl Drop for InPart {
    fn drop(&mut self) {
        let was = self.0;
        IN_PART.with(|c| c.set(was));
    }
}

/// Compute threads for the kernels (at least 1): the pool's workers and
/// the calling thread.
pub fn threads() -> usize {
    candle_core::utils::barrier_pool().n_workers() + 1
}

/// Runs `f(i)` once for every `i < parts`, on the pool's threads and the
/// calling thread, and returns when all have finished (a panic in a part is
/// raised again here).
pub fn run_parts(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    if parts <= 1 || IN_PART.with(Cell::get) {
        let _mark = InPart::enter();
        (0..parts).for_each(f);
        return;
    }
    let pool = candle_core::utils::barrier_pool();
    if pool.n_workers() == 0 {
        let _mark = InPart::enter();
        (0..parts).for_each(f);
        return;
    }
    let cursor = AtomicUsize::new(0);
    // Panics are caught here and raised again after the call: one that
    // reached candle's pool would poison its lock for the rest of the process.
    let panicked: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
    pool.execute(|_| {
        let _mark = InPart::enter();
        loop {
            let i = cursor.fetch_add(1, Ordering::Relaxed);
            if i >= parts {
                break;
            }
            if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(|| f(i)))
                && let Ok(mut slot) = panicked.lock()
            {
                slot.get_or_insert(payload);
            }
        }
    });
    if let Some(payload) = panicked.into_inner().ok().flatten() {
        std::panic::resume_unwind(payload);
    }
}

/// Ranges per thread: with more ranges than threads, a thread that another
/// process holds up leaves its share to the others, which claim the ranges
/// as they come free, instead of holding up the call.
const RANGES_PER_THREAD: usize = 4;

/// Splits `0..n` into contiguous ranges of at least `min_chunk` items each:
/// one with one thread, else up to 4 per thread (one
/// range when `n` is small).
pub fn ranges(n: usize, min_chunk: usize) -> Vec<Range<usize>> {
    let threads = threads();
    let most = if threads > 1 {
        threads * RANGES_PER_THREAD
    } else {
        1
    };
    split(n, most.min(n / min_chunk.max(1)).max(1))
}

/// Splits `0..n` into `parts` contiguous ranges of nearly equal length.
fn split(n: usize, parts: usize) -> Vec<Range<usize>> {
    let base = n / parts;
    let extra = n % parts;
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for i in 0..parts {
        let len = base + usize::from(i < extra);
        out.push(start..start + len);
        start += len;
    }
    out
}

/// Runs `f(i, item)` for every item of `items` in parallel (each item is
/// moved into exactly one call) and returns the results in order.
fn map_items<T, R, F>(items: Vec<T>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    if items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let slots: Vec<Mutex<(Option<T>, Option<R>)>> = items
        .into_iter()
        .map(|t| Mutex::new((Some(t), None)))
        .collect();
    run_parts(slots.len(), &|i| {
        let Ok(mut slot) = slots[i].lock() else {
            return;
        };
        if let Some(item) = slot.0.take() {
            slot.1 = Some(f(item));
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().and_then(|s| s.1))
        .collect()
}

/// Runs `f` on each range of [`ranges`]`(n, min_chunk)` in parallel and
/// returns the results in range order.
pub fn map_ranges<R, F>(n: usize, min_chunk: usize, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(Range<usize>) -> R + Sync,
{
    map_items(ranges(n, min_chunk), f)
}

/// Splits `data` (rows of `row_len` values) into contiguous row ranges and
/// runs `f(rows, chunk)` on each in parallel, `chunk` holding exactly those rows.
pub fn for_rows_mut<F>(data: &mut [f32], row_len: usize, min_rows: usize, f: F)
where
    F: Fn(Range<usize>, &mut [f32]) + Sync,
{
    let n_rows = data.len().checked_div(row_len).unwrap_or(0);
    let mut rest = data;
    let mut jobs = Vec::new();
    for r in ranges(n_rows, min_rows) {
        let (chunk, tail) = rest.split_at_mut(r.len() * row_len);
        rest = tail;
        jobs.push((r, chunk));
    }
    map_items(jobs, |(r, chunk)| f(r, chunk));
}

/// The rows of one range of groups: `rows[g][o]` is row `(o, start + g)`.
pub type GroupRows<'a> = Vec<Vec<&'a mut [f32]>>;

/// Splits `data`, `[outer, groups, row_len]` values, into its rows grouped
/// by the middle index (a channel of a `[B, C, L]` tensor), and runs
/// `f(groups, rows)` on contiguous ranges of at least `min_groups` groups in
/// parallel, returning the results in range order. Each call writes its
/// channels' rows of `data` in place, so no per-thread buffer has to be
/// copied into the `[B, C, L]` layout afterwards.
pub fn map_groups_mut<R, F>(
    data: &mut [f32],
    groups: usize,
    row_len: usize,
    min_groups: usize,
    f: F,
) -> Vec<R>
where
    R: Send,
    F: Fn(Range<usize>, GroupRows<'_>) -> R + Sync,
{
    if groups == 0 || row_len == 0 {
        return Vec::new();
    }
    let mut by_group: GroupRows<'_> = (0..groups).map(|_| Vec::new()).collect();
    for (r, row) in data.chunks_exact_mut(row_len).enumerate() {
        by_group[r % groups].push(row);
    }
    let mut rows = by_group.into_iter();
    let jobs: Vec<_> = ranges(groups, min_groups)
        .into_iter()
        .map(|r| {
            let mine: GroupRows<'_> = rows.by_ref().take(r.len()).collect();
            (r, mine)
        })
        .collect();
    map_items(jobs, |(r, mine)| f(r, mine))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_once() {
        for n in [0, 1, 5, 64, 1001] {
            let r = ranges(n, 3);
            assert_eq!(r.first().map_or(0, |r| r.start), 0);
            assert_eq!(r.last().map_or(0, |r| r.end), n);
            for w in r.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
        }
        let sums = map_ranges(100, 1, |r| r.sum::<usize>());
        assert_eq!(sums.iter().sum::<usize>(), 4950);
        let mut v = vec![0f32; 12];
        for_rows_mut(&mut v, 3, 1, |rows, chunk| {
            for (i, x) in chunk.iter_mut().enumerate() {
                *x = (rows.start * 3 + i) as f32;
            }
        });
        assert_eq!(v, (0..12).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn group_rows_are_the_middle_index() {
        // [outer 3, groups 4, row 2]: each call fills its groups' rows with
        // `10 * group + outer` and reports which groups it had.
        let mut v = vec![0f32; 3 * 4 * 2];
        let seen = map_groups_mut(&mut v, 4, 2, 1, |groups, mut rows| {
            for (g, gi) in groups.clone().enumerate() {
                assert_eq!(rows[g].len(), 3);
                for (o, row) in rows[g].iter_mut().enumerate() {
                    row.fill((10 * gi + o) as f32);
                }
            }
            groups
        });
        assert_eq!(seen.first().map(|r| r.start), Some(0));
        assert_eq!(seen.last().map(|r| r.end), Some(4));
        for o in 0..3 {
            for g in 0..4 {
                let want = (10 * g + o) as f32;
                assert_eq!(&v[(o * 4 + g) * 2..(o * 4 + g + 1) * 2], &[want, want]);
            }
        }
        assert!(map_groups_mut(&mut [], 0, 2, 1, |g, _| g).is_empty());
    }

    #[test]
    fn parts_run_once_each_nested_calls_run_inline_and_panics_propagate() {
        use std::sync::atomic::AtomicUsize;
        let hits: Vec<AtomicUsize> = (0..7).map(|_| AtomicUsize::new(0)).collect();
        run_parts(7, &|i| {
            hits[i].fetch_add(1, Ordering::Relaxed);
            // A kernel inside a kernel: runs on this thread, still complete.
            let inner = map_ranges(10, 1, |r| r.len());
            assert_eq!(inner.iter().sum::<usize>(), 10);
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        let caught = std::panic::catch_unwind(|| {
            run_parts(4, &|i| {
                if i == 3 {
                    panic!("part 3");
                }
            })
        });
        assert!(caught.is_err());
        // The pool still works after a panic.
        assert_eq!(
            map_ranges(100, 1, |r| r.sum::<usize>())
                .iter()
                .sum::<usize>(),
            4950
        );
    }
}
