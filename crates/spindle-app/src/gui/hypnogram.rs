//! The hypnogram strip above the traces: the open recording's sleep stages
//! over the whole night as steps in their colors, its unscored epochs
//! marked, the visible page marked, click or drag to go there; beside it
//! the night's sleep statistics. With a comparison layer, the other
//! scorer's stages as a second, thinner line with the disagreements marked
//! along the top, and the agreement panel beside the statistics. In the
//! Results view of a sleep run, the same strip for each test recording:
//! the true stages and the model's, from the run's `predictions.tsv`.

use eframe::egui::{
    self, Align2, Color32, CornerRadius, FontId, Rect, Role, Sense, Stroke, Ui, WidgetInfo, pos2,
    vec2,
};
use std::path::{Path, PathBuf};

use spindle_learn::runs::RunSnapshot;
use spindle_learn::train::stage_classes;
use spindle_signals::labeling::LabelScheme;
use spindle_signals::recording::{Label, LabelSet};
use spindle_signals::scoring::{
    EpochAgreement, EpochScoring, SleepStage, SleepStatistics, disagreements, epoch_agreement,
};

use super::compare::{self, AGREEMENT_W, Agreement, Comparison};
use super::session::Session;

/// Height of the strip, points.
const STRIP_H: f32 = 96.0;
/// Width of the stage names left of the steps, points.
const NAMES_W: f32 = 34.0;
/// The narrowest strip beside which the agreement panel is drawn, points.
const MIN_STRIP_W: f32 = 320.0;
/// Width kept for the statistics beside the strip, points.
const STATISTICS_W: f32 = 300.0;
/// Stages top to bottom, as hypnograms draw them (REM under wake).
const ROWS: [SleepStage; 5] = [
    SleepStage::W,
    SleepStage::Rem,
    SleepStage::N1,
    SleepStage::N2,
    SleepStage::N3,
];

/// The open recording's epoch scoring and its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Night {
    /// The stages, epoch by epoch.
    pub scoring: EpochScoring,
    /// The AASM measures of the scoring.
    pub statistics: SleepStatistics,
}

/// The night `labels` score, `None` when they name no sleep stage or are
/// not a regular epoch scoring (a few hundred labels: cheap enough for a
/// logic step).
pub fn night_of(labels: &LabelSet) -> Option<Night> {
    let scoring = EpochScoring::from_labels(labels, None).ok()??;
    let statistics = SleepStatistics::of(&scoring);
    Some(Night {
        scoring,
        statistics,
    })
}

/// A test recording of a sleep run: its true stages and the model's.
#[derive(Debug, Clone, PartialEq)]
pub struct TestNight {
    /// The recording, as the run's predictions name it.
    pub file: PathBuf,
    /// The true stages of the test windows.
    pub truth: EpochScoring,
    /// The model's stages of the same windows.
    pub predicted: EpochScoring,
    /// Onsets of the epochs where they differ.
    pub disagreements: Vec<f64>,
    /// Their agreement (the model as one more scorer).
    pub agreement: Option<EpochAgreement>,
}

/// The test recordings of `run` when it is a sleep stager (its classes are
/// sleep stages), each window of its `predictions.tsv` an epoch; none for
/// other runs, or a recording whose windows overlap (not an epoch scoring).
/// A few hundred rows: built once per run shown (`Derived`).
pub fn test_nights(run: &RunSnapshot) -> Vec<TestNight> {
    let Some(info) = &run.info else {
        return Vec::new();
    };
    if stage_classes(&info.classes, info.regression).is_err() {
        return Vec::new();
    }
    let mut files: Vec<&Path> = Vec::new();
    for r in &run.predictions {
        if !files.contains(&r.file.as_path()) {
            files.push(&r.file);
        }
    }
    files
        .into_iter()
        .filter_map(|file| {
            let rows: Vec<_> = run.predictions.iter().filter(|r| r.file == file).collect();
            let epoch_s = rows.first()?.duration_s;
            let scoring = |predicted: bool| {
                let labels = LabelSet::new(
                    rows.iter()
                        .map(|r| {
                            let stage = if predicted { &r.predicted } else { &r.truth };
                            Label::new(r.onset_s, r.duration_s, stage.as_str())
                        })
                        .collect(),
                );
                EpochScoring::from_labels(&labels, Some(epoch_s))
                    .ok()
                    .flatten()
            };
            let truth = scoring(false)?;
            let predicted = scoring(true)?;
            Some(TestNight {
                file: file.to_path_buf(),
                disagreements: disagreements(&truth, &predicted),
                agreement: epoch_agreement(&[&truth, &predicted]).ok(),
                truth,
                predicted,
            })
        })
        .collect()
}

