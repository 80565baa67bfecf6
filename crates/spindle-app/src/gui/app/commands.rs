//! The app shell's commands: what panels asked for, carried out here or
//! handed to `tasks` (background work), `jobs` (long jobs) and `labels`
//! (label files).

use eframe::egui;

use crate::gui::command::{AppCommand, ListenRequest, SuggestionChoice, Tab};
use crate::gui::error::AppError;

use super::SpindleApp;
use super::state::Demo;

impl SpindleApp {
    pub(super) fn on_command(&mut self, command: AppCommand, ctx: &egui::Context) {
        match command {
            AppCommand::Open(path) => self.open_path(&path),
            AppCommand::ShowTab(tab) => self.shell.tab = tab,
            AppCommand::Report(e) => self.report(e),
            AppCommand::SetPresentation(on) => self.shell.presenting = on,
            AppCommand::Preview => self.request_preview(),
            AppCommand::StartTraining => self.start_training(),
            AppCommand::SetTrainOptions(options) => self.training.panel.options = *options,
            AppCommand::Explain(dir, options) => self.start_explaining(dir, options),
            AppCommand::MapRun(dir, projection) => self.start_mapping(dir, projection),
            AppCommand::Training(c) => {
                if let Some(job) = &self.training.panel.job
                    && let Err(e) = job.send(c)
                {
                    self.report(AppError::Training(e.to_string()));
                }
            }
            AppCommand::CrossValidate(scheme) => self.start_cross_validation(scheme),
            AppCommand::CancelCrossValidation => {
                if let Some(cv) = &self.training.cv {
                    cv.job.cancel();
                }
            }
            AppCommand::StartDemo => self.start_demo_now(Demo::Classification),
            AppCommand::StartRegressionDemo => self.start_demo_now(Demo::Regression),
            AppCommand::RefreshRuns => self.list_runs(),
            AppCommand::OpenRun(dir) => {
                self.runs.results_dir = Some(dir.clone());
                self.load_run(dir);
            }
            AppCommand::ReadRun(dir) => self.load_run(dir),
            AppCommand::DeleteRun(dir) => self.delete_run(dir),
            AppCommand::SaveRunNote(dir, note) => self.save_run_note(dir, note),
            AppCommand::FineTuneFrom(dir) => {
                self.shell.notice = Some(format!(
                    "the next run starts from the weights of {}",
                    dir.display()
                ));
                self.training.panel.init_from = Some(dir);
                self.shell.tab = Tab::Train;
            }
            AppCommand::OpenSweep(dir) => {
                self.runs.panel.sweep.path_text = dir.display().to_string();
                self.runs.panel.sweep.open = Some(dir.clone());
                self.runs.panel.sweep.snapshot = None;
                self.read_sweep(dir);
            }
            AppCommand::RunSweepHere(dir) => self.run_sweep_here(dir),
            AppCommand::SubmitSweep(dir) => self.submit_sweep(dir),
            AppCommand::PlanSweep(form) => self.plan_sweep(&form),
            AppCommand::StopSweep => {
                if let Some(job) = &self.runs.sweep_job {
                    job.stop();
                }
            }
            AppCommand::JumpTo {
                file,
                onset_s,
                duration_s,
            } => self.jump_to(file, onset_s, duration_s),
            AppCommand::RestoreBackup
            | AppCommand::SetDamagedAside
            | AppCommand::RestoreJournal
            | AppCommand::DiscardJournal => self.recover(&command, ctx.input(|i| i.time)),
            AppCommand::SaveScheme => self.save_scheme(),
            AppCommand::Pick(pick) => self.ask(pick),
            AppCommand::SuggestLabels(file) => self.suggest_labels(file),
            AppCommand::Suggestion(choice) => self.on_suggestion(choice, ctx.input(|i| i.time)),
            AppCommand::Spectra(request) => self.compute_spectra(request),
            AppCommand::FitGains => self.fit_gains(),
            AppCommand::Listen(request) => self.listen(request),
            AppCommand::Compare(_)
            | AppCommand::CompareWithRun(_)
            | AppCommand::CloseComparison
            | AppCommand::StepDisagreement { .. }
            | AppCommand::Review(_) => self.on_compare_command(command, ctx.input(|i| i.time)),
        }
    }

