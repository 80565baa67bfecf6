//! Display filters: second-order IIR sections (RBJ cookbook) run forward and
//! backward (zero phase), so filtered traces do not shift in time.

use std::f64::consts::PI;

use super::biquad::{Biquad, NOTCH_Q};
use super::cascade::zero_phase_many;

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

    /// Filters each of `xs` (all sampled at `rate_hz`) in place with zero
    /// phase, as [`apply_zero_phase`](Self::apply_zero_phase) does one; four
    /// channels of equal length at a time take about one and a half times
    /// the time of one.
    pub fn apply_zero_phase_many(&self, xs: &mut [&mut [f32]], rate_hz: f64) {
        zero_phase_many(&self.sections(rate_hz), xs);
    }
}

/// Filters `x` in place with zero phase: the cascade of `sections` forward,
/// then backward (nothing when there are no sections).
pub fn zero_phase(sections: &[Biquad], x: &mut [f32]) {
    zero_phase_many(sections, &mut [x]);
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