/// The strip of a test recording in Results: true stages (thick) and the
/// model's (thin), disagreements ticked, and their agreement.
pub fn test_night_ui(ui: &mut Ui, night: &TestNight) {
    let name = night.file.file_name().map_or_else(
        || night.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    ui.label(egui::RichText::new(format!("Hypnogram of {name}")).strong());
    let width = ui.available_width().min(1100.0);
    let (rect, resp) = ui.allocate_exact_size(vec2(width, STRIP_H), Sense::hover());
    resp.widget_info(|| {
        WidgetInfo::labeled(Role::Canvas, true, format!("Hypnogram strip of {name}"))
    });
    let lines = Lines {
        main: Some(&night.truth),
        second: Some((&night.predicted, night.disagreements.as_slice())),
    };
    let duration_s = night.truth.end_s().max(night.predicted.end_s()).max(1e-9);
    let painter = ui.painter_at(rect);
    paint(
        &painter,
        rect,
        steps_of(rect),
        &lines,
        duration_s,
        &LabelScheme::default(),
        ui.visuals(),
    );
    let said = night.agreement.as_ref().map_or_else(String::new, |a| {
        format!(
            "{:.1} % of {} epochs agree, Cohen's kappa {:.3}; ",
            a.percent_agreement, a.epochs_compared, a.kappa
        )
    });
    ui.label(
        egui::RichText::new(format!(
            "Thick: the true stages; thin: the model's. {said}{} disagreements (red ticks).",
            night.disagreements.len()
        ))
        .small(),
    );
}

/// A stage's color: its label class's in `scheme` (as its labels are drawn
/// over the traces), else the stage's own.
fn stage_color(scheme: &LabelScheme, stage: SleepStage) -> Color32 {
    let [r, g, b] = scheme
        .get(stage.name())
        .map_or_else(|| stage.color(), |c| c.color);
    Color32::from_rgb(r, g, b)
}

/// The comparison layer as the strip draws it.
#[derive(Clone, Copy)]
pub struct Layer<'a> {
    /// The other scorer.
    pub comparison: &'a Comparison,
    /// Its agreement with the user's scoring.
    pub agreement: &'a Agreement,
}

/// Draws the strip of `night` (the user's scoring, when the labels are
/// one) and of `layer` over session `s`, stages in their colors in
/// `scheme`, the night's statistics and the layer's agreement beside it; a
/// click or drag on the strip moves the view there (to that epoch's page in
/// epoch mode). Draws nothing without either.
pub fn ui(
    ui: &mut Ui,
    night: Option<&Night>,
    layer: Option<Layer<'_>>,
    s: &mut Session,
    scheme: &LabelScheme,
    page_s: f64,
) {
    if night.is_none() && layer.is_none() {
        return;
    }
    // The agreement panel beside the statistics when the strip keeps room,
    // else under them.
    // The agreement panel beside the statistics; when the strip would be
    // left narrow, the strip above both.
    let wide = ui.available_width() >= MIN_STRIP_W + STATISTICS_W + AGREEMENT_W;
    let beside_strip = layer.is_none() || wide;
    if !beside_strip {
        let width = ui.available_width();
        strip(ui, night, layer, s, scheme, page_s, width);
    }
    ui.horizontal_top(|ui| {
        if beside_strip {
            let room = STATISTICS_W + if layer.is_some() { AGREEMENT_W } else { 0.0 };
            let width = (ui.available_width() - room).max(200.0);
            strip(ui, night, layer, s, scheme, page_s, width);
        }
        if let Some(night) = night {
            statistics(ui, &night.statistics, scheme);
        }
        if let Some(layer) = layer {
            ui.add_space(12.0);
            compare::agreement_panel(ui, &layer.comparison.name, layer.agreement);
        }
    });
}

