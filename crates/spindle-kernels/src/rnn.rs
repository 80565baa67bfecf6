//! Whole LSTM/GRU layers over a sequence as custom ops, with hand-written
//! backward passes through time.
//!
//! [`rnn_sequence`] (used by the models) runs one layer over a time-major
//! sequence `x` `[T, B, I]` with the weights `W_ih | W_hh | b | b_hn` in one
//! tensor. Per step and per tile of batch rows and `L` hidden units (`L` =
//! the vector width: 16 with AVX-512, 8 with AVX2 or the portable path), the
//! gate pre-activations `x_t W_ihᵀ + h_{t-1} W_hhᵀ + b` of all gates of those
//! units accumulate in registers and the gate math (vectorized `exp`,
//! `sigmoid`, `tanh`, accurate to ~1e-7 relative) runs on them in place, so
//! the input projection never exists in memory and `h`/`c` stay in cache.
//! The weights are packed once per call into per-unit-block panels; the
//! batch is split over the compute threads (rows are independent, so the
//! threads never synchronize). The forward pass keeps the gate activations
//! and `c` (LSTM) or `W_hn h + b_hn` (GRU); the backward pass walks the steps
//! in reverse with `dh_{t-1} = dpre_t W_hh` and the gate gradients fused the
//! same way, then forms `dW_ih`, `dW_hh` and the bias gradients as large
//! products split over time, and the gradient of `x` only when `x` needs one
//! (never for the data). Hidden sizes that are not a multiple of `L` are
//! padded internally with units that stay exactly zero. The instruction set
//! is chosen at run time (AVX-512F, AVX2 + FMA, or portable Rust; see
//! [`super::isa`]).
//!
//! Gates follow PyTorch: LSTM `i, f, g, o`; GRU `r, z, n` with
//! `n = tanh(x_n + r ⊙ (W_hn h + b_hn))`, which is why `b_hn` is kept apart
//! (the other recurrent biases are folded into the input projection).

use std::ops::Range;
use std::sync::Mutex;

use candle_core::{CpuStorage, Layout, Result, Shape, Tensor, bail};

use super::isa::{Isa, Level};
use super::{par, slice, tensor, with_f32};

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

/// Vector types the fused layer kernels are written over.
mod simd {
    /// A vector of `L` f32 lanes.
    pub(super) trait Simd: Copy {
        const L: usize;
        /// Whether the instruction set has 32 vector registers (AVX-512);
        /// with 16 (AVX2) the tiles are shaped to keep their accumulators
        /// in registers (a spilled accumulator costs a load and a store per
        /// multiply-add).
        const WIDE_FILE: bool;
        /// # Safety
        /// `p` points to `L` readable values.
        unsafe fn load(p: *const f32) -> Self;
        /// # Safety
        /// `p` points to `L` writable values.
        unsafe fn store(self, p: *mut f32);
        fn splat(x: f32) -> Self;
        fn add(self, b: Self) -> Self;
        fn sub(self, b: Self) -> Self;
        fn mul(self, b: Self) -> Self;
        fn div(self, b: Self) -> Self;
        /// `self * b + c`.
        fn fma(self, b: Self, c: Self) -> Self;
        fn min(self, b: Self) -> Self;
        fn max(self, b: Self) -> Self;
        fn floor(self) -> Self;
        /// `2^n` for integral `n` in `[-126, 127]`.
        fn exp2i(self) -> Self;
        /// Lane-wise `|x| < lim ? a : b`.
        fn select_small(x: Self, lim: f32, a: Self, b: Self) -> Self;
        /// Hints that the cache line holding `p` is needed soon (any address).
        #[inline(always)]
        fn prefetch(_p: *const f32) {}

        #[inline(always)]
        fn zero() -> Self {
            Self::splat(0.0)
        }

        /// `e^x` (Cephes polynomial, as [`crate::math::exp`]).
        #[inline(always)]
        fn exp(self) -> Self {
            let x = self.max(Self::splat(-87.336_55)).min(Self::splat(88.3));
            let n = x
                .fma(Self::splat(std::f32::consts::LOG2_E), Self::splat(0.5))
                .floor();
            let r = n.fma(Self::splat(-0.693_359_4), x);
            let r = n.fma(Self::splat(2.121_944_4e-4), r);
            let p = Self::splat(1.987_569_1e-4).fma(r, Self::splat(1.398_199_9e-3));
            let p = p.fma(r, Self::splat(8.333_452e-3));
            let p = p.fma(r, Self::splat(4.166_579_6e-2));
            let p = p.fma(r, Self::splat(0.166_666_66));
            let p = p.fma(r, Self::splat(0.5));
            let y = p.fma(r.mul(r), r).add(Self::splat(1.0));
            y.mul(n.exp2i())
        }

        /// `1 / (1 + e^-x)`.
        #[inline(always)]
        fn sigmoid(self) -> Self {
            let one = Self::splat(1.0);
            one.div(one.add(Self::zero().sub(self).exp()))
        }

        /// `tanh`, as [`crate::math::tanh`].
        #[inline(always)]
        #[allow(clippy::excessive_precision)]
        fn tanh(self) -> Self {
            let z = self.mul(self);
            let p = Self::splat(-5.704_988_7e-3).fma(z, Self::splat(2.063_908_9e-2));
            let p = p.fma(z, Self::splat(-5.373_971_6e-2));
            let p = p.fma(z, Self::splat(0.133_314_42));
            let p = p.fma(z, Self::splat(-0.333_332_82));
            let small = p.mul(z).fma(self, self);
            let one = Self::splat(1.0);
            let e = self.add(self).exp();
            let large = one.sub(Self::splat(2.0).div(e.add(one)));
            Self::select_small(self, 0.625, small, large)
        }
    }

    /// Eight lanes of plain Rust (any target; no fused multiply-add).
    #[derive(Clone, Copy)]
    pub(super) struct Portable([f32; 8]);

    impl Portable {
        #[inline(always)]
        fn map2(self, b: Self, f: impl Fn(f32, f32) -> f32) -> Self {
            let mut o = [0f32; 8];
            for ((o, &x), &y) in o.iter_mut().zip(&self.0).zip(&b.0) {
                *o = f(x, y);
            }
            Portable(o)
        }
    }

    impl Simd for Portable {
        const L: usize = 8;
        const WIDE_FILE: bool = false;

        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 8 readable values.
            Portable(unsafe { std::ptr::read_unaligned(p as *const [f32; 8]) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 8 writable values.
            unsafe { std::ptr::write_unaligned(p as *mut [f32; 8], self.0) }
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Portable([x; 8])
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            self.map2(b, |x, y| x + y)
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            self.map2(b, |x, y| x - y)
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            self.map2(b, |x, y| x * y)
        }
        #[inline(always)]
        fn div(self, b: Self) -> Self {
            self.map2(b, |x, y| x / y)
        }
        #[inline(always)]
        fn fma(self, b: Self, c: Self) -> Self {
            self.mul(b).add(c)
        }
        #[inline(always)]
        fn min(self, b: Self) -> Self {
            self.map2(b, f32::min)
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            self.map2(b, f32::max)
        }
        #[inline(always)]
        fn floor(self) -> Self {
            // Inputs are within ±130: shift to positive so truncation is floor.
            self.map2(self, |x, _| ((x + 256.0) as i32 - 256) as f32)
        }
        #[inline(always)]
        fn exp2i(self) -> Self {
            self.map2(self, |n, _| f32::from_bits(((n as i32 + 127) as u32) << 23))
        }
        #[inline(always)]
        fn select_small(x: Self, lim: f32, a: Self, b: Self) -> Self {
            let mut o = b.0;
            for ((o, &x), &a) in o.iter_mut().zip(&x.0).zip(&a.0) {
                if x.abs() < lim {
                    *o = a;
                }
            }
            Portable(o)
        }
    }

    #[cfg(target_arch = "x86_64")]
    pub(super) use x86::{Avx2, Avx512};

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use super::Simd;
        use std::arch::x86_64::*;

        /// 16 lanes of AVX-512F (only used inside `avx512f` functions).
        #[derive(Clone, Copy)]
        pub(in super::super) struct Avx512(__m512);

        /// 8 lanes of AVX2 + FMA (only used inside `avx2,fma` functions).
        #[derive(Clone, Copy)]
        pub(in super::super) struct Avx2(__m256);

