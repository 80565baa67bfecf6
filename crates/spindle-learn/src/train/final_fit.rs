//! Whether and how the final model is trained on every training trial: the
//! `--refit` setting, the set size below which `auto` refits, the smoothed
//! validation minimum that says which epoch is kept (and at most how many
//! more the refit trains), and what `run.json` and `report.json` say of the
//! final fit (`final_fit`). The refit itself
//! is `trainer::refit`. Without a refit the kept checkpoint follows the
//! same smoothed curve (`SmoothedKeeper`, `kept_by`).

/// Largest number of training plus validation windows for which `auto`
/// refits: below it a fifth of the data is worth having and another pass
/// costs little (a set of a few thousand windows trains in minutes on a
/// CPU); above it the validation split is a small share of what the model
/// learns from, and a second pass would double a long run.
pub const REFIT_MAX_WINDOWS: usize = 5_000;

/// Epochs on each side of an epoch in the smoothed validation curve.
const SMOOTH_HALF_WIDTH: usize = 2;

/// Whether the final model trains on, on training plus validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Refit {
    /// Refit when there are validation windows and fewer than
    /// `REFIT_MAX_WINDOWS` training plus validation windows.
    #[default]
    Auto,
    /// Refit whenever there are validation windows.
    On,
    /// Keep the first pass's best epoch (runs made before refitting existed
    /// read as this).
    Off,
}

impl Refit {
    /// Every choice, in menu order.
    pub const ALL: [Refit; 3] = [Refit::Auto, Refit::On, Refit::Off];

    /// `auto`, `on` or `off`.
    pub fn name(self) -> &'static str {
        match self {
            Refit::Auto => "auto",
            Refit::On => "on",
            Refit::Off => "off",
        }
    }

    /// What runs made before this setting existed did.
    pub fn before_refit() -> Self {
        Refit::Off
    }

    /// Whether a run with `n_train` training and `n_validation` validation
    /// windows refits.
    pub fn applies(self, n_train: usize, n_validation: usize) -> bool {
        n_validation > 0
            && match self {
                Refit::Auto => n_train + n_validation < REFIT_MAX_WINDOWS,
                Refit::On => true,
                Refit::Off => false,
            }
    }
}

impl std::fmt::Display for Refit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Refit {
    type Err = String;

    /// One of the [`Refit::name`]s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Refit::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("{s:?} is not one of auto, on, off"))
    }
}

/// What the final model was trained on, when it was refitted (`run.json`'s
/// and `report.json`'s `final_fit`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinalFit {
    /// `train+validation`.
    pub trained_on: String,
    /// Windows the final model was trained on.
    pub windows: usize,
    /// Epochs of the refit: from the kept weights until the validation
    /// windows fit as well as the training windows did (`target_loss`), at
    /// most as many as the first pass kept. In runs made before the refit
    /// continued from the kept weights (no `continued_from_epoch`), the
    /// epochs a fresh network was trained for.
    pub epochs: usize,
    /// The first pass's test score (balanced accuracy, or R²) before the
    /// refit, for comparison; `None` without test windows.
    pub split_only_test_score: Option<f64>,
    /// The first pass's epoch whose weights the refit continued from;
    /// `None` in runs whose refit trained a fresh network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_from_epoch: Option<usize>,
    /// The loss the validation windows had to reach: that of the training
    /// windows under the kept weights (cross-entropy, or the regression's
    /// squared error in its unit squared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_loss: Option<f64>,
    /// The validation windows' loss when the refit ended (the network had
    /// trained on them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_loss: Option<f64>,
}

impl FinalFit {
    /// One line on how the final model was trained, for `spindle train`
    /// and the app.
    pub fn describe(&self) -> String {
        match (
            self.continued_from_epoch,
            self.target_loss,
            self.validation_loss,
        ) {
            (Some(from), Some(target), Some(reached)) => format!(
                "epoch {from}'s weights, trained {} more epoch{} on all {} windows ({}) until the validation windows fit as well as the training windows had (loss {reached:.4}{} {target:.4}{})",
                self.epochs,
                if self.epochs == 1 { "" } else { "s" },
                self.windows,
                self.trained_on,
                if reached <= target {
                    " ≤"
                } else {
                    ", target"
                },
                if reached <= target {
                    ""
                } else {
                    "; stopped at the first pass's epoch count"
                },
            ),
            _ => format!(
                "a fresh network trained on {} windows ({}) for {} epochs, the smoothed validation minimum",
                self.windows, self.trained_on, self.epochs
            ),
        }
    }
}

/// The 1-based epoch at which the validation loss, averaged over
/// `SMOOTH_HALF_WIDTH` epochs on each side (fewer at the ends), is lowest;
/// `None` for an empty curve. Ties go to the earlier epoch.
pub fn smoothed_best_epoch(losses: &[f64]) -> Option<usize> {
    (0..losses.len())
        .map(|i| (i, smoothed_at(losses, i)))
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i + 1)
}

