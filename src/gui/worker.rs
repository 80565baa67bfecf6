//! Background work for the GUI: scanning folders, opening recordings (with
//! their pyramids) and exporting, on worker threads that report [`Event`]s
//! over bounded channels and wake the UI.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use eframe::egui;

use crate::dsp::{
    MinMaxPyramid, SpanSpectra, SpectraRequest, peak_amplitude, robust_amplitude, span_spectra,
};
use crate::jobs::{Preview, TrainJobSpec, preview};
use crate::labeling::{ClassifiedWindow, DamagedSidecar, JournalReplay, Suggestions, open_labels};
use crate::playback::{DEFAULT_OUTPUT_RATE_HZ, PlaybackError, Player, prepare_audio, sonify};
use crate::recording::{
    EdfWriteOptions, LabelSet, LabelSource, Recording, is_audio_folder, is_recording_path,
    labels_for_recording, read_recording, write_atomic, write_edf,
};
use crate::runs::{RunEntry, RunSnapshot, list_runs, load_run_snapshot};
use crate::train::{DeviceChoice, Failure, RunPaths, load_run, predict_file};

/// Windows less sure than this are not suggested.
const MIN_SUGGESTION_CONFIDENCE: f32 = 0.5;

/// Folders deeper than this below the opened one are not scanned.
const MAX_SCAN_DEPTH: usize = 4;

/// A recording listed in the browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The file.
    pub path: PathBuf,
    /// Path relative to the scanned folder, for display.
    pub name: String,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Number of data channels.
    pub channels: usize,
    /// Highest channel rate, Hz.
    pub rate_hz: f64,
    /// Number of labels (sidecar or file annotations).
    pub labels: usize,
    /// The class of a file in an audio folder (`root/<class>/x.wav`).
    pub class: Option<String>,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

/// A recording read and prepared for viewing.
#[derive(Debug)]
pub struct Loaded {
    /// The recording.
    pub recording: Arc<Recording>,
    /// One min/max pyramid per channel.
    pub pyramids: Vec<MinMaxPyramid>,
    /// Robust amplitude per channel, physical units (for default scaling).
    pub amplitudes: Vec<f32>,
    /// Its labels.
    pub labels: LabelSet,
    /// Where they came from.
    pub source: LabelSource,
    /// The class of a file in an audio folder.
    pub class: Option<String>,
    /// A problem with the labels that did not stop the opening.
    pub warning: Option<String>,
    /// The sidecar, when it exists but could not be read.
    pub damaged: Option<DamagedSidecar>,
    /// Edits an earlier session journaled but did not save.
    pub journal: Option<JournalReplay>,
    /// Seconds spent reading and preparing.
    pub seconds: f64,
}

/// Work for the workers.
#[derive(Debug)]
pub enum Command {
    /// List the recordings under a folder.
    Scan(PathBuf),
    /// Open a recording.
    Open(PathBuf),
    /// Write a recording with these labels as EDF+ annotations to a path.
    Export(Arc<Recording>, LabelSet, PathBuf),
    /// Build the dataset and model summary a training job would use.
    Preview(Box<TrainJobSpec>),
    /// List the runs of a runs folder.
    ListRuns(PathBuf),
    /// Read a run folder (settings, curves, report, predictions).
    LoadRun(PathBuf),
    /// Delete a run folder.
    DeleteRun(PathBuf),
    /// Compute the spectra of a view of a recording.
    Spectra(Arc<Recording>, SpectraRequest),
    /// Open the audio output: this device, or the default one.
    OpenPlayer(Option<String>),
    /// Make the samples to play for `start_s..end_s` of one channel: audio
    /// at normal speed, EEG sped up by `speed`.
    PrepareClip {
        /// The recording.
        recording: Arc<Recording>,
        /// The channel.
        channel: usize,
        /// Start of the span, seconds.
        start_s: f64,
        /// End of the span, seconds.
        end_s: f64,
        /// Speed-up for EEG channels.
        speed: f64,
    },
    /// Write bytes to a file atomically.
    WriteFile(PathBuf, Vec<u8>),
    /// Encode the part `rect` (points, at `pixels_per_point`) of a
    /// screenshot as PNG and write it.
    SavePng {
        /// The screenshot.
        image: Arc<egui::ColorImage>,
        /// The part to keep, points.
        rect: egui::Rect,
        /// Pixels per point of the screenshot.
        pixels_per_point: f32,
        /// The file.
        path: PathBuf,
    },
    /// Run a run's model on a recording and turn its predictions into
    /// suggested labels (none overlapping `existing`).
    Suggest {
        /// The run folder.
        run_dir: PathBuf,
        /// The recording.
        file: PathBuf,
        /// The recording's labels now (`None`: read them from its files).
        existing: Option<LabelSet>,
    },
}