    /// A demo: presentation mode, the sample folder, training once listed.
    fn start_demo_now(&mut self, demo: Demo) {
        self.shell.presenting = true;
        self.shell.demo_pending = Some(demo);
        self.shell.tab = Tab::Train;
        if let Some(sample) = crate::gui::find_sample_data() {
            self.open_path(&sample);
        } else {
            self.shell.demo_pending = None;
            self.report(AppError::NoSampleData);
        }
    }

    /// Shows the window at `onset_s` of `file`, opening it first when needed.
    fn jump_to(&mut self, file: std::path::PathBuf, onset_s: f64, duration_s: f64) {
        self.shell.tab = Tab::Viewer;
        let span = (duration_s * 3.0).max(1.0);
        let start = (onset_s - duration_s).max(0.0);
        if self.recording.path() == Some(file.as_path()) {
            if let Some(s) = &mut self.recording.session {
                s.set_view(start, span);
            }
        } else {
            self.recording.pending_jump = Some((file.clone(), start, span));
            self.open_path(&file);
        }
    }

    /// Accepts or rejects suggestions; an accepted one is an edit of the
    /// open recording's labels.
    fn on_suggestion(&mut self, choice: SuggestionChoice, now_s: f64) {
        let open = self.recording.path().map(std::path::Path::to_path_buf);
        let Some((file, list)) = self.recording.suggestions.as_mut() else {
            return;
        };
        if open.as_ref() != Some(file) {
            return;
        }
        let edit = match choice {
            SuggestionChoice::Accept(i) => list.accept(i),
            SuggestionChoice::Reject(i) => {
                list.reject(i);
                None
            }
            SuggestionChoice::AcceptAll => list.accept_all(),
            SuggestionChoice::RejectAll => {
                list.reject_all();
                None
            }
        };
        if list.items.is_empty() {
            self.recording.suggestions.set(None);
        }
        if let (Some(edit), Some(s)) = (edit, &mut self.recording.session)
            && let Err(e) = s.apply(edit, now_s)
        {
            self.report(e);
        }
    }

    /// Starts or stops playback of the visible span (the player opens, and
    /// the clip is prepared, on a worker).
    pub(super) fn listen(&mut self, request: ListenRequest) {
        match request {
            ListenRequest::Stop => {
                self.recording.listening.preparing = false;
                if let Some(p) = &mut self.recording.listening.player {
                    p.stop();
                }
            }
            ListenRequest::Play => {
                let listening = &mut self.recording.listening;
                if listening.unavailable.is_some() {
                    return;
                }
                if listening.player.is_none() {
                    listening.play_when_open = true;
                    if !listening.opening {
                        listening.opening = true;
                        self.open_player();
                    }
                    return;
                }
                self.prepare_clip();
            }
        }
    }

    /// Jumps to the next window after the view where the run's prediction
    /// disagrees with the label.
    pub(super) fn next_disagreement(&mut self) {
        let (Some(run), Some(s)) = (self.runs.result_run.as_ref(), &self.recording.session) else {
            return;
        };
        let here = s.view.start_s + s.view.span_s / 2.0;
        let path = s.recording.path.clone();
        let mut wrong: Vec<_> = run
            .predictions
            .iter()
            .filter(|r| r.file == path && r.truth != r.predicted)
            .collect();
        wrong.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        let Some(next) = wrong
            .iter()
            .find(|r| r.onset_s > here + 1e-6)
            .or_else(|| wrong.first())
        else {
            self.shell.notice = Some("no disagreement between predictions and labels here".into());
            return;
        };
        self.commands.push(AppCommand::JumpTo {
            file: next.file.clone(),
            onset_s: next.onset_s,
            duration_s: next.duration_s,
        });
    }
}
