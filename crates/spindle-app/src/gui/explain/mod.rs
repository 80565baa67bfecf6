//! The Explain view of Results: what the open run's network relies on —
//! which channels (bars and a scalp map), which rhythms (bands), which
//! channel × frequency pushes it toward each class, and when in the window
//! (saliency, drawn over the traces in the viewer too). The work runs in a
//! [`spindle_learn::jobs::ExplainJob`]; this module draws and records requests.

mod dots;
mod filters;
mod maps;
mod overlay;
mod paint;
mod scalp;
mod selection;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText, Ui};

pub use dots::live_map;
pub use maps::MapsPanel;
pub use overlay::{HeatSpan, draw_heat, heat_spans};
use paint::{Bar, HeatMap, color_scale, heat_map, importance_bars, largest, ranked};

use super::command::{AppCommand, Commands};
use super::tracked::Tracked;
use spindle_learn::explain::{
    CAVEAT, ExplainOptions, ExplainProgress, Explanation, Method, Saliency, band_label,
};
use spindle_learn::jobs::ExplainJob;
use spindle_learn::runs::RunSnapshot;

/// What the viewer draws over the traces from the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlay {
    /// Nothing.
    #[default]
    Off,
    /// Each explained window's own saliency.
    EachWindow,
    /// The average saliency of the class with this index, over every
    /// explained window of that class.
    ClassAverage(usize),
}

/// The Explain view's state.
pub struct ExplainPanel {
    /// The explanation being computed.
    pub job: Option<ExplainJob>,
    /// Its last progress.
    pub progress: Option<ExplainProgress>,
    /// The explanation shown, with the run folder it belongs to.
    pub explanation: Tracked<Option<(PathBuf, Explanation)>>,
    /// Why the last explanation of this run failed.
    pub failure: Option<(PathBuf, String)>,
    /// What the viewer draws from the explanation.
    pub overlay: Overlay,
    methods: BTreeSet<Method>,
    repeats: usize,
    /// The class whose maps are shown.
    class: usize,
    /// The Feature explorer and the learned filters.
    pub maps: MapsPanel,
}

impl Default for ExplainPanel {
    fn default() -> Self {
        Self {
            job: None,
            progress: None,
            explanation: Tracked::default(),
            failure: None,
            overlay: Overlay::Off,
            methods: Method::ALL.into_iter().collect(),
            repeats: ExplainOptions::default().repeats,
            class: 0,
            maps: MapsPanel::default(),
        }
    }
}

/// What each method does, in plain words.
fn method_help(m: Method) -> (&'static str, &'static str) {
    match m {
        Method::Channels => (
            "Channels",
            "Shuffle one channel across the test windows (so it no longer matches its window) and measure how much the score drops.",
        ),
        Method::Bands => (
            "Frequency bands",
            "Remove one band (slow waves below 1 Hz such as blinks, delta, theta, alpha, beta, gamma) from every channel with a band-stop filter and measure the drop.",
        ),
        Method::Amplitude => (
            "Channel × frequency",
            "Add noise to the amplitude of each frequency, keeping the phase, and see which channel and frequency push the output toward each class.",
        ),
        Method::Saliency => (
            "When in the window",
            "Gradient × input: how much each moment of each channel moved the output; Grad-CAM: where the last convolution layer looked.",
        ),
    }
}

impl ExplainPanel {
    /// The explanation of run folder `dir`, when it is the one shown.
    pub fn of(&self, dir: &Path) -> Option<&Explanation> {
        self.explanation
            .as_ref()
            .filter(|(d, _)| d == dir)
            .map(|(_, e)| e)
    }

    /// True while an explanation is being computed.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Draws the view for `run`.
    pub fn ui(&mut self, ui: &mut Ui, run: Option<&RunSnapshot>, commands: &mut Commands) {
        let Some(run) = run else {
            ui.centered_and_justified(|ui| {
                ui.label("No run open yet: train one in the Train view, or open one in Runs.");
            });
            return;
        };
        egui::ScrollArea::vertical()
            .id_salt("explain_scroll")
            .show(ui, |ui| self.contents(ui, run, commands));
    }

