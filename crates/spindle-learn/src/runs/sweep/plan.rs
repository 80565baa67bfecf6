//! `sweep.json`: every task of a sweep with its full settings, its run
//! folder and its status, planned from a grid (and the folds of a
//! cross-validation), written atomically and read back by the tasks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::SweepError;
use super::grid::{GridAxis, expand_grid, point_name};
use crate::dataset::{
    CvScheme, Fold, FoldKind, file_trials, load_sources, plan_file_folds, plan_folds, trials_of,
};
use crate::train::{DataRoles, TrainOptions};

/// The sweep's file name in its folder.
pub const SWEEP_JSON: &str = "sweep.json";

/// The version of the `sweep.json` layout written.
pub const SWEEP_VERSION: u32 = 1;

/// Where a task's recordings come from, by role (absolute paths).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskData {
    /// Recordings or folders the weights are fitted on.
    pub train: Vec<PathBuf>,
    /// Recordings that choose the epoch to keep (empty: held out from `train`).
    #[serde(default)]
    pub validation: Vec<PathBuf>,
    /// Recordings scored at the end (empty: held out from `train`).
    #[serde(default)]
    pub test: Vec<PathBuf>,
    /// Label files given explicitly, by recording.
    #[serde(default)]
    pub labels: BTreeMap<PathBuf, PathBuf>,
}

impl TaskData {
    /// The same data as the training job's roles.
    pub fn roles(&self) -> DataRoles {
        DataRoles {
            train: self.train.clone(),
            validation: self.validation.clone(),
            test: self.test.clone(),
            labels: self.labels.clone(),
        }
    }

    /// Every path made absolute (against the current folder), so that a task
    /// finds its data from whatever folder it runs in.
    pub fn absolute(&self) -> Result<Self, SweepError> {
        let abs = |p: &PathBuf| std::path::absolute(p).map_err(|e| SweepError::io(p, e));
        let all = |v: &[PathBuf]| v.iter().map(abs).collect::<Result<Vec<_>, _>>();
        Ok(Self {
            train: all(&self.train)?,
            validation: all(&self.validation)?,
            test: all(&self.test)?,
            labels: self
                .labels
                .iter()
                .map(|(k, v)| Ok((abs(k)?, abs(v)?)))
                .collect::<Result<_, SweepError>>()?,
        })
    }
}

/// One combination of the grid's values: a run folder, or with
/// cross-validation a folder of fold run folders and `cv.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepPoint {
    /// Its folder in the sweep folder, e.g. `001_lr=0.01`.
    pub name: String,
    /// The value of each grid option with more than one value.
    pub settings: BTreeMap<String, String>,
    /// What its folds test on (cross-validation only).
    pub fold_kind: Option<FoldKind>,
}

/// One unit of work: an ordinary training run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepTask {
    /// Its number, from 0 (the Slurm array task id).
    pub index: usize,
    /// The grid point it belongs to (index into [`Sweep::points`]).
    pub point: usize,
    /// Its run folder, relative to the sweep folder.
    pub run_dir: PathBuf,
    /// The grid's values for it (see [`SweepPoint::settings`]).
    pub settings: BTreeMap<String, String>,
    /// Every training option.
    pub options: TrainOptions,
    /// Its recordings.
    pub data: TaskData,
    /// The cross-validation fold it trains and tests (with its test trials
    /// for trial-block folds).
    pub fold: Option<Fold>,
    /// Its status when `sweep.json` was last written by `spindle sweep`; the
    /// run folders say where it stands now ([`super::task_status`]).
    pub status: TaskStatus,
}

/// A whole sweep, as in `sweep.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sweep {
    /// The layout version ([`SWEEP_VERSION`]).
    pub version: u32,
    /// The recordings as given.
    pub data: TaskData,
    /// The grid: options with their values.
    pub axes: Vec<GridAxis>,
    /// The options every task shares, as `spindle train` arguments.
    pub fixed: Vec<String>,
    /// The cross-validation of each grid point, if any.
    pub cv: Option<CvScheme>,
    /// The grid's points.
    pub points: Vec<SweepPoint>,
    /// Every task, by index.
    pub tasks: Vec<SweepTask>,
}

