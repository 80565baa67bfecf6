//! Leakage-safe train/validation/test splits.
//!
//! Held-out data is whole recordings when there are three or more (or whole
//! files of an audio folder, stratified by class); otherwise blocks of time of
//! each class in each recording: the test set is the last block (the part of
//! the session furthest from most training data, an honest test), the
//! validation set is `SPREAD_BLOCKS` blocks of consecutive trials spread over
//! the session (so the epoch kept is chosen on every part of it, not on its
//! end). Training windows that overlap a held-out window are dropped, so that
//! no window and no overlap of two windows straddles two splits.

use std::collections::{BTreeMap, BTreeSet};

use spindle_signals::rng::Rng;

use super::WindowRef;

/// The three splits of a dataset.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SplitName {
    /// Fits the weights.
    Train,
    /// Chooses the epoch to keep and stops training early.
    Validation,
    /// Scores the final model once.
    Test,
}

impl SplitName {
    /// `train`, `validation` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Validation => "validation",
            SplitName::Test => "test",
        }
    }
}

/// How windows were held out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldoutMethod {
    /// Whole recordings (or whole files).
    Recordings,
    /// The last block of time of each class, with overlapping windows purged.
    TimeBlocks,
    /// Blocks of consecutive trials of each class spread over each
    /// recording, with overlapping windows purged.
    SpreadBlocks,
}

/// Blocks per class and recording of a spread hold-out (fewer when fewer
/// windows are held out).
pub const SPREAD_BLOCKS: usize = 5;

/// What to hold out and how.
#[derive(Debug, Clone, Copy)]
pub struct Holdout {
    /// The split windows are taken from.
    pub from: SplitName,
    /// The split they move to.
    pub to: SplitName,
    /// Share of recordings (or of each class's windows) to move.
    pub fraction: f64,
    /// Window length in samples (for the overlap test).
    pub window_len: usize,
    /// Every source is one file holding one example (labeled audio folders).
    pub whole_file: bool,
    /// Seed for choosing recordings (and where spread blocks sit).
    pub seed: u64,
    /// With fewer than three recordings: blocks spread over the session
    /// instead of its last block.
    pub spread: bool,
}

/// Moves a share of the windows whose split is `h.from` to `h.to`, by whole
/// sources or time blocks; windows of `h.from` that overlap a moved window
/// (same source, overlapping samples) become `None` (dropped).
pub fn hold_out(
    windows: &[WindowRef],
    splits: &mut [Option<SplitName>],
    h: Holdout,
) -> HoldoutMethod {
    let Holdout {
        from,
        to,
        fraction,
        window_len,
        whole_file,
        seed,
        spread,
    } = h;
    let mut rng = Rng::new(seed);
    let members: Vec<usize> = (0..windows.len())
        .filter(|&i| splits[i] == Some(from))
        .collect();
    let sources: BTreeSet<usize> = members.iter().map(|&i| windows[i].source).collect();

    if whole_file {
        // One example per file: stratify by class.
        let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in &members {
            by_class
                .entry(windows[i].class.as_str())
                .or_default()
                .push(i);
        }
        for (_, mut items) in by_class {
            rng.shuffle(&mut items);
            let k = held_count(items.len(), fraction);
            for &i in &items[..k] {
                splits[i] = Some(to);
            }
        }
        return HoldoutMethod::Recordings;
    }

    if sources.len() >= 3 {
        let mut order: Vec<usize> = sources.into_iter().collect();
        rng.shuffle(&mut order);
        let k = ((order.len() as f64 * fraction).round() as usize).clamp(1, order.len() - 1);
        let held: BTreeSet<usize> = order[..k].iter().copied().collect();
        for &i in &members {
            if held.contains(&windows[i].source) {
                splits[i] = Some(to);
            }
        }
        return HoldoutMethod::Recordings;
    }

    // Fewer than three recordings: blocks of time of each class.
    let mut groups: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
    for &i in &members {
        groups
            .entry((windows[i].source, windows[i].class.as_str()))
            .or_default()
            .push(i);
    }
    let mut moved: Vec<usize> = Vec::new();
    for (_, mut items) in groups {
        items.sort_by_key(|&i| windows[i].start);
        let k = held_count(items.len(), fraction);
        let chosen: Vec<usize> = if spread {
            spread_blocks(items.len(), k, &mut rng)
        } else {
            (items.len() - k..items.len()).collect()
        };
        for p in chosen {
            let i = items[p];
            splits[i] = Some(to);
            moved.push(i);
        }
    }
    // Purge: drop windows left in `from` that overlap a moved window.
    let mut moved_by_source: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in &moved {
        moved_by_source
            .entry(windows[i].source)
            .or_default()
            .push(windows[i].start);
    }
    for starts in moved_by_source.values_mut() {
        starts.sort_unstable();
    }
    for &i in &members {
        if splits[i] != Some(from) {
            continue;
        }
        let w = &windows[i];
        if let Some(starts) = moved_by_source.get(&w.source) {
            // Overlap when |start - other| < window_len.
            let lo = w.start.saturating_sub(window_len - 1);
            let first = starts.partition_point(|&s| s < lo);
            if starts.get(first).is_some_and(|&s| s < w.start + window_len) {
                splits[i] = None;
            }
        }
    }
    if spread {
        HoldoutMethod::SpreadBlocks
    } else {
        HoldoutMethod::TimeBlocks
    }
}

