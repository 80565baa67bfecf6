//! Linux backend: ALSA's `libasound.so.2`, loaded at run time with
//! `libloading`, so that neither building nor starting the program needs it.
//!
//! The PCM is opened non-blocking, so no call here waits on a busy or
//! stalled device: full buffers are waited out by short sleeps that also
//! check the stop request, and every wait has a deadline. Only the final
//! drain blocks, and only once ALSA reports nothing left to play.

use super::{Clip, PlaybackError, Shared};
use libloading::Library;
use std::ffi::{CStr, CString, c_char, c_int, c_long, c_uint, c_ulong, c_void};
use std::ptr;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The ALSA runtime library (package `libasound2` on Debian and Ubuntu).
const LIBRARY_NAME: &str = "libasound.so.2";
/// The PCM used when no device is named.
const DEFAULT_DEVICE: &str = "default";

const SND_PCM_STREAM_PLAYBACK: c_int = 0;
const SND_PCM_NONBLOCK: c_int = 1;
const SND_PCM_ACCESS_RW_INTERLEAVED: c_int = 3;
#[cfg(target_endian = "little")]
const SND_PCM_FORMAT_S16: c_int = 2; // SND_PCM_FORMAT_S16_LE
#[cfg(target_endian = "big")]
const SND_PCM_FORMAT_S16: c_int = 3; // SND_PCM_FORMAT_S16_BE
#[cfg(target_endian = "little")]
const SND_PCM_FORMAT_FLOAT: c_int = 14; // SND_PCM_FORMAT_FLOAT_LE
#[cfg(target_endian = "big")]
const SND_PCM_FORMAT_FLOAT: c_int = 15; // SND_PCM_FORMAT_FLOAT_BE
const SND_PCM_STATE_PREPARED: c_int = 2;
const SND_PCM_STATE_RUNNING: c_int = 3;
const SND_PCM_STATE_DRAINING: c_int = 5;

/// Requested total latency (device buffer) in microseconds.
const LATENCY_US: c_uint = 100_000;
/// Sleep while the device buffer is full or draining.
const POLL: Duration = Duration::from_millis(4);
/// Give up when the device accepts nothing for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Extra time allowed, beyond the queued audio, for the buffer to empty.
const TAIL_SLACK: Duration = Duration::from_secs(1);

/// An opaque `snd_pcm_t`.
type Pcm = c_void;
type OpenFn = unsafe extern "C" fn(*mut *mut Pcm, *const c_char, c_int, c_int) -> c_int;
type SetParamsFn =
    unsafe extern "C" fn(*mut Pcm, c_int, c_int, c_uint, c_uint, c_int, c_uint) -> c_int;
type WriteiFn = unsafe extern "C" fn(*mut Pcm, *const c_void, c_ulong) -> c_long;
type RecoverFn = unsafe extern "C" fn(*mut Pcm, c_int, c_int) -> c_int;
type PcmFn = unsafe extern "C" fn(*mut Pcm) -> c_int;
type NonblockFn = unsafe extern "C" fn(*mut Pcm, c_int) -> c_int;
type DelayFn = unsafe extern "C" fn(*mut Pcm, *mut c_long) -> c_int;
type StrerrorFn = unsafe extern "C" fn(c_int) -> *const c_char;

/// The few ALSA functions used, resolved from the loaded library.
struct Api {
    open: OpenFn,
    set_params: SetParamsFn,
    writei: WriteiFn,
    recover: RecoverFn,
    start: PcmFn,
    drain: PcmFn,
    drop: PcmFn,
    close: PcmFn,
    state: PcmFn,
    nonblock: NonblockFn,
    delay: DelayFn,
    strerror: StrerrorFn,
    /// Keeps the function pointers above valid; dropped last.
    _library: Library,
}

macro_rules! symbol {
    ($library:expr, $ty:ty, $name:literal) => {{
        // SAFETY: `$ty` is the C prototype of this function in ALSA's
        // <alsa/pcm.h> / <alsa/error.h> (enums are `int`, frame counts are
        // `long` / `unsigned long`); the pointer is kept only next to the
        // `Library` that owns it.
        let symbol = unsafe { $library.get::<$ty>($name.as_bytes()) };
        match symbol {
            Ok(symbol) => *symbol,
            Err(error) => {
                return Err(PlaybackError::Unavailable(format!(
                    "{LIBRARY_NAME} lacks {}: {error}",
                    $name
                )));
            }
        }
    }};
}

