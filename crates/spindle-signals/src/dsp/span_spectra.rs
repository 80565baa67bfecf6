//! What the spectrum panel shows for a view: the power spectral density of
//! each shown channel over the visible span and a spectrogram of one channel,
//! computed off the UI thread and handed over as plain data.

use crate::recording::{Recording, RecordingError, SampleStore};

use super::{spectrogram, welch_length, welch_psd};

/// At most this many samples per channel go into the spectra of one view.
pub const MAX_SPECTRUM_SAMPLES: usize = 1 << 18;
/// Most spectrogram frames (columns).
pub const MAX_SPECTROGRAM_FRAMES: usize = 800;
/// Most channels whose spectrum is drawn.
pub const MAX_SPECTRUM_CHANNELS: usize = 16;
/// Dynamic range of the spectrogram's colors, dB.
const RANGE_DB: f32 = 60.0;

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectraRequest {
    /// Channels whose spectrum is wanted, in drawing order.
    pub channels: Vec<usize>,
    /// The channel of the spectrogram.
    pub spectrogram_channel: usize,
    /// Start of the visible span, seconds.
    pub start_s: f64,
    /// Width of the visible span, seconds.
    pub span_s: f64,
}

/// The spectra of a view.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanSpectra {
    /// Per channel: its label and `[Hz, dB]` points of its Welch PSD.
    pub psd: Vec<(String, Vec<[f64; 2]>)>,
    /// The spectrogram as `(width, height, rgb)`: frames across, bins up
    /// (highest frequency in the first row); `None` when the span is too short.
    pub image: Option<(usize, usize, Vec<u8>)>,
    /// One line describing the spectrogram (or why there is none).
    pub info: String,
}

/// The samples of channel `c` in `start_s .. start_s + span_s` (data time;
/// gaps ignored), at most [`MAX_SPECTRUM_SAMPLES`].
fn span(
    rec: &Recording,
    samples: &SampleStore,
    c: usize,
    start_s: f64,
    span_s: f64,
) -> Result<Vec<f32>, RecordingError> {
    let rate_hz = rec.channels[c].rate_hz;
    let len = samples.len(c);
    let a = ((start_s.max(0.0) * rate_hz) as usize).min(len);
    let b = (((start_s + span_s).max(0.0) * rate_hz) as usize).clamp(a, len);
    let mut out = Vec::new();
    samples.read(c, a..b.min(a + MAX_SPECTRUM_SAMPLES), &mut out)?;
    Ok(out)
}

/// Computes the spectra `req` asks for from `samples`, the samples of `rec`;
/// channels that do not exist are skipped. Errors only when samples read on
/// demand cannot be read.
pub fn span_spectra(
    rec: &Recording,
    samples: &SampleStore,
    req: &SpectraRequest,
) -> Result<SpanSpectra, RecordingError> {
    let mut out = SpanSpectra::default();
    let n = rec.channels.len();
    for &c in req
        .channels
        .iter()
        .filter(|&&c| c < n)
        .take(MAX_SPECTRUM_CHANNELS)
    {
        let ch = &rec.channels[c];
        let x = span(rec, samples, c, req.start_s, req.span_s)?;
        let psd = welch_psd(&x, ch.rate_hz, welch_length(x.len(), ch.rate_hz));
        let pts = psd
            .freqs_hz
            .iter()
            .zip(&psd.psd)
            .skip(1)
            .map(|(&f, &p)| [f, 10.0 * p.max(1e-20).log10()])
            .collect();
        out.psd.push((ch.label.clone(), pts));
    }
    let Some(ch) = rec.channels.get(req.spectrogram_channel) else {
        out.info = "no channel for a spectrogram".into();
        return Ok(out);
    };
    let x = span(
        rec,
        samples,
        req.spectrogram_channel,
        req.start_s,
        req.span_s,
    )?;
    let want = if ch.is_audio() {
        256
    } else {
        ((ch.rate_hz / 2.0) as usize).max(32).next_power_of_two()
    };
    let nfft = want.min(welch_length(x.len(), ch.rate_hz).max(2));
    let spec = spectrogram(&x, ch.rate_hz, nfft, nfft / 4, MAX_SPECTROGRAM_FRAMES);
    if spec.frames == 0 {
        out.info = "span too short for a spectrogram".into();
        return Ok(out);
    }
    let rgb: Vec<u8> = spec.to_rgb(RANGE_DB).into_iter().flatten().collect();
    out.image = Some((spec.frames, spec.bins, rgb));
    out.info = format!(
        "0–{:.0} Hz, {} frames of {} samples, top {RANGE_DB:.0} dB",
        spec.df_hz * (spec.bins - 1) as f64,
        spec.frames,
        nfft
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Channel, Format, Segment};

    fn channel(label: &str, hz: f64) -> Channel {
        let rate_hz = 256.0;
        Channel {
            label: label.into(),
            unit: "uV".into(),
            rate_hz,
            physical_min: -100.0,
            physical_max: 100.0,
            transducer: String::new(),
            prefilter: String::new(),
            samples: (0..(8.0 * rate_hz) as usize)
                .map(|i| (std::f64::consts::TAU * hz * i as f64 / rate_hz).sin() as f32 * 20.0)
                .collect(),
        }
    }

    #[test]
    fn the_spectrum_peaks_at_the_rhythm_and_the_spectrogram_has_its_size() {
        let rec = Recording {
            path: "x.edf".into(),
            format: Format::Edf,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: vec![channel("O1", 10.0), channel("Fp1", 20.0)],
            annotations: Vec::new(),
            segments: vec![Segment {
                onset_s: 0.0,
                duration_s: 8.0,
            }],
            warnings: Vec::new(),
        };
        let req = SpectraRequest {
            channels: vec![0, 1, 99],
            spectrogram_channel: 0,
            start_s: 2.0,
            span_s: 4.0,
        };
        let rec = std::sync::Arc::new(rec);
        let samples = SampleStore::Memory(rec.clone());
        let s = span_spectra(&rec, &samples, &req).unwrap();
        assert_eq!(s.psd.len(), 2, "the missing channel is skipped");
        for ((_, pts), want_hz) in s.psd.iter().zip([10.0, 20.0]) {
            let peak = pts
                .iter()
                .max_by(|a, b| a[1].total_cmp(&b[1]))
                .map(|p| p[0])
                .unwrap_or(0.0);
            assert!(
                (peak - want_hz).abs() <= 1.0,
                "peak at {peak} Hz, want {want_hz}"
            );
        }
        let Some((w, h, rgb)) = &s.image else {
            panic!("no spectrogram: {}", s.info)
        };
        assert_eq!(rgb.len(), w * h * 3);
        let short = span_spectra(&rec, &samples, &SpectraRequest { span_s: 0.0, ..req }).unwrap();
        assert!(short.image.is_none() && short.info.contains("too short"));
    }
}
