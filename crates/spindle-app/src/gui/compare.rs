//! The comparison layer of the open recording: another scorer's epoch
//! scoring (a file read on a worker, or a sleep run's stages with a
//! confidence per epoch), never mixed into the user's labels. Here: the
//! layer and its review walk as values, its agreement with the user's
//! scoring (built once per label revision, see `Derived`), the ribbon under
//! the traces, the bar above them (name, close, stepping through
//! disagreements, the confidence review) and the agreement panel beside the
//! hypnogram statistics.

use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText, Ui, vec2};
use spindle_signals::dsp::format_hms;
use spindle_signals::labeling::LabelScheme;
use spindle_signals::scoring::{
    EpochAgreement, EpochScoring, KappaKind, disagreements, epoch_agreement, review_order,
};

use super::command::{AppCommand, Commands, Pick, ReviewStep};
use super::viewer::{Ribbon, RibbonSpan};

/// Width of the agreement panel beside the statistics, points.
pub const AGREEMENT_W: f32 = 330.0;

/// Another scorer's scoring of the open recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The recording it is a layer of.
    pub recording: PathBuf,
    /// The scorer's file, or the run folder whose model staged the night.
    pub source: PathBuf,
    /// What the layer is called: the file's name, or `RUN (model)`.
    pub name: String,
    /// The other scorer's stages (with the model's probabilities for a run).
    pub scoring: EpochScoring,
}

impl Comparison {
    /// True when the layer is a model's stages (it has a confidence per
    /// epoch and can be reviewed least confident first).
    pub fn is_model(&self) -> bool {
        self.scoring.probabilities.is_some()
    }
}

/// The agreement of the user's scoring with the layer's.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// The numbers, or why there are none (no scoring of the user's yet, no
    /// common span).
    pub result: Result<EpochAgreement, String>,
    /// Onsets of the epochs where both scored and differ, ascending.
    pub disagreements: Vec<f64>,
}

/// The agreement of `user` (the user's scoring, if the labels are one) with
/// `other`: a few hundred epochs, cheap, built once per label revision.
pub fn agreement_of(user: Option<&EpochScoring>, other: &EpochScoring) -> Agreement {
    let Some(user) = user else {
        return Agreement {
            result: Err("no epoch scoring of yours to compare yet".to_owned()),
            disagreements: Vec::new(),
        };
    };
    Agreement {
        result: epoch_agreement(&[user, other]).map_err(|e| e.to_string()),
        disagreements: disagreements(user, other),
    }
}

/// The confidence review of a model's layer: its epochs least confident
/// first, and how far the user has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// Epochs of the layer's scoring, least confident first.
    pub order: Vec<usize>,
    /// How many of `order` are reviewed: `order[position]` is under review.
    pub position: usize,
}

impl Review {
    /// The review of `scoring` from its least confident epoch; `None` when
    /// the scoring has no confidences.
    pub fn of(scoring: &EpochScoring) -> Option<Self> {
        let order = review_order(scoring);
        (!order.is_empty()).then_some(Self { order, position: 0 })
    }

    /// The epoch under review; `None` once every epoch is reviewed.
    pub fn current(&self) -> Option<usize> {
        self.order.get(self.position).copied()
    }

    /// The progress line: `12 of 323 epochs reviewed · 1:23:00.000: N2,
    /// confidence 41 %`.
    pub fn progress(&self, scoring: &EpochScoring) -> String {
        let n = self.order.len();
        match self.current() {
            Some(i) => format!(
                "{} of {n} epochs reviewed · {}: {}, confidence {:.0} %",
                self.position,
                format_hms(scoring.onset_s(i)),
                scoring.stages[i].map_or("unscored", |s| s.name()),
                scoring.confidence(i).unwrap_or(0.0) * 100.0
            ),
            None => format!("{n} of {n} epochs reviewed"),
        }
    }
}

