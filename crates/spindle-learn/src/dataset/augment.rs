//! Data augmentation: seeded random changes to training windows (time shift,
//! sign flip, time reversal, channel dropout, Gaussian noise, Fourier-transform
//! surrogate, frequency shift), so that the network sees a slightly different
//! copy of each window in every epoch. Only training batches are augmented;
//! validation, test and prediction windows never are.
//!
//! Windows are laid out `[n, channels, samples]` in one `&mut [f32]`. The
//! transforms on one window (`[channels, samples]`) are plain functions;
//! [`Augmentation::apply`] draws, from a seed, which of them touch each window
//! of a batch and how strongly.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use spindle_signals::dsp::fft;
use spindle_signals::rng::Rng;

/// A transform by name, as listed in `--augment` and shown in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransformKind {
    /// Time shift with zero fill.
    Shift,
    /// Circular time shift (what falls off one end comes back at the other).
    Roll,
    /// Sign flip.
    Flip,
    /// Time reversal.
    Reverse,
    /// Channel dropout.
    Dropout,
    /// Gaussian noise.
    Noise,
    /// Fourier-transform surrogate.
    FtSurrogate,
    /// Frequency shift.
    FreqShift,
}

/// The strength setting of a transform: what it means, its default and its
/// largest value (every strength is above 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strength {
    /// What the number is, in words.
    pub meaning: &'static str,
    /// The value used when none is given.
    pub default: f64,
    /// The largest allowed value.
    pub max: f64,
}

impl TransformKind {
    /// Every transform, in the order the app lists them.
    pub const ALL: [TransformKind; 8] = [
        TransformKind::Shift,
        TransformKind::Roll,
        TransformKind::Flip,
        TransformKind::Reverse,
        TransformKind::Dropout,
        TransformKind::Noise,
        TransformKind::FtSurrogate,
        TransformKind::FreqShift,
    ];

    /// The name in `--augment`.
    pub fn name(self) -> &'static str {
        match self {
            TransformKind::Shift => "shift",
            TransformKind::Roll => "roll",
            TransformKind::Flip => "flip",
            TransformKind::Reverse => "reverse",
            TransformKind::Dropout => "dropout",
            TransformKind::Noise => "noise",
            TransformKind::FtSurrogate => "ftsurrogate",
            TransformKind::FreqShift => "freqshift",
        }
    }

    /// The transform of this name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// A short title for people (ASCII).
    pub fn title(self) -> &'static str {
        match self {
            TransformKind::Shift => "time shift",
            TransformKind::Roll => "circular time shift",
            TransformKind::Flip => "sign flip",
            TransformKind::Reverse => "time reversal",
            TransformKind::Dropout => "channel dropout",
            TransformKind::Noise => "Gaussian noise",
            TransformKind::FtSurrogate => "Fourier surrogate",
            TransformKind::FreqShift => "frequency shift",
        }
    }

    /// One line saying what the transform does to a window (ASCII).
    pub fn help(self) -> &'static str {
        match self {
            TransformKind::Shift => {
                "moves the window earlier or later by up to a fraction of its length; the gap is zero"
            }
            TransformKind::Roll => {
                "moves the window earlier or later; what falls off one end comes back at the other"
            }
            TransformKind::Flip => {
                "turns the signal upside down (only if the class does not depend on the sign)"
            }
            TransformKind::Reverse => {
                "plays the window backwards (only if the class does not depend on time order)"
            }
            TransformKind::Dropout => {
                "silences each channel with this probability, as if an electrode were lost"
            }
            TransformKind::Noise => {
                "adds random noise, this strong relative to the window's spread"
            }
            TransformKind::FtSurrogate => {
                "keeps each channel's spectrum but scrambles its phases (the same way on all channels)"
            }
            TransformKind::FreqShift => {
                "moves every frequency up or down by up to this many Hz, e.g. alpha 10 Hz to 11 Hz"
            }
        }
    }

    /// The strength setting, or `None` for transforms without one.
    pub fn strength(self) -> Option<Strength> {
        let s = |meaning, default, max| {
            Some(Strength {
                meaning,
                default,
                max,
            })
        };
        match self {
            TransformKind::Shift | TransformKind::Roll => {
                s("largest shift as a fraction of the window", 0.1, 1.0)
            }
            TransformKind::Flip | TransformKind::Reverse => None,
            TransformKind::Dropout => s("probability of silencing each channel", 0.2, 1.0),
            TransformKind::Noise => s("noise std relative to the window's std", 0.1, 10.0),
            TransformKind::FtSurrogate => s("phase noise, 0 to 1 (1: fully random)", 1.0, 1.0),
            TransformKind::FreqShift => s("largest shift in Hz", 2.0, 100.0),
        }
    }

    /// The transform with `strength` (its default when `None`); the error
    /// says why the strength does not fit.
    pub fn with_strength(self, strength: Option<f64>) -> Result<Transform, String> {
        let value = match (self.strength(), strength) {
            (None, None) => 0.0,
            (None, Some(_)) => return Err(format!("{} takes no strength", self.name())),
            (Some(s), None) => s.default,
            (Some(s), Some(v)) => {
                if !(v > 0.0 && v <= s.max) {
                    return Err(format!(
                        "{}={v}: the {} must be above 0 and at most {}",
                        self.name(),
                        s.meaning,
                        s.max
                    ));
                }
                v
            }
        };
        Ok(match self {
            TransformKind::Shift | TransformKind::Roll => Transform::TimeShift {
                max_fraction: value,
                circular: self == TransformKind::Roll,
            },
            TransformKind::Flip => Transform::SignFlip,
            TransformKind::Reverse => Transform::TimeReversal,
            TransformKind::Dropout => Transform::ChannelDropout {
                drop_probability: value,
            },
            TransformKind::Noise => Transform::GaussianNoise {
                relative_std: value,
            },
            TransformKind::FtSurrogate => Transform::FtSurrogate { phase_noise: value },
            TransformKind::FreqShift => Transform::FrequencyShift {
                max_shift_hz: value,
            },
        })
    }
}

