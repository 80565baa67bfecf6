//! Spectra: a radix-2 FFT, Welch power spectral density and spectrograms.

use std::f64::consts::PI;

/// In-place radix-2 FFT of `re`/`im` (length a power of two).
pub fn fft(re: &mut [f64], im: &mut [f64]) {
    let n = re.len();
    debug_assert!(n.is_power_of_two() && im.len() == n);
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let angle = -2.0 * PI / len as f64;
        let (w_re, w_im) = (angle.cos(), angle.sin());
        for start in (0..n).step_by(len) {
            let (mut c_re, mut c_im) = (1.0, 0.0);
            for k in 0..len / 2 {
                let a = start + k;
                let b = a + len / 2;
                let t_re = re[b] * c_re - im[b] * c_im;
                let t_im = re[b] * c_im + im[b] * c_re;
                re[b] = re[a] - t_re;
                im[b] = im[a] - t_im;
                re[a] += t_re;
                im[a] += t_im;
                let next = c_re * w_re - c_im * w_im;
                c_im = c_re * w_im + c_im * w_re;
                c_re = next;
            }
        }
        len <<= 1;
    }
}

/// A Hann window of `n` points (periodic form, for spectral analysis).
pub fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect()
}

/// Reusable FFT buffers and window for frames of one length.
struct Periodogram {
    window: Vec<f64>,
    /// Sum of squared window values (for the PSD scale).
    window_power: f64,
    re: Vec<f64>,
    im: Vec<f64>,
}

impl Periodogram {
    fn new(nfft: usize) -> Self {
        let window = hann(nfft);
        let window_power = window.iter().map(|w| w * w).sum();
        Self {
            window,
            window_power,
            re: vec![0.0; nfft],
            im: vec![0.0; nfft],
        }
    }

    /// Adds the one-sided power (unit²/Hz) of `frame` (mean removed) to `acc`.
    fn accumulate(&mut self, frame: &[f32], rate_hz: f64, acc: &mut [f64]) {
        let n = self.window.len();
        let mean = frame.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        for (((re, im), &x), &w) in self
            .re
            .iter_mut()
            .zip(&mut self.im)
            .zip(frame)
            .zip(&self.window)
        {
            *re = (x as f64 - mean) * w;
            *im = 0.0;
        }
        fft(&mut self.re, &mut self.im);
        let scale = 1.0 / (rate_hz * self.window_power);
        for (k, a) in acc.iter_mut().enumerate() {
            let p = (self.re[k] * self.re[k] + self.im[k] * self.im[k]) * scale;
            let one_sided = if k == 0 || k == n / 2 { 1.0 } else { 2.0 };
            *a += p * one_sided;
        }
    }
}

/// A power spectral density: `psd[k]` at `freqs_hz[k]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Psd {
    /// Bin centers in Hz, from 0 to the Nyquist frequency.
    pub freqs_hz: Vec<f64>,
    /// Power per bin in unit²/Hz.
    pub psd: Vec<f64>,
}

/// The FFT length Welch's method uses for `n` samples at `rate_hz`: about 2 s
/// (0.5 Hz bins), a power of two, no longer than the data.
pub fn welch_length(n: usize, rate_hz: f64) -> usize {
    let want = ((2.0 * rate_hz) as usize).max(8).next_power_of_two();
    let fit = if n >= 8 {
        1usize << (usize::BITS - 1 - n.leading_zeros())
    } else {
        0
    };
    want.min(fit)
}

/// Welch's PSD of `samples` at `rate_hz`: Hann-windowed frames of `nfft`
/// samples (a power of two) with 50% overlap, averaged. Empty when there are
/// fewer than `nfft` samples.
pub fn welch_psd(samples: &[f32], rate_hz: f64, nfft: usize) -> Psd {
    if nfft < 2 || !nfft.is_power_of_two() || samples.len() < nfft {
        return Psd::default();
    }
    let mut pg = Periodogram::new(nfft);
    let bins = nfft / 2 + 1;
    let mut acc = vec![0.0; bins];
    let hop = nfft / 2;
    let mut frames = 0;
    let mut start = 0;
    while start + nfft <= samples.len() {
        pg.accumulate(&samples[start..start + nfft], rate_hz, &mut acc);
        frames += 1;
        start += hop;
    }
    for a in &mut acc {
        *a /= frames as f64;
    }
    Psd {
        freqs_hz: (0..bins)
            .map(|k| k as f64 * rate_hz / nfft as f64)
            .collect(),
        psd: acc,
    }
}