fn strip(
    ui: &mut Ui,
    night: Option<&Night>,
    layer: Option<Layer<'_>>,
    s: &mut Session,
    scheme: &LabelScheme,
    page_s: f64,
    width: f32,
) {
    let (rect, resp) = ui.allocate_exact_size(vec2(width, STRIP_H), Sense::click_and_drag());
    resp.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Hypnogram"));
    let end_s = night
        .map(|n| n.scoring.end_s())
        .into_iter()
        .chain(layer.map(|l| l.comparison.scoring.end_s()))
        .fold(0.0, f64::max);
    let duration_s = s.duration_s().max(end_s).max(1e-9);
    let steps = steps_of(rect);
    let x_of = |t: f64| steps.left() + (t / duration_s).clamp(0.0, 1.0) as f32 * steps.width();
    if (resp.clicked() || resp.dragged())
        && let Some(p) = resp.interact_pointer_pos()
    {
        let t = f64::from((p.x - steps.left()) / steps.width()).clamp(0.0, 1.0) * duration_s;
        if s.epoch_mode {
            s.go_to_page((t / page_s).floor() as usize, page_s);
        } else {
            let span_s = s.view.span_s;
            s.set_view(t - span_s / 2.0, span_s);
        }
    }
    let lines = Lines {
        main: night.map(|n| &n.scoring),
        second: layer.map(|l| (&l.comparison.scoring, l.agreement.disagreements.as_slice())),
    };
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    paint(&painter, rect, steps, &lines, duration_s, scheme, visuals);
    // The visible page.
    let (t0, t1) = s.view_range();
    let (x0, x1) = (x_of(t0), x_of(t1).max(x_of(t0) + 2.0));
    let page = Rect::from_x_y_ranges(x0..=x1, steps.top()..=rect.bottom() - 1.0);
    painter.rect_filled(
        page,
        CornerRadius::ZERO,
        visuals.selection.bg_fill.gamma_multiply(0.35),
    );
    painter.rect_stroke(
        page,
        CornerRadius::ZERO,
        Stroke::new(1.0, visuals.selection.stroke.color),
        egui::StrokeKind::Inside,
    );
}

/// The scorings a strip draws: the main one (thick steps, unscored epochs
/// marked) and a second one (thin steps) with the onsets of the epochs
/// where they disagree.
struct Lines<'a> {
    main: Option<&'a EpochScoring>,
    second: Option<(&'a EpochScoring, &'a [f64])>,
}

/// Paints `lines` into `rect` (the steps in `steps`) over `duration_s`
/// seconds: background, stage names, the steps, the disagreement ticks.
fn paint(
    painter: &egui::Painter,
    rect: Rect,
    steps: Rect,
    lines: &Lines<'_>,
    duration_s: f64,
    scheme: &LabelScheme,
    visuals: &egui::Visuals,
) {
    let x_of = |t: f64| steps.left() + (t / duration_s).clamp(0.0, 1.0) as f32 * steps.width();
    painter.rect_filled(rect, CornerRadius::same(2), visuals.extreme_bg_color);
    let row_h = steps.height() / ROWS.len() as f32;
    let y_of = |stage: SleepStage| {
        let row = ROWS.iter().position(|&r| r == stage).unwrap_or(0);
        steps.top() + row_h * (row as f32 + 0.5)
    };
    for stage in ROWS {
        painter.text(
            pos2(rect.left() + 4.0, y_of(stage)),
            Align2::LEFT_CENTER,
            stage.name(),
            FontId::proportional(10.0),
            visuals.weak_text_color(),
        );
    }
    let color_of = |stage: SleepStage| stage_color(scheme, stage);
    let map = StripMap {
        x_of: &x_of,
        y_of: &y_of,
        color_of: &color_of,
    };
    if let Some(main) = lines.main {
        draw_steps(painter, main, steps, &map, visuals, Line::Main);
    }
    if let Some((second, disagreements)) = lines.second {
        let lower = |stage| y_of(stage) + row_h * 0.3;
        let map = StripMap {
            y_of: &lower,
            ..map
        };
        draw_steps(painter, second, steps, &map, visuals, Line::Second);
        let mark = Stroke::new(1.0, Color32::from_rgb(230, 60, 60));
        for &onset_s in disagreements {
            let x = x_of(onset_s);
            painter.line_segment([pos2(x, rect.top()), pos2(x, rect.top() + 5.0)], mark);
        }
    }
}

/// The steps' area of a strip in `rect`.
fn steps_of(rect: Rect) -> Rect {
    Rect::from_min_max(
        pos2(rect.left() + NAMES_W, rect.top() + 2.0),
        pos2(rect.right() - 2.0, rect.bottom() - 12.0),
    )
}

/// Which line of the strip a scoring is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    /// The user's scoring: thick steps, unscored epochs marked.
    Main,
    /// The comparison layer: thin steps under the user's.
    Second,
}

/// Where the strip draws a time and a stage, and in which color.
#[derive(Clone, Copy)]
struct StripMap<'a> {
    /// x of a time, seconds.
    x_of: &'a dyn Fn(f64) -> f32,
    /// y of a stage's row.
    y_of: &'a dyn Fn(SleepStage) -> f32,
    /// A stage's color.
    color_of: &'a dyn Fn(SleepStage) -> Color32,
}

