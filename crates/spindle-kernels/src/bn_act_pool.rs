//! Batch norm + activation + pooling over `[B, C, L]`, fused.
//!
//! `out = pool(act(gamma * (x - mean) / sqrt(var + eps) + beta))` with the
//! batch statistics (training; the backward pass includes their dependence
//! on `x`, as PyTorch) or given running statistics (evaluation). One pass
//! over the input each way, channels split over the threads; the backward
//! recomputes the normalized values instead of keeping them.

use std::ops::Range;
use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, D, Layout, Result, Shape, Tensor, bail};

use super::isa::{Isa, Level};
use super::par::GroupRows;
use super::{is_cpu_f32, math, par, slice, tensor, with_f32};

/// Element-wise activation after the normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// None.
    Identity,
    /// `max(y, 0)`.
    Relu,
    /// `y` for `y > 0`, else `e^y - 1` (alpha 1).
    Elu,
    /// `y²` (ShallowConvNet).
    Square,
}

impl Act {
    #[inline(always)]
    fn apply(self, y: f32) -> f32 {
        match self {
            Act::Identity => y,
            Act::Relu => y.max(0.0),
            Act::Elu => {
                // Branch-free (both sides computed, then a select), so that
                // the loops over a row vectorize; NaN stays NaN.
                let neg = math::exp(y.min(0.0)) - 1.0;
                if y <= 0.0 { neg } else { y }
            }
            Act::Square => y * y,
        }
    }

    #[inline(always)]
    fn grad(self, y: f32) -> f32 {
        match self {
            Act::Identity => 1.0,
            Act::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Act::Elu => {
                let neg = math::exp(y.min(0.0));
                let pos = if y > 0.0 { 1.0 } else { f32::NAN };
                if y <= 0.0 { neg } else { pos }
            }
            Act::Square => 2.0 * y,
        }
    }
}

/// An activation as a type, so that the per-element loops are compiled
/// once per activation (no branch on the kind inside them).
trait ActFn: Copy + Send + Sync {
    const ACT: Act;
    #[inline(always)]
    fn apply(y: f32) -> f32 {
        Self::ACT.apply(y)
    }
    #[inline(always)]
    fn grad(y: f32) -> f32 {
        Self::ACT.grad(y)
    }
}

macro_rules! act_types {
    ($($name:ident => $act:expr),*) => {
        $(
            #[derive(Clone, Copy)]
            struct $name;
            impl ActFn for $name {
                const ACT: Act = $act;
            }
        )*
    };
}
act_types!(IdentityT => Act::Identity, ReluT => Act::Relu, EluT => Act::Elu, SquareT => Act::Square);

/// Pooling over the last axis after the activation (no padding; trailing
/// samples that fill no window are dropped, as in PyTorch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// No pooling.
    None,
    /// Max over windows of `k` with stride `k`; the first maximum of a
    /// window takes the gradient (PyTorch's choice).
    Max(usize),
    /// Mean over windows of `kernel` with `stride`.
    Avg {
        /// Window length.
        kernel: usize,
        /// Distance between windows.
        stride: usize,
    },
}

impl Pool {
    /// Output length for an input of `len` (`None` if too short).
    pub fn out_len(self, len: usize) -> Option<usize> {
        let (k, s) = match self {
            Pool::None => return Some(len),
            Pool::Max(k) => (k, k),
            Pool::Avg { kernel, stride } => (kernel, stride),
        };
        if k == 0 || s == 0 || len < k {
            None
        } else {
            Some((len - k) / s + 1)
        }
    }
}

/// Per-channel batch mean and biased variance, for the running averages.
pub type BatchStats = (Vec<f32>, Vec<f32>);

/// Per-channel mean and biased variance of `x` `[B, C, L]`, in one pass:
/// sums of `v - s` and `(v - s)²` with `s` the channel's first value (so
/// that a large mean does not cancel), in f32 lanes per row and f64 over
/// rows.
fn channel_stats(x: &[f32], b: usize, c: usize, l: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (b * l).max(1) as f64;
    let parts = par::map_ranges(c, 1, |chans| {
        chans
            .map(|ci| {
                let shift = x.get(ci * l).copied().unwrap_or(0.0);
                let (mut s1, mut s2) = (0f64, 0f64);
                for bi in 0..b {
                    let (a, q) = shifted_sums(&x[(bi * c + ci) * l..(bi * c + ci + 1) * l], shift);
                    s1 += a;
                    s2 += q;
                }
                let d = s1 / n;
                let var = (s2 / n - d * d).max(0.0);
                ((shift as f64 + d) as f32, var as f32)
            })
            .collect::<Vec<_>>()
    });
    parts.into_iter().flatten().unzip()
}

