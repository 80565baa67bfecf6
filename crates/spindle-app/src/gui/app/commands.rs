//! The app shell's commands: what panels asked for, carried out (opening,
//! training, explaining, sweeps, exports, playback).

use std::path::PathBuf;
use std::time::Duration;

use eframe::egui::{self};
use spindle_learn::jobs::{ExplainJob, TrainJob, TrainJobSpec};
use spindle_learn::runs::{RunSnapshot, create_run_dir};
use spindle_learn::train::{Failure, FailureStage, RunHistory};

use crate::gui::command::{AppCommand, Tab};
use crate::gui::error::{AppError, reason};
use crate::gui::listen::{ListenRequest, SONIFICATION_SPEED};
use crate::gui::training::PreviewState;
use crate::gui::worker::Command;

use super::SpindleApp;

impl SpindleApp {
    pub(super) fn on_command(&mut self, command: AppCommand, ctx: &egui::Context) {
        match command {
            AppCommand::Open(path) => self.open_path(&path),
            AppCommand::ShowTab(tab) => self.tab = tab,
            AppCommand::Report(e) => self.report(e),
            AppCommand::Preview => self.request_preview(),
            AppCommand::StartTraining => self.start_training(ctx),
            AppCommand::Explain(dir, options) => {
                if self.explain.job.is_some() {
                    self.notice = Some("an explanation is already running".into());
                    return;
                }
                let repaint = ctx.clone();
                self.explain.failure = None;
                self.explain.progress = None;
                self.explain.job = Some(ExplainJob::spawn(dir, options, move || {
                    repaint.request_repaint();
                }));
            }
            AppCommand::Training(c) => {
                if let Some(job) = &self.training.job
                    && let Err(e) = job.send(c)
                {
                    self.report(AppError::Training(e.to_string()));
                }
            }
            AppCommand::StartDemo => {
                self.presenting = true;
                self.demo_pending = true;
                self.tab = Tab::Train;
                if let Some(sample) = crate::gui::find_sample_data() {
                    self.open_path(&sample);
                } else {
                    self.demo_pending = false;
                    self.report(AppError::NoSampleData);
                }
            }
            AppCommand::RefreshRuns => {
                let dir = self.runs_dir.clone();
                self.send_work(Command::ListRuns(dir));
            }
            AppCommand::OpenRun(dir) => {
                self.results_dir = Some(dir.clone());
                self.send_work(Command::LoadRun(dir));
            }
            AppCommand::ReadRun(dir) => self.send_work(Command::LoadRun(dir)),
            AppCommand::DeleteRun(dir) => self.send_work(Command::DeleteRun(dir)),
            AppCommand::OpenSweep(dir) => {
                self.runs.sweep.path_text = dir.display().to_string();
                self.runs.sweep.open = Some(dir.clone());
                self.runs.sweep.snapshot = None;
                self.send_work(Command::ReadSweep(dir));
            }
            AppCommand::RunSweepHere(dir) => self.run_sweep_here(dir, ctx),
            AppCommand::SubmitSweep(dir) => {
                self.notice = Some(format!("submitting {} to Slurm…", dir.display()));
                self.send_work(Command::SubmitSweep(dir));
            }
            AppCommand::PlanSweep(form) => self.plan_sweep(&form),
            AppCommand::StopSweep => {
                if let Some(job) = &self.sweep_job {
                    job.stop();
                }
            }
            AppCommand::JumpTo {
                file,
                onset_s,
                duration_s,
            } => {
                self.tab = Tab::Viewer;
                let span = (duration_s * 3.0).max(1.0);
                let start = (onset_s - duration_s).max(0.0);
                if self.open_recording() == Some(file.as_path()) {
                    if let Some(s) = &mut self.session {
                        s.set_view(start, span);
                    }
                } else {
                    self.pending_jump = Some((file.clone(), start, span));
                    self.open_path(&file);
                }
            }
            AppCommand::SetPresentation(on) => self.presenting = on,
            AppCommand::RestoreBackup
            | AppCommand::SetDamagedAside
            | AppCommand::RestoreJournal
            | AppCommand::DiscardJournal => self.recover(&command, ctx.input(|i| i.time)),
            AppCommand::SaveChartPng { name, rect } => {
                let Some(path) = rfd::FileDialog::new()
                    .set_file_name(format!("{name}.png"))
                    .add_filter("PNG image", &["png"])
                    .save_file()
                else {
                    return;
                };
                let tx = self.workers.work_sender();
                let pixels_per_point = ctx.pixels_per_point();
                ctx.request_screenshot(move |image| {
                    // The queue is short and drains fast: wait for room rather
                    // than drop the picture.
                    let _ = tx.send_timeout(
                        Command::SavePng {
                            image,
                            rect,
                            pixels_per_point,
                            path,
                        },
                        Duration::from_secs(5),
                    );
                });
            }
            AppCommand::ExportCurves(dirs) => self.export_curves(&dirs),
            AppCommand::SuggestLabels(file) => {
                let Some(run) = &self.results_dir else {
                    self.report(AppError::NoRun);
                    return;
                };
                let existing = match &self.session {
                    Some(s) if s.recording.path == file => Some(s.doc.labels().clone()),
                    _ => None,
                };
                let command = Command::Suggest {
                    run_dir: run.clone(),
                    file: file.clone(),
                    existing,
                };
                self.send_work(command);
                self.notice = Some(format!("applying the run to {}…", file.display()));
                if self.open_recording() != Some(file.as_path()) {
                    self.open_path(&file);
                }
            }
        }
    }

