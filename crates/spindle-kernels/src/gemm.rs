//! Single-threaded f32 matrix products on strided slices.
//!
//! `C (+)= A · B` with any row/column strides for `A`, `B` and `C`. `B` is
//! packed into panels of `NR` columns (zero-padded), `A` is read in place,
//! and a register-blocked `6 x NR` micro-kernel accumulates over blocks of
//! `KC` rows of `B`. The micro-kernel is plain Rust over fixed-size arrays,
//! compiled three times: AVX-512 (`NR = 32`), AVX2 + FMA (`NR = 16`) and
//! portable (`NR = 8`, no fused multiply-add); the widest one the CPU
//! supports is picked at run time ([`super::isa`]). Callers parallelize over independent
//! products (batch items, row blocks).

use candle_core::{Result, bail};

use super::isa::{Isa, Level};

/// Rows of `A` per micro-kernel call.
const MR: usize = 6;
/// Rows of `B` per packed block (keeps a panel in L1).
const KC: usize = 256;

/// A read-only matrix view: element `(i, j)` at `data[i * rs + j * cs]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl<'a> MatRef<'a> {
    /// A view with row stride `rs` and column stride `cs`.
    pub fn new(data: &'a [f32], rs: usize, cs: usize) -> Self {
        Self { data, rs, cs }
    }

    /// A row-major view with `cols` columns.
    pub fn row_major(data: &'a [f32], cols: usize) -> Self {
        Self::new(data, cols, 1)
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        Self::new(self.data, self.cs, self.rs)
    }

    fn check(&self, rows: usize, cols: usize, what: &str) -> Result<()> {
        if rows == 0 || cols == 0 {
            return Ok(());
        }
        let last = (rows - 1) * self.rs + (cols - 1) * self.cs;
        if last >= self.data.len() {
            bail!(
                "gemm: {what} of {rows}x{cols} (strides {}, {}) needs {} values, has {}",
                self.rs,
                self.cs,
                last + 1,
                self.data.len()
            )
        }
        Ok(())
    }
}

/// A mutable matrix view: element `(i, j)` at `data[i * rs + j * cs]`.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rs: usize,
    cs: usize,
}

impl<'a> MatMut<'a> {
    /// A view with row stride `rs` and column stride `cs`.
    pub fn new(data: &'a mut [f32], rs: usize, cs: usize) -> Self {
        Self { data, rs, cs }
    }

    /// A row-major view with `cols` columns.
    pub fn row_major(data: &'a mut [f32], cols: usize) -> Self {
        Self::new(data, cols, 1)
    }
}

/// Columns per packed panel for `isa`.
fn nr(isa: Isa) -> usize {
    match isa.level() {
        Level::Avx512 => 32,
        Level::Avx2 => 16,
        Level::Portable => 8,
    }
}

/// `dst.copy_from_slice(src)` for the short runs of packing: a full panel
/// row (8, 16 or 32 values) is copied by explicit 8-value loads and stores,
/// where `copy_from_slice` (and an array copy, and a loop, which LLVM turns
/// back into one) calls `memmove` for every run (7-9% of an M5 step).
#[inline(always)]
pub(crate) fn copy_run(dst: &mut [f32], src: &[f32]) {
    /// Copies values `8 * i .. 8 * i + 8`.
    #[inline(always)]
    fn eight(dst: &mut [f32], src: &[f32], i: usize) {
        if let (Ok(d), Ok(s)) = (
            <&mut [f32; 8]>::try_from(&mut dst[8 * i..8 * i + 8]),
            <&[f32; 8]>::try_from(&src[8 * i..8 * i + 8]),
        ) {
            // SAFETY: both are valid, aligned-for-f32 arrays of 8 values;
            // unaligned accesses of the whole array are always allowed.
            unsafe {
                std::ptr::write_unaligned(d, std::ptr::read_unaligned(s));
            }
        }
    }
    match (dst.len(), src.len()) {
        (8, 8) => eight(dst, src, 0),
        (16, 16) => {
            eight(dst, src, 0);
            eight(dst, src, 1);
        }
        (32, 32) => {
            eight(dst, src, 0);
            eight(dst, src, 1);
            eight(dst, src, 2);
            eight(dst, src, 3);
        }
        _ => dst.copy_from_slice(src),
    }
}

