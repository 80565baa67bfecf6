//! Cross-validation folds: which recordings, people or blocks of trials each
//! fold tests on, chosen so that nothing of a fold's test data is trained on.
//!
//! With at least K recordings a fold tests on whole recordings. With fewer,
//! it tests on one contiguous block of the trials of every class (the trials
//! in order of recording and onset, each class cut into K blocks), and
//! [`hold_out_trials`] drops the training windows that overlap a test trial or
//! a test window, so that no window straddles a train/test boundary.
//! Leave-one-subject-out tests on all recordings of one person (the BIDS
//! `sub-` entity of the file name, see [`subject_of`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use spindle_signals::rng::Rng;

use super::{DatasetConfig, LoadedSource, SplitName, Trial, WindowRef, median_duration_s};

/// How to cross-validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvScheme {
    /// K folds: whole recordings when there are at least K, else blocks of trials.
    Folds(usize),
    /// One fold per subject, testing on all of that person's recordings.
    LeaveOneSubjectOut,
}

impl std::str::FromStr for CvScheme {
    type Err = String;

    /// A whole number of folds, or `loso`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("loso") {
            return Ok(CvScheme::LeaveOneSubjectOut);
        }
        s.parse().map(CvScheme::Folds).map_err(|_| {
            format!("{s:?} is neither a number of folds nor `loso` (leave one subject out)")
        })
    }
}

impl std::fmt::Display for CvScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CvScheme::Folds(k) => write!(f, "{k}"),
            CvScheme::LeaveOneSubjectOut => write!(f, "loso"),
        }
    }
}

/// What the folds of a plan hold out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoldKind {
    /// Whole recordings.
    Recordings,
    /// Contiguous blocks of the trials of each class, overlapping windows purged.
    TrialBlocks,
    /// All recordings of one subject.
    Subjects,
    /// Whole files of a labeled audio folder (each file one example), dealt
    /// to the folds class by class.
    Files,
}

impl FoldKind {
    /// What a fold tests on, in words.
    pub fn describe(self) -> &'static str {
        match self {
            FoldKind::Recordings => "whole recordings",
            FoldKind::TrialBlocks => {
                "contiguous blocks of trials of each class (overlapping training windows dropped)"
            }
            FoldKind::Subjects => "all recordings of one subject",
            FoldKind::Files => "whole files of each class (labeled audio folders)",
        }
    }
}

/// One fold: what it tests on. It trains on everything else.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fold {
    /// 1-based number of the fold.
    pub number: usize,
    /// The subject tested on (leave-one-subject-out folds).
    pub subject: Option<String>,
    /// Recordings tested on whole (recording and subject folds; empty for trial blocks).
    pub test_files: Vec<PathBuf>,
    /// Recordings trained on: all others (for trial blocks: all of them).
    pub train_files: Vec<PathBuf>,
    /// Trials tested on (trial-block folds; empty otherwise), by recording and onset.
    pub test_trials: Vec<Trial>,
}

/// The folds of a cross-validation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FoldPlan {
    /// What the folds hold out.
    pub kind: FoldKind,
    /// The folds, numbered from 1.
    pub folds: Vec<Fold>,
}

/// Why no folds could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FoldError {
    /// Fewer than two folds were asked for.
    #[error("cross-validation needs at least 2 folds, got {k}")]
    TooFewFolds {
        /// The number asked for.
        k: usize,
    },
    /// No recordings were given.
    #[error("no recordings to cross-validate")]
    NoRecordings,
    /// Trial blocks need labeled trials of two classes or more.
    #[error(
        "with fewer recordings than folds, folds are blocks of labeled trials, but the labels give {classes} class(es) with a trial as long as a window; at least 2 are needed"
    )]
    TooFewClasses {
        /// Classes with at least one trial.
        classes: usize,
    },
    /// The rarest class has fewer trials than there are folds.
    #[error(
        "{k} folds of trial blocks need at least {k} trials of every class, but class {class:?} has {trials}; ask for at most {trials} folds or give at least {k} recordings"
    )]
    TooFewTrials {
        /// The number of folds asked for.
        k: usize,
        /// The rarest class.
        class: String,
        /// Its trials.
        trials: usize,
    },
    /// Leave-one-subject-out found only one subject.
    #[error(
        "leave-one-subject-out needs recordings of at least 2 subjects, but every recording is of subject {subject:?} (the sub- part of BIDS file names such as sub-01_task-rest_eeg.edf)"
    )]
    OneSubject {
        /// The only subject.
        subject: String,
    },
}

