//! What panels ask the shell to do. Panels push [`AppCommand`]s while they
//! draw; the shell drains them in its logic step, so that no panel reaches
//! into another or starts work itself. This is the one way a panel reports
//! back; the only exception is a label `Edit` made by a gesture on the
//! open recording (viewer, keys, label table), which the panel applies to
//! the session at once (see CODE_STYLE.md, "Structure").

use std::path::PathBuf;

use spindle_learn::dataset::CvScheme;
use spindle_learn::train::TrainOptions;
use spindle_signals::dsp::SpectraRequest;

use super::error::AppError;

/// The main views of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// The signal viewer and labeling.
    #[default]
    Viewer,
    /// Dataset, model and training with live charts.
    Train,
    /// The scores of the open run.
    Results,
    /// What the open run's network relies on.
    Explain,
    /// Every run of the runs folder; compare.
    Runs,
}

impl Tab {
    /// Every tab, in bar order.
    pub const ALL: [Tab; 5] = [
        Tab::Viewer,
        Tab::Train,
        Tab::Results,
        Tab::Explain,
        Tab::Runs,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Viewer => "Recording",
            Tab::Train => "Train",
            Tab::Results => "Results",
            Tab::Explain => "Explain",
            Tab::Runs => "Runs",
        }
    }
}

/// A request from a panel to the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum AppCommand {
    /// Open a recording or browse a folder.
    Open(PathBuf),
    /// Show a view.
    ShowTab(Tab),
    /// Show an error in the window (listed above the status bar).
    Report(AppError),
    /// Build the dataset preview for the current training form.
    Preview,
    /// Start training with the current form.
    StartTraining,
    /// Map the windows of the run in this folder (Feature explorer, learned
    /// filters) with this projection (on a worker).
    MapRun(PathBuf, spindle_learn::explain::embedding::Projection),
    /// Explain the run in this folder with these options (on a worker).
    Explain(PathBuf, spindle_learn::explain::ExplainOptions),
    /// Pause, resume, stop or cancel the running job.
    Training(spindle_learn::train::Command),
    /// Start the bundled demo: sample EEG, a preconfigured model, at once.
    StartDemo,
    /// Start the regression demo: the reaction-time recordings, EEGNet
    /// predicting a number.
    StartRegressionDemo,
    /// List the runs folder again.
    RefreshRuns,
    /// Read a run folder and show its results.
    OpenRun(PathBuf),
    /// Read a run folder for comparison, without showing it in Results.
    ReadRun(PathBuf),
    /// Delete a run folder (already confirmed by the user).
    DeleteRun(PathBuf),
    /// Start the Train view's next run from this finished run's weights
    /// (fine-tuning) and show the Train view.
    FineTuneFrom(PathBuf),
    /// Save what the user says about a run (pin, tags, note) into its
    /// folder's `note.json` (on a worker).
    SaveRunNote(PathBuf, spindle_learn::runs::RunNote),
    /// Open a sweep folder in the Runs view.
    OpenSweep(PathBuf),
    /// Run a sweep's pending and failed tasks on this machine.
    RunSweepHere(PathBuf),
    /// Submit a sweep's pending and failed tasks to Slurm.
    SubmitSweep(PathBuf),
    /// Stop the sweep running on this machine.
    StopSweep,
    /// Plan a new sweep over the Train view's recordings and settings.
    PlanSweep(Box<NewSweep>),
    /// Open `file` in the viewer and show the window at `onset_s`.
    JumpTo {
        /// The recording.
        file: PathBuf,
        /// Start of the window, seconds.
        onset_s: f64,
        /// Length of the window, seconds.
        duration_s: f64,
    },
    /// Run the shown run's model on a recording and offer its predictions as
    /// suggested labels.
    SuggestLabels(PathBuf),
    /// Turn presentation mode on or off.
    SetPresentation(bool),
    /// Set each shown channel's gain so that the 1st–99th percentile range
    /// of its visible samples fills its lane (computed on a worker).
    FitGains,
    /// Set the open recording's damaged sidecar aside and use its backup's
    /// labels.
    RestoreBackup,
    /// Set the open recording's damaged sidecar aside and keep the labels
    /// shown.
    SetDamagedAside,
    /// Apply the edits an earlier session journaled for the open recording.
    RestoreJournal,
    /// Delete the journal of an earlier session's unsaved edits.
    DiscardJournal,
    /// Compute the spectra of the open recording's view (on a worker).
    Spectra(SpectraRequest),
    /// Start or stop playback of the visible span.
    Listen(ListenRequest),
    /// Accept or reject suggested labels.
    Suggestion(SuggestionChoice),
    /// Save the folder's label scheme (classes, colors, hotkeys).
    SaveScheme,
    /// Ask the user for a file or folder in a dialog, then act on it.
    Pick(Pick),
    /// Replace the Train view's settings (as a saved form would).
    SetTrainOptions(Box<TrainOptions>),
    /// Cross-validate the Train view's settings over its training
    /// recordings: one run folder per fold and `cv.json` in a new folder
    /// of the runs folder.
    CrossValidate(CvScheme),
    /// Cancel the running cross-validation.
    CancelCrossValidation,
    /// Read another scorer's file (events.tsv, EDF+ hypnogram, CSV) on a
    /// worker as the comparison layer of the open recording.
    Compare(PathBuf),
    /// Stage the open recording with the sleep run in this folder (on a
    /// worker): its stages, with a confidence per epoch, become the
    /// comparison layer.
    CompareWithRun(PathBuf),
    /// Remove the comparison layer.
    CloseComparison,
    /// Show the next (or previous) epoch where the comparison layer and the
    /// user's scoring disagree.
    StepDisagreement {
        /// Forward in time; else back.
        forward: bool,
    },
    /// A step of the confidence review of a model's layer.
    Review(ReviewStep),
}