impl Sweep {
    /// Plans the sweep of `axes` and `fixed` over `data`: one task per grid
    /// point, or with `cv` one per fold of each point (the folds of
    /// `spindle train --cv`, planned with each point's settings). Every
    /// task is checked; nothing is trained.
    pub fn plan(
        data: &TaskData,
        axes: &[GridAxis],
        fixed: &[String],
        cv: Option<CvScheme>,
    ) -> Result<Self, SweepError> {
        if data.train.is_empty() {
            return Err(SweepError::Option {
                option: "--data".into(),
                reason: "no recordings given".into(),
            });
        }
        let data = data.absolute()?;
        let grid = expand_grid(axes, fixed)?;
        let mut points = Vec::with_capacity(grid.len());
        let mut tasks = Vec::new();
        let folds = match cv {
            Some(scheme) => Some(FoldPlanner::new(&data, &grid[0].options, scheme)?),
            None => None,
        };
        for (i, p) in grid.into_iter().enumerate() {
            let name = point_name(i, &p.settings);
            let task =
                |index: usize, run_dir: PathBuf, data: TaskData, fold: Option<Fold>| SweepTask {
                    index,
                    point: i,
                    run_dir,
                    settings: p.settings.clone(),
                    options: p.options.clone(),
                    data,
                    fold,
                    status: TaskStatus::Pending,
                };
            let fold_kind = match &folds {
                None => {
                    let t = task(tasks.len(), PathBuf::from(&name), data.clone(), None);
                    tasks.push(t);
                    None
                }
                Some(planner) => {
                    let plan = planner.folds(&p.options)?;
                    for fold in plan.folds {
                        // File folds (audio folders) train on the folders
                        // less the fold's files, its test trials.
                        let by_file = fold.train_files.is_empty() && !fold.test_trials.is_empty();
                        let fold_data = TaskData {
                            train: if by_file {
                                data.train.clone()
                            } else {
                                fold.train_files.clone()
                            },
                            validation: data.validation.clone(),
                            test: if by_file {
                                Vec::new()
                            } else {
                                fold.test_files.clone()
                            },
                            labels: data.labels.clone(),
                        };
                        let dir = Path::new(&name).join(format!("fold-{}", fold.number));
                        let t = task(tasks.len(), dir, fold_data, Some(fold));
                        tasks.push(t);
                    }
                    Some(plan.kind)
                }
            };
            points.push(SweepPoint {
                name,
                settings: p.settings,
                fold_kind,
            });
        }
        Ok(Self {
            version: SWEEP_VERSION,
            data,
            axes: axes.to_vec(),
            fixed: fixed.to_vec(),
            cv,
            points,
            tasks,
        })
    }

    /// Reads `path` (a `sweep.json`).
    pub fn load(path: &Path) -> Result<Self, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
        let sweep: Self = serde_json::from_str(&text)
            .map_err(|e| SweepError::invalid(path, format!("not a Spindle sweep.json: {e}")))?;
        if sweep.version > SWEEP_VERSION {
            return Err(SweepError::invalid(
                path,
                format!(
                    "written by a newer Spindle (layout {}, this one reads {SWEEP_VERSION})",
                    sweep.version
                ),
            ));
        }
        if let Some((i, t)) = sweep.tasks.iter().enumerate().find(|(i, t)| t.index != *i) {
            return Err(SweepError::invalid(
                path,
                format!("task {i} has index {}; the tasks are out of order", t.index),
            ));
        }
        if let Some(t) = sweep.tasks.iter().find(|t| !is_inside(&t.run_dir)) {
            return Err(SweepError::invalid(
                path,
                format!(
                    "task {}: run folder {} is not inside the sweep folder",
                    t.index,
                    t.run_dir.display()
                ),
            ));
        }
        Ok(sweep)
    }

    /// Writes `dir/sweep.json` atomically (creating `dir`) and returns its path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, SweepError> {
        std::fs::create_dir_all(dir).map_err(|e| SweepError::io(dir, e))?;
        let path = dir.join(SWEEP_JSON);
        let text = serde_json::to_string_pretty(self).map_err(|e| SweepError::invalid(&path, e))?;
        spindle_signals::recording::write_atomic(&path, text.as_bytes())
            .map_err(|e| SweepError::invalid(&path, e))?;
        Ok(path)
    }

    /// True when `other` plans the same work (statuses aside).
    pub fn same_work(&self, other: &Sweep) -> bool {
        let strip = |s: &Sweep| {
            let mut s = s.clone();
            for t in &mut s.tasks {
                t.status = TaskStatus::Pending;
            }
            s
        };
        strip(self) == strip(other)
    }

    /// The task `index`; `path` (the `sweep.json`) names the error.
    pub fn task(&self, index: usize, path: &Path) -> Result<&SweepTask, SweepError> {
        self.tasks.get(index).ok_or_else(|| {
            SweepError::invalid(
                path,
                format!(
                    "task {index} does not exist (the sweep has {} tasks)",
                    self.tasks.len()
                ),
            )
        })
    }

    /// The tasks of grid point `point`, in fold order.
    pub fn tasks_of(&self, point: usize) -> impl Iterator<Item = &SweepTask> {
        self.tasks.iter().filter(move |t| t.point == point)
    }
}

