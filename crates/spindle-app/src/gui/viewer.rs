//! The signal viewer: stacked channels with names and scale bars, labels over
//! them, a time axis, and the mouse interactions that scroll, zoom and label.
//! The data for each frame comes from [`spindle_signals::dsp::Trace`]; this module only
//! draws and turns input into view changes and label
//! [`Edit`](spindle_signals::labeling::Edit)s (through [`spindle_signals::labeling::rules`]).

use eframe::egui::{
    self, Align2, Color32, CornerRadius, FontId, PointerButton, Pos2, Rect, Response, Role, Sense,
    Shape, Stroke, StrokeKind, Ui, WidgetInfo, pos2, vec2,
};
use spindle_signals::dsp::{
    ChannelData, DisplayFilter, MAX_FILTERED_SAMPLES, PieceKind, Samples, TimeWindow, Trace,
    TracePiece, format_hms, time_ticks,
};
use spindle_signals::labeling::{HitPart, LabelScheme, hit_test, rules};

use super::command::{AppCommand, Commands};
use super::lanes;
use super::session::{DragMode, Session};
use super::settings::Settings;

/// Width of the channel-name gutter left of the traces, points.
const GUTTER: f32 = 120.0;
/// Height of the time axis, points.
const AXIS_H: f32 = 24.0;
/// Pointer slack for grabbing label edges and markers, points.
const GRAB_PX: f64 = 5.0;
/// A drag shorter than this (points) does not create a label.
const MIN_LABEL_PX: f64 = 3.0;
/// Most labels drawn with their names; beyond this only spans are drawn.
const MAX_NAMED_LABELS: usize = 300;

/// The class new labels get: the active class, else the first of the scheme.
pub fn current_class(s: &Session, scheme: &LabelScheme) -> String {
    s.active_class
        .clone()
        .or_else(|| scheme.classes.first().map(|c| c.name.clone()))
        .unwrap_or_else(|| "event".to_owned())
}

fn color(rgb: [u8; 3], alpha: u8) -> Color32 {
    Color32::from_rgba_unmultiplied(rgb[0], rgb[1], rgb[2], alpha)
}

/// The toolbar above the traces: view span, gain, display filters, epoch mode
/// and the class new labels get.
pub fn toolbar(
    ui: &mut Ui,
    s: &mut Session,
    settings: &mut Settings,
    scheme: &LabelScheme,
    commands: &mut Commands,
) {
    ui.horizontal_wrapped(|ui| {
        let (t0, t1) = s.view_range();
        ui.label(format!("{} – {}", format_hms(t0), format_hms(t1)));
        ui.separator();
        let center = t0 + s.view.span_s / 2.0;
        if ui
            .button("-")
            .on_hover_text("Zoom out in time (-)")
            .clicked()
        {
            s.zoom(2.0, center);
        }
        ui.label(format!("{:.2} s", s.view.span_s));
        if ui
            .button("+")
            .on_hover_text("Zoom in in time (+)")
            .clicked()
        {
            s.zoom(0.5, center);
        }
        if ui
            .button("All")
            .on_hover_text("Show the whole recording")
            .clicked()
        {
            s.set_view(0.0, s.duration_s());
        }
        ui.separator();
        ui.label("Gain");
        ui.add(
            egui::DragValue::new(&mut s.gain)
                .speed(0.02)
                .range(0.01..=1000.0)
                .suffix("×"),
        )
        .on_hover_text("Global gain (Up/Down keys); scroll over a channel's name for its own gain");
        if ui
            .button("Fit")
            .on_hover_text(
                "Set each channel's gain so that the 1st-99th percentile range of what is visible fills its lane",
            )
            .clicked()
        {
            commands.push(AppCommand::FitGains);
        }
        ui.checkbox(&mut s.overflow, "Let traces overflow their lanes");
        ui.separator();
        filter_combo(
            ui,
            "High-pass",
            &mut settings.filter.highpass_hz,
            &[0.1, 0.5, 1.0, 5.0],
        );
        filter_combo(
            ui,
            "Low-pass",
            &mut settings.filter.lowpass_hz,
            &[15.0, 35.0, 70.0, 100.0],
        );
        filter_combo(ui, "Notch", &mut settings.filter.notch_hz, &[50.0, 60.0]);
        ui.separator();
        let was = s.epoch_mode;
        ui.toggle_value(&mut s.epoch_mode, "Epoch scoring")
            .on_hover_text("Fixed pages; a hotkey 1-9 labels the page (and moves to the next when \"Advance after scoring\" is on)");
        if s.epoch_mode {
            ui.add(
                egui::DragValue::new(&mut settings.page_s)
                    .range(1.0..=3600.0)
                    .speed(1.0)
                    .suffix(" s page"),
            )
            .on_hover_text("Page length in seconds");
            settings.page_s = settings.page_s.max(1.0);
            if !was || (s.view.span_s - settings.page_s).abs() > 1e-9 {
                let page = s.page(settings.page_s);
                s.go_to_page(page, settings.page_s);
            }
            let pages =
                spindle_signals::labeling::epoch::page_count(s.duration_s(), settings.page_s);
            ui.label(format!("page {}/{}", s.page(settings.page_s) + 1, pages));
            ui.checkbox(&mut settings.auto_advance, "Advance after scoring")
                .on_hover_text("Scoring an epoch with its key moves to the next one");
        }
        ui.separator();
        let class = current_class(s, scheme);
        egui::ComboBox::from_label("New label")
            .selected_text(class.clone())
            .show_ui(ui, |ui| {
                for c in &scheme.classes {
                    let text = match c.hotkey {
                        Some(k) => format!("{k}  {}", c.name),
                        None => c.name.clone(),
                    };
                    if ui.selectable_label(c.name == class, text).clicked() {
                        s.active_class = Some(c.name.clone());
                    }
                }
            });
    });
}

