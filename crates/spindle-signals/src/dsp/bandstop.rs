//! A zero-phase band-stop filter: what is left of a signal once one
//! frequency band is taken out.

use super::biquad::Biquad;
use super::filter::zero_phase;

/// Quality factors of the four sections of an 8th-order Butterworth
/// filter: `1 / (2 cos((2k - 1) pi / 16))`, k = 1..=4. Steep enough that
/// the middle of a narrow band (alpha, 8–13 Hz) loses about 27 dB.
const BUTTERWORTH_8_Q: [f64; 4] = [0.509_795_6, 0.601_344_9, 0.899_976_2, 2.562_915_4];

/// Removes the band between two edges. The signal is split into a low-pass
/// branch below the lower edge and a high-pass branch above the upper edge,
/// each an 8th-order Butterworth run forward and backward (zero phase, so
/// each branch's gain is real and the two add without cancelling), and the
/// branches are added. Gain: 1 well outside the band, 0.5 at each edge,
/// about 0 inside.
#[derive(Debug, Clone, PartialEq)]
pub struct BandStop {
    /// Low-pass sections below the band (none when the band starts at 0 Hz).
    below: Vec<Biquad>,
    /// High-pass sections above the band (none when it reaches the Nyquist frequency).
    above: Vec<Biquad>,
    /// Whether anything passes below the band.
    keeps_below: bool,
}

impl BandStop {
    /// The filter taking out `low_hz..high_hz` at `rate_hz`; `None` when the
    /// band is empty or starts at or above the Nyquist frequency (an upper
    /// edge past it removes everything above `low_hz`).
    pub fn new(low_hz: f64, high_hz: f64, rate_hz: f64) -> Option<Self> {
        let nyquist = rate_hz / 2.0;
        let valid = low_hz < high_hz && low_hz < nyquist && rate_hz > 0.0;
        if !valid {
            return None;
        }
        let keeps_below = low_hz > 0.0;
        let below = if keeps_below {
            BUTTERWORTH_8_Q
                .iter()
                .map(|&q| Biquad::lowpass_q(low_hz, rate_hz, q))
                .collect()
        } else {
            Vec::new()
        };
        let above = if high_hz < nyquist * 0.98 {
            BUTTERWORTH_8_Q
                .iter()
                .map(|&q| Biquad::highpass_q(high_hz, rate_hz, q))
                .collect()
        } else {
            Vec::new()
        };
        Some(Self {
            below,
            above,
            keeps_below,
        })
    }

    /// Filters `x` in place.
    pub fn apply(&self, x: &mut [f32]) {
        let mut high = if self.above.is_empty() {
            vec![0.0; x.len()]
        } else {
            let mut h = x.to_vec();
            zero_phase(&self.above, &mut h);
            h
        };
        if self.keeps_below {
            zero_phase(&self.below, x);
        } else {
            x.fill(0.0);
        }
        for (v, h) in x.iter_mut().zip(high.drain(..)) {
            *v += h;
        }
    }

    /// Samples of context worth filtering on each side of a span so that
    /// the edges' transients have died out inside it: about four periods of
    /// the lowest edge frequency, capped at 10 s.
    pub fn margin_samples(low_hz: f64, high_hz: f64, rate_hz: f64) -> usize {
        let lowest = if low_hz > 0.0 { low_hz } else { high_hz };
        let seconds = (4.0 / lowest.max(0.1)).min(10.0);
        (seconds * rate_hz).ceil() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (std::f64::consts::TAU * freq_hz * i as f64 / rate_hz).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn removes_the_band_and_keeps_the_rest() {
        let rate = 256.0;
        let Some(alpha) = BandStop::new(8.0, 13.0, rate) else {
            panic!("a valid band")
        };
        for (freq, kept) in [
            (2.0, true),
            (9.5, false),
            (10.5, false),
            (25.0, true),
            (40.0, true),
        ] {
            let mut x = sine(freq, rate, 4096);
            alpha.apply(&mut x);
            let got = rms(&x[1000..3000]);
            if kept {
                assert!((got - 0.707).abs() < 0.02, "{freq} Hz kept: rms {got}");
            } else {
                assert!(got < 0.05, "{freq} Hz removed: rms {got}");
            }
        }
    }

    #[test]
    fn a_band_from_zero_is_a_high_pass_and_past_nyquist_a_low_pass() {
        let rate = 100.0;
        let Some(from_zero) = BandStop::new(0.0, 4.0, rate) else {
            panic!()
        };
        let mut dc = vec![5.0f32; 2048];
        from_zero.apply(&mut dc);
        assert!(rms(&dc[500..1500]) < 0.01);
        let Some(top) = BandStop::new(30.0, 60.0, rate) else {
            panic!()
        };
        let mut x = sine(40.0, rate, 2048);
        top.apply(&mut x);
        assert!(rms(&x[500..1500]) < 0.01);
        let mut y = sine(10.0, rate, 2048);
        top.apply(&mut y);
        assert!((rms(&y[500..1500]) - 0.707).abs() < 0.01);
        assert_eq!(BandStop::new(60.0, 80.0, rate), None);
        assert_eq!(BandStop::new(13.0, 8.0, rate), None);
    }
}