/// True when `rel` is a relative path that stays inside its folder.
fn is_inside(rel: &Path) -> bool {
    rel.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        && rel.components().next().is_some()
}

/// The recordings of a cross-validated sweep, read once, and the folds of
/// each grid point's settings over them.
struct FoldPlanner {
    files: Vec<PathBuf>,
    sources: Vec<crate::dataset::LoadedSource>,
    scheme: CvScheme,
}

impl FoldPlanner {
    fn new(data: &TaskData, first: &TrainOptions, scheme: CvScheme) -> Result<Self, SweepError> {
        if !data.test.is_empty() {
            return Err(SweepError::Option {
                option: "--test".into(),
                reason: "cannot be combined with --cv; each fold's test set comes from --data"
                    .into(),
            });
        }
        // Only the channels matter for reading; they are the same for every
        // point (a list option, never a grid axis).
        let config = first.resolve()?.dataset;
        let sources = load_sources(&data.train, &data.labels, &config.channels, &mut Vec::new())
            .map_err(|e| SweepError::Option {
                option: "--data".into(),
                reason: e.to_string(),
            })?;
        let audio = sources.iter().any(|s| s.whole_file);
        if audio && sources.iter().any(|s| !s.whole_file) {
            return Err(SweepError::Option {
                option: "--cv".into(),
                reason: "labeled audio folders cannot be cross-validated together with recordings; give one or the other".into(),
            });
        }
        if audio && matches!(scheme, CvScheme::LeaveOneSubjectOut) {
            return Err(SweepError::Option {
                option: "--cv".into(),
                reason: "labeled audio folders are split by file, not by subject; give a number of folds".into(),
            });
        }
        let files = sources.iter().map(|s| s.path().to_path_buf()).collect();
        Ok(Self {
            files,
            sources,
            scheme,
        })
    }

    /// The folds with `options`' dataset settings and seed.
    fn folds(&self, options: &TrainOptions) -> Result<crate::dataset::FoldPlan, SweepError> {
        let config = options.resolve()?.dataset;
        let planned = match self.scheme {
            // Labeled audio folders: by file.
            CvScheme::Folds(k) if self.sources.iter().any(|s| s.whole_file) => {
                plan_file_folds(&file_trials(&self.sources, &config), k, options.seed)
            }
            scheme => plan_folds(
                &self.files,
                &trials_of(&self.sources, &config),
                scheme,
                options.seed,
            ),
        };
        planned.map_err(|e| SweepError::Option {
            option: "--cv".into(),
            reason: e.to_string(),
        })
    }
}

/// Where a task stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started yet (or queued on the cluster).
    Pending,
    /// Training now.
    Running,
    /// Its run folder is complete (`report.json` exists).
    Done,
    /// It stopped with an error, or its process ended without a report.
    Failed,
}

impl TaskStatus {
    /// A lower-case word for lists, e.g. `running`.
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_support::audio_folder;

    #[test]
    fn a_cross_validated_sweep_of_an_audio_folder_folds_its_files() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = audio_folder(tmp.path(), 2, 3);
        let data = TaskData {
            train: vec![folder.clone()],
            ..TaskData::default()
        };
        let sweep = Sweep::plan(&data, &[], &[], Some(CvScheme::Folds(3))).unwrap();
        assert_eq!(sweep.tasks.len(), 3);
        assert_eq!(sweep.points[0].fold_kind, Some(FoldKind::Files));
        for task in &sweep.tasks {
            assert_eq!(task.data.train.len(), 1, "the folder itself");
            assert!(task.data.test.is_empty());
            let fold = task.fold.as_ref().unwrap();
            assert_eq!(fold.test_trials.len(), 2, "one file of each class");
        }
        let loso = Sweep::plan(&data, &[], &[], Some(CvScheme::LeaveOneSubjectOut)).unwrap_err();
        assert!(loso.to_string().contains("split by file"), "{loso}");
    }
}
