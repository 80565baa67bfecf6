//! 1-D pooling over the last axis of `[batch, channels, len]`.
//!
//! candle has no 1-D pooling and its 2-D pools have a backward only for
//! kernel == stride, and a correct one only when the length is a multiple of
//! the kernel. These functions crop the tail first (PyTorch drops it too) and
//! build strided average pooling from kernel == stride pieces.

use candle_core::{Result, Tensor};

/// Crops the last axis to `n * k` samples, where `n = len / k`.
fn crop_to_multiple(x: &Tensor, k: usize) -> Result<(Tensor, usize)> {
    let len = x.dim(2)?;
    let n = len / k;
    if n == 0 {
        candle_core::bail!("pool: input of {len} samples is shorter than the kernel ({k})")
    }
    let x = if n * k < len {
        x.narrow(2, 0, n * k)?
    } else {
        x.clone()
    };
    Ok((x, n))
}

/// Max pool with kernel == stride == `k`: `[B, C, L] -> [B, C, L / k]`.
///
/// A max over a reshaped last axis rather than candle's `max_pool2d`, whose
/// backward (candle 0.11.1) scales the gradient by `1/k` for a unique maximum
/// (it multiplies by the fraction of maxima in the window instead of dividing
/// by their count). Here a unique maximum gets the whole gradient, as in
/// PyTorch; exact ties each get it in full (PyTorch picks one).
pub fn max_pool1d(x: &Tensor, k: usize) -> Result<Tensor> {
    if k <= 1 {
        return Ok(x.clone());
    }
    let (b, c, _) = x.dims3()?;
    let (x, n) = crop_to_multiple(x, k)?;
    x.reshape((b, c, n, k))? // [B, C, n, k]
        .max(3) // [B, C, n]
}

/// Average pool with kernel == stride == `k`: `[B, C, L] -> [B, C, L / k]`.
pub fn avg_pool1d(x: &Tensor, k: usize) -> Result<Tensor> {
    if k <= 1 {
        return Ok(x.clone());
    }
    let (x, _) = crop_to_multiple(x, k)?;
    x.unsqueeze(2)? // [B, C, 1, n*k]
        .avg_pool2d((1, k))? // [B, C, 1, n]
        .squeeze(2)
}

