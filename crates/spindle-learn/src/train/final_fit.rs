//! Whether and how the final model is trained on every training trial: the
//! `--refit` setting, the set size below which `auto` refits, the smoothed
//! validation minimum that says for how many epochs, and what `run.json`
//! and `report.json` say of the final fit (`final_fit`). The refit itself
//! is `trainer::refit`.

/// Largest number of training plus validation windows for which `auto`
/// refits: below it a fifth of the data is worth having and another pass
/// costs little (a set of a few thousand windows trains in minutes on a
/// CPU); above it the validation split is a small share of what the model
/// learns from, and a second pass would double a long run.
pub const REFIT_MAX_WINDOWS: usize = 5_000;

/// Epochs on each side of an epoch in the smoothed validation curve.
const SMOOTH_HALF_WIDTH: usize = 2;

/// Whether the final model is trained again on training plus validation.
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
    /// Epochs it was trained for: the minimum of the smoothed validation
    /// loss of the first pass.
    pub epochs: usize,
    /// The first pass's test score (balanced accuracy, or R²) before the
    /// refit, for comparison; `None` without test windows.
    pub split_only_test_score: Option<f64>,
}

/// The 1-based epoch at which the validation loss, averaged over
/// `SMOOTH_HALF_WIDTH` epochs on each side (fewer at the ends), is lowest;
/// `None` for an empty curve. Ties go to the earlier epoch.
pub fn smoothed_best_epoch(losses: &[f64]) -> Option<usize> {
    let n = losses.len();
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(SMOOTH_HALF_WIDTH);
            let hi = (i + SMOOTH_HALF_WIDTH + 1).min(n);
            let window = &losses[lo..hi];
            (i, window.iter().sum::<f64>() / window.len() as f64)
        })
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i + 1)
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
}
