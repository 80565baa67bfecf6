//! What the model sees of a window: raw samples, a log-power spectrogram, or
//! (for audio) a log-mel spectrogram, laid out `[rows, frames]` so that every
//! model reads it as channels over time.

use spindle_signals::dsp::spectrogram;

/// The input representation of a window.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Representation {
    /// The samples themselves: `[channels, samples]`.
    #[default]
    Raw,
    /// Log power (dB) per channel and frequency bin up to `max_hz`:
    /// `[channels * bins, frames]`.
    Spectrogram {
        /// Frame length in seconds (rounded to a power of two of samples).
        frame_s: f64,
        /// Seconds between frames.
        hop_s: f64,
        /// Highest frequency kept, Hz.
        max_hz: f64,
    },
    /// Log power in `mels` mel-spaced bands per channel: `[channels * mels, frames]`.
    LogMel {
        /// Number of mel bands.
        mels: usize,
        /// Frame length in seconds (rounded to a power of two of samples).
        frame_s: f64,
        /// Seconds between frames.
        hop_s: f64,
    },
}

impl Representation {
    /// The usual spectrogram for EEG: 0.5-s frames every 1/16 s up to 45 Hz.
    pub fn eeg_spectrogram() -> Self {
        Representation::Spectrogram {
            frame_s: 0.5,
            hop_s: 0.0625,
            max_hz: 45.0,
        }
    }

    /// The usual log-mel spectrogram for audio: 40 bands, 32-ms frames every 10 ms.
    pub fn audio_log_mel() -> Self {
        Representation::LogMel {
            mels: 40,
            frame_s: 0.032,
            hop_s: 0.01,
        }
    }

    /// Shape `(rows, frames)` and frame rate (Hz) of the features of a window
    /// of `channels` x `samples` at `rate_hz`; `None` when the window is
    /// shorter than one frame.
    pub fn output_shape(
        &self,
        channels: usize,
        samples: usize,
        rate_hz: f64,
    ) -> Option<(usize, usize, f64)> {
        match *self {
            Representation::Raw => Some((channels, samples, rate_hz)),
            Representation::Spectrogram {
                frame_s,
                hop_s,
                max_hz,
            } => {
                let (nfft, hop) = frame(frame_s, hop_s, rate_hz);
                let bins = kept_bins(nfft, rate_hz, max_hz);
                frames(samples, nfft, hop).map(|f| (channels * bins, f, rate_hz / hop as f64))
            }
            Representation::LogMel {
                mels,
                frame_s,
                hop_s,
            } => {
                let (nfft, hop) = frame(frame_s, hop_s, rate_hz);
                frames(samples, nfft, hop).map(|f| (channels * mels, f, rate_hz / hop as f64))
            }
        }
    }