/// `B` (`k x n`) packed for the micro-kernel of one [`Isa`].
#[derive(Debug, Clone)]
pub struct PackedB {
    k: usize,
    n: usize,
    isa: Isa,
    data: Vec<f32>,
}

impl PackedB {
    /// Packs `b` (`k x n`) for the fastest instruction set.
    pub fn new(k: usize, n: usize, b: MatRef) -> Result<Self> {
        Self::with_isa(k, n, b, Isa::best())
    }

    /// Packs `b` (`k x n`) for `isa` (one this CPU runs: an [`Isa`] only
    /// comes from detection).
    pub fn with_isa(k: usize, n: usize, b: MatRef, isa: Isa) -> Result<Self> {
        Self::reusing(k, n, b, isa, Vec::new())
    }

    /// [`Self::with_isa`] in the allocation of `reuse` (see [`Self::from_rows`]).
    pub fn reusing(k: usize, n: usize, b: MatRef, isa: Isa, reuse: Vec<f32>) -> Result<Self> {
        b.check(k, n, "B")?;
        Ok(Self::from_rows(k, n, isa, reuse, |p, j0, dst| {
            let row = p * b.rs;
            if b.cs == 1 {
                copy_run(dst, &b.data[row + j0..row + j0 + dst.len()]);
            } else {
                for (j, d) in dst.iter_mut().enumerate() {
                    *d = b.data[row + (j0 + j) * b.cs];
                }
            }
        }))
    }

    /// Packs the `k x n` matrix whose rows `fill` writes: `fill(p, j0, dst)`
    /// sets `dst[j] = B(p, j0 + j)` for every `j < dst.len()` (a run of at
    /// most one panel's columns). For matrices that exist only implicitly,
    /// such as the columns of a convolution, packed straight from its input.
    /// `reuse` lends its allocation (contents ignored).
    ///
    /// A `reuse` buffer of the right size is filled without being zeroed
    /// first (a pass over cold memory: 8% of an M5 step in `memset`); only
    /// the padding of the last panel is zeroed.
    pub fn from_rows(
        k: usize,
        n: usize,
        isa: Isa,
        reuse: Vec<f32>,
        mut fill: impl FnMut(usize, usize, &mut [f32]),
    ) -> Self {
        let nr = nr(isa);
        let panels = n.div_ceil(nr);
        let total = k * panels * nr;
        let mut data = reuse;
        if data.len() != total {
            data.clear();
            data.resize(total, 0.0);
        }
        let mut off = 0;
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            for jb in 0..panels {
                let j0 = jb * nr;
                let w = nr.min(n - j0);
                for p in 0..kc {
                    let row = &mut data[off + p * nr..off + (p + 1) * nr];
                    fill(pc + p, j0, &mut row[..w]);
                    row[w..].fill(0.0);
                }
                off += kc * nr;
            }
        }
        Self { k, n, isa, data }
    }

    /// The packed values, for reuse by [`Self::from_rows`].
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Rows of `B`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of `B`.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// `C = A · B` (or `C += A · B` when `accumulate`), `A` `m x k`, `B` `k x n`.
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    accumulate: bool,
) -> Result<()> {
    let packed = PackedB::new(k, n, b)?;
    gemm_packed(m, a, &packed, c, accumulate)
}

/// `C = A · B` (or `C += A · B` when `accumulate`) with `B` packed.
pub fn gemm_packed(m: usize, a: MatRef, b: &PackedB, c: MatMut, accumulate: bool) -> Result<()> {
    let (k, n) = (b.k, b.n);
    a.check(m, k, "A")?;
    let cref = MatRef::new(c.data, c.rs, c.cs);
    cref.check(m, n, "C")?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    c.data[i * c.rs + j * c.cs] = 0.0;
                }
            }
        }
        return Ok(());
    }
    let args = Args {
        m,
        n,
        k,
        a: a.data.as_ptr(),
        rsa: a.rs,
        csa: a.cs,
        b: b.data.as_ptr(),
        c: c.data.as_mut_ptr(),
        rsc: c.rs,
        csc: c.cs,
        accumulate,
    };
    // SAFETY: every index the kernels touch was bounds-checked above (A, C
    // through `check`, B by construction of `PackedB`), and the instruction
    // set of `b.isa` runs on this CPU (an `Isa` only comes from detection).
    unsafe {
        match b.isa.level() {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => run_avx512(&args),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => run_avx2(&args),
            _ => run::<8, false>(&args),
        }
    }
    Ok(())
}

