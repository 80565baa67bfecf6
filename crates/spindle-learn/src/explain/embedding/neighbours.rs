//! Distances between windows: each window's nearest neighbours, the
//! silhouette score of a labeled map, and the windows whose neighbours
//! mostly carry another label ("check these labels").

/// A neighbour of a window: its index and squared distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Near {
    /// The neighbour's window index.
    pub index: usize,
    /// Euclidean distance.
    pub distance: f32,
}

/// The `k` nearest other rows of each of the `n` rows of `points`
/// (`[n, d]`), nearest first, ties by index; `tick` is called every 64 rows
/// and stops the search when it fails.
pub(crate) fn nearest<E>(
    points: &[f32],
    n: usize,
    d: usize,
    k: usize,
    tick: &mut dyn FnMut(usize) -> Result<(), E>,
) -> Result<Vec<Vec<Near>>, E> {
    let k = k.min(n.saturating_sub(1));
    let mut out = Vec::with_capacity(n);
    let mut row: Vec<(f32, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        if i % 64 == 0 {
            tick(i)?;
        }
        let a = &points[i * d..(i + 1) * d];
        row.clear();
        for j in (0..n).filter(|&j| j != i) {
            let b = &points[j * d..(j + 1) * d];
            let d2: f32 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
            row.push((d2, j));
        }
        let cmp = |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if k < row.len() {
            row.select_nth_unstable_by(k, cmp);
            row.truncate(k);
        }
        row.sort_by(cmp);
        out.push(
            row.iter()
                .map(|&(d2, index)| Near {
                    index,
                    distance: d2.max(0.0).sqrt(),
                })
                .collect(),
        );
    }
    tick(n)?;
    Ok(out)
}

/// The mean silhouette of 2-D points labeled `labels`: for each point, `(b
/// - a) / max(a, b)` with `a` its mean distance to the rest of its class and
/// `b` the smallest mean distance to another class (0 for a point alone in
/// its class). `None` with fewer than two classes.
pub fn silhouette(points: &[[f32; 2]], labels: &[usize]) -> Option<f64> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut count = vec![0usize; classes];
    labels.iter().for_each(|&c| count[c] += 1);
    if count.iter().filter(|&&c| c > 0).count() < 2 || points.len() != labels.len() {
        return None;
    }
    let mut total = 0.0f64;
    let mut sums = vec![0.0f64; classes];
    for (i, p) in points.iter().enumerate() {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for (q, &c) in points.iter().zip(labels) {
            let dx = f64::from(p[0] - q[0]);
            let dy = f64::from(p[1] - q[1]);
            sums[c] += dx.hypot(dy);
        }
        let own = labels[i];
        if count[own] < 2 {
            continue;
        }
        let a = sums[own] / (count[own] - 1) as f64;
        let b = (0..classes)
            .filter(|&c| c != own && count[c] > 0)
            .map(|c| sums[c] / count[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Some(total / points.len() as f64)
}

/// A window whose nearest neighbours mostly carry another label.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Suspect {
    /// The window's index in the embedding.
    pub window: usize,
    /// How many of its neighbours carry another label.
    pub others: usize,
    /// Its neighbours counted.
    pub neighbours: usize,
    /// The label most of its neighbours carry (class index).
    pub neighbours_label: usize,
}

/// The windows (class `labels[i]`) of which more than half of the
/// `neighbours[i]` carry another label, the most outvoted first (ties by
/// window).
pub(crate) fn suspects(labels: &[usize], neighbours: &[Vec<Near>]) -> Vec<Suspect> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut out = Vec::new();
    for (i, near) in neighbours.iter().enumerate() {
        let mut votes = vec![0usize; classes];
        near.iter().for_each(|n| votes[labels[n.index]] += 1);
        let others = near.len() - votes[labels[i]];
        if near.is_empty() || 2 * others <= near.len() {
            continue;
        }
        let neighbours_label = (0..classes)
            .filter(|&c| c != labels[i])
            .max_by(|&a, &b| votes[a].cmp(&votes[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        out.push(Suspect {
            window: i,
            others,
            neighbours: near.len(),
            neighbours_label,
        });
    }
    out.sort_by(|a, b| b.others.cmp(&a.others).then(a.window.cmp(&b.window)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_stop(_: usize) -> Result<(), ()> {
        Ok(())
    }

    #[test]
    fn apart_classes_score_near_one_and_mixed_ones_near_zero() {
        let mut apart = Vec::new();
        let mut labels = Vec::new();
        for i in 0..20 {
            let c = i % 2;
            apart.push([c as f32 * 100.0 + (i as f32 * 0.37).sin(), (i as f32).cos()]);
            labels.push(c);
        }
        let s = silhouette(&apart, &labels).unwrap();
        assert!(s > 0.95, "{s}");
        let mixed: Vec<[f32; 2]> = (0..20)
            .map(|i| [(i as f32 * 0.37).sin(), (i as f32 * 1.3).cos()])
            .collect();
        let s = silhouette(&mixed, &labels).unwrap();
        assert!(s.abs() < 0.2, "{s}");
        assert_eq!(silhouette(&apart, &[0; 20]), None);
    }

    #[test]
    fn a_point_inside_the_other_cluster_is_a_suspect() {
        // Two clusters on a line; window 3 is labeled 0 but sits among 1s.
        let xs = [0.0f32, 0.1, 0.2, 10.0, 0.3, 10.1, 10.2, 10.3, 10.4, 0.4];
        let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 0];
        let near = nearest(&xs, xs.len(), 1, 4, &mut no_stop).unwrap();
        assert_eq!(near[0][0].index, 1);
        assert!((near[0][0].distance - 0.1).abs() < 1e-6);
        let found = suspects(&labels, &near);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0],
            Suspect {
                window: 3,
                others: 4,
                neighbours: 4,
                neighbours_label: 1
            }
        );
    }
}