/// One augmentation transform with its strength.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    /// Moves every channel by the same random number of samples, up to
    /// `max_fraction` of the window either way; the gap is zero, or (when
    /// `circular`) what fell off the other end.
    TimeShift {
        /// Largest shift as a fraction of the window length, `0..=1`.
        max_fraction: f64,
        /// Roll around instead of filling with zeros.
        circular: bool,
    },
    /// Negates the window.
    SignFlip,
    /// Reverses the window in time.
    TimeReversal,
    /// Zeroes each channel independently with `drop_probability`.
    ChannelDropout {
        /// Chance of zeroing each channel, `0..=1`.
        drop_probability: f64,
    },
    /// Adds white Gaussian noise with a std of `relative_std` times the
    /// window's std (over all its channels and samples).
    GaussianNoise {
        /// Noise std over the window's std.
        relative_std: f64,
    },
    /// Adds random phases to every Fourier component, the same offsets on all
    /// channels, keeping each channel's amplitude spectrum and the phase
    /// differences between channels (braindecode's `FTSurrogate`).
    FtSurrogate {
        /// Phase offsets are uniform in `[0, 2 pi phase_noise)`, `0..=1`.
        phase_noise: f64,
    },
    /// Shifts the whole spectrum by a random amount up to `max_shift_hz`
    /// either way through the analytic signal (braindecode's
    /// `FrequencyShift`); content pushed past 0 Hz or the Nyquist frequency
    /// folds back.
    FrequencyShift {
        /// Largest shift in Hz.
        max_shift_hz: f64,
    },
}

impl Transform {
    /// Which transform this is.
    pub fn kind(&self) -> TransformKind {
        match self {
            Transform::TimeShift {
                circular: false, ..
            } => TransformKind::Shift,
            Transform::TimeShift { circular: true, .. } => TransformKind::Roll,
            Transform::SignFlip => TransformKind::Flip,
            Transform::TimeReversal => TransformKind::Reverse,
            Transform::ChannelDropout { .. } => TransformKind::Dropout,
            Transform::GaussianNoise { .. } => TransformKind::Noise,
            Transform::FtSurrogate { .. } => TransformKind::FtSurrogate,
            Transform::FrequencyShift { .. } => TransformKind::FreqShift,
        }
    }

    /// The strength, or `None` for transforms without one.
    pub fn strength(&self) -> Option<f64> {
        match *self {
            Transform::TimeShift { max_fraction, .. } => Some(max_fraction),
            Transform::SignFlip | Transform::TimeReversal => None,
            Transform::ChannelDropout { drop_probability } => Some(drop_probability),
            Transform::GaussianNoise { relative_std } => Some(relative_std),
            Transform::FtSurrogate { phase_noise } => Some(phase_noise),
            Transform::FrequencyShift { max_shift_hz } => Some(max_shift_hz),
        }
    }

