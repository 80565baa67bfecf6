//! Carrying out one command on a worker thread.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::Sender;
use spindle_learn::explain::Explanation;
use spindle_learn::jobs::{preview, suggest_labels};
use spindle_learn::runs::sweep::{
    current_exe, load_sweep_snapshot, plan_new_sweep, submit_remaining,
};
use spindle_learn::runs::{delete_run, list_runs, load_run_snapshot};
use spindle_signals::dsp::span_spectra;
use spindle_signals::recording::{
    EdfWriteOptions, LabelSet, Recording, SampleStore, read_recording, write_atomic, write_edf,
};

use super::image::encode_png;
use super::open::{open, samples_path};
use super::protocol::{Command, Event, ScanTicket};
use super::scan::{collect_recordings, describe};
use super::waker::Waker;
use crate::playback::{DEFAULT_OUTPUT_RATE_HZ, Player, prepare_audio, sonify};

/// The most tasks of a sweep the app lets Slurm run at once.
const SLURM_MAX_RUNNING: usize = 16;

/// Runs one command; false when the UI has gone away.
pub(super) fn run(command: Command, events: &Sender<Event>, waker: &Waker) -> bool {
    let send = |e: Event| {
        let ok = events.send(e).is_ok();
        waker.wake();
        ok
    };
    match command {
        Command::Scan(root, ticket) => scan_folder(root, &ticket, &send),
        Command::Open(path) => match open(&path) {
            Ok((loaded, overview)) => {
                let sent = send(Event::Opened(Box::new(loaded)));
                if let Some(job) = overview {
                    job.spawn(events.clone(), waker.clone());
                }
                sent
            }
            Err(error) => send(Event::OpenFailed { path, error }),
        },
        Command::Export(rec, samples, labels, path) => export(&rec, &samples, &labels, path, &send),
        Command::Preview(spec) => send(Event::Previewed(Box::new(preview(&spec)))),
        Command::ListRuns(dir) => {
            let runs = list_runs(&dir);
            send(Event::RunsListed(dir, runs))
        }
        Command::LoadRun(dir) => match load_run_snapshot(&dir) {
            Ok(snapshot) => send(Event::RunLoaded(Box::new(snapshot))),
            Err(e) => send(Event::RunFailed {
                dir,
                error: e.to_string(),
            }),
        },
        Command::LoadExplanation(dir) => {
            let explanation = Explanation::load(&dir)
                .map(|e| e.map(Box::new))
                .map_err(|e| e.to_string());
            send(Event::ExplanationLoaded(dir, explanation))
        }
        Command::DeleteRun(dir) => {
            let error = delete_run(&dir).err().map(|e| e.to_string());
            send(Event::RunDeleted { dir, error })
        }
        Command::ReadSweep(dir) => match load_sweep_snapshot(&dir, true) {
            Ok(snapshot) => send(Event::SweepRead(Box::new(snapshot))),
            Err(e) => send(Event::SweepFailed {
                dir,
                error: e.to_string(),
            }),
        },
        Command::PlanSweep(plan) => match plan_new_sweep(&plan) {
            Ok(_) => send(Event::SweepPlanned(plan.out)),
            Err(e) => send(Event::SweepFailed {
                dir: plan.out,
                error: e.to_string(),
            }),
        },
        Command::SubmitSweep(dir) => match current_exe(&dir)
            .and_then(|exe| submit_remaining(&dir, &exe, SLURM_MAX_RUNNING))
        {
            Ok((job_id, tasks)) => send(Event::SweepSubmitted { dir, job_id, tasks }),
            Err(e) => send(Event::SweepFailed {
                dir,
                error: e.to_string(),
            }),
        },
        Command::Spectra(recording, samples, request) => {
            match span_spectra(&recording, &samples, &request) {
                Ok(spectra) => send(Event::SpectraReady {
                    path: recording.path.clone(),
                    request,
                    spectra: Box::new(spectra),
                }),
                Err(e) => send(Event::ReadFailed {
                    path: recording.path.clone(),
                    error: e.to_string(),
                }),
            }
        }
        Command::OpenPlayer(device) => {
            let player = match device {
                Some(name) => Player::with_device(&name),
                None => Player::new(),
            };
            send(Event::PlayerOpened(Box::new(player)))
        }
        Command::PrepareClip {
            recording,
            samples,
            channel,
            start_s,
            end_s,
            speed,
        } => prepare_clip(&recording, &samples, channel, start_s..end_s, speed, &send),
        Command::Warm(samples, channel, range) => match samples.warm(channel, range) {
            Ok(()) => send(Event::Warmed),
            Err(e) => send(Event::ReadFailed {
                path: samples_path(&samples),
                error: e.to_string(),
            }),
        },
        Command::WriteFile(path, bytes) => match write_atomic(&path, &bytes) {
            Ok(()) => send(Event::Written(path)),
            Err(e) => send(Event::WriteFailed {
                path,
                error: e.to_string(),
            }),
        },
        Command::SavePng {
            image,
            rect,
            pixels_per_point,
            path,
        } => match encode_png(&image.region(&rect, Some(pixels_per_point)))
            .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()))
        {
            Ok(()) => send(Event::Written(path)),
            Err(error) => send(Event::WriteFailed { path, error }),
        },
        Command::Suggest {
            run_dir,
            file,
            existing,
        } => match suggest_labels(&run_dir, &file, existing.as_ref()) {
            Ok(suggestions) => send(Event::Suggested { file, suggestions }),
            Err(error) => send(Event::SuggestFailed { file, error }),
        },
    }
}