/// Output length of [`avg_pool1d_strided`] (`None` if `len < kernel`).
pub fn strided_len(len: usize, kernel: usize, stride: usize) -> Option<usize> {
    super::summary::valid_len(len, kernel, stride)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Average pool with any `kernel` and `stride` (PyTorch `AvgPool1d(kernel, stride)`,
/// no padding): `[B, C, L] -> [B, C, (L - kernel) / stride + 1]`.
///
/// Built from pieces that have a backward in candle: with `g = gcd(kernel, stride)`,
/// average blocks of `g` samples (kernel == stride pool), then average
/// `kernel / g` neighbouring blocks (shifted slices), then keep every
/// `stride / g`-th result. ShallowFBCSPNet's pool 75 / stride 15 is the mean
/// of 5 shifted pools of 15.
pub fn avg_pool1d_strided(x: &Tensor, kernel: usize, stride: usize) -> Result<Tensor> {
    if kernel == stride {
        return avg_pool1d(x, kernel);
    }
    let len = x.dim(2)?;
    let Some(n_out) = strided_len(len, kernel, stride) else {
        candle_core::bail!("pool: input of {len} samples is shorter than the kernel ({kernel})")
    };
    let g = gcd(kernel, stride.max(1));
    let (m, q) = (kernel / g, stride / g);
    let blocks_needed = (n_out - 1) * q + m;
    let x = x.narrow(2, 0, blocks_needed * g)?; // [B, C, blocks * g]
    let blocks = avg_pool1d(&x, g)?; // [B, C, blocks]
    let shifted = blocks_needed - m + 1;
    let mut sum = blocks.narrow(2, 0, shifted)?;
    for i in 1..m {
        sum = (sum + blocks.narrow(2, i, shifted)?)?;
    }
    let windows = (sum / m as f64)?; // [B, C, (n_out - 1) * q + 1]
    if q == 1 {
        return Ok(windows);
    }
    let (b, c, _) = windows.dims3()?;
    windows
        .pad_with_zeros(2, 0, q - 1)? // [B, C, n_out * q]
        .reshape((b, c, n_out, q))?
        .narrow(3, 0, 1)? // [B, C, n_out, 1]
        .squeeze(3)
}

/// Mean over the last axis: `[B, C, L] -> [B, C]`.
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    x.mean(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    /// PyTorch's AvgPool1d written out.
    fn naive_avg_pool(x: &[f64], kernel: usize, stride: usize) -> Vec<f64> {
        let n = (x.len() - kernel) / stride + 1;
        (0..n)
            .map(|j| x[j * stride..j * stride + kernel].iter().sum::<f64>() / kernel as f64)
            .collect()
    }

    fn ramp(len: usize) -> Vec<f64> {
        (0..len)
            .map(|i| ((i * 37 % 101) as f64 * 0.1).sin() + 0.01 * i as f64)
            .collect()
    }

    #[test]
    fn strided_avg_pool_matches_pytorch_definition() -> Result<()> {
        for &(len, kernel, stride) in &[
            (976, 75, 15),
            (200, 10, 4),
            (50, 6, 9),
            (33, 8, 8),
            (40, 7, 3),
        ] {
            let data = ramp(len);
            let x = Tensor::from_vec(data.clone(), (1, 1, len), &Device::Cpu)?;
            let got = avg_pool1d_strided(&x, kernel, stride)?
                .flatten_all()?
                .to_vec1::<f64>()?;
            let want = naive_avg_pool(&data, kernel, stride);
            assert_eq!(got.len(), want.len(), "len {len} k {kernel} s {stride}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-12,
                    "len {len} k {kernel} s {stride}: {g} vs {w}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn strided_avg_pool_gradient_matches_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        // ShallowFBCSPNet's pool (75 / 15) on a length that is not a multiple of either.
        let (len, kernel, stride) = (200, 75, 15);
        let x0 = ramp(2 * len);
        let weights = Tensor::from_vec(
            (0..2 * strided_len(len, kernel, stride).unwrap_or(0))
                .map(|i| ((i * 13 % 7) as f64) - 3.0)
                .collect::<Vec<f64>>(),
            (1, 2, strided_len(len, kernel, stride).unwrap_or(0)),
            &dev,
        )?;
        let loss_of = |x: &Tensor| -> Result<Tensor> {
            // A nonlinear loss so that the gradient depends on x.
            (avg_pool1d_strided(&x.sqr()?, kernel, stride)? * &weights)?.sum_all()
        };
        let x = Var::from_tensor(&Tensor::from_vec(x0.clone(), (1, 2, len), &dev)?)?;
        let grads = loss_of(x.as_tensor())?.backward()?;
        let Some(grad) = grads.get(x.as_tensor()) else {
            panic!("no gradient for the pool input")
        };
        let grad = grad.flatten_all()?.to_vec1::<f64>()?;
        let eps = 1e-6;
        for i in (0..2 * len).step_by(7) {
            let mut plus = x0.clone();
            plus[i] += eps;
            let mut minus = x0.clone();
            minus[i] -= eps;
            let lp = loss_of(&Tensor::from_vec(plus, (1, 2, len), &dev)?)?.to_scalar::<f64>()?;
            let lm = loss_of(&Tensor::from_vec(minus, (1, 2, len), &dev)?)?.to_scalar::<f64>()?;
            let fd = (lp - lm) / (2.0 * eps);
            assert!(
                (fd - grad[i]).abs() < 1e-6,
                "sample {i}: autograd {} vs finite difference {fd}",
                grad[i]
            );
        }
        // Samples past the last window get no gradient, as in PyTorch.
        assert_eq!(grad[len - 1], 0.0);
        Ok(())
    }

    /// Documents the candle bug that `max_pool1d` avoids: `max_pool2d`'s
    /// backward gives a unique maximum `1/k` of the gradient. If this starts
    /// failing, candle was fixed and `max_pool2d` may be used again.
    #[test]
    fn candle_max_pool2d_backward_is_scaled_by_one_over_k() -> Result<()> {
        let x = Var::from_tensor(&Tensor::arange(0f32, 8., &Device::Cpu)?.reshape((1, 1, 1, 8))?)?;
        let grads = x.as_tensor().max_pool2d((1, 4))?.sum_all()?.backward()?;
        let Some(g) = grads.get(x.as_tensor()) else {
            panic!("no gradient")
        };
        assert_eq!(
            g.flatten_all()?.to_vec1::<f32>()?,
            vec![0., 0., 0., 0.25, 0., 0., 0., 0.25]
        );
        Ok(())
    }

    #[test]
    fn pools_drop_the_tail_and_backpropagate() -> Result<()> {
        let x = Var::from_tensor(&Tensor::arange(0f32, 10., &Device::Cpu)?.reshape((1, 1, 10))?)?;
        let y = max_pool1d(x.as_tensor(), 4)?;
        assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, vec![3.0, 7.0]);
        let grads = y.sum_all()?.backward()?;
        let g = grads
            .get(x.as_tensor())
            .map(|g| g.flatten_all()?.to_vec1::<f32>());
        let Some(g) = g else { panic!("no gradient") };
        assert_eq!(g?, vec![0., 0., 0., 1., 0., 0., 0., 1., 0., 0.]);
        let y = avg_pool1d(&x.as_tensor().to_dtype(DType::F32)?, 3)?;
        assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, vec![1.0, 4.0, 7.0]);
        Ok(())
    }
}