fn filter_combo(ui: &mut Ui, name: &str, value: &mut Option<f32>, choices: &[f32]) {
    let text = value.map_or_else(|| "off".to_owned(), |v| format!("{v} Hz"));
    egui::ComboBox::from_label(name)
        .selected_text(text)
        .width(70.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, "off");
            for &c in choices {
                ui.selectable_value(value, Some(c), format!("{c} Hz"));
            }
        });
}

/// Everything the traces area needs besides the session.
pub struct ViewerContext<'a> {
    /// Label classes (colors, names).
    pub scheme: &'a LabelScheme,
    /// Display filters.
    pub filter: DisplayFilter,
    /// Epoch page length, seconds.
    pub page_s: f64,
    /// egui time now, seconds (for autosave).
    pub now_s: f64,
    /// Where refused edits are reported.
    pub commands: &'a mut Commands,
    /// Bands drawn under the traces: dataset windows, predictions.
    pub ribbons: &'a [Ribbon],
    /// Saliency drawn behind the lanes of the explained windows.
    pub heat: &'a [super::explain::HeatSpan],
    /// The recording time being heard, seconds (a moving cursor).
    pub cursor_s: Option<f64>,
}

/// A span of a [`Ribbon`].
#[derive(Debug, Clone, PartialEq)]
pub struct RibbonSpan {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Fill color (alpha carries confidence).
    pub color: Color32,
    /// Marked with a red tick (a prediction that disagrees with the label).
    pub flagged: bool,
}

/// A band of colored spans drawn along the bottom of the traces.
#[derive(Debug, Clone, PartialEq)]
pub struct Ribbon {
    /// Shown in the gutter.
    pub title: String,
    /// The spans, in time order.
    pub spans: Vec<RibbonSpan>,
}

/// Height of one ribbon, points.
const RIBBON_H: f32 = 10.0;

