//! The app's state in named parts, and the one rule by which derived
//! caches are rebuilt.
//!
//! - [`Shell`]: the window itself (settings, view shown, errors, notice,
//!   browser, what waits for the next logic step).
//! - [`OpenRecording`]: the recording open in the viewer (its [`Session`]:
//!   labels, view and the view's caches), the one being opened, the
//!   recording's label scheme and what belongs to the recording (spectrum,
//!   playback, suggestions, the comparison layer and its review).
//! - [`RunsPart`]: the runs folder, the runs listed, the run shown in
//!   Results, the sweep running here, and when each was last read.
//! - [`TrainingPart`]: the Train view (form, preview, job), the Explain
//!   view (explanation, job), and a cross-validation started from the app.
//! - [`Derived`]: what is computed from the others for drawing (the
//!   ribbons under the traces, the saliency over them, the night's
//!   hypnogram and statistics, the comparison layer's agreement).
//!
//! **The invalidation rule.** An input a derived cache is built from is a
//! [`Tracked`] value (the preview, the run shown, the suggestions, the
//! comparison layer, the explanation): every mutable access gives it a new revision. A derived
//! cache keeps the revisions (and the open recording) it was built from,
//! and [`Derived::refresh`], called once per logic step, rebuilds exactly
//! the caches whose inputs differ. No other code bumps a generation or
//! compares a hand-made key. The session's own caches follow the same
//! rule with their own revisions: the label index with the document's
//! revision, each channel's trace with its inputs (`Trace::compute`), the
//! display-filtered span with the filter and time it covers.

use std::path::{Path, PathBuf};
use std::time::Instant;

use spindle_learn::jobs::SweepJob;
use spindle_learn::runs::RunSnapshot;
use spindle_signals::labeling::{LabelScheme, Suggestions};
use spindle_signals::recording::{ChannelKind, Label, LabelSet};

use crate::gui::browser::Browser;
use crate::gui::command::Tab;
use crate::gui::compare::{self, Agreement, Comparison, Review};
use crate::gui::error::AppError;
use crate::gui::explain::{ExplainPanel, HeatSpan, Overlay, heat_spans};
use crate::gui::frame_stats::FrameStats;
use crate::gui::hypnogram::{Night, TestNight, night_of, test_nights};
use crate::gui::labels::LabelsPanel;
use crate::gui::lanes;
use crate::gui::listen::Listening;
use crate::gui::results::ResultsPanel;
use crate::gui::ribbons;
use crate::gui::runs::RunsPanel;
use crate::gui::session::Session;
use crate::gui::settings::{Settings, ThemeChoice};
use crate::gui::spectrum::SpectrumPanel;
use crate::gui::tracked::Tracked;
pub use crate::gui::training::CrossValidation;
use crate::gui::training::{PreviewState, TrainingPanel};
use crate::gui::viewer::Ribbon;

/// The window: settings, the view shown, messages, the browser.
pub struct Shell {
    /// The settings (persisted by eframe).
    pub settings: Settings,
    /// The view shown.
    pub tab: Tab,
    /// Presentation mode: larger type, thicker lines, fewer panels.
    pub presenting: bool,
    /// Errors listed above the status bar until dismissed.
    pub errors: Vec<AppError>,
    /// The last thing done, in the status bar.
    pub notice: Option<String>,
    /// The recordings of the open folder.
    pub browser: Browser,
    /// Paths to open at the next logic step.
    pub pending: Vec<PathBuf>,
    /// Open the first recording of the scanned folder (startup with folders only).
    pub auto_open: bool,
    /// The demo waits for the sample folder's scan to start training.
    pub demo_pending: Option<Demo>,
    /// A file dialog is open (on the dialog worker).
    pub asking: bool,
    /// A chart to capture (points) and the PNG file it goes to.
    pub screenshot: Option<(eframe::egui::Rect, PathBuf)>,
    /// The theme last applied.
    pub applied_theme: Option<ThemeChoice>,
    /// The keyboard help window is open.
    pub show_help: bool,
    /// Frame timing, when asked for.
    pub frame_stats: Option<FrameStats>,
    /// Print the frame statistics (`--frame-stats`).
    pub print_frame_stats: bool,
    /// The frame-time window is open.
    pub show_frame_stats: bool,
    /// Seconds the last logic step took.
    pub logic_s: f64,
    /// The UI thread's CPU seconds when the last logic step began.
    pub thread_cpu_mark_s: Option<f64>,
    /// The UI thread's CPU seconds from the logic step before the last to
    /// the last (one whole frame: logic, UI pass, tessellation, painting).
    pub previous_frame_thread_cpu_s: Option<f64>,
}

