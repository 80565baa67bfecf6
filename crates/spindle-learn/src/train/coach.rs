//! The coach: one plain sentence on what the training curves show, for
//! people who have not read curves before.

use super::EpochMetrics;
use super::final_fit::smoothed_best_epoch;

/// What the curves show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagnosis {
    /// Too few epochs to judge.
    TooEarly,
    /// Validation loss still falling: the model is learning.
    Learning,
    /// Validation loss has stopped improving near its best: done learning.
    Converged,
    /// Validation loss rising while training loss falls.
    Overfitting,
    /// Both losses flat and the model far from fitting the training data.
    Underfitting,
    /// Validation accuracy no better than always guessing the common class.
    AtChance,
    /// A loss is NaN or infinite.
    Diverged,
}

/// The coach's reading of the curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// The diagnosis.
    pub diagnosis: Diagnosis,
    /// One plain sentence for the user.
    pub sentence: String,
}

/// Epochs before the coach says more than "too early".
const MIN_EPOCHS: usize = 3;
/// Epochs without a new best validation loss that count as "rising".
const RISING_EPOCHS: usize = 3;
/// Accuracy above chance that counts as learning something.
const CHANCE_MARGIN: f64 = 0.05;

/// Reads `epochs` (in order) against `chance` (the validation accuracy of
/// always guessing the most common class, for classification).
pub fn advise(epochs: &[EpochMetrics], chance: Option<f64>) -> Advice {
    let say = |diagnosis, sentence: String| Advice {
        diagnosis,
        sentence,
    };
    if epochs
        .iter()
        .any(|e| !e.train_loss.is_finite() || e.val_loss.is_some_and(|v| !v.is_finite()))
    {
        return say(
            Diagnosis::Diverged,
            "The loss became infinite: the learning rate is probably too high; lower it (for example to a tenth) and start again.".into(),
        );
    }
    if epochs.len() < MIN_EPOCHS {
        return say(
            Diagnosis::TooEarly,
            "Too early to tell: the curves need a few epochs before they mean anything.".into(),
        );
    }
    let val: Vec<f64> = epochs.iter().filter_map(|e| e.val_loss).collect();
    let best_val_acc = epochs
        .iter()
        .filter_map(|e| e.val_accuracy)
        .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))));
    if let (Some(chance), Some(acc)) = (chance, best_val_acc)
        && epochs.len() >= 5
        && acc < chance + CHANCE_MARGIN
    {
        return say(
            Diagnosis::AtChance,
            format!(
                "At chance: validation accuracy ({:.0}%) is no better than always guessing the most common class ({:.0}%); the labels may not be learnable from this window — try longer windows, other channels or another model.",
                acc * 100.0,
                chance * 100.0
            ),
        );
    }
    if val.len() < MIN_EPOCHS {
        return say(
            Diagnosis::TooEarly,
            "No validation scores yet: without a validation set the coach cannot tell learning from memorizing.".into(),
        );
    }
    let (best_i, best) =
        val.iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |(bi, b), (i, v)| if v < b { (i, v) } else { (bi, b) },
            );
    // The epoch whose weights are kept: the trainer keeps the minimum of the
    // smoothed curve, not of the raw one.
    let kept_i = smoothed_best_epoch(&val)
        .map_or(best_i, |epoch| epoch - 1)
        .min(epochs.len() - 1);
    let last = val[val.len() - 1];
    let since_best = val.len() - 1 - best_i;
    let train: Vec<f64> = epochs.iter().map(|e| e.train_loss).collect();
    let train_falling = train[train.len() - 1] < train[best_i.min(train.len() - 1)] * 0.95;
    if since_best >= RISING_EPOCHS && last > best * 1.1 && train_falling {
        return say(
            Diagnosis::Overfitting,
            format!(
                "Overfitting: for {since_best} epochs the validation loss has risen while the training loss keeps falling — the model is memorizing the training windows. The weights of epoch {} (the best on validation, averaged with its neighbours) are kept.",
                epochs[kept_i].epoch
            ),
        );
    }
    let first_train = train[0];
    let last_train = train[train.len() - 1];
    let half = train.len() / 2;
    let recent_change = (train[half] - last_train).abs() / train[half].abs().max(1e-12);
    let train_acc = epochs.last().and_then(|e| e.train_accuracy);
    let poor_fit = train_acc.map_or(last_train > 0.5 * first_train, |a| a < 0.8);
    if recent_change < 0.02 && poor_fit {
        return say(
            Diagnosis::Underfitting,
            "Underfitting: both losses are flat and high — the model cannot even fit the training windows. Try more epochs, a higher learning rate, less regularization or a larger model.".into(),
        );
    }
    if since_best == 0 && val.len() >= 2 && val[val.len() - 2] > last * 1.01 {
        let acc = epochs
            .last()
            .and_then(|e| e.val_accuracy)
            .map_or(String::new(), |a| {
                format!(" (validation accuracy {:.0}%)", a * 100.0)
            });
        return say(
            Diagnosis::Learning,
            format!("Learning: the validation loss is still falling{acc}; more epochs may help."),
        );
    }
    if let Some(advice) = regression_done(epochs, kept_i, val[kept_i], chance) {
        return advice;
    }
    let acc = epochs[kept_i]
        .val_accuracy
        .map_or(String::new(), |a| match chance {
            Some(c) => format!(
                ": validation accuracy {:.0}% against {:.0}% by chance",
                a * 100.0,
                c * 100.0
            ),
            None => format!(": validation accuracy {:.0}%", a * 100.0),
        });
    say(
        Diagnosis::Converged,
        format!(
            "Learned{acc}. The validation loss has settled; the weights of epoch {} are kept.",
            epochs[kept_i].epoch
        ),
    )
}