/// `(Σ (v - s), Σ (v - s)²)` over a row with 8 independent f32 lanes
/// (vectorizes), returned in f64.
#[inline(always)]
fn shifted_sums(r: &[f32], s: f32) -> (f64, f64) {
    let (mut a, mut q) = ([0f32; 8], [0f32; 8]);
    let chunks = r.chunks_exact(8);
    let tail = chunks.remainder();
    for ch in chunks {
        for j in 0..8 {
            let d = ch[j] - s;
            a[j] += d;
            q[j] += d * d;
        }
    }
    let sum = |v: &[f32; 8]| v.iter().map(|&x| x as f64).sum::<f64>();
    let (mut a, mut q) = (sum(&a), sum(&q));
    for &v in tail {
        let d = (v - s) as f64;
        a += d;
        q += d * d;
    }
    (a, q)
}

/// The custom op: normalization statistics are fixed inputs; `train` says
/// whether they are the batch's own (and so depend on `x` in the backward).
#[derive(Debug)]
struct BnActPoolOp {
    mean: Vec<f32>,
    var: Vec<f32>,
    eps: f32,
    train: bool,
    act: Act,
    pool: Pool,
    isa: Isa,
    /// Max pooling after a non-decreasing activation: per channel, the
    /// offset of each window's first maximum `[B, P]`, written by the
    /// forward pass for the backward pass.
    argmax: Vec<Mutex<Vec<u8>>>,
}

impl BnActPoolOp {
    /// The window of a max pool whose first maximum the forward pass keeps.
    ///
    /// The activations other than the square never decrease, so the
    /// largest activation of a window is that of its largest normalized
    /// value: the forward pass takes the maximum before the activation
    /// (one activation per window) and keeps where it was, and the
    /// backward pass visits only those places instead of recomputing every
    /// activation and searching every window again (4-8x less work).
    fn argmax_pool(&self) -> Option<usize> {
        match self.pool {
            Pool::Max(k) if k <= 256 && self.act != Act::Square => Some(k),
            _ => None,
        }
    }

    fn dims(&self, x: &[usize]) -> Result<(usize, usize, usize, usize)> {
        let &[b, c, l] = x else {
            bail!("bn_act_pool: expected [B, C, L], got {x:?}")
        };
        let Some(p) = self.pool.out_len(l) else {
            bail!("bn_act_pool: {l} samples are too short for {:?}", self.pool)
        };
        if self.mean.len() != c || self.var.len() != c {
            bail!(
                "bn_act_pool: statistics for {} channels, input has {c}",
                self.mean.len()
            )
        }
        Ok((b, c, l, p))
    }

    /// Pools one activated row `a` (length L) into `out` (length P).
    #[inline(always)]
    fn pool_row(&self, a: &[f32], out: &mut [f32]) {
        match self.pool {
            Pool::None => out.copy_from_slice(&a[..out.len()]),
            Pool::Max(k) => {
                for (o, w) in out.iter_mut().zip(a.chunks_exact(k)) {
                    *o = w.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                }
            }
            Pool::Avg { kernel, stride } => {
                let inv = 1.0 / kernel as f32;
                for (i, o) in out.iter_mut().enumerate() {
                    *o = a[i * stride..i * stride + kernel].iter().sum::<f32>() * inv;
                }
            }
        }
    }

