//! Cross-validation on its own thread: the folds of a [`CvScheme`] over the
//! training recordings, each trained in order as an ordinary run folder
//! `OUT/fold-N`, then `OUT/cv.json` ([`CvSummary`]); typed [`CvEvent`]s
//! over a bounded channel, a cancel flag, dropping the handle cancels.
//! `spindle train --cv` and the app both run it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::train_run::{RunEnd, drive};
use super::{TrainJobSpec, catch_panic};
use crate::dataset::{
    CvScheme, DatasetConfig, Fold, FoldKind, FoldPlan, LoadedSource, file_trials, load_sources,
    plan_file_folds, plan_folds, trials_of,
};
use crate::runs::{CvFold, CvSummary};
use crate::train::{DataRoles, Event, Outcome, TrainOptions};

/// Events buffered before a fold's batch events are dropped (the others
/// wait for room).
const EVENT_CAPACITY: usize = 256;

/// What to cross-validate.
#[derive(Debug, Clone)]
pub struct CvJobSpec {
    /// `train`: the recordings the folds are cut from; `validation`:
    /// recordings every fold validates on (empty: held out of each fold's
    /// training recordings); `test` must be empty (each fold's test set
    /// comes from `train`); `labels` as for training.
    pub data: DataRoles,
    /// Every training setting; `seed` also deals recordings into folds.
    pub options: TrainOptions,
    /// How many folds, or one per subject.
    pub scheme: CvScheme,
    /// The cross-validation folder (created): `fold-N` run folders and
    /// `cv.json`; with `new_folder`, the runs folder a new one is made in.
    pub out: PathBuf,
    /// Fine-tune every fold from this run folder's weights.
    pub init_from: Option<PathBuf>,
    /// When set, the job makes a new folder in `out` whose name ends with
    /// this ([`crate::runs::create_run_dir`]) on its own thread, after the
    /// folds are planned, and cross-validates into it (the caller's thread,
    /// a GUI's, never touches the disk); [`CvEvent::Planned`] says which.
    pub new_folder: Option<String>,
}

impl CvJobSpec {
    /// The same cross-validation into a new folder of `runs_dir` whose
    /// name ends with `name`, made by the job (see `new_folder`).
    #[must_use]
    pub fn in_new_run_folder(self, runs_dir: PathBuf, name: String) -> Self {
        Self {
            out: runs_dir,
            new_folder: Some(name),
            ..self
        }
    }
}

/// What a cross-validation reports, in this order: `Planned`, then per fold
/// `FoldStarted`, its `Training` events and `FoldFinished`; then one of
/// `Finished`, `Failed` or `Cancelled`.
#[derive(Debug, Clone)]
pub enum CvEvent {
    /// The folds are planned and the folder is created.
    Planned {
        /// The cross-validation folder.
        out: PathBuf,
        /// What each fold tests on.
        kind: FoldKind,
        /// Number of folds.
        folds: usize,
    },
    /// A fold's training begins.
    FoldStarted {
        /// What it tests on (`number` is 1-based).
        fold: Box<Fold>,
        /// Its run folder.
        run_dir: PathBuf,
    },
    /// An event of the running fold's training (batch events are dropped
    /// when the listener is behind).
    Training {
        /// The fold's number.
        fold: usize,
        /// The event.
        event: Box<Event>,
    },
    /// A fold's run folder is complete.
    FoldFinished {
        /// The fold's number.
        fold: usize,
        /// Its run folder.
        run_dir: PathBuf,
        /// Its kept epoch and test scores.
        outcome: Box<Outcome>,
    },
    /// Every fold is done; `cv.json` is written.
    Finished {
        /// The scores per fold with their mean and spread.
        summary: Box<CvSummary>,
        /// The `cv.json` written.
        path: PathBuf,
    },
    /// It failed: the message names the file (a fold's run folder) or the
    /// option.
    Failed(String),
    /// It stopped because it was asked to.
    Cancelled,
}

/// A running cross-validation. Dropping the handle cancels it.
pub struct CvJob {
    /// The cross-validation folder as given (with `new_folder`, the runs
    /// folder; [`CvEvent::Planned`] names the folder made).
    pub out: PathBuf,
    /// See [`CvEvent`].
    pub events: Receiver<CvEvent>,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl CvJob {
    /// Runs `spec` on a `spindle-cv` thread (each fold on a `spindle-train`
    /// thread of its own, one after the other); `on_event` is called after
    /// each event is queued (to wake a GUI).
    pub fn spawn(spec: CvJobSpec, on_event: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, events) = bounded(EVENT_CAPACITY);
        let cancel = Arc::new(AtomicBool::new(false));
        let out = spec.out.clone();
        let flag = Arc::clone(&cancel);
        let spawned = std::thread::Builder::new()
            .name("spindle-cv".into())
            .spawn(move || {
                let report = Reporter {
                    tx: &tx,
                    wake: &on_event,
                };
                let out = spec.out.clone();
                let last = catch_panic(Some(&out), "cross-validating", || {
                    cross_validate(&spec, &flag, &report)
                })
                .unwrap_or_else(|p| CvEvent::Failed(p.to_string()));
                report.send(last);
            });
        let handle = match spawned {
            Ok(h) => Some(h),
            Err(e) => {
                let (tx, rx) = bounded(1);
                let _ = tx.send(CvEvent::Failed(format!(
                    "{}: could not start the cross-validation thread: {e}",
                    out.display()
                )));
                return Self {
                    out,
                    events: rx,
                    cancel,
                    handle: None,
                };
            }
        };
        Self {
            out,
            events,
            cancel,
            handle,
        }
    }

