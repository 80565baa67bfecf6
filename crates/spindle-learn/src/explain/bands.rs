//! Importance of frequency bands: each band is taken out of every channel
//! with a zero-phase band-stop filter, and the drop of the score measures
//! how much the network needs what happens in that band.

use spindle_signals::dsp::BandStop;

use super::scoring::{Scorer, Steps};
use super::windows::WindowSet;
use super::{Band, BandImportance, ExplainError, SkippedBand};

/// The bands that can be measured at `rate_hz`, and those that cannot, with
/// the reason.
pub(crate) fn usable_bands(bands: &[Band], rate_hz: f64) -> (Vec<Band>, Vec<SkippedBand>) {
    let nyquist = rate_hz / 2.0;
    let mut usable = Vec::new();
    let mut skipped = Vec::new();
    for band in bands {
        if BandStop::new(band.low_hz, band.high_hz, rate_hz).is_some() {
            usable.push(band.clone());
        } else {
            skipped.push(SkippedBand {
                name: band.name.clone(),
                reason: if band.low_hz >= nyquist {
                    format!(
                        "starts at {} Hz, at or above the highest frequency the recordings hold ({nyquist} Hz, half their {rate_hz} Hz sample rate)",
                        band.low_hz
                    )
                } else {
                    format!("{}–{} Hz is not a band", band.low_hz, band.high_hz)
                },
            });
        }
    }
    (usable, skipped)
}

/// The drop of the score when each band is removed. Filtering is
/// deterministic, so each band is measured once.
pub(crate) fn band_importance(
    set: &WindowSet,
    scorer: &Scorer,
    bands: &[Band],
    rate_hz: f64,
    baseline: f64,
    steps: &mut Steps,
) -> Result<Vec<BandImportance>, ExplainError> {
    let mut out = Vec::with_capacity(bands.len());
    for band in bands {
        let Some(stop) = BandStop::new(band.low_hz, band.high_hz, rate_hz) else {
            continue;
        };
        let margin = BandStop::margin_samples(band.low_hz, band.high_hz, rate_hz);
        let filtered = set.band_stopped(&stop, margin);
        let drop = baseline - scorer.score(&filtered)?;
        steps.step()?;
        out.push(BandImportance {
            name: band.name.clone(),
            low_hz: band.low_hz,
            high_hz: band.high_hz,
            mean_drop: drop,
            spread: 0.0,
            drops: vec![drop],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::default_bands;

    #[test]
    fn bands_above_nyquist_are_skipped_with_the_reason() {
        let (usable, skipped) = usable_bands(&default_bands(), 50.0);
        let names: Vec<&str> = usable.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["slow", "delta", "theta", "alpha", "beta"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].name, "gamma");
        assert!(skipped[0].reason.contains("25 Hz"), "{}", skipped[0].reason);
        let (all, none) = usable_bands(&default_bands(), 256.0);
        assert_eq!((all.len(), none.len()), (6, 0));
    }
}
