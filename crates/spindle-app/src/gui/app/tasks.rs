//! Background work: each action queues a closure on a scheduler lane (the
//! file it is about, what it is doing) and folds its typed result into the
//! app in the handler beside it. The work itself is a library call.
//!
//! A new background action is one function here (queue + handler) and the
//! command or call that starts it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spindle_learn::explain::Explanation;
use spindle_learn::jobs::{Panicked, preview, suggest_labels};
use spindle_learn::runs::sweep::{
    SWEEP_JSON, current_exe, load_sweep_snapshot, plan_new_sweep, submit_remaining,
};
use spindle_learn::runs::{delete_run, list_runs, load_run_snapshot};
use spindle_learn::train::{Failure, FailureStage};
use spindle_signals::dsp::{SpectraRequest, span_spectra};
use spindle_signals::labeling::LabelScheme;
use spindle_signals::recording::{
    EdfWriteOptions, LabelSet, Recording, RecordingError, SampleStore, read_recording,
    write_atomic, write_edf,
};
use spindle_signals::scoring::recording_scheme;
use spindle_signals::viewing::{Entry, Opened, open_recording, scan_folder};

use crate::gui::command::{AppCommand, Tab};
use crate::gui::error::{AppError, reason};
use crate::gui::session::{FilterKey, Session, filter_spans};
use crate::gui::training::PreviewState;
use crate::gui::worker::{Host, Lane, encode_png};
use crate::playback::{DEFAULT_OUTPUT_RATE_HZ, Player, prepare_audio, sonify};

use super::state::Demo;
use super::{SpindleApp, demo_options, regression_demo_options};

/// The most tasks of a sweep the app lets Slurm run at once.
const SLURM_MAX_RUNNING: usize = 16;

/// What a path to open is.
enum PathKind {
    /// A sweep folder (holds `sweep.json`): opens in the Runs view.
    Sweep,
    /// A folder: browsed.
    Folder,
    /// A file: opened as a recording.
    File,
}

