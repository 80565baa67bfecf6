//! What a folder listing shows of a recording — its length, channels, rate
//! and annotations — read from its header (and EDF+ annotation signals)
//! without decoding a sample, so that listing a folder of overnight
//! recordings costs a few reads per file.

use std::path::Path;

use super::brainvision::read_brainvision_summary;
use super::open::{Sniffed, recognize};
use super::wav::read_wav_summary;
use super::{Annotation, RecordingError, open_edf_paged};

/// A recording's facts for a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSummary {
    /// Duration, seconds.
    pub duration_s: f64,
    /// Data channels.
    pub channels: usize,
    /// The highest channel rate, Hz.
    pub rate_hz: f64,
    /// The annotations stored in the file, sorted by onset.
    pub annotations: Vec<Annotation>,
}

/// Reads the summary of the recording at `path`; the same errors as
/// [`read_recording`](super::read_recording) for a file it cannot read.
pub fn read_summary(path: &Path) -> Result<RecordingSummary, RecordingError> {
    crate::io_guard::note(path);
    match recognize(path)? {
        Sniffed::Edf => {
            let (rec, _) = open_edf_paged(path)?;
            Ok(RecordingSummary {
                duration_s: rec.duration_s(),
                channels: rec.channels.len(),
                rate_hz: rec.channels.iter().map(|c| c.rate_hz).fold(0.0, f64::max),
                annotations: rec.annotations,
            })
        }
        Sniffed::Wav => {
            let (channels, rate_hz, frames, annotations) = read_wav_summary(path)?;
            Ok(RecordingSummary {
                duration_s: frames as f64 / rate_hz,
                channels,
                rate_hz,
                annotations,
            })
        }
        Sniffed::Unknown => Err(RecordingError::invalid(path, "not a recording")),
        Sniffed::BrainVisionHeader => {
            let (channels, rate_hz, samples, mut annotations) = read_brainvision_summary(path)?;
            annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
            Ok(RecordingSummary {
                duration_s: samples as f64 / rate_hz,
                channels,
                rate_hz,
                annotations,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{
        Channel, EdfWriteOptions, Format, Recording, Segment, read_recording, write_brainvision,
        write_edf, write_wav,
    };

    fn recording(path: &Path, rate_hz: f64) -> Recording {
        let n = (rate_hz * 7.5) as usize;
        let channel = |label: &str| Channel {
            label: label.into(),
            unit: "uV".into(),
            rate_hz,
            physical_min: -1.0,
            physical_max: 1.0,
            transducer: String::new(),
            prefilter: String::new(),
            samples: (0..n).map(|i| (i as f32 * 0.01).sin() * 0.5).collect(),
        };
        Recording {
            path: path.to_path_buf(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: vec![channel("A"), channel("B")],
            annotations: vec![Annotation {
                onset_s: 2.0,
                duration_s: Some(1.0),
                text: "blink".into(),
            }],
            segments: vec![Segment {
                onset_s: 0.0,
                duration_s: n as f64 / rate_hz,
            }],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn summaries_match_what_reading_the_whole_file_gives() {
        let dir = tempfile::tempdir().unwrap();
        let edf = dir.path().join("x.edf");
        write_edf(&edf, &recording(&edf, 200.0), &EdfWriteOptions::default()).unwrap();
        let vhdr = dir.path().join("y.vhdr");
        write_brainvision(&vhdr, &recording(&vhdr, 500.0)).unwrap();
        let wav = dir.path().join("z.wav");
        let rec = recording(&wav, 8000.0);
        let channels: Vec<Vec<f32>> = rec.channels.iter().map(|c| c.samples.clone()).collect();
        write_wav(
            &wav,
            8000,
            &channels,
            crate::recording::WavSampleFormat::Pcm16,
        )
        .unwrap();
        for path in [&edf, &vhdr, &wav] {
            let whole = read_recording(path).unwrap();
            let summary = read_summary(path).unwrap();
            assert_eq!(summary.channels, whole.channels.len(), "{path:?}");
            assert!(
                (summary.duration_s - whole.duration_s()).abs() < 1e-9,
                "{path:?}"
            );
            assert_eq!(summary.rate_hz, whole.channels[0].rate_hz, "{path:?}");
            assert_eq!(summary.annotations, whole.annotations, "{path:?}");
        }
        let folder = read_summary(dir.path()).unwrap_err().to_string();
        assert!(folder.contains("is a folder"), "{folder}");
    }
}