        // SAFETY (all blocks below): these types are only instantiated in
        // kernels compiled with the matching target features, which are
        // detected at run time before those kernels are called.
        impl Simd for Avx512 {
            #[inline(always)]
            fn prefetch(p: *const f32) {
                // SAFETY: a hint only: never faults, whatever the address.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
            }
            const L: usize = 16;
            const WIDE_FILE: bool = true;

            #[inline(always)]
            unsafe fn load(p: *const f32) -> Self {
                // SAFETY: the caller guarantees `p` points to `L` readable floats.
                unsafe { Avx512(_mm512_loadu_ps(p)) }
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut f32) {
                // SAFETY: the caller guarantees `p` points to `L` writable floats.
                unsafe { _mm512_storeu_ps(p, self.0) }
            }
            #[inline(always)]
            fn splat(x: f32) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_set1_ps(x)) }
            }
            #[inline(always)]
            fn add(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_add_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn sub(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_sub_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn mul(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_mul_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn div(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_div_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn fma(self, b: Self, c: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_fmadd_ps(self.0, b.0, c.0)) }
            }
            #[inline(always)]
            fn min(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_min_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn max(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx512(_mm512_max_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn floor(self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe {
                    Avx512(_mm512_roundscale_ps::<
                        { _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC },
                    >(self.0))
                }
            }
            #[inline(always)]
            fn exp2i(self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe {
                    let i = _mm512_add_epi32(_mm512_cvtps_epi32(self.0), _mm512_set1_epi32(127));
                    Avx512(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(i)))
                }
            }
            #[inline(always)]
            fn select_small(x: Self, lim: f32, a: Self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe {
                    let m =
                        _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(x.0), _mm512_set1_ps(lim));
                    Avx512(_mm512_mask_blend_ps(m, b.0, a.0))
                }
            }
        }

        impl Simd for Avx2 {
            #[inline(always)]
            fn prefetch(p: *const f32) {
                // SAFETY: a hint only: never faults, whatever the address.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
            }
            const L: usize = 8;
            const WIDE_FILE: bool = false;

            #[inline(always)]
            unsafe fn load(p: *const f32) -> Self {
                // SAFETY: the caller guarantees `p` points to `L` readable floats.
                unsafe { Avx2(_mm256_loadu_ps(p)) }
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut f32) {
                // SAFETY: the caller guarantees `p` points to `L` writable floats.
                unsafe { _mm256_storeu_ps(p, self.0) }
            }
            #[inline(always)]
            fn splat(x: f32) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_set1_ps(x)) }
            }
            #[inline(always)]
            fn add(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_add_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn sub(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_sub_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn mul(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_mul_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn div(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_div_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn fma(self, b: Self, c: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_fmadd_ps(self.0, b.0, c.0)) }
            }
            #[inline(always)]
            fn min(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_min_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn max(self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe { Avx2(_mm256_max_ps(self.0, b.0)) }
            }
            #[inline(always)]
            fn floor(self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe {
                    Avx2(_mm256_round_ps::<
                        { _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC },
                    >(self.0))
                }
            }
            #[inline(always)]
            fn exp2i(self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe {
                    let i = _mm256_add_epi32(_mm256_cvtps_epi32(self.0), _mm256_set1_epi32(127));
                    Avx2(_mm256_castsi256_ps(_mm256_slli_epi32::<23>(i)))
                }
            }
            #[inline(always)]
            fn select_small(x: Self, lim: f32, a: Self, b: Self) -> Self {
                // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
                unsafe {
                    let ax =
                        _mm256_and_ps(x.0, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff)));
                    let m = _mm256_cmp_ps::<_CMP_LT_OQ>(ax, _mm256_set1_ps(lim));
                    Avx2(_mm256_blendv_ps(b.0, a.0, m))
                }
            }
        }
    }
}

use simd::Simd;

/// The tiles of the passes through time, each compiled as a function of
/// its own for one instruction set and never inlined into the loops over
/// steps and tiles. Inlined there, the gate math's loop-invariant constants
/// were hoisted out of all the loops and held registers through the
/// multiply-add loop, whose accumulators then lived on the stack (AVX2, 16
/// registers: a store and a reload per multiply-add, twice the time). A
/// closure cannot do this: compiled on its own it lacks the target
/// features, and the intrinsics inside it stay calls.
trait Tiles: Simd {
    /// [`fwd_tile`] for this instruction set.
    ///
    /// # Safety
    /// As [`fwd_tile`].
    unsafe fn fwd_tile<const R: usize, const GRU: bool>(
        d: &Geo,
        p: &FwdBufs,
        t: usize,
        tp: Option<usize>,
        j: usize,
        r0: usize,
    );

    /// [`bwd_tile`] for this instruction set.
    ///
    /// # Safety
    /// As [`bwd_tile`].
    #[allow(clippy::too_many_arguments)]
    unsafe fn bwd_tile<const R: usize, const NB: usize, const GRU: bool>(
        d: &Geo,
        p: &BwdBufs,
        t: usize,
        tn: Option<usize>,
        tp: Option<usize>,
        jb: usize,
        r0: usize,
    );
}

