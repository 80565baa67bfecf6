//! Principal components of many long vectors (windows as they enter the
//! network, or what its penultimate layer makes of them; for the Feature
//! explorer's maps and the live map of training): randomized
//! subspace iteration with a seeded start, the large products on candle's
//! CPU matrix multiply, the small eigenproblem by Jacobi rotations. Each
//! component's sign is fixed (its largest loading positive), so the same
//! data always give the same map.

use candle_core::{Device, Tensor};
use spindle_signals::rng::Rng;

/// Extra directions searched beyond those kept (accuracy of the leading ones).
const OVERSAMPLE: usize = 10;
/// Power iterations of the subspace.
const POWER_ITERATIONS: usize = 4;

/// The first `k` principal component scores of the `n` rows of `data`
/// (`[n, d]` row-major), `[n, k]` row-major in f32, and the share of the
/// total variance each component explains. Fewer than `k` columns are
/// returned (as zeros) when the data have fewer directions.
pub(crate) fn principal_components(
    data: &[f32],
    n: usize,
    d: usize,
    k: usize,
) -> candle_core::Result<(Vec<f32>, Vec<f64>)> {
    if n == 0 || d == 0 || data.len() != n * d {
        return Err(candle_core::Error::Msg(format!(
            "{} values are not {n} rows of {d}",
            data.len()
        )));
    }
    let centered = center(data, n, d);
    let total: f64 = centered.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let l = (k + OVERSAMPLE).min(n).min(d);
    let x = Tensor::from_vec(centered, (n, d), &Device::Cpu)?;
    let xt = x.t()?.contiguous()?;
    let mut rng = Rng::new(0x05ee_d9ca);
    let omega: Vec<f32> = (0..d * l).map(|_| rng.normal() as f32).collect();
    let omega = Tensor::from_vec(omega, (d, l), &Device::Cpu)?;
    let mut y = orthonormal(&x.matmul(&omega)?, n, l)?; // [n, l]
    for _ in 0..POWER_ITERATIONS {
        let z = orthonormal(&xt.matmul(&y)?, d, l)?; // [d, l]
        y = orthonormal(&x.matmul(&z)?, n, l)?;
    }
    // B = Yᵀ X; its rows' Gram matrix B Bᵀ = Zᵀ Z with Z = Xᵀ Y.
    let z: Vec<f32> = xt.matmul(&y)?.flatten_all()?.to_vec1()?; // [d, l]
    let mut gram = vec![0.0f64; l * l];
    for row in z.chunks_exact(l) {
        for a in 0..l {
            for b in a..l {
                gram[a * l + b] += f64::from(row[a]) * f64::from(row[b]);
            }
        }
    }
    for a in 0..l {
        for b in 0..a {
            gram[a * l + b] = gram[b * l + a];
        }
    }
    let (values, vectors) = symmetric_eigen(&gram, l);
    let y: Vec<f32> = y.flatten_all()?.to_vec1()?; // [n, l]
    let mut scores = vec![0.0f32; n * k];
    let mut explained = vec![0.0f64; k];
    for (j, &(lambda, col)) in values.iter().take(k).enumerate() {
        let sigma = lambda.max(0.0).sqrt();
        if sigma <= 1e-12 {
            continue;
        }
        let u: Vec<f64> = (0..l).map(|a| vectors[a * l + col]).collect();
        // The loading's largest entry decides the sign.
        let sign = loading_sign(&z, l, &u);
        for i in 0..n {
            let yu: f64 = (0..l).map(|a| f64::from(y[i * l + a]) * u[a]).sum();
            scores[i * k + j] = (sign * yu * sigma) as f32;
        }
        explained[j] = if total > 0.0 { lambda / total } else { 0.0 };
    }
    Ok((scores, explained))
}

/// `data` with each column's mean removed.
fn center(data: &[f32], n: usize, d: usize) -> Vec<f32> {
    let mut mean = vec![0.0f64; d];
    for row in data.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    data.chunks_exact(d)
        .flat_map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(&v, &m)| (f64::from(v) - m) as f32)
        })
        .collect()
}

/// +1 or -1: the sign that makes the largest-magnitude entry of the
/// loading `Z u` (`z: [d, l]`) positive.
fn loading_sign(z: &[f32], l: usize, u: &[f64]) -> f64 {
    let mut best = 0.0f64;
    for row in z.chunks_exact(l) {
        let v: f64 = row.iter().zip(u).map(|(&a, &b)| f64::from(a) * b).sum();
        if v.abs() > best.abs() {
            best = v;
        }
    }
    if best < 0.0 { -1.0 } else { 1.0 }
}