/// Positions (in time order) of `k` of `n` items held out as up to
/// `SPREAD_BLOCKS` runs of consecutive items, one in each of as many equal
/// stretches of the `n`, each at a random place within its stretch.
fn spread_blocks(n: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let blocks = SPREAD_BLOCKS.min(k).max(1);
    let mut chosen = Vec::with_capacity(k);
    for b in 0..blocks {
        let (lo, hi) = (b * n / blocks, (b + 1) * n / blocks);
        let take = (b + 1) * k / blocks - b * k / blocks;
        let room = (hi - lo).saturating_sub(take);
        let start = lo + rng.below(room + 1);
        chosen.extend(start..(start + take).min(hi));
    }
    chosen
}

/// How many of `n` items a `fraction` holds out: at least one when there are
/// two or more, never all.
fn held_count(n: usize, fraction: f64) -> usize {
    if n < 2 {
        return 0;
    }
    ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(source: usize, start: usize, class: &str) -> WindowRef {
        WindowRef {
            source,
            start,
            onset_s: start as f64,
            class: class.into(),
        }
    }

    #[test]
    fn three_or_more_recordings_are_held_out_whole() {
        let windows: Vec<WindowRef> = (0..4)
            .flat_map(|s| (0..10).map(move |k| w(s, k * 100, if k % 2 == 0 { "a" } else { "b" })))
            .collect();
        let mut splits = vec![Some(SplitName::Train); windows.len()];
        let m = hold_out(
            &windows,
            &mut splits,
            Holdout {
                from: SplitName::Train,
                to: SplitName::Validation,
                fraction: 0.25,
                window_len: 100,
                whole_file: false,
                seed: 1,
                spread: false,
            },
        );
        assert_eq!(m, HoldoutMethod::Recordings);
        for s in 0..4 {
            let set: BTreeSet<_> = windows
                .iter()
                .zip(&splits)
                .filter(|(w, _)| w.source == s)
                .map(|(_, sp)| *sp)
                .collect();
            assert_eq!(set.len(), 1, "recording {s} is split across {set:?}");
        }
        let held = splits
            .iter()
            .filter(|s| **s == Some(SplitName::Validation))
            .count();
        assert_eq!(held, 10);
    }

    #[test]
    fn time_blocks_purge_overlapping_windows() {
        // One recording, overlapping windows (stride 50, length 100) of two classes.
        let mut windows = Vec::new();
        for k in 0..20 {
            windows.push(w(0, k * 50, "a"));
        }
        for k in 0..20 {
            windows.push(w(0, 2000 + k * 50, "b"));
        }
        let mut splits = vec![Some(SplitName::Train); windows.len()];
        let m = hold_out(
            &windows,
            &mut splits,
            Holdout {
                from: SplitName::Train,
                to: SplitName::Validation,
                fraction: 0.2,
                window_len: 100,
                whole_file: false,
                seed: 1,
                spread: false,
            },
        );
        assert_eq!(m, HoldoutMethod::TimeBlocks);
        // Each class keeps its last 4 windows for validation.
        let val: Vec<usize> = (0..40)
            .filter(|&i| splits[i] == Some(SplitName::Validation))
            .collect();
        assert_eq!(val, vec![16, 17, 18, 19, 36, 37, 38, 39]);
        // No train window overlaps a validation window.
        for i in 0..40 {
            if splits[i] != Some(SplitName::Train) {
                continue;
            }
            for &j in &val {
                let (a, b) = (windows[i].start, windows[j].start);
                assert!(a.abs_diff(b) >= 100, "train {a} overlaps validation {b}");
            }
        }
        // The window just before each block overlaps it and is dropped.
        assert_eq!(splits[15], None);
        assert_eq!(splits[35], None);
    }

    #[test]
    fn spread_validation_spans_the_session_without_overlap() {
        // One recording of 100 trials alternating between two classes,
        // windows of 100 samples every 50 (each overlaps its neighbours).
        let windows: Vec<WindowRef> = (0..200)
            .map(|k| w(0, k * 50, if (k / 2) % 2 == 0 { "a" } else { "b" }))
            .collect();
        for seed in 0..5 {
            let mut splits = vec![Some(SplitName::Train); windows.len()];
            let m = hold_out(
                &windows,
                &mut splits,
                Holdout {
                    from: SplitName::Train,
                    to: SplitName::Validation,
                    fraction: 0.2,
                    window_len: 100,
                    whole_file: false,
                    seed,
                    spread: true,
                },
            );
            assert_eq!(m, HoldoutMethod::SpreadBlocks);
            let val: Vec<usize> = (0..windows.len())
                .filter(|&i| splits[i] == Some(SplitName::Validation))
                .collect();
            assert_eq!(val.len(), 40, "a fifth of each class");
            // Every fifth of the session holds validation windows.
            let end = windows.len() * 50;
            for fifth in 0..5 {
                let (lo, hi) = (fifth * end / 5, (fifth + 1) * end / 5);
                assert!(
                    val.iter().any(|&j| (lo..hi).contains(&windows[j].start)),
                    "seed {seed}: no validation window in fifth {fifth}"
                );
            }
            // No training window overlaps a validation window.
            for i in 0..windows.len() {
                if splits[i] != Some(SplitName::Train) {
                    continue;
                }
                for &j in &val {
                    let (a, b) = (windows[i].start, windows[j].start);
                    assert!(a.abs_diff(b) >= 100, "train {a} overlaps validation {b}");
                }
            }
            assert!(splits.iter().any(|s| s.is_none()), "edges are purged");
        }
    }

    #[test]
    fn whole_files_are_stratified_by_class() {
        let windows: Vec<WindowRef> = (0..20)
            .map(|s| w(s, 0, if s < 10 { "a" } else { "b" }))
            .collect();
        let mut splits = vec![Some(SplitName::Train); 20];
        hold_out(
            &windows,
            &mut splits,
            Holdout {
                from: SplitName::Train,
                to: SplitName::Test,
                fraction: 0.2,
                window_len: 100,
                whole_file: true,
                seed: 3,
                spread: false,
            },
        );
        let held_a = (0..10)
            .filter(|&i| splits[i] == Some(SplitName::Test))
            .count();
        let held_b = (10..20)
            .filter(|&i| splits[i] == Some(SplitName::Test))
            .count();
        assert_eq!((held_a, held_b), (2, 2));
    }
}
