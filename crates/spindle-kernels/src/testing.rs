//! Test helpers: compare a kernel with its candle reference (values and
//! gradients) and spot-check its gradients with finite differences.

use candle_core::{DType, Device, Result, Tensor, Var, bail};

/// A CPU variable of `shape` with values uniform in `mean ± spread`, the
/// same on every run for a `seed` (candle's generator cannot be seeded):
/// kernels with kinks (max pooling, ReLU) are checked against finite
/// differences on data known to keep away from them, not on whatever a
/// run draws.
pub fn seeded_var(shape: &[usize], seed: u64, mean: f32, spread: f32) -> Result<Var> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| {
            // splitmix64
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let u = (z >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
            mean + spread * (2.0 * u - 1.0)
        })
        .collect();
    Var::from_vec(v, shape, &Device::Cpu)
}

/// `max |a - b| <= tol * max(1, max |b|)`.
pub fn assert_close(a: &Tensor, b: &Tensor, tol: f64) -> Result<()> {
    if a.dims() != b.dims() {
        bail!("shapes differ: {:?} vs {:?}", a.dims(), b.dims())
    }
    let a = a.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
    let b = b.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
    let scale = b.iter().fold(1f64, |m, v| m.max(v.abs()));
    let (worst, at) = a
        .iter()
        .zip(&b)
        .enumerate()
        .map(|(i, (x, y))| ((x - y).abs(), i))
        .fold((0f64, 0), |m, v| if v.0 > m.0 { v } else { m });
    if worst > tol * scale {
        bail!(
            "differ by {worst:e} at {at} ({} vs {}), tolerance {:e}",
            a[at],
            b[at],
            tol * scale
        )
    }
    Ok(())
}

/// A fixed pseudo-random weighting of an output, so that the loss
/// `sum(y * weights)` has a gradient that differs per element.
fn weights_like(y: &Tensor) -> Result<Tensor> {
    let n = y.elem_count();
    let v: Vec<f32> = (0..n)
        .map(|i| ((i * 7919 % 1013) as f32 / 1013.0) - 0.4)
        .collect();
    Tensor::from_vec(v, y.dims(), y.device())
}

/// Checks `fast` against `reference` on `vars`: equal outputs, equal
/// gradients of `sum(y * w)` for every variable (relative 1e-4), and a few
/// elements of each of `fast`'s gradients against central differences.
pub fn check_op(
    vars: &[Var],
    fast: impl Fn(&[Tensor]) -> Result<Tensor>,
    reference: impl Fn(&[Tensor]) -> Result<Tensor>,
) -> Result<()> {
    check_op_tol(vars, fast, reference, 1e-2, 2e-2)
}

/// [`check_op`] with the finite-difference step and relative tolerance
/// (smaller steps and looser tolerances for kinks: ReLU, max pooling).
pub fn check_op_tol(
    vars: &[Var],
    fast: impl Fn(&[Tensor]) -> Result<Tensor>,
    reference: impl Fn(&[Tensor]) -> Result<Tensor>,
    fd_eps: f32,
    fd_tol: f64,
) -> Result<()> {
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let yf = fast(&ts)?;
    let yr = reference(&ts)?;
    assert_close(&yf, &yr, 1e-4).map_err(|e| e.context("forward"))?;
    let w = weights_like(&yr)?;
    let gf = (&yf * &w)?.sum_all()?.backward()?;
    let gr = (&yr * &w)?.sum_all()?.backward()?;
    // Finite differences on the fast path (f64 loss of f32 outputs).
    let loss = |ts: &[Tensor]| -> Result<f64> {
        let y = fast(ts)?.to_dtype(DType::F64)?;
        (y * w.to_dtype(DType::F64)?)?.sum_all()?.to_scalar::<f64>()
    };
    for (i, v) in vars.iter().enumerate() {
        let Some(g) = gf.get(v.as_tensor()) else {
            continue;
        };
        let g = g.flatten_all()?.to_vec1::<f32>()?;
        let gmax = g.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let base = v.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        let n = base.len();
        for j in (0..n).step_by((n / 5).max(1)).take(6) {
            let eps = fd_eps * (1.0 + base[j].abs());
            let probe = |delta: f32| -> Result<f64> {
                let mut p = base.clone();
                p[j] += delta;
                let mut ts2 = ts.clone();
                ts2[i] = Tensor::from_vec(p, v.dims(), v.device())?;
                loss(&ts2)
            };
            let fd = (probe(eps)? - probe(-eps)?) / (2.0 * eps as f64);
            let an = g[j] as f64;
            if (fd - an).abs() > fd_tol * (fd.abs().max(an.abs()) + 1e-2 * gmax + 1e-3) {
                bail!("argument {i} element {j}: gradient {an} vs finite difference {fd}")
            }
        }
    }
    for (i, v) in vars.iter().enumerate() {
        let (Some(a), Some(b)) = (gf.get(v.as_tensor()), gr.get(v.as_tensor())) else {
            bail!("argument {i}: missing gradient")
        };
        assert_close(a, b, 1e-4).map_err(|e| e.context(format!("gradient of argument {i}")))?;
    }
    Ok(())
}
