//! Platforms without an audio backend: every player fails to open.

use super::{Clip, PlaybackError, Shared};
use std::sync::Arc;

/// Never constructed; exists so that `Player` compiles everywhere.
pub(crate) struct Output {
    device_name: String,
}

impl Output {
    /// Always fails: this platform has no audio backend.
    pub(crate) fn open(_device: Option<&str>) -> Result<Output, PlaybackError> {
        Err(PlaybackError::Unavailable(
            "this platform has no audio backend".to_owned(),
        ))
    }

    /// The device name.
    pub(crate) fn device_name(&self) -> &str {
        &self.device_name
    }

    /// Always fails, like [`Output::open`].
    pub(crate) fn play_blocking(
        &self,
        _clip: &Clip,
        _shared: &Arc<Shared>,
    ) -> Result<(), PlaybackError> {
        Err(PlaybackError::Unavailable(
            "this platform has no audio backend".to_owned(),
        ))
    }
}