macro_rules! tiles_for {
    ($ty:ty $(, $feat:literal)?) => {
        impl Tiles for $ty {
            $(#[target_feature(enable = $feat)])?
            #[inline(never)]
            unsafe fn fwd_tile<const R: usize, const GRU: bool>(
                d: &Geo,
                p: &FwdBufs,
                t: usize,
                tp: Option<usize>,
                j: usize,
                r0: usize,
            ) {
                // SAFETY: this function's contract is `fwd_tile`'s, and the
                // features its vectors need are enabled here.
                unsafe { fwd_tile::<Self, R, GRU>(d, p, t, tp, j, r0) }
            }

            $(#[target_feature(enable = $feat)])?
            #[inline(never)]
            unsafe fn bwd_tile<const R: usize, const NB: usize, const GRU: bool>(
                d: &Geo,
                p: &BwdBufs,
                t: usize,
                tn: Option<usize>,
                tp: Option<usize>,
                jb: usize,
                r0: usize,
            ) {
                // SAFETY: this function's contract is `bwd_tile`'s, and the
                // features its vectors need are enabled here.
                unsafe { bwd_tile::<Self, R, NB, GRU>(d, p, t, tn, tp, jb, r0) }
            }
        }
    };
}

tiles_for!(simd::Portable);
#[cfg(target_arch = "x86_64")]
tiles_for!(simd::Avx2, "avx2,fma");
#[cfg(target_arch = "x86_64")]
tiles_for!(simd::Avx512, "avx512f,avx2,fma");

/// Vector lanes of the fused layer kernels for `isa`.
fn lanes(isa: Isa) -> usize {
    match isa.level() {
        Level::Avx512 => 16,
        Level::Avx2 | Level::Portable => 8,
    }
}

/// Reusable large buffers: a training step needs the same few tens of MB
/// per layer every step, and zeroing or faulting them in again costs more
/// than the gate math. Buffers taken from here hold stale values: only
/// buffers that the kernels overwrite completely come from the pool.
mod pool {
    use std::sync::Mutex;

    static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
    /// At most this many f32 values are kept (256 MB).
    const KEEP: usize = 64 << 20;

    /// A buffer of `n` values with unspecified (but initialized) contents.
    pub(super) fn take(n: usize) -> Vec<f32> {
        let mut v = {
            let Ok(mut p) = POOL.lock() else {
                return vec![0f32; n];
            };
            // The smallest buffer with room for n values, else a new one
            // (growing a small one would copy its stale contents).
            let fit = (0..p.len())
                .filter(|&i| p[i].capacity() >= n)
                .min_by_key(|&i| p[i].capacity());
            match fit {
                Some(i) => p.swap_remove(i),
                None => return vec![0f32; n],
            }
        };
        if v.len() >= n {
            v.truncate(n);
        } else {
            v.resize(n, 0.0);
        }
        v
    }

    /// Returns `v` to the pool.
    pub(super) fn give(v: Vec<f32>) {
        if v.is_empty() {
            return;
        }
        if let Ok(mut p) = POOL.lock() {
            p.push(v);
            // Over budget: drop the smallest buffers.
            p.sort_by_key(|b| std::cmp::Reverse(b.capacity()));
            let mut held = 0;
            p.retain(|b| {
                held += b.capacity();
                held <= KEEP
            });
        }
    }
}

/// Sizes of one layer of the fused op (time-major).
#[derive(Debug, Clone, Copy)]
struct Geo {
    t: usize,
    b: usize,
    /// Input features.
    i: usize,
    h: usize,
    /// `h` rounded up to the vector width.
    hp: usize,
    g: usize,
    lanes: usize,
    reverse: bool,
}

impl Geo {
    fn time(&self, s: usize) -> usize {
        if self.reverse { self.t - 1 - s } else { s }
    }
    fn blocks(&self) -> usize {
        self.hp / self.lanes
    }
    /// Rows of the forward panels: input features then hidden units.
    fn k(&self) -> usize {
        self.i + self.h
    }
    fn ghp(&self) -> usize {
        self.g * self.hp
    }
}

/// A raw pointer shared by the threads, each touching its own batch rows.
#[derive(Clone, Copy)]
struct P(*mut f32);
// SAFETY: threads write disjoint rows (see the callers).
unsafe impl Send for P {}
// SAFETY: shared between threads only while each writes its own disjoint
// rows (see the callers); reads of rows others write never happen.
unsafe impl Sync for P {}

impl P {
    fn of(v: &mut [f32]) -> P {
        P(v.as_mut_ptr())
    }
    fn of_ref(v: &[f32]) -> P {
        P(v.as_ptr() as *mut f32)
    }
    /// # Safety
    /// `n` is within the buffer.
    #[inline(always)]
    unsafe fn at(self, n: usize) -> *mut f32 {
        // SAFETY: the caller keeps `n` within the buffer (this function's contract).
        unsafe { self.0.add(n) }
    }
}

/// Splits `rows` into tiles of at most 6 rows of nearly equal size.
fn tiles(rows: Range<usize>) -> Vec<(usize, usize)> {
    tiles_of(rows, 6)
}

/// Splits `rows` into tiles of at most `max` rows of nearly equal size.
fn tiles_of(rows: Range<usize>, max: usize) -> Vec<(usize, usize)> {
    let n = rows.len();
    let nt = n.div_ceil(max).max(1);
    let (base, extra) = (n / nt, n % nt);
    let mut out = Vec::with_capacity(nt);
    let mut r = rows.start;
    for k in 0..nt {
        let len = base + usize::from(k < extra);
        if len > 0 {
            out.push((r, len));
        }
        r += len;
    }
    out
}

/// The forward buffers: inputs, packed weights and what is written.
#[derive(Clone, Copy)]
struct FwdBufs {
    /// `[T, B, I]`.
    x: P,
    /// Per block of `L` hidden units: `[K, G, L]` (x rows then h rows).
    panel: P,
    /// Per block: `[4, L]` initial accumulators (biases).
    bias: P,
    /// `[T, B, G, Hp]` gate activations.
    gates: P,
    /// LSTM: cell states; GRU: `W_hn h + b_hn`. `[T, B, Hp]`.
    extra: P,
    /// Hidden states `[T, B, Hp]`.
    hs: P,
}

/// One tile of one step of the forward pass: `R` batch rows from `r0`, the
/// hidden block `j`, gate pre-activations accumulated in registers and the
/// gate math done on them in place.
///
/// # Safety
/// `p`'s buffers are laid out for `d` (as the op builds them), rows
/// `r0..r0 + R` lie inside the batch and no other thread writes them
/// meanwhile, and the CPU runs the instruction set of `S`.
#[inline(always)]
unsafe fn fwd_tile<S: Simd, const R: usize, const GRU: bool>(
    d: &Geo,
    p: &FwdBufs,
    t: usize,
    tp: Option<usize>,
    j: usize,
    r0: usize,
) {
    let (l, g, hp, k) = (S::L, d.g, d.hp, d.k());
    // SAFETY: (whole body) every offset is inside the buffers laid out by
    // `fused_forward` for these sizes.
    // SAFETY: register-only intrinsic; the kernels using this type run only where the CPU has its feature (checked at run time).
    unsafe {
        let mut acc = [[S::zero(); 4]; R];
        let bias = p.bias.at(j * 4 * l);
        for q in 0..4 {
            let bq = S::load(bias.add(q * l));
            for row in acc.iter_mut() {
                row[q] = bq;
            }
        }
        let panel = p.panel.at(j * k * g * l);
        let xa = p.x.at((t * d.b + r0) * d.i);
        for pi in 0..d.i {
            let w = panel.add(pi * g * l);
            let w0 = S::load(w);
            let w1 = S::load(w.add(l));
            let w2 = S::load(w.add(2 * l));
            let w3 = if GRU { w2 } else { S::load(w.add(3 * l)) };
            for (r, row) in acc.iter_mut().enumerate() {
                let a = S::splat(*xa.add(r * d.i + pi));
                row[0] = a.fma(w0, row[0]);
                row[1] = a.fma(w1, row[1]);
                row[2] = a.fma(w2, row[2]);
                if !GRU {
                    row[3] = a.fma(w3, row[3]);
                }
            }
        }
        if let Some(tp) = tp {
            let ha = p.hs.at((tp * d.b + r0) * hp);
            for pi in 0..d.h {
                let w = panel.add((d.i + pi) * g * l);
                let w0 = S::load(w);
                let w1 = S::load(w.add(l));
                let w2 = S::load(w.add(2 * l));
                let w3 = if GRU { w2 } else { S::load(w.add(3 * l)) };
                for (r, row) in acc.iter_mut().enumerate() {
                    let a = S::splat(*ha.add(r * hp + pi));
                    row[0] = a.fma(w0, row[0]);
                    row[1] = a.fma(w1, row[1]);
                    if GRU {
                        row[3] = a.fma(w2, row[3]);
                    } else {
                        row[2] = a.fma(w2, row[2]);
                        row[3] = a.fma(w3, row[3]);
                    }
                }
            }
        }
        // The epilogue indexes rows dynamically (too big to unroll): give
        // it a copy so that `acc` itself can live in registers.
        let fin = std::hint::black_box(acc);
        let u0 = j * l;
        for (r, row) in fin.iter().enumerate() {
            let at = (t * d.b + r0 + r) * hp + u0;
            let gt = p.gates.at((t * d.b + r0 + r) * g * hp + u0);
            let prev = tp.map(|tp| (tp * d.b + r0 + r) * hp + u0);
            if GRU {
                let rg = row[0].sigmoid();
                let z = row[1].sigmoid();
                let hn = row[3];
                let n = rg.fma(hn, row[2]).tanh();
                let hprev = match prev {
                    Some(o) => S::load(p.hs.at(o)),
                    None => S::zero(),
                };
                let hv = z.fma(hprev.sub(n), n);
                rg.store(gt);
                z.store(gt.add(hp));
                n.store(gt.add(2 * hp));
                hn.store(p.extra.at(at));
                hv.store(p.hs.at(at));
            } else {
                let i = row[0].sigmoid();
                let f = row[1].sigmoid();
                let gg = row[2].tanh();
                let o = row[3].sigmoid();
                let cprev = match prev {
                    Some(o) => S::load(p.extra.at(o)),
                    None => S::zero(),
                };
                let c = f.fma(cprev, i.mul(gg));
                let hv = o.mul(c.tanh());
                i.store(gt);
                f.store(gt.add(hp));
                gg.store(gt.add(2 * hp));
                o.store(gt.add(3 * hp));
                c.store(p.extra.at(at));
                hv.store(p.hs.at(at));
            }
        }
    }
}

/// The forward pass over the batch rows `rows`, all steps.
///
/// # Safety
/// `p`'s buffers are laid out for `d`, `rows` lie inside the batch and no
/// other thread writes them meanwhile, and the CPU runs the instruction
/// set of `S`.
#[inline(always)]
unsafe fn fwd_rows<S: Tiles, const GRU: bool>(d: &Geo, p: &FwdBufs, rows: Range<usize>) {
    // A tile keeps 4 accumulators per row and the 4 gate weights in
    // registers: 6 rows fit 32 registers, 2 rows fit 16.
    let tl = tiles_of(rows, if S::WIDE_FILE { 6 } else { 2 });
    for s in 0..d.t {
        let t = d.time(s);
        let tp = (s > 0).then(|| d.time(s - 1));
        for j in 0..d.blocks() {
            for &(r0, mr) in &tl {
                // SAFETY: `fwd_rows`'s contract (buffers laid out for `d`,
                // `rows` ours, the CPU runs `S`) covers each tile of `rows`.
                unsafe {
                    match mr {
                        6 => S::fwd_tile::<6, GRU>(d, p, t, tp, j, r0),
                        5 => S::fwd_tile::<5, GRU>(d, p, t, tp, j, r0),
                        4 => S::fwd_tile::<4, GRU>(d, p, t, tp, j, r0),
                        3 => S::fwd_tile::<3, GRU>(d, p, t, tp, j, r0),
                        2 => S::fwd_tile::<2, GRU>(d, p, t, tp, j, r0),
                        _ => S::fwd_tile::<1, GRU>(d, p, t, tp, j, r0),
                    }
                }
            }
        }
    }
}

/// The backward buffers.
#[derive(Clone, Copy)]
struct BwdBufs {
    /// W_hh packed per chunk of up to 4 hidden blocks: `[G·Hp, nb·L]`.
    panel: P,
    gates: P,
    extra: P,
    hs: P,
    /// Gradient of the outputs `[T, B, Hp]`.
    dy: P,
    /// Gradient of the gate pre-activations `[T, B, G, Hp]` (written).
    dpre: P,
    /// GRU: gradient of the recurrent pre-activations `(dr, dz, dn·r)`
    /// `[T, B, G, Hp]` (written); LSTM: same as `dpre`.
    drec: P,
    /// Carried per row `[B, Hp]`: LSTM `dc`, GRU the direct part `dh·z`.
    carry: P,
}

/// One tile of one backward step: `dh = drec_{next} · W_hh` for `R` rows
/// and `NB` hidden blocks from `jb` in registers, then the gate gradients.
///
/// # Safety
/// As [`fwd_tile`]: `p`'s buffers are laid out for `d`, the tile's rows
/// and hidden blocks lie inside them and no other thread writes them
/// meanwhile, and the CPU runs the instruction set of `S`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn bwd_tile<S: Simd, const R: usize, const NB: usize, const GRU: bool>(
    d: &Geo,
    p: &BwdBufs,
    t: usize,
    tn: Option<usize>,
    tp: Option<usize>,
    jb: usize,
    r0: usize,
) {
    let (l, g, hp) = (S::L, d.g, d.hp);
    let kk = d.ghp();
    // SAFETY: (whole body) offsets inside the buffers of `fused_backward`.
    unsafe {
        // The epilogue of the next step for these rows reads their gates
        // and states at `tp`: start loading them now (from L3/DRAM).
        if let Some(tp) = tp {
            for r in 0..R {
                let row = tp * d.b + r0 + r;
                for bi in 0..NB {
                    let u0 = (jb + bi) * l;
                    for q in 0..g {
                        S::prefetch(p.gates.at(row * g * hp + q * hp + u0));
                    }
                    S::prefetch(p.extra.at(row * hp + u0));
                    S::prefetch(p.dy.at(row * hp + u0));
                }
            }
        }
        let mut acc = [[S::zero(); NB]; R];
        if let Some(tn) = tn {
            let a = p.drec.at((tn * d.b + r0) * kk);
            let panel = p.panel.at(jb * l * kk);
            mm(&mut acc, kk, a, kk, 1, panel, NB * l);
        }
        let one = S::splat(1.0);
        // See `fwd_tile`: the epilogue works on a copy.
        let fin = std::hint::black_box(acc);
        for (r, row) in fin.iter().enumerate() {
            let rr = r0 + r;
            for (bi, &dh_rec) in row.iter().enumerate() {
                let u0 = (jb + bi) * l;
                let at = (t * d.b + rr) * hp + u0;
                let gat = (t * d.b + rr) * g * hp + u0;
                let gt = p.gates.at(gat);
                let carry = p.carry.at(rr * hp + u0);
                let prev = tp.map(|tp| (tp * d.b + rr) * hp + u0);
                let dh = dh_rec.add(S::load(p.dy.at(at)));
                if GRU {
                    let dh = dh.add(S::load(carry));
                    let rg = S::load(gt);
                    let z = S::load(gt.add(hp));
                    let n = S::load(gt.add(2 * hp));
                    let hn = S::load(p.extra.at(at));
                    let hprev = match prev {
                        Some(o) => S::load(p.hs.at(o)),
                        None => S::zero(),
                    };
                    let dn = dh.mul(one.sub(z)).mul(one.sub(n.mul(n)));
                    let dr = dn.mul(hn).mul(rg.mul(one.sub(rg)));
                    let dz = dh.mul(hprev.sub(n)).mul(z.mul(one.sub(z)));
                    let dp = p.dpre.at(gat);
                    dr.store(dp);
                    dz.store(dp.add(hp));
                    dn.store(dp.add(2 * hp));
                    let dq = p.drec.at(gat);
                    dr.store(dq);
                    dz.store(dq.add(hp));
                    dn.mul(rg).store(dq.add(2 * hp));
                    dh.mul(z).store(carry);
                } else {
                    let i = S::load(gt);
                    let f = S::load(gt.add(hp));
                    let gg = S::load(gt.add(2 * hp));
                    let o = S::load(gt.add(3 * hp));
                    let c = S::load(p.extra.at(at));
                    let cprev = match prev {
                        Some(o) => S::load(p.extra.at(o)),
                        None => S::zero(),
                    };
                    let tc = c.tanh();
                    let dc = dh.mul(o).fma(one.sub(tc.mul(tc)), S::load(carry));
                    let dp = p.dpre.at(gat);
                    dc.mul(gg).mul(i.mul(one.sub(i))).store(dp);
                    dc.mul(cprev).mul(f.mul(one.sub(f))).store(dp.add(hp));
                    dc.mul(i).mul(one.sub(gg.mul(gg))).store(dp.add(2 * hp));
                    dh.mul(tc).mul(o.mul(one.sub(o))).store(dp.add(3 * hp));
                    dc.mul(f).store(carry);
                }
            }
        }
    }
}

/// `acc[r][v] += Σ_p A(r, p) · B[p][v·L .. v·L + L]` for `p < k`, with
/// `A(r, p) = a[r·ars + p·acs]` and rows of `B` `ldb` apart.
///
/// # Safety
/// `a` holds `A(r, p)` for `r < R`, `p < k`; `b` holds `k` rows of
/// `NV · L` values `ldb` apart; the CPU runs the instruction set of `S`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn mm<S: Simd, const R: usize, const NV: usize>(
    acc: &mut [[S; NV]; R],
    k: usize,
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    ldb: usize,
) {
    // SAFETY: the caller guarantees the extents.
    unsafe {
        for p in 0..k {
            let mut w = [S::zero(); NV];
            for (v, wv) in w.iter_mut().enumerate() {
                *wv = S::load(b.add(p * ldb + v * S::L));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let s = S::splat(*a.add(r * ars + p * acs));
                for (av, wv) in row.iter_mut().zip(&w) {
                    *av = s.fma(*wv, *av);
                }
            }
        }
    }
}

