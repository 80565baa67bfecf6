//! Second-order IIR sections (RBJ cookbook): the display filters' stages.

use std::f64::consts::PI;

/// A second-order IIR section, normalized so that `a0 == 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    /// Numerator coefficients.
    pub(super) b: [f64; 3],
    /// Denominator coefficients after the leading 1.
    pub(super) a: [f64; 2],
}

/// Butterworth quality factor of one second-order section.
const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Quality factor of the notch: about 1.7 Hz wide at 50 Hz.
pub(super) const NOTCH_Q: f64 = 30.0;

impl Biquad {
    fn from_coefficients(b: [f64; 3], a: [f64; 3]) -> Self {
        Self {
            b: [b[0] / a[0], b[1] / a[0], b[2] / a[0]],
            a: [a[1] / a[0], a[2] / a[0]],
        }
    }

    /// A 2nd-order Butterworth low-pass at `cutoff_hz` for `rate_hz` sampling.
    pub fn lowpass(cutoff_hz: f64, rate_hz: f64) -> Self {
        Self::lowpass_q(cutoff_hz, rate_hz, BUTTERWORTH_Q)
    }

    /// A 2nd-order low-pass at `cutoff_hz` with quality factor `q` (sections
    /// of a higher-order Butterworth filter take their own `q`).
    pub fn lowpass_q(cutoff_hz: f64, rate_hz: f64, q: f64) -> Self {
        let (cos, alpha) = omega(cutoff_hz, rate_hz, q);
        let b1 = 1.0 - cos;
        Self::from_coefficients(
            [b1 / 2.0, b1, b1 / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// A 2nd-order Butterworth high-pass at `cutoff_hz` for `rate_hz` sampling.
    pub fn highpass(cutoff_hz: f64, rate_hz: f64) -> Self {
        Self::highpass_q(cutoff_hz, rate_hz, BUTTERWORTH_Q)
    }

    /// A 2nd-order high-pass at `cutoff_hz` with quality factor `q`.
    pub fn highpass_q(cutoff_hz: f64, rate_hz: f64, q: f64) -> Self {
        let (cos, alpha) = omega(cutoff_hz, rate_hz, q);
        let b1 = 1.0 + cos;
        Self::from_coefficients(
            [b1 / 2.0, -b1, b1 / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// A narrow notch (band-stop) at `center_hz` for `rate_hz` sampling.
    pub fn notch(center_hz: f64, rate_hz: f64) -> Self {
        let (cos, alpha) = omega(center_hz, rate_hz, NOTCH_Q);
        Self::from_coefficients(
            [1.0, -2.0 * cos, 1.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Runs the section over `x` in place, forward in time, starting from the
    /// steady state for a constant input equal to `x[0]`.
    pub fn run_forward(&self, x: &mut [f32]) {
        let Some(&first) = x.first() else { return };
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        // Steady state of the transposed direct form II for constant input.
        let dc_gain = (b0 + b1 + b2) / (1.0 + a1 + a2);
        let x0 = first as f64;
        let y0 = dc_gain * x0;
        let mut z2 = b2 * x0 - a2 * y0;
        let mut z1 = b1 * x0 - a1 * y0 + z2;
        for v in x.iter_mut() {
            let xn = *v as f64;
            let yn = b0 * xn + z1;
            z1 = b1 * xn - a1 * yn + z2;
            z2 = b2 * xn - a2 * yn;
            *v = yn as f32;
        }
    }

    /// Runs the section forward then backward: zero phase, squared magnitude.
    pub fn run_zero_phase(&self, x: &mut [f32]) {
        self.run_forward(x);
        x.reverse();
        self.run_forward(x);
        x.reverse();
    }
}

/// `(cos w0, alpha)` of the RBJ cookbook for a frequency and quality factor.
fn omega(freq_hz: f64, rate_hz: f64, q: f64) -> (f64, f64) {
    let w0 = 2.0 * PI * freq_hz / rate_hz;
    (w0.cos(), w0.sin() / (2.0 * q))
}
