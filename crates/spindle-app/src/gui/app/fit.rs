//! The "Fit" of the viewer's gains: each shown channel's visible samples
//! are read and measured on the read lane, and the gains set when the
//! answer comes back.

use crate::gui::error::{AppError, reason};
use crate::gui::lanes::{fit_gains, fit_requests};
use crate::gui::worker::Lane;

use super::SpindleApp;

impl SpindleApp {
    /// Fits each shown channel's gain to what is visible (see
    /// [`fit_gains`]), off the UI thread.
    pub(super) fn fit_gains(&mut self) {
        let Some(s) = &self.recording.session else {
            return;
        };
        let requests = fit_requests(s);
        let samples = s.samples.clone();
        let identity = samples.identity();
        let path = s.recording.path.clone();
        self.queue(
            Lane::Read,
            Some(&path.clone()),
            "fitting the gains",
            move || fit_gains(&samples, &requests),
            move |app, fitted| match fitted {
                Ok(gains) => {
                    let Some(s) = app
                        .recording
                        .session
                        .as_mut()
                        .filter(|s| s.samples.identity() == identity)
                    else {
                        return;
                    };
                    for (c, gain) in gains {
                        s.channels[c].gain = gain;
                    }
                }
                Err(e) => app.report(AppError::ReadFailed {
                    reason: reason(&path, e),
                    path,
                }),
            },
        );
    }
}
