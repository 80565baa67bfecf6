//! Agreement between two or more epoch scorings of one recording, epoch by
//! epoch over their common span.
//!
//! Compared are the epochs of the common span that every scorer staged; an
//! epoch someone left unscored is counted apart and left out. Per class,
//! two numbers: kappa of that stage against all others (Cohen's for two
//! scorers, Fleiss' category kappa for more) and specific (positive)
//! agreement, the share of one scorer's epochs of the stage that another
//! scorer also gave it (for two scorers `2a / (2a + b + c)`, the F1 of one
//! against the other).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::span::CommonSpan;
use super::stage::SleepStage;
use super::{EpochScoring, ScoringError};
use crate::eval::{ConfusionMatrix, class_kappa, fleiss_kappa};

/// Which kappa [`EpochAgreement::kappa`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KappaKind {
    /// Cohen's kappa (two scorers).
    Cohen,
    /// Fleiss' kappa (three or more).
    Fleiss,
}

/// Agreement on one stage.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassAgreement {
    /// Kappa of this stage against all others (-1..=1; 0 where undefined).
    pub kappa: f64,
    /// Specific positive agreement (0..=1).
    pub positive_agreement: f64,
    /// Epochs each scorer gave this stage, in scorer order.
    pub epochs: Vec<usize>,
}

/// Epoch-by-epoch agreement of two or more scorings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochAgreement {
    /// Number of scorings.
    pub scorers: usize,
    /// Epoch length, seconds.
    pub epoch_s: f64,
    /// Start of the common span, seconds from the recording's start.
    pub span_start_s: f64,
    /// End of the common span, seconds.
    pub span_end_s: f64,
    /// Epochs of each scoring (before taking the common span).
    pub epochs_per_scorer: Vec<usize>,
    /// Epochs in the common span.
    pub epochs_in_span: usize,
    /// Epochs every scorer staged: the ones compared.
    pub epochs_compared: usize,
    /// Epochs of the span left out because a scorer left them unscored.
    pub epochs_unscored: usize,
    /// Percent of compared epochs on which all scorers agree (0..=100).
    pub percent_agreement: f64,
    /// Percent of agreeing scorer pairs, averaged over epochs (Fleiss' P̄;
    /// the same as `percent_agreement` for two scorers).
    pub mean_pairwise_agreement: f64,
    /// Cohen's kappa (two scorers) or Fleiss' kappa (more).
    pub kappa: f64,
    /// Which kappa.
    pub kappa_kind: KappaKind,
    /// The stages any scorer used in the compared epochs, in hypnogram order.
    pub classes: Vec<String>,
    /// Per stage, by name.
    pub per_class: BTreeMap<String, ClassAgreement>,
    /// Two scorers: counts of (first scorer's stage, second's) over
    /// `classes`, rows the first.
    pub confusion: Option<Vec<Vec<usize>>>,
}

