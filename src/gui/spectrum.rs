//! The spectrum panel: power spectral density of the visible span per channel
//! and a spectrogram of a chosen channel (audio: of the waveform).

use eframe::egui::{self, ColorImage, TextureHandle, TextureOptions, Ui};
use egui_plot::{Legend, Line, Plot};

use super::session::Session;
use crate::dsp::{spectrogram, welch_length, welch_psd};

/// At most this many samples per channel go into the spectra of one view.
const MAX_SPECTRUM_SAMPLES: usize = 1 << 18;
/// Most spectrogram frames (columns).
const MAX_FRAMES: usize = 800;

type CacheKey = (usize, u64, u64, usize, u64);

/// The spectrum panel's state.
#[derive(Default)]
pub struct SpectrumPanel {
    /// Channel of the spectrogram.
    pub channel: usize,
    key: Option<CacheKey>,
    psd: Vec<(String, Vec<[f64; 2]>)>,
    image: Option<TextureHandle>,
    spec_info: String,
}

/// The sample range of channel `c` for the view (data time; gaps ignored).
fn span_samples(s: &Session, c: usize) -> &[f32] {
    let ch = &s.recording.channels[c];
    let a = ((s.start_s * ch.rate_hz) as usize).min(ch.samples.len());
    let b = (((s.start_s + s.span_s) * ch.rate_hz) as usize).clamp(a, ch.samples.len());
    let b = b.min(a + MAX_SPECTRUM_SAMPLES);
    &ch.samples[a..b]
}

impl SpectrumPanel {
    /// Draws the panel for `s`.
    pub fn ui(&mut self, ui: &mut Ui, s: &Session) {
        let n = s.recording.channels.len();
        if n == 0 {
            return;
        }
        self.channel = self.channel.min(n - 1);
        let shown = s.channels.iter().filter(|c| c.visible).count();
        let key = (
            self.channel,
            s.start_s.to_bits(),
            s.span_s.to_bits(),
            shown,
            s.order.len() as u64,
        );
        if self.key != Some(key) {
            self.recompute(ui.ctx(), s);
            self.key = Some(key);
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
            ui.label(egui::RichText::new(&self.spec_info).small().weak());
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
                    for (name, pts) in &self.psd {
                        p.line(Line::new(name.clone(), pts.clone()));
                    }
                });
            if let Some(tex) = &self.image {
                let size = egui::vec2(cols[1].available_width(), h);
                cols[1].add(egui::Image::new((tex.id(), size)).alt_text("Spectrogram"));
            }
        });
    }

    fn recompute(&mut self, ctx: &egui::Context, s: &Session) {
        self.psd.clear();
        for &c in s.order.iter().filter(|&&c| s.channels[c].visible).take(16) {
            let ch = &s.recording.channels[c];
            let x = span_samples(s, c);
            let psd = welch_psd(x, ch.rate_hz, welch_length(x.len(), ch.rate_hz));
            let pts = psd
                .freqs_hz
                .iter()
                .zip(&psd.psd)
                .skip(1)
                .map(|(&f, &p)| [f, 10.0 * p.max(1e-20).log10()])
                .collect();
            self.psd.push((ch.label.clone(), pts));
        }
        let ch = &s.recording.channels[self.channel];
        let x = span_samples(s, self.channel);
        let want = if ch.is_audio() {
            256
        } else {
            ((ch.rate_hz / 2.0) as usize).max(32).next_power_of_two()
        };
        let nfft = want.min(welch_length(x.len(), ch.rate_hz).max(2));
        let spec = spectrogram(x, ch.rate_hz, nfft, nfft / 4, MAX_FRAMES);
        if spec.frames == 0 {
            self.image = None;
            self.spec_info = "span too short for a spectrogram".to_owned();
            return;
        }
        let rgb: Vec<u8> = spec.to_rgb(60.0).into_iter().flatten().collect();
        let image = ColorImage::from_rgb([spec.frames, spec.bins], &rgb);
        self.spec_info = format!(
            "0–{:.0} Hz, {} frames of {} samples, top 60 dB",
            spec.df_hz * (spec.bins - 1) as f64,
            spec.frames,
            nfft
        );
        match &mut self.image {
            Some(tex) => tex.set(image, TextureOptions::LINEAR),
            None => {
                self.image = Some(ctx.load_texture("spectrogram", image, TextureOptions::LINEAR))
            }
        }
    }
}