/// Raw arguments of one product (bounds checked by the caller).
struct Args {
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    accumulate: bool,
}

/// [`run`] compiled for AVX-512.
///
/// # Safety
/// As [`run`], and the CPU runs AVX-512F, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn run_avx512(args: &Args) {
    // SAFETY: `run`'s contract is this function's (checked by
    // `gemm_packed`), and the features it is compiled with are enabled here.
    unsafe { run::<32, true>(args) }
}

/// [`run`] compiled for AVX2.
///
/// # Safety
/// As [`run`], and the CPU runs AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(args: &Args) {
    // SAFETY: `run`'s contract is this function's (checked by
    // `gemm_packed`), and the features it is compiled with are enabled here.
    unsafe { run::<16, true>(args) }
}

/// The whole product over panels of `NR` columns.
///
/// # Safety
/// `g.a` and `g.c` hold every element of `A` (`m x k`) and `C` (`m x n`)
/// at their strides, `g.b` a `B` packed with `NR` columns per panel, and
/// nothing else writes `C` meanwhile.
#[inline(always)]
unsafe fn run<const NR: usize, const FMA: bool>(g: &Args) {
    let panels = g.n.div_ceil(NR);
    let mut off = 0;
    for pc in (0..g.k).step_by(KC) {
        let kc = KC.min(g.k - pc);
        let overwrite = pc == 0 && !g.accumulate;
        for jb in 0..panels {
            let j0 = jb * NR;
            let nr = NR.min(g.n - j0);
            // SAFETY: offsets stay inside the checked matrices (see `gemm_packed`).
            unsafe {
                let bp = g.b.add(off);
                // Row tiles of nearly equal height (25 rows: 5 x 5, not
                // 4 x 6 + 1, whose one-row tile runs at a fraction of the rate).
                let tiles = g.m.div_ceil(MR);
                let (base, extra) = (g.m / tiles, g.m % tiles);
                let mut i0 = 0;
                for tile in 0..tiles {
                    let mr = base + usize::from(tile < extra);
                    let ap = g.a.add(i0 * g.rsa + pc * g.csa);
                    let cp = g.c.add(i0 * g.rsc + j0 * g.csc);
                    let t = Tile {
                        kc,
                        a: ap,
                        rsa: g.rsa,
                        csa: g.csa,
                        b: bp,
                        c: cp,
                        rsc: g.rsc,
                        csc: g.csc,
                        nr,
                        overwrite,
                    };
                    match mr {
                        6 => micro::<6, NR, FMA>(&t),
                        5 => micro::<5, NR, FMA>(&t),
                        4 => micro::<4, NR, FMA>(&t),
                        3 => micro::<3, NR, FMA>(&t),
                        2 => micro::<2, NR, FMA>(&t),
                        _ => micro::<1, NR, FMA>(&t),
                    }
                    i0 += mr;
                }
            }
            off += kc * NR;
        }
    }
}

/// One `mr x nr` tile of `C` over `kc` rows of a packed panel.
struct Tile {
    kc: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    nr: usize,
    overwrite: bool,
}

