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

use super::isa::{Isa, Level};
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
    isa: Isa,
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
                correlate_add(self.isa, &buf, &w[j * d.k..(j + 1) * d.k], yr);
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
        let w_rev: Vec<Vec<f32>> = ws
            .chunks_exact(d.k)
            .map(|row| row.iter().rev().copied().collect())
            .collect();
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
                    // dy with K - 1 zeros on each side: the input gradient is
                    // dy correlated with the reversed kernel.
                    let mut dy_pad = vec![0f32; d.l_out + 2 * (d.k - 1)];
                    let r0 = rows.start;
                    for r in rows {
                        let j = r % d.maps;
                        let dy = &gs[r * d.l_out..(r + 1) * d.l_out];
                        d.pad_row(&xs[r * d.l..(r + 1) * d.l], &mut buf);
                        db[j] += dy.iter().sum::<f32>();
                        // dw[k] = Σ_t dy[t] · x_pad[t + k]: x_pad correlated with dy.
                        correlate_add(self.isa, &buf, dy, &mut dw[j * d.k..(j + 1) * d.k]);
                        if want_dx {
                            dy_pad[d.k - 1..d.k - 1 + d.l_out].copy_from_slice(dy);
                            let out = &mut dx[(r - r0) * d.l..(r - r0 + 1) * d.l];
                            correlate_add(self.isa, &dy_pad[d.pad_left..], &w_rev[j], out);
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

/// `out[i] += Σ_k filter[k] · src[i + k]` for every `i < out.len()`: the
/// inner loop of the forward pass (`src` the padded row, `filter` the
/// kernel), of the kernel gradient (`filter` the output gradient) and of
/// the input gradient (`src` the padded output gradient, `filter` the
/// reversed kernel).
///
/// # Panics
/// When `src` is shorter than `out.len() + filter.len() - 1`.
fn correlate_add(isa: Isa, src: &[f32], filter: &[f32], out: &mut [f32]) {
    if out.is_empty() || filter.is_empty() {
        return;
    }
    assert!(
        src.len() >= out.len() + filter.len() - 1,
        "correlate_add: {} source values for {} outputs of a {}-tap filter",
        src.len(),
        out.len(),
        filter.len()
    );
    #[cfg(target_arch = "x86_64")]
    if matches!(isa.level(), Level::Avx2 | Level::Avx512) {
        // SAFETY: an `Isa` of level AVX2 or AVX-512 comes from detecting
        // AVX2 and FMA on this CPU, and the length of `src` was checked
        // above.
        unsafe { correlate_add_avx2(src, filter, out) };
        return;
    }
    let _ = isa;
    for (kk, &wk) in filter.iter().enumerate() {
        for (o, &s) in out.iter_mut().zip(&src[kk..]) {
            *o += wk * s;
        }
    }
}

/// [`correlate_add`] with AVX2: up to 64 outputs at a time held in eight
/// registers through the whole filter, so that each multiply-add costs one
/// load of `src` and none of `out`; the last tile of a row is as wide as
/// what is left, its last vector masked.
///
/// # Safety
/// The CPU runs AVX2 and FMA, and `src.len() >= out.len() + filter.len() - 1`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn correlate_add_avx2(src: &[f32], filter: &[f32], out: &mut [f32]) {
    let n = out.len();
    let s = src.as_ptr();
    let o = out.as_mut_ptr();
    let mut i = 0;
    while i + 64 <= n {
        // SAFETY: outputs i..i + 64 lie in `out` and the sources they read
        // (up to i + 63 + filter.len() - 1) in `src`; the CPU runs AVX2.
        unsafe { tile_avx2::<8, false>(s.add(i), filter, o.add(i), 8) };
        i += 64;
    }
    let rest = n - i;
    if rest == 0 {
        return;
    }
    let lanes = rest % 8;
    // SAFETY: as above for outputs i..n; a masked vector reads and writes
    // only its first `lanes` values.
    unsafe {
        let (s, o) = (s.add(i), o.add(i));
        match (rest.div_ceil(8), lanes == 0) {
            (1, true) => tile_avx2::<1, false>(s, filter, o, lanes),
            (2, true) => tile_avx2::<2, false>(s, filter, o, lanes),
            (3, true) => tile_avx2::<3, false>(s, filter, o, lanes),
            (4, true) => tile_avx2::<4, false>(s, filter, o, lanes),
            (5, true) => tile_avx2::<5, false>(s, filter, o, lanes),
            (6, true) => tile_avx2::<6, false>(s, filter, o, lanes),
            (7, true) => tile_avx2::<7, false>(s, filter, o, lanes),
            (1, false) => tile_avx2::<1, true>(s, filter, o, lanes),
            (2, false) => tile_avx2::<2, true>(s, filter, o, lanes),
            (3, false) => tile_avx2::<3, true>(s, filter, o, lanes),
            (4, false) => tile_avx2::<4, true>(s, filter, o, lanes),
            (5, false) => tile_avx2::<5, true>(s, filter, o, lanes),
            (6, false) => tile_avx2::<6, true>(s, filter, o, lanes),
            (7, false) => tile_avx2::<7, true>(s, filter, o, lanes),
            (8, false) => tile_avx2::<8, true>(s, filter, o, lanes),
            _ => unreachable!("a tile has 1 to 8 vectors"),
        }
    }
}

/// One tile of [`correlate_add_avx2`]: `V` vectors of 8 outputs at `o`,
/// the last one limited to its first `lanes` values when `MASKED`.
///
/// # Safety
/// The CPU runs AVX2 and FMA; `o` has `8·V` writable values (`8·(V-1) +
/// lanes` when `MASKED`) and `s` the values those outputs read, plus
/// `filter.len() - 1`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile_avx2<const V: usize, const MASKED: bool>(
    s: *const f32,
    filter: &[f32],
    o: *mut f32,
    lanes: usize,
) {
    use std::arch::x86_64::*;
    let mask = {
        let first = [-1i32, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
        let start = if MASKED { 8 - lanes } else { 0 };
        // SAFETY: start + 8 <= 16 values of `first`.
        unsafe { _mm256_loadu_si256(first.as_ptr().add(start).cast()) }
    };
    // SAFETY: the caller's bounds; the masked vector touches only its first
    // `lanes` values.
    unsafe {
        let load = |p: *const f32, v: usize| {
            if MASKED && v == V - 1 {
                _mm256_maskload_ps(p, mask)
            } else {
                _mm256_loadu_ps(p)
            }
        };
        let mut acc = [_mm256_setzero_ps(); V];
        for (v, a) in acc.iter_mut().enumerate() {
            *a = load(o.add(8 * v), v);
        }
        for (kk, &wk) in filter.iter().enumerate() {
            let wv = _mm256_set1_ps(wk);
            let p = s.add(kk);
            for (v, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(wv, load(p.add(8 * v), v), *a);
            }
        }
        for (v, a) in acc.iter().enumerate() {
            if MASKED && v == V - 1 {
                _mm256_maskstore_ps(o.add(8 * v), mask, *a);
            } else {
                _mm256_storeu_ps(o.add(8 * v), *a);
            }
        }
    }
}

/// Adds the products of every window start `kk < K` and lag to `prods`:
/// `prods[kk·K + kk + lag] += Σ_{t < L'} x[kk + t] · x[kk + t + lag]`, where
/// `wsum[lag]` holds that sum for `kk = 0` on entry. Each window's sums
/// follow from the previous one's by one product in and one out; the lags
/// run in the inner loop, so the f64 sums of all lags advance together
/// (vectors across lags instead of one dependent chain per lag).
fn slide_products(isa: Isa, buf: &[f32], l_out: usize, wsum: &mut [f64], prods: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if matches!(isa.level(), Level::Avx2 | Level::Avx512) {
        /// # Safety
        /// The CPU runs AVX2 and FMA.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2(buf: &[f32], l_out: usize, wsum: &mut [f64], prods: &mut [f64]) {
            slide_products_body(buf, l_out, wsum, prods)
        }
        // SAFETY: an `Isa` of level AVX2 or AVX-512 comes from detecting
        // AVX2 and FMA on this CPU.
        unsafe { avx2(buf, l_out, wsum, prods) };
        return;
    }
    let _ = isa;
    slide_products_body(buf, l_out, wsum, prods)
}

