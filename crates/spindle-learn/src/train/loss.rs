//! Losses built from primitives that all have gradients (no fused softmax).

use candle_core::{D, DType, Result, Tensor};

/// Cross-entropy of `logits: [b, k]` against class indices `targets: [b]`
/// (u32), each example weighted by `weights[target]` when given; the mean is
/// over the weights, as in PyTorch.
pub fn cross_entropy(
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
) -> Result<Tensor> {
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_p.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?; // [b]
    match weights {
        None => picked.mean_all()?.neg(),
        Some(w) => {
            let w = w.index_select(targets, 0)?; // [b]
            let total = (picked * &w)?.sum_all()?;
            (total / w.sum_all()?)?.neg()
        }
    }
}

/// Mean squared error of `pred: [b, 1]` against `target: [b]`.
pub fn mse(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    let diff = (pred.squeeze(1)?.to_dtype(DType::F32)? - target)?;
    diff.sqr()?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn cross_entropy_matches_hand_computation() -> Result<()> {
        let d = Device::Cpu;
        let logits = Tensor::new(&[[0.0f32, 0.0], [2.0, 0.0]], &d)?;
        let targets = Tensor::new(&[0u32, 1], &d)?;
        let l = cross_entropy(&logits, &targets, None)?.to_scalar::<f32>()?;
        // -(ln 0.5 + ln(1/(1+e^2))) / 2
        let expect = (2f32.ln() + (1.0 + 2f32.exp()).ln()) / 2.0;
        assert!((l - expect).abs() < 1e-5, "{l} vs {expect}");
        let w = Tensor::new(&[1.0f32, 3.0], &d)?;
        let l = cross_entropy(&logits, &targets, Some(&w))?.to_scalar::<f32>()?;
        let expect = (2f32.ln() + 3.0 * (1.0 + 2f32.exp()).ln()) / 4.0;
        assert!((l - expect).abs() < 1e-5, "{l} vs {expect}");
        Ok(())
    }

    #[test]
    fn mse_matches() -> Result<()> {
        let d = Device::Cpu;
        let p = Tensor::new(&[[1.0f32], [3.0]], &d)?;
        let t = Tensor::new(&[0.0f32, 1.0], &d)?;
        assert_eq!(mse(&p, &t)?.to_scalar::<f32>()?, 2.5);
        Ok(())
    }
}
