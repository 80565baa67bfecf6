//! What a viewer of recordings needs from files, as a library: the
//! recordings under a folder described from their headers
//! ([`scan_folder`]), a recording opened for viewing with its default
//! scales and labels ([`open_recording`]), and for a recording read on
//! demand the [`OverviewJob`] that builds its min/max pyramids on a thread
//! of its own, reporting [`OverviewEvent`]s. Everything here reads files:
//! call it on a worker, never on a UI thread (see [`crate::io_guard`]).

mod open;
mod overview;
mod scan;

pub use open::{Opened, open_recording};
pub use overview::{OverviewEvent, OverviewJob};
pub use scan::{Entry, MAX_SCAN_DEPTH, audio_class, describe, scan_folder};
