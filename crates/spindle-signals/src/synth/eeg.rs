//! Synthetic multi-channel EEG with trials a model can learn and a person can
//! see: strong occipital alpha when the eyes are closed, frontal blink
//! deflections, temporal muscle bursts from jaw clenching.

use std::f64::consts::TAU;

use super::eye::{add_blink, add_saccades};
use super::noise::PinkNoise;
use crate::recording::{Channel, Label, LabelSet, Recording, StartTime};
use crate::rng::Rng;

/// The 10-20 channels generated, in order.
pub const EEG_CHANNELS: [&str; 12] = [
    "Fp1", "Fp2", "F3", "F4", "C3", "C4", "T7", "T8", "P3", "P4", "O1", "O2",
];

/// The trial classes, in the order of their class index.
pub const EEG_CLASSES: [&str; 4] = ["eyes_open", "eyes_closed", "blink", "jaw_clench"];

/// Sample rate of the generated EEG, Hz.
const RATE_HZ: f64 = 256.0;
/// Length of every labeled trial, seconds.
const TRIAL_S: f64 = 2.0;

/// How strongly each source reaches each channel (same order as [`EEG_CHANNELS`]).
const ALPHA_WEIGHT: [f64; 12] = [
    0.05, 0.05, 0.1, 0.1, 0.25, 0.25, 0.2, 0.2, 0.6, 0.6, 1.0, 1.0,
];
const BLINK_WEIGHT: [f64; 12] = [
    1.0, 1.0, 0.45, 0.45, 0.15, 0.15, 0.08, 0.08, 0.05, 0.05, 0.03, 0.03,
];
const MUSCLE_WEIGHT: [f64; 12] = [
    0.15, 0.15, 0.4, 0.4, 0.25, 0.25, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1,
];

/// One labeled trial: class index and onset in seconds.
#[derive(Debug, Clone, Copy)]
struct Trial {
    class: usize,
    onset_s: f64,
}

/// Generates subject `subject` (1-based) of `duration_s` seconds from `seed`:
/// the recording (µV, 256 Hz, 12 channels) and its labels (2-s trials
/// separated by unlabeled rest, classes balanced in shuffled blocks).
pub fn synth_subject(subject: usize, duration_s: f64, seed: u64) -> (Recording, LabelSet) {
    let mut rng = Rng::new(seed ^ (subject as u64).wrapping_mul(0x9E37_79B9));
    let n = (duration_s * RATE_HZ).round() as usize;

    // Subject traits.
    let alpha_hz = rng.range(9.2, 11.0);
    let scale = rng.range(0.8, 1.2);
    let closed_alpha_uv = rng.range(22.0, 32.0) * scale;
    let open_alpha_uv = rng.range(3.0, 5.0) * scale;
    let rest_alpha_uv = rng.range(8.0, 12.0) * scale;

    let trials = schedule(&mut rng, duration_s);
    // Per-sample targets for the alpha envelope and event sources.
    let mut alpha_target = vec![rest_alpha_uv; n];
    let mut blink = vec![0.0f64; n];
    let mut muscle_env = vec![0.0f64; n];
    let mut saccade = vec![0.0f64; n];
    let idx = |t: f64| ((t * RATE_HZ).round() as usize).min(n);
    for trial in &trials {
        let (a, b) = (idx(trial.onset_s), idx(trial.onset_s + TRIAL_S));
        let alpha = match EEG_CLASSES[trial.class] {
            "eyes_closed" => closed_alpha_uv,
            "eyes_open" => {
                add_saccades(&mut saccade, a, b, RATE_HZ, &mut rng);
                open_alpha_uv
            }
            "blink" => {
                for _ in 0..1 + rng.below(2) {
                    let at = trial.onset_s + rng.range(0.3, TRIAL_S - 0.4);
                    add_blink(
                        &mut blink,
                        at,
                        rng.range(110.0, 190.0) * scale,
                        RATE_HZ,
                        &mut rng,
                    );
                }
                open_alpha_uv * 1.5
            }
            _ => {
                let from = trial.onset_s + rng.range(0.1, 0.4);
                let to = trial.onset_s + TRIAL_S - rng.range(0.1, 0.4);
                for v in &mut muscle_env[idx(from)..idx(to)] {
                    *v = rng.range(0.8, 1.2) * scale;
                }
                rest_alpha_uv
            }
        };
        alpha_target[a..b].fill(alpha);
    }
    // Spontaneous blinks during rest make the unlabeled time realistic.
    let mut t = 1.0;
    while t < duration_s - 1.0 {
        let in_trial = trials
            .iter()
            .any(|tr| t > tr.onset_s - 0.5 && t < tr.onset_s + TRIAL_S + 0.5);
        if !in_trial && rng.uniform() < 0.15 {
            add_blink(
                &mut blink,
                t,
                rng.range(80.0, 150.0) * scale,
                RATE_HZ,
                &mut rng,
            );
        }
        t += 0.5;
    }

    // Alpha: one oscillator with slow phase drift, envelope eased toward the target.
    let mut alpha = vec![0.0f64; n];
    let (mut phase, mut envelope) = (rng.range(0.0, TAU), rest_alpha_uv);
    let ease = 1.0 - (-1.0 / (0.15 * RATE_HZ)).exp();
    for (i, out) in alpha.iter_mut().enumerate() {
        envelope += (alpha_target[i] - envelope) * ease;
        phase += TAU * alpha_hz / RATE_HZ + 0.02 * rng.normal();
        *out = envelope * (1.0 + 0.15 * rng.normal()).max(0.0) * phase.sin();
    }

    let mut common = PinkNoise::new(RATE_HZ);
    let common_noise: Vec<f64> = (0..n).map(|_| common.next(&mut rng)).collect();
    let line_phase = rng.range(0.0, TAU);
    let channels = EEG_CHANNELS
        .iter()
        .enumerate()
        .map(|(c, &label)| {
            let mut own = PinkNoise::new(RATE_HZ);
            let background_uv = rng.range(8.0, 12.0) * scale;
            let saccade_sign = if c % 2 == 0 { 1.0 } else { -1.0 };
            let samples = (0..n)
                .map(|i| {
                    let t = i as f64 / RATE_HZ;
                    let muscle = muscle_env[i] * 28.0 * (rng.normal() - 0.6 * rng.normal());
                    let v = background_uv * (0.8 * own.next(&mut rng) + 0.45 * common_noise[i])
                        + ALPHA_WEIGHT[c] * alpha[i]
                        + BLINK_WEIGHT[c] * blink[i]
                        + MUSCLE_WEIGHT[c] * muscle
                        + BLINK_WEIGHT[c] * saccade_sign * saccade[i]
                        + 1.5 * (TAU * 50.0 * t + line_phase).sin();
                    v as f32
                })
                .collect();
            Channel {
                label: label.to_string(),
                unit: "uV".into(),
                rate_hz: RATE_HZ,
                physical_min: -800.0,
                physical_max: 800.0,
                transducer: "AgAgCl electrode".into(),
                prefilter: "HP:0.1Hz LP:100Hz".into(),
                samples,
            }
        })
        .collect();

    let labels = LabelSet::new(
        trials
            .iter()
            .map(|t| Label::new(round_ms(t.onset_s), TRIAL_S, EEG_CLASSES[t.class]))
            .collect(),
    );
    let start = StartTime {
        year: 2026,
        month: 1,
        day: 10 + subject as u32,
        hour: 9,
        minute: 30,
        second: 0.0,
    };
    let recording = super::subject_recording(subject, start, channels, &labels);
    (recording, labels)
}