/// The agreement of `scorings` (at least two) over their common span.
pub fn epoch_agreement(scorings: &[&EpochScoring]) -> Result<EpochAgreement, ScoringError> {
    if scorings.len() < 2 {
        return Err(ScoringError::TooFewScorers(scorings.len()));
    }
    let span = CommonSpan::of(scorings)?;
    let n = scorings.len();
    let mut rows: Vec<Vec<SleepStage>> = Vec::new();
    for i in 0..span.epochs {
        let row: Option<Vec<SleepStage>> = (0..n).map(|k| span.stage(scorings, k, i)).collect();
        rows.extend(row);
    }
    let present: Vec<SleepStage> = SleepStage::ALL
        .into_iter()
        .filter(|s| rows.iter().any(|r| r.contains(s)))
        .collect();
    let index = |s: SleepStage| present.iter().position(|p| *p == s).unwrap_or(0);
    let all_agree = rows.iter().filter(|r| r.iter().all(|s| *s == r[0])).count();
    let counts: Vec<Vec<usize>> = rows
        .iter()
        .map(|r| {
            let mut c = vec![0; present.len()];
            for s in r {
                c[index(*s)] += 1;
            }
            c
        })
        .collect();
    let mut per_class = BTreeMap::new();
    let (kappa, kind, pairwise, confusion) = if rows.is_empty() {
        (0.0, kind_for(n), 0.0, (n == 2).then(Vec::new))
    } else if n == 2 {
        let a: Vec<usize> = rows.iter().map(|r| index(r[0])).collect();
        let b: Vec<usize> = rows.iter().map(|r| index(r[1])).collect();
        let cm = ConfusionMatrix::from_labels(&a, &b, present.len())
            .map_err(|_| ScoringError::NoCommonSpan)?;
        for (j, stage) in present.iter().enumerate() {
            per_class.insert(
                stage.name().to_owned(),
                ClassAgreement {
                    kappa: class_kappa(&cm, j),
                    positive_agreement: cm.class_scores(j).f1,
                    epochs: vec![cm.support(j), cm.predicted_count(j)],
                },
            );
        }
        (
            cm.kappa(),
            KappaKind::Cohen,
            cm.accuracy(),
            Some(cm.to_rows()),
        )
    } else {
        let f = fleiss_kappa(&counts).map_err(|_| ScoringError::NoCommonSpan)?;
        for (j, stage) in present.iter().enumerate() {
            let epochs = (0..n)
                .map(|k| rows.iter().filter(|r| r[k] == *stage).count())
                .collect();
            per_class.insert(
                stage.name().to_owned(),
                ClassAgreement {
                    kappa: f.per_category[j].kappa,
                    positive_agreement: f.per_category[j].specific_agreement,
                    epochs,
                },
            );
        }
        (f.kappa, KappaKind::Fleiss, f.observed, None)
    };
    Ok(EpochAgreement {
        scorers: n,
        epoch_s: span.epoch_s,
        span_start_s: span.start_s,
        span_end_s: span.end_s(),
        epochs_per_scorer: scorings.iter().map(|s| s.len()).collect(),
        epochs_in_span: span.epochs,
        epochs_compared: rows.len(),
        epochs_unscored: span.epochs - rows.len(),
        percent_agreement: percent(all_agree, rows.len()),
        mean_pairwise_agreement: 100.0 * pairwise,
        kappa,
        kappa_kind: kind,
        classes: present.iter().map(|s| s.name().to_owned()).collect(),
        per_class,
        confusion,
    })
}

