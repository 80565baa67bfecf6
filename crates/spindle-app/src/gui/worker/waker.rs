//! Waking the UI when a worker has news.

use std::sync::{Arc, OnceLock};

use eframe::egui;

/// Wakes the UI when an event arrives; the context is set on the first frame.
#[derive(Clone, Default)]
pub(super) struct Waker(pub(super) Arc<OnceLock<egui::Context>>);

impl Waker {
    /// Asks for a repaint, once the context is known.
    pub(super) fn wake(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}
