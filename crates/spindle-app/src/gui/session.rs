//! The recording open in the viewer: its data, its labels under edit, and how
//! it is being viewed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spindle_signals::dsp::{IntervalIndex, MinMaxPyramid, Trace};
use spindle_signals::labeling::{
    AutosaveClock, DamagedSidecar, Edit, EditJournal, JournalReplay, LabelDocument, TimeView,
    ViewLimits, journal_path, set_aside_damaged,
};
use spindle_signals::recording::{
    Label, LabelSet, LabelSource, Recording, SampleStore, sidecar_path, write_events_tsv,
};

use super::error::{AppError, reason};
use super::worker::{Loaded, OverviewGuard};

/// How one channel is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelView {
    /// Drawn or hidden.
    pub visible: bool,
    /// Marked bad (drawn dimmed, named in red).
    pub bad: bool,
    /// Gain on top of the global gain.
    pub gain: f32,
}

/// A drag in progress on the traces.
#[derive(Debug, Clone, PartialEq)]
pub enum DragMode {
    /// Creating a label from this time (seconds).
    Create {
        /// Where the drag began, seconds.
        anchor_s: f64,
    },
    /// Moving one edge of a label.
    Resize {
        /// The label as it was before the drag.
        before: Label,
        /// True for the start edge, false for the end edge.
        start_edge: bool,
    },
    /// Panning the view; the start time when the drag began, seconds.
    Pan {
        /// View start when the drag began, seconds.
        start_s: f64,
    },
}

/// An open recording and its view.
pub struct Session {
    /// The recording's facts and annotations (for one read on demand,
    /// without samples: see `samples`).
    pub recording: Arc<Recording>,
    /// Its samples, in memory or read from the file on demand.
    pub samples: SampleStore,
    /// One pyramid per channel (empty while `overview` is being built).
    pub pyramids: Vec<MinMaxPyramid>,
    /// How much of the overview of a recording read on demand is built,
    /// 0..=1; `None` once it is (or when it is not needed).
    pub overview_fraction: Option<f64>,
    /// Stops building the overview when the session closes (held for its
    /// `Drop`).
    _overview: OverviewGuard,
    /// Samples (channel, range) read on demand that the view wants and the
    /// cache does not hold yet (the viewer draws what is ready meanwhile).
    pub missing: Option<(usize, std::ops::Range<usize>)>,
    /// The samples last asked of a worker for the view.
    pub requested: Option<(usize, std::ops::Range<usize>)>,
    /// Samples of channel 0 last asked to be read ahead (recordings read on
    /// demand).
    warmed: Option<std::ops::Range<usize>>,
    /// Robust amplitude per channel (physical units).
    pub amplitudes: Vec<f32>,
    /// The labels under edit.
    pub doc: LabelDocument,
    /// Where the labels came from when opened.
    pub source: LabelSource,
    /// The class of an audio-folder file.
    pub class: Option<String>,
    /// Autosave timing.
    pub autosave: AutosaveClock,
    /// False when the sidecar could not be read: saving would overwrite it.
    /// It stays false until the user restores the backup or sets the damaged
    /// file aside ([`Self::restore_backup`], [`Self::set_damaged_aside`]).
    pub autosave_enabled: bool,
    /// The sidecar that could not be read when opened, until the user decides.
    pub damaged: Option<DamagedSidecar>,
    /// Edits an earlier session journaled but never saved, until the user
    /// restores or discards them. Meanwhile this session journals nothing
    /// and its saves keep the journal.
    pub journal_offer: Option<JournalReplay>,
    /// Where this session's edits are journaled until they are saved.
    pub journal: EditJournal,
    /// Why the last journal write failed, until one succeeds.
    pub journal_error: Option<AppError>,
    /// Index of the labels' spans, rebuilt when `index_revision` is behind.
    pub label_index: IntervalIndex,
    /// The document revision `label_index` was built from.
    pub index_revision: Option<u64>,
    /// The visible time range.
    pub view: TimeView,
    /// Global gain.
    pub gain: f32,
    /// Per-channel display, by channel index.
    pub channels: Vec<ChannelView>,
    /// Drawing order of the channels (channel indices).
    pub order: Vec<usize>,
    /// The selected label.
    pub selection: Option<Label>,
    /// A drag in progress.
    pub drag: Option<DragMode>,
    /// Epoch-scoring mode on.
    pub epoch_mode: bool,
    /// The class new labels get.
    pub active_class: Option<String>,
    /// Reused per-channel traces.
    pub traces: Vec<Trace>,
    /// Seconds it took to open.
    pub load_s: f64,
    /// Why the last save failed: the shell shows it in the status bar until
    /// a later save succeeds (which clears it); the labels stay in memory,
    /// unsaved, meanwhile.
    pub last_save_error: Option<AppError>,
}

