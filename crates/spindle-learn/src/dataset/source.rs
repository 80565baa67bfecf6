//! Loading what the user gave for training: recording files, folders of
//! recordings, and labeled audio folders (`root/<class>/*.wav`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spindle_signals::recording::{
    Label, LabelSet, Recording, bad_channels, bids_recordings, is_audio_folder, is_bids_root,
    is_label_file_name, is_recording_path, labels_for_recording, read_label_file,
    read_recording_channels, scan_audio_folder, unused_events_files,
};
use spindle_signals::recording::{RecordingError, is_edf_file};

use super::{DatasetError, FileSamples, READ_ON_DEMAND_BYTES};

/// A recording with its labels, ready to be cut into windows.
#[derive(Debug, Clone)]
pub struct LoadedSource {
    /// The recording.
    pub recording: Recording,
    /// Its labels (the sidecar, else the file's annotations).
    pub labels: LabelSet,
    /// True for a file of a labeled audio folder: the whole file is one example.
    pub whole_file: bool,
    /// Where the samples are when they were left in the file (a large
    /// EDF/BDF file): `recording`'s channels then have no samples.
    pub file: Option<FileSamples>,
}

impl LoadedSource {
    /// The recording's file.
    pub fn path(&self) -> &Path {
        &self.recording.path
    }

    /// Decodes the samples of `channels` (labels) when they were left in the
    /// file, so that `recording` holds them (and only them) as for a file
    /// read whole with those channels.
    pub fn decode_whole(&mut self, channels: &[String]) -> Result<(), DatasetError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        self.recording
            .channels
            .retain(|c| channels.contains(&c.label));
        let labels: Vec<String> = self
            .recording
            .channels
            .iter()
            .map(|c| c.label.clone())
            .collect();
        let samples = file.read_whole(&labels)?;
        for (ch, samples) in self.recording.channels.iter_mut().zip(samples) {
            ch.samples = samples;
        }
        Ok(())
    }

    /// Bytes the chosen `channels` take decoded whole; 0 when they are in
    /// memory already.
    pub fn undecoded_bytes(&self, channels: &[String]) -> u64 {
        self.file.as_ref().map_or(0, |f| f.whole_bytes(channels))
    }
}

/// Reads every recording named by `paths` (files, folders of recordings, or
/// labeled audio folders), in a stable order, with the labels of `labels`
/// where it names a label file for a recording. With `channels` named, only
/// those channels are read (an EDF/BDF file decodes no other). Warnings
/// name files that hold no labels. EDF/BDF files over
/// [`READ_ON_DEMAND_BYTES`] are left in the file ([`LoadedSource::file`]).
pub fn load_sources(
    paths: &[PathBuf],
    labels: &BTreeMap<PathBuf, PathBuf>,
    channels: &[String],
    warnings: &mut Vec<String>,
) -> Result<Vec<LoadedSource>, DatasetError> {
    load_sources_on_demand(paths, labels, channels, warnings, READ_ON_DEMAND_BYTES)
}

/// [`load_sources`], leaving the samples of EDF/BDF files larger than
/// `on_demand_from_bytes` in the file (0: every EDF/BDF file).
pub fn load_sources_on_demand(
    paths: &[PathBuf],
    labels: &BTreeMap<PathBuf, PathBuf>,
    channels: &[String],
    warnings: &mut Vec<String>,
    on_demand_from_bytes: u64,
) -> Result<Vec<LoadedSource>, DatasetError> {
    let on_demand = |path: &Path| -> Result<bool, DatasetError> {
        let len = std::fs::metadata(path)
            .map_err(|e| RecordingError::io(path, e))?
            .len();
        Ok(len > on_demand_from_bytes && is_edf_file(path)?)
    };
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            if is_audio_folder(path) {
                let folder = scan_audio_folder(path)?;
                for file in folder.files {
                    let recording = read_source(&file.path, &[])?;
                    let duration = recording.duration_s();
                    let labels = LabelSet::new(vec![Label::new(0.0, duration, file.class)]);
                    out.push(LoadedSource {
                        recording,
                        labels,
                        whole_file: true,
                        file: None,
                    });
                }
            } else {
                let files = if has_no_recordings(path) && is_bids_root(path) {
                    let (files, unpaired) = bids_recordings(path);
                    warnings.extend(unpaired);
                    files
                } else {
                    recordings_in(path)?
                };
                if files.is_empty() {
                    return Err(DatasetError::Invalid(format!(
                        "{}: a BIDS folder without recordings (expected sub-*/[ses-*/]eeg/*_eeg.edf, .bdf or .vhdr)",
                        path.display()
                    )));
                }
                for file in files {
                    let lazy = on_demand(&file)?;
                    out.push(load_file(&file, None, channels, warnings, lazy)?);
                }
            }
        } else {
            let lazy = path.exists() && on_demand(path)?;
            out.push(load_file(path, labels.get(path), channels, warnings, lazy)?);
        }
    }
    Ok(out)
}

