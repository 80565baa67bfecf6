//! Opening a recording for viewing: its samples (in memory, or read on
//! demand), pyramids, default scales and labels; for a recording read on
//! demand, the job that builds its overview.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::Sender;
use spindle_signals::dsp::{MinMaxPyramid, PyramidBuilder, peak_amplitude, robust_amplitude};
use spindle_signals::labeling::open_labels;
use spindle_signals::recording::{READ_ON_DEMAND_BYTES, SampleStore, open_for_viewing};

use super::protocol::{Event, Loaded, OverviewGuard};
use super::scan::audio_class;
use super::waker::Waker;

/// The pyramids of a recording read on demand take about this many bytes
/// in all (their finest blocks grow with the recording).
const OVERVIEW_BYTES: usize = 16 << 20;

/// Seconds of each channel read to scale a recording read on demand.
const SCALING_SPAN_S: f64 = 30.0;

/// Opens `path` for viewing; for a recording read on demand, also the job
/// that builds its overview.
pub(super) fn open(path: &Path) -> Result<(Loaded, Option<OverviewJob>), String> {
    let started = Instant::now();
    let (recording, samples) =
        open_for_viewing(path, READ_ON_DEMAND_BYTES).map_err(|e| e.to_string())?;
    let guard = OverviewGuard::default();
    let (pyramids, amplitudes, overview) = match &samples {
        SampleStore::Memory(rec) => {
            let pyramids = rec
                .channels
                .iter()
                .map(|c| MinMaxPyramid::build(&c.samples))
                .collect();
            let amplitudes = rec
                .channels
                .iter()
                .map(|c| scale_of(c.is_audio(), &c.samples))
                .collect();
            (pyramids, amplitudes, None)
        }
        SampleStore::Paged(_) => {
            let mut amplitudes = Vec::with_capacity(recording.channels.len());
            let mut first = Vec::new();
            for (c, ch) in recording.channels.iter().enumerate() {
                first.clear();
                let n = (SCALING_SPAN_S * ch.rate_hz) as usize;
                samples
                    .read(c, 0..n, &mut first)
                    .map_err(|e| e.to_string())?;
                amplitudes.push(scale_of(ch.is_audio(), &first));
            }
            let job = OverviewJob {
                path: path.to_path_buf(),
                samples: samples.clone(),
                stop: guard.0.clone(),
            };
            let empty = vec![MinMaxPyramid::default(); recording.channels.len()];
            (empty, amplitudes, Some(job))
        }
    };
    let labels = open_labels(path, &recording.annotations);
    let loaded = Loaded {
        recording,
        samples,
        pyramids,
        overview: guard,
        amplitudes,
        labels: labels.labels,
        source: labels.source,
        class: audio_class(path),
        warning: labels.warning,
        damaged: labels.damaged,
        journal: labels.journal,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((loaded, overview))
}

/// The file a store reads from (empty for samples in memory, which never
/// fail to read).
pub(super) fn samples_path(samples: &SampleStore) -> PathBuf {
    match samples {
        SampleStore::Memory(rec) => rec.path.clone(),
        SampleStore::Paged(paged) => paged.path().to_path_buf(),
    }
}

/// The default scale of a channel: audio calls sit in near-silence, so
/// they are scaled to their peak; EEG to its robust amplitude.
fn scale_of(is_audio: bool, samples: &[f32]) -> f32 {
    if is_audio {
        peak_amplitude(samples)
    } else {
        robust_amplitude(samples)
    }
}

/// Builds the pyramids of a recording read on demand by streaming its file
/// once, on a thread of its own, reporting progress.
pub(super) struct OverviewJob {
    path: PathBuf,
    samples: SampleStore,
    stop: Arc<AtomicBool>,
}

impl OverviewJob {
    /// Runs the job on a `spindle-overview` thread.
    pub(super) fn spawn(self, events: Sender<Event>, waker: Waker) {
        let spawned = std::thread::Builder::new()
            .name("spindle-overview".into())
            .spawn(move || {
                let event = self.run(&events, &waker);
                if let Some(event) = event {
                    let _ = events.send(event);
                    waker.wake();
                }
            });
        if let Err(e) = spawned {
            eprintln!("error: could not start the overview thread: {e}");
        }
    }

    /// The final event, or `None` when stopped.
    fn run(&self, events: &Sender<Event>, waker: &Waker) -> Option<Event> {
        let SampleStore::Paged(paged) = &self.samples else {
            return None;
        };
        let n = paged.channel_count();
        let budget = OVERVIEW_BYTES / n.max(1);
        let total: usize = (0..n).map(|c| paged.len(c)).sum();
        let mut builders: Vec<PyramidBuilder> = (0..n)
            .map(|c| PyramidBuilder::new(PyramidBuilder::base_block_for(paged.len(c), budget)))
            .collect();
        let mut done = 0usize;
        let mut reported = 0.0;
        let finished = paged.stream(|piece| {
            for (builder, samples) in builders.iter_mut().zip(piece) {
                builder.push(samples);
                done += samples.len();
            }
            let fraction = done as f64 / total.max(1) as f64;
            if fraction - reported >= 0.05 {
                reported = fraction;
                // Progress is news, not a duty: a full queue drops it.
                if events
                    .try_send(Event::OverviewProgress {
                        path: self.path.clone(),
                        fraction,
                    })
                    .is_ok()
                {
                    waker.wake();
                }
            }
            !self.stop.load(Ordering::Relaxed)
        });
        match finished {
            Ok(true) => Some(Event::OverviewReady {
                path: self.path.clone(),
                pyramids: builders.into_iter().map(PyramidBuilder::finish).collect(),
            }),
            Ok(false) => None,
            Err(e) => Some(Event::ReadFailed {
                path: self.path.clone(),
                error: e.to_string(),
            }),
        }
    }
}