/// Lists the recordings under `root` from their headers, recordings first,
/// then audio folders, by path within each; stops when a newer scan was
/// asked for.
fn scan_folder(root: PathBuf, ticket: &ScanTicket, send: &impl Fn(Event) -> bool) -> bool {
    let mut files = Vec::new();
    collect_recordings(&root, 0, &mut files);
    // Recordings first, then audio folders; by path within each.
    files.sort_by_key(|p| {
        (
            p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")),
            p.clone(),
        )
    });
    for path in files {
        if ticket.is_stale() {
            break;
        }
        if !send(Event::Found(root.clone(), describe(&root, &path))) {
            return false;
        }
    }
    send(Event::ScanDone(root))
}

/// Writes the recording with `labels` as its annotations to `path` as EDF+
/// (reading the whole file when it is read on demand).
fn export(
    rec: &Recording,
    samples: &SampleStore,
    labels: &LabelSet,
    path: PathBuf,
    send: &impl Fn(Event) -> bool,
) -> bool {
    let whole = match &samples {
        SampleStore::Memory(whole) => Ok(whole.clone()),
        SampleStore::Paged(_) => read_recording(&rec.path).map(Arc::new),
    };
    let written = whole.and_then(|whole| {
        let mut out = (*whole).clone();
        out.annotations = labels.to_annotations();
        write_edf(&path, &out, &EdfWriteOptions::default())
    });
    match written {
        Ok(()) => send(Event::Exported(path)),
        Err(e) => send(Event::ExportFailed {
            path,
            error: e.to_string(),
        }),
    }
}

/// The samples to play for `span_s` of one channel: audio at normal
/// speed, EEG sped up by `speed`.
fn prepare_clip(
    recording: &Recording,
    samples: &SampleStore,
    channel: usize,
    span_s: Range<f64>,
    speed: f64,
    send: &impl Fn(Event) -> bool,
) -> bool {
    let Some(ch) = recording.channels.get(channel) else {
        return true;
    };
    let len = samples.len(channel);
    let i0 = ((span_s.start.max(0.0) * ch.rate_hz) as usize).min(len);
    let i1 = ((span_s.end.max(0.0) * ch.rate_hz) as usize).clamp(i0, len);
    let mut span = Vec::new();
    if let Err(e) = samples.read(channel, i0..i1, &mut span) {
        return send(Event::ReadFailed {
            path: recording.path.clone(),
            error: e.to_string(),
        });
    }
    let (samples, speed) = if ch.is_audio() {
        (
            prepare_audio(&span, ch.rate_hz, DEFAULT_OUTPUT_RATE_HZ),
            1.0,
        )
    } else {
        (
            sonify(&span, ch.rate_hz, speed, DEFAULT_OUTPUT_RATE_HZ),
            speed,
        )
    };
    send(Event::ClipReady {
        samples,
        start_s: i0 as f64 / ch.rate_hz,
        speed,
    })
}
