//! The spectrum panel: power spectral density of the visible span per channel
//! and a spectrogram of a chosen channel (audio: of the waveform). The spectra
//! are computed on a worker ([`spindle_signals::dsp::span_spectra`]) and kept in a small
//! cache, so that moving back to a view shows it at once; this module only
//! asks for them and draws them.

use eframe::egui::{self, ColorImage, TextureHandle, TextureOptions, Ui};
use egui_plot::{Legend, Line, Plot};
use spindle_signals::dsp::{MAX_SPECTRUM_CHANNELS, SpanSpectra, SpectraRequest};

use super::command::{AppCommand, Commands};
use super::session::Session;

/// Views whose spectra are kept.
const CACHE_VIEWS: usize = 8;

/// The spectrum panel's state.
#[derive(Default)]
pub struct SpectrumPanel {
    /// Channel of the spectrogram.
    pub channel: usize,
    /// The request on the worker, if any.
    pending: Option<SpectraRequest>,
    /// The last request that failed (not asked again).
    failed: Option<SpectraRequest>,
    /// Recent results, newest last.
    cache: Vec<(SpectraRequest, SpanSpectra)>,
    /// The spectra drawn (the wanted ones, or the last ones while those come).
    shown: Option<(SpectraRequest, SpanSpectra)>,
    image: Option<TextureHandle>,
}

impl SpectrumPanel {
    /// What the panel needs for the view of `s`.
    fn wanted(&self, s: &Session) -> SpectraRequest {
        SpectraRequest {
            channels: s
                .order
                .iter()
                .copied()
                .filter(|&c| s.channels[c].visible)
                .take(MAX_SPECTRUM_CHANNELS)
                .collect(),
            spectrogram_channel: self.channel,
            start_s: s.view.start_s,
            span_s: s.view.span_s,
        }
    }

    /// Takes spectra computed for `req`.
    pub fn receive(&mut self, req: SpectraRequest, spectra: SpanSpectra) {
        if self.pending.as_ref() == Some(&req) {
            self.pending = None;
        }
        self.cache.retain(|(r, _)| *r != req);
        self.cache.push((req, spectra));
        if self.cache.len() > CACHE_VIEWS {
            self.cache.remove(0);
        }
    }

    /// Forgets the request on the worker (it failed); the next frame asks
    /// again only when the view changes.
    pub fn request_failed(&mut self, req: &SpectraRequest) {
        if self.pending.as_ref() == Some(req) {
            self.pending = None;
        }
        self.failed = Some(req.clone());
    }

    /// True while spectra are being computed.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Draws the panel for `s`; spectra to compute on a worker become
    /// `AppCommand::Spectra` on `commands`.
    pub fn ui(&mut self, ui: &mut Ui, s: &Session, commands: &mut Commands) {
        let n = s.recording.channels.len();
        if n == 0 {
            return;
        }
        self.channel = self.channel.min(n - 1);
        let wanted = self.wanted(s);
        if let Some((_, spectra)) = self.cache.iter().find(|(r, _)| *r == wanted) {
            if self.shown.as_ref().map(|(r, _)| r) != Some(&wanted) {
                self.shown = Some((wanted.clone(), spectra.clone()));
                self.upload(ui.ctx());
            }
        } else if self.pending.is_none() && self.failed.as_ref() != Some(&wanted) {
            self.pending = Some(wanted.clone());
            commands.push(AppCommand::Spectra(wanted.clone()));
        }
        ui.horizontal(|ui| {
            ui.label("Spectrogram of");
            egui::ComboBox::from_id_salt("spectrogram_channel")
                .selected_text(s.recording.channels[self.channel].label.clone())
                .show_ui(ui, |ui| {
                    for (i, ch) in s.recording.channels.iter().enumerate() {
                        ui.selectable_value(&mut self.channel, i, ch.label.as_str());
                    }
                })
                .response
                .on_hover_text("Channel shown in the spectrogram");
            if let Some((_, spectra)) = &self.shown {
                ui.label(egui::RichText::new(&spectra.info).small().weak());
            }
            if self.pending.is_some() {
                ui.spinner();
            }
        });
        ui.columns(2, |cols| {
            let h = cols[0].available_height().max(120.0);
            Plot::new("psd_plot")
                .height(h)
                .legend(Legend::default())
                .x_axis_label("Hz")
                .y_axis_label("dB (unit²/Hz)")
                .allow_scroll(false)
                .show(&mut cols[0], |p| {
                    if let Some((_, spectra)) = &self.shown {
                        for (name, pts) in &spectra.psd {
                            p.line(Line::new(name.clone(), pts.clone()));
                        }
                    }
                });
            if let Some(tex) = &self.image {
                let size = egui::vec2(cols[1].available_width(), h);
                cols[1].add(egui::Image::new((tex.id(), size)).alt_text("Spectrogram"));
            }
        });
    }

    /// Puts the shown spectrogram into a texture.
    fn upload(&mut self, ctx: &egui::Context) {
        let Some((_, spectra)) = &self.shown else {
            return;
        };
        let Some((w, h, rgb)) = &spectra.image else {
            self.image = None;
            return;
        };
        let image = ColorImage::from_rgb([*w, *h], rgb);
        match &mut self.image {
            Some(tex) => tex.set(image, TextureOptions::LINEAR),
            None => {
                self.image = Some(ctx.load_texture("spectrogram", image, TextureOptions::LINEAR))
            }
        }
    }
}