/// One tile of `R` rows.
///
/// # Safety
/// `t.a` holds `R x kc` values of `A` at its strides, `t.b` `kc` rows of
/// `NR` packed values, and `t.c` `R x nr` values of `C` at its strides.
#[inline(always)]
unsafe fn micro<const R: usize, const NR: usize, const FMA: bool>(t: &Tile) {
    let mut acc = [[0f32; NR]; R];
    for p in 0..t.kc {
        // SAFETY: the panel holds `kc` rows of `NR` values; A's tile is in bounds.
        let b: [f32; NR] = unsafe { *(t.b.add(p * NR) as *const [f32; NR]) };
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `i` < R and column `p` < kc lie inside A's tile.
            let a = unsafe { *t.a.add(i * t.rsa + p * t.csa) };
            for j in 0..NR {
                row[j] = if FMA {
                    a.mul_add(b[j], row[j])
                } else {
                    a * b[j] + row[j]
                };
            }
        }
    }
    // Writing out indexes `acc` by the runtime `nr`/strides; without this
    // barrier the compiler keeps `acc` in memory throughout the loop above
    // (spilling every accumulator on every step) instead of in registers.
    let acc = std::hint::black_box(acc);
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: the tile of C is in bounds (checked in `gemm_packed`).
        unsafe {
            let c = t.c.add(i * t.rsc);
            if t.csc == 1 && t.nr == NR {
                let c = &mut *(c as *mut [f32; NR]);
                if t.overwrite {
                    *c = *row;
                } else {
                    for j in 0..NR {
                        c[j] += row[j];
                    }
                }
            } else {
                for (j, &v) in row.iter().enumerate().take(t.nr) {
                    let cj = c.add(j * t.csc);
                    *cj = if t.overwrite { v } else { *cj + v };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: MatRef, b: MatRef) -> Vec<f64> {
        let mut c = vec![0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] +=
                        a.data[i * a.rs + p * a.cs] as f64 * b.data[p * b.rs + j * b.cs] as f64;
                }
            }
        }
        c
    }

    fn data(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0) - 1.0)
            .collect()
    }

    #[test]
    fn matches_naive_product_for_every_isa_and_layout() -> Result<()> {
        for isa in Isa::available() {
            for &(m, n, k) in &[
                (1, 1, 1),
                (7, 33, 5),
                (13, 17, 300),
                (64, 40, 550),
                (6, 64, 64),
            ] {
                let a = data(m * k, 1);
                let b = data(k * n, 2);
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    let av = if ta {
                        MatRef::row_major(&a, m).t()
                    } else {
                        MatRef::row_major(&a, k)
                    };
                    let bv = if tb {
                        MatRef::row_major(&b, k).t()
                    } else {
                        MatRef::row_major(&b, n)
                    };
                    let want = naive(m, n, k, av, bv);
                    let packed = PackedB::with_isa(k, n, bv, isa)?;
                    let rows = PackedB::from_rows(k, n, isa, vec![7.0; 3], |p, j0, dst| {
                        for (j, d) in dst.iter_mut().enumerate() {
                            *d = bv.data[p * bv.rs + (j0 + j) * bv.cs];
                        }
                    });
                    assert_eq!(rows.data, packed.data, "{isa:?} {m}x{n}x{k}");
                    for accumulate in [false, true] {
                        let mut c = vec![1f32; m * n];
                        gemm_packed(m, av, &packed, MatMut::row_major(&mut c, n), accumulate)?;
                        for (g, w) in c.iter().zip(&want) {
                            let w = w + if accumulate { 1.0 } else { 0.0 };
                            assert!(
                                (*g as f64 - w).abs() < 1e-4 * (1.0 + w.abs()),
                                "{isa:?} {m}x{n}x{k} ta={ta} tb={tb}: {g} vs {w}"
                            );
                        }
                    }
                    // Transposed output.
                    let mut c = vec![0f32; m * n];
                    gemm_packed(m, av, &packed, MatMut::new(&mut c, 1, m), false)?;
                    for i in 0..m {
                        for j in 0..n {
                            let (g, w) = (c[j * m + i] as f64, want[i * n + j]);
                            assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn out_of_bounds_views_are_errors() {
        let a = vec![0f32; 5];
        let b = vec![0f32; 6];
        let mut c = vec![0f32; 6];
        assert!(
            gemm(
                2,
                3,
                3,
                MatRef::row_major(&a, 3),
                MatRef::row_major(&b, 3),
                MatMut::row_major(&mut c, 3),
                false
            )
            .is_err()
        );
    }
}