/// The recording open in the viewer and what belongs to it.
#[derive(Default)]
pub struct OpenRecording {
    /// The open recording: data, labels under edit, view and its caches.
    pub session: Option<Session>,
    /// The recording being opened.
    pub loading: Option<PathBuf>,
    /// When the recording being opened was asked for, until its first
    /// traces are drawn (printed with `--frame-stats`).
    pub opening_since: Option<Instant>,
    /// A recording to open once the open one's labels are saved.
    pub switch_to: Option<PathBuf>,
    /// A view to show once its recording is open: `(file, start_s, span_s)`.
    pub pending_jump: Option<(PathBuf, f64, f64)>,
    /// The label classes of the open recording: its folder's saved scheme
    /// and its labels' classes.
    pub scheme: LabelScheme,
    /// The folder the scheme belongs to (the open recording's).
    pub scheme_folder: Option<PathBuf>,
    /// The label panel's own state.
    pub labels_panel: LabelsPanel,
    /// The spectrum panel (spectra of the view, computed on a worker).
    pub spectrum: SpectrumPanel,
    /// Audio playback.
    pub listening: Listening,
    /// Suggested labels waiting for the user, for one recording.
    pub suggestions: Tracked<Option<(PathBuf, Suggestions)>>,
    /// Another scorer's scoring (a file, or a run's stages) shown beside the
    /// user's labels, never mixed into them.
    pub comparison: Tracked<Option<Comparison>>,
    /// The confidence review of a model's comparison layer, while on.
    pub review: Option<Review>,
}

impl OpenRecording {
    /// The open recording's path.
    pub fn path(&self) -> Option<&Path> {
        self.session.as_ref().map(|s| s.recording.path.as_path())
    }

    /// The open recording's labels.
    pub fn labels(&self) -> Option<&LabelSet> {
        self.session.as_ref().map(|s| s.doc.labels())
    }

    /// The comparison layer of the open recording (a layer of another
    /// recording waits until that one is open again).
    pub fn comparison(&self) -> Option<&Comparison> {
        let path = self.path()?;
        self.comparison.as_ref().filter(|c| c.recording == path)
    }

    /// The selected label.
    pub fn selection(&self) -> Option<&Label> {
        self.session.as_ref().and_then(|s| s.selection.as_ref())
    }

    /// The visible time range of the viewer, seconds.
    pub fn view_range(&self) -> Option<(f64, f64)> {
        self.session.as_ref().map(Session::view_range)
    }

    /// Names of the channels drawn, in drawing order.
    pub fn visible_channels(&self) -> Vec<String> {
        let Some(s) = &self.session else {
            return Vec::new();
        };
        s.order
            .iter()
            .filter(|&&c| s.channels[c].visible)
            .map(|&c| s.recording.channels[c].label.clone())
            .collect()
    }

    /// Each channel's lane, in channel order: its name, kind, own gain and
    /// scale (`50 µV/div`); empty without a recording.
    pub fn lanes(&self) -> Vec<LaneInfo> {
        let Some(s) = &self.session else {
            return Vec::new();
        };
        (0..s.recording.channels.len())
            .map(|c| LaneInfo {
                name: s.recording.channels[c].label.clone(),
                kind: s.kinds[c],
                gain: s.channels[c].gain,
                scale: lanes::scale_text(s, c),
            })
            .collect()
    }

