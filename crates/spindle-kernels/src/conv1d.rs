//! Strided, zero-padded 1-D convolution with bias:
//! `[B, Cin, L] * [Cout, Cin, K] + [Cout] -> [B, Cout, (L + pl + pr - K) / s + 1]`.
//!
//! Forward, per batch item: `y = W · col`, with the columns
//! `col[(ci, k), t] = x[ci, t * s + k - pl]` packed for the GEMM straight
//! from the input (no im2col buffer; a run of samples per packed row) and
//! the output written in place, row by row. With one input channel and no
//! left padding (M5's first layer: kernel 80, stride 16 over raw audio)
//! the columns are a strided view of the input itself
//! (`col[k, t] = x[t * s + k]`) and the product runs transposed on that
//! view. Batch items are split over the threads.
//!
//! Backward: the weight gradient per input channel `dWᵀ[ci] += X_ci · dyᵀ`,
//! where `X_ci[k, t] = x_pad[ci, k + t * s]` is a strided view of the
//! (padded) input, so no columns are built at all; the bias gradient from
//! the same pass; both as per-thread partial sums. The input gradient
//! (`col2im(Wᵀ · dy)`, rows added back as runs of samples) only when the
//! input takes part in the graph — not for the raw data of a first layer.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, bail};

use super::gemm::{MatMut, MatRef, PackedB, copy_run, gemm_packed};
use super::isa::Isa;
use super::{is_cpu_f32, par, slice, tensor, with_f32};

/// Sizes of one convolution.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    cin: usize,
    l: usize,
    cout: usize,
    k: usize,
    stride: usize,
    pad_left: usize,
    l_out: usize,
}

impl Dims {
    fn new(x: &[usize], w: &[usize], stride: usize, pad: (usize, usize)) -> Result<Self> {
        let (&[b, cin, l], &[cout, cin_w, k]) = (x, w) else {
            bail!("conv1d: expected x [B, Cin, L] and w [Cout, Cin, K], got {x:?} and {w:?}")
        };
        if cin != cin_w || k == 0 || stride == 0 {
            bail!("conv1d: x {x:?} and w {w:?} do not fit (stride {stride})")
        }
        let padded = l + pad.0 + pad.1;
        if padded < k {
            bail!("conv1d: input of {l} samples is shorter than the kernel ({k})")
        }
        Ok(Self {
            b,
            cin,
            l,
            cout,
            k,
            stride,
            pad_left: pad.0,
            l_out: (padded - k) / stride + 1,
        })
    }

    fn ck(&self) -> usize {
        self.cin * self.k
    }

    /// Samples per channel that every window reads, left padding included.
    fn span(&self) -> usize {
        (self.l_out - 1) * self.stride + self.k
    }

    /// Whether every window lies inside the unpadded samples.
    fn unpadded(&self) -> bool {
        self.pad_left == 0 && self.span() <= self.l
    }

    /// Whether the columns are a view of the input (one channel, every
    /// window inside the unpadded samples).
    fn direct(&self) -> bool {
        self.cin == 1 && self.unpadded()
    }

    /// The range of `j` for which sample `base + j * s` lies in `0..l`,
    /// within `0..w` (no division for stride 1: this runs for every packed
    /// row, and an integer division there took a tenth of a sleep-stager step).
    #[inline(always)]
    fn inside(&self, base: isize, w: usize) -> (usize, usize) {
        let (s, l) = (self.stride as isize, self.l as isize);
        let (lo, hi) = if s == 1 {
            ((-base).max(0), l - base)
        } else {
            let lo = if base < 0 { (-base + s - 1) / s } else { 0 };
            let hi = if base >= l { 0 } else { (l - base + s - 1) / s };
            (lo, hi)
        };
        let lo = (lo.max(0) as usize).min(w);
        (lo, (hi.max(0) as usize).clamp(lo, w))
    }

    /// Where each row `p = (ci, k)` of the columns starts in an item's
    /// padded input (see [`Self::padded`]) of `row` samples per channel:
    /// `ci * row + k` (a table, so that packing a row divides nothing).
    fn col_starts(&self, row: usize) -> Vec<usize> {
        (0..self.ck())
            .map(|p| (p / self.k) * row + p % self.k)
            .collect()
    }