    /// Spreads the output gradient of one row back over the activations.
    #[inline(always)]
    fn unpool_row(&self, a: &[f32], dout: &[f32], da: &mut [f32]) {
        da.iter_mut().for_each(|v| *v = 0.0);
        match self.pool {
            Pool::None => da[..dout.len()].copy_from_slice(dout),
            Pool::Max(k) => {
                // Branch-free: the window's maximum, then the gradient to its
                // first occurrence (as PyTorch); data-dependent branches here
                // mispredicted about every other window.
                if k == 4 {
                    // The common case (M5), with selects the compiler keeps branch-free.
                    for ((&g, w), d) in dout
                        .iter()
                        .zip(a.chunks_exact(4))
                        .zip(da.chunks_exact_mut(4))
                    {
                        let m = w[0].max(w[1]).max(w[2].max(w[3]));
                        let e0 = w[0] == m;
                        let e1 = !e0 & (w[1] == m);
                        let e2 = !e0 & !e1 & (w[2] == m);
                        let e3 = !e0 & !e1 & !e2;
                        d[0] = if e0 { g } else { 0.0 };
                        d[1] = if e1 { g } else { 0.0 };
                        d[2] = if e2 { g } else { 0.0 };
                        d[3] = if e3 { g } else { 0.0 };
                    }
                    return;
                }
                for ((&g, w), d) in dout
                    .iter()
                    .zip(a.chunks_exact(k))
                    .zip(da.chunks_exact_mut(k))
                {
                    let m = w.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut taken = false;
                    for (dv, &v) in d.iter_mut().zip(w) {
                        let hit = !taken && v == m;
                        *dv = if hit { g } else { 0.0 };
                        taken |= hit;
                    }
                }
            }
            Pool::Avg { kernel, stride } => {
                let inv = 1.0 / kernel as f32;
                for (i, &g) in dout.iter().enumerate() {
                    let g = g * inv;
                    da[i * stride..i * stride + kernel]
                        .iter_mut()
                        .for_each(|v| *v += g);
                }
            }
        }
    }
}

type Dims4 = (usize, usize, usize, usize);

impl BnActPoolOp {
    /// The forward pass for channels `chans` into their output rows.
    #[inline(always)]
    fn forward_channels<A: ActFn>(
        &self,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        (b, c, l, p): Dims4,
        chans: Range<usize>,
        mut out: GroupRows<'_>,
    ) {
        if let Some(k) = self.argmax_pool() {
            return self.forward_max::<A>(x, gamma, beta, (b, c, l, p), chans, out, k);
        }
        let mut a = vec![0f32; l];
        for (k, ci) in chans.enumerate() {
            let inv = 1.0 / (self.var[ci] + self.eps).sqrt();
            let scale = gamma[ci] * inv;
            let shift = beta[ci] - self.mean[ci] * scale;
            for bi in 0..b {
                let row = &x[(bi * c + ci) * l..(bi * c + ci + 1) * l];
                for (av, &xv) in a.iter_mut().zip(row) {
                    *av = A::apply(xv * scale + shift);
                }
                self.pool_row(&a, out[k][bi]);
            }
        }
    }

    /// The backward pass for channels `chans`: their input gradients into
    /// `dx`, and `(dgamma, dbeta)` per channel.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_channels<A: ActFn>(
        &self,
        xs: &[f32],
        gs: &[f32],
        gamma: &[f32],
        beta: &[f32],
        (b, c, l, p): Dims4,
        chans: Range<usize>,
        mut dx: GroupRows<'_>,
    ) -> Backward {
        if let Some(k) = self.argmax_pool() {
            return self.backward_max::<A>(xs, gs, gamma, beta, (b, c, l, p), chans, dx, k);
        }
        let n = (b * l) as f64;
        let mut stats = Vec::with_capacity(chans.len());
        let mut a = vec![0f32; l];
        for (k, ci) in chans.enumerate() {
            let inv = 1.0 / (self.var[ci] + self.eps).sqrt();
            let scale = gamma[ci] * inv;
            let shift = -self.mean[ci] * inv;
            let (gv, bv) = (gamma[ci], beta[ci]);
            let (mut sdy, mut sdyx) = (0f64, 0f64);
            for bi in 0..b {
                let row = &xs[(bi * c + ci) * l..(bi * c + ci + 1) * l];
                let dout = &gs[(bi * c + ci) * p..(bi * c + ci + 1) * p];
                let dy = &mut *dx[k][bi];
                if matches!(self.pool, Pool::Max(_)) {
                    for (av, &xv) in a.iter_mut().zip(row) {
                        *av = A::apply((xv * inv + shift) * gv + bv);
                    }
                }
                self.unpool_row(&a, dout, dy);
                // Two passes: the activation's gradient (a plain map, which
                // vectorizes with the activation inlined), then the sums in
                // 8 lanes (a reduction the compiler does not reorder).
                for (d, &xv) in dy.iter_mut().zip(row) {
                    *d *= A::grad((xv * inv + shift) * gv + bv);
                }
                let (mut s1, mut s2) = ([0f32; 8], [0f32; 8]);
                for (d8, x8) in dy.chunks_exact(8).zip(row.chunks_exact(8)) {
                    for j in 0..8 {
                        s1[j] += d8[j];
                        s2[j] += d8[j] * (x8[j] * inv + shift);
                    }
                }
                let done = l / 8 * 8;
                for (&g, &xv) in dy[done..].iter().zip(&row[done..]) {
                    s1[0] += g;
                    s2[0] += g * (xv * inv + shift);
                }
                sdy += s1.iter().map(|&v| v as f64).sum::<f64>();
                sdyx += s2.iter().map(|&v| v as f64).sum::<f64>();
            }
            let (m1, m2) = ((sdy / n) as f32, (sdyx / n) as f32);
            for bi in 0..b {
                let row = &xs[(bi * c + ci) * l..(bi * c + ci + 1) * l];
                let dy = &mut *dx[k][bi];
                if self.train {
                    for (d, &xv) in dy.iter_mut().zip(row) {
                        let xh = xv * inv + shift;
                        *d = scale * (*d - m1 - xh * m2);
                    }
                } else {
                    dy.iter_mut().for_each(|d| *d *= scale);
                }
            }
            stats.push((sdyx as f32, sdy as f32));
        }
        stats
    }
}