fn draw_ribbons(
    painter: &egui::Painter,
    cx: &ViewerContext<'_>,
    data_rect: Rect,
    window: &TimeWindow,
    visuals: &egui::Visuals,
) {
    let x_of = |t: f64| data_rect.left() + window.x_of(t) as f32;
    for (k, ribbon) in cx.ribbons.iter().enumerate() {
        let bottom = data_rect.bottom() - 2.0 - k as f32 * (RIBBON_H + 2.0);
        let y = (bottom - RIBBON_H)..=bottom;
        painter.text(
            pos2(data_rect.left() - 4.0, bottom - RIBBON_H / 2.0),
            Align2::RIGHT_CENTER,
            &ribbon.title,
            FontId::proportional(10.0),
            visuals.weak_text_color(),
        );
        for span in &ribbon.spans {
            if span.end_s < window.start_s || span.start_s > window.end_s {
                continue;
            }
            let x0 = x_of(span.start_s.max(window.start_s));
            let x1 = x_of(span.end_s.min(window.end_s)).max(x0 + 1.0);
            let r = Rect::from_x_y_ranges(x0..=x1, y.clone());
            painter.rect_filled(r.shrink2(vec2(0.5, 0.0)), CornerRadius::ZERO, span.color);
            if span.flagged {
                painter.line_segment(
                    [pos2(x0, r.top() - 3.0), pos2(x1, r.top() - 3.0)],
                    Stroke::new(2.0, Color32::from_rgb(219, 68, 55)),
                );
            }
        }
    }
}

/// The traces, labels and time axis, filling the rest of `ui`.
pub fn traces(ui: &mut Ui, s: &mut Session, mut cx: ViewerContext<'_>) {
    let avail = ui.available_rect_before_wrap();
    let traces_rect = Rect::from_min_max(avail.min, pos2(avail.max.x, avail.max.y - AXIS_H));
    let axis_rect = Rect::from_min_max(pos2(avail.min.x + GUTTER, avail.max.y - AXIS_H), avail.max);
    let data_rect = Rect::from_min_max(
        pos2(traces_rect.min.x + GUTTER, traces_rect.min.y),
        traces_rect.max,
    );
    if data_rect.width() < 10.0 || data_rect.height() < 10.0 {
        return;
    }
    let resp = ui.allocate_rect(traces_rect, Sense::click_and_drag());
    resp.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Signal traces"));
    let axis = ui.allocate_rect(axis_rect, Sense::drag());
    axis.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Time axis"));

    handle_pointer(ui, s, &resp, &axis, data_rect, &mut cx);

    let window = TimeWindow {
        start_s: s.view.start_s,
        end_s: s.view.start_s + s.view.span_s,
        width_px: data_rect.width().max(1.0) as usize,
    };
    let painter = ui.painter_at(traces_rect);
    let visuals = ui.visuals().clone();
    let x_of = |t: f64| data_rect.left() + window.x_of(t) as f32;

    // Epoch pages.
    if s.epoch_mode {
        let page = s.page(cx.page_s);
        painter.text(
            pos2(data_rect.right() - 4.0, data_rect.top() + 2.0),
            Align2::RIGHT_TOP,
            format!("page {}", page + 1),
            FontId::proportional(12.0),
            visuals.weak_text_color(),
        );
    }

    // Gaps in the data (EDF+D).
    for pair in s.recording.segments.windows(2) {
        let gap0 = pair[0].onset_s + pair[0].duration_s;
        let gap1 = pair[1].onset_s;
        if gap1 > gap0 + 1e-9 && gap1 > window.start_s && gap0 < window.end_s {
            let r = Rect::from_x_y_ranges(
                x_of(gap0.max(window.start_s))..=x_of(gap1.min(window.end_s)),
                data_rect.y_range(),
            );
            painter.rect_filled(r, CornerRadius::ZERO, visuals.faint_bg_color);
            painter.text(
                r.center_top() + vec2(0.0, 14.0),
                Align2::CENTER_TOP,
                "gap",
                FontId::proportional(11.0),
                visuals.weak_text_color(),
            );
        }
    }

    draw_labels(&painter, s, &cx, data_rect, &window, &visuals);
    if !cx.heat.is_empty() {
        let lanes = lane_spans(s, data_rect);
        let (t0, t1) = s.view_range();
        super::explain::draw_heat(&painter, cx.heat, &lanes, x_of, (t0, t1));
    }
    s.missing = draw_channels(&painter, s, &cx, traces_rect, data_rect, &window, &visuals);
    draw_drag_preview(ui, &painter, s, &cx, data_rect, &window);
    draw_ribbons(
        &ui.painter_at(traces_rect),
        &cx,
        data_rect,
        &window,
        &visuals,
    );
    if let Some(t) = cx
        .cursor_s
        .filter(|t| (window.start_s..=window.end_s).contains(t))
    {
        let x = x_of(t);
        painter.line_segment(
            [pos2(x, data_rect.top()), pos2(x, data_rect.bottom())],
            Stroke::new(2.0, Color32::from_rgb(244, 160, 0)),
        );
    }
    draw_axis(
        &ui.painter_at(axis_rect.expand(1.0)),
        axis_rect,
        &window,
        &visuals,
    );

    if let Some(p) = resp.hover_pos().filter(|p| data_rect.contains(*p)) {
        painter.line_segment(
            [pos2(p.x, data_rect.top()), pos2(p.x, data_rect.bottom())],
            Stroke::new(1.0, visuals.weak_text_color()),
        );
        let t = window.t_of((p.x - data_rect.left()) as f64);
        painter.text(
            pos2(p.x + 4.0, data_rect.bottom() - 2.0),
            Align2::LEFT_BOTTOM,
            format_hms(t),
            FontId::monospace(11.0),
            visuals.text_color(),
        );
    }
}

