//! Depthwise 1-D convolution with bias, and the batch statistics of a
//! temporal convolution computed from its input.
//!
//! Together they let EEGNet's first block (temporal convolution, batch
//! norm, depthwise spatial convolution) run on `F1·D` spatially filtered
//! signals instead of `F1·C` temporally filtered ones (see
//! `model::eegnet`): the three layers are linear per temporal filter, so the
//! spatial filter can be applied first, and the batch-norm statistics of
//! the temporal convolution's output follow from the mean and covariance
//! of the input's `K`-sample windows.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, bail};

use super::{is_cpu_f32, par, slice, tensor, with_f32};

/// Sizes of one depthwise convolution.
#[derive(Debug, Clone, Copy)]
struct Dims {
    rows: usize,
    maps: usize,
    l: usize,
    k: usize,
    pad_left: usize,
    l_pad: usize,
    l_out: usize,
}

impl Dims {
    fn new(x: &[usize], w: &[usize], pad: (usize, usize)) -> Result<Self> {
        let (&[b, j, l], &[jw, k]) = (x, w) else {
            bail!("dwconv: expected x [B, J, L] and w [J, K], got {x:?} and {w:?}")
        };
        let l_pad = l + pad.0 + pad.1;
        if j != jw || k == 0 || l_pad < k {
            bail!("dwconv: x {x:?} and w {w:?} do not fit")
        }
        Ok(Self {
            rows: b * j,
            maps: j,
            l,
            k,
            pad_left: pad.0,
            l_pad,
            l_out: l_pad - k + 1,
        })
    }

    /// Copies one row into `buf` with the zero padding around it.
    fn pad_row(&self, row: &[f32], buf: &mut [f32]) {
        buf.iter_mut().for_each(|v| *v = 0.0);
        buf[self.pad_left..self.pad_left + self.l].copy_from_slice(row);
    }
}

/// `y[b, j, t] = bias[j] + Σ_k w[j, k] · x_padded[b, j, t + k]`.
#[derive(Debug, Clone)]
struct DwConvOp {
    pad: (usize, usize),
}