impl Api {
    fn load() -> Result<Api, PlaybackError> {
        // SAFETY: loading libasound runs only its ELF initializers, which have
        // no preconditions; the library is never unloaded while in use since
        // `Api` owns it.
        let library = unsafe { Library::new(LIBRARY_NAME) }
            .map_err(|_| PlaybackError::Unavailable(format!("{LIBRARY_NAME} was not found")))?;
        let open = symbol!(library, OpenFn, "snd_pcm_open");
        let set_params = symbol!(library, SetParamsFn, "snd_pcm_set_params");
        let writei = symbol!(library, WriteiFn, "snd_pcm_writei");
        let recover = symbol!(library, RecoverFn, "snd_pcm_recover");
        let start = symbol!(library, PcmFn, "snd_pcm_start");
        let drain = symbol!(library, PcmFn, "snd_pcm_drain");
        let drop = symbol!(library, PcmFn, "snd_pcm_drop");
        let close = symbol!(library, PcmFn, "snd_pcm_close");
        let state = symbol!(library, PcmFn, "snd_pcm_state");
        let nonblock = symbol!(library, NonblockFn, "snd_pcm_nonblock");
        let delay = symbol!(library, DelayFn, "snd_pcm_delay");
        let strerror = symbol!(library, StrerrorFn, "snd_strerror");
        Ok(Api {
            open,
            set_params,
            writei,
            recover,
            start,
            drain,
            drop,
            close,
            state,
            nonblock,
            delay,
            strerror,
            _library: library,
        })
    }

    /// ALSA's text for a negative error code.
    fn describe(&self, code: c_int) -> String {
        // SAFETY: snd_strerror accepts any int and returns a pointer to a
        // static NUL-terminated string (checked for null anyway).
        let text = unsafe { (self.strerror)(code) };
        if text.is_null() {
            return format!("error {code}");
        }
        // SAFETY: `text` is non-null, NUL-terminated and static (see above).
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    }

    /// Opens `name` for playback, non-blocking; `Err` holds ALSA's code.
    fn open_pcm(&self, name: &CStr) -> Result<PcmHandle<'_>, c_int> {
        let mut pcm: *mut Pcm = ptr::null_mut();
        // SAFETY: `pcm` is a valid out pointer and `name` a NUL-terminated
        // string that outlives the call.
        let rc = unsafe {
            (self.open)(
                &mut pcm,
                name.as_ptr(),
                SND_PCM_STREAM_PLAYBACK,
                SND_PCM_NONBLOCK,
            )
        };
        if rc < 0 {
            return Err(rc);
        }
        if pcm.is_null() {
            return Err(-libc::ENODEV);
        }
        Ok(PcmHandle { api: self, pcm })
    }
}

/// An open PCM, closed on drop. Used by one thread only.
struct PcmHandle<'a> {
    api: &'a Api,
    pcm: *mut Pcm,
}

impl PcmHandle<'_> {
    fn state(&self) -> c_int {
        // SAFETY: `self.pcm` is open until drop.
        unsafe { (self.api.state)(self.pcm) }
    }

    /// Frames written but not yet heard, or `None` if ALSA cannot tell.
    fn delay_frames(&self) -> Option<i64> {
        let mut delay: c_long = 0;
        // SAFETY: `self.pcm` is open and `delay` a valid out pointer.
        let rc = unsafe { (self.api.delay)(self.pcm, &mut delay) };
        // `c_long` is 32 bits on some targets.
        #[allow(clippy::useless_conversion)]
        (rc >= 0).then_some(i64::from(delay))
    }

    fn drop_pending(&self) {
        // SAFETY: `self.pcm` is open until drop.
        unsafe { (self.api.drop)(self.pcm) };
    }
}

impl Drop for PcmHandle<'_> {
    fn drop(&mut self) {
        // SAFETY: `self.pcm` came from snd_pcm_open and is closed only here.
        unsafe { (self.api.close)(self.pcm) };
    }
}