fn time_at(data_rect: Rect, window: &TimeWindow, p: Pos2, duration_s: f64) -> f64 {
    let x = (p.x - data_rect.left()).clamp(0.0, data_rect.width()) as f64;
    window.t_of(x).clamp(0.0, duration_s)
}

fn handle_pointer(
    ui: &Ui,
    s: &mut Session,
    resp: &Response,
    axis: &Response,
    data_rect: Rect,
    cx: &mut ViewerContext<'_>,
) {
    let window = TimeWindow {
        start_s: s.view.start_s,
        end_s: s.view.start_s + s.view.span_s,
        width_px: data_rect.width().max(1.0) as usize,
    };
    let pps = window.px_per_s();
    let duration = s.duration_s();
    let t_at = |p: Pos2| time_at(data_rect, &window, p, duration);

    // Wheel: scroll in time; Ctrl+wheel (or pinch): zoom around the
    // pointer; over a channel's name: that channel's gain.
    if resp.hovered() || axis.hovered() {
        let (scroll, zoom, hover) =
            ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.pointer.hover_pos()));
        let over_name = hover
            .filter(|p| p.x < data_rect.left() && resp.hovered())
            .and_then(|p| lanes::channel_at(s, data_rect, p.y));
        if let Some(c) = over_name {
            lanes::scroll_gain(s, c, scroll.y + scroll.x);
        } else if (zoom - 1.0).abs() > 1e-4 {
            let at = hover.map_or(window.start_s + s.view.span_s / 2.0, t_at);
            s.zoom(1.0 / zoom as f64, at);
        } else {
            let d = (scroll.x + scroll.y) as f64;
            if d.abs() > 0.0 {
                if s.epoch_mode {
                    let page = s.page(cx.page_s);
                    let next = if d < 0.0 {
                        page + 1
                    } else {
                        page.saturating_sub(1)
                    };
                    s.go_to_page(next, cx.page_s);
                } else {
                    s.scroll(-d / pps);
                }
            }
        }
    }

    // Panning: drag the time axis, or drag the traces with the right/middle button.
    if axis.dragged() && !s.epoch_mode {
        s.scroll(-axis.drag_delta().x as f64 / pps);
    }
    if resp.drag_started_by(PointerButton::Secondary) || resp.drag_started_by(PointerButton::Middle)
    {
        s.drag = Some(DragMode::Pan {
            start_s: s.view.start_s,
        });
    }
    if matches!(s.drag, Some(DragMode::Pan { .. })) && resp.dragged() && !s.epoch_mode {
        s.scroll(-resp.drag_delta().x as f64 / pps);
    }

    // Labeling with the primary button.
    if resp.drag_started_by(PointerButton::Primary) {
        let origin = ui
            .input(|i| i.pointer.press_origin())
            .or_else(|| resp.interact_pointer_pos());
        if let Some(origin) = origin {
            let t0 = t_at(origin);
            s.refresh_index();
            let hit = hit_test(s.doc.labels(), t0, GRAB_PX / pps);
            s.drag = Some(match hit {
                Some(h) if h.part != HitPart::Body => DragMode::Resize {
                    before: s.doc.labels().labels[h.index].clone(),
                    start_edge: h.part == HitPart::Start,
                },
                _ => DragMode::Create { anchor_s: t0 },
            });
        }
    }
    if resp.drag_stopped() {
        let end = resp
            .interact_pointer_pos()
            .or_else(|| ui.input(|i| i.pointer.latest_pos()));
        if let (Some(mode), Some(end)) = (s.drag.take(), end) {
            let t1 = t_at(end);
            let edit = match mode {
                DragMode::Create { anchor_s } => rules::create_by_drag(
                    anchor_s,
                    t1,
                    MIN_LABEL_PX / pps,
                    &current_class(s, cx.scheme),
                ),
                DragMode::Resize { before, start_edge } => {
                    rules::resize_edge(&before, start_edge, t1)
                }
                DragMode::Pan { .. } => None,
            };
            if let Some(edit) = edit
                && let Err(e) = s.apply(edit, cx.now_s)
            {
                cx.commands.push(AppCommand::Report(e));
            }
        }
    }

    if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
    {
        let t = t_at(p);
        let mods = ui.input(|i| i.modifiers);
        if mods.shift || mods.alt {
            let edit = rules::marker(t, &current_class(s, cx.scheme));
            if let Err(e) = s.apply(edit, cx.now_s) {
                cx.commands.push(AppCommand::Report(e));
            }
        } else {
            s.refresh_index();
            s.selection = hit_test(s.doc.labels(), t, GRAB_PX / pps)
                .map(|h| s.doc.labels().labels[h.index].clone());
        }
    }

    // Resize cursor over edges.
    if let Some(p) = resp.hover_pos()
        && s.drag.is_none()
        && hit_test(s.doc.labels(), t_at(p), GRAB_PX / pps).is_some_and(|h| h.part != HitPart::Body)
    {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }
}