impl BnActPoolOp {
    /// [`Self::forward_channels`] for max pooling by `k` after a
    /// non-decreasing activation (see [`Self::argmax_pool`]).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn forward_max<A: ActFn>(
        &self,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        (b, c, l, p): Dims4,
        chans: Range<usize>,
        mut out: GroupRows<'_>,
        k: usize,
    ) {
        for (g, ci) in chans.enumerate() {
            let inv = 1.0 / (self.var[ci] + self.eps).sqrt();
            let scale = gamma[ci] * inv;
            let shift = beta[ci] - self.mean[ci] * scale;
            let Ok(mut am) = self.argmax[ci].lock() else {
                continue;
            };
            am.clear();
            am.resize(b * p, 0);
            for bi in 0..b {
                let row = &x[(bi * c + ci) * l..(bi * c + ci) * l + p * k];
                let dst = &mut *out[g][bi];
                let at = &mut am[bi * p..(bi + 1) * p];
                for ((w, o), a) in row.chunks_exact(k).zip(dst.iter_mut()).zip(at.iter_mut()) {
                    // The first maximum, branch-free (the comparisons
                    // mispredict half the time on noisy signals).
                    let mut best = w[0] * scale + shift;
                    let mut pos = 0u8;
                    for (i, &v) in w.iter().enumerate().skip(1) {
                        let z = v * scale + shift;
                        let more = z > best;
                        best = if more { z } else { best };
                        pos = if more { i as u8 } else { pos };
                    }
                    *o = best;
                    *a = pos;
                }
                // The activation of the maxima in a loop of its own, which
                // vectorizes (inside the window loop it stays scalar).
                for o in dst.iter_mut() {
                    *o = A::apply(*o);
                }
            }
        }
    }

    /// [`Self::backward_channels`] for max pooling by `k` after a
    /// non-decreasing activation: gradients reach only the maxima the
    /// forward pass kept; the batch statistics' part reaches every input,
    /// one multiply-add per value.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_max<A: ActFn>(
        &self,
        xs: &[f32],
        gs: &[f32],
        gamma: &[f32],
        beta: &[f32],
        (b, c, l, p): Dims4,
        chans: Range<usize>,
        mut dx: GroupRows<'_>,
        k: usize,
    ) -> Backward {
        let n = (b * l) as f64;
        let mut stats = Vec::with_capacity(chans.len());
        let mut gbuf = vec![0f32; b * p];
        let mut xbuf = vec![0f32; b * p];
        for (g, ci) in chans.enumerate() {
            let inv = 1.0 / (self.var[ci] + self.eps).sqrt();
            let scale = gamma[ci] * inv;
            let shift = -self.mean[ci] * inv;
            let (gv, bv) = (gamma[ci], beta[ci]);
            let Ok(am) = self.argmax[ci].lock() else {
                stats.push((0.0, 0.0));
                continue;
            };
            if am.len() != b * p {
                stats.push((0.0, 0.0));
                continue;
            }
            let (mut sdy, mut sdyx) = (0f64, 0f64);
            for bi in 0..b {
                let row = &xs[(bi * c + ci) * l..(bi * c + ci + 1) * l];
                let dout = &gs[(bi * c + ci) * p..(bi * c + ci + 1) * p];
                let at = &am[bi * p..(bi + 1) * p];
                let gr = &mut gbuf[bi * p..(bi + 1) * p];
                let xr = &mut xbuf[bi * p..(bi + 1) * p];
                // Gather the maxima, then the activation's gradient and the
                // sums in loops of their own (each vectorizes; together,
                // with the gather, they stayed scalar).
                for (o, (&a, xh)) in at.iter().zip(xr.iter_mut()).enumerate() {
                    *xh = row[o * k + a as usize] * inv + shift;
                }
                for ((gg, &d), &xh) in gr.iter_mut().zip(dout).zip(xr.iter()) {
                    *gg = d * A::grad(xh * gv + bv);
                }
                let (mut s1, mut s2) = ([0f32; 8], [0f32; 8]);
                for (g8, x8) in gr.chunks_exact(8).zip(xr.chunks_exact(8)) {
                    for j in 0..8 {
                        s1[j] += g8[j];
                        s2[j] += g8[j] * x8[j];
                    }
                }
                let done = p / 8 * 8;
                for (&gg, &xh) in gr[done..].iter().zip(&xr[done..]) {
                    s1[0] += gg;
                    s2[0] += gg * xh;
                }
                sdy += s1.iter().map(|&v| v as f64).sum::<f64>();
                sdyx += s2.iter().map(|&v| v as f64).sum::<f64>();
            }
            let (m1, m2) = ((sdy / n) as f32, (sdyx / n) as f32);
            // dx = scale * (g - m1 - xh * m2) in training, scale * g otherwise,
            // with g zero off the maxima: an affine map of x, then the maxima.
            let (mul, add) = if self.train {
                (-scale * m2 * inv, -scale * (m1 + shift * m2))
            } else {
                (0.0, 0.0)
            };
            for bi in 0..b {
                let row = &xs[(bi * c + ci) * l..(bi * c + ci + 1) * l];
                let d = &mut *dx[g][bi];
                for (dv, &xv) in d.iter_mut().zip(row) {
                    *dv = xv * mul + add;
                }
                let at = &am[bi * p..(bi + 1) * p];
                let gr = &gbuf[bi * p..(bi + 1) * p];
                for (o, (&a, &gg)) in at.iter().zip(gr).enumerate() {
                    d[o * k + a as usize] += scale * gg;
                }
            }
            stats.push((sdyx as f32, sdy as f32));
        }
        stats
    }
}