/// Which rule chose the kept epoch (`kept_by` in `run.json` and
/// `report.json`; absent in runs made before it was recorded, which kept
/// the raw minimum of the validation loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptBy {
    /// The minimum of the validation loss smoothed over five epochs
    /// (centred; fewer at the ends), as the refit's epoch count: one lucky
    /// epoch of a noisy curve does not decide it.
    SmoothedValidationLoss,
    /// The lowest training loss (no validation windows).
    TrainingLoss,
}

impl KeptBy {
    /// The rule for a run with or without validation windows.
    pub fn for_validation(has_validation: bool) -> Self {
        if has_validation {
            KeptBy::SmoothedValidationLoss
        } else {
            KeptBy::TrainingLoss
        }
    }

    /// The rule in words, for the CLI and the report.
    pub fn describe(self) -> &'static str {
        match self {
            KeptBy::SmoothedValidationLoss => {
                "the minimum of the validation loss smoothed over 5 epochs"
            }
            KeptBy::TrainingLoss => "the lowest training loss (no validation windows)",
        }
    }
}

/// The mean of `losses` over `SMOOTH_HALF_WIDTH` epochs on each side of
/// index `i` (fewer at the ends).
fn smoothed_at(losses: &[f64], i: usize) -> f64 {
    let lo = i.saturating_sub(SMOOTH_HALF_WIDTH);
    let hi = (i + SMOOTH_HALF_WIDTH + 1).min(losses.len());
    let window = &losses[lo..hi];
    window.iter().sum::<f64>() / window.len() as f64
}

/// Keeps, as the epochs come, the checkpoint of the epoch at the minimum
/// of the smoothed loss ([`smoothed_best_epoch`] of the curve so far): an
/// epoch's smoothed value is known `SMOOTH_HALF_WIDTH` epochs later, so the
/// checkpoints of the last `SMOOTH_HALF_WIDTH + 1` epochs wait in a ring
/// until theirs is, and only the best one is kept beyond that.
pub(crate) struct SmoothedKeeper<T> {
    /// The loss of every epoch so far.
    losses: Vec<f64>,
    /// The checkpoints of the epochs whose smoothed value is not known yet
    /// (1-based epoch, checkpoint), oldest first.
    waiting: std::collections::VecDeque<(usize, T)>,
    /// The kept epoch: its number, smoothed loss and checkpoint.
    best: Option<(usize, f64, T)>,
    /// Smooth (validation) or take the raw minimum (training loss).
    rule: KeptBy,
}

impl<T> SmoothedKeeper<T> {
    /// Nothing kept yet.
    pub(crate) fn new(rule: KeptBy) -> Self {
        Self {
            losses: Vec::new(),
            waiting: std::collections::VecDeque::new(),
            best: None,
            rule,
        }
    }

    /// The epoch kept so far, its (smoothed) loss and checkpoint.
    pub(crate) fn kept(&self) -> Option<&(usize, f64, T)> {
        self.best.as_ref()
    }

    /// The epoch kept so far.
    pub(crate) fn kept_epoch(&self) -> Option<usize> {
        self.best.as_ref().map(|b| b.0)
    }

    /// The next epoch's loss and checkpoint; returns the kept epoch and its
    /// (smoothed) loss when this changed it.
    pub(crate) fn push(&mut self, loss: f64, checkpoint: T) -> Option<(usize, f64)> {
        self.losses.push(loss);
        let epoch = self.losses.len();
        self.waiting.push_back((epoch, checkpoint));
        let lag = match self.rule {
            KeptBy::SmoothedValidationLoss => SMOOTH_HALF_WIDTH,
            KeptBy::TrainingLoss => 0,
        };
        if self.waiting.len() > lag {
            return self.consider_oldest();
        }
        None
    }

    /// Decides on every epoch still waiting (the last ones, whose smoothed
    /// window is cut by the end of training); the kept epoch, its
    /// (smoothed) loss and checkpoint. `None` without a finite loss.
    pub(crate) fn finish(mut self) -> Option<(usize, f64, T)> {
        while !self.waiting.is_empty() {
            self.consider_oldest();
        }
        self.best
    }