impl SpindleApp {
    /// Queues `work` on `lane` with `then` for its value (see
    /// [`Scheduler::run`](crate::gui::worker::Scheduler::run)); a full
    /// queue is reported in the window.
    pub(super) fn queue<T: Send + 'static>(
        &mut self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut SpindleApp, T) + Send + 'static,
    ) -> bool {
        let queued = self.workers.run(lane, about, doing, work, then);
        self.refused(queued)
    }

    /// Like [`Self::queue`], `then` also getting the panic.
    pub(super) fn queue_or<T: Send + 'static>(
        &mut self,
        lane: Lane,
        about: Option<&Path>,
        doing: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut SpindleApp, Result<T, Panicked>) + Send + 'static,
    ) -> bool {
        let queued = self.workers.run_or(lane, about, doing, work, then);
        self.refused(queued)
    }

    /// Reports a refused task; true when it was queued.
    fn refused(&mut self, queued: Result<(), String>) -> bool {
        match queued {
            Ok(()) => true,
            Err(reason) => {
                self.report(AppError::Busy(reason));
                false
            }
        }
    }

    /// Opens a folder (browse it) or a recording (browse its folder and view it).
    ///
    /// Opening another recording first saves the open one's labels: when
    /// they cannot be saved, it stays open (its labels would otherwise be
    /// lost) and the window says why. A sweep folder (one holding
    /// `sweep.json`) opens in the Runs view. What the path is, is found out
    /// on a worker.
    pub fn open_path(&mut self, path: &Path) {
        self.shell.settings.push_recent(path);
        let p = path.to_path_buf();
        let path = path.to_path_buf();
        self.queue_or(
            Lane::Load,
            Some(&path.clone()),
            "opening",
            move || {
                if p.join(SWEEP_JSON).is_file() {
                    PathKind::Sweep
                } else if p.is_dir() {
                    PathKind::Folder
                } else {
                    PathKind::File
                }
            },
            move |app, kind| match kind {
                Ok(PathKind::Sweep) => {
                    app.commands.push(AppCommand::OpenSweep(path));
                    app.commands.push(AppCommand::ShowTab(Tab::Runs));
                }
                Ok(PathKind::Folder) => app.browse(&path),
                Ok(PathKind::File) => app.open_file(&path),
                Err(panic) => app.panicked(panic),
            },
        );
    }

    /// Opens the recording at `path`, once the open one's labels are saved.
    fn open_file(&mut self, path: &Path) {
        let inside = self
            .shell
            .browser
            .root
            .as_deref()
            .is_some_and(|r| path.starts_with(r));
        if !inside && let Some(parent) = path.parent() {
            self.browse(parent);
        }
        let switching = self.recording.path().is_some_and(|open| open != path);
        if switching && self.save_before_switching(path) {
            return;
        }
        self.load_recording(path);
    }

    /// Reads the recording at `path` on the load lane; it becomes the
    /// session when it arrives (unless a later open superseded it).
    pub(super) fn load_recording(&mut self, path: &Path) {
        let p = path.to_path_buf();
        let waker = self.workers.waker().clone();
        let queued = self.queue_or(
            Lane::Load,
            Some(path),
            "opening the recording",
            move || {
                let opened = open_recording(&p, waker.as_fn());
                let folder = recording_folder(&p);
                (opened, LabelScheme::load(&folder), folder)
            },
            |app, opened| match opened {
                Ok((Ok(opened), scheme, folder)) => app.on_opened(opened, scheme, folder),
                Ok((Err(e), ..)) => app.open_failed(e.path().to_path_buf(), e.to_string()),
                Err(panic) => {
                    let path = panic.path.clone().unwrap_or_default();
                    app.open_failed(path, panic.to_string());
                }
            },
        );
        if queued {
            self.recording.loading = Some(path.to_path_buf());
            self.recording.opening_since = Some(std::time::Instant::now());
        }
    }

    fn open_failed(&mut self, path: PathBuf, error: String) {
        if self.recording.loading.as_deref() == Some(path.as_path()) {
            self.recording.loading = None;
        }
        self.report(AppError::Open {
            reason: reason(&path, error),
            path,
        });
    }

    /// A recording opened: it becomes the session (unless a later open
    /// superseded it), and its classes are its folder's saved `scheme` with
    /// its labels' classes (the sleep stages first for a sleep scoring).
    fn on_opened(
        &mut self,
        opened: Opened,
        scheme: Result<LabelScheme, RecordingError>,
        folder: PathBuf,
    ) {
        if self.recording.loading.as_deref() != Some(opened.recording.path.as_path()) {
            return; // superseded by a later open
        }
        self.recording.loading = None;
        if let Some(w) = &opened.warning {
            let path = opened.recording.path.clone();
            self.report(AppError::OpenWarning {
                reason: reason(&path, w),
                path,
            });
        }
        let saved = scheme.unwrap_or_else(|e| {
            self.report(AppError::SchemeNotRead {
                path: e.path().to_path_buf(),
                reason: reason(e.path(), &e),
            });
            LabelScheme::default()
        });
        let mut classes = opened.labels.classes();
        classes.extend(opened.class.clone());
        self.recording.scheme = recording_scheme(&saved, &classes);
        self.recording.scheme_folder = Some(folder);
        let window_s = self.shell.settings.window_s;
        let mut session = Session::new(opened, window_s, self.workers.waker());
        if let Some((file, start, span)) = self.recording.pending_jump.take()
            && file == session.recording.path
        {
            session.set_view(start, span);
        }
        self.shell.notice = Some(format!("opened in {:.2} s", session.load_s));
        self.recording.spectrum = Default::default();
        if session.is_audio() {
            self.shell.settings.show_spectrum = true;
        }
        self.recording.session = Some(session);
    }

    /// Lists `folder` in the browser (a newer listing stops this one).
    pub(super) fn browse(&mut self, folder: &Path) {
        self.shell.browser.reset(folder);
        let ticket = self.workers.newer_scan();
        let root = folder.to_path_buf();
        let queued = self.workers.stream(
            Lane::Scan,
            Some(folder),
            "scanning the folder",
            move |delivery| {
                let found = root.clone();
                scan_folder(&root, |entry: Entry| {
                    let root = found.clone();
                    !ticket.is_stale()
                        && delivery.send(move |app: &mut SpindleApp| {
                            app.shell.browser.add(&root, entry);
                        })
                });
                Box::new(move |app: &mut SpindleApp| app.on_scan_done(&root))
            },
            {
                let root = folder.to_path_buf();
                move |panic| {
                    Box::new(move |app: &mut SpindleApp| {
                        app.panicked(panic);
                        app.on_scan_done(&root);
                    })
                }
            },
        );
        if let Err(reason) = queued {
            self.report(AppError::Open {
                path: folder.to_path_buf(),
                reason,
            });
        }
    }

    /// The scan of `root` ended: the Train view gets the recordings; a
    /// pending demo starts, and the first recording opens when asked to.
    fn on_scan_done(&mut self, root: &Path) {
        if self.shell.browser.root.as_deref() != Some(root) {
            return;
        }
        self.shell.browser.scanning = false;
        self.training.panel.set_entries(&self.shell.browser.entries);
        if let Some(demo) = self.shell.demo_pending.take() {
            match demo {
                Demo::Classification => {
                    self.training.panel.use_only(false);
                    self.training.panel.options = demo_options();
                }
                Demo::Regression => {
                    self.training.panel.use_folder(&root.join("reaction_time"));
                    self.training.panel.options = regression_demo_options();
                }
            }
            self.training.panel.reset_model_values();
            self.commands.push(AppCommand::StartTraining);
        }
        if std::mem::take(&mut self.shell.auto_open)
            && self.recording.session.is_none()
            && self.recording.loading.is_none()
        {
            // Prefer a multichannel recording (EEG) over a single audio call.
            let first = self
                .shell
                .browser
                .entries
                .iter()
                .filter(|e| e.error.is_none())
                .max_by_key(|e| (e.channels > 1, std::cmp::Reverse(e.name.clone())))
                .map(|e| e.path.clone());
            if let Some(path) = first {
                self.load_recording(&path);
            }
        }
    }

    /// Saves the folder's label scheme (atomically, on the work lane).
    pub(super) fn save_scheme(&mut self) {
        let Some(folder) = self.recording.scheme_folder.clone() else {
            return;
        };
        let scheme = self.recording.scheme.clone();
        self.queue(
            Lane::Work,
            Some(&folder.clone()),
            "saving the label scheme",
            move || scheme.save(&folder),
            |app, saved| {
                if let Err(e) = saved {
                    app.report(AppError::SchemeNotSaved {
                        path: e.path().to_path_buf(),
                        reason: reason(e.path(), &e),
                    });
                }
            },
        );
    }

    /// Writes the open recording with its labels as EDF+ annotations to
    /// `path` (reading the whole file when it is read on demand).
    pub(super) fn export(&mut self, path: PathBuf) {
        let Some(s) = &self.recording.session else {
            return;
        };
        let (rec, samples, labels) = (
            Arc::clone(&s.recording),
            s.samples.clone(),
            s.doc.labels().clone(),
        );
        let to = path.clone();
        self.queue(
            Lane::Load,
            Some(&path.clone()),
            "exporting the recording as EDF+",
            move || export_edf(&rec, &samples, &labels, &to),
            move |app, written| match written {
                Ok(()) => app.shell.notice = Some(format!("exported {}", path.display())),
                Err(error) => app.report(AppError::Export {
                    reason: reason(&path, error),
                    path,
                }),
            },
        );
    }

    /// Builds the dataset preview of the Train view's form on the work lane.
    pub(super) fn request_preview(&mut self) {
        let data = self.training.panel.data_roles();
        self.training.panel.preview_requested();
        let options = &self.training.panel.options;
        let spec = match spindle_learn::jobs::TrainJobSpec::from_options(data, options, None) {
            Ok(spec) => spec,
            Err(e) => {
                let failure = Failure::new(FailureStage::Dataset, e.to_string());
                self.training
                    .panel
                    .preview
                    .set(PreviewState::Failed(failure));
                return;
            }
        };
        self.queue_or(
            Lane::Work,
            None,
            "building the dataset preview",
            move || preview(&spec),
            |app, result| {
                let result = result
                    .unwrap_or_else(|p| Err(Failure::new(FailureStage::Dataset, p.to_string())));
                app.training.panel.preview.set(match result {
                    Ok(p) => PreviewState::Ready(Box::new(p)),
                    Err(f) => PreviewState::Failed(f),
                });
            },
        );
    }

    /// Lists the runs folder.
    pub(super) fn list_runs(&mut self) {
        let dir = self.runs.dir.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "listing the runs",
            move || list_runs(&dir),
            |app, entries| app.runs.panel.set_entries(entries),
        );
    }

    /// Reads a run folder: shown in Results when it is the run asked for
    /// there, and kept for the Runs view.
    pub(super) fn load_run(&mut self, dir: PathBuf) {
        let d = dir.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "reading the run",
            move || load_run_snapshot(&d),
            move |app, snapshot| match snapshot {
                Ok(snapshot) => app.on_run_loaded(snapshot),
                Err(e) => app.report(AppError::Run {
                    reason: reason(&dir, e.to_string()),
                    path: dir,
                }),
            },
        );
    }

    fn on_run_loaded(&mut self, snapshot: spindle_learn::runs::RunSnapshot) {
        let dir = snapshot.dir.clone();
        if self.runs.results_dir.as_ref() == Some(&dir) {
            let shown = self.runs.result_run.as_ref();
            let same = shown.is_some_and(|r| r.dir == dir);
            if !same {
                self.runs.results.selected = None;
            }
            // A run's explanation is read once, when it is first seen
            // complete (re-reads of a running run have none).
            let was_complete = same && shown.is_some_and(|r| r.report.is_some());
            if snapshot.report.is_some() && !was_complete {
                self.load_explanation(dir.clone());
            }
            self.runs.result_run.set(Some(snapshot.clone()));
        }
        self.runs.panel.snapshots.insert(dir, snapshot);
    }

    /// Reads the `explain.json` of the run shown in Results.
    fn load_explanation(&mut self, dir: PathBuf) {
        let d = dir.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "reading the run's explanation",
            move || Explanation::load(&d).map_err(|e| e.to_string()),
            move |app, loaded| {
                if app.runs.results_dir.as_ref() != Some(&dir) {
                    return;
                }
                match loaded {
                    Ok(Some(e)) => app.training.explain.explanation.set(Some((dir, e))),
                    Ok(None) => {}
                    Err(message) => app.training.explain.failure = Some((dir, message)),
                }
            },
        );
    }

    /// Deletes a run folder (refusing folders that are not runs).
    pub(super) fn delete_run(&mut self, dir: PathBuf) {
        let d = dir.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "deleting the run",
            move || delete_run(&d),
            move |app, deleted| match deleted {
                Err(e) => app.report(AppError::Run {
                    reason: reason(&dir, e.to_string()),
                    path: dir,
                }),
                Ok(()) => {
                    app.runs.panel.remove(&dir);
                    if app.runs.result_run.as_ref().is_some_and(|r| r.dir == dir) {
                        app.runs.result_run.set(None);
                    }
                    app.shell.notice = Some(format!("deleted {}", dir.display()));
                }
            },
        );
    }

    /// Writes a run's `note.json` (pin, tags, note).
    pub(super) fn save_run_note(&mut self, dir: PathBuf, note: spindle_learn::runs::RunNote) {
        let d = dir.clone();
        let n = note.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "saving the run's note",
            move || n.save(&d),
            move |app, saved| match saved {
                Err(e) => app.report(AppError::Run {
                    reason: reason(&dir, e.to_string()),
                    path: dir,
                }),
                Ok(()) => app.runs.panel.note_saved(&dir, note),
            },
        );
    }

    /// Reads a sweep folder: its tasks' status, running curves, comparison.
    pub(super) fn read_sweep(&mut self, dir: PathBuf) {
        let d = dir.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "reading the sweep",
            move || load_sweep_snapshot(&d, true),
            move |app, snapshot| match snapshot {
                Ok(snapshot) => {
                    if app.runs.panel.sweep.open.as_ref() == Some(&snapshot.dir) {
                        app.runs.panel.sweep.snapshot = Some(snapshot);
                    }
                }
                Err(e) => app.report_sweep_error(dir, e.to_string()),
            },
        );
    }

    fn report_sweep_error(&mut self, dir: PathBuf, error: String) {
        self.report(AppError::Run {
            reason: reason(&dir, error),
            path: dir,
        });
    }

    /// Submits the remaining tasks of a sweep folder to Slurm.
    pub(super) fn submit_sweep(&mut self, dir: PathBuf) {
        self.shell.notice = Some(format!("submitting {} to Slurm…", dir.display()));
        let d = dir.clone();
        self.queue(
            Lane::Work,
            Some(&dir.clone()),
            "submitting the sweep to Slurm",
            move || current_exe(&d).and_then(|exe| submit_remaining(&d, &exe, SLURM_MAX_RUNNING)),
            move |app, submitted| match submitted {
                Ok((job_id, tasks)) => {
                    app.shell.notice = Some(format!(
                        "{}: {tasks} task(s) submitted to Slurm as job {job_id}",
                        dir.display()
                    ));
                    app.read_sweep(dir);
                }
                Err(e) => app.report_sweep_error(dir, e.to_string()),
            },
        );
    }

    /// Plans the sweep of `form` over the Train view's recordings and
    /// settings and writes its `sweep.json`; then opens it.
    pub(super) fn plan_sweep(&mut self, form: &crate::gui::command::NewSweep) {
        let plan = match self.sweep_plan(form) {
            Ok(plan) => plan,
            Err(e) => return self.report(e),
        };
        let out = plan.out.clone();
        self.queue(
            Lane::Work,
            Some(&out.clone()),
            "planning the sweep",
            move || plan_new_sweep(&plan),
            move |app, planned| match planned {
                Ok(_) => app.commands.push(AppCommand::OpenSweep(out)),
                Err(e) => app.report_sweep_error(out, e.to_string()),
            },
        );
    }

    /// Computes the spectra of the open recording's view.
    pub(super) fn compute_spectra(&mut self, request: SpectraRequest) {
        let Some(s) = &self.recording.session else {
            return;
        };
        let (rec, samples) = (Arc::clone(&s.recording), s.samples.clone());
        let path = rec.path.clone();
        let asked = request.clone();
        self.queue_or(
            Lane::Work,
            Some(&path.clone()),
            "computing the spectra",
            move || span_spectra(&rec, &samples, &asked).map_err(|e| e.to_string()),
            move |app, result| {
                let open = app.recording.path() == Some(path.as_path());
                match result {
                    Ok(Ok(spectra)) if open => app.recording.spectrum.receive(request, spectra),
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        app.recording.spectrum.request_failed(&request);
                        app.report(AppError::ReadFailed {
                            reason: reason(&path, error),
                            path,
                        });
                    }
                    Err(panic) => {
                        app.recording.spectrum.request_failed(&request);
                        app.panicked(panic);
                    }
                }
            },
        );
    }

    /// Opens the audio output (the device of the settings, or the default).
    pub(super) fn open_player(&mut self) {
        let device = self.shell.settings.audio_device.clone();
        self.queue_or(
            Lane::Work,
            None,
            "opening the audio output",
            move || match device {
                Some(name) => Player::with_device(&name),
                None => Player::new(),
            },
            |app, opened| {
                let listening = &mut app.recording.listening;
                listening.opening = false;
                match opened {
                    Ok(Ok(player)) => {
                        listening.player = Some(player);
                        if std::mem::take(&mut listening.play_when_open) {
                            app.prepare_clip();
                        }
                    }
                    Ok(Err(e)) => listening.unavailable = Some(e.to_string()),
                    Err(panic) => listening.unavailable = Some(panic.to_string()),
                }
            },
        );
    }

    /// Makes the samples to play for the view (audio at normal speed, EEG
    /// sped up) and plays them.
    pub(super) fn prepare_clip(&mut self) {
        let Some(s) = &self.recording.session else {
            return;
        };
        let channel = if s.is_audio() {
            0
        } else {
            let last = s.recording.channels.len().saturating_sub(1);
            self.recording.listening.channel.min(last)
        };
        let (rec, samples) = (Arc::clone(&s.recording), s.samples.clone());
        let span_s = s.view.start_s..s.view.start_s + s.view.span_s;
        let path = rec.path.clone();
        self.recording.listening.preparing = true;
        self.queue_or(
            Lane::Work,
            Some(&path.clone()),
            "preparing the clip to play",
            move || clip(&rec, &samples, channel, span_s),
            move |app, clip| {
                let listening = &mut app.recording.listening;
                listening.preparing = false;
                match clip {
                    Ok(Ok(Some((samples, start_s, speed)))) => {
                        if let Some(player) = &mut listening.player {
                            listening.clips_played += 1;
                            player.play_with_speed(samples, DEFAULT_OUTPUT_RATE_HZ, start_s, speed);
                        }
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(error)) => app.report(AppError::ReadFailed {
                        reason: reason(&path, error),
                        path,
                    }),
                    Err(panic) => app.panicked(panic),
                }
            },
        );
    }

    /// Reads samples `range` of `channel` of the open recording (read on
    /// demand) into its cache, ahead of drawing them; `needed` when the
    /// view waits for them (a full queue is asked again next frame), else
    /// a read-ahead (a full queue skips it). True when queued.
    pub(super) fn warm(
        &mut self,
        channel: usize,
        range: std::ops::Range<usize>,
        needed: bool,
    ) -> bool {
        let Some(s) = &self.recording.session else {
            return false;
        };
        let samples = s.samples.clone();
        let path = s.recording.path.clone();
        let queued = self.workers.run(
            Lane::Read,
            Some(&path.clone()),
            "reading the recording",
            move || samples.warm(channel, range),
            move |app, warmed| {
                // Drawn at the next frame, which this result wakes.
                if let Err(e) = warmed {
                    app.report(AppError::ReadFailed {
                        reason: reason(&path, e),
                        path,
                    });
                }
            },
        );
        match queued {
            Ok(()) => true,
            Err(reason) if needed => {
                self.shell.notice = Some(reason);
                false
            }
            Err(_) => false,
        }
    }

    /// Filters the view of the open recording for display off the frame
    /// (the viewer draws it unfiltered meanwhile).
    pub(super) fn filter_view(&mut self, key: FilterKey) {
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let (rec, samples) = (Arc::clone(&s.recording), s.samples.clone());
        let identity = samples.identity();
        let path = rec.path.clone();
        s.filtered.pending = Some(key);
        let queued = self.workers.run(
            Lane::Read,
            Some(&path.clone()),
            "filtering the view",
            move || filter_spans(&rec, &samples, &key),
            move |app, spans| {
                let Some(s) = app
                    .recording
                    .session
                    .as_mut()
                    .filter(|s| s.samples.identity() == identity)
                else {
                    return;
                };
                if s.filtered.pending == Some(key) {
                    s.filtered.pending = None;
                }
                match spans {
                    Ok(spans) => {
                        s.filtered.spans = spans;
                        s.filtered.key = Some(key);
                    }
                    Err(e) => app.report(AppError::ReadFailed {
                        reason: reason(&path, e),
                        path,
                    }),
                }
            },
        );
        if queued.is_err()
            && let Some(s) = &mut self.recording.session
        {
            // Asked again next frame.
            s.filtered.pending = None;
        }
    }

    /// Writes `bytes` to `path` atomically.
    pub(super) fn write_file(&mut self, path: PathBuf, bytes: Vec<u8>) {
        let to = path.clone();
        self.queue(
            Lane::Work,
            Some(&path.clone()),
            "writing the file",
            move || write_atomic(&to, &bytes).map_err(|e| e.to_string()),
            move |app, written| app.on_written(path, written),
        );
    }

    /// A file was written (or why not).
    pub(super) fn on_written(&mut self, path: PathBuf, written: Result<(), String>) {
        match written {
            Ok(()) => self.shell.notice = Some(format!("saved {}", path.display())),
            Err(error) => self.report(AppError::Write {
                reason: reason(&path, error),
                path,
            }),
        }
    }

    /// Runs the shown run's model on `file`; its predictions become
    /// suggested labels.
    pub(super) fn suggest_labels(&mut self, file: PathBuf) {
        let Some(run) = self.runs.results_dir.clone() else {
            self.report(AppError::NoRun);
            return;
        };
        // A sleep stager's stages are one more scorer: the comparison layer,
        // with a confidence per epoch to review.
        if self.sleep_run_shown().as_ref() == Some(&run) {
            self.compare_with_run(run, file.clone());
            if self.recording.path() != Some(file.as_path()) {
                self.open_path(&file);
            }
            return;
        }
        let existing = match &self.recording.session {
            Some(s) if s.recording.path == file => Some(s.doc.labels().clone()),
            _ => None,
        };
        let (f, about) = (file.clone(), file.clone());
        self.queue(
            Lane::Work,
            Some(&file),
            "suggesting labels",
            move || suggest_labels(&run, &f, existing.as_ref()),
            move |app, suggested| app.on_suggested(about, suggested),
        );
        self.shell.notice = Some(format!("applying the run to {}…", file.display()));
        if self.recording.path() != Some(file.as_path()) {
            self.open_path(&file);
        }
    }
}

