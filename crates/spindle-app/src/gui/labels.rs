//! The label panel: the open recording's label classes (name, color, hotkey) and the
//! table of the open recording's labels.

use eframe::egui::{self, RichText, Ui};
use spindle_signals::dsp::format_hms;
use spindle_signals::labeling::{LabelOrder, LabelScheme, ordered, rename_class};
use spindle_signals::scoring::with_sleep_stages;

use super::command::{AppCommand, Commands};
use super::session::Session;

/// State of the label panel between frames.
#[derive(Debug, Default)]
pub struct LabelsPanel {
    order: LabelOrder,
    cached: Option<(u64, LabelOrder, Vec<usize>)>,
    new_class: String,
    renaming: Option<(usize, String)>,
    /// The time the table last scrolled to: the selected label's onset, or
    /// in epoch scoring the page shown.
    focus_s: Option<f64>,
}

impl LabelsPanel {
    /// Draws the panel: the classes, then `between` (e.g. the channel list),
    /// then the label table filling the rest. Refused edits are reported
    /// onto `commands`, and an edited scheme becomes `AppCommand::SaveScheme`.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        s: Option<&mut Session>,
        scheme: &mut LabelScheme,
        page_s: f64,
        commands: &mut Commands,
        between: impl FnOnce(&mut Ui, &mut Session),
    ) {
        let mut scheme_changed = false;
        let now_s = ui.input(|i| i.time);
        let rename = self.classes_ui(ui, scheme, &mut scheme_changed);
        // Offered where it makes sense: in epoch scoring, when the classes
        // do not already start with the stages.
        if s.as_ref().is_some_and(|s| s.epoch_mode)
            && with_sleep_stages(scheme) != *scheme
            && ui
                .button("Use the sleep scheme (W 0, N1 1, N2 2, N3 3, REM 5)")
                .on_hover_text(
                    "The sleep stages first with the keys sleep labs use, saved for this folder",
                )
                .clicked()
        {
            *scheme = with_sleep_stages(scheme);
            scheme_changed = true;
        }
        if scheme_changed {
            commands.push(AppCommand::SaveScheme);
        }
        let Some(s) = s else {
            return;
        };
        if let Some((from, to)) = rename
            && let Some(edit) = rename_class(s.doc.labels(), &from, &to)
            && let Err(e) = s.apply(edit, now_s)
        {
            commands.push(AppCommand::Report(e));
        }
        ui.separator();
        between(ui, s);
        ui.separator();
        ui.horizontal(|ui| {
            ui.heading(format!("Labels ({})", s.doc.labels().len()));
        });
        ui.horizontal(|ui| {
            ui.label("Sort by");
            ui.radio_value(&mut self.order, LabelOrder::Time, "time");
            ui.radio_value(&mut self.order, LabelOrder::Class, "label");
        });
        self.toolbar(ui, s, now_s, commands);
        self.table(ui, s, scheme, page_s);
    }

    /// The classes (color, name, hotkey) and the field to add one; the
    /// rename asked for, if any (from, to).
    fn classes_ui(
        &mut self,
        ui: &mut Ui,
        scheme: &mut LabelScheme,
        scheme_changed: &mut bool,
    ) -> Option<(String, String)> {
        ui.heading("Label classes");
        let mut rename: Option<(String, String)> = None;
        egui::Grid::new("label_classes")
            .num_columns(3)
            .show(ui, |ui| {
                for (i, class) in scheme.classes.clone().iter().enumerate() {
                    let mut rgb = class.color;
                    if ui
                        .color_edit_button_srgb(&mut rgb)
                        .on_hover_text(format!("Color of {}", class.name))
                        .changed()
                    {
                        scheme.classes[i].color = rgb;
                        *scheme_changed = true;
                    }
                    match &mut self.renaming {
                        Some((j, text)) if *j == i => {
                            let resp = ui.add(
                                egui::TextEdit::singleline(text)
                                    .hint_text("class name")
                                    .desired_width(110.0),
                            );
                            if resp.lost_focus() {
                                let to = text.trim().to_owned();
                                if !to.is_empty() && to != class.name && scheme.get(&to).is_none() {
                                    rename = Some((class.name.clone(), to.clone()));
                                    scheme.classes[i].name = to;
                                    *scheme_changed = true;
                                }
                                self.renaming = None;
                            } else {
                                resp.request_focus();
                            }
                        }
                        _ => {
                            if ui
                                .button(class.name.as_str())
                                .on_hover_text("Click to rename")
                                .clicked()
                            {
                                self.renaming = Some((i, class.name.clone()));
                            }
                        }
                    }
                    let key_text = class
                        .hotkey
                        .map_or_else(|| "–".to_owned(), |k| k.to_string());
                    egui::ComboBox::from_id_salt(("hotkey", i))
                        .selected_text(key_text)
                        .width(36.0)
                        .show_ui(ui, |ui| {
                            if ui
                                .selectable_label(class.hotkey.is_none(), "none")
                                .clicked()
                            {
                                scheme.set_hotkey(i, None);
                                *scheme_changed = true;
                            }
                            for d in 0..=9u8 {
                                if ui
                                    .selectable_label(class.hotkey == Some(d), d.to_string())
                                    .clicked()
                                {
                                    scheme.set_hotkey(i, Some(d));
                                    *scheme_changed = true;
                                }
                            }
                        })
                        .response
                        .on_hover_text(format!("Hotkey of {}", class.name));
                    ui.end_row();
                }
            });
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.new_class)
                    .hint_text("new class")
                    .desired_width(110.0),
            );
            if ui.button("Add class").clicked() && scheme.ensure(self.new_class.trim()) {
                self.new_class.clear();
                *scheme_changed = true;
            }
        });

        rename
    }

    /// Undo, redo, delete, and whether the labels are saved.
    fn toolbar(&mut self, ui: &mut Ui, s: &mut Session, now_s: f64, commands: &mut Commands) {
        ui.horizontal(|ui| {
            if ui
                .add_enabled(s.doc.can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                s.undo(now_s);
            }
            if ui
                .add_enabled(s.doc.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
            {
                s.redo(now_s);
            }
            if ui
                .add_enabled(s.selection.is_some(), egui::Button::new("Delete"))
                .on_hover_text("Delete the selected label (Del)")
                .clicked()
                && let Some(sel) = s.selection.take()
                && let Err(e) = s.apply(spindle_signals::labeling::Edit::Remove(sel), now_s)
            {
                commands.push(AppCommand::Report(e));
            }
        });
        let saved = if s.doc.is_dirty() {
            "unsaved changes"
        } else {
            "saved"
        };
        ui.label(
            RichText::new(format!(
                "{} · {saved}",
                s.sidecar()
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ))
            .small()
            .weak(),
        );
    }

    /// The table of labels in the chosen order; a click shows the label in
    /// the viewer (its page in epoch mode) and selects it.
    fn table(&mut self, ui: &mut Ui, s: &mut Session, scheme: &LabelScheme, page_s: f64) {
        let revision = s.doc.revision();
        let stale = self
            .cached
            .as_ref()
            .is_none_or(|(r, o, _)| *r != revision || *o != self.order);
        if stale {
            self.cached = Some((revision, self.order, ordered(s.doc.labels(), self.order)));
        }
        let rows: &[usize] = self.cached.as_ref().map_or(&[], |(_, _, v)| v.as_slice());
        let mut jump = None;
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let mut area = egui::ScrollArea::both().auto_shrink([false, false]);
        // A label selected or a page shown elsewhere (the viewer, the
        // hypnogram, a disagreement) scrolls its row into the table.
        let focus_s = s
            .selection
            .as_ref()
            .map(|l| l.onset_s)
            .or(s.epoch_mode.then_some(s.view.start_s));
        if focus_s != self.focus_s {
            self.focus_s = focus_s;
            let labels = &s.doc.labels().labels;
            let row = focus_s.and_then(|t| {
                rows.iter()
                    .position(|&i| labels.get(i).is_some_and(|l| (l.onset_s - t).abs() < 1e-3))
            });
            if let Some(row) = row {
                let step = row_h + ui.spacing().item_spacing.y;
                area = area.vertical_scroll_offset((row as f32 - 3.0).max(0.0) * step);
            }
        }
        area.show_rows(ui, row_h, rows.len(), |ui, range| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            for &i in &rows[range] {
                let Some(l) = s.doc.labels().labels.get(i) else {
                    continue;
                };
                let selected = s.selection.as_ref() == Some(l);
                let text = format!(
                    "{} {:>6.2}s {}",
                    format_hms(l.onset_s),
                    l.duration_s,
                    l.trial_type
                );
                let color = scheme.color_of(&l.trial_type);
                let text = RichText::new(text)
                    .monospace()
                    .color(egui::Color32::from_rgb(color[0], color[1], color[2]));
                if ui.selectable_label(selected, text).clicked() {
                    jump = Some(l.clone());
                }
            }
        });
        if let Some(l) = jump {
            if s.epoch_mode {
                s.go_to_page(
                    spindle_signals::labeling::epoch::page_of(l.onset_s, page_s),
                    page_s,
                );
            } else {
                let span = s.view.span_s.max(l.duration_s * 1.5);
                s.set_view(l.onset_s + l.duration_s / 2.0 - span / 2.0, span);
            }
            // Clicked in the table: already in view, no scroll.
            self.focus_s = Some(l.onset_s);
            s.selection = Some(l);
        }
    }
}