/// Reads a recording chosen earlier; a file that is gone by now (deleted,
/// moved or renamed since it was chosen) is named as such rather than as an
/// input/output error.
fn read_source(path: &Path, channels: &[String]) -> Result<Recording, DatasetError> {
    if !path.exists() {
        return Err(DatasetError::Missing(path.to_path_buf()));
    }
    read_recording_channels(path, channels).map_err(|e| {
        if path.exists() {
            e.into()
        } else {
            // Deleted while it was being read.
            DatasetError::Missing(path.to_path_buf())
        }
    })
}

/// Opens `path` on demand: header facts and annotations, the `channels`
/// wanted (all when empty) without samples, and the file to read them from.
fn open_source(path: &Path, channels: &[String]) -> Result<(Recording, FileSamples), DatasetError> {
    let (mut recording, file) = FileSamples::open(path)?;
    if !channels.is_empty() {
        recording.channels.retain(|c| channels.contains(&c.label));
    }
    Ok((recording, file))
}

fn load_file(
    path: &Path,
    label_file: Option<&PathBuf>,
    channels: &[String],
    warnings: &mut Vec<String>,
    on_demand: bool,
) -> Result<LoadedSource, DatasetError> {
    let (mut recording, file) = if on_demand {
        let (recording, file) = open_source(path, channels)?;
        (recording, Some(file))
    } else {
        (read_source(path, channels)?, None)
    };
    warnings.extend(unused_events_files(path));
    if channels.is_empty() {
        drop_bad_channels(&mut recording, warnings)?;
    }
    if recording.channels.is_empty() {
        return Err(DatasetError::Invalid(format!(
            "{}: holds annotations only, no signals to train on; give the recording it scores (its labels are found by name, or pass this file with --labels)",
            path.display()
        )));
    }
    let labels = match label_file {
        Some(file) => read_label_file(file)?,
        None => labels_for_recording(path, &recording.annotations)?.0,
    };
    if labels.is_empty() {
        warnings.push(format!(
            "{}: no labels (no events.tsv beside it and no annotations in it)",
            path.display()
        ));
    }
    Ok(LoadedSource {
        recording,
        labels,
        whole_file: false,
        file,
    })
}

/// Leaves out the channels a BIDS `channels.tsv` marks `bad` (status
/// column), saying so in `warnings`.
fn drop_bad_channels(
    recording: &mut Recording,
    warnings: &mut Vec<String>,
) -> Result<(), DatasetError> {
    let bad = bad_channels(&recording.path)?;
    if bad.is_empty() {
        return Ok(());
    }
    recording.channels.retain(|c| !bad.contains(&c.label));
    warnings.push(format!(
        "{}: not training on {} (marked bad in its channels.tsv)",
        recording.path.display(),
        bad.join(", ")
    ));
    Ok(())
}

/// True when `dir` holds no recording file directly (a BIDS root holds them
/// in subject folders).
fn has_no_recordings(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        !entries
            .filter_map(Result::ok)
            .any(|e| is_recording_path(&e.path()) && e.path().is_file())
    })
}

/// The recording files directly inside `dir`, sorted by name.
fn recordings_in(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| spindle_signals::recording::RecordingError::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_recording_path(p) && !is_label_file_name(p))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DatasetError::Invalid(format!(
            "{}: no recordings in this folder (EDF, BDF, .vhdr or WAV files, or class folders of WAV files)",
            dir.display()
        )));
    }
    Ok(files)
}
