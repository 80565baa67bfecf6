//! Waking the UI when a worker or a job has news.

use std::sync::{Arc, OnceLock};

use eframe::egui;

/// Wakes the UI (a repaint); the context is set on the first frame. Cheap
/// to clone, for every thread that reports to the UI.
#[derive(Clone, Default)]
pub struct Waker(Arc<OnceLock<egui::Context>>);

impl Waker {
    /// Lets the waker reach `ctx` (the first call wins).
    pub fn set(&self, ctx: &egui::Context) {
        let _ = self.0.set(ctx.clone());
    }

    /// Asks for a repaint, once the context is known.
    pub fn wake(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }

    /// A closure that wakes the UI, for a library job's `on_event`.
    pub fn as_fn(&self) -> impl Fn() + Send + Sync + 'static {
        let waker = self.clone();
        move || waker.wake()
    }
}