    /// Applies the transform to one window `[channels, samples]` at
    /// `rate_hz`, drawing its random settings from `rng`.
    pub fn apply(&self, window: &mut [f32], samples: usize, rate_hz: f64, rng: &mut Rng) {
        match *self {
            Transform::TimeShift {
                max_fraction,
                circular,
            } => {
                let max = (max_fraction * samples as f64).round() as usize;
                let shift = rng.below(2 * max + 1) as isize - max as isize;
                time_shift(window, samples, shift, circular);
            }
            Transform::SignFlip => sign_flip(window),
            Transform::TimeReversal => time_reverse(window, samples),
            Transform::ChannelDropout { drop_probability } => {
                let dropped: Vec<bool> = (0..window.len() / samples.max(1))
                    .map(|_| rng.uniform() < drop_probability)
                    .collect();
                drop_channels(window, samples, &dropped);
            }
            Transform::GaussianNoise { relative_std } => add_noise(window, relative_std, rng),
            Transform::FtSurrogate { phase_noise } => {
                let phases: Vec<f64> = (0..samples.saturating_sub(1) / 2)
                    .map(|_| 2.0 * PI * phase_noise * rng.uniform())
                    .collect();
                ft_surrogate(window, samples, &phases);
            }
            Transform::FrequencyShift { max_shift_hz } => {
                let shift_hz = rng.range(-max_shift_hz, max_shift_hz);
                frequency_shift(window, samples, shift_hz, rate_hz);
            }
        }
    }
}

impl fmt::Display for Transform {
    /// As in `--augment`: `flip`, `noise=0.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.strength() {
            Some(s) => write!(f, "{}={s}", self.kind().name()),
            None => write!(f, "{}", self.kind().name()),
        }
    }
}

impl FromStr for Transform {
    type Err = String;

    /// `NAME` or `NAME=STRENGTH`, e.g. `flip`, `noise=0.1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, strength) = match s.split_once('=') {
            Some((name, value)) => {
                let value = value.trim();
                let v: f64 = value
                    .parse()
                    .map_err(|_| format!("{s:?}: strength {value:?} is not a number"))?;
                (name.trim(), Some(v))
            }
            None => (s.trim(), None),
        };
        let kind = TransformKind::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = TransformKind::ALL.iter().map(|k| k.name()).collect();
            format!(
                "unknown transform {name:?}; choose from {}",
                names.join(", ")
            )
        })?;
        kind.with_strength(strength)
    }
}

/// Which transforms a training run applies, and how often.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augmentation {
    /// The transforms, tried in this order on each window; empty: off.
    pub transforms: Vec<Transform>,
    /// Chance that each transform is applied to a window, `0..=1`.
    pub probability: f64,
}

impl Default for Augmentation {
    /// Off: no transforms, probability [`Augmentation::DEFAULT_PROBABILITY`].
    fn default() -> Self {
        Self {
            transforms: Vec::new(),
            probability: Self::DEFAULT_PROBABILITY,
        }
    }
}

impl Augmentation {
    /// The usual chance of applying each transform to a window.
    pub const DEFAULT_PROBABILITY: f64 = 0.5;

    /// True when nothing would change a window.
    pub fn is_off(&self) -> bool {
        self.transforms.is_empty() || self.probability <= 0.0
    }

    /// Augments the windows `x` (`[n, channels, samples]`, rows of `samples`
    /// at `rate_hz`) in place: for each window in turn, each transform is
    /// applied with [`Augmentation::probability`], all drawn from `seed`, so
    /// the same seed gives the same batch.
    pub fn apply(&self, x: &mut [f32], channels: usize, samples: usize, rate_hz: f64, seed: u64) {
        let per = channels * samples;
        if per == 0 || self.is_off() {
            return;
        }
        let mut rng = Rng::new(seed);
        for window in x.chunks_exact_mut(per) {
            for t in &self.transforms {
                if rng.uniform() < self.probability {
                    t.apply(window, samples, rate_hz, &mut rng);
                }
            }
        }
    }
}

/// The augmentation seed of one training batch: a function of the run's seed,
/// the epoch and the step, different for every batch of a run.
pub fn batch_seed(run_seed: u64, epoch: usize, step: usize) -> u64 {
    let base = Rng::new(run_seed ^ 0xA06_5EED).next_u64();
    base ^ ((epoch as u64) << 32 | (step as u64 & 0xFFFF_FFFF))
}