/// What [`BnActPoolOp::backward_channels`] returns: `(dgamma, dbeta)` per
/// channel (the input gradients go to the rows it is given).
type Backward = Vec<(f32, f32)>;

impl BnActPoolOp {
    /// [`Self::forward_channels`] for `self.act`.
    #[inline(always)]
    fn forward_act(
        &self,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        d: Dims4,
        chans: Range<usize>,
        out: GroupRows<'_>,
    ) {
        match self.act {
            Act::Identity => self.forward_channels::<IdentityT>(x, gamma, beta, d, chans, out),
            Act::Relu => self.forward_channels::<ReluT>(x, gamma, beta, d, chans, out),
            Act::Elu => self.forward_channels::<EluT>(x, gamma, beta, d, chans, out),
            Act::Square => self.forward_channels::<SquareT>(x, gamma, beta, d, chans, out),
        }
    }

    /// [`Self::backward_channels`] for `self.act`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_act(
        &self,
        xs: &[f32],
        gs: &[f32],
        gamma: &[f32],
        beta: &[f32],
        d: Dims4,
        chans: Range<usize>,
        dx: GroupRows<'_>,
    ) -> Backward {
        match self.act {
            Act::Identity => self.backward_channels::<IdentityT>(xs, gs, gamma, beta, d, chans, dx),
            Act::Relu => self.backward_channels::<ReluT>(xs, gs, gamma, beta, d, chans, dx),
            Act::Elu => self.backward_channels::<EluT>(xs, gs, gamma, beta, d, chans, dx),
            Act::Square => self.backward_channels::<SquareT>(xs, gs, gamma, beta, d, chans, dx),
        }
    }

    /// The forward pass for channels `chans`, compiled for `isa` (its loops
    /// then run AVX2/AVX-512 wide).
    #[allow(clippy::too_many_arguments)]
    fn forward_isa(
        &self,
        isa: Isa,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        d: Dims4,
        chans: Range<usize>,
        out: GroupRows<'_>,
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU runs AVX-512F, AVX2 and FMA.
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512(
                op: &BnActPoolOp,
                x: &[f32],
                gamma: &[f32],
                beta: &[f32],
                d: Dims4,
                chans: Range<usize>,
                out: GroupRows<'_>,
            ) {
                op.forward_act(x, gamma, beta, d, chans, out)
            }
            /// # Safety
            /// The CPU runs AVX2 and FMA.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2(
                op: &BnActPoolOp,
                x: &[f32],
                gamma: &[f32],
                beta: &[f32],
                d: Dims4,
                chans: Range<usize>,
                out: GroupRows<'_>,
            ) {
                op.forward_act(x, gamma, beta, d, chans, out)
            }
            match isa.level() {
                // SAFETY: an `Isa` only comes from detection on this CPU.
                Level::Avx512 => return unsafe { avx512(self, x, gamma, beta, d, chans, out) },
                // SAFETY: an `Isa` of level AVX2 comes from detecting AVX2
                // and FMA on this CPU.
                Level::Avx2 => return unsafe { avx2(self, x, gamma, beta, d, chans, out) },
                Level::Portable => {}
            }
        }
        self.forward_act(x, gamma, beta, d, chans, out)
    }

    /// The backward pass for channels `chans`, compiled for `isa`.
    #[allow(clippy::too_many_arguments)]
    fn backward_isa(
        &self,
        isa: Isa,
        xs: &[f32],
        gs: &[f32],
        gamma: &[f32],
        beta: &[f32],
        d: Dims4,
        chans: Range<usize>,
        dx: GroupRows<'_>,
    ) -> Backward {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU runs AVX-512F, AVX2 and FMA.
            #[target_feature(enable = "avx512f,avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx512(
                op: &BnActPoolOp,
                xs: &[f32],
                gs: &[f32],
                gamma: &[f32],
                beta: &[f32],
                d: Dims4,
                chans: Range<usize>,
                dx: GroupRows<'_>,
            ) -> Backward {
                op.backward_act(xs, gs, gamma, beta, d, chans, dx)
            }
            /// # Safety
            /// The CPU runs AVX2 and FMA.
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2(
                op: &BnActPoolOp,
                xs: &[f32],
                gs: &[f32],
                gamma: &[f32],
                beta: &[f32],
                d: Dims4,
                chans: Range<usize>,
                dx: GroupRows<'_>,
            ) -> Backward {
                op.backward_act(xs, gs, gamma, beta, d, chans, dx)
            }
            match isa.level() {
                // SAFETY: an `Isa` only comes from detection on this CPU.
                Level::Avx512 => return unsafe { avx512(self, xs, gs, gamma, beta, d, chans, dx) },
                // SAFETY: an `Isa` of level AVX2 comes from detecting AVX2
                // and FMA on this CPU.
                Level::Avx2 => return unsafe { avx2(self, xs, gs, gamma, beta, d, chans, dx) },
                Level::Portable => {}
            }
        }
        self.backward_act(xs, gs, gamma, beta, d, chans, dx)
    }
}

