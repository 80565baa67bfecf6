//! A sleep run as one more scorer: its predictions on a recording as an
//! epoch scoring of sleep stages, with each epoch's probabilities (so that
//! a reviewer can take the least confident epochs first).

use std::path::Path;

use spindle_signals::scoring::{
    EpochScoring, SleepStage, StageName, StageProbabilities, TIME_EPS_S, parse_stage,
};

use super::{
    DeviceChoice, LoadedRun, PredictedWindow, RunPaths, TrainError, load_run, predict_file,
};

/// The stages of the run in `run_dir` on the recording at `recording`
/// (see [`predict_stages`]).
pub fn run_stages(
    run_dir: &Path,
    recording: &Path,
    device: DeviceChoice,
) -> Result<EpochScoring, TrainError> {
    let run = load_run(run_dir, device)?;
    predict_stages(&run, &RunPaths::new(run_dir).run_json(), recording)
}

/// The run's predictions on `recording` as an epoch scoring: epochs as long
/// as the run's windows, starting at its first window; a window that starts
/// a whole number of epochs after the first scores its epoch (overlapping
/// windows between them are left out), with its probabilities. `run_json`
/// names the run in errors: a run whose classes are not all sleep stages, or
/// a recording too short for one window.
pub fn predict_stages(
    run: &LoadedRun,
    run_json: &Path,
    recording: &Path,
) -> Result<EpochScoring, TrainError> {
    let classes = stage_classes(&run.info.classes, run.info.regression)
        .map_err(|reason| TrainError::run_folder(run_json, reason))?;
    let windows = predict_file(run, recording)?;
    if windows.is_empty() {
        let seconds = run.info.window_len as f64 / run.info.rate_hz;
        return Err(TrainError::Dataset(crate::dataset::DatasetError::Invalid(
            format!(
                "{}: too short for one {seconds}-s window of the run",
                recording.display()
            ),
        )));
    }
    Ok(scoring_from_windows(&classes, &windows))
}

/// The stage of each class of a run, or why the run is not a sleep stager.
pub fn stage_classes(classes: &[String], regression: bool) -> Result<Vec<SleepStage>, String> {
    if regression {
        return Err("the run predicts a number, not sleep stages".into());
    }
    let stages: Vec<Option<SleepStage>> = classes
        .iter()
        .map(|c| match parse_stage(c) {
            Some(StageName::Stage(s)) => Some(s),
            _ => None,
        })
        .collect();
    let others: Vec<&str> = classes
        .iter()
        .zip(&stages)
        .filter(|(_, s)| s.is_none())
        .map(|(c, _)| c.as_str())
        .collect();
    if !others.is_empty() {
        return Err(format!(
            "the run's classes are not all sleep stages ({} are not)",
            others.join(", ")
        ));
    }
    Ok(stages.into_iter().flatten().collect())
}

/// The scoring of predicted windows whose classes are `classes` (in the
/// run's order): see [`predict_stages`].
pub fn scoring_from_windows(classes: &[SleepStage], windows: &[PredictedWindow]) -> EpochScoring {
    let Some(first) = windows.first() else {
        return EpochScoring::new(30.0, 0.0, Vec::new());
    };
    let (start_s, epoch_s) = (first.onset_s, first.duration_s);
    let mut stages = Vec::new();
    let mut rows = Vec::new();
    for w in windows {
        let k = ((w.onset_s - start_s) / epoch_s).round();
        if ((w.onset_s - start_s) - k * epoch_s).abs() > TIME_EPS_S || k < 0.0 {
            continue;
        }
        let k = k as usize;
        if stages.len() <= k {
            stages.resize(k + 1, None);
            rows.resize(k + 1, Vec::new());
        }
        let best = w
            .probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        stages[k] = best.and_then(|i| classes.get(i).copied());
        rows[k].clone_from(&w.probabilities);
    }
    EpochScoring {
        epoch_s,
        start_s,
        stages,
        probabilities: Some(StageProbabilities {
            classes: classes.to_vec(),
            per_epoch: rows,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SleepStage::*;

    fn window(onset_s: f64, p: [f32; 3]) -> PredictedWindow {
        PredictedWindow {
            onset_s,
            duration_s: 30.0,
            label: String::new(),
            probabilities: p.to_vec(),
        }
    }

    #[test]
    fn windows_on_the_epoch_grid_become_epochs_with_their_probabilities() {
        let classes = stage_classes(&["N2".into(), "REM".into(), "W".into()], false).unwrap();
        assert_eq!(classes, vec![N2, Rem, W]);
        let windows = [
            window(0.0, [0.1, 0.1, 0.8]),
            window(15.0, [0.9, 0.05, 0.05]), // between epochs: left out
            window(30.0, [0.5, 0.3, 0.2]),
            window(90.0, [0.2, 0.7, 0.1]),
        ];
        let s = scoring_from_windows(&classes, &windows);
        assert_eq!((s.start_s, s.epoch_s), (0.0, 30.0));
        assert_eq!(s.stages, vec![Some(W), Some(N2), None, Some(Rem)]);
        assert_eq!(s.confidence(1), Some(0.5));
        assert_eq!(s.confidence(2), None);
        assert_eq!(
            spindle_signals::scoring::review_order(&s),
            vec![1, 3, 0],
            "least confident first"
        );
    }

    #[test]
    fn runs_of_other_classes_are_not_sleep_stagers() {
        let err = stage_classes(&["blink".into(), "W".into(), "jaw".into()], false).unwrap_err();
        assert_eq!(
            err,
            "the run's classes are not all sleep stages (blink, jaw are not)"
        );
        assert!(stage_classes(&[], true).is_err());
    }
}
