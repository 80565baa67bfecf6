//! A shortened night for sleep staging, laid out like a Sleep-EDF recording:
//! two EEG derivations, horizontal EOG and submental EMG at 100 Hz, scored in
//! 30-s epochs (W, N1, N2, N3, REM). The hypnogram follows a real night's
//! shape (wake at lights out, two NREM-REM cycles of about 80 minutes, N3
//! mostly in the first, REM longer in the second, brief awakenings), and each
//! epoch carries the rhythms its stage is scored by.

use std::f64::consts::TAU;

use super::eye::{add_blink, add_rapid_eye_movements, add_saccades, add_slow_eye_movements};
use super::noise::PinkNoise;
use crate::recording::{Channel, Label, LabelSet, Recording, StartTime};
use crate::rng::Rng;

/// The channels generated, in order (named as in Sleep-EDF).
pub const NIGHT_CHANNELS: [&str; 4] = ["Fpz-Cz", "Pz-Oz", "EOG horizontal", "EMG submental"];

/// The sleep stages, as the labels name them, from wake to REM.
pub const SLEEP_STAGES: [&str; 5] = ["W", "N1", "N2", "N3", "REM"];

/// Sample rate of every channel of the night, Hz.
pub const NIGHT_RATE_HZ: f64 = 100.0;

/// Length of one scored epoch (and of one EDF data record), seconds.
pub const SLEEP_EPOCH_S: f64 = 30.0;

/// Samples in one epoch.
const EPOCH_SAMPLES: usize = (SLEEP_EPOCH_S * NIGHT_RATE_HZ) as usize;

/// Events are placed at least this far inside their epoch, seconds, so that
/// what an epoch shows belongs to its own stage.
const MARGIN_S: f64 = 1.5;

/// A sleep stage (AASM scoring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Wake,
    N1,
    N2,
    N3,
    Rem,
}

impl Stage {
    /// The stage's label, one of [`SLEEP_STAGES`].
    fn name(self) -> &'static str {
        SLEEP_STAGES[self as usize]
    }
}

/// The night's plan: stage and the range of its length in epochs, drawn
/// uniformly per night. About 2.8 hours in all.
const PLAN: [(Stage, usize, usize); 21] = [
    // Lights out: relaxed wake, then drowsiness.
    (Stage::Wake, 10, 20),
    (Stage::N1, 4, 8),
    // Cycle 1: deep sleep dominates, a short first REM period.
    (Stage::N2, 20, 30),
    (Stage::N3, 30, 42),
    (Stage::N2, 2, 6),
    (Stage::N3, 34, 48),
    (Stage::N2, 18, 28),
    (Stage::Rem, 12, 20),
    // A brief awakening out of REM.
    (Stage::Wake, 1, 3),
    (Stage::N1, 2, 5),
    // Cycle 2: less N3, a longer REM period.
    (Stage::N2, 40, 54),
    (Stage::N3, 16, 26),
    (Stage::N2, 20, 30),
    (Stage::Wake, 1, 2),
    (Stage::N1, 1, 3),
    (Stage::N2, 10, 16),
    (Stage::Rem, 36, 48),
    // Morning: awake.
    (Stage::Wake, 4, 6),
    (Stage::N1, 1, 2),
    (Stage::N2, 2, 4),
    (Stage::Wake, 2, 4),
];

/// One epoch scored per entry, from the plan; inside long N3 stretches an
/// epoch lightens to N2 now and then, and REM is broken by an awakening
/// sometimes, as in real hypnograms.
fn hypnogram(rng: &mut Rng) -> Vec<Stage> {
    let mut stages = Vec::new();
    for &(stage, min, max) in &PLAN {
        let len = min + rng.below(max - min + 1);
        for k in 0..len {
            let inside = k > 2 && k + 3 < len;
            let drawn = rng.uniform();
            stages.push(match stage {
                Stage::N3 if inside && drawn < 0.06 => Stage::N2,
                Stage::Rem if inside && drawn < 0.02 => Stage::Wake,
                _ => stage,
            });
        }
    }
    stages
}

/// Traits of one sleeper.
struct Sleeper {
    alpha_hz: f64,
    spindle_hz: f64,
    scale: f64,
    delta_uv: f64,
    /// How strong this sleeper's alpha and chin tone are, relative to others.
    alpha_gain: f64,
    emg_gain: f64,
}