impl SpindleApp {
    /// Suggested labels for `file` arrived (or why not).
    fn on_suggested(
        &mut self,
        file: PathBuf,
        suggested: Result<spindle_signals::labeling::Suggestions, String>,
    ) {
        match suggested {
            Ok(suggestions) => {
                self.shell.notice = Some(format!(
                    "{} suggested labels for {}",
                    suggestions.items.len(),
                    file.display()
                ));
                self.recording.suggestions.set(Some((file, suggestions)));
                self.shell.tab = Tab::Viewer;
            }
            Err(error) => self.report(AppError::Suggest {
                reason: reason(&file, error),
                path: file,
            }),
        }
    }
}

/// Writes `rec` with `labels` as its annotations to `to` as EDF+, reading
/// the whole recording first when it is read on demand.
fn export_edf(
    rec: &Recording,
    samples: &SampleStore,
    labels: &LabelSet,
    to: &Path,
) -> Result<(), String> {
    let whole = match samples {
        SampleStore::Memory(whole) => Ok(Arc::clone(whole)),
        SampleStore::Paged(_) => read_recording(&rec.path).map(Arc::new),
    };
    whole
        .and_then(|whole| {
            let mut out = (*whole).clone();
            out.annotations = labels.to_annotations();
            write_edf(to, &out, &EdfWriteOptions::default())
        })
        .map_err(|e| e.to_string())
}

