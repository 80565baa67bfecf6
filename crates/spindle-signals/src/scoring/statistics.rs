//! The standard sleep statistics of an epoch scoring (AASM measures), with
//! the definitions stated where they are computed.
//!
//! The night ("time in bed") runs from the first scored epoch to the last
//! scored one: unscored epochs before and after (a hypnogram's trailing
//! `Sleep stage ?`) are outside it; unscored epochs inside it count in no
//! stage. Without lights-off and lights-on times, those epochs stand for
//! them. So: time in bed = sleep onset latency + total sleep time + wake
//! after sleep onset + wake after the final awakening + unscored time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::EpochScoring;
use super::stage::SleepStage;

/// Minutes of uninterrupted sleep that make "persistent sleep".
pub const PERSISTENT_SLEEP_MIN: f64 = 10.0;

/// Time in one stage.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageTime {
    /// Minutes in the stage.
    pub minutes: f64,
    /// Percent of total sleep time (0..=100); `None` for W.
    pub percent_of_tst: Option<f64>,
    /// Percent of time in bed (0..=100).
    pub percent_of_tib: f64,
}

/// The sleep statistics of one scoring. Times in minutes, ratios in percent;
/// a latency is `None` when the stage never occurs, and an undefined ratio
/// is 0.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SleepStatistics {
    /// Epoch length, seconds.
    pub epoch_s: f64,
    /// Epochs from the first scored epoch to the last scored one.
    pub epochs: usize,
    /// Onset of the first scored epoch ("lights off"), seconds from the
    /// recording's start.
    pub lights_off_s: f64,
    /// Time in bed (TIB): from the first scored epoch to the end of the last.
    pub time_in_bed_min: f64,
    /// Total sleep time (TST): N1 + N2 + N3 + REM.
    pub total_sleep_time_min: f64,
    /// Sleep period time (SPT): from sleep onset to the end of the last
    /// sleep epoch.
    pub sleep_period_time_min: f64,
    /// Sleep efficiency: TST / TIB × 100.
    pub sleep_efficiency_pct: f64,
    /// Sleep onset latency: from lights off to the first epoch of any sleep
    /// stage (AASM; one epoch is enough).
    pub sleep_onset_latency_min: Option<f64>,
    /// Latency to persistent sleep: from lights off to the first run of
    /// [`PERSISTENT_SLEEP_MIN`] minutes of sleep epochs without wake or an
    /// unscored epoch.
    pub persistent_sleep_latency_min: Option<f64>,
    /// From lights off to the first N2 epoch.
    pub n2_latency_min: Option<f64>,
    /// REM latency: from sleep onset to the first REM epoch (AASM).
    pub rem_latency_min: Option<f64>,
    /// Wake after sleep onset (WASO): W within the sleep period time.
    pub waso_min: f64,
    /// W after the last sleep epoch, up to lights on.
    pub wake_after_final_awakening_min: f64,
    /// Awakenings: runs of one or more consecutive W epochs within the sleep
    /// period time (each bout of WASO; the final awakening is not counted).
    pub awakenings: usize,
    /// Unscored epochs within time in bed.
    pub unscored_min: f64,
    /// Time in each stage, by name (`W`, `N1`, `N2`, `N3`, `REM`).
    pub stages: BTreeMap<String, StageTime>,
    /// Stage changes between consecutive scored epochs (`N2->N3`: count);
    /// a pair with an unscored epoch is no transition.
    pub transitions: BTreeMap<String, usize>,
}

impl SleepStatistics {
    /// The statistics of `scoring` (see the module documentation).
    pub fn of(scoring: &EpochScoring) -> Self {
        let epoch_min = scoring.epoch_s / 60.0;
        let first = scoring.stages.iter().position(Option::is_some);
        let last = scoring.stages.iter().rposition(Option::is_some);
        let night: &[Option<SleepStage>] = match (first, last) {
            (Some(a), Some(b)) => &scoring.stages[a..=b],
            _ => &[],
        };
        let lights_off_s = scoring.onset_s(first.unwrap_or(0));
        let minutes = |epochs: usize| epochs as f64 * epoch_min;
        let is_sleep = |s: &Option<SleepStage>| s.is_some_and(SleepStage::is_sleep);
        let onset = night.iter().position(is_sleep);
        let last_sleep = night.iter().rposition(is_sleep);
        let period = match (onset, last_sleep) {
            (Some(a), Some(b)) => &night[a..=b],
            _ => &[][..],
        };
        let count = |slice: &[Option<SleepStage>], stage: SleepStage| {
            slice.iter().filter(|s| **s == Some(stage)).count()
        };
        let tib = minutes(night.len());
        let tst = minutes(night.iter().filter(|s| is_sleep(s)).count());
        let after_last = last_sleep.map_or(&[][..], |b| &night[b + 1..]);
        let first_of = |stage: SleepStage| night.iter().position(|s| *s == Some(stage));
        let mut stages = BTreeMap::new();
        for stage in SleepStage::ALL {
            let m = minutes(count(night, stage));
            stages.insert(
                stage.name().to_owned(),
                StageTime {
                    minutes: m,
                    percent_of_tst: stage.is_sleep().then(|| percent(m, tst)),
                    percent_of_tib: percent(m, tib),
                },
            );
        }
        Self {
            epoch_s: scoring.epoch_s,
            epochs: night.len(),
            lights_off_s,
            time_in_bed_min: tib,
            total_sleep_time_min: tst,
            sleep_period_time_min: minutes(period.len()),
            sleep_efficiency_pct: percent(tst, tib),
            sleep_onset_latency_min: onset.map(minutes),
            persistent_sleep_latency_min: persistent_sleep(night, scoring.epoch_s).map(minutes),
            n2_latency_min: first_of(SleepStage::N2).map(minutes),
            rem_latency_min: onset
                .zip(first_of(SleepStage::Rem))
                .map(|(a, r)| minutes(r - a)),
            waso_min: minutes(count(period, SleepStage::W)),
            wake_after_final_awakening_min: minutes(count(after_last, SleepStage::W)),
            awakenings: wake_runs(period),
            unscored_min: minutes(night.iter().filter(|s| s.is_none()).count()),
            stages,
            transitions: transitions(night),
        }
    }

