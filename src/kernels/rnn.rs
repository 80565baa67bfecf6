//! A whole LSTM/GRU layer over a sequence as one custom op, with a
//! hand-written backward pass through time.
//!
//! Layout is batch-major: the input projection `xproj = x · W_ihᵀ + b`
//! `[B, T, G·H]` (one large matrix product done by the caller, with its own
//! gradient) goes in, the hidden states `[B, T, H]` come out. The recurrence
//! `h · W_hhᵀ` and the gate math run here, per step, on each thread's share
//! of the batch (batch items are independent, so the threads never
//! synchronize). The forward pass keeps the gate activations; the backward
//! pass walks the steps in reverse, producing the gradient of `xproj`,
//! and then forms `dW_hh` as one product per batch item.
//!
//! Gates follow PyTorch: LSTM `i, f, g, o`; GRU `r, z, n` with
//! `n = tanh(x_n + r ⊙ (W_hn h + b_hn))`, which is why `b_hn` is an input
//! of its own (the other recurrent biases are folded into `xproj`).

use std::ops::Range;
use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, bail};

use super::gemm::{MatMut, MatRef, PackedB, gemm, gemm_packed};
use super::{math, par, slice, tensor, with_f32};

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Long short-term memory (4 gates).
    Lstm,
    /// Gated recurrent unit (3 gates).
    Gru,
}

impl Cell {
    /// Gates per hidden unit.
    pub fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// What the forward pass keeps for the backward pass (batch-major).
#[derive(Debug)]
struct Saved {
    /// Gate activations `[B, T, G·H]`.
    gates: Vec<f32>,
    /// LSTM: cell states `[B, T, H]`; GRU: `W_hn h + b_hn` `[B, T, H]`.
    extra: Vec<f32>,
}

/// The custom op; see the module documentation.
#[derive(Debug)]
struct RnnOp {
    cell: Cell,
    reverse: bool,
    saved: Mutex<Option<Saved>>,
}

/// Sizes of one layer.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    t: usize,
    h: usize,
    g: usize,
}

impl Dims {
    fn gh(&self) -> usize {
        self.g * self.h
    }
    /// Time index of processing step `s`.
    fn time(&self, s: usize, reverse: bool) -> usize {
        if reverse { self.t - 1 - s } else { s }
    }
}

/// Whether the CPU has AVX2 and FMA (detected once).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    })
}

/// Splits `buf` (items of `item` values) along `ranges` of items.
fn split<'a>(mut buf: &'a mut [f32], ranges: &[Range<usize>], item: usize) -> Vec<&'a mut [f32]> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (a, rest) = buf.split_at_mut(r.len() * item);
        out.push(a);
        buf = rest;
    }
    out
}

impl RnnOp {
    fn dims(&self, xproj: &[usize], whh: &[usize]) -> Result<Dims> {
        let (&[b, t, gh], &[gh2, h]) = (xproj, whh) else {
            bail!("rnn: expected xproj [B, T, G*H] and w_hh [G*H, H], got {xproj:?}, {whh:?}")
        };
        let g = self.cell.gates();
        if gh != g * h || gh2 != gh || t == 0 {
            bail!(
                "rnn: xproj {xproj:?} and w_hh {whh:?} do not fit a {:?} layer",
                self.cell
            )
        }
        Ok(Dims { b, t, h, g })
    }

