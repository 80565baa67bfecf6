//! The recording open in the viewer: its data, its labels under edit (their
//! files written by its own label thread, `LabelSaver`), how it is being
//! viewed, and the caches of the view (samples asked of a worker, the
//! display-filtered span).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use spindle_signals::dsp::{DisplayFilter, IntervalIndex, MinMaxPyramid, Trace};
use spindle_signals::labeling::{
    AutosaveClock, DamagedSidecar, Edit, JournalReplay, LabelDocument, LabelSaver, SaverEvent,
    TimeView, ViewLimits, journal_path,
};
use spindle_signals::recording::{
    ChannelKind, Label, LabelSet, LabelSource, Recording, SampleStore, Segment, sidecar_path,
    write_events_tsv,
};
use spindle_signals::viewing::{Opened, OverviewEvent, OverviewJob};

use super::error::{AppError, reason};
use super::worker::Waker;

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
    /// The job building the overview of a recording read on demand
    /// (stopped when the session closes).
    overview: Option<OverviewJob>,
    /// Samples (channel, range) read on demand that the view wants and the
    /// cache does not hold yet (the viewer draws what is ready meanwhile).
    pub missing: Option<(usize, std::ops::Range<usize>)>,
    /// The samples last asked of a worker for the view.
    pub requested: Option<(usize, std::ops::Range<usize>)>,
    /// Samples of channel 0 last asked to be read ahead (recordings read on
    /// demand).
    warmed: Option<std::ops::Range<usize>>,
    /// Default amplitude per channel, physical units: three fill half a
    /// lane at gain 1 (the kind's standard scale, else a robust amplitude).
    pub amplitudes: Vec<f32>,
    /// What each channel measures (EEG, EOG, EMG, ECG, other).
    pub kinds: Vec<ChannelKind>,
    /// Let traces overflow their lanes (off: each is clipped to its lane).
    pub overflow: bool,
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
    /// The label thread: the sidecar, its backup and the journal are
    /// written there, in order.
    pub saver: LabelSaver,
    /// The revision being saved, until its answer arrives.
    pub saving: Option<u64>,
    /// Save again once the save in flight is answered (Ctrl+S meanwhile).
    save_again: bool,
    /// The backup's labels to restore once the damaged sidecar is set aside.
    restore_after_aside: Option<LabelSet>,
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
    /// The view's samples display-filtered off the frame.
    pub filtered: Filtered,
}

/// What a display-filtered span was computed for: the filter and the time
/// it covers, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterKey {
    /// The filter.
    pub filter: DisplayFilter,
    /// Start of the time covered, seconds.
    pub start_s: f64,
    /// End of the time covered, seconds.
    pub end_s: f64,
}

/// The open recording's samples around the view, display-filtered on a
/// worker (`filter_span`) and drawn from memory; one view's worth at a time.
#[derive(Debug, Default)]
pub struct Filtered {
    /// What `spans` hold.
    pub key: Option<FilterKey>,
    /// Per channel: the index of the first sample, and the filtered samples.
    pub spans: Vec<(usize, Vec<f32>)>,
    /// The span asked of a worker, until it arrives.
    pub pending: Option<FilterKey>,
    /// The view wants a span that is neither ready nor asked for.
    pub wanted: Option<FilterKey>,
}

impl Filtered {
    /// True when the spans are filtered with `filter` and cover
    /// `start_s..end_s`.
    pub fn covers(&self, filter: &DisplayFilter, start_s: f64, end_s: f64) -> bool {
        self.key.is_some_and(|k| {
            k.filter == *filter && k.start_s <= start_s + 1e-9 && end_s <= k.end_s + 1e-9
        })
    }
}

/// What the label thread's answers mean for the app.
#[derive(Debug)]
pub enum LabelNews {
    /// The labels were saved: the recording now has this many.
    Saved(usize),
    /// A save failed (also kept in `last_save_error`).
    SaveFailed,
    /// Something to say in the status bar.
    Notice(String),
    /// An error to list in the window.
    Report(AppError),
}

