//! Synthetic animal calls: four call types that differ in how their pitch and
//! loudness move, each varied in pitch, timing, length and background noise.

use std::f64::consts::TAU;

use super::noise::PinkNoise;
use crate::rng::Rng;

/// The call classes, in the order of their class index.
pub const AUDIO_CLASSES: [&str; 4] = ["rising_chirp", "falling_chirp", "trill", "harmonic_whistle"];

/// `duration_s` seconds of audio at `rate_hz` holding one call of class
/// `class` (index into [`AUDIO_CLASSES`]), normalized to about -1..1. The
/// call lasts 30-70 % of the clip and starts anywhere it fits.
pub fn synth_call(class: usize, rate_hz: f64, duration_s: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let n = (rate_hz * duration_s).round() as usize;
    let length_s = duration_s * rng.range(0.3, 0.7);
    let onset_s = rng.range(0.05 * duration_s, 0.95 * duration_s - length_s);
    let amplitude = rng.range(0.25, 0.6);
    let noise_level = rng.range(0.005, 0.04);
    let base_hz = rng.range(1200.0, 2600.0);
    let span = rng.range(1.5, 2.2);
    let trill_hz = rng.range(14.0, 28.0);
    let vibrato_hz = rng.range(4.0, 8.0);
    let fundamental_hz = rng.range(550.0, 1100.0);

    let mut noise = PinkNoise::new(rate_hz);
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate_hz;
            let background = noise_level * noise.next(&mut rng);
            let u = (t - onset_s) / length_s; // 0..1 during the call
            if !(0.0..1.0).contains(&u) {
                return background as f32;
            }
            let env = envelope(u, length_s);
            let call = match AUDIO_CLASSES[class % AUDIO_CLASSES.len()] {
                "rising_chirp" | "falling_chirp" => {
                    let up = class == 0;
                    let x = if up { u } else { 1.0 - u };
                    let f = base_hz * span.powf(x);
                    phase += TAU * f / rate_hz;
                    phase.sin()
                }
                "trill" => {
                    let f = base_hz * (1.0 + 0.04 * (TAU * trill_hz * t).sin());
                    phase += TAU * f / rate_hz;
                    let pulses = (0.5 + 0.5 * (TAU * trill_hz * t).sin()).powi(3);
                    pulses * phase.sin()
                }
                _ => {
                    let f = fundamental_hz * (1.0 + 0.01 * (TAU * vibrato_hz * t).sin());
                    phase += TAU * f / rate_hz;
                    (1..=4)
                        .map(|h| (h as f64 * phase).sin() / h as f64)
                        .sum::<f64>()
                        / 1.6
                }
            };
            (amplitude * env * call + background) as f32
        })
        .collect()
}

/// Raised-cosine attack and release of 15 ms (shorter for very short calls).
fn envelope(u: f64, length_s: f64) -> f64 {
    let ramp = (0.015 / length_s).min(0.3);
    if u < ramp {
        0.5 - 0.5 * (std::f64::consts::PI * u / ramp).cos()
    } else if u > 1.0 - ramp {
        0.5 - 0.5 * (std::f64::consts::PI * (1.0 - u) / ramp).cos()
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zero crossings per second over the loud part: a rough pitch estimate.
    fn pitch_track(x: &[f32], rate: f64) -> Vec<f64> {
        let frame = (rate * 0.02) as usize;
        x.chunks(frame)
            .filter(|c| c.iter().map(|v| v.abs()).fold(0.0, f32::max) > 0.15)
            .map(|c| {
                let crossings = c
                    .windows(2)
                    .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                    .count();
                crossings as f64 * rate / (2.0 * c.len() as f64)
            })
            .collect()
    }

    #[test]
    fn chirps_rise_and_fall() {
        for seed in 0..5 {
            let up = pitch_track(&synth_call(0, 16_000.0, 1.0, seed), 16_000.0);
            let down = pitch_track(&synth_call(1, 16_000.0, 1.0, seed), 16_000.0);
            assert!(up.len() > 4 && down.len() > 4);
            assert!(up[up.len() - 2] > up[1], "{up:?}");
            assert!(down[down.len() - 2] < down[1], "{down:?}");
        }
    }

    #[test]
    fn calls_have_the_asked_length_and_are_bounded() {
        for class in 0..4 {
            let x = synth_call(class, 16_000.0, 0.5, 9);
            assert_eq!(x.len(), 8_000);
            assert!(x.iter().all(|v| v.abs() < 1.0));
            assert_eq!(x, synth_call(class, 16_000.0, 0.5, 9));
        }
    }
}