    /// The features of windows laid out `[n, channels, samples]` in `x`, laid
    /// out `[n, rows, frames]` (see [`Representation::output_shape`]).
    pub fn apply(&self, x: &[f32], channels: usize, samples: usize, rate_hz: f64) -> Vec<f32> {
        let Some((rows, n_frames, _)) = self.output_shape(channels, samples, rate_hz) else {
            return Vec::new();
        };
        let (frame_s, hop_s) = match *self {
            Representation::Raw => return x.to_vec(),
            Representation::Spectrogram { frame_s, hop_s, .. }
            | Representation::LogMel { frame_s, hop_s, .. } => (frame_s, hop_s),
        };
        let (nfft, hop) = frame(frame_s, hop_s, rate_hz);
        let n = x.len() / (channels * samples).max(1);
        let per_channel = rows / channels.max(1);
        let mel = match *self {
            Representation::LogMel { mels, .. } => Some(mel_filters(mels, nfft, rate_hz)),
            _ => None,
        };
        let mut out = vec![0.0f32; n * rows * n_frames];
        for w in 0..n {
            for c in 0..channels {
                let signal = &x[(w * channels + c) * samples..(w * channels + c + 1) * samples];
                let spec = spectrogram(signal, rate_hz, nfft, hop, usize::MAX);
                let base = (w * rows + c * per_channel) * n_frames;
                for f in 0..n_frames.min(spec.frames) {
                    let db = &spec.db[f * spec.bins..(f + 1) * spec.bins];
                    match &mel {
                        None => {
                            for (b, &v) in db.iter().take(per_channel).enumerate() {
                                out[base + b * n_frames + f] = v;
                            }
                        }
                        Some(filters) => {
                            for (m, filter) in filters.iter().enumerate() {
                                let power: f64 = filter
                                    .iter()
                                    .map(|&(bin, weight)| {
                                        weight * 10f64.powf(db[bin] as f64 / 10.0)
                                    })
                                    .sum();
                                out[base + m * n_frames + f] =
                                    (10.0 * power.max(1e-20).log10()) as f32;
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// FFT length (power of two) and hop in samples.
fn frame(frame_s: f64, hop_s: f64, rate_hz: f64) -> (usize, usize) {
    let n = (frame_s * rate_hz).round().max(2.0) as usize;
    let nfft = n.next_power_of_two();
    let hop = ((hop_s * rate_hz).round() as usize).max(1);
    (nfft, hop)
}

fn frames(samples: usize, nfft: usize, hop: usize) -> Option<usize> {
    (samples >= nfft).then(|| (samples - nfft) / hop + 1)
}

fn kept_bins(nfft: usize, rate_hz: f64, max_hz: f64) -> usize {
    let df = rate_hz / nfft as f64;
    (((max_hz / df).floor() as usize) + 1).min(nfft / 2 + 1)
}

/// Triangular mel filters: for each band, the (bin, weight) pairs it sums.
fn mel_filters(mels: usize, nfft: usize, rate_hz: f64) -> Vec<Vec<(usize, f64)>> {
    let to_mel = |hz: f64| 2595.0 * (1.0 + hz / 700.0).log10();
    let to_hz = |mel: f64| 700.0 * (10f64.powf(mel / 2595.0) - 1.0);
    let bins = nfft / 2 + 1;
    let df = rate_hz / nfft as f64;
    let top = to_mel(rate_hz / 2.0);
    let edges: Vec<f64> = (0..mels + 2)
        .map(|i| to_hz(top * i as f64 / (mels + 1) as f64))
        .collect();
    (0..mels)
        .map(|m| {
            let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
            let mut taps: Vec<(usize, f64)> = (0..bins)
                .filter_map(|b| {
                    let f = b as f64 * df;
                    let w = if f <= lo || f >= hi {
                        0.0
                    } else if f <= mid {
                        (f - lo) / (mid - lo)
                    } else {
                        (hi - f) / (hi - mid)
                    };
                    (w > 0.0).then_some((b, w))
                })
                .collect();
            if taps.is_empty() {
                // A band narrower than one bin takes the nearest bin.
                taps.push((((mid / df).round() as usize).min(bins - 1), 1.0));
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_is_identity() {
        let x = vec![1.0, 2.0, 3.0, 4.0];
        assert_eq!(Representation::Raw.apply(&x, 2, 2, 10.0), x);
        assert_eq!(
            Representation::Raw.output_shape(2, 2, 10.0),
            Some((2, 2, 10.0))
        );
    }

    #[test]
    fn spectrogram_puts_a_sine_in_its_bin() {
        // 10 Hz sine at 256 Hz, 2 s; 0.5-s frames (128 samples, 2 Hz bins) up to 45 Hz.
        let rate = 256.0;
        let x: Vec<f32> = (0..512)
            .map(|i| (std::f64::consts::TAU * 10.0 * i as f64 / rate).sin() as f32)
            .collect();
        let r = Representation::eeg_spectrogram();
        let (rows, frames, frame_rate) = r.output_shape(1, 512, rate).unwrap();
        assert_eq!(rows, 23); // 0, 2, ..., 44 Hz
        assert_eq!(frames, (512 - 128) / 16 + 1);
        assert_eq!(frame_rate, 16.0);
        let f = r.apply(&x, 1, 512, rate);
        assert_eq!(f.len(), rows * frames);
        // Row 5 (10 Hz) is the loudest in every frame.
        for t in 0..frames {
            let column: Vec<f32> = (0..rows).map(|b| f[b * frames + t]).collect();
            let loudest = column
                .iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > column[best] { i } else { best });
            assert_eq!(loudest, 5);
        }
    }

    #[test]
    fn log_mel_shapes_and_pitch_order() {
        let rate = 16_000.0;
        let tone = |hz: f64| -> Vec<f32> {
            (0..4000)
                .map(|i| (std::f64::consts::TAU * hz * i as f64 / rate).sin() as f32)
                .collect()
        };
        let r = Representation::audio_log_mel();
        let (rows, frames, _) = r.output_shape(1, 4000, rate).unwrap();
        assert_eq!(rows, 40);
        let band = |x: &[f32]| {
            let f = r.apply(x, 1, 4000, rate);
            let energy: Vec<f32> = (0..rows)
                .map(|m| f[m * frames..(m + 1) * frames].iter().sum())
                .collect();
            energy
                .iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > energy[best] { i } else { best })
        };
        assert!(band(&tone(500.0)) < band(&tone(2000.0)));
        assert!(band(&tone(2000.0)) < band(&tone(6000.0)));
    }

    #[test]
    fn short_windows_have_no_frames() {
        assert_eq!(
            Representation::eeg_spectrogram().output_shape(1, 100, 256.0),
            None
        );
    }
}