/// What the workers report.
#[derive(Debug)]
pub enum Event {
    /// A recording found while scanning `root`.
    Found(PathBuf, Entry),
    /// Scanning `root` finished.
    ScanDone(PathBuf),
    /// A recording is open.
    Opened(Box<Loaded>),
    /// A recording could not be opened.
    OpenFailed {
        /// The recording.
        path: PathBuf,
        /// Why, naming the file.
        error: String,
    },
    /// An export finished at this path.
    Exported(PathBuf),
    /// An export failed.
    ExportFailed {
        /// The file that was to be written.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// A dataset preview is ready (or failed).
    Previewed(Box<Result<Preview, Failure>>),
    /// The runs of a runs folder, newest first.
    RunsListed(PathBuf, Vec<RunEntry>),
    /// A run folder was read.
    RunLoaded(Box<RunSnapshot>),
    /// A run folder could not be read.
    RunFailed {
        /// The run folder.
        dir: PathBuf,
        /// Why.
        error: String,
    },
    /// Suggested labels for a recording are ready.
    Suggested {
        /// The recording.
        file: PathBuf,
        /// The suggestions.
        suggestions: Suggestions,
    },
    /// A run could not be applied to a recording.
    SuggestFailed {
        /// The recording.
        file: PathBuf,
        /// Why.
        error: String,
    },
    /// The spectra of a view are ready.
    SpectraReady {
        /// The recording they belong to.
        path: PathBuf,
        /// What was asked.
        request: SpectraRequest,
        /// The result.
        spectra: Box<SpanSpectra>,
    },
    /// The audio output opened, or why it cannot.
    PlayerOpened(Box<Result<Player, PlaybackError>>),
    /// A clip is ready to play.
    ClipReady {
        /// Samples at [`DEFAULT_OUTPUT_RATE_HZ`], -1..1.
        samples: Vec<f32>,
        /// Recording time of the first sample, seconds.
        start_s: f64,
        /// Recording seconds per second heard.
        speed: f64,
    },
    /// A file was written.
    Written(PathBuf),
    /// A file could not be written.
    WriteFailed {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// A run folder was deleted (or could not be: `error`).
    RunDeleted {
        /// The run folder.
        dir: PathBuf,
        /// Why it could not be deleted.
        error: Option<String>,
    },
}

/// Wakes the UI when an event arrives; the context is set on the first frame.
#[derive(Clone, Default)]
struct Waker(Arc<OnceLock<egui::Context>>);

impl Waker {
    fn wake(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}

/// The GUI's handle on its worker threads.
pub struct Workers {
    scan_tx: Sender<Command>,
    load_tx: Sender<Command>,
    work_tx: Sender<Command>,
    events: Receiver<Event>,
    waker: Waker,
    busy: usize,
}

impl Workers {
    /// Starts the scanner and loader threads.
    pub fn spawn() -> Self {
        let (event_tx, events) = bounded(256);
        let waker = Waker::default();
        let scan_tx = spawn_worker("spindle-scan", event_tx.clone(), waker.clone());
        let load_tx = spawn_worker("spindle-load", event_tx.clone(), waker.clone());
        let work_tx = spawn_worker("spindle-work", event_tx, waker.clone());
        Self {
            scan_tx,
            load_tx,
            work_tx,
            events,
            waker,
            busy: 0,
        }
    }

    /// Lets the workers wake `ctx` when they have news.
    pub fn set_context(&self, ctx: &egui::Context) {
        let _ = self.waker.0.set(ctx.clone());
    }

    /// A sender for work that a callback on another thread must queue (a
    /// screenshot to save).
    pub fn work_sender(&self) -> Sender<Command> {
        self.work_tx.clone()
    }

    /// Queues `command`; an error message when the queue is full or the worker is gone.
    pub fn send(&mut self, command: Command) -> Result<(), String> {
        let tx = match command {
            Command::Scan(_) => &self.scan_tx,
            Command::Open(_) | Command::Export(..) => &self.load_tx,
            Command::Preview(_)
            | Command::ListRuns(_)
            | Command::LoadRun(_)
            | Command::DeleteRun(_)
            | Command::WriteFile(..)
            | Command::OpenPlayer(_)
            | Command::Spectra(..)
            | Command::PrepareClip { .. }
            | Command::SavePng { .. }
            | Command::Suggest { .. } => &self.work_tx,
        };
        let counts = matches!(
            command,
            Command::Scan(_) | Command::Open(_) | Command::Export(..)
        );
        match tx.try_send(command) {
            Ok(()) => {
                if counts {
                    self.busy += 1;
                }
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err("too many jobs queued; try again in a moment".into()),
            Err(TrySendError::Disconnected(_)) => Err("the background worker stopped".into()),
        }
    }

    /// The events that arrived since the last call.
    pub fn drain(&mut self) -> Vec<Event> {
        let events: Vec<Event> = self.events.try_iter().collect();
        for e in &events {
            // Only file work counts as busy; previews and run reads do not.
            if matches!(
                e,
                Event::ScanDone(_)
                    | Event::Opened(_)
                    | Event::OpenFailed { .. }
                    | Event::Exported(_)
                    | Event::ExportFailed { .. }
            ) {
                self.busy = self.busy.saturating_sub(1);
            }
        }
        events
    }

    /// True while a queued job has not reported its end.
    pub fn is_busy(&self) -> bool {
        self.busy > 0
    }
}

fn spawn_worker(name: &str, events: Sender<Event>, waker: Waker) -> Sender<Command> {
    let (tx, rx) = bounded::<Command>(16);
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            for command in rx {
                if !run(command, &events, &waker) {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        // Without the thread the channel is disconnected and `send` reports it.
        eprintln!("error: could not start the {name} thread: {e}");
    }
    tx
}

/// Runs one command; false when the UI has gone away.
fn run(command: Command, events: &Sender<Event>, waker: &Waker) -> bool {
    let send = |e: Event| {
        let ok = events.send(e).is_ok();
        waker.wake();
        ok
    };
    match command {
        Command::Scan(root) => {
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
                if !send(Event::Found(root.clone(), describe(&root, &path))) {
                    return false;
                }
            }
            send(Event::ScanDone(root))
        }
        Command::Open(path) => match open(&path) {
            Ok(loaded) => send(Event::Opened(Box::new(loaded))),
            Err(error) => send(Event::OpenFailed { path, error }),
        },
        Command::Export(rec, labels, path) => {
            let mut out = (*rec).clone();
            out.annotations = labels.to_annotations();
            match write_edf(&path, &out, &EdfWriteOptions::default()) {
                Ok(()) => send(Event::Exported(path)),
                Err(e) => send(Event::ExportFailed {
                    path,
                    error: e.to_string(),
                }),
            }
        }
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
        Command::DeleteRun(dir) => {
            let error = delete_run(&dir).err();
            send(Event::RunDeleted { dir, error })
        }
        Command::Spectra(recording, request) => {
            let spectra = Box::new(span_spectra(&recording, &request));
            send(Event::SpectraReady {
                path: recording.path.clone(),
                request,
                spectra,
            })
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
            channel,
            start_s,
            end_s,
            speed,
        } => {
            let Some(ch) = recording.channels.get(channel) else {
                return true;
            };
            let i0 = ((start_s.max(0.0) * ch.rate_hz) as usize).min(ch.samples.len());
            let i1 = ((end_s.max(0.0) * ch.rate_hz) as usize).clamp(i0, ch.samples.len());
            let span = &ch.samples[i0..i1];
            let (samples, speed) = if ch.is_audio() {
                (prepare_audio(span, ch.rate_hz, DEFAULT_OUTPUT_RATE_HZ), 1.0)
            } else {
                (
                    sonify(span, ch.rate_hz, speed, DEFAULT_OUTPUT_RATE_HZ),
                    speed,
                )
            };
            send(Event::ClipReady {
                samples,
                start_s: i0 as f64 / ch.rate_hz,
                speed,
            })
        }
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
        } => match suggest(&run_dir, &file, &existing) {
            Ok(suggestions) => send(Event::Suggested { file, suggestions }),
            Err(error) => send(Event::SuggestFailed { file, error }),
        },
    }
}

fn collect_recordings(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            if depth < MAX_SCAN_DEPTH {
                collect_recordings(&path, depth + 1, out);
            }
        } else if is_recording_path(&path) {
            out.push(path);
        }
    }
}

/// The class of `path` when it sits in an audio folder (`root/<class>/x.wav`).
fn audio_class(path: &Path) -> Option<String> {
    let class_dir = path.parent()?;
    let root = class_dir.parent()?;
    let is_wav = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    (is_wav && is_audio_folder(root)).then(|| class_dir.file_name()?.to_str().map(str::to_owned))?
}

fn describe(root: &Path, path: &Path) -> Entry {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let mut entry = Entry {
        path: path.to_path_buf(),
        name,
        duration_s: 0.0,
        channels: 0,
        rate_hz: 0.0,
        labels: 0,
        class: audio_class(path),
        error: None,
    };
    match read_recording(path) {
        Ok(rec) => {
            entry.duration_s = rec.duration_s();
            entry.channels = rec.channels.len();
            entry.rate_hz = rec.channels.iter().map(|c| c.rate_hz).fold(0.0, f64::max);
            match labels_for_recording(path, &rec.annotations) {
                Ok((labels, _)) => entry.labels = labels.len(),
                Err(e) => entry.error = Some(e.to_string()),
            }
        }
        Err(e) => entry.error = Some(e.to_string()),
    }
    entry
}

fn open(path: &Path) -> Result<Loaded, String> {
    let started = Instant::now();
    let recording = read_recording(path).map_err(|e| e.to_string())?;
    let pyramids = recording
        .channels
        .iter()
        .map(|c| MinMaxPyramid::build(&c.samples))
        .collect();
    let amplitudes = recording
        .channels
        .iter()
        .map(|c| {
            // Audio calls sit in near-silence: scale them to their peak.
            if c.is_audio() {
                peak_amplitude(&c.samples)
            } else {
                robust_amplitude(&c.samples)
            }
        })
        .collect();
    let labels = open_labels(path, &recording.annotations);
    Ok(Loaded {
        recording: Arc::new(recording),
        pyramids,
        amplitudes,
        labels: labels.labels,
        source: labels.source,
        class: audio_class(path),
        warning: labels.warning,
        damaged: labels.damaged,
        journal: labels.journal,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Deletes a run folder, refusing folders that are not runs.
fn delete_run(dir: &Path) -> Result<(), String> {
    let paths = RunPaths::new(dir);
    if !paths.run_json().exists() && !paths.metrics_csv().exists() {
        return Err(format!(
            "{}: not a run folder; nothing deleted",
            dir.display()
        ));
    }
    std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Runs the model of `run_dir` over `file` and makes suggestions of its windows.
fn suggest(
    run_dir: &Path,
    file: &Path,
    existing: &Option<LabelSet>,
) -> Result<Suggestions, String> {
    let existing = match existing {
        Some(l) => l.clone(),
        None => labels_for_recording(file, &[])
            .map(|(l, _)| l)
            .map_err(|e| e.to_string())?,
    };
    let run = load_run(run_dir, DeviceChoice::Cpu).map_err(|e| e.to_string())?;
    if run.info.regression {
        return Err(format!(
            "{}: a regression run predicts numbers, not labels",
            run_dir.display()
        ));
    }
    let windows: Vec<ClassifiedWindow> = predict_file(&run, file)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|w| ClassifiedWindow {
            onset_s: w.onset_s,
            duration_s: w.duration_s,
            confidence: w.probabilities.iter().copied().fold(0.0, f32::max),
            class: w.label,
        })
        .collect();
    let name = run_dir.file_name().map_or_else(
        || run_dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Suggestions::from_windows(
        name,
        &windows,
        &existing,
        MIN_SUGGESTION_CONFIDENCE,
    ))
}

/// An RGBA image as PNG bytes.
fn encode_png(image: &egui::ColorImage) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgba))
        .map_err(|e| format!("PNG encoding failed: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_region_is_saved_as_a_png_of_its_pixels() {
        // 4x2 points at 2 pixels per point: an 8x4 image, left half red.
        let mut image = egui::ColorImage::filled([8, 4], egui::Color32::BLUE);
        for y in 0..4 {
            for x in 0..4 {
                image.pixels[y * 8 + x] = egui::Color32::RED;
            }
        }
        let rect = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(2.0, 2.0));
        let bytes = encode_png(&image.region(&rect, Some(2.0))).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (4, 4));
        assert!(buf.chunks(4).all(|p| p == [255, 0, 0, 255]));
    }
}
