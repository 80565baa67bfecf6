//! The discrete Fourier transform of a real signal of any length (not only
//! powers of two) and its exact inverse, by Bluestein's chirp-z algorithm
//! over the power-of-two [`fft`].

use std::f64::consts::PI;

use super::fft;

/// A transform of real signals of one length `n`, planned once: spectra
/// have `n / 2 + 1` bins, bin `k` at `k * rate / n` Hz.
#[derive(Debug, Clone)]
pub struct RealDft {
    n: usize,
    /// Power-of-two length of the convolution, at least `2n - 1`.
    m: usize,
    /// `exp(-i pi k^2 / n)` for `k < n`.
    chirp: Vec<(f64, f64)>,
    /// FFT of the conjugate chirp laid out for circular convolution.
    kernel: (Vec<f64>, Vec<f64>),
}

impl RealDft {
    /// A plan for signals of `n` samples (`n >= 1`).
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        let m = (2 * n - 1).next_power_of_two();
        let chirp: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                // k^2 mod 2n keeps the angle exact for long signals.
                let k2 = ((k as u128 * k as u128) % (2 * n as u128)) as f64;
                let angle = -PI * k2 / n as f64;
                (angle.cos(), angle.sin())
            })
            .collect();
        let (mut re, mut im) = (vec![0.0; m], vec![0.0; m]);
        for (k, &(c, s)) in chirp.iter().enumerate() {
            re[k] = c;
            im[k] = -s;
            if k > 0 {
                re[m - k] = c;
                im[m - k] = -s;
            }
        }
        fft(&mut re, &mut im);
        Self {
            n,
            m,
            chirp,
            kernel: (re, im),
        }
    }

    /// The signal length this plan is for.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a plan covers at least one sample.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The complex DFT of `(re, im)` (both of length `n`), in place.
    fn complex(&self, re: &mut [f64], im: &mut [f64]) {
        let (n, m) = (self.n, self.m);
        let (mut a_re, mut a_im) = (vec![0.0; m], vec![0.0; m]);
        for k in 0..n {
            let (c, s) = self.chirp[k];
            a_re[k] = re[k] * c - im[k] * s;
            a_im[k] = re[k] * s + im[k] * c;
        }
        fft(&mut a_re, &mut a_im);
        let (k_re, k_im) = &self.kernel;
        for j in 0..m {
            let (x, y) = (a_re[j], a_im[j]);
            a_re[j] = x * k_re[j] - y * k_im[j];
            a_im[j] = x * k_im[j] + y * k_re[j];
        }
        // Inverse FFT by conjugation.
        for v in &mut a_im {
            *v = -*v;
        }
        fft(&mut a_re, &mut a_im);
        let scale = 1.0 / m as f64;
        for k in 0..n {
            let (x, y) = (a_re[k] * scale, -a_im[k] * scale);
            let (c, s) = self.chirp[k];
            re[k] = x * c - y * s;
            im[k] = x * s + y * c;
        }
    }

    /// The spectrum `(re, im)` of the first `n` samples of `x` (missing
    /// samples are zeros): `n / 2 + 1` bins.
    pub fn forward(&self, x: &[f32]) -> (Vec<f64>, Vec<f64>) {
        let n = self.n;
        let mut re: Vec<f64> = (0..n)
            .map(|i| x.get(i).copied().map_or(0.0, f64::from))
            .collect();
        let mut im = vec![0.0; n];
        self.complex(&mut re, &mut im);
        re.truncate(n / 2 + 1);
        im.truncate(n / 2 + 1);
        (re, im)
    }

    /// The real signal of `n` samples whose spectrum is `(re, im)` (`n / 2 +
    /// 1` bins, as [`RealDft::forward`] gives); the inverse of `forward`.
    pub fn inverse(&self, re: &[f64], im: &[f64]) -> Vec<f32> {
        let n = self.n;
        let half = n / 2 + 1;
        // The full Hermitian spectrum, conjugated: the inverse DFT is the
        // conjugate of the forward DFT of the conjugate, over n.
        let (mut full_re, mut full_im) = (vec![0.0; n], vec![0.0; n]);
        for k in 0..n {
            let (r, i) = if k < half {
                (
                    re.get(k).copied().unwrap_or(0.0),
                    im.get(k).copied().unwrap_or(0.0),
                )
            } else {
                let j = n - k;
                (
                    re.get(j).copied().unwrap_or(0.0),
                    -im.get(j).copied().unwrap_or(0.0),
                )
            };
            full_re[k] = r;
            full_im[k] = -i;
        }
        self.complex(&mut full_re, &mut full_im);
        full_re.iter().map(|v| (v / n as f64) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_direct_sum_and_inverts_exactly() {
        for n in [1, 2, 7, 16, 255, 510] {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 113) as f32 / 50.0 - 1.0)
                .collect();
            let dft = RealDft::new(n);
            let (re, im) = dft.forward(&x);
            assert_eq!(re.len(), n / 2 + 1);
            for k in [0, n / 3, n / 2] {
                let (mut r, mut i) = (0.0, 0.0);
                for (t, &v) in x.iter().enumerate() {
                    let a = -2.0 * PI * (k * t) as f64 / n as f64;
                    r += v as f64 * a.cos();
                    i += v as f64 * a.sin();
                }
                assert!(
                    (re[k] - r).abs() < 1e-6 && (im[k] - i).abs() < 1e-6,
                    "n {n} k {k}"
                );
            }
            let back = dft.inverse(&re, &im);
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() < 1e-5, "n {n}: {a} {b}");
            }
        }
    }
}
