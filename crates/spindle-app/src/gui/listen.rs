//! Listening to the visible span: an audio channel at normal speed, or an
//! EEG channel sped up until it is audible. The player opens on a worker the
//! first time it is needed; clips are prepared on a worker; this module only
//! keeps the state and draws the controls.

use eframe::egui::{RichText, Ui};

use super::command::{AppCommand, Commands, ListenRequest};
use crate::playback::Player;

/// How fast an EEG channel is played: 10 Hz alpha becomes a 600 Hz tone.
pub const SONIFICATION_SPEED: f64 = 60.0;

/// The app's playback state.
#[derive(Debug, Default)]
pub struct Listening {
    /// The open player.
    pub player: Option<Player>,
    /// Why playback is not available here, once known.
    pub unavailable: Option<String>,
    /// The player is being opened on a worker.
    pub opening: bool,
    /// A clip is being prepared on a worker.
    pub preparing: bool,
    /// Play once the player is open.
    pub play_when_open: bool,
    /// The channel to play (index into the recording's channels).
    pub channel: usize,
    /// Clips handed to the player so far.
    pub clips_played: usize,
}

impl Listening {
    /// True while sound plays.
    pub fn is_playing(&self) -> bool {
        self.player.as_ref().is_some_and(Player::is_playing)
    }

    /// The recording time being heard, seconds.
    pub fn position_s(&self) -> Option<f64> {
        self.player.as_ref().and_then(Player::position_s)
    }

    /// Play or stop, as the space bar does.
    pub fn toggle(&self) -> ListenRequest {
        if self.is_playing() || self.preparing {
            ListenRequest::Stop
        } else {
            ListenRequest::Play
        }
    }

    /// The play/stop button and, for EEG, which channel; a click becomes
    /// `AppCommand::Listen` on `commands`.
    pub fn ui(&mut self, ui: &mut Ui, channels: &[String], audio: bool, commands: &mut Commands) {
        if let Some(why) = &self.unavailable {
            ui.label(RichText::new(format!("Playback: {why}")).weak())
                .on_hover_text(why.clone());
            return;
        }
        let playing = self.is_playing() || self.preparing;
        let title = if playing { "Stop sound" } else { "Listen" };
        if ui
            .button(title)
            .on_hover_text(if audio {
                "Play the visible span (space bar)"
            } else {
                "Play the visible span of the chosen channel sped up 60 times, so that brain rhythms become audible tones (space bar)"
            })
            .clicked()
        {
            commands.push(AppCommand::Listen(if playing {
                ListenRequest::Stop
            } else {
                ListenRequest::Play
            }));
        }
        if !audio && !channels.is_empty() {
            self.channel = self.channel.min(channels.len() - 1);
            eframe::egui::ComboBox::from_id_salt("listen_channel")
                .selected_text(channels[self.channel].as_str())
                .show_ui(ui, |ui| {
                    for (i, name) in channels.iter().enumerate() {
                        ui.selectable_value(&mut self.channel, i, name.as_str());
                    }
                })
                .response
                .on_hover_text("Channel to listen to");
        }
    }
}