/// A step of the confidence review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStep {
    /// Start at the model's least confident epoch.
    Start,
    /// Accept the model's stage for the epoch under review (an undoable
    /// label edit) and go on to the next.
    Accept,
    /// End the review.
    Stop,
}

/// Playback asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenRequest {
    /// Start playing the visible span.
    Play,
    /// Stop playing.
    Stop,
}

/// What the user chose among suggested labels (indices into their list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionChoice {
    /// Accept this one: it becomes a label (an undoable edit).
    Accept(usize),
    /// Reject this one.
    Reject(usize),
    /// Accept them all.
    AcceptAll,
    /// Reject them all.
    RejectAll,
}

/// What a file dialog asks for; the shell acts on the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// A recording to open.
    Recording,
    /// A folder to browse.
    Folder,
    /// Another runs folder.
    RunsFolder,
    /// A sweep folder to open in the Runs view.
    SweepFolder,
    /// A recording to apply the run shown in Results to.
    RecordingToSuggest,
    /// Another scorer's file to compare the open recording's labels with.
    Comparison,
    /// Where to export the open recording with its labels as EDF+.
    ExportEdf,
    /// Where to save the chart drawn in `rect` (points) as PNG.
    ChartPng {
        /// A file name to suggest, without extension.
        name: String,
        /// Where the chart is on screen, points.
        rect: eframe::egui::Rect,
    },
    /// Where to save the curves of these runs as one CSV file.
    CurvesCsv(Vec<PathBuf>),
}

/// The queue panels push onto during a frame.
#[derive(Debug, Default)]
pub struct Commands(Vec<AppCommand>);

impl Commands {
    /// Queues a command for the shell's next logic step.
    pub fn push(&mut self, command: AppCommand) {
        self.0.push(command);
    }

    /// Takes every queued command, oldest first.
    pub fn take(&mut self) -> Vec<AppCommand> {
        std::mem::take(&mut self.0)
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A new sweep as typed in the form: comma-separated values of the options
/// it varies; the rest comes from the Train view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSweep {
    /// Models, e.g. `mlp,eegnet` (empty: the Train view's).
    pub models: String,
    /// Learning rates, e.g. `1e-3,1e-2`.
    pub lrs: String,
    /// Seeds, e.g. `0,1,2`.
    pub seeds: String,
    /// Cross-validation: empty, a number of folds, or `loso`.
    pub cv: String,
    /// The sweep folder (empty: a new folder in the runs folder).
    pub out: String,
}
