//! Which labels belong to a recording: its `events.tsv` sidecar, else a
//! label file paired with it by name, else its own annotations.

use std::path::{Path, PathBuf};

use super::bids::{sidecar_path, spindle_sidecar_path};
use super::pairs::{paired_label_file, read_label_file};
use super::{Annotation, LabelSet, RecordingError, read_events_tsv};

/// Where the labels of a recording came from.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelSource {
    /// The `X_events.tsv` sidecar at this path.
    Sidecar(PathBuf),
    /// The annotations stored in the recording file itself (EDF+, BDF+, ...).
    FileAnnotations,
    /// A label file beside the recording that pairs with it by name (a
    /// hypnogram: see [`paired_label_file`]), or
    /// one given explicitly.
    LabelFile(PathBuf),
    /// Neither: the recording has no labels.
    None,
}

/// The labels of a recording: its sidecar (see [`sidecar_path`]) when that file
/// exists, even when empty, else a label file paired with it by name (see
/// [`paired_label_file`]), else the recording's
/// own `annotations`.
pub fn labels_for_recording(
    recording_path: &Path,
    annotations: &[Annotation],
) -> Result<(LabelSet, LabelSource), RecordingError> {
    crate::io_guard::note(recording_path);
    let sidecar = sidecar_path(recording_path);
    let exists = sidecar
        .try_exists()
        .map_err(|e| RecordingError::io(&sidecar, e))?;
    // A BIDS recording labeled by Spindle before it read BIDS names has
    // its labels in `…_eeg_events.tsv`: read that while no BIDS one exists.
    let older = spindle_sidecar_path(recording_path);
    if exists {
        let labels = read_events_tsv(&sidecar)?;
        Ok((labels, LabelSource::Sidecar(sidecar)))
    } else if older != sidecar && older.is_file() {
        let labels = read_events_tsv(&older)?;
        Ok((labels, LabelSource::Sidecar(older)))
    } else if let Some(file) = paired_label_file(recording_path) {
        let labels = read_label_file(&file)?;
        Ok((labels, LabelSource::LabelFile(file)))
    } else if annotations.is_empty() {
        Ok((LabelSet::default(), LabelSource::None))
    } else {
        Ok((
            LabelSet::from_annotations(annotations),
            LabelSource::FileAnnotations,
        ))
    }
}
