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
    AUDIO_RATE_HZ, Channel, ChannelKind, LabelSet, LabelSource, READ_ON_DEMAND_BYTES, Recording,
    RecordingError, SampleStore, channel_kinds, microvolts_per_unit, open_for_viewing,
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
    /// The default amplitude per channel, in its physical unit: three of
    /// them fill half a lane at gain 1 (the kind's standard scale for EEG,
    /// EOG, EMG and ECG in volts, else from the samples).
    pub amplitudes: Vec<f32>,
    /// What each channel measures (EEG, EOG, EMG, ECG, other).
    pub kinds: Vec<ChannelKind>,
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
    // A channels.tsv that cannot be read does not stop the viewing: the
    // kinds are then guessed from the names.
    let kinds = channel_kinds(&recording).unwrap_or_else(|_| {
        recording
            .channels
            .iter()
            .map(|c| {
                if c.rate_hz >= AUDIO_RATE_HZ {
                    ChannelKind::Other
                } else {
                    ChannelKind::guess(&c.label, &c.unit)
                }
            })
            .collect()
    });
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
                .zip(&kinds)
                .map(|(c, &kind)| default_amplitude(c, kind, &c.samples))
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
                amplitudes.push(default_amplitude(ch, kinds[c], &first));
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
        kinds,
        labels: labels.labels,
        source: labels.source,
        class: audio_class(path),
        warning: labels.warning,
        damaged: labels.damaged,
        journal: labels.journal,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The default amplitude of channel `ch` of kind `kind`, in its unit, given
/// some of its `samples`: EEG, EOG, EMG and ECG in a voltage unit start at
/// the scale sleep viewers use ([`ChannelKind::standard_half_lane_uv`] fills
/// half a lane, so the amplitude is a third of it); the rest is scaled from
/// its samples ([`scale_of`]).
fn default_amplitude(ch: &Channel, kind: ChannelKind, samples: &[f32]) -> f32 {
    match (kind.standard_half_lane_uv(), microvolts_per_unit(&ch.unit)) {
        (Some(half_lane_uv), Some(uv_per_unit)) if !ch.is_audio() => {
            (half_lane_uv / 3.0 / uv_per_unit) as f32
        }
        _ => scale_of(ch.is_audio(), samples),
    }
}

/// The scale of a channel from its samples: audio calls sit in
/// near-silence, so they are scaled to their peak; the rest to its robust
/// amplitude.
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
    fn eeg_eog_emg_and_ecg_in_volts_start_at_their_kinds_scale_the_rest_at_their_samples() {
        // A blink ten times the background would defeat three MADs, not this.
        let samples: Vec<f32> = (0..1000)
            .map(|i| {
                if i % 100 == 0 {
                    400.0
                } else {
                    (i % 7) as f32 - 3.0
                }
            })
            .collect();
        let eeg = Channel::new("EEG Fpz-Cz", 100.0, samples.clone());
        // Three amplitudes fill half a lane: 100 µV / 3.
        let a = default_amplitude(&eeg, ChannelKind::Eeg, &samples);
        assert!((a - 100.0 / 3.0).abs() < 1e-4, "{a}");
        let emg = Channel {
            unit: "mV".into(),
            ..eeg.clone()
        };
        let a = default_amplitude(&emg, ChannelKind::Emg, &samples);
        assert!((a - 0.05 / 3.0).abs() < 1e-7, "{a}");
        let a = default_amplitude(&eeg, ChannelKind::Ecg, &samples);
        assert!((a - 500.0 / 3.0).abs() < 1e-3, "{a}");
        // No standard scale for other kinds, nor for a unit that is no voltage.
        let robust = robust_amplitude(&samples);
        assert_eq!(
            default_amplitude(&eeg, ChannelKind::Other, &samples),
            robust
        );
        let temp = Channel {
            unit: "degC".into(),
            ..eeg
        };
        assert_eq!(default_amplitude(&temp, ChannelKind::Eeg, &samples), robust);
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