/// The samples to play for `span_s` of `channel`: audio at normal speed,
/// EEG sped up by the sonification speed; with the recording time of the
/// first sample and the speed. `None` for a channel that does not exist.
fn clip(
    recording: &Recording,
    samples: &SampleStore,
    channel: usize,
    span_s: std::ops::Range<f64>,
) -> Result<Option<(Vec<f32>, f64, f64)>, String> {
    let Some(ch) = recording.channels.get(channel) else {
        return Ok(None);
    };
    let len = samples.len(channel);
    let i0 = ((span_s.start.max(0.0) * ch.rate_hz) as usize).min(len);
    let i1 = ((span_s.end.max(0.0) * ch.rate_hz) as usize).clamp(i0, len);
    let mut span = Vec::new();
    samples
        .read(channel, i0..i1, &mut span)
        .map_err(|e| e.to_string())?;
    let start_s = i0 as f64 / ch.rate_hz;
    Ok(Some(if ch.is_audio() {
        (
            prepare_audio(&span, ch.rate_hz, DEFAULT_OUTPUT_RATE_HZ),
            start_s,
            1.0,
        )
    } else {
        let speed = crate::gui::listen::SONIFICATION_SPEED;
        (
            sonify(&span, ch.rate_hz, speed, DEFAULT_OUTPUT_RATE_HZ),
            start_s,
            speed,
        )
    }))
}

/// Encodes the part `rect` (points, at `pixels_per_point`) of a screenshot
/// as PNG and writes it to `path`.
pub(super) fn save_png(
    image: &eframe::egui::ColorImage,
    rect: eframe::egui::Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<(), String> {
    let bytes = encode_png(&image.region(&rect, Some(pixels_per_point)))?;
    write_atomic(path, &bytes).map_err(|e| e.to_string())
}

/// The folder whose label scheme a recording at `path` uses: its own.
fn recording_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
