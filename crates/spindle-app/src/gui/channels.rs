//! The channel list: show/hide, mark bad, reorder, per-channel gain.

use eframe::egui::{self, Ui};

use super::session::Session;

/// Draws the channel list of `s`.
pub fn ui(ui: &mut Ui, s: &mut Session) {
    ui.horizontal(|ui| {
        if ui.small_button("Show all").clicked() {
            s.channels.iter_mut().for_each(|c| c.visible = true);
        }
        if ui.small_button("Hide all").clicked() {
            s.channels.iter_mut().for_each(|c| c.visible = false);
        }
    });
    let mut moves = Vec::new();
    egui::Grid::new("channel_grid")
        .num_columns(5)
        .striped(true)
        .show(ui, |ui| {
            let order = s.order.clone();
            for (pos, &c) in order.iter().enumerate() {
                let name = s.recording.channels[c].label.clone();
                let view = &mut s.channels[c];
                ui.checkbox(&mut view.visible, name.as_str())
                    .on_hover_text(format!("Show {name}"));
                ui.toggle_value(&mut view.bad, "bad")
                    .on_hover_text(format!("Mark {name} as bad"));
                ui.add(
                    egui::DragValue::new(&mut view.gain)
                        .speed(0.02)
                        .range(0.01..=100.0)
                        .suffix("×"),
                )
                .on_hover_text(format!("Gain of {name}"));
                if ui
                    .small_button("up")
                    .on_hover_text(format!("Move {name} up"))
                    .clicked()
                {
                    moves.push((pos, -1));
                }
                if ui
                    .small_button("down")
                    .on_hover_text(format!("Move {name} down"))
                    .clicked()
                {
                    moves.push((pos, 1));
                }
                ui.end_row();
            }
        });
    for (pos, delta) in moves {
        s.move_channel(pos, delta);
    }
}