    /// Compares the oldest waiting epoch, whose value is now final, with
    /// the kept one.
    fn consider_oldest(&mut self) -> Option<(usize, f64)> {
        let (epoch, checkpoint) = self.waiting.pop_front()?;
        let value = match self.rule {
            KeptBy::SmoothedValidationLoss => smoothed_at(&self.losses, epoch - 1),
            KeptBy::TrainingLoss => self.losses[epoch - 1],
        };
        if value.is_finite() && self.best.as_ref().is_none_or(|b| value < b.1) {
            self.best = Some((epoch, value, checkpoint));
            return Some((epoch, value));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoothed_minimum_ignores_one_lucky_epoch() {
        // Epoch 2 is a dip in a curve that is lowest around epochs 7 to 9.
        let losses = [1.0, 0.5, 0.9, 0.8, 0.7, 0.62, 0.6, 0.61, 0.63, 0.66];
        assert_eq!(smoothed_best_epoch(&losses), Some(8));
        assert_eq!(smoothed_best_epoch(&[]), None);
        assert_eq!(smoothed_best_epoch(&[0.3]), Some(1));
    }

    #[test]
    fn auto_refits_small_sets_with_validation_only() {
        assert!(Refit::Auto.applies(200, 50));
        assert!(!Refit::Auto.applies(200, 0));
        assert!(!Refit::Auto.applies(REFIT_MAX_WINDOWS, 1_000));
        assert!(Refit::On.applies(REFIT_MAX_WINDOWS, 1_000));
        assert!(!Refit::Off.applies(200, 50));
        for r in Refit::ALL {
            assert_eq!(r.name().parse::<Refit>(), Ok(r));
        }
    }
    #[test]
    fn the_keeper_keeps_the_checkpoint_at_the_smoothed_minimum() {
        // A noisy curve: its raw minimum is a dip at epoch 3, the smoothed
        // curve is lowest around epoch 9. Each checkpoint is its epoch.
        let mut noise = 0x9E37_79B9_7F4A_7C15u64;
        let mut losses: Vec<f64> = (1..=16)
            .map(|e| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                let jitter = (noise >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                0.5 + 0.01 * (e as f64 - 9.0).powi(2) + 0.04 * jitter
            })
            .collect();
        losses[2] = 0.3;
        let raw_min = 1
            + (0..losses.len())
                .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
                .unwrap();
        assert_eq!(raw_min, 3, "the raw rule would keep the dip");
        let smoothed = smoothed_best_epoch(&losses).unwrap();
        assert!((7..=11).contains(&smoothed), "{smoothed}");
        // Fed epoch by epoch, the keeper ends on the same epoch, holding
        // that epoch's checkpoint, and says so when it changes.
        for stop in [losses.len(), 12, 9, 4, 1] {
            let mut keeper = SmoothedKeeper::new(KeptBy::SmoothedValidationLoss);
            let mut changes = Vec::new();
            for (i, &l) in losses[..stop].iter().enumerate() {
                changes.extend(keeper.push(l, i + 1).map(|c| c.0));
            }
            let (epoch, value, checkpoint) = keeper.finish().unwrap();
            assert_eq!(Some(epoch), smoothed_best_epoch(&losses[..stop]), "{stop}");
            assert_eq!(checkpoint, epoch);
            assert!((value - smoothed_at(&losses[..stop], epoch - 1)).abs() < 1e-12);
            assert!(changes.windows(2).all(|w| w[0] < w[1]), "{changes:?}");
        }
        // Without validation: the raw minimum of the training loss, at once.
        let mut keeper = SmoothedKeeper::new(KeptBy::TrainingLoss);
        assert_eq!(keeper.push(0.5, 1), Some((1, 0.5)));
        assert_eq!(keeper.push(0.7, 2), None);
        assert_eq!(keeper.push(f64::NAN, 3), None);
        assert_eq!(keeper.finish().map(|b| b.0), Some(1));
        assert!(
            SmoothedKeeper::<u8>::new(KeptBy::TrainingLoss)
                .finish()
                .is_none()
        );
    }

    #[test]
    fn the_final_fit_says_where_it_started_and_where_it_stopped() {
        let fit = FinalFit {
            trained_on: "train+validation".into(),
            windows: 500,
            epochs: 2,
            split_only_test_score: Some(0.99),
            continued_from_epoch: Some(25),
            target_loss: Some(0.0012),
            validation_loss: Some(0.0009),
        };
        let line = fit.describe();
        assert!(line.contains("epoch 25's weights"), "{line}");
        assert!(line.contains("2 more epochs on all 500 windows"), "{line}");
        assert!(line.contains("0.0009 ≤ 0.0012"), "{line}");
        // Stopped by the epoch cap, above the target.
        let capped = FinalFit {
            validation_loss: Some(0.05),
            ..fit.clone()
        }
        .describe();
        assert!(capped.contains("target 0.0012"), "{capped}");
        assert!(capped.contains("first pass's epoch count"), "{capped}");
        // A run from before: a fresh network.
        let old: FinalFit = serde_json::from_str(
            r#"{"trained_on":"train+validation","windows":60,"epochs":9,"split_only_test_score":0.7}"#,
        )
        .unwrap();
        assert_eq!(old.continued_from_epoch, None);
        assert!(
            old.describe()
                .starts_with("a fresh network trained on 60 windows")
        );
    }
}