/// The subject of a recording: the label of the BIDS `sub-` entity of its
/// file name (`sub-01_ses-2_task-x_eeg.edf` -> `01`), else the path itself
/// (every recording its own subject).
pub fn subject_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|stem| {
            stem.split('_')
                .filter_map(|part| part.strip_prefix("sub-"))
                .find(|label| !label.is_empty())
        })
        .map_or_else(|| path.display().to_string(), str::to_string)
}

/// The trials of `sources` as a dataset built with `config` sees them: label
/// texts merged, only the chosen classes, and only trials at least one window
/// long (`config.window_s`, else the median labeled duration), in order of
/// source and onset.
pub fn trials_of(sources: &[LoadedSource], config: &DatasetConfig) -> Vec<Trial> {
    let window_s = config
        .window_s
        .or_else(|| median_duration_s(sources.iter().map(|s| &s.labels)))
        .unwrap_or(0.0);
    let mut trials = Vec::new();
    for s in sources {
        let mut own: Vec<Trial> = s
            .labels
            .labels
            .iter()
            .map(|l| Trial {
                file: s.path().to_path_buf(),
                onset_s: l.onset_s,
                duration_s: l.duration_s,
                class: config
                    .merge
                    .get(&l.trial_type)
                    .unwrap_or(&l.trial_type)
                    .clone(),
            })
            .filter(|t| t.duration_s > 0.0 && t.duration_s + 1e-3 >= window_s)
            .filter(|t| config.classes.is_empty() || config.classes.contains(&t.class))
            .collect();
        own.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        trials.extend(own);
    }
    trials
}

/// The folds of `scheme` over the recordings `files` with their `trials`
/// (see [`trials_of`]). Recording folds are dealt from the recordings
/// shuffled with `seed`; trial blocks and subject folds do not depend on it.
pub fn plan_folds(
    files: &[PathBuf],
    trials: &[Trial],
    scheme: CvScheme,
    seed: u64,
) -> Result<FoldPlan, FoldError> {
    if files.is_empty() {
        return Err(FoldError::NoRecordings);
    }
    match scheme {
        CvScheme::Folds(k) if k < 2 => Err(FoldError::TooFewFolds { k }),
        CvScheme::Folds(k) if files.len() >= k => Ok(recording_folds(files, k, seed)),
        CvScheme::Folds(k) => trial_block_folds(files, trials, k),
        CvScheme::LeaveOneSubjectOut => subject_folds(files),
    }
}

/// One trial per label of the whole-file sources (labeled audio folders'
/// files: one label each, their folder's class), with `config`'s merges and
/// class choice: what [`plan_file_folds`] deals.
pub fn file_trials(sources: &[LoadedSource], config: &DatasetConfig) -> Vec<Trial> {
    sources
        .iter()
        .filter(|s| s.whole_file)
        .flat_map(|s| {
            s.labels.labels.iter().map(|l| Trial {
                file: s.path().to_path_buf(),
                onset_s: l.onset_s,
                duration_s: l.duration_s,
                class: config
                    .merge
                    .get(&l.trial_type)
                    .unwrap_or(&l.trial_type)
                    .clone(),
            })
        })
        .filter(|t| config.classes.is_empty() || config.classes.contains(&t.class))
        .collect()
}

