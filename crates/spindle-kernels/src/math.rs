//! Branch-free `exp`, `sigmoid` and `tanh` that vectorize inside loops.
//!
//! Cephes-style range reduction and polynomials, accurate to a few ulp in
//! f32 (checked against the standard library in the tests). Used by the
//! fused recurrent cells and ELU, where calling libm per element dominated.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` (saturates to 0 below -87.3 and to `f32::MAX`-ish above 88.7; NaN
/// gives NaN).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // 1.5 · 2^23: adding it rounds to an integer held in the low bits of
    // the sum, so `n` needs no float-to-integer conversion (Rust's
    // saturating `as i32` keeps the loops around this function scalar).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.336_55, 88.722_83);
    let z = x * LOG2E + ROUND;
    let n = z - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_66)
        * r
        + 0.5;
    let y = p * r2 + r + 1.0;
    // n in [-126, 128]: split the scale in two so that n = 128 does not
    // overflow the exponent (for NaN, `y` is NaN and so is the product).
    let ni = (z.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let h = ni >> 1;
    let s1 = f32::from_bits((h.wrapping_add(127) as u32) << 23);
    let s2 = f32::from_bits((ni.wrapping_sub(h).wrapping_add(127) as u32) << 23);
    y * s1 * s2
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// Hyperbolic tangent: a polynomial near zero (no cancellation), else
/// `1 - 2 / (e^{2x} + 1)`.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' coefficients as published
pub fn tanh(x: f32) -> f32 {
    let z = x * x;
    let small =
        ((((-5.704_988_7e-3 * z + 2.063_908_9e-2) * z - 5.373_971_6e-2) * z + 0.133_314_42) * z
            - 0.333_332_82)
            * z
            * x
            + x;
    let large = 1.0 - 2.0 / (exp(2.0 * x) + 1.0);
    if x.abs() < 0.625 { small } else { large }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_saturate_and_nan_stays_nan() {
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(-1000.0), exp(-87.336_55));
        assert!(exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite() && exp(1000.0) > 3e38);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn close_to_libm() {
        let mut worst = [0f64; 3];
        let mut x = -30.0f32;
        while x < 30.0 {
            let e = (exp(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp();
            let s_ref = 1.0 / (1.0 + (-(x as f64)).exp());
            let s = (sigmoid(x) as f64 - s_ref).abs() / s_ref;
            let t_ref = (x as f64).tanh();
            let t = (tanh(x) as f64 - t_ref).abs() / t_ref.abs().max(1e-30);
            worst = [worst[0].max(e), worst[1].max(s), worst[2].max(t)];
            x += 0.00137;
        }
        assert!(worst.iter().all(|&w| w < 1e-6), "relative errors {worst:?}");
        assert!(exp(-200.0) < 1e-37);
        assert!(exp(88.0).is_finite());
        assert_eq!(tanh(0.0), 0.0);
        assert!((tanh(1e-6) - 1e-6).abs() < 1e-12);
    }
}