impl CustomOp3 for BnActPoolOp {
    fn name(&self) -> &'static str {
        "spindle-bn-act-pool"
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
        let (b, c, l, p) = self.dims(l1.dims())?;
        let x = slice(s1, l1, "bn x")?;
        let gamma = slice(s2, l2, "bn weight")?;
        let beta = slice(s3, l3, "bn bias")?;
        let isa = self.isa;
        let mut y = vec![0f32; b * c * p];
        par::map_groups_mut(&mut y, c, p, 1, |chans, rows| {
            self.forward_isa(isa, x, gamma, beta, (b, c, l, p), chans, rows)
        });
        Ok((CpuStorage::F32(y), Shape::from((b, c, p))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, c, l, p) = self.dims(x.dims())?;
        let gamma_v = gamma.to_vec1::<f32>()?;
        let beta_v = beta.to_vec1::<f32>()?;
        let (dx, dg, db) = with_f32(x, |xs| {
            with_f32(grad, |gs| {
                let dims = (b, c, l, p);
                let (gv, bv) = (&gamma_v[..], &beta_v[..]);
                let isa = self.isa;
                let mut dx = vec![0f32; b * c * l];
                let stats = par::map_groups_mut(&mut dx, c, l, 1, |chans, rows| {
                    self.backward_isa(isa, xs, gs, gv, bv, dims, chans, rows)
                });
                let (dg, db) = stats.into_iter().flatten().unzip();
                Ok((dx, dg, db))
            })
        })?;
        let dx = if x.track_op() {
            Some(tensor(dx, &[b, c, l])?)
        } else {
            None
        };
        Ok((dx, Some(tensor(dg, &[c])?), Some(tensor(db, &[c])?)))
    }
}