/// Moves each row of `samples` of `window` by `shift` samples (positive:
/// later), filling with zeros or, when `circular`, rolling around.
pub fn time_shift(window: &mut [f32], samples: usize, shift: isize, circular: bool) {
    if samples == 0 {
        return;
    }
    let by = shift.unsigned_abs();
    for row in window.chunks_exact_mut(samples) {
        if circular {
            let by = by % samples;
            if shift >= 0 {
                row.rotate_right(by);
            } else {
                row.rotate_left(by);
            }
        } else if by >= samples {
            row.fill(0.0);
        } else if shift >= 0 {
            row.copy_within(..samples - by, by);
            row[..by].fill(0.0);
        } else {
            row.copy_within(by.., 0);
            row[samples - by..].fill(0.0);
        }
    }
}

/// Negates every sample.
pub fn sign_flip(window: &mut [f32]) {
    for v in window {
        *v = -*v;
    }
}

/// Reverses each row of `samples` in time.
pub fn time_reverse(window: &mut [f32], samples: usize) {
    if samples == 0 {
        return;
    }
    for row in window.chunks_exact_mut(samples) {
        row.reverse();
    }
}

/// Zeroes the rows (channels) of `samples` whose entry in `dropped` is true.
pub fn drop_channels(window: &mut [f32], samples: usize, dropped: &[bool]) {
    if samples == 0 {
        return;
    }
    for (row, &drop) in window.chunks_exact_mut(samples).zip(dropped) {
        if drop {
            row.fill(0.0);
        }
    }
}

/// Adds Gaussian noise whose std is `relative_std` times the std of the
/// whole window (a flat window gets none).
pub fn add_noise(window: &mut [f32], relative_std: f64, rng: &mut Rng) {
    if window.is_empty() {
        return;
    }
    let n = window.len() as f64;
    let mean = window.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = window
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let sigma = relative_std * var.sqrt();
    if sigma > 0.0 {
        for v in window {
            *v += (sigma * rng.normal()) as f32;
        }
    }
}

/// Fourier-transform surrogate of each row of `samples`: Fourier component
/// `k` (`1 <= k < samples / 2`) is turned by `phases[k - 1]` radians and its
/// mirror `samples - k` by minus that, so the row stays real and keeps its
/// amplitude spectrum; the constant and (for even lengths) the Nyquist
/// component are kept. Every row gets the same phases, so phase differences
/// between channels survive. Missing phases count as 0.
pub fn ft_surrogate(window: &mut [f32], samples: usize, phases: &[f64]) {
    if samples < 3 {
        return;
    }
    let dft = Dft::new(samples);
    let turns: Vec<(f64, f64)> = (1..=(samples - 1) / 2)
        .map(|k| {
            let phi = phases.get(k - 1).copied().unwrap_or(0.0);
            (phi.cos(), phi.sin())
        })
        .collect();
    let mut re = vec![0.0; samples];
    let mut im = vec![0.0; samples];
    for row in window.chunks_exact_mut(samples) {
        for ((r, i), &v) in re.iter_mut().zip(&mut im).zip(row.iter()) {
            *r = v as f64;
            *i = 0.0;
        }
        dft.forward(&mut re, &mut im);
        for (j, &(c, s)) in turns.iter().enumerate() {
            let k = j + 1;
            let (a, b) = (re[k], im[k]);
            re[k] = a * c - b * s;
            im[k] = a * s + b * c;
            let m = samples - k;
            let (a, b) = (re[m], im[m]);
            re[m] = a * c + b * s;
            im[m] = b * c - a * s;
        }
        dft.inverse(&mut re, &mut im);
        for (v, &r) in row.iter_mut().zip(&re) {
            *v = r as f32;
        }
    }
}