/// One job of the gradient products after the pass through time.
#[derive(Clone, Copy)]
enum Prod {
    /// `out[n][m] += Σ_row xs[row][n] · dp[row][m]` for `n < cols`,
    /// `m < m` (a multiple of the vector width): a weight gradient,
    /// transposed.
    Outer {
        rows: usize,
        xs: P,
        ldx: usize,
        cols: usize,
        dp: P,
        ldd: usize,
        m: usize,
        out: P,
    },
    /// `out[row][n] = Σ_m dp[row][m] · w[m][n]` for `n < ldw` (a multiple
    /// of the vector width), `m < k`: the gradient of the input.
    Data {
        rows: usize,
        dp: P,
        k: usize,
        w: P,
        ldw: usize,
        out: P,
    },
}

/// One tile of a gradient product: rows `r0..r0 + R` and vectors of
/// columns from `c0`.
///
/// # Safety
/// The job's buffers hold the product's operands and output (as
/// [`weight_grads`] builds them), the tile lies inside them, no other thread
/// writes its part of the output meanwhile, and the CPU runs the
/// instruction set of `S`.
#[inline(always)]
unsafe fn prod_tile<S: Simd, const R: usize, const NV: usize>(
    job: &Prod,
    r0: usize,
    c0: usize,
    kr: Range<usize>,
) {
    let l = S::L;
    // SAFETY: offsets inside the buffers described by `job`.
    unsafe {
        match *job {
            Prod::Outer {
                xs,
                ldx,
                dp,
                ldd,
                m,
                out,
                ..
            } => {
                // r0: first column n, c0: first vector of m.
                let mut acc = [[S::zero(); NV]; R];
                for (r, row) in acc.iter_mut().enumerate() {
                    for (v, av) in row.iter_mut().enumerate() {
                        *av = S::load(out.at((r0 + r) * m + (c0 + v) * l));
                    }
                }
                mm(
                    &mut acc,
                    kr.len(),
                    xs.at(kr.start * ldx + r0),
                    1,
                    ldx,
                    dp.at(kr.start * ldd + c0 * l),
                    ldd,
                );
                for (r, row) in acc.iter().enumerate() {
                    for (v, av) in row.iter().enumerate() {
                        av.store(out.at((r0 + r) * m + (c0 + v) * l));
                    }
                }
            }
            Prod::Data {
                dp, k, w, ldw, out, ..
            } => {
                // r0: first row, c0: first vector of n.
                let mut acc = [[S::zero(); NV]; R];
                mm(&mut acc, k, dp.at(r0 * k), k, 1, w.at(c0 * l), ldw);
                for (r, row) in acc.iter().enumerate() {
                    for (v, av) in row.iter().enumerate() {
                        av.store(out.at((r0 + r) * ldw + (c0 + v) * l));
                    }
                }
            }
        }
    }
}