/// The background rhythms of a stage (µV): amplitudes the signal eases toward.
#[derive(Debug, Clone, Copy, Default)]
struct Rhythms {
    background_uv: f64,
    alpha_uv: f64,
    beta_uv: f64,
    theta_uv: f64,
    delta_uv: f64,
    emg_uv: f64,
}

impl Rhythms {
    /// The rhythms of one epoch of `stage`, varied per epoch.
    fn of(stage: Stage, sleeper: &Sleeper, rng: &mut Rng) -> Self {
        let [background_uv, alpha_uv, beta_uv, theta_uv, delta_uv, emg_uv] = match stage {
            Stage::Wake => [8.0, 22.0, 5.0, 3.0, 3.0, 16.0],
            Stage::N1 => [9.0, 4.0, 2.5, 14.0, 6.0, 7.0],
            Stage::N2 => [10.0, 2.0, 1.5, 11.0, 12.0, 5.5],
            Stage::N3 => [11.0, 1.0, 1.0, 9.0, sleeper.delta_uv, 4.5],
            Stage::Rem => [7.0, 3.5, 3.0, 10.0, 4.0, 1.2],
        };
        // Awake with the eyes open now and then: little alpha, more beta.
        // Drowsiness keeps some alpha in a part of the N1 epochs.
        let (alpha_uv, beta_uv) = match stage {
            Stage::Wake if rng.uniform() < 0.3 => (alpha_uv * 0.3, beta_uv * 1.6),
            Stage::N1 if rng.uniform() < 0.3 => (alpha_uv * 2.0, beta_uv),
            _ => (alpha_uv, beta_uv),
        };
        let mut vary = |uv: f64| uv * sleeper.scale * rng.range(0.75, 1.25);
        Self {
            background_uv: vary(background_uv),
            alpha_uv: vary(alpha_uv) * sleeper.alpha_gain,
            beta_uv: vary(beta_uv),
            theta_uv: vary(theta_uv),
            delta_uv: vary(delta_uv),
            emg_uv: vary(emg_uv) * sleeper.emg_gain,
        }
    }

    /// Moves every amplitude a fraction `k` of the way toward `target`.
    fn ease_toward(&mut self, target: &Self, k: f64) {
        let pairs = [
            (&mut self.background_uv, target.background_uv),
            (&mut self.alpha_uv, target.alpha_uv),
            (&mut self.beta_uv, target.beta_uv),
            (&mut self.theta_uv, target.theta_uv),
            (&mut self.delta_uv, target.delta_uv),
            (&mut self.emg_uv, target.emg_uv),
        ];
        for (value, goal) in pairs {
            *value += (goal - *value) * k;
        }
    }
}

/// A sine whose phase wanders (random walk of `jitter` rad per sample), which
/// spreads its power over a band around `hz`.
struct Oscillator {
    hz: f64,
    jitter: f64,
    phase: f64,
}

impl Oscillator {
    fn new(hz: f64, jitter: f64, rng: &mut Rng) -> Self {
        Self {
            hz,
            jitter,
            phase: rng.range(0.0, TAU),
        }
    }

    /// The next sample, in -1..=1.
    fn next(&mut self, rng: &mut Rng) -> f64 {
        self.phase = (self.phase + TAU * self.hz / NIGHT_RATE_HZ + self.jitter * rng.normal())
            .rem_euclid(TAU);
        self.phase.sin()
    }
}

/// The transient events of the night, one buffer each (µV, before the
/// per-channel weights).
struct Events {
    spindles: Vec<f64>,
    k_complexes: Vec<f64>,
    vertex_waves: Vec<f64>,
    sawtooth: Vec<f64>,
    eye: Vec<f64>,
    /// Extra EMG, as a multiple of the EMG tone: movements and twitches.
    emg_bursts: Vec<f64>,
}

impl Events {
    fn new(n: usize) -> Self {
        Self {
            spindles: vec![0.0; n],
            k_complexes: vec![0.0; n],
            vertex_waves: vec![0.0; n],
            sawtooth: vec![0.0; n],
            eye: vec![0.0; n],
            emg_bursts: vec![0.0; n],
        }
    }