/// A spectrogram: power in dB (10 log10 unit²/Hz) per frame and bin.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spectrogram {
    /// Number of frames (time steps).
    pub frames: usize,
    /// Number of frequency bins, 0 Hz to Nyquist.
    pub bins: usize,
    /// Center time of frame 0, seconds from the first sample.
    pub t0_s: f64,
    /// Seconds between frames.
    pub dt_s: f64,
    /// Hz between bins.
    pub df_hz: f64,
    /// Power in dB, frame-major: `db[frame * bins + bin]`.
    pub db: Vec<f32>,
}

impl Spectrogram {
    /// The smallest and largest finite dB values.
    pub fn db_range(&self) -> (f32, f32) {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in self.db.iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        (lo, hi)
    }

    /// Colors for drawing, row-major with the highest frequency in row 0 and
    /// one column per frame: a dark-blue-to-yellow map over the top `range_db`
    /// decibels.
    pub fn to_rgb(&self, range_db: f32) -> Vec<[u8; 3]> {
        let (_, hi) = self.db_range();
        let lo = hi - range_db;
        let mut out = Vec::with_capacity(self.frames * self.bins);
        for row in 0..self.bins {
            let bin = self.bins - 1 - row;
            for frame in 0..self.frames {
                let v = self.db[frame * self.bins + bin];
                let x = ((v - lo) / range_db).clamp(0.0, 1.0);
                out.push(heat(x));
            }
        }
        out
    }
}

/// A perceptually ordered dark-to-bright color for `x` in 0..=1.
pub fn heat(x: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [13.0, 8.0, 135.0],
        [126.0, 3.0, 168.0],
        [204.0, 71.0, 120.0],
        [248.0, 149.0, 64.0],
        [240.0, 249.0, 33.0],
    ];
    let x = x.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f32;
    let mix = |c: usize| (STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f) as u8;
    [mix(0), mix(1), mix(2)]
}

/// The spectrogram of `samples` at `rate_hz` with frames of `nfft` samples (a
/// power of two) every `hop` samples; the hop grows so that there are at most
/// `max_frames` frames.
pub fn spectrogram(
    samples: &[f32],
    rate_hz: f64,
    nfft: usize,
    hop: usize,
    max_frames: usize,
) -> Spectrogram {
    if nfft < 2 || !nfft.is_power_of_two() || samples.len() < nfft || max_frames == 0 {
        return Spectrogram::default();
    }
    let span = samples.len() - nfft;
    let hop = hop.max(1).max(span.div_ceil(max_frames.max(1)));
    let frames = span / hop + 1;
    let bins = nfft / 2 + 1;
    let mut pg = Periodogram::new(nfft);
    let mut db = Vec::with_capacity(frames * bins);
    let mut acc = vec![0.0; bins];
    for f in 0..frames {
        acc.iter_mut().for_each(|a| *a = 0.0);
        let start = f * hop;
        pg.accumulate(&samples[start..start + nfft], rate_hz, &mut acc);
        db.extend(acc.iter().map(|&p| (10.0 * (p.max(1e-20)).log10()) as f32));
    }
    Spectrogram {
        frames,
        bins,
        t0_s: nfft as f64 / 2.0 / rate_hz,
        dt_s: hop as f64 / rate_hz,
        df_hz: rate_hz / nfft as f64,
        db,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: f64, n: usize, amp: f64) -> Vec<f32> {
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq_hz * i as f64 / rate_hz).sin()) as f32)
            .collect()
    }

    #[test]
    fn fft_of_impulse_is_flat() {
        let mut re = vec![0.0; 8];
        let mut im = vec![0.0; 8];
        re[0] = 1.0;
        fft(&mut re, &mut im);
        assert!(re.iter().all(|v| (v - 1.0).abs() < 1e-12));
        assert!(im.iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn welch_peak_and_parseval() {
        let rate = 256.0;
        let x = sine(10.0, rate, 256 * 20, 2.0);
        let nfft = welch_length(x.len(), rate);
        assert_eq!(nfft, 512);
        let psd = welch_psd(&x, rate, nfft);
        let peak = psd
            .psd
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, _)| psd.freqs_hz[k]);
        assert_eq!(peak, Some(10.0));
        // Total power = variance = amp^2 / 2 = 2.
        let df = psd.freqs_hz[1];
        let total: f64 = psd.psd.iter().sum::<f64>() * df;
        assert!((total - 2.0).abs() < 0.05, "{total}");
    }

    #[test]
    fn spectrogram_shape_and_peak() {
        let rate = 1000.0;
        let x = sine(125.0, rate, 4000, 1.0);
        let s = spectrogram(&x, rate, 64, 32, 50);
        assert_eq!(s.bins, 33);
        assert!(s.frames <= 50 && s.frames > 10);
        let row = &s.db[0..s.bins];
        let peak = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, _)| k as f64 * s.df_hz);
        assert_eq!(peak, Some(125.0));
        assert_eq!(s.to_rgb(60.0).len(), s.frames * s.bins);
    }
}