/// Runs a gradient product (see [`Prod`]).
///
/// # Safety
/// As [`prod_tile`], for the whole job.
#[inline(always)]
unsafe fn prod_run<S: Simd>(job: &Prod) {
    macro_rules! tile {
        ($r:expr, $nv:expr, $r0:expr, $c0:expr, $kr:expr) => {{
            macro_rules! nv {
                ($rr:literal) => {
                    match $nv {
                        4 => prod_tile::<S, $rr, 4>(job, $r0, $c0, $kr),
                        2 => prod_tile::<S, $rr, 2>(job, $r0, $c0, $kr),
                        _ => prod_tile::<S, $rr, 1>(job, $r0, $c0, $kr),
                    }
                };
            }
            match $r {
                6 => nv!(6),
                5 => nv!(5),
                4 => nv!(4),
                3 => nv!(3),
                2 => nv!(2),
                _ => nv!(1),
            }
        }};
    }
    // SAFETY: `prod_run`'s contract (the job's buffers fit it, the CPU runs
    // `S`) covers each tile, all inside the job's rows and columns.
    unsafe {
        match *job {
            Prod::Outer { rows, cols, m, .. } => {
                const RB: usize = 192;
                for k0 in (0..rows).step_by(RB) {
                    let kr = k0..(k0 + RB).min(rows);
                    for (c0, nv) in chunks(m / S::L, tile_shape::<S>().1) {
                        for (n0, r) in tiles(0..cols) {
                            tile!(r, nv, n0, c0, kr.clone());
                        }
                    }
                }
            }
            Prod::Data { rows, ldw, .. } => {
                for (r0, r) in tiles(0..rows) {
                    for (c0, nv) in chunks(ldw / S::L, tile_shape::<S>().1) {
                        tile!(r, nv, r0, c0, 0..0);
                    }
                }
            }
        }
    }
}

/// Runs `job` with the instruction set `v` (detected on this CPU).
fn run_prod(v: Isa, job: &Prod) {
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// As [`prod_run`], and the CPU runs AVX-512F, AVX2 and FMA.
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn avx512(job: &Prod) {
            // SAFETY: this function's contract is `prod_run`'s, and AVX-512
            // is enabled here.
            unsafe { prod_run::<simd::Avx512>(job) }
        }
        /// # Safety
        /// As [`prod_run`], and the CPU runs AVX2 and FMA.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2(job: &Prod) {
            // SAFETY: this function's contract is `prod_run`'s, and AVX2 is
            // enabled here.
            unsafe { prod_run::<simd::Avx2>(job) }
        }
        match v.level() {
            // SAFETY: the job's buffers are built to fit (see `weight_grads`)
            // and the instruction set was detected on this CPU.
            Level::Avx512 => return unsafe { avx512(job) },
            // SAFETY: the job's buffers fit it (see `weight_grads`) and an
            // `Isa` of level AVX2 means the CPU runs AVX2 and FMA.
            Level::Avx2 => return unsafe { avx2(job) },
            Level::Portable => {}
        }
    }
    // SAFETY: the job's buffers fit it (see `weight_grads`); the portable
    // vectors need no instruction beyond the compilation target's.
    unsafe { prod_run::<simd::Portable>(job) }
}

/// The backward pass through time over the batch rows `rows`.
///
/// # Safety
/// As [`fwd_rows`], with the backward buffers.
#[inline(always)]
unsafe fn bwd_rows<S: Tiles, const GRU: bool>(d: &Geo, p: &BwdBufs, rows: Range<usize>) {
    // 32 registers: 4 rows x 4 blocks of accumulators leave room for the
    // operands (six rows spill); 16 registers: 6 rows x 2 blocks.
    let (max_rows, max_nb) = tile_shape::<S>();
    let tl = tiles_of(rows, max_rows);
    let nblk = d.blocks();
    for s in (0..d.t).rev() {
        let t = d.time(s);
        let tn = (s + 1 < d.t).then(|| d.time(s + 1));
        let tp = (s > 0).then(|| d.time(s - 1));
        for &(r0, mr) in &tl {
            for (jb, nb) in chunks(nblk, max_nb) {
                macro_rules! go {
                    ($r:literal) => {
                        match nb {
                            4 => S::bwd_tile::<$r, 4, GRU>(d, p, t, tn, tp, jb, r0),
                            2 => S::bwd_tile::<$r, 2, GRU>(d, p, t, tn, tp, jb, r0),
                            _ => S::bwd_tile::<$r, 1, GRU>(d, p, t, tn, tp, jb, r0),
                        }
                    };
                }
                // SAFETY: `bwd_rows`'s contract (buffers laid out for `d`,
                // `rows` ours, the CPU runs `S`) covers each tile of `rows`.
                unsafe {
                    match mr {
                        6 => go!(6),
                        5 => go!(5),
                        4 => go!(4),
                        3 => go!(3),
                        2 => go!(2),
                        _ => go!(1),
                    }
                }
            }
        }
    }
}

/// The largest backward tile for `S`: (rows, hidden blocks).
fn tile_shape<S: Simd>() -> (usize, usize) {
    if S::WIDE_FILE { (4, 4) } else { (6, 2) }
}

/// The most hidden blocks per backward tile with the instruction set `isa`
/// (as [`tile_shape`]; the packed weights follow it).
fn max_blocks(isa: Isa) -> usize {
    match isa.level() {
        Level::Avx512 => 4,
        Level::Avx2 | Level::Portable => 2,
    }
}

/// Chunks `(first, count)` of `nblk` hidden blocks (or vectors) for tiles
/// of at most `max` (4 or 2): sizes 4, 2 or 1.
fn chunks(nblk: usize, max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut jb = 0;
    while jb < nblk {
        let nb = match nblk - jb {
            1 => 1,
            2 | 3 => 2,
            _ => max.min(4),
        };
        out.push((jb, nb));
        jb += nb;
    }
    out
}

macro_rules! isa_entry {
    ($name:ident, $inner:ident, $bufs:ty) => {
        /// Runs the kernel with the instruction set `v` (detected on this CPU).
        fn $name(v: Isa, gru: bool, d: &Geo, p: &$bufs, rows: Range<usize>) {
            #[cfg(target_arch = "x86_64")]
            {
                /// # Safety
                /// As the kernel, and the CPU runs AVX-512F, AVX2 and FMA.
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512(gru: bool, d: &Geo, p: &$bufs, rows: Range<usize>) {
                    // SAFETY: this function's contract is the kernel's, and
                    // AVX-512 is enabled here.
                    unsafe {
                        if gru {
                            $inner::<simd::Avx512, true>(d, p, rows)
                        } else {
                            $inner::<simd::Avx512, false>(d, p, rows)
                        }
                    }
                }
                /// # Safety
                /// As the kernel, and the CPU runs AVX2 and FMA.
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2(gru: bool, d: &Geo, p: &$bufs, rows: Range<usize>) {
                    // SAFETY: this function's contract is the kernel's, and
                    // AVX2 is enabled here.
                    unsafe {
                        if gru {
                            $inner::<simd::Avx2, true>(d, p, rows)
                        } else {
                            $inner::<simd::Avx2, false>(d, p, rows)
                        }
                    }
                }
                match v.level() {
                    // SAFETY: the buffers fit `d` (built by the op) and the
                    // instruction set was detected on this CPU.
                    Level::Avx512 => return unsafe { avx512(gru, d, p, rows) },
                    // SAFETY: the buffers fit `d` (built by the op) and an
                    // `Isa` of level AVX2 means the CPU runs AVX2 and FMA.
                    Level::Avx2 => return unsafe { avx2(gru, d, p, rows) },
                    Level::Portable => {}
                }
            }
            // SAFETY: the buffers fit `d`.
            unsafe {
                if gru {
                    $inner::<simd::Portable, true>(d, p, rows)
                } else {
                    $inner::<simd::Portable, false>(d, p, rows)
                }
            }
        }
    };
}