    /// Row `p` of one item's columns from column `j0`, `start` its entry of
    /// [`Self::col_starts`]: `dst[j] = x_pad[start + (j0 + j) * s]`. Every
    /// window lies inside the padded input, so nothing is checked per value.
    #[inline(always)]
    fn fill_cols(&self, xp: &[f32], start: usize, j0: usize, dst: &mut [f32]) {
        let base = start + j0 * self.stride;
        if self.stride == 1 {
            copy_run(dst, &xp[base..base + dst.len()]);
        } else {
            let src = xp[base..].iter().step_by(self.stride);
            for (d, &v) in dst.iter_mut().zip(src) {
                *d = v;
            }
        }
    }

    /// col2im of one row `p = (ci, k)` of the columns' gradient: adds
    /// `drow[t]` to `dx[ci, t * s + k - pl]` where that is a sample.
    #[inline(always)]
    fn add_col_row(&self, drow: &[f32], p: usize, dx: &mut [f32]) {
        let (ci, kk) = (p / self.k, p % self.k);
        let dr = &mut dx[ci * self.l..(ci + 1) * self.l];
        let base = kk as isize - self.pad_left as isize;
        let (lo, hi) = self.inside(base, drow.len());
        if lo >= hi {
            return;
        }
        let first = (base + (lo * self.stride) as isize) as usize;
        if self.stride == 1 {
            for (d, &g) in dr[first..first + hi - lo].iter_mut().zip(&drow[lo..hi]) {
                *d += g;
            }
        } else {
            for (d, &g) in dr[first..]
                .iter_mut()
                .step_by(self.stride)
                .zip(&drow[lo..hi])
            {
                *d += g;
            }
        }
    }

    /// Samples per channel of [`Self::padded`].
    fn padded_row(&self) -> usize {
        if self.unpadded() {
            self.l
        } else {
            self.span().max(self.pad_left + self.l)
        }
    }

    /// One item's input as `[Cin, row]` samples in which every window lies
    /// (`pl` zeros first, zeros after): `x` itself when no padding is
    /// needed, else a copy in `buf`. Returns the samples and `row`.
    fn padded<'a>(&self, x: &'a [f32], buf: &'a mut Vec<f32>) -> (&'a [f32], usize) {
        let row = self.padded_row();
        if self.unpadded() {
            return (x, row);
        }
        buf.clear();
        buf.resize(self.cin * row, 0.0);
        for (dst, src) in buf.chunks_exact_mut(row).zip(x.chunks_exact(self.l)) {
            dst[self.pad_left..self.pad_left + self.l].copy_from_slice(src);
        }
        (buf, row)
    }
}