fn draw_labels(
    painter: &egui::Painter,
    s: &mut Session,
    cx: &ViewerContext<'_>,
    data_rect: Rect,
    window: &TimeWindow,
    visuals: &egui::Visuals,
) {
    s.refresh_index();
    let labels = &s.doc.labels().labels;
    let mut visible = Vec::new();
    s.label_index
        .for_each_overlap(window.start_s, window.end_s, |i| visible.push(i));
    let named = visible.len() <= MAX_NAMED_LABELS;
    let x_of = |t: f64| data_rect.left() + window.x_of(t) as f32;
    for &i in &visible {
        let l = &labels[i];
        let rgb = cx.scheme.color_of(&l.trial_type);
        let selected = s.selection.as_ref() == Some(l);
        let x0 = x_of(l.onset_s).max(data_rect.left());
        let x1 = x_of(l.onset_s + l.duration_s).min(data_rect.right());
        if l.duration_s == 0.0 {
            let w = if selected { 3.0 } else { 2.0 };
            painter.line_segment(
                [pos2(x0, data_rect.top()), pos2(x0, data_rect.bottom())],
                Stroke::new(w, color(rgb, 230)),
            );
        } else {
            let r = Rect::from_x_y_ranges(x0..=x1.max(x0 + 1.0), data_rect.y_range());
            painter.rect_filled(
                r,
                CornerRadius::ZERO,
                color(rgb, if selected { 80 } else { 45 }),
            );
            if selected {
                painter.rect_stroke(
                    r,
                    CornerRadius::ZERO,
                    Stroke::new(2.0, color(rgb, 255)),
                    StrokeKind::Inside,
                );
            }
        }
        if named || selected {
            painter.text(
                pos2(x0 + 3.0, data_rect.top() + 2.0),
                Align2::LEFT_TOP,
                &l.trial_type,
                FontId::proportional(12.0),
                if selected {
                    visuals.strong_text_color()
                } else {
                    color(rgb, 255)
                },
            );
        }
    }
}

/// Each shown channel's label with the top and bottom of its lane, as
/// [`draw_channels`] lays them out.
fn lane_spans(s: &Session, data_rect: Rect) -> Vec<(&str, f32, f32)> {
    lanes::lane_rects(s, data_rect)
        .into_iter()
        .map(|(c, r)| (s.recording.channels[c].label.as_str(), r.top(), r.bottom()))
        .collect()
}