/// Fused batch norm + activation + pooling of `x` `[B, C, L]` with
/// `gamma`/`beta` `[C]`.
///
/// With `running == None` (training) the batch statistics normalize and are
/// returned as `(mean, biased variance)` per channel for the running
/// averages; with `Some((mean, var))` those normalize (evaluation).
pub fn bn_act_pool(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running: Option<(&Tensor, &Tensor)>,
    eps: f64,
    act: Act,
    pool: Pool,
) -> Result<(Tensor, Option<BatchStats>)> {
    bn_act_pool_with(x, gamma, beta, running, eps, (act, pool), Isa::best())
}

/// [`bn_act_pool`] with the instruction set `isa`.
fn bn_act_pool_with(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running: Option<(&Tensor, &Tensor)>,
    eps: f64,
    (act, pool): (Act, Pool),
    isa: Isa,
) -> Result<(Tensor, Option<BatchStats>)> {
    if !(is_cpu_f32(x) && is_cpu_f32(gamma) && is_cpu_f32(beta)) {
        return bn_act_pool_reference(x, gamma, beta, running, eps, act, pool);
    }
    let x = x.contiguous()?;
    let (b, c, l) = x.dims3()?;
    let (mean, var, batch) = match running {
        Some((m, v)) => (
            m.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?,
            v.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?,
            false,
        ),
        None => {
            let (m, v) = with_f32(&x, |xs| Ok(channel_stats(xs, b, c, l)))?;
            (m, v, true)
        }
    };
    let op = BnActPoolOp {
        mean: mean.clone(),
        var: var.clone(),
        eps: eps as f32,
        train: batch,
        act,
        pool,
        isa,
        argmax: (0..c).map(|_| Mutex::new(Vec::new())).collect(),
    };
    let y = x.apply_op3(&gamma.contiguous()?, &beta.contiguous()?, op)?;
    Ok((y, batch.then_some((mean, var))))
}

/// `pool(act(x))` of `x` `[B, C, L]` without a normalization (the sleep
/// stager's ReLU and max pool), as one kernel on the CPU in f32 (the same
/// op with the identity as its normalization) and candle's ops elsewhere.
pub fn act_pool(x: &Tensor, act: Act, pool: Pool) -> Result<Tensor> {
    act_pool_with(x, act, pool, Isa::best())
}

/// [`act_pool`] with the instruction set `isa`.
fn act_pool_with(x: &Tensor, act: Act, pool: Pool, isa: Isa) -> Result<Tensor> {
    if !is_cpu_f32(x) {
        return act_pool_reference(x, act, pool);
    }
    let x = x.contiguous()?;
    let (_, c, _) = x.dims3()?;
    let dev = x.device();
    // mean 0, variance 1, epsilon 0, gamma 1, beta 0: x * 1 + 0, exactly.
    let op = BnActPoolOp {
        mean: vec![0.0; c],
        var: vec![1.0; c],
        eps: 0.0,
        train: false,
        act,
        pool,
        isa,
        argmax: (0..c).map(|_| Mutex::new(Vec::new())).collect(),
    };
    let ones = Tensor::ones(c, candle_core::DType::F32, dev)?;
    let zeros = Tensor::zeros(c, candle_core::DType::F32, dev)?;
    x.apply_op3(&ones, &zeros, op)
}

/// `pool(act(a))` from candle's ops.
fn act_pool_reference(a: &Tensor, act: Act, pool: Pool) -> Result<Tensor> {
    let a = match act {
        Act::Identity => a.clone(),
        Act::Relu => a.relu()?,
        Act::Elu => a.elu(1.0)?,
        Act::Square => a.sqr()?,
    };
    let len = a.dim(2)?;
    let Some(p) = pool.out_len(len) else {
        bail!("bn_act_pool: {len} samples are too short for {pool:?}")
    };
    match pool {
        Pool::None => Ok(a),
        Pool::Max(k) => {
            let (b, c, _) = a.dims3()?;
            a.narrow(2, 0, p * k)?.reshape((b, c, p, k))?.max(D::Minus1)
        }
        Pool::Avg { kernel, stride } => {
            let windows = (0..p)
                .map(|i| a.narrow(2, i * stride, kernel)?.mean_keepdim(2))
                .collect::<Result<Vec<_>>>()?;
            Tensor::cat(&windows, 2)
        }
    }
}