impl Session {
    /// A session for an opened recording, showing the first `window_s`
    /// seconds; its label thread and overview job wake the UI with `waker`.
    pub fn new(loaded: Opened, window_s: f64, waker: &Waker) -> Self {
        let n = loaded.recording.channels.len();
        let saver = LabelSaver::spawn(&loaded.recording.path, waker.as_fn());
        let mut s = Self {
            overview_fraction: loaded.overview.is_some().then_some(0.0),
            samples: loaded.samples,
            overview: loaded.overview,
            missing: None,
            requested: None,
            warmed: None,
            pyramids: loaded.pyramids,
            amplitudes: loaded.amplitudes,
            kinds: loaded.kinds,
            overflow: false,
            doc: LabelDocument::new(loaded.labels),
            source: loaded.source,
            class: loaded.class,
            autosave: AutosaveClock::default(),
            autosave_enabled: loaded.damaged.is_none(),
            damaged: loaded.damaged,
            journal_offer: loaded.journal,
            saver,
            saving: None,
            save_again: false,
            restore_after_aside: None,
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
            filtered: Filtered::default(),
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

    /// Hands the change just made to the label thread for the journal (a
    /// snapshot without an edit), unless an earlier session's journal
    /// awaits the user's decision. Its answer clears or sets
    /// [`Self::journal_error`]; the edit stands either way.
    fn journal_edit(&mut self, edit: Option<&Edit>) {
        if self.journal_offer.is_some() {
            return;
        }
        self.saver.journal(edit.cloned(), self.doc.labels().clone());
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

    /// Asks the label thread to write the labels to the sidecar when they
    /// changed (the answer arrives through [`Self::poll_labels`]); true when
    /// a save is under way. A save asked for while one is in flight follows
    /// it. The error (names the sidecar) when the sidecar could not be read
    /// when opened: saving would overwrite it.
    pub fn save(&mut self) -> Result<bool, AppError> {
        if !self.doc.is_dirty() {
            // Nothing unsaved (e.g. undone back to the saved labels).
            self.autosave.saved();
            if self.saving.is_none() {
                self.last_save_error = None;
            }
            return Ok(self.saving.is_some());
        }
        if !self.autosave_enabled {
            return Err(AppError::LabelsNotSaved {
                path: self.sidecar(),
                reason: "the file could not be read when opened; restore its backup or set it aside first (the buttons above the status bar)".into(),
            });
        }
        self.autosave.saved();
        if self.saving.is_some() {
            self.save_again = true;
            return Ok(true);
        }
        let revision = self.doc.revision();
        self.saving = Some(revision);
        self.saver.save(
            revision,
            self.doc.labels().clone(),
            self.journal_offer.is_none(),
        );
        Ok(true)
    }

    /// True while the labels are dirty or a label file is being written.
    pub fn has_unsaved_work(&self) -> bool {
        self.doc.is_dirty() || self.saver.is_busy()
    }

    /// Takes the label thread's answers (never blocks) and folds them in;
    /// what the app should know of them. `now_s` is egui time.
    pub fn poll_labels(&mut self, now_s: f64) -> Vec<LabelNews> {
        let answers = self.saver.poll();
        answers
            .into_iter()
            .filter_map(|a| self.on_label_answer(a, now_s))
            .collect()
    }

    /// Waits up to `limit` for the label thread to answer everything (when
    /// the app closes); what the app should know of the answers.
    pub fn flush_labels(&mut self, limit: Duration) -> Vec<LabelNews> {
        let deadline = std::time::Instant::now() + limit;
        let mut news = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let answers = self.saver.flush(left);
            // An answer may ask for more (a save that follows the one in
            // flight), which is waited for too.
            news.extend(
                answers
                    .into_iter()
                    .filter_map(|a| self.on_label_answer(a, 0.0)),
            );
            if !self.saver.is_busy() || left.is_zero() {
                return news;
            }
        }
    }

    fn on_label_answer(&mut self, answer: SaverEvent, now_s: f64) -> Option<LabelNews> {
        match answer {
            SaverEvent::Journaled(Ok(())) => self.journal_error = None,
            SaverEvent::Journaled(Err(e)) | SaverEvent::JournalCleared(Err(e)) => {
                let path = journal_path(&self.sidecar());
                let error = AppError::JournalNotWritten {
                    reason: reason(&path, &e),
                    path,
                };
                self.journal_error = Some(error.clone());
                return Some(LabelNews::Report(error));
            }
            SaverEvent::JournalCleared(Ok(())) => {}
            SaverEvent::Saved { revision, result } => return Some(self.on_saved(revision, result)),
            SaverEvent::SetAside(result) => return Some(self.on_set_aside(result, now_s)),
        }
        None
    }

    /// A save was answered.
    fn on_saved(
        &mut self,
        revision: u64,
        result: Result<(), spindle_signals::recording::RecordingError>,
    ) -> LabelNews {
        self.saving = None;
        let news = match result {
            Ok(()) => {
                self.doc.mark_saved(revision);
                self.source = LabelSource::Sidecar(self.sidecar());
                self.last_save_error = None;
                LabelNews::Saved(self.doc.labels().len())
            }
            Err(e) => {
                let sidecar = self.sidecar();
                self.last_save_error = Some(AppError::LabelsNotSaved {
                    reason: reason(&sidecar, &e),
                    path: sidecar,
                });
                LabelNews::SaveFailed
            }
        };
        if std::mem::take(&mut self.save_again) && self.doc.is_dirty() {
            // Any error here is the damaged sidecar's, shown already.
            let _ = self.save();
        }
        news
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

    /// Asks the label thread to delete the journal of an earlier session
    /// without applying it.
    pub fn discard_journal(&mut self) {
        if self.journal_offer.take().is_some() {
            self.saver.clear_journal();
        }
    }

    /// Asks the label thread to set the damaged sidecar aside
    /// (`X_events.tsv.damaged-<seconds>`); once it has, autosave is on
    /// again for the labels shown.
    pub fn set_damaged_aside(&mut self) -> Result<(), AppError> {
        let Some(damaged) = &self.damaged else {
            return Err(AppError::Recovery {
                path: self.sidecar(),
                reason: "the labels file is not damaged".into(),
            });
        };
        let path = damaged.path.clone();
        self.saver.set_aside(path);
        Ok(())
    }

    /// Restores the labels of the damaged sidecar's backup: sets the damaged
    /// file aside, then replaces the labels by the backup's (one undoable
    /// edit) and saves them to the sidecar at once.
    pub fn restore_backup(&mut self) -> Result<(), AppError> {
        let Some(backup) = self.damaged.as_ref().and_then(|d| d.backup.clone()) else {
            return Err(AppError::Recovery {
                path: self.sidecar(),
                reason: "no readable backup to restore".into(),
            });
        };
        self.set_damaged_aside()?;
        self.restore_after_aside = Some(backup);
        Ok(())
    }

    /// The damaged sidecar was set aside (or could not be).
    fn on_set_aside(
        &mut self,
        result: Result<PathBuf, spindle_signals::recording::RecordingError>,
        now_s: f64,
    ) -> LabelNews {
        let restore = self.restore_after_aside.take();
        let aside = match result {
            Ok(aside) => aside,
            Err(e) => {
                let path = self.sidecar();
                return LabelNews::Report(AppError::Recovery {
                    reason: reason(&path, &e),
                    path,
                });
            }
        };
        self.damaged = None;
        self.autosave_enabled = true;
        let Some(backup) = restore else {
            return LabelNews::Notice(format!(
                "the damaged labels file is kept as {}",
                aside.display()
            ));
        };
        if let Err(e) = self
            .replace_labels(backup, now_s)
            .and_then(|()| self.save())
        {
            return LabelNews::Report(e);
        }
        LabelNews::Notice(format!(
            "labels restored from the backup; the damaged file is kept as {}",
            aside.display()
        ))
    }

    /// Takes what the overview job reported: progress, the pyramids, or why
    /// it failed (to report, naming the file).
    pub fn poll_overview(&mut self) -> Option<AppError> {
        let job = self.overview.as_ref()?;
        let mut failure = None;
        let mut done = false;
        for event in job.events.try_iter() {
            match event {
                OverviewEvent::Progress(f) => self.overview_fraction = Some(f),
                OverviewEvent::Ready(pyramids) => {
                    self.pyramids = pyramids;
                    self.overview_fraction = None;
                    done = true;
                }
                OverviewEvent::Failed(error) => {
                    let path = self.recording.path.clone();
                    failure = Some(AppError::ReadFailed {
                        reason: reason(&path, error),
                        path,
                    });
                    done = true;
                }
            }
        }
        if done {
            self.overview = None;
        }
        failure
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

    /// The display-filtered span to ask for when the view wants `filter`:
    /// the view and, each side, as much again as keeps a channel under
    /// [`MAX_FILTERED_SAMPLES`](spindle_signals::dsp::MAX_FILTERED_SAMPLES)
    /// (at most a view's width), so that scrolling finds it ready.
    pub fn filter_key(&self, filter: DisplayFilter) -> FilterKey {
        let rate_hz = self
            .recording
            .channels
            .iter()
            .map(|c| c.rate_hz)
            .fold(1.0, f64::max);
        let span_s = self.view.span_s;
        let budget_s = spindle_signals::dsp::MAX_FILTERED_SAMPLES as f64 / rate_hz;
        let extra_s = ((budget_s - span_s) / 2.0).clamp(0.0, span_s);
        FilterKey {
            filter,
            start_s: (self.view.start_s - extra_s).max(0.0),
            end_s: (self.view.start_s + span_s + extra_s).min(self.duration_s()),
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

/// The display-filtered samples of every channel of `recording` for `key`
/// (each with the filter's margin around it, filtered run by run): what a
/// worker computes for [`Filtered`]. Channels that cover the same samples
/// are filtered together. Reads the store, so never in a frame.
pub fn filter_spans(
    recording: &Recording,
    samples: &SampleStore,
    key: &FilterKey,
) -> Result<Vec<(usize, Vec<f32>)>, spindle_signals::recording::RecordingError> {
    let ranges: Vec<Range<usize>> = recording
        .channels
        .iter()
        .enumerate()
        .map(|(c, ch)| {
            let margin = key.filter.margin_samples(ch.rate_hz) + 2;
            let span = sample_range(
                &recording.segments,
                ch.rate_hz,
                samples.len(c),
                key.start_s..key.end_s,
            );
            span.start.saturating_sub(margin)..(span.end + margin).min(samples.len(c))
        })
        .collect();
    let mut spans: Vec<(usize, Vec<f32>)> = vec![(0, Vec::new()); ranges.len()];
    let mut done = vec![false; ranges.len()];
    for c in 0..ranges.len() {
        if done[c] {
            continue;
        }
        let rate_hz = recording.channels[c].rate_hz;
        let group: Vec<usize> = (c..ranges.len())
            .filter(|&d| {
                !done[d] && ranges[d] == ranges[c] && recording.channels[d].rate_hz == rate_hz
            })
            .collect();
        let values = spindle_signals::dsp::filter_span(
            samples,
            &group,
            rate_hz,
            &recording.segments,
            ranges[c].clone(),
            &key.filter,
        )?;
        for (&d, v) in group.iter().zip(values) {
            spans[d] = (ranges[c].start, v);
            done[d] = true;
        }
    }
    Ok(spans)
}

/// The samples of a channel of `len` samples at `rate_hz` that lie in the
/// time `span_s`, data being laid out in `segments` (empty: one run from 0 s).
fn sample_range(
    segments: &[Segment],
    rate_hz: f64,
    len: usize,
    span_s: Range<f64>,
) -> Range<usize> {
    let whole = [Segment {
        onset_s: 0.0,
        duration_s: len as f64 / rate_hz.max(1e-9),
    }];
    let segments = if segments.is_empty() {
        &whole[..]
    } else {
        segments
    };
    let (mut lo, mut hi) = (len, 0);
    let mut data_s = 0.0;
    for seg in segments {
        let first = data_s * rate_hz;
        data_s += seg.duration_s;
        let t0 = span_s.start.max(seg.onset_s);
        let t1 = span_s.end.min(seg.onset_s + seg.duration_s);
        if t1 < t0 {
            continue;
        }
        lo = lo.min((first + (t0 - seg.onset_s) * rate_hz).floor().max(0.0) as usize);
        hi = hi.max((first + (t1 - seg.onset_s) * rate_hz).ceil().max(0.0) as usize + 1);
    }
    let hi = hi.min(len);
    lo.min(hi)..hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_span_maps_to_samples_across_gaps() {
        let plain = sample_range(&[], 100.0, 1000, 2.0..3.0);
        assert_eq!(plain, 200..301);
        // Two runs of 5 s with a 10 s gap: 17 s is 2 s into the second run.
        let gapped = [
            Segment {
                onset_s: 0.0,
                duration_s: 5.0,
            },
            Segment {
                onset_s: 15.0,
                duration_s: 5.0,
            },
        ];
        assert_eq!(sample_range(&gapped, 100.0, 1000, 17.0..18.0), 700..801);
        assert_eq!(sample_range(&gapped, 100.0, 1000, 4.0..16.0), 400..601);
        assert_eq!(sample_range(&gapped, 100.0, 1000, 8.0..12.0), 0..0);
    }
}