/// Draws the visible channels; returns the samples (channel, range) read on
/// demand that the view wants and the cache does not hold yet.
fn draw_channels(
    painter: &egui::Painter,
    s: &mut Session,
    cx: &ViewerContext<'_>,
    traces_rect: Rect,
    data_rect: Rect,
    window: &TimeWindow,
    visuals: &egui::Visuals,
) -> Option<(usize, std::ops::Range<usize>)> {
    let shown = lanes::shown_channels(s);
    if s.recording.channels.is_empty() {
        painter.text(
            data_rect.center(),
            Align2::CENTER_CENTER,
            "This file holds annotations only, no signals: its labels are listed on the right.\nThey become the labels of the recording they score when its name pairs with this one\n(X-Hypnogram.edf beside X.edf or X-PSG.edf).",
            FontId::proportional(14.0),
            visuals.weak_text_color(),
        );
        return None;
    }
    if shown.is_empty() {
        painter.text(
            data_rect.center(),
            Align2::CENTER_CENTER,
            "All channels are hidden",
            FontId::proportional(14.0),
            visuals.weak_text_color(),
        );
        return None;
    }
    let lane_h = data_rect.height() / shown.len() as f32;
    let (skipped, filtered) = display_filter(s, &cx.filter, &shown, window);
    let mut points: Vec<[f32; 2]> = Vec::new();
    let mut waiting = false;
    let mut missing = None;
    let mut blank = false;
    let name_font = FontId::proportional(if lane_h < 14.0 { 9.0 } else { 12.0 });
    for (lane, &c) in shown.iter().enumerate() {
        let ch = &s.recording.channels[c];
        let view = &s.channels[c];
        let center_y = data_rect.top() + lane_h * (lane as f32 + 0.5);
        let lane_top = data_rect.top() + lane_h * lane as f32;
        let lane_rect = Rect::from_x_y_ranges(data_rect.x_range(), lane_top..=lane_top + lane_h);
        // Each trace stays in its lane unless the view lets it overflow.
        let (trace_painter, y_range) = if s.overflow {
            (painter.clone(), data_rect.y_range())
        } else {
            (
                painter.with_clip_rect(lane_rect.intersect(painter.clip_rect())),
                lane_rect.y_range(),
            )
        };
        let px_per_unit = lanes::px_per_unit(s, c, lane_h);
        let trace = &mut s.traces[c];
        let samples = match (filtered, s.samples.in_memory(c)) {
            (true, _) => {
                let (first, span) = &s.filtered.spans[c];
                Samples::Span {
                    span,
                    first: *first,
                    len: s.samples.len(c),
                }
            }
            (false, Some(all)) => Samples::Slice(all),
            (false, None) => Samples::Store {
                store: &s.samples,
                channel: c,
            },
        };
        trace.compute(
            ChannelData {
                samples,
                pyramid: &s.pyramids[c],
                rate_hz: ch.rate_hz,
                segments: &s.recording.segments,
            },
            *window,
            None,
        );
        waiting |= trace.waiting;
        if let Some(range) = &trace.missing {
            blank |= trace.pieces.is_empty();
            missing.get_or_insert((c, range.clone()));
        }
        let stroke_color = if view.bad {
            visuals.weak_text_color().gamma_multiply(0.5)
        } else {
            visuals.text_color()
        };
        // The visible mean sits on the lane's middle line.
        let mean_y = center_y + trace.visible_mean() * px_per_unit;
        for piece in &trace.pieces {
            if piece.kind == PieceKind::Envelope {
                let lane = Lane {
                    x_origin_px: data_rect.left(),
                    y_center_px: mean_y,
                    px_per_unit,
                    y_range: y_range.min..=y_range.max,
                };
                trace_painter.add(envelope_mesh(trace, piece, &lane, stroke_color));
                continue;
            }
            points.clear();
            trace.piece_points(
                piece,
                data_rect.left(),
                mean_y,
                px_per_unit,
                y_range.min,
                y_range.max,
                &mut points,
            );
            if points.len() >= 2 {
                trace_painter.add(Shape::line(
                    points.iter().map(|p| pos2(p[0], p[1])).collect(),
                    Stroke::new(1.0, stroke_color),
                ));
            }
        }
        // Name and scale bar in the gutter.
        let name_color = if view.bad {
            Color32::from_rgb(220, 60, 60)
        } else {
            visuals.text_color()
        };
        let name = if view.bad {
            format!("{} (bad)", ch.label)
        } else {
            ch.label.clone()
        };
        painter.text(
            pos2(traces_rect.left() + 4.0, center_y),
            Align2::LEFT_CENTER,
            name,
            name_font.clone(),
            name_color,
        );
        if lane_h >= 24.0 {
            let bar = lanes::ScaleBar {
                x: data_rect.left() - 8.0,
                center_y,
                lane_h,
            };
            lanes::draw_scale_bar(painter, &bar, &lanes::scale_text(s, c), visuals);
        }
        if lane > 0 {
            let y = data_rect.top() + lane_h * lane as f32;
            painter.line_segment(
                [pos2(traces_rect.left(), y), pos2(data_rect.right(), y)],
                Stroke::new(0.5, visuals.faint_bg_color),
            );
        }
    }
    let notes = Notes {
        skipped,
        filtering: s.filtered.wanted.is_some(),
        waiting,
        blank,
        overview_fraction: s.overview_fraction,
    };
    draw_notes(painter, data_rect, &notes, visuals);
    missing
}