    /// True when each trace is clipped to its lane (the view's "Let traces
    /// overflow their lanes" is off).
    pub fn clips_to_lanes(&self) -> bool {
        self.session.as_ref().is_some_and(|s| !s.overflow)
    }

    /// True when the open recording's samples are read from its file on
    /// demand (a large EDF/BDF file) rather than held in memory.
    pub fn reads_on_demand(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.samples.is_paged())
    }

    /// For an open recording read on demand, how much of its overview is
    /// built (0..=1) while it is being built; `None` otherwise.
    pub fn overview_progress(&self) -> Option<f64> {
        self.session.as_ref().and_then(|s| s.overview_fraction)
    }
}

/// One channel's lane as the viewer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneInfo {
    /// The channel's name.
    pub name: String,
    /// What it measures.
    pub kind: ChannelKind,
    /// Its own gain (on top of the global gain).
    pub gain: f32,
    /// Its scale in words: the amount one division (half a lane) spans.
    pub scale: String,
}

/// The runs folder and the runs shown.
pub struct RunsPart {
    /// The runs folder.
    pub dir: PathBuf,
    /// The Runs view: the runs listed, compared, the sweep open.
    pub panel: RunsPanel,
    /// The run shown in Results (and drawn on the recording).
    pub result_run: Tracked<Option<RunSnapshot>>,
    /// The run folder Results should show (loading or loaded).
    pub results_dir: Option<PathBuf>,
    /// The Results view's own state.
    pub results: ResultsPanel,
    /// The sweep running on this machine.
    pub sweep_job: Option<SweepJob>,
    /// egui time of the last re-read of the open sweep, seconds.
    pub last_sweep_poll_s: f64,
    /// egui time of the last re-read of live runs, seconds.
    pub last_live_poll_s: f64,
    /// egui time of the last listing of the runs folder, seconds.
    pub last_list_s: f64,
}

/// The Train and Explain views.
#[derive(Default)]
pub struct TrainingPart {
    /// The Train view: form, preview, job and curves.
    pub panel: TrainingPanel,
    /// The Explain view: explanation, its job, the overlay choice.
    pub explain: ExplainPanel,
    /// The last cross-validation started from the app.
    pub cv: Option<CrossValidation>,
}

/// The inputs a derived cache was built from: the open recording and the
/// revisions of the tracked values it reads.
type Inputs = (Option<PathBuf>, Vec<u64>);

/// What is computed from the other parts for drawing, each with the inputs
/// it was built from (see the module's invalidation rule).
#[derive(Default)]
pub struct Derived {
    /// Bands under the traces: dataset windows, predictions, suggestions.
    pub ribbons: Vec<Ribbon>,
    ribbons_from: Option<Inputs>,
    /// Saliency drawn over the traces of the open recording.
    pub heat: Vec<HeatSpan>,
    heat_from: Option<(Inputs, Overlay)>,
    /// The sleep stages the open recording's labels score, with their
    /// statistics (the hypnogram strip).
    pub night: Option<Night>,
    /// The recording (samples identity) and label revision `night` is of.
    night_from: Option<(usize, u64)>,
    /// The agreement of the user's scoring with the comparison layer.
    pub agreement: Option<Agreement>,
    /// The recording and label revision, and the layer's revision, that
    /// `agreement` is of.
    agreement_from: Option<((usize, u64), u64)>,
    /// The test recordings of the run shown, when it is a sleep stager
    /// (the hypnograms in Results).
    pub test_nights: Vec<TestNight>,
    /// The revision of the run shown `test_nights` is of.
    test_nights_from: Option<u64>,
}