/// The folds of a labeled audio folder's files, one trial per file
/// (`trials`: file, whole length, class): each class's files shuffled with
/// `seed` and dealt in turn to the `k` folds, so every fold tests on about
/// the same share of each class. A fold's `test_trials` are its files'
/// trials (the folder is trained on as a whole, less them); `test_files`
/// names the same files.
pub fn plan_file_folds(trials: &[Trial], k: usize, seed: u64) -> Result<FoldPlan, FoldError> {
    if trials.is_empty() {
        return Err(FoldError::NoRecordings);
    }
    if k < 2 {
        return Err(FoldError::TooFewFolds { k });
    }
    let mut by_class = trials_by_class(trials, k)?;
    let mut folds: Vec<Fold> = (0..k)
        .map(|j| Fold {
            number: j + 1,
            subject: None,
            test_files: Vec::new(),
            train_files: Vec::new(),
            test_trials: Vec::new(),
        })
        .collect();
    let mut rng = Rng::new(seed);
    let mut next = 0;
    for items in by_class.values_mut() {
        items.sort_by(|a, b| a.file.cmp(&b.file));
        rng.shuffle(items);
        for t in items.iter() {
            folds[next % k].test_trials.push((*t).clone());
            next += 1;
        }
    }
    for fold in &mut folds {
        fold.test_trials.sort_by(|a, b| a.file.cmp(&b.file));
        fold.test_files = fold.test_trials.iter().map(|t| t.file.clone()).collect();
    }
    Ok(FoldPlan {
        kind: FoldKind::Files,
        folds,
    })
}

/// `trials` grouped by class, checked to hold at least two classes and at
/// least `k` trials of each (so that every fold tests on each class).
fn trials_by_class(trials: &[Trial], k: usize) -> Result<BTreeMap<&str, Vec<&Trial>>, FoldError> {
    let mut by_class: BTreeMap<&str, Vec<&Trial>> = BTreeMap::new();
    for t in trials {
        by_class.entry(t.class.as_str()).or_default().push(t);
    }
    if by_class.len() < 2 {
        return Err(FoldError::TooFewClasses {
            classes: by_class.len(),
        });
    }
    if let Some((class, items)) = by_class
        .iter()
        .min_by_key(|(_, items)| items.len())
        .filter(|(_, items)| items.len() < k)
    {
        return Err(FoldError::TooFewTrials {
            k,
            class: (*class).to_string(),
            trials: items.len(),
        });
    }
    Ok(by_class)
}

/// A fold testing on `test` (indices into `files`) and training on the rest.
fn whole_file_fold(number: usize, files: &[PathBuf], test: &BTreeSet<usize>) -> Fold {
    let (test_files, train_files): (Vec<_>, Vec<_>) = files
        .iter()
        .enumerate()
        .partition(|(i, _)| test.contains(i));
    Fold {
        number,
        subject: None,
        test_files: test_files.into_iter().map(|(_, f)| f.clone()).collect(),
        train_files: train_files.into_iter().map(|(_, f)| f.clone()).collect(),
        test_trials: Vec::new(),
    }
}

fn recording_folds(files: &[PathBuf], k: usize, seed: u64) -> FoldPlan {
    let mut order: Vec<usize> = (0..files.len()).collect();
    Rng::new(seed).shuffle(&mut order);
    let folds = (0..k)
        .map(|j| {
            let test: BTreeSet<usize> = order.iter().skip(j).step_by(k).copied().collect();
            whole_file_fold(j + 1, files, &test)
        })
        .collect();
    FoldPlan {
        kind: FoldKind::Recordings,
        folds,
    }
}

fn trial_block_folds(files: &[PathBuf], trials: &[Trial], k: usize) -> Result<FoldPlan, FoldError> {
    let file_index = |t: &Trial| {
        files
            .iter()
            .position(|f| f == &t.file)
            .unwrap_or(usize::MAX)
    };
    let mut by_class = trials_by_class(trials, k)?;
    let mut folds: Vec<Fold> = (0..k)
        .map(|j| Fold {
            number: j + 1,
            subject: None,
            test_files: Vec::new(),
            train_files: files.to_vec(),
            test_trials: Vec::new(),
        })
        .collect();
    for items in by_class.values_mut() {
        items.sort_by(|a, b| {
            file_index(a)
                .cmp(&file_index(b))
                .then(a.onset_s.total_cmp(&b.onset_s))
        });
        // K contiguous blocks; the first n % K are one trial longer.
        let (base, extra) = (items.len() / k, items.len() % k);
        let mut start = 0;
        for (j, fold) in folds.iter_mut().enumerate() {
            let len = base + usize::from(j < extra);
            fold.test_trials
                .extend(items[start..start + len].iter().map(|t| (*t).clone()));
            start += len;
        }
    }
    for fold in &mut folds {
        fold.test_trials.sort_by(|a, b| {
            file_index(a)
                .cmp(&file_index(b))
                .then(a.onset_s.total_cmp(&b.onset_s))
                .then(a.class.cmp(&b.class))
        });
    }
    Ok(FoldPlan {
        kind: FoldKind::TrialBlocks,
        folds,
    })
}

