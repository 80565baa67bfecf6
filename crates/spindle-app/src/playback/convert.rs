//! Turning a recording channel into samples for the sound card: resampling,
//! clamping, and sonification of slow signals such as EEG.

/// Output clips are cut at this many samples (about 93 minutes at 48 kHz) so
/// that a nonsensical rate cannot ask for an enormous allocation.
const MAX_OUTPUT_SAMPLES: usize = 1 << 28;

/// Length of the fade-in and fade-out of a sonified clip, against clicks.
const SONIFY_FADE_S: f64 = 0.005;

/// Peak amplitude of a sonified clip.
const SONIFY_PEAK: f32 = 0.9;

/// Speeds up a slow channel (EEG) by `speed` so that it becomes audible
/// (at 60x, 10 Hz alpha is heard at 600 Hz), resampled to `out_rate_hz`.
///
/// The mean is removed, the ends fade in and out over 5 ms, and the result is
/// scaled to a peak of 0.9; the clip lasts `samples.len() / (rate_hz * speed)`
/// seconds. Non-finite samples count as 0. Returns an empty clip for empty
/// input or a rate or speed that is not positive and finite; silence stays
/// silent.
pub fn sonify(samples: &[f32], rate_hz: f64, speed: f64, out_rate_hz: u32) -> Vec<f32> {
    if !(speed.is_finite() && speed > 0.0) {
        return Vec::new();
    }
    let (sum, count) = samples
        .iter()
        .filter(|x| x.is_finite())
        .fold((0.0f64, 0usize), |(s, n), &x| (s + f64::from(x), n + 1));
    let mean = if count > 0 { sum / count as f64 } else { 0.0 };
    let centered: Vec<f32> = samples
        .iter()
        .map(|&x| {
            if x.is_finite() {
                (f64::from(x) - mean) as f32
            } else {
                0.0
            }
        })
        .collect();
    let mut out = resample(&centered, rate_hz * speed, f64::from(out_rate_hz));
    let fade = ((SONIFY_FADE_S * f64::from(out_rate_hz)) as usize).min(out.len() / 2);
    for i in 0..fade {
        let gain = i as f32 / fade as f32;
        out[i] *= gain;
        let last = out.len() - 1 - i;
        out[last] *= gain;
    }
    let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if peak > 0.0 && peak.is_finite() {
        let gain = SONIFY_PEAK / peak;
        for x in &mut out {
            *x *= gain;
        }
    }
    out
}

/// Prepares an audio channel for playback at normal speed: resampled from
/// `rate_hz` to `out_rate_hz` (linear interpolation; averaging when
/// downsampling) and clamped to -1..1, with non-finite samples set to 0.
///
/// Returns an empty clip for empty input or a rate that is not positive and
/// finite.
pub fn prepare_audio(samples: &[f32], rate_hz: f64, out_rate_hz: u32) -> Vec<f32> {
    let mut out = resample(samples, rate_hz, f64::from(out_rate_hz));
    for x in &mut out {
        *x = x.clamp(-1.0, 1.0);
    }
    out
}

/// A sample for playback: non-finite values become silence.
fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