/// Trial onsets: from 2 s in, each trial followed by 0.5-1.2 s of rest, classes
/// in shuffled blocks of one of each.
fn schedule(rng: &mut Rng, duration_s: f64) -> Vec<Trial> {
    let mut trials = Vec::new();
    let mut block: Vec<usize> = Vec::new();
    let mut t = 2.0;
    while t + TRIAL_S < duration_s - 1.0 {
        if block.is_empty() {
            block = (0..EEG_CLASSES.len()).collect();
            rng.shuffle(&mut block);
        }
        let class = block.pop().unwrap_or(0);
        let onset_s = round_ms(t);
        trials.push(Trial { class, onset_s });
        t = onset_s + TRIAL_S + rng.range(0.5, 1.2);
    }
    trials
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn classes_differ_where_a_person_would_look() {
        let (rec, labels) = synth_subject(1, 120.0, 42);
        assert_eq!(rec.channels.len(), 12);
        assert_eq!(rec.channels[0].samples.len(), 120 * 256);
        let counts = labels.counts();
        assert_eq!(counts.len(), 4);
        assert!(counts.values().all(|&c| c >= 8), "{counts:?}");
        let mean_rms = |class: &str, channel: &str| {
            let c = EEG_CHANNELS.iter().position(|&l| l == channel).unwrap_or(0);
            let ch = &rec.channels[c].samples;
            let values: Vec<f64> = labels
                .labels
                .iter()
                .filter(|l| l.trial_type == class)
                .map(|l| {
                    let a = (l.onset_s * 256.0) as usize;
                    rms(&ch[a..a + 512])
                })
                .collect();
            values.iter().sum::<f64>() / values.len() as f64
        };
        assert!(mean_rms("eyes_closed", "O1") > 1.5 * mean_rms("eyes_open", "O1"));
        assert!(mean_rms("blink", "Fp1") > 1.5 * mean_rms("eyes_closed", "Fp1"));
        assert!(mean_rms("jaw_clench", "T7") > 1.5 * mean_rms("eyes_open", "T7"));
    }

    #[test]
    fn same_seed_same_data() {
        let (a, la) = synth_subject(2, 10.0, 7);
        let (b, lb) = synth_subject(2, 10.0, 7);
        let (c, _) = synth_subject(3, 10.0, 7);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert_ne!(a.channels[0].samples, c.channels[0].samples);
    }
}