/// The steps (one segment per run of epochs of a stage, in its color, joined
/// by thin risers: a segment per epoch would be about a pixel long over a
/// night, and anti-aliasing would fade each one's ends into dashes) and the
/// unscored epochs (grey ticks along the bottom).
fn draw_steps(
    painter: &egui::Painter,
    scoring: &EpochScoring,
    steps: Rect,
    map: &StripMap<'_>,
    visuals: &egui::Visuals,
    line: Line,
) {
    let StripMap {
        x_of,
        y_of,
        color_of,
    } = map;
    let width = if line == Line::Main { 3.0 } else { 1.5 };
    let riser = Stroke::new(
        if line == Line::Main { 1.0 } else { 0.5 },
        visuals.weak_text_color(),
    );
    let unscored_y = steps.bottom() + 6.0;
    let n = scoring.stages.len();
    let mut i = 0;
    let mut last: Option<(f32, f32)> = None;
    while i < n {
        let stage = scoring.stages[i];
        let run = scoring.stages[i..]
            .iter()
            .take_while(|s| **s == stage)
            .count();
        let (x0, x1) = (
            x_of(scoring.onset_s(i)),
            x_of(scoring.onset_s(i + run - 1) + scoring.epoch_s),
        );
        i += run;
        let Some(stage) = stage else {
            last = None;
            if line == Line::Second {
                continue;
            }
            painter.line_segment(
                [pos2(x0, unscored_y), pos2(x1.max(x0 + 1.0), unscored_y)],
                Stroke::new(4.0, Color32::from_gray(150)),
            );
            continue;
        };
        let y = y_of(stage);
        if let Some((lx, ly)) = last
            && (ly - y).abs() > 0.5
        {
            painter.line_segment([pos2(lx, ly), pos2(lx, y)], riser);
        }
        painter.line_segment(
            [pos2(x0, y), pos2(x1.max(x0 + 1.0), y)],
            Stroke::new(width, color_of(stage)),
        );
        last = Some((x1, y));
    }
    if line == Line::Second {
        return;
    }
    painter.text(
        pos2(steps.left() - 4.0, unscored_y),
        Align2::RIGHT_CENTER,
        "?",
        FontId::proportional(10.0),
        visuals.weak_text_color(),
    );
}

/// The statistics of the night: the AASM measures (two to a row) and the
/// minutes and percent of total sleep time of each stage.
fn statistics(ui: &mut Ui, st: &SleepStatistics, scheme: &LabelScheme) {
    let latency = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |m| format!("{m:.1} min"));
    let measures = [
        ("Time in bed", format!("{:.1} min", st.time_in_bed_min)),
        (
            "Total sleep time",
            format!("{:.1} min", st.total_sleep_time_min),
        ),
        (
            "Sleep efficiency",
            format!("{:.1} %", st.sleep_efficiency_pct),
        ),
        ("Sleep onset latency", latency(st.sleep_onset_latency_min)),
        ("REM latency", latency(st.rem_latency_min)),
        ("WASO", format!("{:.1} min", st.waso_min)),
        ("Awakenings", st.awakenings.to_string()),
        ("Unscored", format!("{:.1} min", st.unscored_min)),
    ];
    let small = |t: String| egui::RichText::new(t).small();
    ui.vertical(|ui| {
        ui.set_width(STATISTICS_W - 8.0);
        ui.spacing_mut().item_spacing.y = 1.0;
        egui::Grid::new("sleep_statistics")
            .num_columns(4)
            .spacing(vec2(8.0, 1.0))
            .show(ui, |ui| {
                for pair in measures.chunks(2) {
                    for (name, value) in pair {
                        ui.label(small((*name).to_owned()));
                        ui.label(small(value.clone()).strong());
                    }
                    ui.end_row();
                }
            });
        ui.separator();
        egui::Grid::new("sleep_stage_times")
            .num_columns(6)
            .spacing(vec2(10.0, 1.0))
            .show(ui, |ui| {
                ui.label(small("Stage".to_owned()));
                for stage in SleepStage::ALL {
                    ui.label(
                        small(stage.name().to_owned())
                            .strong()
                            .color(stage_color(scheme, stage)),
                    );
                }
                ui.end_row();
                ui.label(small("min".to_owned()));
                for stage in SleepStage::ALL {
                    let t = st.stages.get(stage.name());
                    ui.label(small(
                        t.map_or("0.0".to_owned(), |t| format!("{:.1}", t.minutes)),
                    ));
                }
                ui.end_row();
                ui.label(small("% of TST".to_owned()));
                for stage in SleepStage::ALL {
                    let pct = st.stages.get(stage.name()).and_then(|t| t.percent_of_tst);
                    ui.label(small(pct.map_or("–".to_owned(), |p| format!("{p:.1}"))));
                }
                ui.end_row();
            });
    });
}