    /// Forward pass over the batch items of one thread, compiled for AVX2 +
    /// FMA when the CPU has them (the gate math then runs 8 lanes wide).
    #[allow(clippy::too_many_arguments)]
    fn forward_rows(
        &self,
        d: Dims,
        xproj: &[f32],
        whh_t: &PackedB,
        bhn: &[f32],
        out: &mut [f32],
        gates: &mut [f32],
        extra: &mut [f32],
    ) -> Result<()> {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: AVX2 and FMA were detected on this CPU.
            return unsafe { self.forward_rows_avx2(d, xproj, whh_t, bhn, out, gates, extra) };
        }
        self.forward_rows_impl(d, xproj, whh_t, bhn, out, gates, extra)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn forward_rows_avx2(
        &self,
        d: Dims,
        xproj: &[f32],
        whh_t: &PackedB,
        bhn: &[f32],
        out: &mut [f32],
        gates: &mut [f32],
        extra: &mut [f32],
    ) -> Result<()> {
        self.forward_rows_impl(d, xproj, whh_t, bhn, out, gates, extra)
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn forward_rows_impl(
        &self,
        d: Dims,
        xproj: &[f32],
        whh_t: &PackedB,
        bhn: &[f32],
        out: &mut [f32],
        gates: &mut [f32],
        extra: &mut [f32],
    ) -> Result<()> {
        let (t_len, h, gh) = (d.t, d.h, d.gh());
        let nb = out.len() / (t_len * h);
        let mut hs = vec![0f32; nb * h];
        let mut cs = vec![0f32; nb * h];
        let mut hp = vec![0f32; nb * gh];
        for s in 0..t_len {
            let t = d.time(s, self.reverse);
            gemm_packed(
                nb,
                MatRef::row_major(&hs, h),
                whh_t,
                MatMut::row_major(&mut hp, gh),
                false,
            )?;
            for i in 0..nb {
                let at = (i * t_len + t) * gh;
                let x = &xproj[at..at + gh];
                let hpi = &hp[i * gh..(i + 1) * gh];
                let gt = &mut gates[at..at + gh];
                let hi = &mut hs[i * h..(i + 1) * h];
                let ex = &mut extra[(i * t_len + t) * h..(i * t_len + t + 1) * h];
                match self.cell {
                    Cell::Lstm => {
                        for (gv, (&xv, &pv)) in gt.iter_mut().zip(x.iter().zip(hpi)) {
                            *gv = xv + pv;
                        }
                        let (ig, rest) = gt.split_at_mut(h);
                        let (fg, rest) = rest.split_at_mut(h);
                        let (gg, og) = rest.split_at_mut(h);
                        let ci = &mut cs[i * h..(i + 1) * h];
                        let (ig, fg, gg, og) =
                            (&mut ig[..h], &mut fg[..h], &mut gg[..h], &mut og[..h]);
                        let (ci, ex, hi) = (&mut ci[..h], &mut ex[..h], &mut hi[..h]);
                        for u in 0..h {
                            ig[u] = math::sigmoid(ig[u]);
                            fg[u] = math::sigmoid(fg[u]);
                            gg[u] = math::tanh(gg[u]);
                            og[u] = math::sigmoid(og[u]);
                        }
                        for u in 0..h {
                            let c = fg[u] * ci[u] + ig[u] * gg[u];
                            ci[u] = c;
                            ex[u] = c;
                            hi[u] = og[u] * math::tanh(c);
                        }
                    }
                    Cell::Gru => {
                        let (rg, rest) = gt.split_at_mut(h);
                        let (zg, ng) = rest.split_at_mut(h);
                        for u in 0..h {
                            let r = math::sigmoid(x[u] + hpi[u]);
                            let z = math::sigmoid(x[h + u] + hpi[h + u]);
                            let hn = hpi[2 * h + u] + bhn[u];
                            let n = math::tanh(x[2 * h + u] + r * hn);
                            rg[u] = r;
                            zg[u] = z;
                            ng[u] = n;
                            ex[u] = hn;
                            hi[u] = n + z * (hi[u] - n);
                        }
                    }
                }
                out[(i * t_len + t) * h..(i * t_len + t + 1) * h].copy_from_slice(hi);
            }
        }
        Ok(())
    }

    /// Backward pass over the batch items of one thread: fills `dx`
    /// (`[nb, T, G·H]`) and returns the partial `dW_hh` and `db_hn`.
    #[allow(clippy::too_many_arguments)]
    fn backward_rows(
        &self,
        d: Dims,
        whh: &PackedB,
        out: &[f32],
        gates: &[f32],
        extra: &[f32],
        dout: &[f32],
        dx: &mut [f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: AVX2 and FMA were detected on this CPU.
            return unsafe { self.backward_rows_avx2(d, whh, out, gates, extra, dout, dx) };
        }
        self.backward_rows_impl(d, whh, out, gates, extra, dout, dx)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn backward_rows_avx2(
        &self,
        d: Dims,
        whh: &PackedB,
        out: &[f32],
        gates: &[f32],
        extra: &[f32],
        dout: &[f32],
        dx: &mut [f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        self.backward_rows_impl(d, whh, out, gates, extra, dout, dx)
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_rows_impl(
        &self,
        d: Dims,
        whh: &PackedB,
        out: &[f32],
        gates: &[f32],
        extra: &[f32],
        dout: &[f32],
        dx: &mut [f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let (t_len, h, gh) = (d.t, d.h, d.gh());
        let nb = out.len() / (t_len * h);
        let mut dh = vec![0f32; nb * h];
        let mut dc = vec![0f32; nb * h];
        let mut dbhn = vec![0f32; h];
        // GRU: the gradient of the recurrent pre-activations differs from dx in the n part.
        let mut dhp = if self.cell == Cell::Gru {
            vec![0f32; nb * t_len * gh]
        } else {
            Vec::new()
        };
        for s in (0..t_len).rev() {
            let t = d.time(s, self.reverse);
            let prev = (s > 0).then(|| d.time(s - 1, self.reverse));
            for i in 0..nb {
                let row = i * t_len;
                let at = (row + t) * gh;
                let gt = &gates[at..at + gh];
                let dgi = &mut dx[at..at + gh];
                let dhi = &mut dh[i * h..(i + 1) * h];
                let dyo = &dout[(row + t) * h..(row + t + 1) * h];
                let zero = [0f32; 0];
                match self.cell {
                    Cell::Lstm => {
                        let c = &extra[(row + t) * h..(row + t + 1) * h];
                        let c_prev: &[f32] = match prev {
                            Some(p) => &extra[(row + p) * h..(row + p + 1) * h],
                            None => &zero,
                        };
                        let dci = &mut dc[i * h..(i + 1) * h];
                        for u in 0..h {
                            let (iv, fv, gv, ov) = (gt[u], gt[h + u], gt[2 * h + u], gt[3 * h + u]);
                            let dhv = dhi[u] + dyo[u];
                            let tc = math::tanh(c[u]);
                            let dcv = dci[u] + dhv * ov * (1.0 - tc * tc);
                            let cp = c_prev.get(u).copied().unwrap_or(0.0);
                            dgi[u] = dcv * gv * iv * (1.0 - iv);
                            dgi[h + u] = dcv * cp * fv * (1.0 - fv);
                            dgi[2 * h + u] = dcv * iv * (1.0 - gv * gv);
                            dgi[3 * h + u] = dhv * tc * ov * (1.0 - ov);
                            dci[u] = dcv * fv;
                        }
                    }
                    Cell::Gru => {
                        let hn = &extra[(row + t) * h..(row + t + 1) * h];
                        let h_prev: &[f32] = match prev {
                            Some(p) => &out[(row + p) * h..(row + p + 1) * h],
                            None => &zero,
                        };
                        let dhpi = &mut dhp[at..at + gh];
                        for u in 0..h {
                            let (r, z, n) = (gt[u], gt[h + u], gt[2 * h + u]);
                            let dhv = dhi[u] + dyo[u];
                            let hp = h_prev.get(u).copied().unwrap_or(0.0);
                            let dn = dhv * (1.0 - z) * (1.0 - n * n);
                            let dr = dn * hn[u] * r * (1.0 - r);
                            let dz = dhv * (hp - n) * z * (1.0 - z);
                            dgi[u] = dr;
                            dgi[h + u] = dz;
                            dgi[2 * h + u] = dn;
                            dhpi[u] = dr;
                            dhpi[h + u] = dz;
                            dhpi[2 * h + u] = dn * r;
                            dbhn[u] += dn * r;
                            dhi[u] = dhv * z;
                        }
                    }
                }
            }
            // dh_prev (+)= dpre · W_hh, rows of this step (stride T·G·H).
            let (src, accumulate) = match self.cell {
                Cell::Lstm => (&dx[..], false),
                Cell::Gru => (&dhp[..], true),
            };
            gemm_packed(
                nb,
                MatRef::new(&src[t * gh..], t_len * gh, 1),
                whh,
                MatMut::row_major(&mut dh, h),
                accumulate,
            )?;
        }
        // dW_hh = Σ_t dpre_tᵀ · h_{t-1}, one product per batch item.
        let src = match self.cell {
            Cell::Lstm => &dx[..],
            Cell::Gru => &dhp[..],
        };
        let mut dw = vec![0f32; gh * h];
        if t_len > 1 {
            let (dp_off, h_off) = if self.reverse { (0, 1) } else { (1, 0) };
            for i in 0..nb {
                let row = i * t_len;
                gemm(
                    gh,
                    h,
                    t_len - 1,
                    MatRef::new(&src[(row + dp_off) * gh..], 1, gh),
                    MatRef::row_major(&out[(row + h_off) * h..], h),
                    MatMut::row_major(&mut dw, h),
                    true,
                )?;
            }
        }
        Ok((dw, dbhn))
    }
}

impl CustomOp3 for RnnOp {
    fn name(&self) -> &'static str {
        "spindle-rnn-layer"
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
        let d = self.dims(l1.dims(), l2.dims())?;
        let xproj = slice(s1, l1, "rnn xproj")?;
        let whh = slice(s2, l2, "rnn w_hh")?;
        let bhn = slice(s3, l3, "rnn b_hn")?;
        if bhn.len() != d.h {
            bail!("rnn: b_hn of {} values for hidden size {}", bhn.len(), d.h)
        }
        let (t, h, gh) = (d.t, d.h, d.gh());
        let whh_t = PackedB::new(h, gh, MatRef::row_major(whh, h).t())?;
        let mut out = vec![0f32; d.b * t * h];
        let mut gates = vec![0f32; d.b * t * gh];
        let mut extra = vec![0f32; d.b * t * h];
        let ranges = par::ranges(d.b, 4);
        let outs = split(&mut out, &ranges, t * h);
        let gs = split(&mut gates, &ranges, t * gh);
        let es = split(&mut extra, &ranges, t * h);
        let results: Vec<Result<()>> = std::thread::scope(|sc| {
            let handles: Vec<_> = ranges
                .iter()
                .zip(outs.into_iter().zip(gs.into_iter().zip(es)))
                .map(|(r, (o, (g, e)))| {
                    let x = &xproj[r.start * t * gh..r.end * t * gh];
                    let whh_t = &whh_t;
                    sc.spawn(move || self.forward_rows(d, x, whh_t, bhn, o, g, e))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| bail!("rnn: a worker panicked")))
                .collect()
        });
        for r in results {
            r?;
        }
        if let Ok(mut slot) = self.saved.lock() {
            *slot = Some(Saved { gates, extra });
        }
        Ok((CpuStorage::F32(out), Shape::from((d.b, t, h))))
    }

    fn bwd(
        &self,
        xproj: &Tensor,
        whh: &Tensor,
        bhn: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = self.dims(xproj.dims(), whh.dims())?;
        let (t, h, gh) = (d.t, d.h, d.gh());
        let guard = self
            .saved
            .lock()
            .map_err(|_| candle_core::Error::Msg("rnn: poisoned".into()))?;
        let Some(saved) = guard.as_ref() else {
            bail!("rnn: backward without a forward pass")
        };
        let whh_p = with_f32(whh, |w| PackedB::new(gh, h, MatRef::row_major(w, h)))?;
        let mut dx = vec![0f32; d.b * t * gh];
        let ranges = par::ranges(d.b, 4);
        let parts: Vec<Result<(Vec<f32>, Vec<f32>)>> = with_f32(res, |out| {
            with_f32(grad, |dout| {
                let dxs = split(&mut dx, &ranges, t * gh);
                Ok(std::thread::scope(|sc| {
                    let handles: Vec<_> = ranges
                        .iter()
                        .zip(dxs)
                        .map(|(r, dxr)| {
                            let (a, b) = (r.start, r.end);
                            let whh_p = &whh_p;
                            let o = &out[a * t * h..b * t * h];
                            let g = &saved.gates[a * t * gh..b * t * gh];
                            let e = &saved.extra[a * t * h..b * t * h];
                            let dy = &dout[a * t * h..b * t * h];
                            sc.spawn(move || self.backward_rows(d, whh_p, o, g, e, dy, dxr))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|_| bail!("rnn: a worker panicked")))
                        .collect()
                }))
            })
        })?;
        let mut dw = vec![0f32; gh * h];
        let mut db = vec![0f32; h];
        for p in parts {
            let (pw, pb) = p?;
            dw.iter_mut().zip(pw).for_each(|(a, b)| *a += b);
            db.iter_mut().zip(pb).for_each(|(a, b)| *a += b);
        }
        let db = if self.cell == Cell::Gru && bhn.track_op() {
            Some(tensor(db, &[h])?)
        } else {
            None
        };
        Ok((
            Some(tensor(dx, &[d.b, t, gh])?),
            Some(tensor(dw, &[gh, h])?),
            db,
        ))
    }
}

/// Runs one layer: `xproj` `[B, T, G·H]` (input projection with every bias
/// except GRU's `b_hn`), `w_hh` `[G·H, H]`, `b_hn` `[H]` (GRU; ignored for
/// LSTM) -> hidden states `[B, T, H]`, processing time backwards when
/// `reverse`. CPU f32 only (see [`super::is_cpu_f32`]); the model keeps a
/// step-by-step reference for other devices.
pub fn rnn_layer(
    cell: Cell,
    xproj: &Tensor,
    w_hh: &Tensor,
    b_hn: &Tensor,
    reverse: bool,
) -> Result<Tensor> {
    let op = RnnOp {
        cell,
        reverse,
        saved: Mutex::new(None),
    };
    xproj
        .contiguous()?
        .apply_op3(&w_hh.contiguous()?, &b_hn.contiguous()?, op)
}