impl Derived {
    /// Rebuilds the caches whose inputs changed since they were built.
    pub fn refresh(&mut self, open: &OpenRecording, runs: &RunsPart, training: &TrainingPart) {
        let path = open.path().map(Path::to_path_buf);
        let inputs: Inputs = (
            path.clone(),
            vec![
                training.panel.preview.revision(),
                runs.result_run.revision(),
                open.suggestions.revision(),
            ],
        );
        if self.ribbons_from.as_ref() != Some(&inputs) {
            // Built below, with the comparison layer's ribbon.
            self.ribbons_from = None;
        }
        let explain = &training.explain;
        let inputs = (
            (path.clone(), vec![explain.explanation.revision()]),
            explain.overlay,
        );
        if self.heat_from.as_ref() != Some(&inputs) {
            self.heat = match (&path, explain.explanation.as_ref()) {
                (Some(path), Some((_, e))) => heat_spans(e, path, explain.overlay),
                _ => Vec::new(),
            };
            self.heat_from = Some(inputs);
        }
        if self.test_nights_from != Some(runs.result_run.revision()) {
            self.test_nights = runs
                .result_run
                .as_ref()
                .map(test_nights)
                .unwrap_or_default();
            self.test_nights_from = Some(runs.result_run.revision());
        }
        let labels = open
            .session
            .as_ref()
            .map(|s| (s.samples.identity(), s.doc.revision()));
        if self.night_from != labels {
            self.night = open.session.as_ref().and_then(|s| night_of(s.doc.labels()));
            self.night_from = labels;
        }
        let inputs = labels.map(|l| (l, open.comparison.revision()));
        if self.agreement_from != inputs {
            let had = self.agreement.is_some();
            self.agreement = open.comparison().map(|c| {
                compare::agreement_of(self.night.as_ref().map(|n| &n.scoring), &c.scoring)
            });
            self.agreement_from = inputs;
            // The layer's ribbon flags the disagreements.
            if had || self.agreement.is_some() {
                self.ribbons_from = None;
            }
        }
        if self.ribbons_from.is_none() {
            self.ribbons = build_ribbons(path.as_deref(), open, runs, training);
            if let (Some(c), Some(a)) = (open.comparison(), &self.agreement) {
                self.ribbons
                    .insert(0, compare::ribbon(c, &open.scheme, &a.disagreements));
            }
            self.ribbons_from = Some((
                path,
                vec![
                    training.panel.preview.revision(),
                    runs.result_run.revision(),
                    open.suggestions.revision(),
                ],
            ));
        }
    }
}

/// The ribbons of the recording at `path`: the dataset preview's windows,
/// the shown run's predictions, the suggestions.
fn build_ribbons(
    path: Option<&Path>,
    open: &OpenRecording,
    runs: &RunsPart,
    training: &TrainingPart,
) -> Vec<Ribbon> {
    let Some(path) = path else {
        return Vec::new();
    };
    let mut ribbons = Vec::new();
    if let PreviewState::Ready(p) = &*training.panel.preview {
        ribbons.extend(ribbons::dataset_windows(p, path));
    }
    if let Some(run) = runs.result_run.as_ref() {
        ribbons.extend(ribbons::predictions(run, path, &open.scheme));
    }
    if let Some((file, s)) = open.suggestions.as_ref()
        && file == path
    {
        ribbons.extend(ribbons::suggestions(s, &open.scheme));
    }
    ribbons
}

/// The app's parts, read-only: what tests (and anything else outside the
/// shell) read the app's state through.
#[derive(Clone, Copy)]
pub struct Parts<'a> {
    /// The window.
    pub shell: &'a Shell,
    /// The open recording.
    pub recording: &'a OpenRecording,
    /// The runs.
    pub runs: &'a RunsPart,
    /// The Train and Explain views.
    pub training: &'a TrainingPart,
    /// The derived caches.
    pub derived: &'a Derived,
}

/// Which bundled demo to start once the sample folder is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demo {
    /// Classify the sample EEG's trials (eyes open, closed, blink, jaw).
    Classification,
    /// Predict a number: the reaction time from occipital alpha
    /// (`sample_data/reaction_time`).
    Regression,
}
