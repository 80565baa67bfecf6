//! Labels suggested by a run's model for a recording: the run applied to
//! the recording, each window it is sure enough of offered as a label that
//! overlaps none of the recording's own.

use std::path::Path;

use spindle_signals::labeling::{ClassifiedWindow, Suggestions};
use spindle_signals::recording::{LabelSet, labels_for_recording};

use crate::train::{DeviceChoice, load_run, predict_file};

/// Windows less sure than this are not suggested.
pub const MIN_SUGGESTION_CONFIDENCE: f32 = 0.5;

/// Runs the model of `run_dir` over `file` (on the CPU) and makes
/// suggestions of its windows, none overlapping `existing` (`None`: the
/// recording's labels as read from its files). Errors name the file or the
/// run folder.
pub fn suggest_labels(
    run_dir: &Path,
    file: &Path,
    existing: Option<&LabelSet>,
) -> Result<Suggestions, String> {
    let existing = match existing {
        Some(l) => l.clone(),
        None => labels_for_recording(file, &[])
            .map(|(l, _)| l)
            .map_err(|e| e.to_string())?,
    };
    let run = load_run(run_dir, DeviceChoice::Cpu).map_err(|e| e.to_string())?;
    if run.info.regression {
        return Err(format!(
            "{}: a regression run predicts numbers, not labels",
            run_dir.display()
        ));
    }
    let windows: Vec<ClassifiedWindow> = predict_file(&run, file)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|w| ClassifiedWindow {
            onset_s: w.onset_s,
            duration_s: w.duration_s,
            confidence: w.probabilities.iter().copied().fold(0.0, f32::max),
            class: w.label,
        })
        .collect();
    let name = run_dir.file_name().map_or_else(
        || run_dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Suggestions::from_windows(
        name,
        &windows,
        &existing,
        MIN_SUGGESTION_CONFIDENCE,
    ))
}