impl CustomOp3 for DwConvOp {
    fn name(&self) -> &'static str {
        "spindle-dwconv"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = Dims::new(l1.dims(), l2.dims(), self.pad)?;
        let x = slice(s1, l1, "dwconv x")?;
        let w = slice(s2, l2, "dwconv w")?;
        let bias = slice(s3, l3, "dwconv bias")?;
        if bias.len() != d.maps {
            bail!("dwconv: bias of {} values for {} maps", bias.len(), d.maps)
        }
        let mut y = vec![0f32; d.rows * d.l_out];
        par::for_rows_mut(&mut y, d.l_out, 4, |rows, out| {
            let mut buf = vec![0f32; d.l_pad];
            for (r, yr) in rows.zip(out.chunks_exact_mut(d.l_out)) {
                let j = r % d.maps;
                d.pad_row(&x[r * d.l..(r + 1) * d.l], &mut buf);
                yr.iter_mut().for_each(|v| *v = bias[j]);
                for (kk, &wk) in w[j * d.k..(j + 1) * d.k].iter().enumerate() {
                    for (yv, &xv) in yr.iter_mut().zip(&buf[kk..kk + d.l_out]) {
                        *yv += wk * xv;
                    }
                }
            }
        });
        let &[b, j, _] = l1.dims() else {
            bail!("dwconv: bad input rank")
        };
        Ok((CpuStorage::F32(y), Shape::from((b, j, d.l_out))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = Dims::new(x.dims(), w.dims(), self.pad)?;
        let want_dx = x.track_op();
        let ws = w.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let (dx, dw, db) = with_f32(x, |xs| {
            with_f32(grad, |gs| {
                let parts = par::map_ranges(d.rows, 4, |rows| {
                    let mut dw = vec![0f32; d.maps * d.k];
                    let mut db = vec![0f32; d.maps];
                    let mut dx = if want_dx {
                        vec![0f32; rows.len() * d.l]
                    } else {
                        Vec::new()
                    };
                    let mut buf = vec![0f32; d.l_pad];
                    let mut dbuf = vec![0f32; d.l_pad];
                    let r0 = rows.start;
                    for r in rows {
                        let j = r % d.maps;
                        let dy = &gs[r * d.l_out..(r + 1) * d.l_out];
                        d.pad_row(&xs[r * d.l..(r + 1) * d.l], &mut buf);
                        db[j] += dy.iter().sum::<f32>();
                        for kk in 0..d.k {
                            dw[j * d.k + kk] += dot(dy, &buf[kk..kk + d.l_out]);
                        }
                        if want_dx {
                            dbuf.iter_mut().for_each(|v| *v = 0.0);
                            for (kk, &wk) in ws[j * d.k..(j + 1) * d.k].iter().enumerate() {
                                for (g, &dv) in dbuf[kk..kk + d.l_out].iter_mut().zip(dy) {
                                    *g += wk * dv;
                                }
                            }
                            dx[(r - r0) * d.l..(r - r0 + 1) * d.l]
                                .copy_from_slice(&dbuf[d.pad_left..d.pad_left + d.l]);
                        }
                    }
                    (dx, dw, db)
                });
                let mut dx = Vec::with_capacity(if want_dx { d.rows * d.l } else { 0 });
                let mut dw = vec![0f32; d.maps * d.k];
                let mut db = vec![0f32; d.maps];
                for (px, pw, pb) in parts {
                    dx.extend_from_slice(&px);
                    dw.iter_mut().zip(pw).for_each(|(a, b)| *a += b);
                    db.iter_mut().zip(pb).for_each(|(a, b)| *a += b);
                }
                Ok((dx, dw, db))
            })
        })?;
        let dx = if want_dx {
            Some(tensor(dx, x.dims())?)
        } else {
            None
        };
        let db = if bias.track_op() {
            Some(tensor(db, &[d.maps])?)
        } else {
            None
        };
        Ok((dx, Some(tensor(dw, w.dims())?), db))
    }
}

/// Dot product with 16 independent lanes (vectorizes without fast-math).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let ca = a.chunks_exact(16);
    let cb = b.chunks_exact(16);
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Depthwise convolution of `x` `[B, J, L]` with `w` `[J, K]` and `bias`
/// `[J]`, after `pad = (left, right)` zeros: `[B, J, L + left + right - K + 1]`.
pub fn dwconv(x: &Tensor, w: &Tensor, bias: &Tensor, pad: (usize, usize)) -> Result<Tensor> {
    if is_cpu_f32(x) && is_cpu_f32(w) && is_cpu_f32(bias) {
        return x
            .contiguous()?
            .apply_op3(&w.contiguous()?, &bias.contiguous()?, DwConvOp { pad });
    }
    dwconv_reference(x, w, bias, pad)
}

/// [`dwconv`] from candle's ops (a grouped `conv1d`).
pub fn dwconv_reference(
    x: &Tensor,
    w: &Tensor,
    bias: &Tensor,
    pad: (usize, usize),
) -> Result<Tensor> {
    let j = w.dim(0)?;
    x.pad_with_zeros(2, pad.0, pad.1)?
        .conv1d(&w.unsqueeze(1)?, 0, 1, 1, j)?
        .broadcast_add(&bias.reshape((1, j, 1))?)
}

/// Window statistics of `x` `[B, C, L]` (zero-padded by `pad`) for a
/// `K`-tap convolution with output length `L' = L + pad - K + 1`:
/// `mean[k]` = mean of `x_pad[t + k]` and `cov[k][k']` = covariance of
/// `x_pad[t + k]` and `x_pad[t + k']`, over all rows and `t < L'`.
///
/// The batch mean of `y = w ⋆ x` is then `w · mean` and its (biased)
/// variance `wᵀ · cov · w`. Sums are accumulated in f64.
pub fn window_stats(x: &Tensor, k: usize, pad: (usize, usize)) -> Result<(Vec<f64>, Vec<f64>)> {
    let (b, c, l) = x.dims3()?;
    let l_pad = l + pad.0 + pad.1;
    if l_pad < k || k == 0 {
        bail!("window_stats: {l} samples are too short for kernel {k}")
    }
    let l_out = l_pad - k + 1;
    let rows = b * c;
    let x = x
        .to_dtype(candle_core::DType::F32)?
        .to_device(&candle_core::Device::Cpu)?;
    let parts = with_f32(&x, |xs| {
        Ok(par::map_ranges(rows, 8, |range| {
            let mut sums = vec![0f64; k];
            let mut prods = vec![0f64; k * k];
            let mut buf = vec![0f32; l_pad];
            for r in range {
                buf.iter_mut().for_each(|v| *v = 0.0);
                buf[pad.0..pad.0 + l].copy_from_slice(&xs[r * l..(r + 1) * l]);
                let mut s: f64 = buf[..l_out].iter().map(|&v| v as f64).sum();
                for (kk, sum) in sums.iter_mut().enumerate() {
                    *sum += s;
                    if kk + l_out < l_pad {
                        s += buf[kk + l_out] as f64 - buf[kk] as f64;
                    }
                }
                for lag in 0..k {
                    let mut wsum = dot(&buf[..l_out], &buf[lag..lag + l_out]) as f64;
                    for kk in 0..k - lag {
                        prods[kk * k + kk + lag] += wsum;
                        let next = kk + l_out;
                        if next + lag < l_pad {
                            wsum += buf[next] as f64 * buf[next + lag] as f64
                                - buf[kk] as f64 * buf[kk + lag] as f64;
                        }
                    }
                }
            }
            (sums, prods)
        }))
    })?;
    let n = (rows * l_out) as f64;
    let mut mean = vec![0f64; k];
    let mut cov = vec![0f64; k * k];
    for (s, p) in parts {
        mean.iter_mut().zip(s).for_each(|(a, b)| *a += b);
        cov.iter_mut().zip(p).for_each(|(a, b)| *a += b);
    }
    mean.iter_mut().for_each(|v| *v /= n);
    for i in 0..k {
        for j in i..k {
            let v = cov[i * k + j] / n - mean[i] * mean[j];
            cov[i * k + j] = v;
            cov[j * k + i] = v;
        }
    }
    Ok((mean, cov))
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_op;
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn dwconv_matches_reference_and_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        for &(b, j, l, k, pad) in &[
            (2, 3, 40, 8, (4, 4)),
            (3, 2, 20, 5, (0, 0)),
            (1, 4, 33, 16, (8, 8)),
        ] {
            let x = Var::randn(0f32, 1., (b, j, l), &dev)?;
            let w = Var::randn(0f32, 0.5, (j, k), &dev)?;
            let bias = Var::randn(0f32, 0.5, j, &dev)?;
            check_op(
                &[x, w, bias],
                |v| dwconv(&v[0], &v[1], &v[2], pad),
                |v| dwconv_reference(&v[0], &v[1], &v[2], pad),
            )?;
        }
        Ok(())
    }