/// The ribbon of `c` under the traces: each scored epoch in its stage's
/// color in `scheme`, the epochs in `flagged` (disagreements) marked; a
/// model's confidence as opacity.
pub fn ribbon(c: &Comparison, scheme: &LabelScheme, flagged: &[f64]) -> Ribbon {
    let scoring = &c.scoring;
    let spans = (0..scoring.len())
        .filter_map(|i| {
            let stage = scoring.stages[i]?;
            let [r, g, b] = scheme
                .get(stage.name())
                .map_or_else(|| stage.color(), |class| class.color);
            let onset_s = scoring.onset_s(i);
            let opacity = scoring.confidence(i).map_or(0.8, |p| 0.25 + 0.75 * p);
            Some(RibbonSpan {
                start_s: onset_s,
                end_s: onset_s + scoring.epoch_s,
                color: Color32::from_rgb(r, g, b).gamma_multiply(opacity),
                flagged: flagged.binary_search_by(|o| o.total_cmp(&onset_s)).is_ok(),
            })
        })
        .collect();
    let title: String = c.name.chars().take(14).collect();
    Ribbon { title, spans }
}

/// Without a layer, in epoch scoring or on a scored night: the offer to
/// open another scorer's file, and to stage the night with `stager` (the
/// sleep run shown in Results).
pub fn offer(ui: &mut Ui, stager: Option<PathBuf>, commands: &mut Commands) {
    ui.horizontal(|ui| {
        if ui
            .small_button("Compare with another scoring…")
            .on_hover_text("Another scorer's events.tsv, EDF+ hypnogram or CSV of this recording, shown beside your labels, never mixed into them")
            .clicked()
        {
            commands.push(AppCommand::Pick(Pick::Comparison));
        }
        if let Some(run) = stager {
            let name = run
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            if ui
                .small_button(format!("Stage with {name}"))
                .on_hover_text("The run's stages, with its confidence per epoch, as a comparison layer to review")
                .clicked()
            {
                commands.push(AppCommand::CompareWithRun(run));
            }
        }
    });
}

/// The bar of the layer above the traces: its name, close button, the
/// disagreement steps and the review (start, progress, accept, stop).
pub fn bar(
    ui: &mut Ui,
    c: &Comparison,
    agreement: Option<&Agreement>,
    review: Option<&Review>,
    commands: &mut Commands,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("Compared with {}", c.name)).strong())
            .on_hover_text(c.source.display().to_string());
        if ui
            .small_button("Close comparison")
            .on_hover_text("Removes the layer; your labels stay as they are")
            .clicked()
        {
            commands.push(AppCommand::CloseComparison);
        }
    });
    ui.horizontal_wrapped(|ui| {
        let n = agreement.map_or(0, |a| a.disagreements.len());
        ui.label(RichText::new(format!("{n} disagreements")).small());
        if ui
            .add_enabled(n > 0, egui::Button::new("Previous disagreement").small())
            .on_hover_text("Shift+D")
            .clicked()
        {
            commands.push(AppCommand::StepDisagreement { forward: false });
        }
        if ui
            .add_enabled(n > 0, egui::Button::new("Next disagreement").small())
            .on_hover_text("D")
            .clicked()
        {
            commands.push(AppCommand::StepDisagreement { forward: true });
        }
        if c.is_model() && review.is_none() && ui
            .small_button("Review least confident")
            .on_hover_text("Steps through the model's epochs from the least confident: Enter or A accepts its stage, a stage key corrects it")
            .clicked()
        {
            commands.push(AppCommand::Review(ReviewStep::Start));
        }
    });
    if let Some(review) = review {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(review.progress(&c.scoring)).strong());
            let open = review.current().is_some();
            if ui
                .add_enabled(open, egui::Button::new("Accept (Enter)").small())
                .clicked()
            {
                commands.push(AppCommand::Review(ReviewStep::Accept));
            }
            if ui.small_button("Stop review").clicked() {
                commands.push(AppCommand::Review(ReviewStep::Stop));
            }
            ui.label(
                RichText::new("a stage key corrects the epoch")
                    .weak()
                    .small(),
            );
        });
    }
}