    /// Asks where to save the curves of `dirs` and writes them as CSV.
    pub(super) fn export_curves(&mut self, dirs: &[PathBuf]) {
        let snapshots: Vec<&RunSnapshot> = dirs
            .iter()
            .filter_map(|d| {
                self.runs
                    .snapshots
                    .get(d)
                    .or(self.result_run.as_ref().filter(|r| &r.dir == d))
            })
            .collect();
        let names: Vec<String> = snapshots
            .iter()
            .map(|r| {
                r.dir
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let table: Vec<(&str, &[spindle_learn::train::EpochMetrics])> = names
            .iter()
            .zip(&snapshots)
            .map(|(n, r)| (n.as_str(), r.epochs.as_slice()))
            .collect();
        let csv = spindle_learn::runs::curves_csv(&table);
        let Some(path) = rfd::FileDialog::new()
            .set_file_name("curves.csv")
            .add_filter("CSV", &["csv"])
            .save_file()
        else {
            return;
        };
        self.send_work(Command::WriteFile(path, csv.into_bytes()));
    }

    /// Starts or stops playback of the visible span.
    pub(super) fn listen(&mut self, request: ListenRequest) {
        match request {
            ListenRequest::Stop => {
                self.listening.preparing = false;
                if let Some(p) = &mut self.listening.player {
                    p.stop();
                }
            }
            ListenRequest::Play => {
                if self.listening.unavailable.is_some() {
                    return;
                }
                if self.listening.player.is_none() {
                    if !self.listening.opening {
                        self.listening.opening = true;
                        let device = self.settings.audio_device.clone();
                        self.send_work(Command::OpenPlayer(device));
                    }
                    self.listening.play_when_open = true;
                    return;
                }
                let Some(s) = &self.session else { return };
                let channel = if s.is_audio() {
                    0
                } else {
                    self.listening
                        .channel
                        .min(s.recording.channels.len().saturating_sub(1))
                };
                let command = Command::PrepareClip {
                    recording: s.recording.clone(),
                    samples: s.samples.clone(),
                    channel,
                    start_s: s.view.start_s,
                    end_s: s.view.start_s + s.view.span_s,
                    speed: SONIFICATION_SPEED,
                };
                self.listening.preparing = true;
                self.send_work(command);
            }
        }
    }

    pub(super) fn request_preview(&mut self) {
        let data = self.training.data_roles();
        match TrainJobSpec::from_options(data, &self.training.options, None) {
            Ok(spec) => {
                self.training.preview_requested();
                self.send_work(Command::Preview(Box::new(spec)));
            }
            Err(e) => {
                self.training.preview_requested();
                self.training.preview =
                    PreviewState::Failed(Failure::new(FailureStage::Dataset, e.to_string()));
            }
        }
    }

    pub(super) fn start_training(&mut self, ctx: &egui::Context) {
        if self.training.is_training() {
            return;
        }
        let data = self.training.data_roles();
        if data.train.is_empty() {
            self.report(AppError::Training(
                "choose at least one recording for training".into(),
            ));
            return;
        }
        let run_dir = match create_run_dir(&self.runs_dir, &self.training.options.model) {
            Ok(d) => d,
            Err(e) => {
                self.report(AppError::RunFolder {
                    reason: reason(&self.runs_dir, &e),
                    path: self.runs_dir.clone(),
                });
                return;
            }
        };
        let spec =
            match TrainJobSpec::from_options(data, &self.training.options, Some(run_dir.clone())) {
                Ok(s) => s,
                Err(e) => {
                    self.report(AppError::Training(e.to_string()));
                    return;
                }
            };
        let epochs = spec.train.epochs;
        let waker = ctx.clone();
        self.training.job = Some(TrainJob::spawn(spec, move || waker.request_repaint()));
        self.training.history = Some(RunHistory::new(Some(run_dir), epochs));
        self.tab = Tab::Train;
        let dir = self.runs_dir.clone();
        self.send_work(Command::ListRuns(dir));
    }
}
