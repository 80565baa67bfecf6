//! A recording opened for viewing: its samples (in memory, or read on
//! demand with its overview being built), pyramids, default scales and
//! labels with what opening them offers (a damaged sidecar's backup, an
//! earlier session's journal).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::overview::OverviewJob;
use super::scan::audio_class;
use crate::dsp::{MinMaxPyramid, peak_amplitude, robust_amplitude};
use crate::labeling::{DamagedSidecar, JournalReplay, open_labels};
use crate::recording::{
    LabelSet, LabelSource, READ_ON_DEMAND_BYTES, Recording, RecordingError, SampleStore,
    open_for_viewing,
};

/// Seconds of each channel read to scale a recording read on demand.
const SCALING_SPAN_S: f64 = 30.0;

/// A recording read and prepared for viewing.
#[derive(Debug)]
pub struct Opened {
    /// The recording (for one read on demand: its header facts and
    /// annotations, without samples).
    pub recording: Arc<Recording>,
    /// Its samples.
    pub samples: SampleStore,
    /// One min/max pyramid per channel; empty ones while `overview` builds
    /// them for a recording read on demand.
    pub pyramids: Vec<MinMaxPyramid>,
    /// The job building the pyramids of a recording read on demand.
    pub overview: Option<OverviewJob>,
    /// Robust amplitude per channel, physical units (for default scaling).
    pub amplitudes: Vec<f32>,
    /// Its labels.
    pub labels: LabelSet,
    /// Where they came from.
    pub source: LabelSource,
    /// The class of a file in an audio folder.
    pub class: Option<String>,
    /// A problem with the labels that did not stop the opening.
    pub warning: Option<String>,
    /// The sidecar, when it exists but could not be read.
    pub damaged: Option<DamagedSidecar>,
    /// Edits an earlier session journaled but did not save.
    pub journal: Option<JournalReplay>,
    /// Seconds spent reading and preparing.
    pub seconds: f64,
}

/// Opens `path` for viewing (an EDF/BDF file over
/// [`READ_ON_DEMAND_BYTES`] is read on demand, and its overview job
/// started, calling `on_overview_event` after each of its events).
pub fn open_recording(
    path: &Path,
    on_overview_event: impl Fn() + Send + 'static,
) -> Result<Opened, RecordingError> {
    let started = Instant::now();
    let (recording, samples) = open_for_viewing(path, READ_ON_DEMAND_BYTES)?;
    let (pyramids, amplitudes, overview) = match &samples {
        SampleStore::Memory(rec) => {
            let pyramids = rec
                .channels
                .iter()
                .map(|c| MinMaxPyramid::build(&c.samples))
                .collect();
            let amplitudes = rec
                .channels
                .iter()
                .map(|c| scale_of(c.is_audio(), &c.samples))
                .collect();
            (pyramids, amplitudes, None)
        }
        SampleStore::Paged(paged) => {
            let mut amplitudes = Vec::with_capacity(recording.channels.len());
            let mut first = Vec::new();
            for (c, ch) in recording.channels.iter().enumerate() {
                first.clear();
                let n = (SCALING_SPAN_S * ch.rate_hz) as usize;
                samples.read(c, 0..n, &mut first)?;
                amplitudes.push(scale_of(ch.is_audio(), &first));
            }
            let job = OverviewJob::spawn(Arc::clone(paged), on_overview_event);
            let empty = vec![MinMaxPyramid::default(); recording.channels.len()];
            (empty, amplitudes, Some(job))
        }
    };
    let labels = open_labels(path, &recording.annotations);
    Ok(Opened {
        recording,
        samples,
        pyramids,
        overview,
        amplitudes,
        labels: labels.labels,
        source: labels.source,
        class: audio_class(path),
        warning: labels.warning,
        damaged: labels.damaged,
        journal: labels.journal,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The default scale of a channel: audio calls sit in near-silence, so
/// they are scaled to their peak; EEG to its robust amplitude.
fn scale_of(is_audio: bool, samples: &[f32]) -> f32 {
    if is_audio {
        peak_amplitude(samples)
    } else {
        robust_amplitude(samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Channel, EdfWriteOptions, write_edf};
    use crate::viewing::OverviewEvent;
    use std::time::Duration;

    /// A 64-channel recording of `duration_s` at 256 Hz.
    fn write(path: &Path, duration_s: f64) {
        let n = (256.0 * duration_s) as usize;
        let channels = (0..64)
            .map(|c| Channel {
                physical_min: -200.0,
                physical_max: 200.0,
                ..Channel::new(
                    format!("E{c:02}"),
                    256.0,
                    (0..n)
                        .map(|i| ((i * (c + 1)) % 300) as f32 - 150.0)
                        .collect(),
                )
            })
            .collect();
        let rec = Recording {
            path: path.to_path_buf(),
            ..Recording::from_channels(channels)
        };
        write_edf(path, &rec, &EdfWriteOptions::default()).unwrap();
    }

    #[test]
    fn a_big_recording_opens_at_once_and_its_overview_arrives_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("night.edf");
        write(&path, 1100.0);
        let opened = open_recording(&path, || {}).unwrap();
        assert!(opened.samples.is_paged());
        assert!(opened.pyramids.iter().all(MinMaxPyramid::is_empty));
        assert_eq!(opened.amplitudes.len(), 64);
        let job = opened.overview.expect("an overview job");
        let mut last_progress = 0.0;
        let pyramids = loop {
            match job.events.recv_timeout(Duration::from_secs(60)).unwrap() {
                OverviewEvent::Progress(f) => {
                    assert!(f > last_progress && f <= 1.0, "{f}");
                    last_progress = f;
                }
                OverviewEvent::Ready(p) => break p,
                OverviewEvent::Failed(e) => panic!("{e}"),
            }
        };
        assert_eq!(pyramids.len(), 64);
        assert!(pyramids.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn a_stopped_overview_reports_nothing_more_and_a_file_cut_short_fails_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("night.edf");
        write(&path, 1100.0);
        let opened = open_recording(&path, || {}).unwrap();
        let job = opened.overview.unwrap();
        job.stop();
        let rest: Vec<_> =
            std::iter::from_fn(|| job.events.recv_timeout(Duration::from_secs(30)).ok()).collect();
        assert!(
            rest.iter().all(|e| matches!(e, OverviewEvent::Progress(_))),
            "{rest:?}"
        );
        // Cut short after opening: the overview fails, naming the file.
        let opened = open_recording(&path, || {}).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        let job = opened.overview.unwrap();
        let failed = loop {
            match job.events.recv_timeout(Duration::from_secs(60)).unwrap() {
                OverviewEvent::Failed(e) => break e,
                OverviewEvent::Ready(_) => panic!("built from a file cut short"),
                OverviewEvent::Progress(_) => {}
            }
        };
        assert!(
            failed.contains("night.edf") && failed.contains("shorter"),
            "{failed}"
        );
    }

    #[test]
    fn opening_a_file_that_is_no_recording_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.edf");
        std::fs::write(&path, b"not a recording").unwrap();
        let error = open_recording(&path, || {}).unwrap_err().to_string();
        assert!(error.starts_with(&path.display().to_string()), "{error}");
    }
}