/// [`bn_act_pool`] from candle's ops.
pub fn bn_act_pool_reference(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running: Option<(&Tensor, &Tensor)>,
    eps: f64,
    act: Act,
    pool: Pool,
) -> Result<(Tensor, Option<BatchStats>)> {
    let (mean, var) = match running {
        Some((m, v)) => (m.reshape((1, (), 1))?, v.reshape((1, (), 1))?),
        None => {
            let mean = x.mean_keepdim(2)?.mean_keepdim(0)?; // [1, C, 1]
            let var = x
                .broadcast_sub(&mean)?
                .sqr()?
                .mean_keepdim(2)?
                .mean_keepdim(0)?;
            (mean, var)
        }
    };
    let xhat = x
        .broadcast_sub(&mean)?
        .broadcast_div(&(var.clone() + eps)?.sqrt()?)?;
    let y = xhat
        .broadcast_mul(&gamma.reshape((1, (), 1))?)?
        .broadcast_add(&beta.reshape((1, (), 1))?)?;
    let out = act_pool_reference(&y, act, pool)?;
    let stats = match running {
        Some(_) => None,
        None => Some((
            mean.flatten_all()?
                .to_dtype(candle_core::DType::F32)?
                .to_vec1::<f32>()?,
            var.flatten_all()?
                .to_dtype(candle_core::DType::F32)?
                .to_vec1::<f32>()?,
        )),
    };
    Ok((out, stats))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_op_tol, seeded_var};
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_reference_and_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        let cases = [
            (Act::Relu, Pool::Max(4)),
            (Act::Elu, Pool::Max(3)),
            (Act::Identity, Pool::Max(5)),
            (
                Act::Elu,
                Pool::Avg {
                    kernel: 4,
                    stride: 4,
                },
            ),
            (
                Act::Square,
                Pool::Avg {
                    kernel: 7,
                    stride: 3,
                },
            ),
            (Act::Identity, Pool::None),
        ];
        for (isa, (act, pool)) in Isa::available()
            .into_iter()
            .flat_map(|isa| cases.map(|c| (isa, c)))
        {
            for train in [true, false] {
                let x = seeded_var(&[3, 4, 30], 1, 0.3, 2.5)?;
                let g = seeded_var(&[4], 2, 1.0, 0.5)?;
                let b = seeded_var(&[4], 3, 0.0, 0.5)?;
                let rm = Tensor::new(&[0.1f32, -0.2, 0.3, 0.0], &dev)?;
                let rv = Tensor::new(&[1.5f32, 0.7, 2.0, 1.0], &dev)?;
                let running = (!train).then_some((&rm, &rv));
                let fast = |v: &[Tensor]| {
                    Ok(bn_act_pool_with(&v[0], &v[1], &v[2], running, 1e-3, (act, pool), isa)?.0)
                };
                let reference = |v: &[Tensor]| {
                    Ok(bn_act_pool_reference(&v[0], &v[1], &v[2], running, 1e-3, act, pool)?.0)
                };
                let (fd_eps, fd_tol) = if act == Act::Relu || matches!(pool, Pool::Max(_)) {
                    (1e-3, 5e-2)
                } else {
                    (1e-2, 2e-2)
                };
                check_op_tol(&[x, g, b], fast, reference, fd_eps, fd_tol)
                    .map_err(|e| e.context(format!("{isa:?} {act:?} {pool:?} train={train}")))?;
            }
        }
        Ok(())
    }

    #[test]
    fn act_pool_matches_reference_and_finite_differences() -> Result<()> {
        for isa in Isa::available() {
            for (act, pool) in [
                (Act::Relu, Pool::Max(13)),
                (Act::Relu, Pool::Max(3)),
                (Act::Elu, Pool::None),
            ] {
                let x = seeded_var(&[2, 3, 41], 4, 0.1, 1.7)?;
                let fast = |v: &[Tensor]| act_pool_with(&v[0], act, pool, isa);
                let reference = |v: &[Tensor]| act_pool_reference(&v[0], act, pool);
                check_op_tol(&[x], fast, reference, 1e-3, 5e-2)
                    .map_err(|e| e.context(format!("{isa:?} {act:?} {pool:?}")))?;
            }
        }
        Ok(())
    }

    #[test]
    fn batch_statistics_are_returned() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::new(&[[[1f32, 2.]], [[3., 4.]]], &dev)?;
        let (g, b) = (
            Tensor::ones(1, candle_core::DType::F32, &dev)?,
            Tensor::zeros(1, candle_core::DType::F32, &dev)?,
        );
        let (_, stats) = bn_act_pool(&x, &g, &b, None, 1e-5, Act::Identity, Pool::None)?;
        assert_eq!(stats, Some((vec![2.5], vec![1.25])));
        Ok(())
    }
}