/// Interleaved samples in the format the device was configured for.
enum Buffer {
    Float(Vec<f32>),
    S16(Vec<i16>),
}

impl Buffer {
    /// Fills with `chunk` (mono) repeated on `channels` channels.
    fn fill(&mut self, chunk: &[f32], channels: usize) {
        let clean = |x: f32| {
            if x.is_finite() {
                x.clamp(-1.0, 1.0)
            } else {
                0.0
            }
        };
        match self {
            Buffer::Float(buf) => {
                buf.clear();
                for &x in chunk {
                    buf.extend(std::iter::repeat_n(clean(x), channels));
                }
            }
            Buffer::S16(buf) => {
                buf.clear();
                for &x in chunk {
                    let v = (clean(x) * f32::from(i16::MAX)).round() as i16;
                    buf.extend(std::iter::repeat_n(v, channels));
                }
            }
        }
    }

    /// Pointer to frame `frame` of the interleaved data.
    fn frame_ptr(&self, frame: usize, channels: usize) -> *const c_void {
        match self {
            Buffer::Float(buf) => buf[frame * channels..].as_ptr().cast(),
            Buffer::S16(buf) => buf[frame * channels..].as_ptr().cast(),
        }
    }
}

/// The ALSA output: the loaded library and the PCM name.
pub(crate) struct Output {
    api: Api,
    device: CString,
    device_name: String,
}

impl Output {
    /// Loads ALSA and checks that the device can be opened.
    pub(crate) fn open(device: Option<&str>) -> Result<Output, PlaybackError> {
        let device_name = device.unwrap_or(DEFAULT_DEVICE).to_owned();
        let api = Api::load()?;
        let device = CString::new(device_name.clone()).map_err(|_| PlaybackError::Device {
            device: device_name.clone(),
            reason: "the name contains a NUL byte".to_owned(),
        })?;
        match api.open_pcm(&device) {
            // Closed again at once; each clip opens it anew.
            Ok(pcm) => drop(pcm),
            // Another program holds the device now; it may be free later.
            Err(rc) if rc == -libc::EBUSY => {}
            Err(rc) => {
                return Err(PlaybackError::Device {
                    device: device_name,
                    reason: api.describe(rc),
                });
            }
        }
        Ok(Output {
            api,
            device,
            device_name,
        })
    }

    /// The PCM name.
    pub(crate) fn device_name(&self) -> &str {
        &self.device_name
    }

    fn device_error(&self, rc: c_int) -> PlaybackError {
        PlaybackError::Device {
            device: self.device_name.clone(),
            reason: self.api.describe(rc),
        }
    }

    fn stream_error(&self, what: &str, rc: c_int) -> PlaybackError {
        PlaybackError::Stream(format!(
            "{what} on {:?}: {}",
            self.device_name,
            self.api.describe(rc)
        ))
    }

    /// Sets format, channels and rate, preferring float mono; returns the
    /// sample buffer to use and the channel count.
    fn configure(
        &self,
        pcm: &PcmHandle<'_>,
        rate_hz: u32,
    ) -> Result<(Buffer, usize), PlaybackError> {
        let choices = [
            (SND_PCM_FORMAT_FLOAT, 1),
            (SND_PCM_FORMAT_S16, 1),
            (SND_PCM_FORMAT_FLOAT, 2),
            (SND_PCM_FORMAT_S16, 2),
        ];
        let mut last_rc = 0;
        for (format, channels) in choices {
            // SAFETY: `pcm.pcm` is open; the arguments are plain values
            // (soft_resample = 1 lets ALSA convert the rate).
            let rc = unsafe {
                (self.api.set_params)(
                    pcm.pcm,
                    format,
                    SND_PCM_ACCESS_RW_INTERLEAVED,
                    channels,
                    rate_hz,
                    1,
                    LATENCY_US,
                )
            };
            if rc >= 0 {
                let buffer = if format == SND_PCM_FORMAT_FLOAT {
                    Buffer::Float(Vec::new())
                } else {
                    Buffer::S16(Vec::new())
                };
                return Ok((buffer, channels as usize));
            }
            last_rc = rc;
        }
        Err(self.device_error(last_rc))
    }