isa_entry!(run_fwd, fwd_rows, FwdBufs);
isa_entry!(run_bwd, bwd_rows, BwdBufs);

/// Runs `f` on the batch rows split into groups, which the compute threads
/// claim as they come free: rows are independent through the whole
/// sequence, so a thread held up by another process leaves its rows to the
/// others. Groups of 12 rows (an even number below 12 when there are too
/// few rows for one group per thread) split into whole tiles of every
/// shape (2 and 6 rows with AVX2, 6 and 4 with AVX-512): groups of 11
/// left a one-row tile, which runs at half the rate.
fn over_batch(b: usize, f: impl Fn(Range<usize>) + Sync) {
    let threads = par::threads();
    let group = if b >= 12 * threads {
        12
    } else {
        b.div_ceil(threads).next_multiple_of(2).max(2)
    };
    let groups: Vec<Range<usize>> = (0..b)
        .step_by(group)
        .map(|s| s..(s + group).min(b))
        .collect();
    par::run_parts(groups.len(), &|i| f(groups[i].clone()));
}

/// What the forward pass keeps for the backward pass (time-major, padded).
struct SeqSaved {
    gates: Vec<f32>,
    extra: Vec<f32>,
    /// The padded hidden states when `Hp != H` (else the op's output).
    hs_pad: Option<Vec<f32>>,
}

impl Drop for SeqSaved {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.gates));
        pool::give(std::mem::take(&mut self.extra));
        if let Some(v) = self.hs_pad.take() {
            pool::give(v);
        }
    }
}

/// The whole-layer op: `x` `[T, B, I]` and the weights `[G·H, I + H + 2]`
/// (`W_ih | W_hh | b | b_hn`) -> hidden states `[T, B, H]`.
struct SeqOp {
    cell: Cell,
    reverse: bool,
    isa: Isa,
    saved: Mutex<Option<SeqSaved>>,
}

impl std::fmt::Debug for SeqOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeqOp")
            .field("cell", &self.cell)
            .field("reverse", &self.reverse)
            .finish()
    }
}

impl SeqOp {
    fn geo(&self, x: &[usize], w: &[usize]) -> Result<Geo> {
        let (&[t, b, i], &[gh, cols]) = (x, w) else {
            bail!("rnn: expected x [T, B, I] and weights [G*H, I+H+2], got {x:?}, {w:?}")
        };
        let g = self.cell.gates();
        let h = gh / g;
        if gh != g * h || h == 0 || cols != i + h + 2 || t == 0 {
            bail!(
                "rnn: x {x:?} and weights {w:?} do not fit a {:?} layer",
                self.cell
            )
        }
        let lanes = lanes(self.isa);
        Ok(Geo {
            t,
            b,
            i,
            h,
            hp: h.div_ceil(lanes) * lanes,
            g,
            lanes,
            reverse: self.reverse,
        })
    }
}

/// Packs the forward panels and biases from the weights `w` `[G·H, I+H+2]`.
fn pack_forward(d: &Geo, cell: Cell, w: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (l, g, h, k) = (d.lanes, d.g, d.h, d.k());
    let cols = k + 2;
    let nblk = d.blocks();
    let mut panel = vec![0f32; nblk * k * g * l];
    let mut bias = vec![0f32; nblk * 4 * l];
    for j in 0..nblk {
        for lane in 0..l {
            let u = j * l + lane;
            if u >= h {
                continue;
            }
            for q in 0..g {
                let row = &w[(q * h + u) * cols..(q * h + u + 1) * cols];
                for (p, &v) in row[..k].iter().enumerate() {
                    panel[((j * k + p) * g + q) * l + lane] = v;
                }
                bias[(j * 4 + q) * l + lane] = row[k];
            }
            if cell == Cell::Gru {
                bias[(j * 4 + 3) * l + lane] = w[(2 * h + u) * cols + k + 1];
            }
        }
    }
    (panel, bias)
}

/// Packs `W_hh` for the backward tiles: per chunk, `[G·Hp, nb·L]` with
/// element `(q·Hp + u', u) = W_hh[q·H + u', u]`.
fn pack_backward(d: &Geo, isa: Isa, w: &[f32]) -> Vec<f32> {
    let (l, g, h, hp) = (d.lanes, d.g, d.h, d.hp);
    let cols = d.k() + 2;
    let kk = d.ghp();
    let mut out = vec![0f32; kk * hp];
    for (jb, nb) in chunks(d.blocks(), max_blocks(isa)) {
        let base = jb * l * kk;
        let width = nb * l;
        for q in 0..g {
            for up in 0..h {
                let k = q * hp + up;
                let row = &w[(q * h + up) * cols + d.i..];
                for c in 0..width {
                    let u = jb * l + c;
                    if u < h {
                        out[base + k * width + c] = row[u];
                    }
                }
            }
        }
    }
    out
}

