//! Binomial statistics for a count of correct answers: the Wilson score
//! interval and the exact one-sided binomial tail, computed in log space so
//! that counts up to hundreds of thousands neither overflow nor underflow.

/// The 97.5% quantile of the standard normal distribution, for 95% intervals.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Wilson score interval `[lo, hi]` (proportions, 0..=1) for `successes` out
/// of `n` trials at normal quantile `z` (use [`Z_95`] for 95%).
///
/// Unlike the textbook `p ± z·sqrt(p(1-p)/n)` it stays inside `[0, 1]` and
/// behaves well at 0 or `n` successes. `[0, 1]` when `n` is 0; `successes` is
/// clamped to `n`.
pub fn wilson_interval(successes: usize, n: usize, z: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let n_f = n as f64;
    let p = successes.min(n) as f64 / n_f;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n_f;
    let center = (p + z2 / (2.0 * n_f)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    [(center - half).max(0.0), (center + half).min(1.0)]
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`: the one-sided exact p-value of
/// observing `k` or more successes when each succeeds with probability `p`
/// (0..=1; `p` is clamped to `[0, 1]`).
///
/// Each term `C(n, i) p^i (1-p)^(n-i)` is formed as a logarithm with
/// [`ln_gamma`] and the terms are summed relative to the largest, so `n` up to
/// 100,000 and beyond stays accurate to about 1e-9 relative.
pub fn binomial_upper_tail(k: usize, n: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let p = p.clamp(0.0, 1.0);
    if p == 0.0 {
        return 0.0;
    }
    if p == 1.0 {
        return 1.0;
    }
    let ln_p = p.ln();
    let ln_q = (-p).ln_1p();
    let ln_n_fact = ln_gamma(n as f64 + 1.0);
    let ln_term = |i: usize| {
        let i_f = i as f64;
        ln_n_fact - ln_gamma(i_f + 1.0) - ln_gamma((n - i) as f64 + 1.0)
            + i_f * ln_p
            + (n - i) as f64 * ln_q
    };
    // The terms rise to the mode floor((n+1)p) and then fall; start the sum at
    // the largest term of the tail and stop once terms are below 1e-30 of it.
    let mode = (((n + 1) as f64 * p).floor() as usize).min(n);
    let peak = if k >= mode { k } else { mode };
    let ln_max = ln_term(peak);
    let mut sum = 0.0;
    for i in peak..=n {
        let t = ln_term(i) - ln_max;
        sum += t.exp();
        if t < -70.0 {
            break;
        }
    }
    for i in (k..peak).rev() {
        let t = ln_term(i) - ln_max;
        sum += t.exp();
        if t < -70.0 {
            break;
        }
    }
    (ln_max + sum.ln()).exp().clamp(0.0, 1.0)
}

/// Natural logarithm of the gamma function for `x > 0` (Lanczos
/// approximation, g = 7, relative error about 1e-15); `ln_gamma(n + 1) =
/// ln(n!)`. NaN for `x <= 0`.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1-x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEFFICIENTS[0];
    let t = x + G + 0.5;
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel_close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
        // Γ(5) = 4! = 24
        assert!(rel_close(ln_gamma(5.0), 24f64.ln(), 1e-14));
        // Γ(1/2) = sqrt(π)
        assert!(rel_close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-14
        ));
        // ln(100!) = 363.73937555556347 (Python math.lgamma(101))
        assert!(rel_close(ln_gamma(101.0), 363.739_375_555_563_47, 1e-14));
        // Γ(0.25) = 3.625609908221908
        assert!(rel_close(
            ln_gamma(0.25),
            3.625_609_908_221_908f64.ln(),
            1e-13
        ));
        assert!(ln_gamma(0.0).is_nan());
    }

    #[test]
    fn wilson_known_values() {
        // 50/100: center 0.5, half = 1.96/1.0384 * sqrt(0.0025 + 0.000096) = 0.09617
        let [lo, hi] = wilson_interval(50, 100, Z_95);
        assert!((lo - 0.403_831).abs() < 1e-5, "{lo}");
        assert!((hi - 0.596_169).abs() < 1e-5, "{hi}");
        // 0/10: lo = 0, hi = z² / (n + z²) = 3.8415 / 13.8415 = 0.27753
        let [lo, hi] = wilson_interval(0, 10, Z_95);
        assert!(lo.abs() < 1e-12);
        assert!((hi - 0.277_53).abs() < 1e-4, "{hi}");
        // 10/10 mirrors 0/10
        let [lo, hi] = wilson_interval(10, 10, Z_95);
        assert!((lo - 0.722_47).abs() < 1e-4, "{lo}");
        assert!((hi - 1.0).abs() < 1e-12);
        // 81/263: p = 0.30798, center = 0.31075, half = 0.05546 -> 0.2553 .. 0.3662
        let [lo, hi] = wilson_interval(81, 263, Z_95);
        assert!(
            (lo - 0.2553).abs() < 1e-4 && (hi - 0.3662).abs() < 1e-4,
            "{lo} {hi}"
        );
        assert_eq!(wilson_interval(0, 0, Z_95), [0.0, 1.0]);
    }

    #[test]
    fn binomial_tail_known_values() {
        // P(X >= 60 | n = 100, p = 0.5) = 0.028443966820490395 (exact, rational arithmetic)
        assert!(rel_close(
            binomial_upper_tail(60, 100, 0.5),
            0.028_443_966_820_490_395,
            1e-10
        ));
        // P(X >= 8 | 10, 0.5) = (C(10,8) + C(10,9) + C(10,10)) / 2^10 = (45 + 10 + 1) / 1024
        assert!(rel_close(
            binomial_upper_tail(8, 10, 0.5),
            56.0 / 1024.0,
            1e-12
        ));
        // P(X >= 30 | 40, 0.5) = 0.0011107168866146822 (exact)
        assert!(rel_close(
            binomial_upper_tail(30, 40, 0.5),
            0.001_110_716_886_614_682_2,
            1e-10
        ));
        // P(X >= 7 | 20, 0.25) = 0.21421805239879177 (exact); k above the mode 5
        assert!(rel_close(
            binomial_upper_tail(7, 20, 0.25),
            0.214_218_052_398_791_77,
            1e-10
        ));
        // below the mode: P(X >= 3 | 20, 0.25) = 1 - P(X <= 2)
        // P(X<=2) = 0.75^20 + 20*0.25*0.75^19 + 190*0.0625*0.75^18
        let q: f64 = 0.75;
        let cdf2 = q.powi(20) + 20.0 * 0.25 * q.powi(19) + 190.0 * 0.0625 * q.powi(18);
        assert!(rel_close(
            binomial_upper_tail(3, 20, 0.25),
            1.0 - cdf2,
            1e-12
        ));
    }

    #[test]
    fn binomial_tail_edges() {
        assert_eq!(binomial_upper_tail(0, 10, 0.3), 1.0);
        assert_eq!(binomial_upper_tail(11, 10, 0.3), 0.0);
        assert_eq!(binomial_upper_tail(1, 10, 0.0), 0.0);
        assert_eq!(binomial_upper_tail(10, 10, 1.0), 1.0);
        // P(X >= n) = p^n = 0.5^10
        assert!(rel_close(
            binomial_upper_tail(10, 10, 0.5),
            1.0 / 1024.0,
            1e-12
        ));
        // far tail underflows gracefully to a tiny positive or zero, never NaN
        let tiny = binomial_upper_tail(100_000, 100_000, 0.5);
        assert!((0.0..1e-300).contains(&tiny));
    }

    #[test]
    fn binomial_tail_large_n() {
        let n = 100_000;
        // P(X >= n/2) = 1/2 + P(X = n/2)/2, P(X = n/2) ≈ sqrt(2/(πn)) (1 - 1/(4n))
        let point = (2.0 / (std::f64::consts::PI * n as f64)).sqrt() * (1.0 - 0.25 / n as f64);
        let tail = binomial_upper_tail(n / 2, n, 0.5);
        assert!(rel_close(tail, 0.5 + point / 2.0, 1e-8), "{tail}");
        // symmetry at p = 1/2: P(X >= k) + P(X >= n - k + 1) = 1
        let k = 50_321;
        let sum = binomial_upper_tail(k, n, 0.5) + binomial_upper_tail(n - k + 1, n, 0.5);
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
    }
}