/// Resamples `samples` from `in_rate_hz` to `out_rate_hz`; output sample `k`
/// is taken at input position `k * in_rate_hz / out_rate_hz`. Upsampling
/// interpolates linearly; downsampling averages the input samples that fall
/// within one output period around that position (a box filter, against the
/// worst aliasing). Non-finite input counts as 0. Not clamped.
pub(crate) fn resample(samples: &[f32], in_rate_hz: f64, out_rate_hz: f64) -> Vec<f32> {
    let valid = |r: f64| r.is_finite() && r > 0.0;
    if samples.is_empty() || !valid(in_rate_hz) || !valid(out_rate_hz) {
        return Vec::new();
    }
    let n = samples.len();
    // Input samples per output sample.
    let step = in_rate_hz / out_rate_hz;
    if (step - 1.0).abs() < 1e-12 {
        return samples.iter().map(|&x| finite_or_zero(x)).collect();
    }
    let out_len_f = (n as f64 / step).round().max(1.0);
    let out_len = if out_len_f >= MAX_OUTPUT_SAMPLES as f64 {
        MAX_OUTPUT_SAMPLES
    } else {
        out_len_f as usize
    };
    let at = |i: usize| finite_or_zero(samples[i.min(n - 1)]);
    if step < 1.0 {
        (0..out_len)
            .map(|k| {
                let x = k as f64 * step;
                let i = x.floor() as usize;
                let frac = (x - x.floor()) as f32;
                let a = at(i);
                let b = at(i + 1);
                a + (b - a) * frac
            })
            .collect()
    } else {
        let half = step / 2.0;
        (0..out_len)
            .map(|k| {
                let x = k as f64 * step;
                let lo = ((x - half).ceil().max(0.0) as usize).min(n - 1);
                let hi = (((x + half).ceil().max(0.0)) as usize).clamp(lo + 1, n);
                let sum: f64 = samples[lo..hi]
                    .iter()
                    .map(|&v| f64::from(finite_or_zero(v)))
                    .sum();
                (sum / (hi - lo) as f64) as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn sine(freq_hz: f64, rate_hz: f64, duration_s: f64, amplitude: f64, offset: f64) -> Vec<f32> {
        let n = (duration_s * rate_hz).round() as usize;
        (0..n)
            .map(|i| (offset + amplitude * (TAU * freq_hz * i as f64 / rate_hz).sin()) as f32)
            .collect()
    }

    fn peak(x: &[f32]) -> f32 {
        x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
    }

    fn zero_crossings(x: &[f32]) -> usize {
        x.windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count()
    }

    #[test]
    fn prepare_audio_same_rate_clamps_and_silences_non_finite() {
        let input = [0.5, -0.25, 1.5, -3.0, f32::NAN, f32::INFINITY, 0.0];
        let out = prepare_audio(&input, 44_100.0, 44_100);
        assert_eq!(out, vec![0.5, -0.25, 1.0, -1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn prepare_audio_upsamples_by_linear_interpolation() {
        let out = prepare_audio(&[0.0, 1.0, 0.0, -1.0], 8_000.0, 16_000);
        assert_eq!(out.len(), 8);
        let expected = [0.0, 0.5, 1.0, 0.5, 0.0, -0.5, -1.0, -1.0];
        for (got, want) in out.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
    }

    #[test]
    fn prepare_audio_downsamples_keeping_tone_and_length() {
        let input = sine(440.0, 48_000.0, 1.0, 0.8, 0.0);
        let out = prepare_audio(&input, 48_000.0, 16_000);
        assert_eq!(out.len(), 16_000);
        // A 3-sample box barely touches 440 Hz: the amplitude stays close.
        let p = peak(&out);
        assert!((0.75..=0.8).contains(&p), "peak {p}");
        let crossings = zero_crossings(&out);
        assert!(
            (878..=882).contains(&crossings),
            "{crossings} zero crossings"
        );
    }

    #[test]
    fn prepare_audio_rejects_bad_rates() {
        assert!(prepare_audio(&[0.1; 10], 0.0, 48_000).is_empty());
        assert!(prepare_audio(&[0.1; 10], f64::NAN, 48_000).is_empty());
        assert!(prepare_audio(&[0.1; 10], 48_000.0, 0).is_empty());
        assert!(prepare_audio(&[], 48_000.0, 48_000).is_empty());
    }

    #[test]
    fn sonify_speeds_up_and_normalizes() {
        // 10 s of 10 Hz "alpha" at 256 Hz with a DC offset, played 60x faster.
        let eeg = sine(10.0, 256.0, 10.0, 40.0, 120.0);
        let out = sonify(&eeg, 256.0, 60.0, 48_000);
        let expected_len = (10.0 / 60.0 * 48_000.0f64).round() as usize;
        assert_eq!(out.len(), expected_len);
        assert!((peak(&out) - 0.9).abs() < 1e-6, "peak {}", peak(&out));
        let mean = out.iter().map(|&x| f64::from(x)).sum::<f64>() / out.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        // 10 Hz at 60x is 600 Hz: 2 * 600 * (1/6 s) = 200 crossings.
        let crossings = zero_crossings(&out);
        assert!(
            (196..=204).contains(&crossings),
            "{crossings} zero crossings"
        );
        // The ends fade in and out.
        assert!(out[0].abs() < 1e-6 && out[out.len() - 1].abs() < 0.01);
    }

    #[test]
    fn sonify_downsamples_when_sped_up_past_the_output_rate() {
        let eeg = sine(5.0, 1_000.0, 20.0, 1.0, 0.0);
        // 1 kHz at 100x is 100 kHz in, 48 kHz out; 5 Hz becomes 500 Hz.
        let out = sonify(&eeg, 1_000.0, 100.0, 48_000);
        assert_eq!(out.len(), 9_600);
        assert!((peak(&out) - 0.9).abs() < 1e-6);
        let crossings = zero_crossings(&out);
        assert!(
            (196..=204).contains(&crossings),
            "{crossings} zero crossings"
        );
    }

    #[test]
    fn sonify_handles_silence_and_bad_input() {
        let out = sonify(&[3.0; 512], 256.0, 60.0, 48_000);
        assert!(!out.is_empty());
        assert!(out.iter().all(|&x| x == 0.0), "constant input is silence");
        let out = sonify(&[f32::NAN, 1.0, -1.0, f32::INFINITY], 256.0, 1.0, 256);
        assert!(out.iter().all(|x| x.is_finite()));
        assert!((peak(&out) - 0.9).abs() < 1e-6 || peak(&out) == 0.0);
        assert!(sonify(&[1.0; 10], 256.0, 0.0, 48_000).is_empty());
        assert!(sonify(&[1.0; 10], 256.0, f64::INFINITY, 48_000).is_empty());
        assert!(sonify(&[1.0; 10], -256.0, 60.0, 48_000).is_empty());
        assert!(sonify(&[], 256.0, 60.0, 48_000).is_empty());
    }
}
