//! What the tests of spindle-app share: the app in a kittest harness
//! ([`app`], shared with the root package's tests) and generated
//! recordings.

pub mod app;

use std::path::Path;

use spindle_signals::recording::{Channel, EdfWriteOptions, Recording, write_edf};

/// Writes `path`: 64 channels `E00`..`E63` at 256 Hz for `duration_s`, in
/// µV from -200 to 200, sample `i` of channel `c` being `value(c, i)`.
pub fn write_64_channels(path: &Path, duration_s: f64, value: impl Fn(usize, usize) -> f32) {
    let rate_hz = 256.0;
    let n = (rate_hz * duration_s) as usize;
    let channels = (0..64)
        .map(|c| Channel {
            physical_min: -200.0,
            physical_max: 200.0,
            ..Channel::new(
                format!("E{c:02}"),
                rate_hz,
                (0..n).map(|i| value(c, i)).collect(),
            )
        })
        .collect();
    let recording = Recording {
        path: path.to_path_buf(),
        ..Recording::from_channels(channels)
    };
    write_edf(path, &recording, &EdfWriteOptions::default()).unwrap();
}
