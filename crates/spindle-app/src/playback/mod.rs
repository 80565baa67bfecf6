//! Audio playback of recordings: listen to an audio channel at normal speed,
//! or to an EEG channel sped up until it becomes audible ("sonification").
//!
//! Nothing here needs a system package at build time. On Linux the ALSA
//! library `libasound.so.2` is loaded when a [`Player`] is created, so a
//! machine without it still runs everything else and [`Player::new`] simply
//! returns an error. On macOS and Windows the `cpal` crate is used; other
//! platforms have no backend.
//!
//! [`Player::play`] hands the samples to a background thread and returns at
//! once; the GUI polls [`Player::is_playing`] and [`Player::position_s`] each
//! frame to draw a moving cursor, and [`Player::take_error`] to learn of a
//! failure on that thread.
//!
//! [`sonify`] and [`prepare_audio`] are pure functions that turn a channel
//! into samples ready for [`Player::play`].

mod convert;

#[cfg(target_os = "linux")]
mod alsa;
#[cfg(target_os = "linux")]
use alsa as backend;

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod cpal_out;
#[cfg(any(target_os = "macos", target_os = "windows"))]
use cpal_out as backend;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod unsupported;
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
use unsupported as backend;

pub use convert::{prepare_audio, sonify};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

/// A good output rate for [`sonify`] and [`prepare_audio`]: the native rate
/// of most sound cards and sound servers, so no further resampling happens.
pub const DEFAULT_OUTPUT_RATE_HZ: u32 = 48_000;

/// Why audio could not be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybackError {
    /// This machine cannot play audio at all (library or device missing,
    /// platform without a backend).
    #[error("audio playback is not available: {0}")]
    Unavailable(String),
    /// The named output device could not be opened or configured.
    #[error("audio output device {device:?} could not be used: {reason}")]
    Device {
        /// The device name as given (or the default device's name).
        device: String,
        /// The reason reported by the audio system.
        reason: String,
    },
    /// Playback started but failed while samples were being written.
    #[error("audio playback failed: {0}")]
    Stream(String),
    /// The request itself was invalid (zero sample rate, bad speed).
    #[error("invalid playback request: {0}")]
    InvalidInput(String),
}

/// One clip handed to a backend: mono samples at `rate_hz`.
pub(crate) struct Clip {
    /// Mono samples, nominally in -1..1 (backends clamp and zero non-finite).
    pub(crate) samples: Vec<f32>,
    /// Sample rate of `samples`.
    pub(crate) rate_hz: u32,
}

/// State shared between a [`Player`] and one playback thread.
pub(crate) struct Shared {
    /// Set by the player to ask the thread to stop as soon as it can.
    stop: AtomicBool,
    /// True from `play` until the thread has finished.
    playing: AtomicBool,
    /// Seconds of the clip that have been heard so far (`f64` bits).
    played_s_bits: AtomicU64,
    /// A failure on the thread, if any.
    error: Mutex<Option<PlaybackError>>,
}

impl Shared {
    fn new() -> Self {
        Self {
            stop: AtomicBool::new(false),
            playing: AtomicBool::new(true),
            played_s_bits: AtomicU64::new(0.0f64.to_bits()),
            error: Mutex::new(None),
        }
    }

    /// Whether the player asked the thread to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Records how much of the clip has been heard; never moves backwards.
    pub(crate) fn set_played_s(&self, played_s: f64) {
        if played_s.is_finite() && played_s > self.played_s() {
            self.played_s_bits
                .store(played_s.to_bits(), Ordering::Release);
        }
    }

    /// Seconds of the clip heard so far.
    pub(crate) fn played_s(&self) -> f64 {
        f64::from_bits(self.played_s_bits.load(Ordering::Acquire))
    }

    /// Records a failure; the first one wins.
    pub(crate) fn set_error(&self, error: PlaybackError) {
        let mut slot = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(error);
        }
    }

    fn take_error(&self) -> Option<PlaybackError> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Clears `playing` when the playback thread ends, even by panic.
struct PlayingGuard<'a>(&'a Shared);

impl Drop for PlayingGuard<'_> {
    fn drop(&mut self) {
        self.0.playing.store(false, Ordering::Release);
    }
}

/// The playback now running (or finished but not yet joined).
struct Playback {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
    start_s: f64,
    speed: f64,
}

/// Plays mono clips on the default (or a named) output device, one at a time,
/// each on its own background thread.
///
/// All methods return quickly: [`Player::play`] only spawns a thread, and
/// [`Player::stop`] (also run on drop) waits for the thread, which notices the
/// request within a few milliseconds.
pub struct Player {
    output: Arc<backend::Output>,
    current: Option<Playback>,
    pending_error: Option<PlaybackError>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("device", &self.output.device_name())
            .field("playing", &self.is_playing())
            .field("position_s", &self.position_s())
            .finish()
    }
}

impl Player {
    /// Opens the default output device.
    ///
    /// Fails with a one-line reason when this machine cannot play audio
    /// (on Linux: `libasound.so.2` missing, or no output device).
    pub fn new() -> Result<Player, PlaybackError> {
        Ok(Self::from_output(backend::Output::open(None)?))
    }

