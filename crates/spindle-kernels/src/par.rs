//! Splitting work over the compute threads with `std::thread::scope`.
//!
//! The thread count is candle's (`RAYON_NUM_THREADS` / `CANDLE_NUM_THREADS`,
//! set by the CLI's `--threads`), so one setting governs candle's own ops
//! and these kernels. Work is split into one contiguous range per thread;
//! the calling thread runs the first range itself.

use std::ops::Range;

/// Compute threads for the kernels (at least 1).
pub fn threads() -> usize {
    candle_core::utils::get_num_threads().max(1)
}

/// Splits `0..n` into at most `threads()` contiguous ranges of at least
/// `min_chunk` items each (one range when `n` is small).
pub fn ranges(n: usize, min_chunk: usize) -> Vec<Range<usize>> {
    let parts = threads().min(n / min_chunk.max(1)).max(1);
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

/// Runs `f` on each range of [`ranges`]`(n, min_chunk)` in parallel and
/// returns the results in range order.
pub fn map_ranges<R, F>(n: usize, min_chunk: usize, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(Range<usize>) -> R + Sync,
{
    let parts = ranges(n, min_chunk);
    if parts.len() <= 1 {
        return parts.into_iter().map(&f).collect();
    }
    std::thread::scope(|s| {
        let f = &f;
        let mut iter = parts.into_iter();
        let first = iter.next();
        let handles: Vec<_> = iter.map(|r| s.spawn(move || f(r))).collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        if let Some(r) = first {
            out.push(f(r));
        }
        for h in handles {
            match h.join() {
                Ok(v) => out.push(v),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        out
    })
}

/// Splits `data` (rows of `row_len` values) into contiguous row ranges and
/// runs `f(rows, chunk)` on each in parallel, `chunk` holding exactly those rows.
pub fn for_rows_mut<F>(data: &mut [f32], row_len: usize, min_rows: usize, f: F)
where
    F: Fn(Range<usize>, &mut [f32]) + Sync,
{
    let n_rows = data.len().checked_div(row_len).unwrap_or(0);
    let parts = ranges(n_rows, min_rows);
    if parts.len() <= 1 {
        f(0..n_rows, data);
        return;
    }
    std::thread::scope(|s| {
        let f = &f;
        let mut rest = data;
        let mut handles = Vec::new();
        let mut first = None;
        for r in parts {
            let (chunk, tail) = rest.split_at_mut(r.len() * row_len);
            rest = tail;
            if first.is_none() {
                first = Some((r, chunk));
            } else {
                handles.push(s.spawn(move || f(r, chunk)));
            }
        }
        if let Some((r, chunk)) = first {
            f(r, chunk);
        }
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
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
    if jobs.len() <= 1 {
        return jobs.into_iter().map(|(r, mine)| f(r, mine)).collect();
    }
    std::thread::scope(|s| {
        let f = &f;
        let mut jobs = jobs.into_iter();
        let first = jobs.next();
        let handles: Vec<_> = jobs.map(|(r, mine)| s.spawn(move || f(r, mine))).collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        if let Some((r, mine)) = first {
            out.push(f(r, mine));
        }
        for h in handles {
            match h.join() {
                Ok(v) => out.push(v),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        out
    })
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
}