fn kind_for(n: usize) -> KappaKind {
    if n == 2 {
        KappaKind::Cohen
    } else {
        KappaKind::Fleiss
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl EpochAgreement {
    /// The agreement as lines of text; `names` names the scorers (files).
    pub fn text(&self, names: &[String]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "epochs compared    {} of {} s ({:.1}-{:.1} s, the span every scoring covers)",
            self.epochs_compared, self.epoch_s, self.span_start_s, self.span_end_s
        );
        for (name, epochs) in names.iter().zip(&self.epochs_per_scorer) {
            let _ = writeln!(out, "  {name}: {epochs} epochs");
        }
        if self.epochs_unscored > 0 {
            let _ = writeln!(
                out,
                "left out           {} epochs that a scorer left unscored",
                self.epochs_unscored
            );
        }
        let _ = writeln!(out, "agreement          {:.1} %", self.percent_agreement);
        if self.scorers > 2 {
            let _ = writeln!(
                out,
                "pairwise agreement {:.1} % (mean over scorer pairs)",
                self.mean_pairwise_agreement
            );
        }
        let which = match self.kappa_kind {
            KappaKind::Cohen => "Cohen's kappa",
            KappaKind::Fleiss => "Fleiss' kappa",
        };
        let _ = writeln!(out, "{which:<18} {:.3}", self.kappa);
        let _ = writeln!(out, "stage    kappa  positive agreement");
        for class in &self.classes {
            if let Some(c) = self.per_class.get(class) {
                let _ = writeln!(
                    out,
                    "{class:<6} {:>7.3}  {:>6.1} %",
                    c.kappa,
                    100.0 * c.positive_agreement
                );
            }
        }
        if let (Some(rows), [first, second, ..]) = (&self.confusion, names) {
            let _ = writeln!(out, "confusion (rows {first}, columns {second})");
            let _ = write!(out, "{:<6}", "");
            for class in &self.classes {
                let _ = write!(out, " {class:>6}");
            }
            out.push('\n');
            for (class, row) in self.classes.iter().zip(rows) {
                let _ = write!(out, "{class:<6}");
                for v in row {
                    let _ = write!(out, " {v:>6}");
                }
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SleepStage::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Two scorers whose epochs fill the table (rows A, columns B)
    /// W 10 2 0 / N2 1 20 3 / REM 0 2 12, plus three epochs B left
    /// unscored.
    fn two_scorers() -> (EpochScoring, EpochScoring) {
        let cells = [
            (W, W, 10),
            (W, N2, 2),
            (N2, W, 1),
            (N2, N2, 20),
            (N2, Rem, 3),
            (Rem, N2, 2),
            (Rem, Rem, 12),
        ];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (x, y, n) in cells {
            for _ in 0..n {
                a.push(Some(x));
                b.push(Some(y));
            }
        }
        a.extend([Some(W), Some(N2), Some(Rem)]);
        b.extend([None, None, None]);
        (
            EpochScoring::new(30.0, 0.0, a),
            EpochScoring::new(30.0, 0.0, b),
        )
    }

    /// By hand: 42 of 50 agree (84 %); marginals A 12 24 14, B 11 24 15,
    /// so p_e = (132 + 576 + 210) / 2500 = 918 / 2500 and kappa =
    /// (0.84 - 0.3672) / (1 - 0.3672) = 591 / 791.
    #[test]
    fn two_scorers_give_cohens_kappa_of_the_hand_computed_table() {
        let (a, b) = two_scorers();
        let r = epoch_agreement(&[&a, &b]).unwrap();
        assert_eq!(r.kappa_kind, KappaKind::Cohen);
        assert_eq!(
            (r.epochs_in_span, r.epochs_compared, r.epochs_unscored),
            (53, 50, 3)
        );
        assert!(close(r.percent_agreement, 84.0));
        assert!(close(r.kappa, 591.0 / 791.0));
        assert_eq!(r.classes, ["W", "N2", "REM"]);
        assert_eq!(
            r.confusion,
            Some(vec![vec![10, 2, 0], vec![1, 20, 3], vec![0, 2, 12]])
        );
        // W: a = 10, b = 2, c = 1, d = 37.
        assert!(close(r.per_class["W"].kappa, 736.0 / 886.0));
        assert!(close(r.per_class["W"].positive_agreement, 20.0 / 23.0));
        assert!(close(r.per_class["REM"].positive_agreement, 24.0 / 29.0));
        assert_eq!(r.per_class["N2"].epochs, vec![24, 24]);
        let text = r.text(&["a.tsv".into(), "b.tsv".into()]);
        assert!(text.contains("Cohen's kappa      0.747"), "{text}");
        assert!(
            text.contains("confusion (rows a.tsv, columns b.tsv)"),
            "{text}"
        );
    }

    /// Three scorers over 4 epochs of two stages, [3,0] [2,1] [0,3] [1,2]
    /// votes: the hand-computed Fleiss' kappa of 1/3 (eval's test), with
    /// all three agreeing on 2 of 4 epochs and P̄ = 2/3.
    #[test]
    fn three_scorers_give_fleiss_kappa() {
        let s = |v: [SleepStage; 4]| EpochScoring::new(30.0, 0.0, v.map(Some).to_vec());
        let a = s([W, W, N2, W]);
        let b = s([W, W, N2, N2]);
        let c = s([W, N2, N2, N2]);
        let r = epoch_agreement(&[&a, &b, &c]).unwrap();
        assert_eq!(r.kappa_kind, KappaKind::Fleiss);
        assert!(close(r.kappa, 1.0 / 3.0));
        assert!(close(r.percent_agreement, 50.0));
        assert!(close(r.mean_pairwise_agreement, 200.0 / 3.0));
        assert!(close(r.per_class["W"].positive_agreement, 2.0 / 3.0));
        assert_eq!(r.per_class["W"].epochs, vec![3, 2, 1]);
        assert!(r.confusion.is_none());
    }

    #[test]
    fn scorings_of_different_lengths_compare_their_common_span() {
        let a = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N1), Some(N2), Some(N2)]);
        let b = EpochScoring::new(30.0, 30.0, vec![Some(N1), Some(N3)]);
        let r = epoch_agreement(&[&a, &b]).unwrap();
        assert_eq!((r.span_start_s, r.span_end_s), (30.0, 90.0));
        assert_eq!(r.epochs_per_scorer, vec![4, 2]);
        assert!(close(r.percent_agreement, 50.0));
        assert!(epoch_agreement(&[&a]).is_err());
    }
}