fn subject_folds(files: &[PathBuf]) -> Result<FoldPlan, FoldError> {
    let mut by_subject: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        by_subject.entry(subject_of(f)).or_default().insert(i);
    }
    if by_subject.len() < 2 {
        let subject = by_subject.into_keys().next().unwrap_or_default();
        return Err(FoldError::OneSubject { subject });
    }
    let folds = by_subject
        .into_iter()
        .enumerate()
        .map(|(j, (subject, test))| Fold {
            subject: Some(subject),
            ..whole_file_fold(j + 1, files, &test)
        })
        .collect();
    Ok(FoldPlan {
        kind: FoldKind::Subjects,
        folds,
    })
}

/// Moves the training windows that lie in one of `test_trials` (same file
/// and class, onset inside the trial) to the test split, and drops (sets to
/// `None`) every other training window of those files that overlaps a test
/// trial in time or a test window in samples. `files[w.source]` is the file
/// of window `w`; `window_len` is in samples at `rate_hz`. Fails with the
/// file of a test trial that is not among `files`.
pub fn hold_out_trials(
    windows: &[WindowRef],
    files: &[&Path],
    test_trials: &[Trial],
    window_len: usize,
    rate_hz: f64,
    splits: &mut [Option<SplitName>],
) -> Result<(), PathBuf> {
    let mut by_source: BTreeMap<usize, Vec<&Trial>> = BTreeMap::new();
    for t in test_trials {
        let Some(source) = files.iter().position(|f| *f == t.file) else {
            return Err(t.file.clone());
        };
        by_source.entry(source).or_default().push(t);
    }
    let tolerance_s = 0.5 / rate_hz;
    let window_s = window_len as f64 / rate_hz;
    let mut test_starts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, w) in windows.iter().enumerate() {
        if splits[i] != Some(SplitName::Train) {
            continue;
        }
        let Some(trials) = by_source.get(&w.source) else {
            continue;
        };
        let inside = trials.iter().any(|t| {
            t.class == w.class
                && w.onset_s >= t.onset_s - tolerance_s
                && w.onset_s < t.onset_s + t.duration_s
        });
        if inside {
            splits[i] = Some(SplitName::Test);
            test_starts.entry(w.source).or_default().push(w.start);
        }
    }
    for starts in test_starts.values_mut() {
        starts.sort_unstable();
    }
    for (i, w) in windows.iter().enumerate() {
        if splits[i] != Some(SplitName::Train) {
            continue;
        }
        let Some(trials) = by_source.get(&w.source) else {
            continue;
        };
        let overlaps_trial = trials.iter().any(|t| {
            w.onset_s < t.onset_s + t.duration_s - tolerance_s
                && w.onset_s + window_s > t.onset_s + tolerance_s
        });
        // Overlap in samples when |start - other| < window_len.
        let overlaps_window = test_starts.get(&w.source).is_some_and(|starts| {
            let lo = w.start.saturating_sub(window_len.saturating_sub(1));
            let first = starts.partition_point(|&s| s < lo);
            starts.get(first).is_some_and(|&s| s < w.start + window_len)
        });
        if overlaps_trial || overlaps_window {
            splits[i] = None;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    fn trial(file: &str, onset_s: f64, class: &str) -> Trial {
        Trial {
            file: file.into(),
            onset_s,
            duration_s: 2.0,
            class: class.into(),
        }
    }

    /// One recording, `per_class` trials of classes a and b alternating every 3 s.
    fn alternating(per_class: usize) -> Vec<Trial> {
        (0..2 * per_class)
            .map(|i| trial("r.edf", i as f64 * 3.0, if i % 2 == 0 { "a" } else { "b" }))
            .collect()
    }

    #[test]
    fn schemes_parse_and_print() {
        assert_eq!("5".parse(), Ok(CvScheme::Folds(5)));
        assert_eq!("LOSO".parse(), Ok(CvScheme::LeaveOneSubjectOut));
        assert!("five".parse::<CvScheme>().is_err());
        assert_eq!(CvScheme::Folds(3).to_string(), "3");
        assert_eq!(CvScheme::LeaveOneSubjectOut.to_string(), "loso");
    }

    #[test]
    fn recording_folds_test_every_recording_exactly_once() {
        let files = paths(&[
            "a.edf", "b.edf", "c.edf", "d.edf", "e.edf", "f.edf", "g.edf",
        ]);
        let plan = plan_folds(&files, &[], CvScheme::Folds(3), 7).unwrap();
        assert_eq!(plan.kind, FoldKind::Recordings);
        assert_eq!(plan.folds.len(), 3);
        let mut tested: Vec<PathBuf> = Vec::new();
        for (j, fold) in plan.folds.iter().enumerate() {
            assert_eq!(fold.number, j + 1);
            assert!((2..=3).contains(&fold.test_files.len()), "{fold:?}");
            assert_eq!(fold.test_files.len() + fold.train_files.len(), files.len());
            assert!(
                fold.test_files
                    .iter()
                    .all(|f| !fold.train_files.contains(f))
            );
            assert!(fold.test_trials.is_empty());
            tested.extend(fold.test_files.iter().cloned());
        }
        tested.sort();
        assert_eq!(tested, files);
        // The same seed gives the same folds; another seed deals differently.
        assert_eq!(
            plan_folds(&files, &[], CvScheme::Folds(3), 7).unwrap(),
            plan
        );
        let others: Vec<_> = (0..10)
            .map(|seed| plan_folds(&files, &[], CvScheme::Folds(3), seed).unwrap())
            .collect();
        assert!(others.iter().any(|p| p != &plan));
    }

    #[test]
    fn fewer_recordings_than_folds_give_contiguous_trial_blocks_per_class() {
        let trials = alternating(10);
        let plan = plan_folds(&paths(&["r.edf"]), &trials, CvScheme::Folds(3), 0).unwrap();
        assert_eq!(plan.kind, FoldKind::TrialBlocks);
        let mut tested = Vec::new();
        for fold in &plan.folds {
            assert!(fold.test_files.is_empty());
            assert_eq!(fold.train_files, paths(&["r.edf"]));
            for class in ["a", "b"] {
                let onsets: Vec<f64> = fold
                    .test_trials
                    .iter()
                    .filter(|t| t.class == class)
                    .map(|t| t.onset_s)
                    .collect();
                // Every class in every fold, 10 trials in blocks of 4, 3, 3.
                let want = if fold.number == 1 { 4 } else { 3 };
                assert_eq!(onsets.len(), want, "fold {} class {class}", fold.number);
                // Contiguous: consecutive trials of the class (6 s apart).
                assert!(onsets.windows(2).all(|p| p[1] - p[0] == 6.0), "{onsets:?}");
            }
            tested.extend(fold.test_trials.iter().cloned());
        }
        tested.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        assert_eq!(tested, trials, "every trial is tested exactly once");
    }

    #[test]
    fn trial_blocks_keep_recording_order_across_files() {
        // Two recordings, three folds: blocks follow recording, then onset.
        let mut trials = Vec::new();
        for file in ["x.edf", "y.edf"] {
            for i in 0..6 {
                trials.push(trial(
                    file,
                    i as f64 * 3.0,
                    if i % 2 == 0 { "a" } else { "b" },
                ));
            }
        }
        let files = paths(&["x.edf", "y.edf"]);
        let plan = plan_folds(&files, &trials, CvScheme::Folds(3), 0).unwrap();
        let first: Vec<(&Path, f64)> = plan.folds[0]
            .test_trials
            .iter()
            .filter(|t| t.class == "a")
            .map(|t| (t.file.as_path(), t.onset_s))
            .collect();
        assert_eq!(
            first,
            vec![(Path::new("x.edf"), 0.0), (Path::new("x.edf"), 6.0)]
        );
        let last: Vec<&Path> = plan.folds[2]
            .test_trials
            .iter()
            .map(|t| t.file.as_path())
            .collect();
        assert!(last.iter().all(|f| *f == Path::new("y.edf")), "{last:?}");
    }

    #[test]
    fn windows_straddling_a_block_boundary_are_purged() {
        // Trials of 2 s every 3 s; windows of 1 s every 0.5 s at 10 Hz inside
        // each trial, plus windows of a "rest" class that start in the gap
        // after each trial and reach 0.5 s into the next one.
        let trials = alternating(6);
        let plan = plan_folds(&paths(&["r.edf"]), &trials, CvScheme::Folds(3), 0).unwrap();
        let rate_hz = 10.0;
        let window_len = 10;
        let mut windows = Vec::new();
        for t in &trials {
            for k in 0..3 {
                let onset_s = t.onset_s + k as f64 * 0.5;
                windows.push(WindowRef {
                    source: 0,
                    start: (onset_s * rate_hz) as usize,
                    onset_s,
                    class: t.class.clone(),
                });
            }
            let onset_s = t.onset_s + 2.5;
            windows.push(WindowRef {
                source: 0,
                start: (onset_s * rate_hz) as usize,
                onset_s,
                class: "rest".into(),
            });
        }
        let fold = &plan.folds[1];
        let mut splits = vec![Some(SplitName::Train); windows.len()];
        let file = Path::new("r.edf");
        hold_out_trials(
            &windows,
            &[file],
            &fold.test_trials,
            window_len,
            rate_hz,
            &mut splits,
        )
        .unwrap();
        let test: Vec<&WindowRef> = windows
            .iter()
            .zip(&splits)
            .filter(|(_, s)| **s == Some(SplitName::Test))
            .map(|(w, _)| w)
            .collect();
        assert_eq!(test.len(), 3 * fold.test_trials.len());
        assert!(test.iter().all(|w| w.class != "rest"));
        // No training window overlaps a test window or a test trial.
        for (w, s) in windows.iter().zip(&splits) {
            if *s != Some(SplitName::Train) {
                continue;
            }
            for t in &test {
                assert!(
                    w.start.abs_diff(t.start) >= window_len,
                    "{w:?} overlaps {t:?}"
                );
            }
            for t in &fold.test_trials {
                let end = w.onset_s + window_len as f64 / rate_hz;
                assert!(end <= t.onset_s + 1e-9 || w.onset_s >= t.onset_s + t.duration_s);
            }
        }
        // The "rest" windows reaching into a test trial were dropped, and only those.
        let purged: Vec<f64> = windows
            .iter()
            .zip(&splits)
            .filter(|(_, s)| s.is_none())
            .map(|(w, _)| w.onset_s)
            .collect();
        let test_onsets: Vec<f64> = fold.test_trials.iter().map(|t| t.onset_s).collect();
        assert_eq!(purged.len(), test_onsets.len());
        for onset in &purged {
            assert!(
                test_onsets.iter().any(|t| (onset - (t - 0.5)).abs() < 1e-9),
                "{onset} was purged"
            );
        }
        // A test trial in a file the dataset lacks is an error naming it.
        let stray = [trial("other.edf", 0.0, "a")];
        let err = hold_out_trials(&windows, &[file], &stray, window_len, rate_hz, &mut splits);
        assert_eq!(err, Err(PathBuf::from("other.edf")));
    }

    #[test]
    fn loso_groups_recordings_by_the_bids_subject() {
        assert_eq!(subject_of(Path::new("d/sub-01_ses-2_task-x_eeg.edf")), "01");
        assert_eq!(subject_of(Path::new("sub-07.edf")), "07");
        assert_eq!(subject_of(Path::new("d/night1.edf")), "d/night1.edf");
        let files = paths(&[
            "sub-02_ses-1_eeg.edf",
            "sub-01_ses-1_eeg.edf",
            "sub-02_ses-2_eeg.edf",
            "sub-01_ses-2_eeg.edf",
            "sub-03_ses-1_eeg.edf",
        ]);
        let plan = plan_folds(&files, &[], CvScheme::LeaveOneSubjectOut, 0).unwrap();
        assert_eq!(plan.kind, FoldKind::Subjects);
        let got: Vec<(Option<&str>, Vec<PathBuf>)> = plan
            .folds
            .iter()
            .map(|f| (f.subject.as_deref(), f.test_files.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some("01"),
                    paths(&["sub-01_ses-1_eeg.edf", "sub-01_ses-2_eeg.edf"])
                ),
                (
                    Some("02"),
                    paths(&["sub-02_ses-1_eeg.edf", "sub-02_ses-2_eeg.edf"])
                ),
                (Some("03"), paths(&["sub-03_ses-1_eeg.edf"])),
            ]
        );
        for f in &plan.folds {
            assert_eq!(f.train_files.len() + f.test_files.len(), files.len());
        }
    }

    #[test]
    fn impossible_plans_say_why() {
        let one = paths(&["r.edf"]);
        let trials = alternating(4);
        assert_eq!(
            plan_folds(&one, &trials, CvScheme::Folds(1), 0),
            Err(FoldError::TooFewFolds { k: 1 })
        );
        assert_eq!(
            plan_folds(&[], &trials, CvScheme::Folds(3), 0),
            Err(FoldError::NoRecordings)
        );
        let mut rare = trials.clone();
        rare.retain(|t| t.class == "a" || t.onset_s < 10.0);
        let err = plan_folds(&one, &rare, CvScheme::Folds(3), 0).unwrap_err();
        assert_eq!(
            err,
            FoldError::TooFewTrials {
                k: 3,
                class: "b".into(),
                trials: 2
            }
        );
        assert!(err.to_string().contains("at most 2 folds"), "{err}");
        let only_a: Vec<Trial> = trials.iter().filter(|t| t.class == "a").cloned().collect();
        assert_eq!(
            plan_folds(&one, &only_a, CvScheme::Folds(2), 0),
            Err(FoldError::TooFewClasses { classes: 1 })
        );
        let same = paths(&["sub-01_ses-1_eeg.edf", "sub-01_ses-2_eeg.edf"]);
        let err = plan_folds(&same, &[], CvScheme::LeaveOneSubjectOut, 0).unwrap_err();
        assert_eq!(
            err,
            FoldError::OneSubject {
                subject: "01".into()
            }
        );
        assert!(err.to_string().contains("at least 2 subjects"), "{err}");
    }

    #[test]
    fn audio_files_are_dealt_to_folds_class_by_class() {
        let trial = |name: &str, class: &str| Trial {
            file: PathBuf::from(format!("/calls/{class}/{name}.wav")),
            onset_s: 0.0,
            duration_s: 1.0,
            class: class.into(),
        };
        let mut trials = Vec::new();
        for i in 0..7 {
            trials.push(trial(&format!("a{i}"), "trill"));
            trials.push(trial(&format!("b{i}"), "chirp"));
        }
        let plan = plan_file_folds(&trials, 3, 5).unwrap();
        assert_eq!(plan.kind, FoldKind::Files);
        assert_eq!(plan.folds.len(), 3);
        let mut tested: Vec<PathBuf> = Vec::new();
        for fold in &plan.folds {
            let files: Vec<PathBuf> = fold.test_trials.iter().map(|t| t.file.clone()).collect();
            assert_eq!(fold.test_files, files);
            for class in ["trill", "chirp"] {
                let n = fold.test_trials.iter().filter(|t| t.class == class).count();
                assert!((2..=3).contains(&n), "fold {} has {n} {class}", fold.number);
            }
            tested.extend(files);
        }
        tested.sort();
        let mut all: Vec<PathBuf> = trials.iter().map(|t| t.file.clone()).collect();
        all.sort();
        assert_eq!(tested, all, "every file tested exactly once");
        assert_eq!(plan_file_folds(&trials, 3, 5).unwrap(), plan);
        assert!(matches!(
            plan_file_folds(&trials[..4], 3, 5),
            Err(FoldError::TooFewTrials { .. })
        ));
        assert!(matches!(
            plan_file_folds(&trials, 1, 5),
            Err(FoldError::TooFewFolds { .. })
        ));
    }
}
