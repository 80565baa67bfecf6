//! The comparison layer's flows: another scorer's file or a sleep run's
//! stages read on the work lane into the layer of the open recording,
//! stepping the view through the disagreements, and the confidence review
//! of a model's layer, whose accepted and corrected epochs are ordinary,
//! undoable label edits.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Key, Modifiers};
use spindle_learn::train::{DeviceChoice, run_stages, stage_classes};
use spindle_signals::labeling::rules::{self, HotkeyAction};
use spindle_signals::scoring::{
    EpochScoring, SleepStage, TIME_EPS_S, next_disagreement, previous_disagreement,
    read_scoring_file,
};

use crate::gui::command::{AppCommand, ReviewStep, Tab};
use crate::gui::compare::{Comparison, Review};
use crate::gui::error::{AppError, reason};
use crate::gui::worker::Lane;

use super::SpindleApp;

/// The keys that score a stage: digits by the scheme's hotkeys, W and R.
const DIGITS: [Key; 10] = [
    Key::Num0,
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

impl SpindleApp {
    /// Reads the scorer's file at `file` on the work lane; its scoring
    /// becomes the comparison layer of the open recording.
    pub(super) fn compare_with_file(&mut self, file: PathBuf) {
        let Some(recording) = self.recording.path().map(Path::to_path_buf) else {
            return;
        };
        // The user's epochs when the labels are a scoring, else inferred
        // from the file (a CSV without times: 30 s).
        let epoch_s = self.derived.night.as_ref().map(|n| n.scoring.epoch_s);
        let (f, about) = (file.clone(), file.clone());
        self.queue(
            Lane::Work,
            Some(&about),
            "reading a scoring to compare",
            move || read_scoring_file(&f, epoch_s),
            move |app, read| {
                let layer = read.map_err(|e| e.to_string()).and_then(|split| {
                    split
                        .scoring
                        .ok_or_else(|| "holds no sleep-stage labels to compare".to_owned())
                });
                let name = file.file_name().map_or_else(
                    || file.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                app.on_layer(recording, file, name, layer);
            },
        );
    }

    /// Stages `file` with the sleep run in `run` on the work lane; its
    /// stages, with a confidence per epoch, become the comparison layer.
    pub(super) fn compare_with_run(&mut self, run: PathBuf, file: PathBuf) {
        let (r, f, about) = (run.clone(), file.clone(), run.clone());
        self.queue(
            Lane::Work,
            Some(&about),
            "staging the night with the run",
            move || run_stages(&r, &f, DeviceChoice::Cpu),
            move |app, staged| {
                let name = run.file_name().map_or_else(
                    || run.display().to_string(),
                    |n| format!("{} (model)", n.to_string_lossy()),
                );
                app.on_layer(file, run, name, staged.map_err(|e| e.to_string()));
            },
        );
        self.shell.notice = Some("staging the night with the run…".to_owned());
    }

    /// The folder of the run shown in Results when it is a sleep stager
    /// (its classes are sleep stages).
    pub(super) fn sleep_run_shown(&self) -> Option<PathBuf> {
        let dir = self.runs.results_dir.as_ref()?;
        let run = self.runs.result_run.as_ref().filter(|r| &r.dir == dir)?;
        let info = run.info.as_ref()?;
        stage_classes(&info.classes, info.regression)
            .is_ok()
            .then(|| dir.clone())
    }

    /// A layer was read (or why not).
    fn on_layer(
        &mut self,
        recording: PathBuf,
        source: PathBuf,
        name: String,
        layer: Result<EpochScoring, String>,
    ) {
        match layer {
            Ok(scoring) => {
                self.shell.notice = Some(format!(
                    "{name}: {} epochs to compare with yours",
                    scoring.scored_epochs()
                ));
                self.recording.review = None;
                self.recording.comparison.set(Some(Comparison {
                    recording,
                    source,
                    name,
                    scoring,
                }));
                self.shell.tab = Tab::Viewer;
            }
            Err(error) => self.report(AppError::Compare {
                reason: reason(&source, error),
                path: source,
            }),
        }
    }

    /// Carries out the layer's commands.
    pub(super) fn on_compare_command(&mut self, command: AppCommand, now_s: f64) {
        match command {
            AppCommand::Compare(file) => self.compare_with_file(file),
            AppCommand::CompareWithRun(run) => {
                if let Some(file) = self.recording.path().map(Path::to_path_buf) {
                    self.compare_with_run(run, file);
                }
            }
            AppCommand::CloseComparison => {
                self.recording.comparison.set(None);
                self.recording.review = None;
            }
            AppCommand::StepDisagreement { forward } => self.step_disagreement(forward),
            AppCommand::Review(ReviewStep::Start) => self.start_review(),
            AppCommand::Review(ReviewStep::Accept) => self.review_write(None, now_s),
            AppCommand::Review(ReviewStep::Stop) => self.recording.review = None,
            _ => {}
        }
    }

    /// Shows the next (or previous) epoch where the layer and the user's
    /// scoring disagree, its label selected.
    fn step_disagreement(&mut self, forward: bool) {
        let Some(agreement) = &self.derived.agreement else {
            return;
        };
        let epoch_s = match (&agreement.result, self.recording.comparison()) {
            (Ok(a), _) => a.epoch_s,
            (Err(_), Some(c)) => c.scoring.epoch_s,
            _ => return,
        };
        let Some(s) = &mut self.recording.session else {
            return;
        };
        let here = if s.epoch_mode {
            s.view.start_s
        } else {
            s.view.start_s + (s.view.span_s - epoch_s) / 2.0
        };
        let onsets = &agreement.disagreements;
        let found = if forward {
            next_disagreement(onsets, here, epoch_s)
        } else {
            previous_disagreement(onsets, here, epoch_s)
        };
        let Some(onset_s) = found else {
            self.shell.notice = Some(format!(
                "no disagreement {} this epoch",
                if forward { "after" } else { "before" }
            ));
            return;
        };
        show_epoch(s, onset_s, epoch_s, self.shell.settings.page_s);
        s.selection = s
            .doc
            .labels()
            .labels
            .iter()
            .find(|l| (l.onset_s - onset_s).abs() < TIME_EPS_S)
            .cloned();
        let n = onsets
            .iter()
            .filter(|&&o| o <= onset_s + TIME_EPS_S)
            .count();
        self.shell.notice = Some(format!("disagreement {n} of {}", onsets.len()));
    }

    /// Starts the review of a model's layer at its least confident epoch,
    /// in epoch scoring.
    fn start_review(&mut self) {
        let page_s = self.shell.settings.page_s;
        let Some(c) = self.recording.comparison() else {
            return;
        };
        if (c.scoring.epoch_s - page_s).abs() > TIME_EPS_S {
            self.shell.notice = Some(format!(
                "the model scores {} s epochs; set the epoch length to {} s to review them",
                c.scoring.epoch_s, c.scoring.epoch_s
            ));
            return;
        }
        let Some(review) = Review::of(&c.scoring) else {
            return;
        };
        self.recording.review = Some(review);
        if let Some(s) = &mut self.recording.session {
            s.epoch_mode = true;
            s.selection = None;
        }
        self.show_reviewed();
    }

    /// Shows the epoch under review.
    fn show_reviewed(&mut self) {
        let page_s = self.shell.settings.page_s;
        let (Some(c), Some(review)) = (self.recording.comparison(), &self.recording.review) else {
            return;
        };
        let Some(i) = review.current() else {
            return;
        };
        let (onset_s, epoch_s) = (c.scoring.onset_s(i), c.scoring.epoch_s);
        if let Some(s) = &mut self.recording.session {
            show_epoch(s, onset_s, epoch_s, page_s);
        }
    }

    /// Writes the stage of the epoch under review as the user's label (the
    /// model's stage when `class` is `None`: accepting), an ordinary
    /// undoable edit, and moves on to the next least confident epoch.
    fn review_write(&mut self, class: Option<String>, now_s: f64) {
        let page_s = self.shell.settings.page_s;
        let (Some(c), Some(review)) = (self.recording.comparison(), &self.recording.review) else {
            return;
        };
        let Some(i) = review.current() else {
            return;
        };
        let Some(class) = class.or_else(|| c.scoring.stages[i].map(|s| s.name().to_owned())) else {
            return;
        };
        let page = (c.scoring.onset_s(i) / page_s).round() as usize;
        let Some(s) = &mut self.recording.session else {
            return;
        };
        s.selection = None;
        if let HotkeyAction::ScorePage(Some(edit)) =
            rules::hotkey(s.doc.labels(), None, true, page, page_s, &class)
            && let Err(e) = s.apply(edit, now_s)
        {
            self.report(e);
            return;
        }
        if let Some(s) = &mut self.recording.session {
            s.selection = None;
        }
        if let Some(review) = &mut self.recording.review {
            review.position += 1;
        }
        self.show_reviewed();
    }

    /// The review's keys, taken before the viewer's: Enter or A accepts the
    /// model's stage, a stage key (the scheme's digits, W, R) corrects it.
    pub(super) fn review_keys(&mut self, ctx: &egui::Context) {
        if self
            .recording
            .review
            .as_ref()
            .and_then(Review::current)
            .is_none()
            || self.recording.comparison().is_none()
            || ctx.egui_wants_keyboard_input()
            || egui::Popup::is_any_open(ctx)
        {
            return;
        }
        let now_s = ctx.input(|i| i.time);
        let pressed = |key: Key| ctx.input_mut(|i| i.consume_key(Modifiers::NONE, key));
        if pressed(Key::Enter) || pressed(Key::A) {
            self.review_write(None, now_s);
            return;
        }
        let digit = DIGITS.iter().position(|k| pressed(*k)).map(|d| d as u8);
        let scheme = &self.recording.scheme;
        let mut class = None;
        if let Some(digit) = digit {
            class = scheme.by_hotkey(digit).map(|c| c.name.clone());
            if class.is_none() {
                self.report(AppError::NoHotkey(digit));
                return;
            }
        }
        for letter in ['W', 'R'] {
            let key = if letter == 'W' { Key::W } else { Key::R };
            let name = SleepStage::from_key(letter).map(SleepStage::name);
            if let Some(c) = name.and_then(|n| scheme.get(n))
                && pressed(key)
            {
                class = Some(c.name.clone());
            }
        }
        if let Some(class) = class {
            self.review_write(Some(class), now_s);
        }
    }
}

/// Shows the epoch at `onset_s` (`epoch_s` long) in session `s`: its page
/// in epoch scoring, else centred in the view.
fn show_epoch(s: &mut crate::gui::session::Session, onset_s: f64, epoch_s: f64, page_s: f64) {
    if s.epoch_mode {
        s.go_to_page((onset_s / page_s + TIME_EPS_S).floor() as usize, page_s);
    } else {
        let span_s = s.view.span_s;
        s.set_view(onset_s + epoch_s / 2.0 - span_s / 2.0, span_s);
    }
}
