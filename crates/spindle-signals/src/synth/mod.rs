//! Teaching datasets generated deterministically from a seed: multi-subject EEG
//! with eyes-open/eyes-closed/blink/jaw-clench trials, labeled folders of
//! synthetic animal calls, shortened nights scored for sleep staging, and
//! occipital EEG whose alpha follows a reaction time (a regression lesson).
//! `spindle synth` writes them; `sample_data/` holds the committed copy the app
//! opens by default.

mod audio;
mod drowsy;
mod eeg;
mod eye;
mod night;
mod noise;

pub use audio::{AUDIO_CLASSES, synth_call};
pub use drowsy::{DROWSY_CHANNELS, DROWSY_RATE_HZ, DROWSY_WINDOW_S, synth_drowsy};
pub use eeg::{EEG_CHANNELS, EEG_CLASSES, synth_subject};
pub use night::{NIGHT_CHANNELS, NIGHT_RATE_HZ, SLEEP_EPOCH_S, SLEEP_STAGES, synth_night};

use std::path::{Path, PathBuf};

use crate::recording::{
    Channel, EdfWriteOptions, Format, LabelSet, Recording, RecordingError, Segment, StartTime,
    WavSampleFormat, sidecar_path, write_edf, write_events_tsv, write_wav,
};

/// The seed `sample_data/` was generated from.
pub const SAMPLE_SEED: u64 = 20_261_127;

/// Number of EEG recordings (subjects) written.
pub const EEG_SUBJECTS: usize = 5;

/// Length of each EEG recording, seconds.
pub const EEG_DURATION_S: f64 = 150.0;

/// Number of nights (sleepers) written.
pub const NIGHTS: usize = 3;

/// Number of drowsiness recordings (the regression lesson) written.
pub const DROWSY_SUBJECTS: usize = 5;

/// Length of each drowsiness recording, seconds.
pub const DROWSY_DURATION_S: f64 = 120.0;

/// Calls written per audio class.
pub const CALLS_PER_CLASS: usize = 40;

/// Length of each call clip, seconds.
pub const CALL_DURATION_S: f64 = 0.5;

/// Audio sample rate of the generated calls, Hz.
pub const AUDIO_RATE_HZ: u32 = 16_000;

/// What [`write_teaching_data`] wrote.
#[derive(Debug, Clone, Default)]
pub struct SynthSummary {
    /// Every file written, in the order written.
    pub files: Vec<PathBuf>,
}

/// Writes the EEG recordings (`DIR/eeg/sub-NN.edf` with `sub-NN_events.tsv`),
/// the audio calls (`DIR/audio/<class>/call-NN.wav`) and the scored nights
/// (`DIR/sleep/sub-NN_night.edf` with `sub-NN_night_events.tsv`, 30-s data
/// records), and the drowsiness recordings (`DIR/reaction_time/sub-NN.edf`
/// with `sub-NN_events.tsv`: reaction times in seconds per 2-s window, a
/// regression target) generated from `seed`. The same seed gives the same
/// bytes.
pub fn write_teaching_data(dir: &Path, seed: u64) -> Result<SynthSummary, RecordingError> {
    let mut summary = SynthSummary::default();
    let eeg_dir = dir.join("eeg");
    std::fs::create_dir_all(&eeg_dir).map_err(|e| RecordingError::io(&eeg_dir, e))?;
    for subject in 1..=EEG_SUBJECTS {
        let path = eeg_dir.join(format!("sub-{subject:02}.edf"));
        let (recording, labels) = synth_subject(subject, EEG_DURATION_S, seed);
        write_edf(&path, &recording, &EdfWriteOptions::default())?;
        let sidecar = sidecar_path(&path);
        write_events_tsv(&sidecar, &labels)?;
        summary.files.push(path);
        summary.files.push(sidecar);
    }
    for (class_index, class) in AUDIO_CLASSES.iter().enumerate() {
        let class_dir = dir.join("audio").join(class);
        std::fs::create_dir_all(&class_dir).map_err(|e| RecordingError::io(&class_dir, e))?;
        for n in 1..=CALLS_PER_CLASS {
            let path = class_dir.join(format!("call-{n:02}.wav"));
            let call_seed = seed ^ ((class_index as u64 + 1) << 32) ^ n as u64;
            let samples = synth_call(
                class_index,
                AUDIO_RATE_HZ as f64,
                CALL_DURATION_S,
                call_seed,
            );
            write_wav(&path, AUDIO_RATE_HZ, &[samples], WavSampleFormat::Pcm16)?;
            summary.files.push(path);
        }
    }
    let sleep_dir = dir.join("sleep");
    std::fs::create_dir_all(&sleep_dir).map_err(|e| RecordingError::io(&sleep_dir, e))?;
    let night_options = EdfWriteOptions {
        record_duration_s: SLEEP_EPOCH_S,
        ..EdfWriteOptions::default()
    };
    for subject in 1..=NIGHTS {
        let path = sleep_dir.join(format!("sub-{subject:02}_night.edf"));
        let (recording, labels) = synth_night(subject, seed);
        write_edf(&path, &recording, &night_options)?;
        let sidecar = sidecar_path(&path);
        write_events_tsv(&sidecar, &labels)?;
        summary.files.push(path);
        summary.files.push(sidecar);
    }
    let drowsy_dir = dir.join("reaction_time");
    std::fs::create_dir_all(&drowsy_dir).map_err(|e| RecordingError::io(&drowsy_dir, e))?;
    for subject in 1..=DROWSY_SUBJECTS {
        let path = drowsy_dir.join(format!("sub-{subject:02}.edf"));
        let (recording, labels) = synth_drowsy(subject, DROWSY_DURATION_S, seed);
        write_edf(&path, &recording, &EdfWriteOptions::default())?;
        let sidecar = sidecar_path(&path);
        write_events_tsv(&sidecar, &labels)?;
        summary.files.push(path);
        summary.files.push(sidecar);
    }
    Ok(summary)
}

/// A generated EDF+C recording of subject `subject` (1-based) starting at
/// `start`: one segment as long as the first channel, the labels as its
/// annotations.
fn subject_recording(
    subject: usize,
    start: StartTime,
    channels: Vec<Channel>,
    labels: &LabelSet,
) -> Recording {
    let duration_s = channels
        .first()
        .map_or(0.0, |c| c.samples.len() as f64 / c.rate_hz);
    Recording {
        path: Default::default(),
        format: Format::EdfPlusC,
        patient: format!("sub-{subject:02} X X X"),
        recording_id: String::new(),
        start: Some(start),
        channels,
        annotations: labels.to_annotations(),
        segments: vec![Segment {
            onset_s: 0.0,
            duration_s,
        }],
        warnings: Vec::new(),
    }
}