/// A regression (no accuracy, no chance level) that has settled: its
/// typical validation error in the target's own unit (the root of the mean
/// squared error, the regression loss).
fn regression_done(
    epochs: &[EpochMetrics],
    kept_i: usize,
    kept_loss: f64,
    chance: Option<f64>,
) -> Option<Advice> {
    if chance.is_some() || epochs.iter().any(|e| e.val_accuracy.is_some()) {
        return None;
    }
    Some(Advice {
        diagnosis: Diagnosis::Converged,
        sentence: format!(
            "Learned: the predictions are typically {:.3} off on validation, in the unit of the labels (the root of the mean squared error). The validation loss has settled; the weights of epoch {} are kept. Results shows predicted against true, r and R².",
            kept_loss.max(0.0).sqrt(),
            epochs[kept_i].epoch
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curves(train: &[f64], val: &[f64], val_acc: &[f64]) -> Vec<EpochMetrics> {
        train
            .iter()
            .enumerate()
            .map(|(i, &t)| EpochMetrics {
                epoch: i + 1,
                train_loss: t,
                train_accuracy: Some((1.0 - t / 2.0).clamp(0.0, 1.0)),
                val_loss: val.get(i).copied(),
                val_accuracy: val_acc.get(i).copied(),
                val_balanced_accuracy: val_acc.get(i).copied(),
                lr: 1e-3,
                seconds: 0.1,
            })
            .collect()
    }

    #[test]
    fn overfitting_when_validation_rises_while_training_falls() {
        let train = [1.2, 0.9, 0.6, 0.4, 0.25, 0.15, 0.08, 0.04];
        let val = [1.2, 0.95, 0.8, 0.85, 0.95, 1.05, 1.2, 1.4];
        let acc = [0.4, 0.6, 0.7, 0.69, 0.68, 0.66, 0.65, 0.64];
        let a = advise(&curves(&train, &val, &acc), Some(0.25));
        assert_eq!(a.diagnosis, Diagnosis::Overfitting, "{}", a.sentence);
        // The raw minimum is epoch 3 (0.8); the trainer keeps the smoothed
        // one, epoch 4 (0.92 against 0.95 over five epochs), and the coach
        // names the epoch kept.
        assert!(a.sentence.contains("epoch 4"), "{}", a.sentence);
    }

    #[test]
    fn underfitting_when_both_are_flat_and_high() {
        let train = [1.39, 1.385, 1.384, 1.383, 1.383, 1.382, 1.382, 1.382];
        let val = [1.39, 1.388, 1.387, 1.386, 1.386, 1.386, 1.385, 1.385];
        let acc = [0.45, 0.46, 0.45, 0.46, 0.46, 0.45, 0.46, 0.46];
        let a = advise(&curves(&train, &val, &acc), Some(0.25));
        assert_eq!(a.diagnosis, Diagnosis::Underfitting, "{}", a.sentence);
    }

    #[test]
    fn at_chance_names_both_accuracies() {
        let train = [1.39, 1.2, 1.0, 0.8, 0.6, 0.4];
        let val = [1.39, 1.39, 1.4, 1.41, 1.42, 1.43];
        let acc = [0.25, 0.26, 0.24, 0.27, 0.25, 0.26];
        let a = advise(&curves(&train, &val, &acc), Some(0.25));
        assert_eq!(a.diagnosis, Diagnosis::AtChance, "{}", a.sentence);
        assert!(
            a.sentence.contains("27%") && a.sentence.contains("25%"),
            "{}",
            a.sentence
        );
    }

    #[test]
    fn learning_then_converged() {
        let train = [1.3, 1.0, 0.7, 0.5];
        let val = [1.3, 1.0, 0.75, 0.55];
        let acc = [0.4, 0.6, 0.8, 0.9];
        let a = advise(&curves(&train, &val, &acc), Some(0.25));
        assert_eq!(a.diagnosis, Diagnosis::Learning, "{}", a.sentence);
        let train = [1.3, 0.8, 0.4, 0.2, 0.15, 0.13, 0.12];
        let val = [1.3, 0.8, 0.4, 0.21, 0.2, 0.205, 0.2];
        let acc = [0.4, 0.7, 0.9, 0.97, 0.98, 0.98, 0.98];
        let a = advise(&curves(&train, &val, &acc), Some(0.25));
        assert_eq!(a.diagnosis, Diagnosis::Converged, "{}", a.sentence);
        assert!(a.sentence.contains("98%"), "{}", a.sentence);
    }

    #[test]
    fn a_settled_regression_says_its_typical_error_in_the_labels_unit() {
        let train = [0.5, 0.05, 0.01, 0.004, 0.003, 0.0028, 0.0027];
        let val = [0.5, 0.06, 0.012, 0.0045, 0.004, 0.00405, 0.0041];
        let mut epochs = curves(&train, &val, &[]);
        epochs.iter_mut().for_each(|e| e.train_accuracy = None);
        let a = advise(&epochs, None);
        assert_eq!(a.diagnosis, Diagnosis::Converged, "{}", a.sentence);
        // The smoothed minimum is the last epoch (0.00405 over the last three,
        // against 0.0057 around the raw minimum at epoch 5): sqrt(0.0041) = 0.064.
        assert!(a.sentence.contains("0.064 off"), "{}", a.sentence);
        assert!(a.sentence.contains("epoch 7"), "{}", a.sentence);
    }

    #[test]
    fn too_early_and_diverged() {
        let a = advise(&curves(&[1.0, 0.9], &[1.0, 0.9], &[0.5, 0.6]), Some(0.5));
        assert_eq!(a.diagnosis, Diagnosis::TooEarly);
        let a = advise(
            &curves(&[1.0, f64::NAN, 0.5], &[1.0, 0.9, 0.8], &[0.5, 0.6, 0.6]),
            Some(0.5),
        );
        assert_eq!(a.diagnosis, Diagnosis::Diverged);
    }
}