    /// Plays `clip` to the end, or until a stop is requested.
    pub(crate) fn play_blocking(
        &self,
        clip: &Clip,
        shared: &Arc<Shared>,
    ) -> Result<(), PlaybackError> {
        let pcm = self
            .api
            .open_pcm(&self.device)
            .map_err(|rc| self.device_error(rc))?;
        let (mut buffer, channels) = self.configure(&pcm, clip.rate_hz)?;
        let rate_hz = f64::from(clip.rate_hz);
        let report = |written: u64| {
            let queued = pcm.delay_frames().map_or(0, |d| d.max(0) as u64);
            shared.set_played_s(written.saturating_sub(queued) as f64 / rate_hz);
        };
        let chunk_frames = (clip.rate_hz / 100).clamp(64, 4096) as usize;
        let mut written: u64 = 0;
        for chunk in clip.samples.chunks(chunk_frames) {
            buffer.fill(chunk, channels);
            let mut done = 0;
            let mut last_progress = Instant::now();
            while done < chunk.len() {
                if shared.stop_requested() {
                    pcm.drop_pending();
                    return Ok(());
                }
                // SAFETY: the pointer addresses `chunk.len() - done` whole
                // frames of `channels` samples in the configured format.
                let rc = unsafe {
                    (self.api.writei)(
                        pcm.pcm,
                        buffer.frame_ptr(done, channels),
                        (chunk.len() - done) as c_ulong,
                    )
                };
                if rc > 0 {
                    done += rc as usize;
                    written += rc as u64;
                    last_progress = Instant::now();
                } else if rc == 0 || rc == -c_long::from(libc::EAGAIN) {
                    if last_progress.elapsed() > STALL_TIMEOUT {
                        pcm.drop_pending();
                        return Err(PlaybackError::Stream(format!(
                            "the device {:?} stopped accepting samples",
                            self.device_name
                        )));
                    }
                    thread::sleep(POLL);
                } else {
                    let code = c_int::try_from(rc).unwrap_or(-libc::EIO);
                    // SAFETY: `pcm.pcm` is open; `code` came from snd_pcm_writei.
                    let recovered = unsafe { (self.api.recover)(pcm.pcm, code, 1) };
                    if recovered < 0 {
                        return Err(self.stream_error("writing samples", recovered));
                    }
                }
                report(written);
            }
        }
        self.finish(&pcm, written, rate_hz, shared, &report)
    }

    /// Waits until the written frames have been heard, then drains.
    fn finish(
        &self,
        pcm: &PcmHandle<'_>,
        written: u64,
        rate_hz: f64,
        shared: &Shared,
        report: &dyn Fn(u64),
    ) -> Result<(), PlaybackError> {
        if pcm.state() == SND_PCM_STATE_PREPARED {
            // A clip shorter than the start threshold has not started yet.
            // SAFETY: `pcm.pcm` is open and prepared.
            let rc = unsafe { (self.api.start)(pcm.pcm) };
            if rc < 0 {
                return Err(self.stream_error("starting playback", rc));
            }
        }
        let queued_s = pcm
            .delay_frames()
            .map_or(0.0, |d| d.max(0) as f64 / rate_hz);
        let deadline = Instant::now() + Duration::from_secs_f64(queued_s) + TAIL_SLACK;
        let mut heard = false;
        while Instant::now() < deadline {
            if shared.stop_requested() {
                pcm.drop_pending();
                return Ok(());
            }
            report(written);
            let state = pcm.state();
            let running = state == SND_PCM_STATE_RUNNING || state == SND_PCM_STATE_DRAINING;
            if !running || pcm.delay_frames().is_none_or(|d| d <= 0) {
                heard = true;
                break;
            }
            thread::sleep(POLL);
        }
        if heard && pcm.state() == SND_PCM_STATE_RUNNING {
            // Nothing is queued any more, so this returns at once: it only
            // lets sound servers play out their own last buffer.
            // SAFETY: `pcm.pcm` is open.
            unsafe {
                (self.api.nonblock)(pcm.pcm, 0);
                (self.api.drain)(pcm.pcm);
            }
        } else {
            pcm.drop_pending();
        }
        shared.set_played_s(written as f64 / rate_hz);
        Ok(())
    }
}