    /// Places the events of epoch `epoch`, scored `stage`.
    fn add_epoch(&mut self, epoch: usize, stage: Stage, sleeper: &Sleeper, rng: &mut Rng) {
        let from_s = epoch as f64 * SLEEP_EPOCH_S;
        let at = |rng: &mut Rng| from_s + rng.range(MARGIN_S, SLEEP_EPOCH_S - MARGIN_S - 2.0);
        let scale = sleeper.scale;
        match stage {
            Stage::Wake => {
                for _ in 0..3 + rng.below(6) {
                    let t = at(rng);
                    add_blink(
                        &mut self.eye,
                        t,
                        rng.range(80.0, 160.0) * scale,
                        NIGHT_RATE_HZ,
                        rng,
                    );
                }
                let start = at(rng);
                let end = (start + rng.range(3.0, 8.0)).min(from_s + SLEEP_EPOCH_S - MARGIN_S);
                add_saccades(
                    &mut self.eye,
                    sample(start),
                    sample(end),
                    NIGHT_RATE_HZ,
                    rng,
                );
                if rng.uniform() < 0.3 {
                    let start = at(rng);
                    self.burst(start, rng.range(1.0, 2.5), rng.range(1.5, 3.0));
                }
            }
            Stage::N1 => {
                let (a, b) = (sample(from_s + 1.0), sample(from_s + SLEEP_EPOCH_S - 1.0));
                add_slow_eye_movements(
                    &mut self.eye,
                    a,
                    b,
                    rng.range(25.0, 90.0) * scale,
                    NIGHT_RATE_HZ,
                    rng,
                );
                for _ in 0..rng.below(3) {
                    let t = at(rng);
                    add_wave(
                        &mut self.vertex_waves,
                        t,
                        &VERTEX_WAVE,
                        rng.range(45.0, 75.0) * scale,
                    );
                }
            }
            Stage::N2 => {
                for _ in 0..1 + rng.below(4) {
                    let t = at(rng);
                    self.spindle(t, sleeper, rng.range(15.0, 30.0) * scale, rng);
                }
                for _ in 0..rng.below(3) {
                    let t = at(rng);
                    add_wave(
                        &mut self.k_complexes,
                        t,
                        &K_COMPLEX,
                        rng.range(90.0, 150.0) * scale,
                    );
                    if rng.uniform() < 0.4 {
                        self.spindle(t + 0.8, sleeper, rng.range(15.0, 25.0) * scale, rng);
                    }
                }
            }
            Stage::N3 => {
                for _ in 0..rng.below(2) {
                    let t = at(rng);
                    self.spindle(t, sleeper, rng.range(10.0, 18.0) * scale, rng);
                }
            }
            Stage::Rem => {
                // Tonic REM: some epochs have no eye movements. A burst starts
                // early enough that it and most of its decay stay inside.
                for _ in 0..rng.below(4) {
                    let t = from_s + rng.range(MARGIN_S, SLEEP_EPOCH_S - 8.0);
                    add_rapid_eye_movements(&mut self.eye, t, 2 + rng.below(4), NIGHT_RATE_HZ, rng);
                }
                for _ in 0..1 + rng.below(2) {
                    let t = at(rng);
                    self.sawtooth_train(t, rng.range(20.0, 35.0) * scale, rng);
                }
                for _ in 0..rng.below(3) {
                    let start = at(rng);
                    self.burst(start, rng.range(0.1, 0.25), rng.range(1.5, 2.5));
                }
            }
        }
    }

    /// A sleep spindle from `at_s`: 0.5-2 s of the sleeper's 11-15 Hz rhythm
    /// under a Hann envelope.
    fn spindle(&mut self, at_s: f64, sleeper: &Sleeper, amplitude_uv: f64, rng: &mut Rng) {
        let duration_s = rng.range(0.5, 2.0);
        let hz = (sleeper.spindle_hz + rng.range(-0.6, 0.6)).clamp(11.0, 15.0);
        let phase = rng.range(0.0, TAU);
        let (a, b) = (
            sample(at_s),
            sample(at_s + duration_s).min(self.spindles.len()),
        );
        for (k, v) in self.spindles[a.min(b)..b].iter_mut().enumerate() {
            let t_s = k as f64 / NIGHT_RATE_HZ;
            let envelope = (std::f64::consts::PI * t_s / duration_s).sin().powi(2);
            *v += amplitude_uv * envelope * (TAU * hz * t_s + phase).sin();
        }
    }