/// Shifts the spectrum of each row of `samples` at `rate_hz` by `shift_hz`:
/// the row, zero-padded to a power of two, becomes its analytic signal (the
/// Hilbert transform's complex form), is multiplied by `exp(2 pi i shift_hz
/// t)`, and its real part is cut back to `samples` (as braindecode does).
pub fn frequency_shift(window: &mut [f32], samples: usize, shift_hz: f64, rate_hz: f64) {
    if samples < 2 || rate_hz.is_nan() || rate_hz <= 0.0 {
        return;
    }
    let n = samples.next_power_of_two();
    let mut re = vec![0.0; n];
    let mut im = vec![0.0; n];
    for row in window.chunks_exact_mut(samples) {
        re.fill(0.0);
        im.fill(0.0);
        for (r, &v) in re.iter_mut().zip(row.iter()) {
            *r = v as f64;
        }
        fft(&mut re, &mut im);
        // Analytic signal: keep 0 Hz and Nyquist, double positive, drop negative.
        for v in re[1..n / 2].iter_mut().chain(&mut im[1..n / 2]) {
            *v *= 2.0;
        }
        re[n / 2 + 1..].fill(0.0);
        im[n / 2 + 1..].fill(0.0);
        inverse_fft(&mut re, &mut im);
        for (t, v) in row.iter_mut().enumerate() {
            let angle = 2.0 * PI * shift_hz * t as f64 / rate_hz;
            *v = (re[t] * angle.cos() - im[t] * angle.sin()) as f32;
        }
    }
}

/// In-place inverse FFT (length a power of two), scaled by `1/n`.
fn inverse_fft(re: &mut [f64], im: &mut [f64]) {
    for v in im.iter_mut() {
        *v = -*v;
    }
    fft(re, im);
    let scale = 1.0 / re.len().max(1) as f64;
    for v in re.iter_mut() {
        *v *= scale;
    }
    for v in im.iter_mut() {
        *v *= -scale;
    }
}

/// A discrete Fourier transform of any length `n`: the power-of-two FFT when
/// `n` is one, else Bluestein's chirp-z algorithm on top of it.
struct Dft {
    n: usize,
    /// `exp(-i pi k^2 / n)` for `k < n` (empty for powers of two).
    chirp: Vec<(f64, f64)>,
    /// The FFT of the conjugate chirp laid out for circular convolution.
    kernel_re: Vec<f64>,
    kernel_im: Vec<f64>,
}