    /// Asks the job to stop; the running fold is cancelled and the job ends
    /// with `Cancelled` soon after.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// True when the job's thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the job's thread to end.
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for CvJob {
    /// A handle that goes away cancels its job (without waiting for it).
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Sends events to the listener and wakes it.
struct Reporter<'a> {
    tx: &'a Sender<CvEvent>,
    wake: &'a (dyn Fn() + Send + Sync),
}

impl Reporter<'_> {
    /// Queues `event`, waiting for room; false when the listener is gone.
    fn send(&self, event: CvEvent) -> bool {
        let sent = self.tx.send(event).is_ok();
        (self.wake)();
        sent
    }

    /// Queues `event` unless the queue is full (news, not a duty).
    fn offer(&self, event: CvEvent) -> bool {
        if self.tx.try_send(event).is_ok() {
            (self.wake)();
        }
        true
    }
}

/// Plans the folds, trains each and writes `cv.json`; the job's last event.
fn cross_validate(spec: &CvJobSpec, cancel: &AtomicBool, report: &Reporter<'_>) -> CvEvent {
    let plan = match plan(spec) {
        Ok(plan) => plan,
        Err(message) => return CvEvent::Failed(message),
    };
    let out = match &spec.new_folder {
        Some(name) => match crate::runs::create_run_dir(&spec.out, name) {
            Ok(dir) => dir,
            Err(e) => return CvEvent::Failed(e.to_string()),
        },
        None => match std::fs::create_dir_all(&spec.out) {
            Ok(()) => spec.out.clone(),
            Err(e) => return CvEvent::Failed(format!("{}: {e}", spec.out.display())),
        },
    };
    let spec = &CvJobSpec {
        out: out.clone(),
        new_folder: None,
        ..spec.clone()
    };
    report.send(CvEvent::Planned {
        out,
        kind: plan.kind,
        folds: plan.folds.len(),
    });
    let mut done = Vec::with_capacity(plan.folds.len());
    for fold in plan.folds {
        match train_fold(spec, fold, cancel, report) {
            Ok(fold) => done.push(fold),
            Err(last) => return last,
        }
    }
    match CvSummary::from_runs(spec.scheme, plan.kind, done).and_then(|summary| {
        let path = summary.save(&spec.out)?;
        Ok((summary, path))
    }) {
        Ok((summary, path)) => CvEvent::Finished {
            summary: Box::new(summary),
            path,
        },
        Err(e) => CvEvent::Failed(e.to_string()),
    }
}

/// The folds of `spec`, checked as `spindle train --cv` checks them: the
/// options first, then the recordings (read once for their trials).
fn plan(spec: &CvJobSpec) -> Result<FoldPlan, String> {
    if !spec.data.test.is_empty() {
        return Err("test recordings cannot be combined with cross-validation; each fold's test set comes from the training recordings".into());
    }
    // Bad options are reported before any data is read.
    let base = TrainJobSpec::from_options(DataRoles::default(), &spec.options, None)
        .map_err(|e| e.to_string())?;
    // Each fold's job reports the reading warnings again; these are not shown.
    let sources = load_sources(
        &spec.data.train,
        &spec.data.labels,
        &base.dataset.channels,
        &mut Vec::new(),
    )
    .map_err(|e| e.to_string())?;
    if sources.iter().any(|s| s.whole_file) {
        return audio_plan(spec, &sources, &base.dataset);
    }
    let files: Vec<PathBuf> = sources.iter().map(|s| s.path().to_path_buf()).collect();
    let trials = trials_of(&sources, &base.dataset);
    drop(sources);
    plan_folds(&files, &trials, spec.scheme, spec.options.seed).map_err(|e| format!("--cv: {e}"))
}