    fn contents(&mut self, ui: &mut Ui, run: &RunSnapshot, commands: &mut Commands) {
        ui.heading("What does the network rely on?");
        ui.label(
            "Each method destroys one piece of information in the test windows — a channel, a frequency band, the amplitude of one frequency — and measures how much the score drops. A large drop means the network needs that piece; no drop means it does without.",
        );
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(RichText::new(CAVEAT).italics());
        });
        if run.report.is_none() {
            ui.label("Explanations need a finished run: its kept weights and its test windows. This run has no report yet.");
            return;
        }
        self.controls(ui, run, commands);
        if let Some((dir, message)) = &self.failure
            && dir == &run.dir
        {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        match self.of(&run.dir).cloned() {
            Some(explanation) => self.results(ui, &explanation, commands),
            None if self.job.is_none() => {
                ui.label(RichText::new("This run has not been explained yet.").weak());
            }
            None => {}
        }
        ui.separator();
        self.maps.ui(ui, &run.dir, commands);
    }

    fn controls(&mut self, ui: &mut Ui, run: &RunSnapshot, commands: &mut Commands) {
        ui.add_space(4.0);
        let running = self.job.is_some();
        ui.add_enabled_ui(!running, |ui| {
            for m in Method::ALL {
                let (name, help) = method_help(m);
                let mut on = self.methods.contains(&m);
                if ui.checkbox(&mut on, name).on_hover_text(help).changed() {
                    if on {
                        self.methods.insert(m);
                    } else {
                        self.methods.remove(&m);
                    }
                }
                ui.label(RichText::new(help).small().weak());
            }
            ui.horizontal(|ui| {
                let label = ui.label("Repeats");
                ui.add(egui::DragValue::new(&mut self.repeats).range(1..=50))
                    .labelled_by(label.id)
                    .on_hover_text("Each shuffle is repeated this many times with new random orders; the bars show the mean and the spread");
            });
        });
        ui.horizontal(|ui| {
            if let Some(job) = &self.job {
                let text = self.progress.map_or_else(
                    || "starting…".to_owned(),
                    |p| format!("{}: {} of {}", method_help(p.method).0, p.done, p.total),
                );
                let fraction = self
                    .progress
                    .map_or(0.0, |p| p.done as f32 / p.total.max(1) as f32);
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .text(text)
                        .desired_width(320.0),
                );
                if ui.button("Cancel explanation").clicked() {
                    job.cancel();
                }
            } else {
                let label = if self.of(&run.dir).is_some() {
                    "Explain again"
                } else {
                    "Explain this run"
                };
                let button = ui.add_enabled(!self.methods.is_empty(), egui::Button::new(label));
                if button.clicked() {
                    commands.push(AppCommand::Explain(
                        run.dir.clone(),
                        ExplainOptions {
                            methods: self.methods.iter().copied().collect(),
                            repeats: self.repeats,
                            ..ExplainOptions::default()
                        },
                    ));
                }
            }
        });
    }

    fn results(&mut self, ui: &mut Ui, e: &Explanation, commands: &mut Commands) {
        ui.separator();
        ui.label(format!(
            "On {}: {} {:.3} unperturbed (a model that ignores its input scores {:.3}).",
            e.windows.description, e.metric, e.baseline_score, e.chance_score
        ));
        if !e.seconds.is_empty() {
            let took: Vec<String> = e
                .seconds
                .iter()
                .map(|(m, s)| format!("{m} {s:.1} s"))
                .collect();
            ui.label(
                RichText::new(format!("Took {}.", took.join(", ")))
                    .small()
                    .weak(),
            );
        }
        if let Some(channels) = &e.channels {
            ui.add_space(6.0);
            ui.strong("Channels");
            let bars = ranked(
                channels
                    .iter()
                    .map(|c| Bar {
                        name: c.name.clone(),
                        mean: c.mean_drop,
                        spread: c.spread,
                    })
                    .collect(),
            );
            ui.label(ranking_sentence("channel", &bars, &e.metric));
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| importance_bars(ui, "Channel importance", &bars));
                ui.vertical(|ui| {
                    if !scalp::scalp_map(ui, &bars) {
                        ui.label(
                            RichText::new("No scalp map: fewer than two channel names are electrodes of the 10-20 system.")
                                .small()
                                .weak(),
                        );
                    }
                });
            });
        }
        if let Some(bands) = &e.bands {
            ui.add_space(6.0);
            ui.strong("Frequency bands");
            let bars: Vec<Bar> = bands
                .iter()
                .map(|b| Bar {
                    name: band_label(&b.name, b.low_hz, b.high_hz),
                    mean: b.mean_drop,
                    spread: b.spread,
                })
                .collect();
            ui.label(ranking_sentence("band", &ranked(bars.clone()), &e.metric));
            importance_bars(ui, "Band importance", &bars);
            for s in &e.skipped_bands {
                ui.label(
                    RichText::new(format!("{}: {}", s.name, s.reason))
                        .small()
                        .weak(),
                );
            }
        }
        let classes: Vec<String> = e
            .amplitude
            .as_ref()
            .map(|a| a.classes.clone())
            .or_else(|| {
                e.saliency
                    .as_ref()
                    .map(|s| s.classes.iter().map(|c| c.class.clone()).collect())
            })
            .unwrap_or_default();
        if !classes.is_empty() {
            self.class = self.class.min(classes.len() - 1);
            ui.add_space(6.0);
            egui::ComboBox::from_label("Class of the maps below")
                .selected_text(classes[self.class].clone())
                .show_ui(ui, |ui| {
                    for (i, c) in classes.iter().enumerate() {
                        ui.selectable_value(&mut self.class, i, c);
                    }
                });
        }
        if let Some(a) = &e.amplitude
            && let Some(map) = a.correlation.get(self.class)
        {
            ui.add_space(6.0);
            ui.strong(format!(
                "Channel × frequency toward `{}`",
                a.classes[self.class]
            ));
            ui.label(RichText::new("Red: more amplitude at this channel and frequency pushes the output toward the class; blue: away from it.").small());
            let title = format!("Amplitude perturbation toward {}", a.classes[self.class]);
            let full_scale = largest(map);
            heat_map(
                ui,
                &HeatMap {
                    rows: &a.channels,
                    values: map,
                    columns: (
                        a.freqs_hz.first().copied().unwrap_or(0.0),
                        a.freqs_hz.last().copied().unwrap_or(0.0),
                        " Hz",
                    ),
                    diverging: true,
                    full_scale,
                    title: &title,
                },
            );
            color_scale(
                ui,
                true,
                &format!("away (r = −{full_scale:.2})"),
                &format!("toward (r = +{full_scale:.2})"),
            );
            let chance = e.chance_correlation();
            let note = if f64::from(full_scale) < chance {
                format!(
                    "Every cell is within ±{chance:.2}, which chance alone can give with {} windows: this map shows no clear link.",
                    e.windows.count
                )
            } else {
                format!(
                    "Cells within ±{chance:.2} may be chance (3 standard deviations over {} windows × {} repeats).",
                    e.windows.count, e.repeats
                )
            };
            ui.label(RichText::new(note).small());
        }
        if let Some(s) = &e.saliency {
            self.saliency(ui, s, e.metric == "R²", commands);
        }
    }

    /// The saliency maps; a regression's "class" is its one output, which
    /// has no windows of its own to average over in the viewer.
    fn saliency(&mut self, ui: &mut Ui, s: &Saliency, regression: bool, commands: &mut Commands) {
        ui.add_space(6.0);
        ui.strong("When in the window");
        let Some(class) = s
            .classes
            .get(self.class.min(s.classes.len().saturating_sub(1)))
        else {
            return;
        };
        ui.label(format!(
            "Gradient × input averaged over the {} test windows of `{}`: darker cells moved the output more.",
            class.windows, class.class
        ));
        let title = format!("Saliency over time for {}", class.class);
        heat_map(
            ui,
            &HeatMap {
                rows: &s.channels,
                values: &class.gradient_x_input,
                columns: (0.0, s.window_s, " s"),
                diverging: false,
                full_scale: largest(&class.gradient_x_input),
                title: &title,
            },
        );
        color_scale(ui, false, "no effect", "largest effect");
        if let (Some(cam), Some(layer)) = (&class.grad_cam, &s.grad_cam_layer) {
            ui.label(format!("Grad-CAM on {layer}:"));
            let row = ["Grad-CAM".to_owned()];
            heat_map(
                ui,
                &HeatMap {
                    rows: &row,
                    values: std::slice::from_ref(cam),
                    columns: (0.0, s.window_s, " s"),
                    diverging: false,
                    full_scale: largest(std::slice::from_ref(cam)),
                    title: "Grad-CAM over time",
                },
            );
        }
        ui.label(format!(
            "{:.0} % of this saliency lies in the second half of the window.",
            100.0 * class.share_in_second_half()
        ));
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label("Over the traces in the viewer:");
            ui.selectable_value(&mut self.overlay, Overlay::Off, "off");
            ui.selectable_value(&mut self.overlay, Overlay::EachWindow, "each window's own");
            if !regression {
                ui.selectable_value(
                    &mut self.overlay,
                    Overlay::ClassAverage(self.class),
                    format!("the average of `{}`", class.class),
                );
            }
        });
        if s.windows.is_empty() {
            return;
        }
        egui::CollapsingHeader::new(format!("Explained windows ({})", s.windows.len()))
            .id_salt("explained_windows")
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("explained_windows_scroll")
                    .max_height(200.0)
                    .show(ui, |ui| {
                        for w in &s.windows {
                            let name = w
                                .file
                                .file_name()
                                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                            let verdict = if w.truth == w.predicted {
                                ""
                            } else {
                                " (wrong)"
                            };
                            let text = format!(
                                "{name} at {:.1} s: true {}, predicted {}{verdict}",
                                w.onset_s, w.truth, w.predicted
                            );
                            if ui
                                .link(text)
                                .on_hover_text("Show this window in the viewer with its saliency")
                                .clicked()
                            {
                                if self.overlay == Overlay::Off {
                                    self.overlay = Overlay::EachWindow;
                                }
                                commands.push(AppCommand::JumpTo {
                                    file: w.file.clone(),
                                    onset_s: w.onset_s,
                                    duration_s: w.duration_s,
                                });
                            }
                        }
                    });
            });
    }
}

/// "The network relies most on Fz (the balanced accuracy drops by 0.21),
/// then Cz and Pz" — or that nothing matters.
fn ranking_sentence(what: &str, ranked: &[Bar], metric: &str) -> String {
    let Some(top) = ranked.first() else {
        return String::new();
    };
    if top.mean <= 0.0 {
        return format!(
            "No single {what} matters: destroying any one leaves the {metric} where it was (the network may use several together, or none)."
        );
    }
    let next: Vec<&str> = ranked
        .iter()
        .skip(1)
        .take(2)
        // Only what stands clear of its own spread and of nothing.
        .filter(|b| b.mean > b.spread.max(0.01))
        .map(|b| b.name.as_str())
        .collect();
    let spread = if top.spread > 0.0 {
        format!(" ± {:.3}", top.spread)
    } else {
        String::new()
    };
    let mut s = format!(
        "The network relies most on {} (without it the {metric} drops by {:.3}{spread})",
        top.name, top.mean
    );
    if !next.is_empty() {
        s.push_str(&format!(", then {}", next.join(" and ")));
    }
    s.push('.');
    s
}