impl Session {
    /// A session for a loaded recording, showing the first `window_s` seconds.
    pub fn new(loaded: Loaded, window_s: f64) -> Self {
        let n = loaded.recording.channels.len();
        let journal = EditJournal::new(journal_path(&sidecar_path(&loaded.recording.path)));
        let mut s = Self {
            overview_fraction: loaded.samples.is_paged().then_some(0.0),
            samples: loaded.samples,
            _overview: loaded.overview,
            missing: None,
            requested: None,
            warmed: None,
            pyramids: loaded.pyramids,
            amplitudes: loaded.amplitudes,
            doc: LabelDocument::new(loaded.labels),
            source: loaded.source,
            class: loaded.class,
            autosave: AutosaveClock::default(),
            autosave_enabled: loaded.damaged.is_none(),
            damaged: loaded.damaged,
            journal_offer: loaded.journal,
            journal,
            journal_error: None,
            label_index: IntervalIndex::default(),
            index_revision: None,
            view: TimeView {
                start_s: 0.0,
                span_s: window_s,
            },
            gain: 1.0,
            channels: vec![
                ChannelView {
                    visible: true,
                    bad: false,
                    gain: 1.0,
                };
                n
            ],
            order: (0..n).collect(),
            selection: None,
            drag: None,
            epoch_mode: false,
            active_class: None,
            traces: (0..n).map(|_| Trace::default()).collect(),
            load_s: loaded.seconds,
            last_save_error: None,
            recording: loaded.recording,
        };
        if s.is_audio() {
            s.view.span_s = s.duration_s();
        }
        s.set_view(0.0, s.view.span_s);
        s
    }

    /// For a recording read on demand whose view is short enough to be
    /// drawn from samples, the samples of channel 0 around it (a view's
    /// width before and two after) when they were not asked for already: a
    /// worker reads them ahead, so that scrolling finds them in the cache.
    pub fn span_to_warm(&mut self) -> Option<std::ops::Range<usize>> {
        let rate_hz = self.recording.channels.first()?.rate_hz;
        if !self.samples.is_paged() || rate_hz <= 0.0 {
            return None;
        }
        let at = |t_s: f64| (t_s.max(0.0) * rate_hz) as usize;
        let (start_s, span_s) = (self.view.start_s, self.view.span_s);
        let shown = at(start_s)..at(start_s + span_s);
        if shown.len() > spindle_signals::dsp::MAX_ON_DEMAND_SAMPLES {
            return None;
        }
        if self
            .warmed
            .as_ref()
            .is_some_and(|w| w.start <= shown.start && shown.end <= w.end)
        {
            return None;
        }
        let range = at(start_s - span_s)..at(start_s + 3.0 * span_s);
        self.warmed = Some(range.clone());
        Some(range)
    }

    /// The recording's duration, seconds.
    pub fn duration_s(&self) -> f64 {
        self.recording.duration_s()
    }

    /// True for audio (a fast-sampled single-channel recording, e.g. WAV).
    pub fn is_audio(&self) -> bool {
        self.recording.channels.iter().any(|c| c.is_audio())
    }

    /// What bounds the view: the recording's length and the narrowest span.
    pub fn limits(&self) -> ViewLimits {
        ViewLimits::new(self.duration_s(), self.is_audio())
    }

    /// Shows `[start_s, start_s + span_s]`, clamped to the recording.
    pub fn set_view(&mut self, start_s: f64, span_s: f64) {
        let lim = self.limits();
        self.view.set(start_s, span_s, lim);
    }

    /// Scrolls by `dt_s` seconds.
    pub fn scroll(&mut self, dt_s: f64) {
        let lim = self.limits();
        self.view.scroll(dt_s, lim);
    }