    /// The statistics as lines of text for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let latency =
            |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |m| format!("{m:.1} min"));
        let _ = writeln!(
            out,
            "epochs                {} of {} s from {:.1} s",
            self.epochs, self.epoch_s, self.lights_off_s
        );
        let rows = [
            ("time in bed", format!("{:.1} min", self.time_in_bed_min)),
            (
                "total sleep time",
                format!("{:.1} min", self.total_sleep_time_min),
            ),
            (
                "sleep period time",
                format!("{:.1} min", self.sleep_period_time_min),
            ),
            (
                "sleep efficiency",
                format!("{:.1} %", self.sleep_efficiency_pct),
            ),
            ("sleep onset latency", latency(self.sleep_onset_latency_min)),
            (
                "persistent sleep",
                latency(self.persistent_sleep_latency_min),
            ),
            ("N2 latency", latency(self.n2_latency_min)),
            ("REM latency", latency(self.rem_latency_min)),
            ("WASO", format!("{:.1} min", self.waso_min)),
            (
                "final wake",
                format!("{:.1} min", self.wake_after_final_awakening_min),
            ),
            ("awakenings", self.awakenings.to_string()),
            ("unscored", format!("{:.1} min", self.unscored_min)),
        ];
        for (name, value) in rows {
            let _ = writeln!(out, "{name:<21} {value}");
        }
        let _ = writeln!(out, "stage      minutes  % of TST  % of TIB");
        for stage in SleepStage::ALL {
            let Some(t) = self.stages.get(stage.name()) else {
                continue;
            };
            let of_tst = t
                .percent_of_tst
                .map_or("".to_owned(), |p| format!("{p:.1}"));
            let _ = writeln!(
                out,
                "{:<8} {:>9.1} {:>9} {:>9.1}",
                stage.name(),
                t.minutes,
                of_tst,
                t.percent_of_tib
            );
        }
        let total: usize = self.transitions.values().sum();
        let list: Vec<String> = self
            .transitions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "transitions           {total}: {}", list.join(", "));
        out
    }
}

/// `part` as a percentage of `whole`; 0 when `whole` is 0.
fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// The first epoch of the first run of sleep epochs lasting
/// [`PERSISTENT_SLEEP_MIN`] minutes.
fn persistent_sleep(night: &[Option<SleepStage>], epoch_s: f64) -> Option<usize> {
    let needed = ((PERSISTENT_SLEEP_MIN * 60.0 / epoch_s) - 1e-9)
        .ceil()
        .max(1.0) as usize;
    let mut run = 0;
    for (i, s) in night.iter().enumerate() {
        run = if s.is_some_and(SleepStage::is_sleep) {
            run + 1
        } else {
            0
        };
        if run == needed {
            return Some(i + 1 - needed);
        }
    }
    None
}

/// Runs of consecutive W epochs.
fn wake_runs(epochs: &[Option<SleepStage>]) -> usize {
    let mut runs = 0;
    let mut in_run = false;
    for s in epochs {
        let wake = *s == Some(SleepStage::W);
        if wake && !in_run {
            runs += 1;
        }
        in_run = wake;
    }
    runs
}