/// `Σ` of a row with 8 independent lanes (vectorizes).
fn row_sum(r: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = r.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for ch in chunks {
        for j in 0..8 {
            acc[j] += ch[j];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Adds `bias[o]` to row `o` (of `len` values) of one item's output.
fn add_bias(y: &mut [f32], bias: &[f32], len: usize) {
    for (row, &bv) in y.chunks_exact_mut(len).zip(bias) {
        row.iter_mut().for_each(|v| *v += bv);
    }
}

/// Records the first error of the threads.
fn keep_first(slot: &std::sync::Mutex<Result<()>>, r: Result<()>) {
    if let Err(e) = r
        && let Ok(mut s) = slot.lock()
        && s.is_ok()
    {
        *s = Err(e);
    }
}

/// The first error the threads recorded.
fn first_error(slot: std::sync::Mutex<Result<()>>) -> Result<()> {
    slot.into_inner()
        .map_err(|_| candle_core::Error::Msg("conv1d: poisoned".into()))?
}

/// The custom op; see the module documentation.
#[derive(Debug, Clone)]
struct Conv1dOp {
    stride: usize,
    pad: (usize, usize),
    isa: Isa,
}

impl CustomOp3 for Conv1dOp {
    fn name(&self) -> &'static str {
        "spindle-conv1d"
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
        let d = Dims::new(l1.dims(), l2.dims(), self.stride, self.pad)?;
        let (x, w, bias) = (
            slice(s1, l1, "conv1d x")?,
            slice(s2, l2, "conv1d w")?,
            slice(s3, l3, "conv1d bias")?,
        );
        if bias.len() != d.cout {
            bail!(
                "conv1d: bias of {} values for {} filters",
                bias.len(),
                d.cout
            )
        }
        let mut y = vec![0f32; d.b * d.cout * d.l_out];
        let (item_in, item) = (d.cin * d.l, d.cout * d.l_out);
        let result = std::sync::Mutex::new(Ok(()));
        if d.direct() {
            // yᵀ [L', Cout] = colᵀ · Wᵀ on the strided view, stored transposed.
            let wt = PackedB::with_isa(d.ck(), d.cout, MatRef::row_major(w, d.ck()).t(), self.isa)?;
            par::for_rows_mut(&mut y, item, 1, |items, out| {
                for (i, bi) in items.enumerate() {
                    let cols = MatRef::new(&x[bi * item_in..(bi + 1) * item_in], 1, d.stride);
                    let yb = &mut out[i * item..(i + 1) * item];
                    let r = gemm_packed(d.l_out, cols.t(), &wt, MatMut::new(yb, 1, d.l_out), false);
                    keep_first(&result, r);
                    add_bias(yb, bias, d.l_out);
                }
            });
        } else {
            // y [Cout, L'] = W · col, the columns packed from the input.
            let starts = d.col_starts(d.padded_row());
            par::for_rows_mut(&mut y, item, 1, |items, out| {
                let (mut reuse, mut buf) = (Vec::new(), Vec::new());
                for (i, bi) in items.enumerate() {
                    let (xp, _) = d.padded(&x[bi * item_in..(bi + 1) * item_in], &mut buf);
                    let cols =
                        PackedB::from_rows(d.ck(), d.l_out, self.isa, reuse, |p, j0, dst| {
                            d.fill_cols(xp, starts[p], j0, dst)
                        });
                    let yb = MatMut::row_major(&mut out[i * item..(i + 1) * item], d.l_out);
                    keep_first(
                        &result,
                        gemm_packed(d.cout, MatRef::row_major(w, d.ck()), &cols, yb, false),
                    );
                    reuse = cols.into_data();
                    add_bias(&mut out[i * item..(i + 1) * item], bias, d.l_out);
                }
            });
        }
        first_error(result)?;
        Ok((CpuStorage::F32(y), Shape::from((d.b, d.cout, d.l_out))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = Dims::new(x.dims(), w.dims(), self.stride, self.pad)?;
        let (ck, cout) = (d.ck(), d.cout);
        with_f32(x, |xs| {
            with_f32(grad, |gs| {
                let mut dw = vec![0f32; cout * ck];
                let mut db = vec![0f32; cout];
                for part in par::map_ranges(d.b, 1, |items| self.weight_grads(&d, xs, gs, items)) {
                    let (pw, pb) = part?;
                    dw.iter_mut().zip(pw).for_each(|(a, v)| *a += v);
                    db.iter_mut().zip(pb).for_each(|(a, v)| *a += v);
                }
                if !d.direct() {
                    // The partial sums are dWᵀ [Cin*K, Cout].
                    let mut t = vec![0f32; cout * ck];
                    for (p, row) in dw.chunks_exact(cout).enumerate() {
                        for (o, &v) in row.iter().enumerate() {
                            t[o * ck + p] = v;
                        }
                    }
                    dw = t;
                }
                let dw = tensor(dw, w.dims())?;
                let db = if bias.track_op() {
                    Some(tensor(db, &[cout])?)
                } else {
                    None
                };
                let dx = if x.track_op() {
                    Some(self.input_grad(&d, w, gs)?)
                } else {
                    None
                };
                Ok((dx, Some(dw), db))
            })
        })
    }
}

impl Conv1dOp {
    /// The weight and bias gradients of the batch items `items`: `dW`
    /// `[Cout, Cin*K]` for a direct convolution, else `dWᵀ` `[Cin*K, Cout]`;
    /// and `db` `[Cout]`.
    fn weight_grads(
        &self,
        d: &Dims,
        xs: &[f32],
        gs: &[f32],
        items: std::ops::Range<usize>,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let (ck, lo, cout, k) = (d.ck(), d.l_out, d.cout, d.k);
        let (item_in, item_out) = (d.cin * d.l, cout * lo);
        let mut dw = vec![0f32; cout * ck];
        let mut db = vec![0f32; cout];
        let mut buf = Vec::new();
        let mut reuse = Vec::new();
        for bi in items {
            let xi = &xs[bi * item_in..(bi + 1) * item_in];
            let gi = &gs[bi * item_out..(bi + 1) * item_out];
            for (acc, row) in db.iter_mut().zip(gi.chunks_exact(lo)) {
                *acc += row_sum(row);
            }
            let dy = MatRef::row_major(gi, lo);
            if d.direct() {
                // dW += dy · colᵀ: colᵀ's rows are runs of the input, so
                // packing it is a plain copy.
                let cols = MatRef::new(xi, 1, d.stride);
                let packed = PackedB::reusing(lo, ck, cols.t(), self.isa, reuse)?;
                gemm_packed(cout, dy, &packed, MatMut::row_major(&mut dw, ck), true)?;
                reuse = packed.into_data();
            } else {
                // dWᵀ[ci] += X_ci · dyᵀ with X_ci[k, t] = x_pad[ci, k + t * s].
                let dyt = PackedB::reusing(lo, cout, dy.t(), self.isa, reuse)?;
                let (xp, row) = d.padded(xi, &mut buf);
                for ci in 0..d.cin {
                    let view = MatRef::new(&xp[ci * row..], 1, d.stride);
                    let out = MatMut::row_major(&mut dw[ci * k * cout..(ci + 1) * k * cout], cout);
                    gemm_packed(k, view, &dyt, out, true)?;
                }
                reuse = dyt.into_data();
            }
        }
        Ok((dw, db))
    }

    /// `dx = col2im(Wᵀ · dy)` per item.
    fn input_grad(&self, d: &Dims, w: &Tensor, gs: &[f32]) -> Result<Tensor> {
        let (ck, lo) = (d.ck(), d.l_out);
        let item_out = d.cout * lo;
        let mut dx = vec![0f32; d.b * d.cin * d.l];
        with_f32(w, |ws| {
            let result = std::sync::Mutex::new(Ok(()));
            par::for_rows_mut(&mut dx, d.cin * d.l, 1, |items, out| {
                let mut dcol = vec![0f32; ck * lo];
                let mut reuse = Vec::new();
                for (i, bi) in items.enumerate() {
                    let dy = MatRef::row_major(&gs[bi * item_out..(bi + 1) * item_out], lo);
                    let r = PackedB::reusing(d.cout, lo, dy, self.isa, std::mem::take(&mut reuse))
                        .and_then(|packed| {
                            let wt = MatRef::row_major(ws, ck).t();
                            let r = gemm_packed(
                                ck,
                                wt,
                                &packed,
                                MatMut::row_major(&mut dcol, lo),
                                false,
                            );
                            reuse = packed.into_data();
                            r
                        });
                    keep_first(&result, r);
                    let dxi = &mut out[i * d.cin * d.l..(i + 1) * d.cin * d.l];
                    for (p, drow) in dcol.chunks_exact(lo).enumerate() {
                        d.add_col_row(drow, p, dxi);
                    }
                }
            });
            first_error(result)
        })?;
        tensor(dx, &[d.b, d.cin, d.l])
    }
}

/// 1-D convolution of `x` `[B, Cin, L]` with `w` `[Cout, Cin, K]`, optional
/// `bias` `[Cout]`, `stride`, and `pad = (left, right)` zeros, as PyTorch's
/// `conv1d` (trailing samples that do not fill a stride are dropped).
///
/// CPU f32: the custom op. Elsewhere: candle's `conv1d` on an explicitly
/// padded and cropped input (its fast backward path).
pub fn conv1d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    pad: (usize, usize),
) -> Result<Tensor> {
    conv1d_with(x, w, bias, stride, pad, Isa::best())
}

/// [`conv1d`] with the instruction set `isa`.
fn conv1d_with(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    pad: (usize, usize),
    isa: Isa,
) -> Result<Tensor> {
    if is_cpu_f32(x) && is_cpu_f32(w) {
        let bias = match bias {
            Some(b) => b.contiguous()?,
            None => Tensor::zeros(w.dim(0)?, w.dtype(), w.device())?,
        };
        return x.contiguous()?.apply_op3(
            &w.contiguous()?,
            &bias,
            Conv1dOp {
                stride: stride.max(1),
                pad,
                isa,
            },
        );
    }
    conv1d_reference(x, w, bias, stride, pad)
}

/// [`conv1d`] from candle's ops.
pub fn conv1d_reference(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    pad: (usize, usize),
) -> Result<Tensor> {
    let stride = stride.max(1);
    let kernel = w.dim(2)?;
    let x = if pad.0 + pad.1 > 0 {
        x.pad_with_zeros(2, pad.0, pad.1)?
    } else {
        x.clone()
    };
    let len = x.dim(2)?;
    if len < kernel {
        bail!("conv1d: input of {len} samples is shorter than the kernel ({kernel})")
    }
    let used = (len - kernel) / stride * stride + kernel;
    let x = if used < len { x.narrow(2, 0, used)? } else { x };
    let y = x.conv1d(w, 0, stride, 1, 1)?;
    match bias {
        Some(b) => y.broadcast_add(&b.reshape((1, (), 1))?),
        None => Ok(y),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_op};
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn matches_reference_and_finite_differences() -> Result<()> {
        // (B, Cin, L, Cout, K, stride, pad): one channel read in place (M5's
        // first layer shape, with and without a tail; right padding that
        // some windows need), 'same' padding, tails.
        let cases = [
            (2, 1, 200, 4, 20, 4, (0, 0)),
            (2, 1, 411, 5, 80, 16, (0, 0)),
            (2, 1, 203, 3, 20, 4, (0, 3)),
            (2, 1, 50, 3, 5, 2, (2, 0)),
            (3, 2, 37, 3, 3, 1, (1, 1)),
            (2, 3, 30, 5, 8, 3, (4, 3)),
            (1, 4, 25, 2, 25, 1, (0, 0)),
            // Deep4's shapes in small: many filters, no padding, a tail.
            (2, 7, 60, 25, 10, 1, (0, 0)),
            // 'same' padding wider than a stride, padding past the end.
            (2, 3, 41, 6, 7, 2, (5, 6)),
        ];
        for isa in Isa::available() {
            for &(b, cin, l, cout, k, s, pad) in &cases {
                let dev = Device::Cpu;
                let x = Var::randn(0f32, 1., (b, cin, l), &dev)?;
                let w = Var::randn(0f32, 0.3, (cout, cin, k), &dev)?;
                let bias = Var::randn(0f32, 0.3, cout, &dev)?;
                let fast = |v: &[Tensor]| conv1d_with(&v[0], &v[1], Some(&v[2]), s, pad, isa);
                let reference = |v: &[Tensor]| unfold_reference(&v[0], &v[1], &v[2], s, pad);
                check_op(&[x, w, bias], fast, reference).map_err(|e| {
                    e.context(format!("{isa:?} {b} {cin} {l} {cout} {k} {s} {pad:?}"))
                })?;
            }
        }
        Ok(())
    }

    /// candle 0.11.1's `conv1d` backward gives wrong input gradients for
    /// batch items after the first (seen with one input channel, kernel 20,
    /// stride 4; this kernel agrees with the exact sum there). The test
    /// reference is im2col from slices and a matrix product instead.
    fn unfold_reference(
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        s: usize,
        pad: (usize, usize),
    ) -> Result<Tensor> {
        let (bs, cin, _) = x.dims3()?;
        let (cout, _, k) = w.dims3()?;
        let xp = x.pad_with_zeros(2, pad.0, pad.1)?;
        let lo = (xp.dim(2)? - k) / s + 1;
        let cols = (0..k)
            .map(|kk| {
                let span = xp.narrow(2, kk, (lo - 1) * s + 1)?;
                span.pad_with_zeros(2, 0, s - 1)?
                    .reshape((bs, cin, lo, s))?
                    .narrow(3, 0, 1)?
                    .squeeze(3)
            })
            .collect::<Result<Vec<_>>>()?;
        let col = Tensor::stack(&cols, 2)?.reshape((bs, cin * k, lo))?;
        w.reshape((1, cout, cin * k))?
            .broadcast_matmul(&col)?
            .broadcast_add(&b.reshape((1, cout, 1))?)
    }

    #[test]
    fn data_input_gets_no_gradient_and_bias_is_optional() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1., (2, 2, 40), &dev)?;
        let w = Var::randn(0f32, 0.3, (3, 2, 5), &dev)?;
        let y = conv1d(&x, w.as_tensor(), None, 2, (2, 2))?;
        let r = conv1d_reference(&x, w.as_tensor(), None, 2, (2, 2))?;
        assert_close(&y, &r, 1e-5)?;
        let grads = y.sqr()?.sum_all()?.backward()?;
        assert!(grads.get(&x).is_none());
        assert!(grads.get(w.as_tensor()).is_some());
        Ok(())
    }
}