    /// Opens the named output device: an ALSA PCM name on Linux (`"default"`,
    /// `"plughw:0"`, or `"null"`, which discards everything and needs no sound
    /// card), a device name as listed by the system on macOS and Windows.
    pub fn with_device(name: &str) -> Result<Player, PlaybackError> {
        Ok(Self::from_output(backend::Output::open(Some(name))?))
    }

    fn from_output(output: backend::Output) -> Self {
        Self {
            output: Arc::new(output),
            current: None,
            pending_error: None,
        }
    }

    /// The name of the output device in use.
    pub fn device_name(&self) -> &str {
        self.output.device_name()
    }

    /// Starts playing `samples` (mono, -1..1, at `rate_hz`) on a background
    /// thread, stopping any current playback first; returns immediately.
    ///
    /// `start_s` is the recording time of `samples[0]`, used by
    /// [`Player::position_s`]. An empty clip plays nothing; a failure is
    /// reported by [`Player::take_error`].
    pub fn play(&mut self, samples: Vec<f32>, rate_hz: u32, start_s: f64) {
        self.play_with_speed(samples, rate_hz, start_s, 1.0);
    }

    /// Like [`Player::play`], for a clip that plays the recording `speed`
    /// times faster than real time (as made by [`sonify`]): the cursor from
    /// [`Player::position_s`] then advances `speed` recording seconds per
    /// second heard.
    pub fn play_with_speed(&mut self, samples: Vec<f32>, rate_hz: u32, start_s: f64, speed: f64) {
        self.stop();
        if rate_hz == 0 {
            self.pending_error = Some(PlaybackError::InvalidInput(
                "the sample rate is 0 Hz".to_owned(),
            ));
            return;
        }
        if !(speed.is_finite() && speed > 0.0) {
            self.pending_error = Some(PlaybackError::InvalidInput(format!(
                "the playback speed must be positive, not {speed}"
            )));
            return;
        }
        if samples.is_empty() {
            return;
        }
        let shared = Arc::new(Shared::new());
        let thread_shared = Arc::clone(&shared);
        let output = Arc::clone(&self.output);
        let clip = Clip { samples, rate_hz };
        let spawned = thread::Builder::new()
            .name("spindle-playback".to_owned())
            .spawn(move || {
                let _guard = PlayingGuard(&thread_shared);
                if let Err(error) = output.play_blocking(&clip, &thread_shared) {
                    thread_shared.set_error(error);
                }
            });
        match spawned {
            Ok(thread) => {
                self.current = Some(Playback {
                    shared,
                    thread,
                    start_s,
                    speed,
                });
            }
            Err(error) => {
                self.pending_error = Some(PlaybackError::Stream(format!(
                    "the playback thread could not be started: {error}"
                )));
            }
        }
    }

    /// Stops playback (if any) and waits for the thread to end, which takes
    /// at most a few milliseconds.
    pub fn stop(&mut self) {
        let Some(playback) = self.current.take() else {
            return;
        };
        playback.shared.stop.store(true, Ordering::Release);
        if playback.thread.join().is_err() {
            self.pending_error = Some(PlaybackError::Stream(
                "the playback thread panicked".to_owned(),
            ));
        }
        if let Some(error) = playback.shared.take_error() {
            self.pending_error = Some(error);
        }
    }

    /// Whether a clip is playing now (false once it has been heard to the end,
    /// after [`Player::stop`], or after a failure).
    pub fn is_playing(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|p| p.shared.playing.load(Ordering::Acquire))
    }

    /// The recording time being heard now, for a moving cursor; `None` when
    /// nothing is playing.
    pub fn position_s(&self) -> Option<f64> {
        let playback = self.current.as_ref()?;
        if !playback.shared.playing.load(Ordering::Acquire) {
            return None;
        }
        Some(playback.start_s + playback.shared.played_s() * playback.speed)
    }

    /// The most recent failure of playback, if any, once: a later call
    /// returns `None` until something else fails.
    pub fn take_error(&mut self) -> Option<PlaybackError> {
        self.current
            .as_ref()
            .and_then(|p| p.shared.take_error())
            .or_else(|| self.pending_error.take())
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_one_line() {
        let error = PlaybackError::Unavailable("libasound.so.2 was not found".to_owned());
        assert_eq!(
            error.to_string(),
            "audio playback is not available: libasound.so.2 was not found"
        );
        assert!(!error.to_string().contains('\n'));
    }
}