/// The agreement panel: percent agreement, kappa, agreement per stage and
/// the confusion matrix (rows yours, columns the other scorer's).
pub fn agreement_panel(ui: &mut Ui, name: &str, agreement: &Agreement) {
    let small = |t: String| RichText::new(t).small();
    ui.vertical(|ui| {
        ui.set_width(AGREEMENT_W);
        ui.spacing_mut().item_spacing.y = 1.0;
        ui.label(small(format!("Agreement with {name}")).strong());
        let a = match &agreement.result {
            Ok(a) => a,
            Err(why) => {
                ui.label(small(why.clone()).weak());
                return;
            }
        };
        let kappa = match a.kappa_kind {
            KappaKind::Cohen => "Cohen's kappa",
            KappaKind::Fleiss => "Fleiss' kappa",
        };
        egui::Grid::new("agreement_measures")
            .num_columns(4)
            .spacing(vec2(8.0, 1.0))
            .show(ui, |ui| {
                ui.label(small("Percent agreement".to_owned()));
                ui.label(small(format!("{:.1} %", a.percent_agreement)).strong());
                ui.label(small(kappa.to_owned()));
                ui.label(small(format!("{:.3}", a.kappa)).strong());
                ui.end_row();
            });
        ui.label(small(format!(
            "{} epochs compared ({} unscored left out)",
            a.epochs_compared, a.epochs_unscored
        )));
        let Some(confusion) = &a.confusion else {
            return;
        };
        egui::Grid::new("agreement_per_class")
            .num_columns(3 + a.classes.len())
            .spacing(vec2(7.0, 1.0))
            .show(ui, |ui| {
                ui.label(small("Stage".to_owned()));
                ui.label(small("agree".to_owned()));
                ui.label(small("kappa".to_owned()));
                for class in &a.classes {
                    ui.label(small(class.clone()).weak());
                }
                ui.end_row();
                for (row, class) in a.classes.iter().enumerate() {
                    ui.label(small(class.clone()).strong());
                    let per = a.per_class.get(class);
                    ui.label(small(per.map_or("–".to_owned(), |p| {
                        format!("{:.0} %", p.positive_agreement * 100.0)
                    })));
                    ui.label(small(
                        per.map_or("–".to_owned(), |p| format!("{:.2}", p.kappa)),
                    ));
                    for n in confusion.get(row).into_iter().flatten() {
                        ui.label(small(n.to_string()));
                    }
                    ui.end_row();
                }
            });
        ui.label(small(format!("rows: yours · columns: {name}")).weak());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_signals::scoring::SleepStage::*;
    use spindle_signals::scoring::StageProbabilities;

    #[test]
    fn the_review_walks_least_confident_first_and_says_how_far_it_is() {
        let mut s = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N2), Some(Rem)]);
        assert!(Review::of(&s).is_none(), "no confidences, no review");
        s.probabilities = Some(StageProbabilities {
            classes: vec![W, N2, Rem],
            per_epoch: vec![
                vec![0.9, 0.05, 0.05],
                vec![0.2, 0.41, 0.39],
                vec![0.1, 0.3, 0.6],
            ],
        });
        let mut r = Review::of(&s).unwrap();
        assert_eq!(r.order, vec![1, 2, 0]);
        assert_eq!(r.current(), Some(1));
        assert_eq!(
            r.progress(&s),
            "0 of 3 epochs reviewed · 0:00:30.000: N2, confidence 41 %"
        );
        r.position = 3;
        assert_eq!(r.current(), None);
        assert_eq!(r.progress(&s), "3 of 3 epochs reviewed");
    }

    #[test]
    fn the_ribbon_flags_the_disagreements() {
        let user = EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N1), Some(N2)]);
        let c = Comparison {
            recording: PathBuf::from("night.edf"),
            source: PathBuf::from("other_events.tsv"),
            name: "other_events.tsv".to_owned(),
            scoring: EpochScoring::new(30.0, 0.0, vec![Some(W), Some(N2), None]),
        };
        let a = agreement_of(Some(&user), &c.scoring);
        assert_eq!(a.disagreements, vec![30.0]);
        assert_eq!(a.result.unwrap().percent_agreement, 50.0);
        let r = ribbon(&c, &LabelScheme::default(), &[30.0]);
        let flagged: Vec<bool> = r.spans.iter().map(|s| s.flagged).collect();
        assert_eq!(flagged, vec![false, true], "the unscored epoch has no span");
        assert!(agreement_of(None, &c.scoring).result.is_err());
    }
}
