//! t-SNE maps through the `bhtsne` crate (Barnes-Hut, MIT): the neighbours
//! are given (the exact ones of [`super::neighbours::nearest`], so no
//! random vantage-point tree) and the start is the first two principal
//! components scaled to a spread of 1e-4, so no random draw either: the
//! same windows give the same map (on one thread, so that the sums are
//! always taken in the same order).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::neighbours::Near;

/// The perplexity used when there are enough windows.
pub(crate) const PERPLEXITY: f32 = 30.0;
/// Gradient steps.
pub(crate) const EPOCHS: usize = 1000;
/// Fewest windows a t-SNE map is made of.
pub(crate) const MIN_WINDOWS: usize = 10;

/// The neighbours a t-SNE of `n` points reads per point (3 × perplexity).
pub(crate) fn neighbours_needed(n: usize) -> usize {
    (3.0 * perplexity_for(n)) as usize
}

/// [`PERPLEXITY`], or less for few windows (bhtsne needs 3 × perplexity <
/// n).
fn perplexity_for(n: usize) -> f32 {
    PERPLEXITY.min(((n.saturating_sub(2)) as f32 / 3.0).floor().max(1.0))
}

/// A 2-D t-SNE map (`[n]` points) of the `n` rows of `points` (`[n, d]`)
/// from their nearest neighbours (at least [`neighbours_needed`] per row,
/// nearest first) and a start `init` (`[n]` points, e.g. the first two
/// principal components); `epoch` is called with each gradient step done
/// (1..=[`EPOCHS`]).
pub(crate) fn tsne_map(
    points: &[f32],
    d: usize,
    neighbours: &[Vec<Near>],
    init: &[[f32; 2]],
    epoch: &mut dyn FnMut(usize),
) -> Result<Vec<[f32; 2]>, String> {
    let n = neighbours.len();
    if n < MIN_WINDOWS {
        return Err(format!(
            "a t-SNE map needs at least {MIN_WINDOWS} windows, there are {n}"
        ));
    }
    let k = neighbours_needed(n);
    if neighbours.iter().any(|row| row.len() < k) || init.len() != n {
        return Err("too few neighbours for t-SNE".into());
    }
    let table: Vec<Vec<bhtsne::Neighbor<f32>>> = neighbours
        .iter()
        .map(|row| {
            row.iter()
                .take(k)
                .map(|near| bhtsne::Neighbor {
                    index: near.index,
                    distance: near.distance,
                })
                .collect()
        })
        .collect();
    let spread = {
        let m = init.iter().map(|p| f64::from(p[0])).sum::<f64>() / n as f64;
        (init
            .iter()
            .map(|p| (f64::from(p[0]) - m).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt()
    };
    let scale = if spread > 0.0 { 1e-4 / spread } else { 0.0 };
    let start: Vec<f32> = init
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            if scale > 0.0 {
                [
                    (f64::from(p[0]) * scale) as f32,
                    (f64::from(p[1]) * scale) as f32,
                ]
            } else {
                // Identical starting points would never move apart.
                let a = i as f32 * 2.399_963;
                [1e-4 * a.cos(), 1e-4 * a.sin()]
            }
        })
        .collect();
    let rows: Vec<&[f32]> = points.chunks_exact(d.max(1)).collect();
    let perplexity = perplexity_for(n);
    let reached = AtomicUsize::new(0);
    // bhtsne sums in parallel with rayon; in a pool of one thread the sums,
    // and so the map, come out the same every time. The fit runs on its own
    // thread; this one passes its progress on.
    let fit = || -> Result<Vec<f32>, String> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "spindle-tsne-pool".into())
            .build()
            .map_err(|e| format!("starting the t-SNE pool: {e}"))?;
        Ok(pool.install(|| {
            let mut tsne: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&rows);
            tsne.perplexity(perplexity)
                .epochs(EPOCHS)
                .initial_embedding(start)
                .epoch_callback(|e, _| reached.store(e + 1, Ordering::Relaxed));
            tsne.barnes_hut_with_neighbors(0.5, &table);
            tsne.embedding()
        }))
    };
    let y = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("spindle-tsne".into())
            .spawn_scoped(scope, fit)
            .map_err(|e| format!("starting the t-SNE thread: {e}"))?;
        let mut told = 0;
        while !handle.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let now = reached.load(Ordering::Relaxed);
            (told + 1..=now).for_each(&mut *epoch);
            told = told.max(now);
        }
        let y = handle
            .join()
            .map_err(|_| "the t-SNE fit failed".to_string())??;
        (told + 1..=reached.load(Ordering::Relaxed)).for_each(&mut *epoch);
        Ok::<_, String>(y)
    })?;
    Ok(y.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
}

#[cfg(test)]
mod tests {
    use super::super::neighbours::nearest;
    use super::*;
    use spindle_signals::rng::Rng;

    #[test]
    fn three_clusters_in_ten_dimensions_come_out_apart_and_the_same_twice() {
        let mut rng = Rng::new(9);
        let (n, d) = (90, 10);
        let mut points = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let c = i % 3;
            for j in 0..d {
                let centre = if j == c { 8.0 } else { 0.0 };
                points.push((centre + rng.normal()) as f32);
            }
            labels.push(c);
        }
        let near = nearest(&points, n, d, neighbours_needed(n), &mut |_| {
            Ok::<(), ()>(())
        })
        .unwrap();
        let init: Vec<[f32; 2]> = (0..n).map(|i| [points[i * d], points[i * d + 1]]).collect();
        let mut epochs = 0;
        let map = tsne_map(&points, d, &near, &init, &mut |_| epochs += 1).unwrap();
        assert_eq!(epochs, EPOCHS);
        let s = super::super::neighbours::silhouette(&map, &labels).unwrap();
        assert!(s > 0.7, "silhouette {s}");
        let again = tsne_map(&points, d, &near, &init, &mut |_| {}).unwrap();
        let moved = map
            .iter()
            .zip(&again)
            .map(|(a, b)| (a[0] - b[0]).abs() + (a[1] - b[1]).abs())
            .fold(0.0f32, f32::max);
        assert_eq!(moved, 0.0);
        assert!(tsne_map(&points[..50], d, &near[..5], &init[..5], &mut |_| {}).is_err());
    }
}