    /// Zooms by `factor` (< 1 zooms in) keeping time `at_s` in place.
    pub fn zoom(&mut self, factor: f64, at_s: f64) {
        let lim = self.limits();
        self.view.zoom(factor, at_s, lim);
    }

    /// The visible time range, seconds.
    pub fn view_range(&self) -> (f64, f64) {
        self.view.range()
    }

    /// The page shown in epoch mode (the page holding the view's start).
    pub fn page(&self, page_s: f64) -> usize {
        self.view.page(page_s)
    }

    /// Shows page `page` of `page_s` seconds.
    pub fn go_to_page(&mut self, page: usize, page_s: f64) {
        let lim = self.limits();
        self.view.go_to_page(page, page_s, lim);
    }

    /// Applies `edit` at time `now_s` (egui time), selects what it leaves and
    /// schedules an autosave. The error names the recording.
    pub fn apply(&mut self, edit: Edit, now_s: f64) -> Result<(), AppError> {
        let record = edit.clone();
        let kept = self.doc.apply(edit).map_err(|e| AppError::Edit {
            path: self.recording.path.clone(),
            reason: e.to_string(),
        })?;
        self.selection = kept;
        self.autosave.note_edit(now_s);
        self.journal_edit(Some(&record));
        Ok(())
    }

    /// Appends the change just made to the journal (a snapshot without an
    /// edit), unless an earlier session's journal awaits the user's decision.
    /// A failure is kept in [`Self::journal_error`]; the edit stands.
    fn journal_edit(&mut self, edit: Option<&Edit>) {
        if self.journal_offer.is_some() {
            return;
        }
        match self.journal.record(edit, self.doc.labels()) {
            Ok(()) => self.journal_error = None,
            Err(e) => {
                let path = self.journal.path().to_path_buf();
                self.journal_error = Some(AppError::JournalNotWritten {
                    reason: reason(&path, &e),
                    path,
                });
            }
        }
    }

    /// Undoes the last edit; false when there was none.
    pub fn undo(&mut self, now_s: f64) -> bool {
        match self.doc.undo() {
            Some(kept) => {
                self.selection = kept;
                self.autosave.note_edit(now_s);
                self.journal_edit(None);
                true
            }
            None => false,
        }
    }

    /// Redoes the last undone edit; false when there was none.
    pub fn redo(&mut self, now_s: f64) -> bool {
        match self.doc.redo() {
            Some(kept) => {
                self.selection = kept;
                self.autosave.note_edit(now_s);
                self.journal_edit(None);
                true
            }
            None => false,
        }
    }

    /// The labels' sidecar file.
    pub fn sidecar(&self) -> PathBuf {
        sidecar_path(&self.recording.path)
    }

