//! Walking a scoring for review: a model's epochs from the least confident,
//! and the epochs where two scorings disagree, stepped forward and back
//! from a time.

use super::EpochScoring;
use super::epochs::TIME_EPS_S;
use super::span::CommonSpan;

/// The epochs of `scoring` that a model predicted, least confident first
/// (confidence = the largest probability; ties in epoch order). Empty when
/// the scoring has no probabilities.
pub fn review_order(scoring: &EpochScoring) -> Vec<usize> {
    let mut epochs: Vec<(f32, usize)> = (0..scoring.len())
        .filter_map(|i| scoring.confidence(i).map(|c| (c, i)))
        .collect();
    epochs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    epochs.into_iter().map(|(_, i)| i).collect()
}

/// Onsets (seconds from the recording's start, ascending) of the epochs of
/// the common span where `a` and `b` both give a stage and the stages
/// differ. Empty when the scorings share no span or grid.
pub fn disagreements(a: &EpochScoring, b: &EpochScoring) -> Vec<f64> {
    let scorings = [a, b];
    let Ok(span) = CommonSpan::of(&scorings) else {
        return Vec::new();
    };
    (0..span.epochs)
        .filter(
            |&i| match (span.stage(&scorings, 0, i), span.stage(&scorings, 1, i)) {
                (Some(x), Some(y)) => x != y,
                _ => false,
            },
        )
        .map(|i| span.onset_s(i))
        .collect()
}

/// The onset of the first disagreement (see [`disagreements`]) that starts
/// after the epoch holding `t_s`; `None` when there is none.
pub fn next_disagreement(onsets: &[f64], t_s: f64, epoch_s: f64) -> Option<f64> {
    let current_end = epoch_end(onsets, t_s, epoch_s);
    onsets
        .iter()
        .copied()
        .find(|&o| o >= current_end - TIME_EPS_S && o > t_s + TIME_EPS_S)
}

/// The onset of the last disagreement that starts before the epoch holding
/// `t_s`; `None` when there is none.
pub fn previous_disagreement(onsets: &[f64], t_s: f64, epoch_s: f64) -> Option<f64> {
    let current_start = epoch_end(onsets, t_s, epoch_s) - epoch_s;
    onsets
        .iter()
        .rev()
        .copied()
        .find(|&o| o < current_start - TIME_EPS_S)
}

/// The end of the epoch (on the grid of `onsets`, or of 0 when empty) that
/// holds `t_s`.
fn epoch_end(onsets: &[f64], t_s: f64, epoch_s: f64) -> f64 {
    let origin = onsets.first().copied().unwrap_or(0.0);
    let k = ((t_s - origin) / epoch_s + TIME_EPS_S / epoch_s).floor();
    origin + (k + 1.0) * epoch_s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::SleepStage::*;
    use crate::scoring::StageProbabilities;

    #[test]
    fn the_least_confident_epochs_come_first() {
        let mut s = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N2), Some(N2), Some(Rem)]);
        assert!(review_order(&s).is_empty());
        s.probabilities = Some(StageProbabilities {
            classes: vec![W, N2, Rem],
            per_epoch: vec![
                vec![0.9, 0.05, 0.05],
                vec![0.2, 0.5, 0.3],
                vec![],
                vec![0.25, 0.25, 0.5],
            ],
        });
        assert_eq!(review_order(&s), vec![1, 3, 0], "epoch 2 was not predicted");
    }

    #[test]
    fn stepping_through_disagreements_from_any_time() {
        let a = EpochScoring::new(
            30.0,
            0.0,
            vec![Some(W), Some(N1), Some(N2), Some(N2), Some(N3), None],
        );
        let b = EpochScoring::new(
            30.0,
            30.0,
            vec![Some(N2), Some(N2), Some(N2), Some(N2), Some(W)],
        );
        // Epoch 1 (30 s): N1 vs N2; 4 (120 s): N3 vs N2; 5: a unscored.
        let d = disagreements(&a, &b);
        assert_eq!(d, vec![30.0, 120.0]);
        assert_eq!(next_disagreement(&d, 0.0, 30.0), Some(30.0));
        assert_eq!(
            next_disagreement(&d, 45.0, 30.0),
            Some(120.0),
            "from inside the first"
        );
        assert_eq!(next_disagreement(&d, 120.0, 30.0), None);
        assert_eq!(previous_disagreement(&d, 130.0, 30.0), Some(30.0));
        assert_eq!(previous_disagreement(&d, 200.0, 30.0), Some(120.0));
        assert_eq!(previous_disagreement(&d, 59.0, 30.0), None);
        let far = EpochScoring::new(30.0, 1000.0, vec![Some(W)]);
        assert!(disagreements(&a, &far).is_empty());
    }
}