/// Tests on ALSA's "null" device, which needs no sound card.
#[cfg(all(test, target_os = "linux"))]
mod null_device_tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// Opens ALSA's "null" device, or explains on stderr (past the test
    /// harness's capture) why the test is skipped. With
    /// `SPINDLE_REQUIRE_ALSA=1` a missing ALSA fails the test instead.
    fn null_player(test: &str) -> Option<Player> {
        match Player::with_device("null") {
            Ok(player) => Some(player),
            Err(error) => {
                if std::env::var("SPINDLE_REQUIRE_ALSA").is_ok_and(|v| v == "1") {
                    panic!("{test}: SPINDLE_REQUIRE_ALSA=1 but {error}");
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "playback test {test} skipped: {error} (set SPINDLE_REQUIRE_ALSA=1 to fail instead)"
                );
                None
            }
        }
    }

    fn tone(duration_s: f64, rate_hz: u32) -> Vec<f32> {
        let n = (duration_s * f64::from(rate_hz)) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate_hz)).sin()) as f32
            })
            .collect()
    }

    /// Polls until playback ends or `limit` passes; returns the largest
    /// position seen.
    fn wait_until_done(player: &Player, limit: Duration) -> Option<f64> {
        let deadline = Instant::now() + limit;
        let mut max_seen: Option<f64> = None;
        while player.is_playing() && Instant::now() < deadline {
            if let Some(p) = player.position_s() {
                max_seen = Some(max_seen.map_or(p, |m| m.max(p)));
            }
            thread::sleep(Duration::from_millis(2));
        }
        max_seen
    }

    #[test]
    fn plays_on_null_device_and_finishes() {
        let Some(mut player) = null_player("plays_on_null_device_and_finishes") else {
            return;
        };
        assert_eq!(player.device_name(), "null");
        let rate_hz = 48_000;
        player.play(tone(0.3, rate_hz), rate_hz, 10.0);
        // The null device may take the whole clip at once on a loaded
        // machine, so the clip need not still be playing here: it must have
        // started, on its thread.
        assert!(player.current.is_some(), "play() starts the clip");
        let seen = wait_until_done(&player, Duration::from_secs(5));
        assert!(!player.is_playing(), "a 0.3 s clip still plays after 5 s");
        assert_eq!(player.take_error(), None);
        assert_eq!(player.position_s(), None);
        if let Some(p) = seen {
            assert!(
                (10.0..=10.3 + 1e-9).contains(&p),
                "cursor {p} outside the clip"
            );
        }
        let played_s = player.current.as_ref().map_or(0.0, |p| p.shared.played_s());
        assert!(
            (played_s - 0.3).abs() < 1e-6,
            "position advanced to {played_s} s, not to the clip's end"
        );
    }

    #[test]
    fn stop_and_replace_and_drop_return_promptly() {
        let Some(mut player) = null_player("stop_and_replace_and_drop_return_promptly") else {
            return;
        };
        let rate_hz = 8_000;
        player.play(tone(30.0, rate_hz), rate_hz, 0.0);
        thread::sleep(Duration::from_millis(30));
        let t0 = Instant::now();
        player.stop();
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "stop() took {:?}",
            t0.elapsed()
        );
        assert!(!player.is_playing());
        assert_eq!(player.position_s(), None);

        // play() while playing replaces the clip; the speed scales the cursor.
        player.play(tone(30.0, rate_hz), rate_hz, 0.0);
        player.play_with_speed(tone(30.0, rate_hz), rate_hz, 100.0, 60.0);
        // ALSA's null device takes samples as fast as they come, so a loaded
        // machine may already have "played" the clip: check that the second
        // clip replaced the first rather than that it is still playing.
        assert!(
            player
                .current
                .as_ref()
                .is_some_and(|p| p.start_s == 100.0 && p.speed == 60.0),
            "the second clip did not replace the first"
        );
        assert_eq!(player.take_error(), None);
        thread::sleep(Duration::from_millis(30));
        if let Some(p) = player.position_s() {
            assert!(p >= 100.0, "cursor {p} before the clip start");
        }
        let t0 = Instant::now();
        drop(player);
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "drop took {:?}",
            t0.elapsed()
        );
    }

    #[test]
    fn invalid_requests_report_errors() {
        let Some(mut player) = null_player("invalid_requests_report_errors") else {
            return;
        };
        player.play(vec![0.0; 100], 0, 0.0);
        assert!(!player.is_playing());
        assert!(matches!(
            player.take_error(),
            Some(PlaybackError::InvalidInput(_))
        ));
        assert_eq!(player.take_error(), None);
        player.play_with_speed(vec![0.0; 100], 8_000, 0.0, 0.0);
        assert!(matches!(
            player.take_error(),
            Some(PlaybackError::InvalidInput(_))
        ));
        player.play(Vec::new(), 8_000, 0.0);
        assert!(!player.is_playing());
        assert_eq!(player.take_error(), None);
        // Non-finite samples are silenced, not an error.
        player.play(vec![f32::NAN, f32::INFINITY, 2.0, -2.0], 8_000, 0.0);
        wait_until_done(&player, Duration::from_secs(5));
        assert!(!player.is_playing());
        assert_eq!(player.take_error(), None);
    }

    #[test]
    fn unknown_device_is_an_error() {
        if null_player("unknown_device_is_an_error").is_none() {
            return;
        }
        let error = Player::with_device("spindle_no_such_pcm").err();
        assert!(
            matches!(error, Some(PlaybackError::Device { .. })),
            "{error:?}"
        );
        let error = Player::with_device("nul\0byte").err();
        assert!(
            matches!(error, Some(PlaybackError::Device { .. })),
            "{error:?}"
        );
    }
}