/// The folds of labeled audio folders: by file, each file one trial of its
/// folder's class, dealt to the folds class by class.
fn audio_plan(
    spec: &CvJobSpec,
    sources: &[LoadedSource],
    config: &DatasetConfig,
) -> Result<FoldPlan, String> {
    if sources.iter().any(|s| !s.whole_file) {
        return Err("--cv: labeled audio folders cannot be cross-validated together with recordings; give one or the other".into());
    }
    let CvScheme::Folds(k) = spec.scheme else {
        return Err("--cv loso: labeled audio folders are split by file, not by subject; give a number of folds (e.g. --cv 5)".into());
    };
    let trials = file_trials(sources, config);
    plan_file_folds(&trials, k, spec.options.seed).map_err(|e| format!("--cv: {e}"))
}

/// Trains one fold into `OUT/fold-N`; the fold, or the job's last event.
fn train_fold(
    spec: &CvJobSpec,
    fold: Fold,
    cancel: &AtomicBool,
    report: &Reporter<'_>,
) -> Result<CvFold, CvEvent> {
    let number = fold.number;
    let run_dir = spec.out.join(format!("fold-{number}"));
    let job = fold_job(spec, &fold, &run_dir).map_err(CvEvent::Failed)?;
    if cancel.load(Ordering::Relaxed) {
        return Err(CvEvent::Cancelled);
    }
    if !report.send(CvEvent::FoldStarted {
        fold: Box::new(fold.clone()),
        run_dir: run_dir.clone(),
    }) {
        return Err(CvEvent::Cancelled);
    }
    let end = drive(job, cancel, |event| {
        let news = CvEvent::Training {
            fold: number,
            event: Box::new(event.clone()),
        };
        if matches!(event, Event::Batch { .. }) {
            report.offer(news)
        } else {
            report.send(news)
        }
    });
    match end {
        RunEnd::Finished(outcome) => {
            report.send(CvEvent::FoldFinished {
                fold: number,
                run_dir: run_dir.clone(),
                outcome,
            });
            Ok(CvFold { fold, run_dir })
        }
        RunEnd::Failed(message) => {
            Err(CvEvent::Failed(format!("{}: {message}", run_dir.display())))
        }
        RunEnd::Cancelled => Err(CvEvent::Cancelled),
    }
}

/// The training job of `fold`, writing to `run_dir`. Trial-block folds
/// test on trials of the training recordings (`test_trials`) and have no
/// test recordings.
fn fold_job(spec: &CvJobSpec, fold: &Fold, run_dir: &Path) -> Result<TrainJobSpec, String> {
    // File folds (audio folders) train on the folders, less the fold's
    // files, which are its test trials.
    let by_file = fold.train_files.is_empty() && !fold.test_trials.is_empty();
    let data = DataRoles {
        train: if by_file {
            spec.data.train.clone()
        } else {
            fold.train_files.clone()
        },
        validation: spec.data.validation.clone(),
        test: if by_file {
            Vec::new()
        } else {
            fold.test_files.clone()
        },
        labels: spec.data.labels.clone(),
    };
    let mut job = TrainJobSpec::from_options(data, &spec.options, Some(run_dir.to_path_buf()))
        .map_err(|e| e.to_string())?;
    job.dataset.test_trials = fold.test_trials.clone();
    job.init_from = spec.init_from.clone();
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_support::audio_folder;

    fn spec(folder: &Path, scheme: CvScheme, out: &Path) -> CvJobSpec {
        CvJobSpec {
            data: DataRoles {
                train: vec![folder.to_path_buf()],
                ..DataRoles::default()
            },
            options: TrainOptions::default(),
            scheme,
            out: out.to_path_buf(),
            init_from: None,
            new_folder: None,
        }
    }

    #[test]
    fn audio_folders_are_cross_validated_by_file() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = audio_folder(tmp.path(), 3, 4);
        let out = tmp.path().join("cv");
        let s = spec(&folder, CvScheme::Folds(2), &out);
        let planned = plan(&s).unwrap();
        assert_eq!(planned.kind, FoldKind::Files);
        assert_eq!(planned.folds.len(), 2);
        let mut tested: Vec<PathBuf> = planned
            .folds
            .iter()
            .flat_map(|f| f.test_files.clone())
            .collect();
        tested.sort();
        tested.dedup();
        assert_eq!(tested.len(), 12, "each of the 12 files tested once");
        for fold in &planned.folds {
            assert_eq!(fold.test_trials.len(), 6);
            // Trained on the folder (its classes come from it), less the
            // fold's files, which are the test trials.
            let job = fold_job(&s, fold, &out.join("fold-1")).unwrap();
            assert_eq!(job.data.train, vec![folder.clone()]);
            assert!(job.data.test.is_empty());
            assert_eq!(job.dataset.test_trials, fold.test_trials);
        }

        let loso = plan(&spec(&folder, CvScheme::LeaveOneSubjectOut, &out)).unwrap_err();
        assert!(loso.contains("split by file"), "{loso}");
        let few = plan(&spec(&folder, CvScheme::Folds(5), &out)).unwrap_err();
        assert!(few.starts_with("--cv:"), "{few}");
    }
}