/// Counts of `from->to` changes between consecutive scored epochs.
fn transitions(epochs: &[Option<SleepStage>]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for pair in epochs.windows(2) {
        if let [Some(a), Some(b)] = pair
            && a != b
        {
            *out.entry(format!("{a}->{b}")).or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use SleepStage::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A hand-made night of 18 epochs of 30 s; every expected value below
    /// was counted on paper from this list (the index is the epoch).
    fn night() -> EpochScoring {
        let stages = vec![
            None,      // 0  before lights off
            Some(W),   // 1  lights off
            Some(W),   // 2
            Some(N1),  // 3  sleep onset
            Some(N2),  // 4  first N2
            Some(W),   // 5  awakening 1
            Some(N2),  // 6
            Some(N2),  // 7
            Some(N3),  // 8
            Some(N3),  // 9
            Some(Rem), // 10 first REM
            None,      // 11 unscored inside the night
            Some(Rem), // 12
            Some(W),   // 13 awakening 2
            Some(W),   // 14
            Some(N2),  // 15 last sleep
            Some(W),   // 16 final awakening
            None,      // 17 after lights on
        ];
        EpochScoring::new(30.0, 0.0, stages)
    }

    #[test]
    fn a_hand_counted_night_gives_the_numbers_counted_on_paper() {
        let s = SleepStatistics::of(&night());
        // Epochs 1..=16 are the night: 16 epochs of half a minute.
        assert_eq!(s.epochs, 16);
        assert_eq!(s.lights_off_s, 30.0);
        assert!(close(s.time_in_bed_min, 8.0));
        // Sleep: N1 1 + N2 4 + N3 2 + REM 2 = 9 epochs.
        assert!(close(s.total_sleep_time_min, 4.5));
        assert!(close(s.sleep_efficiency_pct, 56.25));
        // Onset at epoch 3, two epochs after lights off.
        assert_eq!(s.sleep_onset_latency_min, Some(1.0));
        // Epochs 3..=15.
        assert!(close(s.sleep_period_time_min, 6.5));
        // W at 5, 13, 14 inside the sleep period; 16 after it.
        assert!(close(s.waso_min, 1.5));
        assert!(close(s.wake_after_final_awakening_min, 0.5));
        assert_eq!(s.awakenings, 2);
        assert!(close(s.unscored_min, 0.5));
        // First N2 at epoch 4 (3 epochs after lights off); first REM at 10,
        // 7 epochs after onset.
        assert_eq!(s.n2_latency_min, Some(1.5));
        assert_eq!(s.rem_latency_min, Some(3.5));
        assert_eq!(
            s.persistent_sleep_latency_min, None,
            "no 20 sleep epochs in a row"
        );
        // TIB = SOL + TST + WASO + final wake + unscored.
        assert!(close(s.time_in_bed_min, 1.0 + 4.5 + 1.5 + 0.5 + 0.5));
        let pct = |name: &str| s.stages[name].percent_of_tst.unwrap();
        assert!(close(pct("N1"), 100.0 / 9.0));
        assert!(close(pct("N2"), 400.0 / 9.0));
        assert!(close(pct("N3"), 200.0 / 9.0));
        assert!(close(pct("REM"), 200.0 / 9.0));
        assert_eq!(s.stages["W"].percent_of_tst, None);
        assert!(close(s.stages["W"].minutes, 3.0));
        assert!(close(s.stages["W"].percent_of_tib, 37.5));
        let want: BTreeMap<String, usize> = [
            ("W->N1", 1),
            ("N1->N2", 1),
            ("N2->W", 2),
            ("W->N2", 2),
            ("N2->N3", 1),
            ("N3->REM", 1),
            ("REM->W", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(s.transitions, want);
        let text = s.text();
        assert!(text.contains("total sleep time      4.5 min"), "{text}");
    }

    #[test]
    fn persistent_sleep_waits_for_ten_minutes_without_wake() {
        // W W W, 5 x N2, W, then 20 x N2: the run of 20 starts at epoch 9.
        let mut stages = vec![Some(W); 3];
        stages.extend(vec![Some(N2); 5]);
        stages.push(Some(W));
        stages.extend(vec![Some(N2); 20]);
        let s = SleepStatistics::of(&EpochScoring::new(30.0, 0.0, stages));
        assert_eq!(s.sleep_onset_latency_min, Some(1.5));
        assert_eq!(s.persistent_sleep_latency_min, Some(4.5));
        assert_eq!(s.rem_latency_min, None);
    }

    #[test]
    fn a_night_without_sleep_or_scores_has_no_latencies_and_no_nan() {
        let awake = SleepStatistics::of(&EpochScoring::new(30.0, 0.0, vec![Some(W); 4]));
        assert_eq!(awake.sleep_onset_latency_min, None);
        assert_eq!(awake.sleep_efficiency_pct, 0.0);
        assert_eq!(awake.sleep_period_time_min, 0.0);
        assert_eq!(awake.waso_min, 0.0);
        assert_eq!(awake.awakenings, 0);
        let empty = SleepStatistics::of(&EpochScoring::new(30.0, 0.0, vec![None; 3]));
        assert_eq!(empty.time_in_bed_min, 0.0);
        assert_eq!(empty.stages["N2"].percent_of_tst, Some(0.0));
        assert!(serde_json::to_string(&empty).is_ok());
    }
}