    /// A train of REM sawtooth waves from `at_s`: 1.5-3 s at 2-4 Hz, a slow
    /// rise and a steep fall, faded in and out.
    fn sawtooth_train(&mut self, at_s: f64, amplitude_uv: f64, rng: &mut Rng) {
        let duration_s = rng.range(1.5, 3.0);
        let hz = rng.range(2.0, 4.0);
        let (a, b) = (
            sample(at_s),
            sample(at_s + duration_s).min(self.sawtooth.len()),
        );
        for (k, v) in self.sawtooth[a.min(b)..b].iter_mut().enumerate() {
            let t_s = k as f64 / NIGHT_RATE_HZ;
            let p = (t_s * hz).fract();
            let shape = if p < 0.8 { p / 0.8 } else { (1.0 - p) / 0.2 };
            let fade = (std::f64::consts::PI * t_s / duration_s)
                .sin()
                .powi(2)
                .sqrt();
            *v += amplitude_uv * fade * (2.0 * shape - 1.0);
        }
    }

    /// Raises the EMG to `gain` times its tone for `duration_s` from `at_s`.
    fn burst(&mut self, at_s: f64, duration_s: f64, gain: f64) {
        let (a, b) = (
            sample(at_s),
            sample(at_s + duration_s).min(self.emg_bursts.len()),
        );
        for v in &mut self.emg_bursts[a.min(b)..b] {
            *v += gain;
        }
    }
}

/// A transient's shape: Gaussian bumps `(delay_s, width_s, relative amplitude)`.
type Shape = [(f64, f64, f64); 2];

/// A vertex sharp wave: a sharp negative peak with a small positive follow-up.
const VERTEX_WAVE: Shape = [(0.0, 0.04, -1.0), (0.12, 0.05, 0.35)];

/// A K-complex: a sharp negative wave followed by a slower positive one,
/// about 0.8 s in all.
const K_COMPLEX: Shape = [(0.0, 0.08, -1.0), (0.4, 0.15, 0.6)];

/// Adds `shape` at `at_s` scaled to `amplitude_uv`.
fn add_wave(buffer: &mut [f64], at_s: f64, shape: &Shape, amplitude_uv: f64) {
    for &(delay_s, width_s, relative) in shape {
        let centre_s = at_s + delay_s;
        let (a, b) = (
            sample(centre_s - 4.0 * width_s),
            sample(centre_s + 4.0 * width_s).min(buffer.len()),
        );
        for (i, v) in buffer.iter_mut().enumerate().take(b).skip(a) {
            let d = (i as f64 / NIGHT_RATE_HZ - centre_s) / width_s;
            *v += amplitude_uv * relative * (-0.5 * d * d).exp();
        }
    }
}

/// The sample index of time `t_s` (clamped at 0).
fn sample(t_s: f64) -> usize {
    (t_s * NIGHT_RATE_HZ).round().max(0.0) as usize
}

/// How each source reaches the two EEG derivations `[Fpz-Cz, Pz-Oz]`.
struct Weights {
    alpha: [f64; 2],
    beta: [f64; 2],
    theta: [f64; 2],
    delta: [f64; 2],
    spindle: [f64; 2],
    k_complex: [f64; 2],
    vertex: [f64; 2],
    sawtooth: [f64; 2],
    eye: [f64; 2],
    emg: [f64; 2],
}

/// Alpha is posterior, slow waves, K-complexes and vertex waves frontal and
/// central; the frontal derivation picks up the eyes and some muscle.
const WEIGHTS: Weights = Weights {
    alpha: [0.35, 1.0],
    beta: [1.0, 0.7],
    theta: [1.0, 0.8],
    delta: [1.0, 0.6],
    spindle: [1.0, 0.6],
    k_complex: [1.0, 0.4],
    vertex: [1.0, 0.3],
    sawtooth: [1.0, 0.5],
    eye: [0.12, 0.0],
    emg: [0.15, 0.05],
};