/// Display filtering happens off the frame: the traces are drawn from the
/// filtered span when it covers the view, else unfiltered while a worker
/// makes it (`Filtered::wanted`). Whether the filter is skipped (too much
/// data in view), and whether the filtered span is drawn.
fn display_filter(
    s: &mut Session,
    filter: &DisplayFilter,
    shown: &[usize],
    window: &TimeWindow,
) -> (bool, bool) {
    let filter = filter.is_active().then_some(*filter);
    let skipped = filter.is_some()
        && shown.iter().any(|&c| {
            let rate_hz = s.recording.channels[c].rate_hz;
            (window.end_s - window.start_s) * rate_hz > MAX_FILTERED_SAMPLES as f64
        });
    let filtered = filter
        .filter(|f| !skipped && s.filtered.covers(f, window.start_s, window.end_s))
        .is_some();
    s.filtered.wanted = filter
        .filter(|_| !skipped && !filtered)
        .map(|f| s.filter_key(f));
    (skipped, filtered)
}

/// What the traces could not show as asked, said over them.
struct Notes {
    /// A display filter was skipped (too much data in view).
    skipped: bool,
    /// The display filter is being applied on a worker (drawn unfiltered
    /// meanwhile).
    filtering: bool,
    /// The overview is being built for this zoom.
    waiting: bool,
    /// Some lane waits for samples read from the file on a worker.
    blank: bool,
    /// How much of the overview is built, 0..=1.
    overview_fraction: Option<f64>,
}

fn draw_notes(painter: &egui::Painter, data_rect: Rect, notes: &Notes, visuals: &egui::Visuals) {
    let Notes {
        skipped,
        filtering,
        waiting,
        blank,
        overview_fraction,
    } = *notes;
    if skipped {
        painter.text(
            pos2(data_rect.right() - 4.0, data_rect.bottom() - 2.0),
            Align2::RIGHT_BOTTOM,
            "filters apply below 8 min of data per channel",
            FontId::proportional(11.0),
            visuals.warn_fg_color,
        );
    }
    if filtering {
        painter.text(
            pos2(data_rect.right() - 4.0, data_rect.bottom() - 2.0),
            Align2::RIGHT_BOTTOM,
            "filtering…",
            FontId::proportional(11.0),
            visuals.weak_text_color(),
        );
    }
    if waiting {
        let built = overview_fraction.unwrap_or(0.0) * 100.0;
        painter.text(
            data_rect.center(),
            Align2::CENTER_CENTER,
            format!(
                "Reading the whole recording for this zoom: {built:.0} % done. Zoom in to see the traces now."
            ),
            FontId::proportional(14.0),
            visuals.weak_text_color(),
        );
    }
    if blank {
        painter.text(
            data_rect.center(),
            Align2::CENTER_CENTER,
            "reading…",
            FontId::proportional(14.0),
            visuals.weak_text_color(),
        );
    }
}

/// Where a channel's lane sits on screen and how values map to pixels.
struct Lane {
    x_origin_px: f32,
    y_center_px: f32,
    px_per_unit: f32,
    y_range: std::ops::RangeInclusive<f32>,
}