/// The columns of `m` (`[rows, cols]`) made orthonormal (modified
/// Gram-Schmidt; a column that vanishes stays zero).
fn orthonormal(m: &Tensor, rows: usize, cols: usize) -> candle_core::Result<Tensor> {
    let v: Vec<f32> = m.flatten_all()?.to_vec1()?;
    let mut q: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
    for j in 0..cols {
        for p in 0..j {
            let dot: f64 = (0..rows).map(|i| q[i * cols + j] * q[i * cols + p]).sum();
            for i in 0..rows {
                q[i * cols + j] -= dot * q[i * cols + p];
            }
        }
        let norm = (0..rows)
            .map(|i| q[i * cols + j] * q[i * cols + j])
            .sum::<f64>()
            .sqrt();
        for i in 0..rows {
            q[i * cols + j] = if norm > 1e-20 {
                q[i * cols + j] / norm
            } else {
                0.0
            };
        }
    }
    let q: Vec<f32> = q.into_iter().map(|x| x as f32).collect();
    Tensor::from_vec(q, (rows, cols), &Device::Cpu)
}

/// Eigenvalues of the symmetric `a` (`[l, l]`) with the column of each in
/// the returned eigenvector matrix, largest first (cyclic Jacobi).
fn symmetric_eigen(a: &[f64], l: usize) -> (Vec<(f64, usize)>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0f64; l * l];
    for i in 0..l {
        v[i * l + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..l)
            .flat_map(|p| (0..l).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| m[p * l + q] * m[p * l + q])
            .sum();
        let scale: f64 = (0..l).map(|p| m[p * l + p] * m[p * l + p]).sum();
        if off <= 1e-24 * scale.max(1e-300) {
            break;
        }
        for p in 0..l {
            for q in p + 1..l {
                rotate(&mut m, &mut v, l, p, q);
            }
        }
    }
    let mut values: Vec<(f64, usize)> = (0..l).map(|i| (m[i * l + i], i)).collect();
    values.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    (values, v)
}

/// One Jacobi rotation zeroing `m[p][q]`, accumulated into `v`.
fn rotate(m: &mut [f64], v: &mut [f64], l: usize, p: usize, q: usize) {
    let apq = m[p * l + q];
    if apq.abs() < 1e-300 {
        return;
    }
    let theta = (m[q * l + q] - m[p * l + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta == 0.0 { 1.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..l {
        let (mkp, mkq) = (m[k * l + p], m[k * l + q]);
        m[k * l + p] = c * mkp - s * mkq;
        m[k * l + q] = s * mkp + c * mkq;
    }
    for k in 0..l {
        let (mpk, mqk) = (m[p * l + k], m[q * l + k]);
        m[p * l + k] = c * mpk - s * mqk;
        m[q * l + k] = s * mpk + c * mqk;
    }
    for k in 0..l {
        let (vkp, vkq) = (v[k * l + p], v[k * l + q]);
        v[k * l + p] = c * vkp - s * vkq;
        v[k * l + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_component_follows_the_widest_spread_with_a_fixed_sign() {
        // Points along (3, 4)/5 with a little noise across it, in 5-D.
        let mut rng = Rng::new(3);
        let n = 200;
        let mut data = Vec::new();
        let mut along = Vec::new();
        for _ in 0..n {
            let t = rng.normal() * 10.0;
            let e = rng.normal() * 0.5;
            along.push(t);
            data.extend([
                (0.6 * t - 0.8 * e) as f32,
                (0.8 * t + 0.6 * e) as f32,
                (rng.normal() * 0.1) as f32,
                (rng.normal() * 0.1) as f32,
                7.0,
            ]);
        }
        let (scores, explained) = principal_components(&data, n, 5, 2).unwrap();
        let first: Vec<f64> = scores.chunks(2).map(|r| f64::from(r[0])).collect();
        let mean_t = along.iter().sum::<f64>() / n as f64;
        let corr: f64 = first
            .iter()
            .zip(&along)
            .map(|(s, t)| s * (t - mean_t))
            .sum::<f64>()
            / (first.iter().map(|s| s * s).sum::<f64>().sqrt()
                * along
                    .iter()
                    .map(|t| (t - mean_t).powi(2))
                    .sum::<f64>()
                    .sqrt());
        // Largest loading (on y, 0.8) positive: scores rise with t.
        assert!(corr > 0.999, "{corr}");
        assert!(explained[0] > 0.99 && explained[1] < 0.01, "{explained:?}");
        // The same data give the same map.
        let (again, _) = principal_components(&data, n, 5, 2).unwrap();
        assert_eq!(scores, again);
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        let a = [2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 5.0];
        let (values, _) = symmetric_eigen(&a, 3);
        let got: Vec<f64> = values.iter().map(|v| v.0).collect();
        for (g, e) in got.iter().zip([5.0, 3.0, 1.0]) {
            assert!((g - e).abs() < 1e-9, "{got:?}");
        }
    }
}
