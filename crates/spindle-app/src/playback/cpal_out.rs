//! macOS and Windows backend: the `cpal` crate (CoreAudio, WASAPI).
//!
//! A `cpal::Stream` may not leave the thread that made it, so each clip
//! resolves the device and builds its stream on the playback thread, and
//! drops it there.

use super::{Clip, PlaybackError, Shared, convert};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Name reported for the system's default output device.
const DEFAULT_DEVICE: &str = "default";
/// Sleep between checks of the stop request and of the stream's progress.
const POLL: Duration = Duration::from_millis(5);
/// Time left for the device to play out its buffer after the last sample.
const TAIL: Duration = Duration::from_millis(150);
/// Extra time allowed, beyond the clip's length, before giving up.
const SLACK: Duration = Duration::from_secs(2);

/// The cpal output: which device to use (resolved again for every clip).
pub(crate) struct Output {
    device: Option<String>,
    device_name: String,
}

/// Finds the named output device, or the default one.
fn find_device(name: Option<&str>) -> Result<cpal::Device, PlaybackError> {
    let host = cpal::default_host();
    let Some(want) = name else {
        return host.default_output_device().ok_or_else(|| {
            PlaybackError::Unavailable("no audio output device was found".to_owned())
        });
    };
    let devices = host.output_devices().map_err(|e| PlaybackError::Device {
        device: want.to_owned(),
        reason: e.to_string(),
    })?;
    for device in devices {
        if device.name().is_ok_and(|n| n == want) {
            return Ok(device);
        }
    }
    Err(PlaybackError::Device {
        device: want.to_owned(),
        reason: "no output device has this name".to_owned(),
    })
}

impl Output {
    /// Checks that the device exists and has an output configuration.
    pub(crate) fn open(device: Option<&str>) -> Result<Output, PlaybackError> {
        let found = find_device(device)?;
        let device_name = match device {
            Some(name) => name.to_owned(),
            None => found.name().unwrap_or_else(|_| DEFAULT_DEVICE.to_owned()),
        };
        found
            .default_output_config()
            .map_err(|e| PlaybackError::Device {
                device: device_name.clone(),
                reason: e.to_string(),
            })?;
        Ok(Output {
            device: device.map(str::to_owned),
            device_name,
        })
    }

    /// The device name.
    pub(crate) fn device_name(&self) -> &str {
        &self.device_name
    }

    fn device_error(&self, reason: String) -> PlaybackError {
        PlaybackError::Device {
            device: self.device_name.clone(),
            reason,
        }
    }

    /// Plays `clip` to the end, or until a stop is requested.
    pub(crate) fn play_blocking(
        &self,
        clip: &Clip,
        shared: &Arc<Shared>,
    ) -> Result<(), PlaybackError> {
        let device = find_device(self.device.as_deref())?;
        let supported = device
            .default_output_config()
            .map_err(|e| self.device_error(e.to_string()))?;
        let config = supported.config();
        let out_rate_hz = config.sample_rate.0;
        let channels = usize::from(config.channels.max(1));
        // The device runs at its own rate; convert once, up front.
        let samples: Arc<[f32]> =
            convert::prepare_audio(&clip.samples, f64::from(clip.rate_hz), out_rate_hz).into();
        let finished = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicBool::new(false));
        let feed = Feed {
            samples: Arc::clone(&samples),
            next: 0,
            channels,
            rate_hz: f64::from(out_rate_hz),
            shared: Arc::clone(shared),
            finished: Arc::clone(&finished),
        };
        let stream = match supported.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, &config, feed, shared, &failed),
            SampleFormat::F64 => build::<f64>(&device, &config, feed, shared, &failed),
            SampleFormat::I16 => build::<i16>(&device, &config, feed, shared, &failed),
            SampleFormat::I32 => build::<i32>(&device, &config, feed, shared, &failed),
            SampleFormat::U16 => build::<u16>(&device, &config, feed, shared, &failed),
            SampleFormat::U8 => build::<u8>(&device, &config, feed, shared, &failed),
            other => {
                return Err(self.device_error(format!("unsupported sample format {other:?}")));
            }
        }
        .map_err(|e| self.device_error(e))?;
        stream
            .play()
            .map_err(|e| PlaybackError::Stream(e.to_string()))?;
        let length = Duration::from_secs_f64(samples.len() as f64 / f64::from(out_rate_hz.max(1)));
        let deadline = Instant::now() + length + SLACK;
        let mut finished_at: Option<Instant> = None;
        loop {
            if shared.stop_requested() || failed.load(Ordering::Acquire) {
                break;
            }
            if finished.load(Ordering::Acquire) {
                let at = *finished_at.get_or_insert_with(Instant::now);
                if at.elapsed() >= TAIL {
                    break;
                }
            } else if Instant::now() >= deadline {
                return Err(PlaybackError::Stream(format!(
                    "the device {:?} stopped taking samples",
                    self.device_name
                )));
            }
            thread::sleep(POLL);
        }
        drop(stream);
        if finished.load(Ordering::Acquire) {
            shared.set_played_s(clip.samples.len() as f64 / f64::from(clip.rate_hz));
        }
        Ok(())
    }
}

/// What the audio callback owns: the clip and how far it has got.
struct Feed {
    samples: Arc<[f32]>,
    next: usize,
    channels: usize,
    rate_hz: f64,
    shared: Arc<Shared>,
    finished: Arc<AtomicBool>,
}

impl Feed {
    /// Fills one callback buffer, then silence after the clip's end.
    fn fill<T: Sample + FromSample<f32>>(&mut self, out: &mut [T]) {
        for frame in out.chunks_mut(self.channels) {
            let value = match self.samples.get(self.next) {
                Some(&x) => {
                    self.next += 1;
                    x
                }
                None => 0.0,
            };
            let value = T::from_sample(value);
            for slot in frame.iter_mut() {
                *slot = value;
            }
        }
        self.shared.set_played_s(self.next as f64 / self.rate_hz);
        if self.next >= self.samples.len() {
            self.finished.store(true, Ordering::Release);
        }
    }
}

/// Builds the output stream for sample type `T`.
fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut feed: Feed,
    shared: &Arc<Shared>,
    failed: &Arc<AtomicBool>,
) -> Result<cpal::Stream, String>
where
    T: SizedSample + FromSample<f32>,
{
    let error_shared = Arc::clone(shared);
    let error_failed = Arc::clone(failed);
    device
        .build_output_stream(
            config,
            move |out: &mut [T], _: &cpal::OutputCallbackInfo| feed.fill(out),
            move |error: cpal::StreamError| {
                error_shared.set_error(PlaybackError::Stream(error.to_string()));
                error_failed.store(true, Ordering::Release);
            },
            None,
        )
        .map_err(|e| e.to_string())
}