/// An envelope piece as one triangle strip: a quad from each pixel column's
/// min to its max, joined to the next column, at least one pixel tall.
/// Without anti-aliasing feathering it needs about a third of the triangles
/// of a polyline, which keeps frames (and a software renderer's memory)
/// small with 64 channels on screen.
fn envelope_mesh(trace: &Trace, piece: &TracePiece, lane: &Lane, color: Color32) -> Shape {
    let values = &trace.values[piece.range.clone()];
    let mut mesh = egui::Mesh::default();
    mesh.reserve_vertices(values.len() * 2);
    mesh.reserve_triangles(values.len() * 2);
    let (lo, hi) = (*lane.y_range.start(), *lane.y_range.end());
    let y = |v: f32| (lane.y_center_px - v * lane.px_per_unit).clamp(lo, hi);
    let mut joined = false;
    for (i, &[mn, mx]) in values.iter().enumerate() {
        if !(mn.is_finite() && mx.is_finite()) {
            joined = false;
            continue;
        }
        let x = lane.x_origin_px + piece.x0_px + i as f32 * piece.dx_px;
        let (mut top, mut bottom) = (y(mx), y(mn));
        if bottom - top < 1.0 {
            let mid = (top + bottom) / 2.0;
            (top, bottom) = (mid - 0.5, mid + 0.5);
        }
        let at = mesh.vertices.len() as u32;
        mesh.colored_vertex(pos2(x, top), color);
        mesh.colored_vertex(pos2(x, bottom), color);
        if joined {
            mesh.add_triangle(at - 2, at - 1, at);
            mesh.add_triangle(at - 1, at + 1, at);
        }
        joined = true;
    }
    Shape::mesh(mesh)
}

/// A scale-bar amount without trailing zeros (`50`, `0.5`, `2e-5`).
fn draw_drag_preview(
    ui: &Ui,
    painter: &egui::Painter,
    s: &Session,
    cx: &ViewerContext<'_>,
    data_rect: Rect,
    window: &TimeWindow,
) {
    let Some(p) = ui.input(|i| i.pointer.latest_pos()) else {
        return;
    };
    let t = time_at(data_rect, window, p, s.duration_s());
    let x_of = |t: f64| data_rect.left() + window.x_of(t) as f32;
    let (a, b, rgb) = match &s.drag {
        Some(DragMode::Create { anchor_s }) => (
            anchor_s.min(t),
            anchor_s.max(t),
            cx.scheme.color_of(&current_class(s, cx.scheme)),
        ),
        Some(DragMode::Resize { before, start_edge }) => {
            let (a, b) = if *start_edge {
                (t, before.onset_s + before.duration_s)
            } else {
                (before.onset_s, t)
            };
            (a.min(b), a.max(b), cx.scheme.color_of(&before.trial_type))
        }
        _ => return,
    };
    let r = Rect::from_x_y_ranges(x_of(a)..=x_of(b), data_rect.y_range());
    painter.rect_filled(r, CornerRadius::ZERO, color(rgb, 60));
    painter.rect_stroke(
        r,
        CornerRadius::ZERO,
        Stroke::new(1.0, color(rgb, 255)),
        StrokeKind::Inside,
    );
}

fn draw_axis(
    painter: &egui::Painter,
    axis_rect: Rect,
    window: &TimeWindow,
    visuals: &egui::Visuals,
) {
    painter.line_segment(
        [axis_rect.left_top(), axis_rect.right_top()],
        Stroke::new(1.0, visuals.weak_text_color()),
    );
    for t in time_ticks(
        window.start_s,
        window.end_s,
        axis_rect.width() as f64,
        110.0,
    ) {
        let x = axis_rect.left() + window.x_of(t) as f32;
        painter.line_segment(
            [pos2(x, axis_rect.top()), pos2(x, axis_rect.top() + 5.0)],
            Stroke::new(1.0, visuals.text_color()),
        );
        // Labels that would be cut at the edges are left out.
        if x - 45.0 >= axis_rect.left() && x + 45.0 <= axis_rect.right() {
            painter.text(
                pos2(x, axis_rect.top() + 6.0),
                Align2::CENTER_TOP,
                format_hms(t),
                FontId::monospace(11.0),
                visuals.text_color(),
            );
        }
    }
}