impl Dft {
    fn new(n: usize) -> Self {
        if n.is_power_of_two() {
            return Self {
                n,
                chirp: Vec::new(),
                kernel_re: Vec::new(),
                kernel_im: Vec::new(),
            };
        }
        let chirp: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                // k^2 mod 2n keeps the angle exact for long windows.
                let k2 = (k as u128 * k as u128 % (2 * n as u128)) as f64;
                let angle = PI * k2 / n as f64;
                (angle.cos(), -angle.sin())
            })
            .collect();
        let m = (2 * n - 1).next_power_of_two();
        let mut kernel_re = vec![0.0; m];
        let mut kernel_im = vec![0.0; m];
        for (k, &(c, s)) in chirp.iter().enumerate() {
            kernel_re[k] = c;
            kernel_im[k] = -s;
            if k > 0 {
                kernel_re[m - k] = c;
                kernel_im[m - k] = -s;
            }
        }
        fft(&mut kernel_re, &mut kernel_im);
        Self {
            n,
            chirp,
            kernel_re,
            kernel_im,
        }
    }

    /// `X[k] = sum_t x[t] exp(-2 pi i k t / n)`, in place.
    fn forward(&self, re: &mut [f64], im: &mut [f64]) {
        if self.chirp.is_empty() {
            fft(re, im);
            return;
        }
        let m = self.kernel_re.len();
        let mut a_re = vec![0.0; m];
        let mut a_im = vec![0.0; m];
        for (k, &(c, s)) in self.chirp.iter().enumerate() {
            a_re[k] = re[k] * c - im[k] * s;
            a_im[k] = re[k] * s + im[k] * c;
        }
        fft(&mut a_re, &mut a_im);
        for (((a, b), &c), &d) in a_re
            .iter_mut()
            .zip(a_im.iter_mut())
            .zip(&self.kernel_re)
            .zip(&self.kernel_im)
        {
            let (x, y) = (*a, *b);
            *a = x * c - y * d;
            *b = x * d + y * c;
        }
        inverse_fft(&mut a_re, &mut a_im);
        for (k, &(c, s)) in self.chirp.iter().enumerate() {
            re[k] = a_re[k] * c - a_im[k] * s;
            im[k] = a_re[k] * s + a_im[k] * c;
        }
    }

    /// The inverse of [`Dft::forward`] (scaled by `1/n`), in place.
    fn inverse(&self, re: &mut [f64], im: &mut [f64]) {
        for v in im.iter_mut() {
            *v = -*v;
        }
        self.forward(re, im);
        let scale = 1.0 / self.n.max(1) as f64;
        for v in re.iter_mut() {
            *v *= scale;
        }
        for v in im.iter_mut() {
            *v *= -scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window of `channels` rows: row `c` is `sin(2 pi f t) * (c + 1)` plus
    /// a little of a second tone, so rows differ.
    fn tones(channels: usize, samples: usize, rate_hz: f64, f_hz: f64) -> Vec<f32> {
        (0..channels * samples)
            .map(|i| {
                let (c, t) = (i / samples, (i % samples) as f64 / rate_hz);
                let a = (c + 1) as f64;
                (a * (2.0 * PI * f_hz * t).sin()
                    + 0.3 * (2.0 * PI * 2.0 * f_hz * t + c as f64).cos()) as f32
            })
            .collect()
    }

    fn random_batch(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.normal() as f32).collect()
    }

    /// The DFT by its definition, for checking.
    fn naive_dft(x: &[f64]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(r, i), (t, &v)| {
                    let a = -2.0 * PI * (k * t) as f64 / n as f64;
                    (r + v * a.cos(), i + v * a.sin())
                })
            })
            .collect()
    }

    fn amplitudes(row: &[f32]) -> Vec<f64> {
        let x: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        naive_dft(&x).into_iter().map(|(r, i)| r.hypot(i)).collect()
    }

    fn peak_bin(row: &[f32]) -> usize {
        let a = amplitudes(row);
        (1..row.len() / 2)
            .max_by(|&i, &j| a[i].total_cmp(&a[j]))
            .unwrap_or(0)
    }

    fn all(transform: &str, probability: f64) -> Augmentation {
        Augmentation {
            transforms: vec![transform.parse().unwrap()],
            probability,
        }
    }

    #[test]
    fn any_length_dft_matches_the_definition() {
        for n in [3usize, 7, 10, 16, 51] {
            let x: Vec<f64> = (0..n).map(|i| ((i * 7 % 5) as f64) - 1.5).collect();
            let want = naive_dft(&x);
            let dft = Dft::new(n);
            let mut re = x.clone();
            let mut im = vec![0.0; n];
            dft.forward(&mut re, &mut im);
            for (k, (w_re, w_im)) in want.iter().enumerate() {
                assert!((re[k] - w_re).abs() < 1e-9, "n={n} k={k}");
                assert!((im[k] - w_im).abs() < 1e-9, "n={n} k={k}");
            }
            dft.inverse(&mut re, &mut im);
            for (t, v) in x.iter().enumerate() {
                assert!((re[t] - v).abs() < 1e-9 && im[t].abs() < 1e-9);
            }
        }
    }

    #[test]
    fn every_transform_keeps_the_layout_and_repeats_for_a_seed() {
        let (channels, samples) = (3, 50);
        let mut batch = random_batch(4 * channels * samples, 1);
        // Window 2 is silent: no transform may move signal into it.
        batch[2 * channels * samples..3 * channels * samples].fill(0.0);
        for kind in TransformKind::ALL {
            let aug = all(kind.name(), 1.0);
            let mut a = batch.clone();
            aug.apply(&mut a, channels, samples, 100.0, 7);
            assert_eq!(a.len(), batch.len());
            assert!(a.iter().all(|v| v.is_finite()), "{kind:?}");
            assert!(
                a[2 * channels * samples..3 * channels * samples]
                    .iter()
                    .all(|&v| v == 0.0),
                "{kind:?} leaked between windows"
            );
            assert_ne!(a, batch, "{kind:?} changed nothing");
            let mut b = batch.clone();
            aug.apply(&mut b, channels, samples, 100.0, 7);
            assert_eq!(a, b, "{kind:?} is not repeatable");
            let mut c = batch.clone();
            aug.apply(&mut c, channels, samples, 100.0, 8);
            if kind != TransformKind::Flip && kind != TransformKind::Reverse {
                assert_ne!(a, c, "{kind:?} ignores the seed");
            }
        }
    }

    #[test]
    fn probability_zero_is_identity_and_probability_applies_per_window() {
        let (channels, samples) = (2, 20);
        let batch = random_batch(200 * channels * samples, 2);
        let mut x = batch.clone();
        Augmentation {
            transforms: vec![
                "noise".parse().unwrap(),
                "flip".parse().unwrap(),
                "ftsurrogate".parse().unwrap(),
            ],
            probability: 0.0,
        }
        .apply(&mut x, channels, samples, 100.0, 3);
        assert_eq!(x, batch);
        // With p = 0.5 about half the windows are flipped.
        let mut x = batch.clone();
        all("flip", 0.5).apply(&mut x, channels, samples, 100.0, 3);
        let per = channels * samples;
        let flipped = x
            .chunks(per)
            .zip(batch.chunks(per))
            .filter(|(a, b)| a[0] == -b[0])
            .count();
        assert!((70..=130).contains(&flipped), "{flipped} of 200 flipped");
    }

    #[test]
    fn flip_negates_and_reverse_twice_is_identity() {
        let w = tones(2, 9, 9.0, 1.0);
        let mut x = w.clone();
        sign_flip(&mut x);
        assert!(x.iter().zip(&w).all(|(a, b)| *a == -*b));
        let mut x = w.clone();
        time_reverse(&mut x, 9);
        assert_eq!(x[0], w[8]);
        assert_eq!(x[9], w[17]);
        assert_ne!(x, w);
        time_reverse(&mut x, 9);
        assert_eq!(x, w);
    }

    #[test]
    fn shifts_move_every_channel_by_the_same_amount() {
        let w: Vec<f32> = (1..=10).map(|v| v as f32).collect();
        let mut x = w.clone();
        time_shift(&mut x, 5, 2, false);
        assert_eq!(x, [0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 6.0, 7.0, 8.0]);
        let mut x = w.clone();
        time_shift(&mut x, 5, -2, false);
        assert_eq!(x, [3.0, 4.0, 5.0, 0.0, 0.0, 8.0, 9.0, 10.0, 0.0, 0.0]);
        let mut x = w.clone();
        time_shift(&mut x, 5, 2, true);
        assert_eq!(x, [4.0, 5.0, 1.0, 2.0, 3.0, 9.0, 10.0, 6.0, 7.0, 8.0]);
        let mut x = w.clone();
        time_shift(&mut x, 5, -7, true);
        assert_eq!(x, [3.0, 4.0, 5.0, 1.0, 2.0, 8.0, 9.0, 10.0, 6.0, 7.0]);
        // Drawn shifts stay within the fraction: 0.1 of 100 samples.
        let ramp: Vec<f32> = (0..200).map(|v| (v % 100) as f32 + 1.0).collect();
        for seed in 0..20 {
            let mut x = ramp.clone();
            all("roll=0.1", 1.0).apply(&mut x, 2, 100, 100.0, seed);
            let shift = (x[0] as i64 - 1).rem_euclid(100);
            let shift = if shift > 50 { shift - 100 } else { shift };
            assert!(shift.abs() <= 10, "shift {shift}");
            assert_eq!(x[..100], x[100..], "channels moved differently");
        }
    }

    #[test]
    fn dropout_zeroes_whole_channels() {
        let (channels, samples) = (8, 16);
        let batch: Vec<f32> = (0..50 * channels * samples)
            .map(|i| 1.0 + i as f32)
            .collect();
        let mut x = batch.clone();
        all("dropout=0.5", 1.0).apply(&mut x, channels, samples, 100.0, 4);
        let mut dropped = 0;
        for (row, orig) in x.chunks(samples).zip(batch.chunks(samples)) {
            if row.iter().all(|&v| v == 0.0) {
                dropped += 1;
            } else {
                assert_eq!(row, orig, "a channel was only partly zeroed");
            }
        }
        let rows = 50 * channels;
        assert!(
            (rows * 4 / 10..=rows * 6 / 10).contains(&dropped),
            "{dropped} of {rows}"
        );
    }

    #[test]
    fn noise_is_relative_to_the_window_spread() {
        let samples = 4000;
        let w: Vec<f32> = tones(1, samples, 100.0, 3.0)
            .iter()
            .map(|v| 50.0 * v)
            .collect();
        let std = |x: &[f32]| {
            let m = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
            (x.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        let mut x = w.clone();
        add_noise(&mut x, 0.2, &mut Rng::new(5));
        let diff: Vec<f32> = x.iter().zip(&w).map(|(a, b)| a - b).collect();
        let ratio = std(&diff) / std(&w);
        assert!((ratio - 0.2).abs() < 0.01, "ratio {ratio}");
    }

    #[test]
    fn ft_surrogate_keeps_amplitudes_and_channel_phase_differences() {
        for samples in [64usize, 51] {
            let w = tones(2, samples, 32.0, 4.0);
            let mut x = w.clone();
            let phases: Vec<f64> = (0..samples).map(|k| 0.7 + k as f64).collect();
            ft_surrogate(&mut x, samples, &phases);
            assert!(
                x.iter().zip(&w).any(|(a, b)| (a - b).abs() > 0.1),
                "nothing changed"
            );
            for c in 0..2 {
                let before = amplitudes(&w[c * samples..(c + 1) * samples]);
                let after = amplitudes(&x[c * samples..(c + 1) * samples]);
                for (a, b) in before.iter().zip(&after) {
                    assert!((a - b).abs() < 1e-3, "n={samples}: {a} vs {b}");
                }
            }
            // Cross spectrum X0 * conj(X1) is unchanged: the same phase turns both.
            let cross = |x: &[f32]| {
                let to64 = |r: &[f32]| r.iter().map(|&v| v as f64).collect::<Vec<_>>();
                let a = naive_dft(&to64(&x[..samples]));
                let b = naive_dft(&to64(&x[samples..]));
                a.iter()
                    .zip(&b)
                    .map(|(p, q)| (p.0 * q.0 + p.1 * q.1, p.1 * q.0 - p.0 * q.1))
                    .collect::<Vec<_>>()
            };
            for (p, q) in cross(&w).iter().zip(&cross(&x)) {
                assert!((p.0 - q.0).abs() < 1e-2 && (p.1 - q.1).abs() < 1e-2);
            }
        }
    }

    #[test]
    fn frequency_shift_moves_a_sine_peak_by_the_requested_hz() {
        // 1-s windows: bin k is k Hz.
        for (samples, rate_hz, f_hz, shift_hz) in [
            (256usize, 256.0, 10.0, 3.0),
            (256, 256.0, 20.0, -4.0),
            (250, 250.0, 20.0, 5.0),
        ] {
            let mut x: Vec<f32> = (0..samples)
                .map(|t| (2.0 * PI * f_hz * t as f64 / rate_hz).sin() as f32)
                .collect();
            assert_eq!(peak_bin(&x), f_hz as usize);
            frequency_shift(&mut x, samples, shift_hz, rate_hz);
            assert_eq!(peak_bin(&x), (f_hz + shift_hz) as usize, "n={samples}");
        }
        // Drawn shifts stay within the limit.
        for seed in 0..10 {
            let mut x: Vec<f32> = (0..256)
                .map(|t| (2.0 * PI * 30.0 * t as f64 / 256.0).sin() as f32)
                .collect();
            all("freqshift=5", 1.0).apply(&mut x, 1, 256, 256.0, seed);
            let peak = peak_bin(&x) as i64;
            assert!((25..=35).contains(&peak), "peak {peak}");
        }
    }

    #[test]
    fn transforms_parse_print_and_reject_bad_strengths() {
        for text in ["shift=0.25", "roll=0.1", "flip", "reverse", "dropout=0.2"] {
            let t: Transform = text.parse().unwrap();
            assert_eq!(t.to_string(), text);
        }
        assert_eq!(
            "noise".parse::<Transform>(),
            Ok(Transform::GaussianNoise { relative_std: 0.1 })
        );
        assert_eq!(
            " freqshift = 3 ".parse::<Transform>(),
            Ok(Transform::FrequencyShift { max_shift_hz: 3.0 })
        );
        for bad in [
            "wobble",
            "flip=1",
            "noise=x",
            "dropout=0",
            "shift=2",
            "noise=-1",
        ] {
            assert!(bad.parse::<Transform>().is_err(), "{bad} accepted");
        }
        let json = serde_json::to_string(&Transform::SignFlip).unwrap();
        assert_eq!(json, r#"{"kind":"sign_flip"}"#);
    }

    #[test]
    fn batch_seeds_differ_between_batches_and_runs() {
        let seeds = [
            batch_seed(0, 1, 0),
            batch_seed(0, 1, 1),
            batch_seed(0, 2, 0),
            batch_seed(1, 1, 0),
        ];
        for i in 0..seeds.len() {
            for j in i + 1..seeds.len() {
                assert_ne!(seeds[i], seeds[j]);
            }
        }
        assert_eq!(batch_seed(3, 4, 5), batch_seed(3, 4, 5));
    }
}
