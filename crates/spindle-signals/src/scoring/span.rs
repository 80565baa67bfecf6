//! The common span of several epoch scorings of one recording: the epochs
//! that every scoring covers, on one grid.

use super::epochs::TIME_EPS_S;
use super::stage::SleepStage;
use super::{EpochScoring, ScoringError};

/// The epochs every scoring covers: `epochs` epochs of `epoch_s` from
/// `start_s`; epoch `i` of the span is epoch `i + offsets[k]` of scoring `k`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonSpan {
    /// Epoch length, seconds.
    pub epoch_s: f64,
    /// Onset of the span's first epoch, seconds from the recording's start.
    pub start_s: f64,
    /// Number of epochs in the span.
    pub epochs: usize,
    /// Per scoring, the index of its epoch at the span's start.
    pub offsets: Vec<usize>,
}

impl CommonSpan {
    /// The span shared by `scorings`, which must have one epoch length and
    /// epochs starting a whole number of epochs apart (errors name the
    /// scoring that does not fit the first). An empty span is
    /// [`ScoringError::NoCommonSpan`].
    pub fn of(scorings: &[&EpochScoring]) -> Result<Self, ScoringError> {
        let Some(first) = scorings.first() else {
            return Err(ScoringError::TooFewScorers(0));
        };
        let epoch_s = first.epoch_s;
        for (k, s) in scorings.iter().enumerate().skip(1) {
            if (s.epoch_s - epoch_s).abs() > TIME_EPS_S {
                return Err(ScoringError::EpochMismatch {
                    scorer: k,
                    epoch_s: s.epoch_s,
                    first_epoch_s: epoch_s,
                });
            }
            let shift = (s.start_s - first.start_s) / epoch_s;
            if ((shift - shift.round()) * epoch_s).abs() > TIME_EPS_S {
                return Err(ScoringError::GridMismatch {
                    scorer: k,
                    start_s: s.start_s,
                    first_start_s: first.start_s,
                    epoch_s,
                });
            }
        }
        let start_s = scorings
            .iter()
            .map(|s| s.start_s)
            .fold(f64::NEG_INFINITY, f64::max);
        let end_s = scorings
            .iter()
            .map(|s| s.end_s())
            .fold(f64::INFINITY, f64::min);
        let epochs = ((end_s - start_s) / epoch_s).round();
        if epochs < 1.0 {
            return Err(ScoringError::NoCommonSpan);
        }
        let offsets = scorings
            .iter()
            .map(|s| ((start_s - s.start_s) / epoch_s).round() as usize)
            .collect();
        Ok(Self {
            epoch_s,
            start_s,
            epochs: epochs as usize,
            offsets,
        })
    }

    /// End of the span, seconds.
    pub fn end_s(&self) -> f64 {
        self.start_s + self.epochs as f64 * self.epoch_s
    }

    /// Onset of the span's epoch `i`, seconds.
    pub fn onset_s(&self, i: usize) -> f64 {
        self.start_s + i as f64 * self.epoch_s
    }

    /// Scoring `k`'s stage at the span's epoch `i`.
    pub fn stage(&self, scorings: &[&EpochScoring], k: usize, i: usize) -> Option<SleepStage> {
        scorings
            .get(k)
            .and_then(|s| s.stages.get(i + self.offsets[k]).copied().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SleepStage::*;

    #[test]
    fn the_span_is_the_time_both_cover_on_one_grid() {
        let a = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N1), Some(N2), Some(N3)]);
        let b = EpochScoring::new(30.0, 60.0, vec![Some(N2), Some(N2), Some(Rem)]);
        let span = CommonSpan::of(&[&a, &b]).unwrap();
        assert_eq!((span.start_s, span.epochs, span.end_s()), (60.0, 2, 120.0));
        assert_eq!(span.offsets, vec![2, 0]);
        assert_eq!(span.stage(&[&a, &b], 0, 1), Some(N3));
        assert_eq!(span.stage(&[&a, &b], 1, 1), Some(N2));
        let c = EpochScoring::new(20.0, 0.0, vec![Some(W)]);
        let err = CommonSpan::of(&[&a, &c]).unwrap_err();
        assert_eq!(err.scorer(), Some(1));
        assert_eq!(
            err.to_string(),
            "epochs of 20 s, where the first scoring's are 30 s"
        );
        let d = EpochScoring::new(30.0, 15.0, vec![Some(W)]);
        assert_eq!(
            CommonSpan::of(&[&a, &d]).unwrap_err().to_string(),
            "epochs start at 15.000 s, off the first scoring's 30-s grid from 0.000 s"
        );
        let e = EpochScoring::new(30.0, 300.0, vec![Some(W)]);
        assert_eq!(
            CommonSpan::of(&[&a, &e]).unwrap_err(),
            ScoringError::NoCommonSpan
        );
    }
}
