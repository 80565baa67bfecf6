//! Where a run's time went: wall-clock seconds per phase (loading, windowing,
//! the normalization probes, model build, training steps, validation,
//! checkpoints, the refit, test evaluation, writing), in the order the
//! phases first ran. `spindle train` prints them at the end and
//! `report.json` keeps them (`timings`).

use std::time::Instant;

/// Seconds per phase, in the order the phases first ran.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timings {
    /// Each phase once, with the seconds of all its parts.
    pub phases: Vec<PhaseTime>,
}

/// The seconds one phase took.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseTime {
    /// What was done, e.g. `training steps`.
    pub phase: String,
    /// Wall-clock seconds, summed over its parts.
    pub seconds: f64,
}

/// Reading and decoding the recordings and their labels.
pub const LOADING: &str = "loading";
/// Resampling, filtering, cutting and splitting windows, normalizing.
pub const WINDOWING: &str = "windowing";
/// `--normalization auto`'s cross-validated probes.
pub const NORMALIZATION_PROBES: &str = "normalization probes";
/// Building the network and its optimizer.
pub const MODEL_BUILD: &str = "model build";
/// Forward and backward passes and optimizer steps of the first pass.
pub const TRAINING_STEPS: &str = "training steps";
/// Scoring the validation windows after each epoch.
pub const VALIDATION: &str = "validation";
/// Copying the kept weights and writing `model.safetensors`, `metrics.csv`.
pub const CHECKPOINTS: &str = "checkpoints";
/// The second pass on training plus validation windows.
pub const REFIT: &str = "refit";
/// Scoring the kept model on the test (and validation) windows.
pub const TEST_EVALUATION: &str = "test evaluation";
/// `run.json`, `predictions.tsv`, `report.json` (hashing the data files
/// for `run.json` included).
pub const WRITING: &str = "writing";

impl Timings {
    /// Adds `seconds` to `phase` (appended when new).
    pub fn add(&mut self, phase: &str, seconds: f64) {
        match self.phases.iter_mut().find(|p| p.phase == phase) {
            Some(p) => p.seconds += seconds,
            None => self.phases.push(PhaseTime {
                phase: phase.to_string(),
                seconds,
            }),
        }
    }

    /// Runs `work`, adding its wall-clock time to `phase`.
    pub fn time<R>(&mut self, phase: &str, work: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let out = work();
        self.add(phase, started.elapsed().as_secs_f64());
        out
    }

    /// The seconds of `phase` (0 when it did not run).
    pub fn seconds(&self, phase: &str) -> f64 {
        self.phases
            .iter()
            .find(|p| p.phase == phase)
            .map_or(0.0, |p| p.seconds)
    }

    /// The seconds of every phase.
    pub fn total(&self) -> f64 {
        self.phases.iter().map(|p| p.seconds).sum()
    }

    /// One line per phase with its seconds and share of the total, then
    /// the total, for people.
    pub fn table(&self) -> String {
        let total = self.total();
        let width = self.phases.iter().map(|p| p.phase.len()).max().unwrap_or(0);
        let mut s = String::new();
        for p in &self.phases {
            let share = if total > 0.0 {
                100.0 * p.seconds / total
            } else {
                0.0
            };
            s.push_str(&format!(
                "  {:width$}  {:7.2} s  {share:3.0}%\n",
                p.phase, p.seconds
            ));
        }
        s.push_str(&format!("  {:width$}  {total:7.2} s", "total"));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_up_in_the_order_they_first_ran() {
        let mut t = Timings::default();
        t.add(LOADING, 1.0);
        t.add(TRAINING_STEPS, 2.0);
        t.add(LOADING, 0.5);
        let v = t.time(VALIDATION, || 7);
        assert_eq!(v, 7);
        assert_eq!(t.phases.len(), 3);
        assert_eq!(t.phases[0].phase, LOADING);
        assert_eq!(t.seconds(LOADING), 1.5);
        assert_eq!(t.seconds(REFIT), 0.0);
        assert!((t.total() - 3.5).abs() < 0.01);
        let table = t.table();
        assert!(table.contains("loading"), "{table}");
        assert!(table.lines().last().unwrap().contains("total"), "{table}");
    }
}