/// The loops of [`slide_products`], compiled into each variant.
#[inline(always)]
fn slide_products_body(buf: &[f32], l_out: usize, wsum: &mut [f64], prods: &mut [f64]) {
    let k = wsum.len();
    for kk in 0..k {
        let lags = k - kk;
        let row = &mut prods[kk * k + kk..(kk + 1) * k];
        row.iter_mut()
            .zip(&wsum[..lags])
            .for_each(|(p, &w)| *p += w);
        if lags > 1 {
            // Window kk + 1 gains x[kk + L'] · x[kk + L' + lag] and loses
            // x[kk] · x[kk + lag] (the lags the next window still uses).
            let (head, tail) = (buf[kk] as f64, buf[kk + l_out] as f64);
            let outs = &buf[kk..kk + lags - 1];
            let ins = &buf[kk + l_out..kk + l_out + lags - 1];
            for ((w, &o), &i) in wsum[..lags - 1].iter_mut().zip(outs).zip(ins) {
                *w += tail * i as f64 - head * o as f64;
            }
        }
    }
}

/// Depthwise convolution of `x` `[B, J, L]` with `w` `[J, K]` and `bias`
/// `[J]`, after `pad = (left, right)` zeros: `[B, J, L + left + right - K + 1]`.
pub fn dwconv(x: &Tensor, w: &Tensor, bias: &Tensor, pad: (usize, usize)) -> Result<Tensor> {
    if is_cpu_f32(x) && is_cpu_f32(w) && is_cpu_f32(bias) {
        return x.contiguous()?.apply_op3(
            &w.contiguous()?,
            &bias.contiguous()?,
            DwConvOp {
                pad,
                isa: Isa::best(),
            },
        );
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
    let isa = Isa::best();
    let parts = with_f32(&x, |xs| {
        Ok(par::map_ranges(rows, 8, |range| {
            let mut sums = vec![0f64; k];
            let mut prods = vec![0f64; k * k];
            let mut buf = vec![0f32; l_pad];
            let mut lag_dots = vec![0f32; k];
            let mut wsum = vec![0f64; k];
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
                // lag_dots[lag] = Σ_{t < L'} x[t] · x[t + lag]: the first
                // window's products at every lag.
                lag_dots.iter_mut().for_each(|v| *v = 0.0);
                correlate_add(isa, &buf, &buf[..l_out], &mut lag_dots);
                wsum.iter_mut()
                    .zip(&lag_dots)
                    .for_each(|(w, &d)| *w = d as f64);
                slide_products(isa, &buf, l_out, &mut wsum, &mut prods);
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
    fn correlate_add_matches_the_plain_sum_on_every_instruction_set() {
        // Lengths around the 64-output tiles and the 8-output vectors.
        for &(n, k) in &[
            (1, 1),
            (7, 3),
            (8, 1),
            (63, 5),
            (64, 128),
            (65, 2),
            (137, 17),
            (511, 128),
        ] {
            let src: Vec<f32> = (0..n + k - 1)
                .map(|i| ((i * 7919) % 97) as f32 / 50.0 - 0.9)
                .collect();
            let filter: Vec<f32> = (0..k).map(|i| (i as f32 * 0.61).cos()).collect();
            let start: Vec<f32> = (0..n).map(|i| i as f32 * 0.01).collect();
            let want: Vec<f64> = (0..n)
                .map(|i| {
                    start[i] as f64
                        + (0..k)
                            .map(|kk| filter[kk] as f64 * src[i + kk] as f64)
                            .sum::<f64>()
                })
                .collect();
            for isa in Isa::available() {
                let mut out = start.clone();
                correlate_add(isa, &src, &filter, &mut out);
                for (i, (&got, &w)) in out.iter().zip(&want).enumerate() {
                    assert!(
                        (got as f64 - w).abs() < 1e-4 * (1.0 + w.abs()),
                        "{isa:?} n {n} k {k} output {i}: {got} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn dwconv_fills_whole_tiles_like_the_reference() -> Result<()> {
        // A row longer than a 64-output tile, the kernel of EEGNet at 256 Hz.
        let dev = Device::Cpu;
        let (b, j, l, k, pad) = (2, 3, 300, 128, (63, 64));
        let x = Var::randn(0f32, 1., (b, j, l), &dev)?;
        let w = Var::randn(0f32, 0.1, (j, k), &dev)?;
        let bias = Var::randn(0f32, 0.5, j, &dev)?;
        let y = dwconv(&x, &w, &bias, pad)?;
        let r = dwconv_reference(&x, &w, &bias, pad)?;
        let diff = (y - &r)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "forward differs by {diff}");
        let g = Tensor::randn(0f32, 1., r.dims(), &dev)?;
        let fast = (dwconv(&x, &w, &bias, pad)? * &g)?.sum_all()?.backward()?;
        let slow = (dwconv_reference(&x, &w, &bias, pad)? * &g)?
            .sum_all()?
            .backward()?;
        for (name, v) in [("x", &x), ("w", &w), ("bias", &bias)] {
            let (a, b) = (fast.get(v).unwrap(), slow.get(v).unwrap());
            let diff = (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?;
            let scale = b.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(
                diff < 1e-4 * (1.0 + scale),
                "gradient of {name} differs by {diff}"
            );
        }
        Ok(())
    }

    #[test]
    fn window_stats_give_the_convolution_output_statistics() -> Result<()> {
        // A small kernel, and EEGNet's at 256 Hz (whole 64-lag tiles).
        for (b, c, l, k, pad) in [(3, 2, 50, 6, (3, 3)), (2, 3, 300, 128, (63, 64))] {
            check_window_stats(b, c, l, k, pad)?;
        }
        Ok(())
    }

    fn check_window_stats(
        b: usize,
        c: usize,
        l: usize,
        k: usize,
        pad: (usize, usize),
    ) -> Result<()> {
        let dev = Device::Cpu;
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