    #[test]
    fn window_stats_give_the_convolution_output_statistics() -> Result<()> {
        let dev = Device::Cpu;
        let (b, c, l, k, pad) = (3, 2, 50, 6, (3, 3));
        let x = (Tensor::randn(0f32, 1., (b, c, l), &dev)? + 0.7)?;
        let (mean, cov) = window_stats(&x, k, pad)?;
        let w: Vec<f32> = (0..k).map(|i| (i as f32 * 0.37).sin()).collect();
        let wt = Tensor::from_vec(w.clone(), (1, 1, k), &dev)?;
        let y = x
            .reshape((b * c, 1, l))?
            .pad_with_zeros(2, pad.0, pad.1)?
            .conv1d(&wt, 0, 1, 1, 1)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let n = y.len() as f64;
        let my = y.iter().map(|&v| v as f64).sum::<f64>() / n;
        let vy = y.iter().map(|&v| (v as f64 - my).powi(2)).sum::<f64>() / n;
        let m: f64 = (0..k).map(|i| w[i] as f64 * mean[i]).sum();
        let v: f64 = (0..k)
            .flat_map(|i| (0..k).map(move |j| (i, j)))
            .map(|(i, j)| w[i] as f64 * w[j] as f64 * cov[i * k + j])
            .sum();
        assert!((m - my).abs() < 1e-5, "{m} vs {my}");
        assert!((v - vy).abs() < 1e-5 * vy, "{v} vs {vy}");
        Ok(())
    }
}
