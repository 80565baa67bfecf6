//! Display filters: second-order IIR sections (RBJ cookbook) run forward and
//! backward (zero phase), so filtered traces do not shift in time.

use std::f64::consts::PI;

/// A second-order IIR section, normalized so that `a0 == 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

/// Butterworth quality factor of one second-order section.
const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Quality factor of the notch: about 1.7 Hz wide at 50 Hz.
const NOTCH_Q: f64 = 30.0;

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

/// What the viewer's display filters are set to; `None` turns a stage off.
/// Filters change only what is drawn, never the recording.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct DisplayFilter {
    /// High-pass cutoff in Hz.
    pub highpass_hz: Option<f32>,
    /// Low-pass cutoff in Hz.
    pub lowpass_hz: Option<f32>,
    /// Notch center in Hz (mains: 50 or 60).
    pub notch_hz: Option<f32>,
}

impl DisplayFilter {
    /// True when at least one stage is on.
    pub fn is_active(&self) -> bool {
        self.highpass_hz.is_some() || self.lowpass_hz.is_some() || self.notch_hz.is_some()
    }

    /// The sections this filter runs at `rate_hz`; stages at or above the
    /// Nyquist frequency (or not above 0 Hz) are left out.
    pub fn sections(&self, rate_hz: f64) -> Vec<Biquad> {
        let nyquist = rate_hz / 2.0;
        let usable = |f: Option<f32>| f.map(f64::from).filter(|&f| f > 0.0 && f < nyquist * 0.98);
        let mut out = Vec::new();
        if let Some(f) = usable(self.highpass_hz) {
            out.push(Biquad::highpass(f, rate_hz));
        }
        if let Some(f) = usable(self.lowpass_hz) {
            out.push(Biquad::lowpass(f, rate_hz));
        }
        if let Some(f) = usable(self.notch_hz) {
            out.push(Biquad::notch(f, rate_hz));
        }
        out
    }

    /// Samples of context to read on each side of a span before filtering it,
    /// so that edge transients have died out inside the span: about seven
    /// time constants of the slowest stage, capped at 10 s.
    pub fn margin_samples(&self, rate_hz: f64) -> usize {
        let mut seconds: f64 = 0.05;
        if let Some(f) = self.highpass_hz.filter(|&f| f > 0.0) {
            seconds = seconds.max(1.5 / f as f64);
        }
        if let Some(f) = self.lowpass_hz.filter(|&f| f > 0.0) {
            seconds = seconds.max(1.5 / f as f64);
        }
        if let Some(f) = self.notch_hz.filter(|&f| f > 0.0) {
            // The notch rings for about Q / (pi f) seconds per time constant.
            seconds = seconds.max(5.0 * NOTCH_Q / (PI * f as f64));
        }
        (seconds.min(10.0) * rate_hz).ceil() as usize
    }

    /// Filters `x` (sampled at `rate_hz`) in place with zero phase: the
    /// cascade of sections forward, then backward.
    pub fn apply_zero_phase(&self, x: &mut [f32], rate_hz: f64) {
        zero_phase(&self.sections(rate_hz), x);
    }
}

/// Filters `x` in place with zero phase: the cascade of `sections` forward,
/// then backward (nothing when there are no sections).
pub fn zero_phase(sections: &[Biquad], x: &mut [f32]) {
    if sections.is_empty() {
        return;
    }
    run_cascade_forward(sections, x);
    x.reverse();
    run_cascade_forward(sections, x);
    x.reverse();
}

/// Runs `sections` in series over `x` in one pass (each section starting in
/// the steady state for a constant input equal to `x[0]`), which lets the CPU
/// overlap the sections' work on consecutive samples.
fn run_cascade_forward(sections: &[Biquad], x: &mut [f32]) {
    let Some(&first) = x.first() else { return };
    let mut state: Vec<[f64; 2]> = Vec::with_capacity(sections.len());
    let mut level = first as f64;
    for s in sections {
        let [b0, b1, b2] = s.b;
        let [a1, a2] = s.a;
        let y0 = (b0 + b1 + b2) / (1.0 + a1 + a2) * level;
        let z2 = b2 * level - a2 * y0;
        let z1 = b1 * level - a1 * y0 + z2;
        state.push([z1, z2]);
        level = y0;
    }
    for v in x.iter_mut() {
        let mut xn = *v as f64;
        for (s, z) in sections.iter().zip(state.iter_mut()) {
            let yn = s.b[0] * xn + z[0];
            z[0] = s.b[1] * xn - s.a[0] * yn + z[1];
            z[1] = s.b[2] * xn - s.a[1] * yn;
            xn = yn;
        }
        *v = xn as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * PI * freq_hz * i as f64 / rate_hz).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn notch_removes_mains_and_keeps_alpha() {
        let f = DisplayFilter {
            notch_hz: Some(50.0),
            ..Default::default()
        };
        let mut mains = sine(50.0, 256.0, 4096);
        f.apply_zero_phase(&mut mains, 256.0);
        assert!(rms(&mains[1000..3000]) < 0.02);
        let mut alpha = sine(10.0, 256.0, 4096);
        f.apply_zero_phase(&mut alpha, 256.0);
        assert!((rms(&alpha[1000..3000]) - 0.707).abs() < 0.02);
    }

    #[test]
    fn highpass_removes_offset_lowpass_keeps_it() {
        let hp = DisplayFilter {
            highpass_hz: Some(1.0),
            ..Default::default()
        };
        let mut x: Vec<f32> = vec![100.0; 2048];
        hp.apply_zero_phase(&mut x, 256.0);
        assert!(x.iter().all(|v| v.abs() < 1.0));
        let lp = DisplayFilter {
            lowpass_hz: Some(30.0),
            ..Default::default()
        };
        let mut y: Vec<f32> = vec![100.0; 2048];
        lp.apply_zero_phase(&mut y, 256.0);
        assert!(y.iter().all(|v| (v - 100.0).abs() < 1e-3));
    }

    #[test]
    fn zero_phase_keeps_peak_in_place() {
        let lp = DisplayFilter {
            lowpass_hz: Some(20.0),
            ..Default::default()
        };
        let mut x = vec![0.0f32; 1001];
        x[500] = 1.0;
        lp.apply_zero_phase(&mut x, 256.0);
        let peak = x
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert_eq!(peak, Some(500));
    }

    #[test]
    fn cascade_equals_sections_one_by_one() {
        let f = DisplayFilter {
            highpass_hz: Some(0.5),
            lowpass_hz: Some(35.0),
            notch_hz: Some(50.0),
        };
        let x: Vec<f32> = (0..3000)
            .map(|i| ((i * 7919) % 113) as f32 - 50.0)
            .collect();
        let mut fused = x.clone();
        f.apply_zero_phase(&mut fused, 256.0);
        let mut separate = x;
        let sections = f.sections(256.0);
        for s in &sections {
            s.run_forward(&mut separate);
        }
        separate.reverse();
        for s in &sections {
            s.run_forward(&mut separate);
        }
        separate.reverse();
        for (a, b) in fused.iter().zip(&separate) {
            assert!((a - b).abs() < 1e-3, "{a} {b}");
        }
    }

    #[test]
    fn stages_above_nyquist_are_skipped() {
        let f = DisplayFilter {
            lowpass_hz: Some(200.0),
            notch_hz: Some(60.0),
            ..Default::default()
        };
        assert_eq!(f.sections(100.0).len(), 0);
        assert_eq!(f.sections(256.0).len(), 1);
        assert_eq!(f.sections(1000.0).len(), 2);
    }
}