/// Generates night `subject` (1-based) from `seed`: the recording (µV, 100 Hz,
/// the four [`NIGHT_CHANNELS`]) and its hypnogram as labels, one 30-s label
/// per epoch named by [`SLEEP_STAGES`], as epoch scoring writes them.
pub fn synth_night(subject: usize, seed: u64) -> (Recording, LabelSet) {
    let mut rng = Rng::new(seed ^ 0x5EE9_0000_0000 ^ (subject as u64).wrapping_mul(0x9E37_79B9));
    let sleeper = Sleeper {
        alpha_hz: rng.range(9.0, 11.0),
        spindle_hz: rng.range(12.0, 14.0),
        scale: rng.range(0.85, 1.15),
        delta_uv: rng.range(55.0, 65.0),
        alpha_gain: rng.range(0.75, 1.3),
        emg_gain: rng.range(0.6, 1.6),
    };
    let stages = hypnogram(&mut rng);
    let n = stages.len() * EPOCH_SAMPLES;

    let rhythms: Vec<Rhythms> = stages
        .iter()
        .map(|&s| Rhythms::of(s, &sleeper, &mut rng))
        .collect();
    let mut events = Events::new(n);
    for (epoch, &stage) in stages.iter().enumerate() {
        events.add_epoch(epoch, stage, &sleeper, &mut rng);
    }

    let mut alpha = Oscillator::new(sleeper.alpha_hz, 0.25, &mut rng);
    let mut beta = Oscillator::new(20.0, 0.7, &mut rng);
    let mut theta = Oscillator::new(5.5, 0.4, &mut rng);
    let mut delta = Oscillator::new(1.0, 0.15, &mut rng);
    let mut waxing = Oscillator::new(0.1, 0.02, &mut rng);
    let mut common = PinkNoise::new(NIGHT_RATE_HZ);
    let mut own = [PinkNoise::new(NIGHT_RATE_HZ), PinkNoise::new(NIGHT_RATE_HZ)];
    let mut eog_noise = PinkNoise::new(NIGHT_RATE_HZ);

    let ease = 1.0 - (-1.0 / (2.0 * NIGHT_RATE_HZ)).exp();
    let mut level = rhythms.first().copied().unwrap_or_default();
    let mut eeg = [vec![0.0f32; n], vec![0.0f32; n]];
    let mut eog = vec![0.0f32; n];
    let mut emg = vec![0.0f32; n];
    let mut last_white = 0.0;
    for i in 0..n {
        level.ease_toward(&rhythms[i / EPOCH_SAMPLES], ease);
        let a = level.alpha_uv * (1.0 + 0.3 * waxing.next(&mut rng)) * alpha.next(&mut rng);
        let b = level.beta_uv * beta.next(&mut rng);
        let th = level.theta_uv * theta.next(&mut rng);
        let d = level.delta_uv * delta.next(&mut rng);
        let shared = common.next(&mut rng);
        let white = rng.normal();
        let muscle = level.emg_uv * (1.0 + events.emg_bursts[i]) * (white - 0.7 * last_white);
        last_white = white;
        for (c, out) in eeg.iter_mut().enumerate() {
            let v = level.background_uv * (0.8 * own[c].next(&mut rng) + 0.45 * shared)
                + WEIGHTS.alpha[c] * a
                + WEIGHTS.beta[c] * b
                + WEIGHTS.theta[c] * th
                + WEIGHTS.delta[c] * d
                + WEIGHTS.spindle[c] * events.spindles[i]
                + WEIGHTS.k_complex[c] * events.k_complexes[i]
                + WEIGHTS.vertex[c] * events.vertex_waves[i]
                + WEIGHTS.sawtooth[c] * events.sawtooth[i]
                + WEIGHTS.eye[c] * events.eye[i]
                + WEIGHTS.emg[c] * muscle;
            out[i] = v as f32;
        }
        // The EOG electrodes sit near the frontal cortex and see its slow waves.
        let frontal_slow = d + events.k_complexes[i];
        eog[i] = (events.eye[i] + 4.0 * eog_noise.next(&mut rng) + 0.25 * frontal_slow) as f32;
        emg[i] = muscle as f32;
    }

    let [fpz_cz, pz_oz] = eeg;
    let channels = [fpz_cz, pz_oz, eog, emg]
        .into_iter()
        .zip(NIGHT_CHANNELS)
        .map(|(samples, label)| {
            let (transducer, range_uv) = match label {
                "EOG horizontal" => ("AgAgCl electrodes beside the eyes", 1000.0),
                "EMG submental" => ("AgAgCl electrodes under the chin", 500.0),
                _ => ("AgAgCl electrode", 500.0),
            };
            Channel {
                label: label.to_string(),
                unit: "uV".into(),
                rate_hz: NIGHT_RATE_HZ,
                physical_min: -range_uv,
                physical_max: range_uv,
                transducer: transducer.into(),
                prefilter: "HP:0.3Hz LP:35Hz".into(),
                samples,
            }
        })
        .collect();

    let labels = LabelSet::new(
        stages
            .iter()
            .enumerate()
            .map(|(epoch, s)| Label::new(epoch as f64 * SLEEP_EPOCH_S, SLEEP_EPOCH_S, s.name()))
            .collect(),
    );
    let start = StartTime {
        year: 2026,
        month: 2,
        day: subject as u32,
        hour: 23,
        minute: 10,
        second: 0.0,
    };
    let recording = super::subject_recording(subject, start, channels, &labels);
    (recording, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::welch_psd;
    use crate::recording::EdfWriteOptions;
    use crate::recording::{read_edf, read_events_tsv, write_edf, write_events_tsv};

    /// Mean power (µV²) of `channel` between `lo_hz` and `hi_hz` over the
    /// epochs scored `stage`.
    fn band_power(
        rec: &Recording,
        labels: &LabelSet,
        channel: usize,
        stage: &str,
        lo_hz: f64,
        hi_hz: f64,
    ) -> f64 {
        let samples = &rec.channels[channel].samples;
        let powers: Vec<f64> = labels
            .labels
            .iter()
            .filter(|l| l.trial_type == stage)
            .map(|l| {
                let a = sample(l.onset_s);
                let psd = welch_psd(&samples[a..a + EPOCH_SAMPLES], NIGHT_RATE_HZ, 256);
                let df = psd.freqs_hz[1];
                psd.freqs_hz
                    .iter()
                    .zip(&psd.psd)
                    .filter(|(f, _)| (lo_hz..hi_hz).contains(*f))
                    .map(|(_, p)| p * df)
                    .sum::<f64>()
            })
            .collect();
        powers.iter().sum::<f64>() / powers.len().max(1) as f64
    }

    #[test]
    fn hypnogram_has_a_nights_shape() {
        for seed in [crate::synth::SAMPLE_SEED, 1, 2, 3] {
            let mut rng = Rng::new(seed);
            let stages = hypnogram(&mut rng);
            let n = stages.len();
            assert!((300..=380).contains(&n), "{n} epochs");
            let share = |s: Stage| stages.iter().filter(|&&x| x == s).count() as f64 / n as f64;
            let shares: Vec<f64> = [Stage::Wake, Stage::N1, Stage::N2, Stage::N3, Stage::Rem]
                .into_iter()
                .map(share)
                .collect();
            println!("{seed}: {n} epochs, shares {shares:?}");
            assert!((0.04..0.15).contains(&shares[0]), "W {shares:?}");
            assert!((0.02..0.10).contains(&shares[1]), "N1 {shares:?}");
            assert!((0.30..0.50).contains(&shares[2]), "N2 {shares:?}");
            assert!((0.18..0.35).contains(&shares[3]), "N3 {shares:?}");
            assert!((0.10..0.25).contains(&shares[4]), "REM {shares:?}");
            assert!(
                shares[2]
                    > shares
                        .iter()
                        .copied()
                        .filter(|&s| s != shares[2])
                        .fold(0.0, f64::max)
            );
            // Awake at lights out and at the end.
            assert_eq!(stages[0], Stage::Wake);
            assert_eq!(stages[n - 1], Stage::Wake);
            // N3 mostly early, REM mostly late.
            let (early, late) = stages.split_at(n / 2);
            let count = |part: &[Stage], s: Stage| part.iter().filter(|&&x| x == s).count();
            assert!(count(early, Stage::N3) > 2 * count(late, Stage::N3));
            assert!(count(late, Stage::Rem) > count(early, Stage::Rem));
        }
    }

    #[test]
    fn each_stage_shows_its_rhythms() {
        let (rec, labels) = synth_night(1, 11);
        assert_eq!(rec.channels.len(), 4);
        let n = labels.len() * EPOCH_SAMPLES;
        assert!(
            rec.channels
                .iter()
                .all(|c| c.samples.len() == n && c.rate_hz == 100.0)
        );
        let (fpz, pz, eog, emg) = (0, 1, 2, 3);
        let table = |channel: usize, lo: f64, hi: f64| -> Vec<f64> {
            SLEEP_STAGES
                .iter()
                .map(|s| band_power(&rec, &labels, channel, s, lo, hi))
                .collect()
        };
        let alpha = table(pz, 8.0, 12.0);
        let delta = table(fpz, 0.5, 2.0);
        let sigma = table(fpz, 11.0, 15.0);
        let eog_power = table(eog, 0.3, 10.0);
        let emg_power = table(emg, 10.0, 50.0);
        println!(
            "alpha {alpha:?}\ndelta {delta:?}\nsigma {sigma:?}\neog {eog_power:?}\nemg {emg_power:?}"
        );
        let [w, n1, n2, n3, rem] = [0, 1, 2, 3, 4];
        assert!(alpha[w] > 4.0 * alpha[n3], "{alpha:?}");
        assert!(alpha[w] > 3.0 * alpha[rem], "{alpha:?}");
        assert!(
            [w, n1, n2, rem].iter().all(|&s| delta[n3] > 2.0 * delta[s]),
            "{delta:?}"
        );
        assert!(sigma[n2] > 2.0 * sigma[n1], "{sigma:?}");
        assert!(eog_power[rem] > 2.0 * eog_power[n2], "{eog_power:?}");
        assert!(
            [w, n1, n2, n3]
                .iter()
                .all(|&s| emg_power[rem] * 3.0 < emg_power[s]),
            "{emg_power:?}"
        );
        assert!(emg_power[w] > emg_power[n2], "{emg_power:?}");
    }

    #[test]
    fn slow_waves_fill_n3_epochs() {
        let (rec, labels) = synth_night(2, 5);
        let fpz = &rec.channels[0].samples;
        // Smoothed over 0.1 s, peak-to-peak per 1-s piece; N3 asks for more
        // than 75 µV during more than 20% of the epoch.
        let smooth: Vec<f64> = fpz
            .windows(10)
            .map(|w| w.iter().map(|&v| v as f64).sum::<f64>() / 10.0)
            .collect();
        let share_large = |onset_s: f64| {
            let a = sample(onset_s);
            let pieces = (0..29).filter(|k| {
                let piece = &smooth[a + k * 100..a + (k + 1) * 100];
                let (lo, hi) = piece
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                hi - lo > 75.0
            });
            pieces.count() as f64 / 29.0
        };
        let n3: Vec<f64> = labels
            .labels
            .iter()
            .filter(|l| l.trial_type == "N3")
            .map(|l| share_large(l.onset_s))
            .collect();
        let below = n3.iter().filter(|&&s| s <= 0.2).count();
        println!(
            "N3 shares of large waves: min {:?}",
            n3.iter().fold(1.0f64, |m, &v| m.min(v))
        );
        assert!(
            below * 20 <= n3.len(),
            "{below} of {} N3 epochs without enough slow waves",
            n3.len()
        );
    }

    #[test]
    fn same_seed_same_night() {
        let (a, la) = synth_night(1, 7);
        let (b, lb) = synth_night(1, 7);
        let (c, lc) = synth_night(2, 7);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert_ne!(la, lc);
        assert_ne!(a.channels[0].samples[..1000], c.channels[0].samples[..1000]);
    }

    #[test]
    fn labels_round_trip_as_epoch_scoring_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let (rec, labels) = synth_night(3, 9);
        for (k, l) in labels.labels.iter().enumerate() {
            assert_eq!(l.onset_s, k as f64 * SLEEP_EPOCH_S);
            assert_eq!(l.duration_s, SLEEP_EPOCH_S);
            assert!(SLEEP_STAGES.contains(&l.trial_type.as_str()));
        }
        let tsv = dir.path().join("night_events.tsv");
        write_events_tsv(&tsv, &labels).unwrap();
        assert_eq!(read_events_tsv(&tsv).unwrap(), labels);
        let edf = dir.path().join("night.edf");
        let options = EdfWriteOptions {
            record_duration_s: SLEEP_EPOCH_S,
            ..EdfWriteOptions::default()
        };
        write_edf(&edf, &rec, &options).unwrap();
        let back = read_edf(&edf).unwrap();
        assert_eq!(LabelSet::from_annotations(&back.annotations), labels);
        assert_eq!(back.channels.len(), 4);
        assert_eq!(back.channels[3].label, "EMG submental");
        assert_eq!(
            back.channels[0].samples.len(),
            rec.channels[0].samples.len()
        );
        let err = back.channels[1]
            .samples
            .iter()
            .zip(&rec.channels[1].samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.05, "{err}");
    }
}
