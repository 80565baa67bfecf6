//! Synthetic EEG for a regression lesson: each recording follows a slowly
//! varying drowsiness, given per 2-s window as the reaction time it would
//! cause (0.25 s alert to 0.65 s nearly asleep), and the occipital alpha
//! rhythm grows with it, as it does in a drowsy person with eyes closed.
//! The target is a number in seconds, so a model's error reads in seconds
//! (training standardizes targets, so any unit would do).

use std::f64::consts::TAU;

use super::noise::PinkNoise;
use crate::recording::{Channel, Label, LabelSet, Recording, StartTime};
use crate::rng::Rng;

/// The channels generated, in order.
pub const DROWSY_CHANNELS: [&str; 2] = ["O1", "O2"];
/// Sample rate, Hz.
pub const DROWSY_RATE_HZ: f64 = 128.0;
/// Length of each labeled window, seconds.
pub const DROWSY_WINDOW_S: f64 = 2.0;
/// The reaction time of an alert person, s.
const ALERT_S: f64 = 0.25;
/// The reaction time added by full drowsiness, s.
const DROWSY_EXTRA_S: f64 = 0.4;

/// Generates recording `subject` (1-based) of `duration_s` seconds from
/// `seed`: two occipital channels in µV at 128 Hz, and one label per 2-s
/// window whose text is the reaction time in seconds (three decimals).
pub fn synth_drowsy(subject: usize, duration_s: f64, seed: u64) -> (Recording, LabelSet) {
    let mut rng = Rng::new(seed ^ 0xD0_0057 ^ (subject as u64).wrapping_mul(0x9E37_79B9));
    let n = (duration_s * DROWSY_RATE_HZ).round() as usize;
    let per_window = (DROWSY_WINDOW_S * DROWSY_RATE_HZ).round() as usize;
    let windows = n / per_window.max(1);

    // Subject traits: a little variation only, so that a model trained on
    // some people reads another's drowsiness.
    let alpha_hz = rng.range(9.5, 10.5);
    let scale = rng.range(0.97, 1.03);
    let (slow, fast) = (rng.range(0.0, TAU), rng.range(0.0, TAU));
    let drowsiness: Vec<f64> = (0..windows)
        .map(|w| {
            let t = w as f64 * DROWSY_WINDOW_S;
            (0.5 + 0.38 * (TAU * t / 80.0 + slow).sin() + 0.14 * (TAU * t / 26.0 + fast).sin())
                .clamp(0.0, 1.0)
        })
        .collect();
    let amplitude_uv = |d: f64| scale * (2.0 + 24.0 * d);

    let mut alpha = vec![0.0f64; n];
    let (mut phase, mut envelope) = (rng.range(0.0, TAU), amplitude_uv(drowsiness[0]));
    let ease = 1.0 - (-1.0 / (0.1 * DROWSY_RATE_HZ)).exp();
    for (i, out) in alpha.iter_mut().enumerate() {
        let d = drowsiness[(i / per_window).min(windows.saturating_sub(1))];
        envelope += (amplitude_uv(d) - envelope) * ease;
        phase += TAU * alpha_hz / DROWSY_RATE_HZ + 0.02 * rng.normal();
        *out = envelope * (1.0 + 0.1 * rng.normal()).max(0.0) * phase.sin();
    }
    let mut common = PinkNoise::new(DROWSY_RATE_HZ);
    let common_noise: Vec<f64> = (0..n).map(|_| common.next(&mut rng)).collect();
    let channels = DROWSY_CHANNELS
        .iter()
        .enumerate()
        .map(|(c, &label)| {
            let mut own = PinkNoise::new(DROWSY_RATE_HZ);
            let weight = if c == 0 { 1.0 } else { 0.9 };
            let samples = (0..n)
                .map(|i| {
                    let v = 6.0 * scale * (0.8 * own.next(&mut rng) + 0.45 * common_noise[i])
                        + weight * alpha[i];
                    v as f32
                })
                .collect();
            Channel {
                label: label.to_string(),
                unit: "uV".into(),
                rate_hz: DROWSY_RATE_HZ,
                physical_min: -400.0,
                physical_max: 400.0,
                transducer: "AgAgCl electrode".into(),
                prefilter: "HP:0.1Hz LP:40Hz".into(),
                samples,
            }
        })
        .collect();
    let labels = LabelSet::new(
        drowsiness
            .iter()
            .enumerate()
            .map(|(w, d)| {
                let reaction_s = ALERT_S + DROWSY_EXTRA_S * d;
                Label::new(
                    w as f64 * DROWSY_WINDOW_S,
                    DROWSY_WINDOW_S,
                    format!("{reaction_s:.3}"),
                )
            })
            .collect(),
    );
    let start = StartTime {
        year: 2026,
        month: 2,
        day: 2 + subject as u32,
        hour: 14,
        minute: 0,
        second: 0.0,
    };
    let recording = super::subject_recording(subject, start, channels, &labels);
    (recording, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_power_follows_the_reaction_time() {
        let (rec, labels) = synth_drowsy(1, 120.0, 5);
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(labels.labels.len(), 60);
        let per = (DROWSY_WINDOW_S * DROWSY_RATE_HZ) as usize;
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for (w, l) in labels.labels.iter().enumerate() {
            let seconds: f64 = l.trial_type.parse().unwrap();
            assert!((0.25..=0.65).contains(&seconds), "{seconds}");
            let x = &rec.channels[0].samples[w * per..(w + 1) * per];
            let power = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / per as f64;
            xs.push(power.sqrt());
            ys.push(seconds);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mx, my) = (mean(&xs), mean(&ys));
        let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sx = xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>().sqrt();
        let sy = ys.iter().map(|y| (y - my).powi(2)).sum::<f64>().sqrt();
        let r = cov / (sx * sy);
        assert!(
            r > 0.8,
            "the window's amplitude follows the reaction time: r = {r}"
        );
        let spread = ys.iter().cloned().fold(f64::NAN, f64::max)
            - ys.iter().cloned().fold(f64::NAN, f64::min);
        assert!(spread > 0.2, "{spread}");
        let (again, _) = synth_drowsy(1, 120.0, 5);
        assert_eq!(rec, again);
    }
}