impl candle_core::CustomOp2 for SeqOp {
    fn name(&self) -> &'static str {
        "spindle-rnn-sequence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.geo(l1.dims(), l2.dims())?;
        let x = slice(s1, l1, "rnn x")?;
        let w = slice(s2, l2, "rnn weights")?;
        let (panel, bias) = pack_forward(&d, self.cell, w);
        let rows = d.t * d.b;
        let mut gates = pool::take(rows * d.ghp());
        let mut extra = pool::take(rows * d.hp);
        let mut hs = if d.hp == d.h {
            vec![0f32; rows * d.h]
        } else {
            pool::take(rows * d.hp)
        };
        let bufs = FwdBufs {
            x: P::of_ref(x),
            panel: P::of_ref(&panel),
            bias: P::of_ref(&bias),
            gates: P::of(&mut gates),
            extra: P::of(&mut extra),
            hs: P::of(&mut hs),
        };
        let gru = self.cell == Cell::Gru;
        over_batch(d.b, |r| run_fwd(self.isa, gru, &d, &bufs, r));
        let (out, hs_pad) = if d.hp == d.h {
            (hs, None)
        } else {
            let mut out = vec![0f32; rows * d.h];
            for (o, src) in out.chunks_exact_mut(d.h).zip(hs.chunks_exact(d.hp)) {
                o.copy_from_slice(&src[..d.h]);
            }
            (out, Some(hs))
        };
        if let Ok(mut slot) = self.saved.lock() {
            *slot = Some(SeqSaved {
                gates,
                extra,
                hs_pad,
            });
        }
        Ok((CpuStorage::F32(out), Shape::from((d.t, d.b, d.h))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let d = self.geo(x.dims(), w.dims())?;
        let guard = self
            .saved
            .lock()
            .map_err(|_| candle_core::Error::Msg("rnn: poisoned".into()))?;
        let Some(saved) = guard.as_ref() else {
            bail!("rnn: backward without a forward pass")
        };
        let (t, b, i, h, hp, g) = (d.t, d.b, d.i, d.h, d.hp, d.g);
        let ghp = d.ghp();
        let rows = t * b;
        let cols = i + h + 2;
        let gru = self.cell == Cell::Gru;
        let wv = w.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let wpanel = pack_backward(&d, self.isa, &wv);
        let mut dpre = pool::take(rows * ghp);
        let mut drec = if gru {
            pool::take(rows * ghp)
        } else {
            Vec::new()
        };
        let mut carry = vec![0f32; b * hp];
        let need_dx = x.track_op();
        let Grads {
            dw: dw_pad,
            db: db_pad,
            dx,
        } = with_f32(res, |out| {
            with_f32(grad, |dout| {
                with_f32(x, |xv| {
                    let hs: &[f32] = saved.hs_pad.as_deref().unwrap_or(out);
                    let dy_pad;
                    let dy: &[f32] = if hp == h {
                        dout
                    } else {
                        let mut v = vec![0f32; rows * hp];
                        for (o, s) in v.chunks_exact_mut(hp).zip(dout.chunks_exact(h)) {
                            o[..h].copy_from_slice(s);
                        }
                        dy_pad = v;
                        &dy_pad
                    };
                    let dpre_p = P::of(&mut dpre);
                    let bufs = BwdBufs {
                        panel: P::of_ref(&wpanel),
                        gates: P::of_ref(&saved.gates),
                        extra: P::of_ref(&saved.extra),
                        hs: P::of_ref(hs),
                        dy: P::of_ref(dy),
                        dpre: dpre_p,
                        drec: if gru { P::of(&mut drec) } else { dpre_p },
                        carry: P::of(&mut carry),
                    };
                    over_batch(b, |r| run_bwd(self.isa, gru, &d, &bufs, r));
                    let drec: &[f32] = if gru { &drec } else { &dpre };
                    weight_grads(&d, self.isa, xv, hs, &dpre, drec, gru, &wv, need_dx)
                })
            })
        })?;
        // Unpad: rows q·Hp + u -> q·H + u.
        let mut dw = vec![0f32; g * h * cols];
        for q in 0..g {
            for u in 0..h {
                let src = &dw_pad[(q * hp + u) * (i + h + 2)..(q * hp + u + 1) * (i + h + 2)];
                let dst = &mut dw[(q * h + u) * cols..(q * h + u + 1) * cols];
                dst[..i + h].copy_from_slice(&src[..i + h]);
                dst[i + h] = db_pad[q * hp + u];
                if gru && q == 2 {
                    dst[i + h + 1] = db_pad[3 * hp + u];
                }
            }
        }
        pool::give(dpre);
        pool::give(drec);
        let dx = match dx {
            Some(v) => Some(tensor(v, &[t, b, i])?),
            None => None,
        };
        Ok((dx, Some(tensor(dw, &[g * h, cols])?)))
    }
}

/// What [`weight_grads`] returns.
struct Grads {
    /// `dW` padded `[G·Hp, I + H + 2]` (last two columns unused).
    dw: Vec<f32>,
    /// Bias sums `[G·Hp]`, then GRU's `b_hn` sum `[Hp]`.
    db: Vec<f32>,
    /// The gradient of `x` `[T, B, I]`, when asked for.
    dx: Option<Vec<f32>>,
}

/// The gradients after the pass through time, split over the threads by
/// time steps: `dW_ih = Σ dpre_tᵀ x_t`, `dW_hh = Σ drec_tᵀ h_prev`, the
/// bias sums (`[G·Hp]`, and the GRU `b_hn` sum in a fourth block), and
/// `dx = dpre · W_ih` when `need_dx`. Returns `dW` padded
/// `[G·Hp, I + H + 2]` (last two columns unused), the bias sums and `dx`.
#[allow(clippy::too_many_arguments)]
fn weight_grads(
    d: &Geo,
    isa: Isa,
    x: &[f32],
    hs: &[f32],
    dpre: &[f32],
    drec: &[f32],
    gru: bool,
    w: &[f32],
    need_dx: bool,
) -> Result<Grads> {
    let (t, b, i, h, hp) = (d.t, d.b, d.i, d.h, d.hp);
    let ghp = d.ghp();
    let cols = i + h + 2;
    // Partial sums over time ranges, transposed: [I + H][G·Hp].
    let parts = par::map_ranges(t, 8, |tr| -> (Vec<f32>, Vec<f32>) {
        let mut dwt = vec![0f32; (i + h) * ghp];
        let (r0, nr) = (tr.start * b, tr.len() * b);
        if i > 0 {
            let job = Prod::Outer {
                rows: nr,
                xs: P::of_ref(&x[r0 * i..]),
                ldx: i,
                cols: i,
                dp: P::of_ref(&dpre[r0 * ghp..]),
                ldd: ghp,
                m: ghp,
                out: P::of(&mut dwt),
            };
            run_prod(isa, &job);
        }
        // dW_hh pairs drec at step t with h at the step before it.
        let (ta, tb) = if d.reverse {
            (tr.start, tr.end.min(t - 1))
        } else {
            (tr.start.max(1), tr.end)
        };
        if tb > ta {
            let hoff = if d.reverse {
                (ta + 1) * b
            } else {
                (ta - 1) * b
            };
            let job = Prod::Outer {
                rows: (tb - ta) * b,
                xs: P::of_ref(&hs[hoff * hp..]),
                ldx: hp,
                cols: h,
                dp: P::of_ref(&drec[ta * b * ghp..]),
                ldd: ghp,
                m: ghp,
                out: P::of(&mut dwt[i * ghp..]),
            };
            run_prod(isa, &job);
        }
        let mut db = vec![0f32; ghp + hp];
        for r in r0..r0 + nr {
            let row = &dpre[r * ghp..(r + 1) * ghp];
            db[..ghp].iter_mut().zip(row).for_each(|(a, v)| *a += v);
            if gru {
                let nrec = &drec[r * ghp + 2 * hp..(r + 1) * ghp];
                db[ghp..].iter_mut().zip(nrec).for_each(|(a, v)| *a += v);
            }
        }
        (dwt, db)
    });
    let mut dwt = vec![0f32; (i + h) * ghp];
    let mut db = vec![0f32; ghp + hp];
    for (pw, pb) in parts {
        dwt.iter_mut().zip(pw).for_each(|(a, v)| *a += v);
        db.iter_mut().zip(pb).for_each(|(a, v)| *a += v);
    }
    let mut dw = vec![0f32; ghp * cols];
    for (n, row) in dwt.chunks_exact(ghp).enumerate() {
        for (m, &v) in row.iter().enumerate() {
            dw[m * cols + n] = v;
        }
    }
    let dx = if need_dx && i > 0 {
        // W_ih transposed and padded: [G·Hp, Ip].
        let ip = i.div_ceil(d.lanes) * d.lanes;
        let mut wt = vec![0f32; ghp * ip];
        for q in 0..d.g {
            for u in 0..h {
                let src = &w[(q * h + u) * cols..(q * h + u) * cols + i];
                wt[(q * hp + u) * ip..(q * hp + u) * ip + i].copy_from_slice(src);
            }
        }
        let mut dxp = if ip == i {
            vec![0f32; t * b * i]
        } else {
            pool::take(t * b * ip)
        };
        par::for_rows_mut(&mut dxp, ip, 16, |rr, chunk| {
            let job = Prod::Data {
                rows: rr.len(),
                dp: P::of_ref(&dpre[rr.start * ghp..]),
                k: ghp,
                w: P::of_ref(&wt),
                ldw: ip,
                out: P::of(chunk),
            };
            run_prod(isa, &job);
        });
        if ip == i {
            Some(dxp)
        } else {
            let mut dx = vec![0f32; t * b * i];
            for (o, s) in dx.chunks_exact_mut(i).zip(dxp.chunks_exact(ip)) {
                o.copy_from_slice(&s[..i]);
            }
            pool::give(dxp);
            Some(dx)
        }
    } else {
        None
    };
    Ok(Grads { dw, db, dx })
}

/// Runs one layer over a whole time-major sequence: `x` `[T, B, I]`,
/// `w` `[G·H, I + H + 2]` laid out as `W_ih | W_hh | b | b_hn`, where `b`
/// holds every bias folded into the input projection (LSTM `b_ih + b_hh`;
/// GRU `b_ih + (b_hr, b_hz, 0)`) and the last column GRU's `b_hn` in the
/// rows of the `n` gate (zeros elsewhere and for LSTM). Returns the hidden
/// states `[T, B, H]`, processing time backwards when `reverse`.
///
/// The input projection, the recurrence and the gate math run in one pass
/// per step (no `[T, B, G·H]` projection in memory); the backward pass
/// computes the weight gradients as a few large products, and the gradient
/// of `x` only when `x` needs one. CPU f32 only (see [`super::is_cpu_f32`]).
pub fn rnn_sequence(cell: Cell, x: &Tensor, w: &Tensor, reverse: bool) -> Result<Tensor> {
    rnn_sequence_with(cell, x, w, reverse, Isa::best())
}

fn rnn_sequence_with(
    cell: Cell,
    x: &Tensor,
    w: &Tensor,
    reverse: bool,
    isa: Isa,
) -> Result<Tensor> {
    let op = SeqOp {
        cell,
        reverse,
        isa,
        saved: Mutex::new(None),
    };
    x.contiguous()?.apply_op2(&w.contiguous()?, op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, check_op};
    use candle_core::{Device, Var};

    /// The layer written with candle ops, one step at a time (time-major).
    fn reference(cell: Cell, x: &Tensor, w: &Tensor, reverse: bool) -> Result<Tensor> {
        let (t, b, i) = x.dims3()?;
        let h = w.dim(0)? / cell.gates();
        let wih = w.narrow(1, 0, i)?;
        let whh = w.narrow(1, i, h)?;
        let bias = w.narrow(1, i + h, 1)?.squeeze(1)?.unsqueeze(0)?;
        let bhn = w.narrow(1, i + h + 1, 1)?.squeeze(1)?.narrow(0, 2 * h, h)?;
        let mut hs = Tensor::zeros((b, h), x.dtype(), x.device())?;
        let mut cs = hs.clone();
        let mut out = vec![None; t];
        for s in 0..t {
            let tt = if reverse { t - 1 - s } else { s };
            let xp = x.get(tt)?.matmul(&wih.t()?)?.broadcast_add(&bias)?;
            let hp = hs.matmul(&whh.t()?)?;
            let part = |m: &Tensor, q: usize| m.narrow(1, q * h, h);
            match cell {
                Cell::Lstm => {
                    let pre = (&xp + &hp)?;
                    let ig = candle_nn::ops::sigmoid(&part(&pre, 0)?)?;
                    let fg = candle_nn::ops::sigmoid(&part(&pre, 1)?)?;
                    let gg = part(&pre, 2)?.tanh()?;
                    let og = candle_nn::ops::sigmoid(&part(&pre, 3)?)?;
                    cs = ((fg * &cs)? + (ig * gg)?)?;
                    hs = (og * cs.tanh()?)?;
                }
                Cell::Gru => {
                    let r = candle_nn::ops::sigmoid(&(part(&xp, 0)? + part(&hp, 0)?)?)?;
                    let z = candle_nn::ops::sigmoid(&(part(&xp, 1)? + part(&hp, 1)?)?)?;
                    let hn = part(&hp, 2)?.broadcast_add(&bhn)?;
                    let n = (part(&xp, 2)? + (r * hn)?)?.tanh()?;
                    hs = (&n + (z * (&hs - &n)?)?)?;
                }
            }
            out[tt] = Some(hs.clone());
        }
        let out: Vec<Tensor> = out.into_iter().flatten().collect();
        Tensor::stack(&out, 0)
    }

    fn weights(cell: Cell, i: usize, h: usize, dev: &Device) -> Result<Tensor> {
        let g = cell.gates();
        let w = Tensor::randn(0f32, 0.5, (g * h, i + h + 2), dev)?;
        if cell == Cell::Lstm {
            // The b_hn column is unused by LSTM: keep it zero as the model does.
            let keep = Tensor::cat(
                &[
                    &Tensor::ones((g * h, i + h + 1), DType::F32, dev)?,
                    &Tensor::zeros((g * h, 1), DType::F32, dev)?,
                ],
                1,
            )?;
            return w * keep;
        }
        Ok(w)
    }

    use candle_core::DType;

    #[test]
    fn sequence_op_matches_reference_for_every_isa() -> Result<()> {
        let dev = Device::Cpu;
        for isa in Isa::available() {
            for cell in [Cell::Lstm, Cell::Gru] {
                for &(t, b, i, h) in &[
                    (1, 1, 3, 5),
                    (9, 7, 4, 16),
                    (6, 13, 2, 20),
                    (5, 3, 1, 33),
                    (4, 2, 5, 72),
                    // Weight gradients split over threads by time; inputs
                    // as wide as a vector (no padding of the data gradient).
                    (20, 9, 16, 16),
                    (17, 3, 8, 9),
                ] {
                    for reverse in [false, true] {
                        let x = Var::randn(0f32, 1., (t, b, i), &dev)?;
                        let w = Var::from_tensor(&weights(cell, i, h, &dev)?)?;
                        let fast =
                            |v: &[Tensor]| rnn_sequence_with(cell, &v[0], &v[1], reverse, isa);
                        let slow = |v: &[Tensor]| reference(cell, &v[0], &v[1], reverse);
                        check_op(&[x, w], fast, slow).map_err(|e| {
                            e.context(format!(
                                "{isa:?} {cell:?} T={t} B={b} I={i} H={h} reverse={reverse}"
                            ))
                        })?;
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn data_without_gradient_still_trains_the_weights() -> Result<()> {
        let dev = Device::Cpu;
        for cell in [Cell::Lstm, Cell::Gru] {
            let x = Tensor::randn(0f32, 1., (7, 5, 3), &dev)?;
            let w = Var::from_tensor(&weights(cell, 3, 9, &dev)?)?;
            let loss = |y: Tensor| y.sqr()?.sum_all();
            let g_fast = loss(rnn_sequence(cell, &x, &w, false)?)?.backward()?;
            let g_ref = loss(reference(cell, &x, &w, false)?)?.backward()?;
            let (Some(a), Some(b)) = (g_fast.get(&w), g_ref.get(&w)) else {
                panic!("no weight gradient")
            };
            assert_close(a, b, 1e-4)?;
            assert!(g_fast.get(&x).is_none());
        }
        Ok(())
    }

    /// `f` of the kernels' vector math applied to `xs` with instruction set `isa`.
    fn vmath(isa: Isa, which: usize, xs: &[f32]) -> Vec<f32> {
        #[inline(always)]
        fn go<S: Simd>(which: usize, xs: &[f32]) -> Vec<f32> {
            let mut out = vec![0f32; xs.len().div_ceil(S::L) * S::L];
            let mut buf = xs.to_vec();
            buf.resize(out.len(), 0.0);
            for (o, x) in out.chunks_exact_mut(S::L).zip(buf.chunks_exact(S::L)) {
                // SAFETY: chunks of exactly L values.
                unsafe {
                    let v = S::load(x.as_ptr());
                    let y = match which {
                        0 => v.exp(),
                        1 => v.sigmoid(),
                        _ => v.tanh(),
                    };
                    y.store(o.as_mut_ptr());
                }
            }
            out.truncate(xs.len());
            out
        }
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU runs AVX-512F, AVX2 and FMA.
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512(which: usize, xs: &[f32]) -> Vec<f32> {
                go::<simd::Avx512>(which, xs)
            }
            /// # Safety
            /// The CPU runs AVX2 and FMA.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2(which: usize, xs: &[f32]) -> Vec<f32> {
                go::<simd::Avx2>(which, xs)
            }
            match isa.level() {
                // SAFETY: detected by `Isa::available`.
                Level::Avx512 => return unsafe { avx512(which, xs) },
                // SAFETY: detected by `Isa::available` (AVX2 and FMA).
                Level::Avx2 => return unsafe { avx2(which, xs) },
                Level::Portable => {}
            }
        }
        go::<simd::Portable>(which, xs)
    }

    #[test]
    fn vector_math_is_close_to_libm() {
        let xs: Vec<f32> = (0..43_800).map(|k| -30.0 + k as f32 * 0.00137).collect();
        for isa in Isa::available() {
            let exp = vmath(isa, 0, &xs);
            let sig = vmath(isa, 1, &xs);
            let tanh = vmath(isa, 2, &xs);
            let mut worst = [0f64; 3];
            for (k, &x) in xs.iter().enumerate() {
                let x = x as f64;
                let rel = |got: f32, want: f64| (got as f64 - want).abs() / want.abs().max(1e-30);
                worst[0] = worst[0].max(rel(exp[k], x.exp()));
                worst[1] = worst[1].max(rel(sig[k], 1.0 / (1.0 + (-x).exp())));
                worst[2] = worst[2].max(rel(tanh[k], x.tanh()));
            }
            assert!(
                worst.iter().all(|&w| w < 1e-6),
                "{isa:?}: relative errors {worst:?}"
            );
            let ends = [-1e4f32, -100.0, -88.0, 0.0, 1e-6, 88.0, 100.0, 1e4];
            let (s, t) = (vmath(isa, 1, &ends), vmath(isa, 2, &ends));
            assert!(
                s.iter().chain(&t).all(|v| v.is_finite()),
                "{isa:?}: {s:?} {t:?}"
            );
            assert_eq!((s[7], t[0], t[7], t[3]), (1.0, -1.0, 1.0, 0.0));
            assert!((0.0..1e-37).contains(&s[0]) && (t[4] - 1e-6).abs() < 1e-12);
        }
    }
}