    /// Writes the unsaved labels to a new file in `dir` (created), named after
    /// the recording and the time, for when the sidecar cannot be written
    /// and the app is closing. Returns the file written.
    pub fn rescue(&self, dir: &Path) -> Result<PathBuf, AppError> {
        let stem = self
            .recording
            .path
            .file_stem()
            .map_or_else(|| "recording".into(), |s| s.to_string_lossy().into_owned());
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let path = dir.join(format!("{stem}_events.rescued-{seconds}.tsv"));
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::LabelsNotSaved {
                path: path.clone(),
                reason: e.to_string(),
            })
            .and_then(|()| {
                write_events_tsv(&path, self.doc.labels()).map_err(|e| AppError::LabelsNotSaved {
                    reason: reason(&path, &e),
                    path: path.clone(),
                })
            })
            .map(|()| path.clone())
    }

    /// Writes the labels to the sidecar when they changed; the error names
    /// the sidecar. A success (or nothing to save) clears
    /// [`Self::last_save_error`]; a failure leaves it to the caller, who
    /// decides where to show it.
    pub fn save(&mut self) -> Result<(), AppError> {
        if !self.doc.is_dirty() {
            // Nothing unsaved (e.g. undone back to the saved labels).
            self.autosave.saved();
            self.last_save_error = None;
            return Ok(());
        }
        let sidecar = self.sidecar();
        if !self.autosave_enabled {
            return Err(AppError::LabelsNotSaved {
                path: sidecar,
                reason: "the file could not be read when opened; restore its backup or set it aside first (the buttons above the status bar)".into(),
            });
        }
        let revision = self.doc.revision();
        match write_events_tsv(&sidecar, self.doc.labels()) {
            Ok(()) => {
                self.doc.mark_saved(revision);
                self.autosave.saved();
                self.source = LabelSource::Sidecar(sidecar);
                self.last_save_error = None;
                if self.journal_offer.is_none() {
                    // Saved, so the journal holds nothing new; a journal left
                    // behind is recognized as saved when next opened.
                    let _ = self.journal.clear();
                }
                Ok(())
            }
            Err(e) => Err(AppError::LabelsNotSaved {
                reason: reason(&sidecar, &e),
                path: sidecar,
            }),
        }
    }

    /// Replaces the labels by `labels` as one undoable edit.
    fn replace_labels(&mut self, labels: LabelSet, now_s: f64) -> Result<(), AppError> {
        let edit = Edit::Replace {
            before: self.doc.labels().clone(),
            after: labels,
        };
        self.apply(edit, now_s)
    }

    /// Restores the labels an earlier session journaled (one undoable edit)
    /// and resumes journaling, which replaces that journal; autosave then
    /// saves them. Nothing happens without an offer.
    pub fn restore_journal(&mut self, now_s: f64) -> Result<(), AppError> {
        let Some(offer) = self.journal_offer.take() else {
            return Ok(());
        };
        if let Err(e) = self.replace_labels(offer.labels.clone(), now_s) {
            self.journal_offer = Some(offer);
            return Err(e);
        }
        Ok(())
    }

    /// Deletes the journal of an earlier session without applying it.
    pub fn discard_journal(&mut self) -> Result<(), AppError> {
        if self.journal_offer.take().is_none() {
            return Ok(());
        }
        self.journal.clear().map_err(|e| {
            let path = self.journal.path().to_path_buf();
            AppError::JournalNotWritten {
                reason: reason(&path, &e),
                path,
            }
        })
    }

    /// Sets the damaged sidecar aside (`X_events.tsv.damaged-<seconds>`) and
    /// turns autosave back on for the labels shown; returns the new name of
    /// the damaged file.
    pub fn set_damaged_aside(&mut self) -> Result<PathBuf, AppError> {
        let Some(damaged) = &self.damaged else {
            return Err(AppError::Recovery {
                path: self.sidecar(),
                reason: "the labels file is not damaged".into(),
            });
        };
        let aside = set_aside_damaged(&damaged.path).map_err(|e| AppError::Recovery {
            reason: reason(&damaged.path, &e),
            path: damaged.path.clone(),
        })?;
        self.damaged = None;
        self.autosave_enabled = true;
        Ok(aside)
    }

    /// Restores the labels of the damaged sidecar's backup: sets the damaged
    /// file aside, replaces the labels by the backup's (one undoable edit)
    /// and saves them to the sidecar at once. Returns the damaged file's new
    /// name.
    pub fn restore_backup(&mut self, now_s: f64) -> Result<PathBuf, AppError> {
        let Some(backup) = self.damaged.as_ref().and_then(|d| d.backup.clone()) else {
            return Err(AppError::Recovery {
                path: self.sidecar(),
                reason: "no readable backup to restore".into(),
            });
        };
        let aside = self.set_damaged_aside()?;
        self.replace_labels(backup, now_s)?;
        self.save()?;
        Ok(aside)
    }

    /// Rebuilds the label index if the labels changed since it was built.
    pub fn refresh_index(&mut self) {
        if self.index_revision != Some(self.doc.revision()) {
            self.label_index = IntervalIndex::new(
                self.doc
                    .labels()
                    .labels
                    .iter()
                    .map(|l| (l.onset_s, l.onset_s + l.duration_s)),
            );
            self.index_revision = Some(self.doc.revision());
        }
    }

    /// Moves channel at drawing position `pos` by `delta` positions.
    pub fn move_channel(&mut self, pos: usize, delta: isize) {
        let target = pos as isize + delta;
        if target >= 0 && (target as usize) < self.order.len() && pos < self.order.len() {
            self.order.swap(pos, target as usize);
        }
    }
}
