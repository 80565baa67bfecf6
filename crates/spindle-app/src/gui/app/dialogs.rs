//! File dialogs without a modal wait: the native dialog runs on the
//! dialog lane (rfd's asynchronous dialog, driven to its end there) and the
//! path picked comes back as a result the shell acts on.

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use eframe::egui;
use spindle_signals::recording::RECORDING_EXTENSIONS;

use crate::gui::command::{AppCommand, Pick};
use crate::gui::error::AppError;
use crate::gui::worker::Lane;

use super::SpindleApp;
use super::tasks::save_png;

impl SpindleApp {
    /// Asks the user for what `pick` needs in a native dialog, on the
    /// dialog lane; the answer comes back to [`Self::on_picked`]. One
    /// dialog at a time.
    pub(super) fn ask(&mut self, pick: Pick) {
        if self.shell.asking {
            return;
        }
        let dialog = self.dialog_for(&pick);
        let folder = matches!(pick, Pick::Folder | Pick::RunsFolder | Pick::SweepFolder);
        let save = matches!(
            pick,
            Pick::ExportEdf | Pick::ChartPng { .. } | Pick::CurvesCsv(_)
        );
        let Some(dialog) = dialog else {
            return;
        };
        self.shell.asking = self.queue(
            Lane::Dialog,
            None,
            "asking for a file",
            move || {
                let picked = if folder {
                    block_on(dialog.pick_folder())
                } else if save {
                    block_on(dialog.save_file())
                } else {
                    block_on(dialog.pick_file())
                };
                picked.map(|handle| handle.path().to_path_buf())
            },
            move |app, picked: Option<PathBuf>| {
                app.shell.asking = false;
                if let Some(path) = picked {
                    app.on_picked(pick, path);
                }
            },
        );
    }

    /// The dialog `pick` needs; `None` when there is nothing to ask for
    /// (no recording open to export).
    fn dialog_for(&self, pick: &Pick) -> Option<rfd::AsyncFileDialog> {
        let dialog = rfd::AsyncFileDialog::new();
        Some(match pick {
            Pick::Recording | Pick::RecordingToSuggest => {
                dialog.add_filter("Recordings", RECORDING_EXTENSIONS)
            }
            Pick::Folder | Pick::SweepFolder => dialog,
            Pick::Comparison => {
                let folder = self.recording.path()?.parent()?.to_path_buf();
                let mut extensions = vec!["tsv", "csv"];
                extensions.extend_from_slice(RECORDING_EXTENSIONS);
                dialog
                    .set_directory(folder)
                    .add_filter("Scorings (events.tsv, EDF+ hypnograms, CSV)", &extensions)
            }
            Pick::RunsFolder => dialog.set_directory(&self.runs.dir),
            Pick::ExportEdf => {
                let s = self.recording.session.as_ref()?;
                let stem = s
                    .recording
                    .path
                    .file_stem()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                dialog
                    .set_file_name(format!("{stem}-labeled.edf"))
                    .add_filter("EDF+", &["edf"])
            }
            Pick::ChartPng { name, .. } => dialog
                .set_file_name(format!("{name}.png"))
                .add_filter("PNG image", &["png"]),
            Pick::CurvesCsv(_) => dialog
                .set_file_name("curves.csv")
                .add_filter("CSV", &["csv"]),
        })
    }

    /// The user picked `path` for `pick`.
    fn on_picked(&mut self, pick: Pick, path: PathBuf) {
        match pick {
            Pick::Recording | Pick::Folder => self.open_path(&path),
            Pick::RunsFolder => {
                self.shell.settings.runs_dir = Some(path.clone());
                self.runs.dir = path.clone();
                self.runs.panel.dir = path;
                self.commands.push(AppCommand::RefreshRuns);
            }
            Pick::SweepFolder => self.commands.push(AppCommand::OpenSweep(path)),
            Pick::RecordingToSuggest => self.commands.push(AppCommand::SuggestLabels(path)),
            Pick::Comparison => self.commands.push(AppCommand::Compare(path)),
            Pick::ExportEdf => self.export(path),
            Pick::ChartPng { rect, .. } => self.shell.screenshot = Some((rect, path)),
            Pick::CurvesCsv(dirs) => self.export_curves(&dirs, path),
        }
    }

    /// Writes the curves of the runs `dirs` to `path` as CSV.
    fn export_curves(&mut self, dirs: &[PathBuf], path: PathBuf) {
        let snapshots: Vec<&spindle_learn::runs::RunSnapshot> = dirs
            .iter()
            .filter_map(|d| {
                self.runs.panel.snapshots.get(d).or(self
                    .runs
                    .result_run
                    .as_ref()
                    .filter(|r| &r.dir == d))
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
        self.write_file(path, csv.into_bytes());
    }

    /// Captures the window for a chart whose file was picked; the PNG is
    /// encoded and written on the work lane.
    pub(super) fn take_screenshot(&mut self, ctx: &egui::Context) {
        let Some((rect, path)) = self.shell.screenshot.take() else {
            return;
        };
        let submit = self.workers.submitter();
        let pixels_per_point = ctx.pixels_per_point();
        ctx.request_screenshot(move |image| {
            let to = path.clone();
            let queued = submit.run(
                Lane::Work,
                Some(&to.clone()),
                "saving the chart as PNG",
                move || save_png(&image, rect, pixels_per_point, &to),
                move |app: &mut SpindleApp, written| app.on_written(path, written),
            );
            if let Err(reason) = queued {
                // Said in the window when the result queue has room.
                submit.deliver(move |app: &mut SpindleApp| app.report(AppError::Busy(reason)));
            }
        });
    }
}

/// Wakes the thread that waits in [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` to its end on this thread (a dialog lane's), parking
/// between polls.
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}
