//! The lanes of the signal viewer: each shown channel's lane and scale
//! (pixels per unit, said in µV per division, a division being half a
//! lane), its scale bar, per-channel gain by scrolling over its name, and
//! the "fit" that sets each channel's gain from the samples in view.

use std::ops::Range;

use eframe::egui::{self, Align2, FontId, Rect, Stroke, pos2};
use spindle_signals::dsp::fit_range;
use spindle_signals::recording::{RecordingError, SampleStore, microvolts_per_unit};

use super::session::Session;

/// Gain a channel's own gain stays within.
const CHANNEL_GAIN_RANGE: std::ops::RangeInclusive<f32> = 0.01..=100.0;
/// How much of its lane a fitted channel's 1st–99th percentile range fills
/// (the trace is drawn about its visible mean, so a margin keeps a skewed
/// range inside).
const FIT_FILL: f32 = 0.8;
/// Gain factor per point of scrolling over a channel's name.
const GAIN_PER_SCROLL_PX: f32 = 1.004;

/// Pixels per physical unit of channel `c` in a lane `lane_h_px` high:
/// three default amplitudes fill half a lane at gain 1.
pub fn px_per_unit(s: &Session, c: usize, lane_h_px: f32) -> f32 {
    let amp = s.amplitudes[c].max(1e-12);
    (lane_h_px * 0.5) / (3.0 * amp) * s.gain * s.channels[c].gain
}

/// What one division (half a lane) of channel `c` spans: the amount and
/// its unit, µV for a voltage.
pub fn per_division(s: &Session, c: usize) -> (f64, String) {
    let gain = f64::from(s.gain * s.channels[c].gain).max(1e-12);
    let units = 3.0 * f64::from(s.amplitudes[c]) / gain;
    let unit = &s.recording.channels[c].unit;
    match microvolts_per_unit(unit) {
        Some(uv_per_unit) => (units * uv_per_unit, "µV".to_owned()),
        None => (units, unit.clone()),
    }
}

/// Channel `c`'s scale in words: `50 µV/div`.
pub fn scale_text(s: &Session, c: usize) -> String {
    let (amount, unit) = per_division(s, c);
    format!("{} {unit}/div", round_3(amount))
}

/// `v` with three significant digits, without trailing zeros.
fn round_3(v: f64) -> String {
    if !(1e-3..1e6).contains(&v.abs()) {
        return format!("{v:.1e}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Where a lane's scale bar goes: its x, the lane's middle and height.
#[derive(Debug, Clone, Copy)]
pub struct ScaleBar {
    /// The bar's x, points.
    pub x: f32,
    /// The lane's middle, points.
    pub center_y: f32,
    /// The lane's height, points.
    pub lane_h: f32,
}

/// A vertical bar one division (half the lane) high, with the scale
/// `text` beside it.
pub fn draw_scale_bar(
    painter: &egui::Painter,
    bar: &ScaleBar,
    text: &str,
    visuals: &egui::Visuals,
) {
    let ScaleBar {
        x,
        center_y,
        lane_h,
    } = *bar;
    let half = lane_h * 0.25;
    painter.line_segment(
        [pos2(x, center_y - half), pos2(x, center_y + half)],
        Stroke::new(2.0, visuals.weak_text_color()),
    );
    painter.text(
        pos2(x - 4.0, center_y + lane_h * 0.25),
        Align2::RIGHT_CENTER,
        text,
        FontId::proportional(9.0),
        visuals.weak_text_color(),
    );
}

/// The visible channels in lane order.
pub fn shown_channels(s: &Session) -> Vec<usize> {
    s.order
        .iter()
        .copied()
        .filter(|&c| s.channels[c].visible)
        .collect()
}

/// The lane of each shown channel in `data_rect`, in lane order.
pub fn lane_rects(s: &Session, data_rect: Rect) -> Vec<(usize, Rect)> {
    let shown = shown_channels(s);
    let lane_h = data_rect.height() / shown.len().max(1) as f32;
    shown
        .iter()
        .enumerate()
        .map(|(lane, &c)| {
            let top = data_rect.top() + lane_h * lane as f32;
            let rect = Rect::from_x_y_ranges(data_rect.x_range(), top..=top + lane_h);
            (c, rect)
        })
        .collect()
}

/// The shown channel whose lane holds height `y` (points).
pub fn channel_at(s: &Session, data_rect: Rect, y: f32) -> Option<usize> {
    lane_rects(s, data_rect)
        .into_iter()
        .find(|(_, r)| r.y_range().contains(y))
        .map(|(c, _)| c)
}

/// Scrolling `scroll_px` points over channel `c`'s name: up raises its
/// gain, down lowers it.
pub fn scroll_gain(s: &mut Session, c: usize, scroll_px: f32) {
    let gain = s.channels[c].gain * GAIN_PER_SCROLL_PX.powf(scroll_px);
    s.channels[c].gain = gain.clamp(*CHANNEL_GAIN_RANGE.start(), *CHANNEL_GAIN_RANGE.end());
}

/// What a fit reads for one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct FitRequest {
    /// The channel.
    pub channel: usize,
    /// Its samples in view.
    pub range: Range<usize>,
    /// Its default amplitude, physical units.
    pub amplitude: f32,
    /// The global gain the channel's gain multiplies.
    pub global_gain: f32,
}

/// What a fit of the view of `s` reads: each shown channel's samples in view.
pub fn fit_requests(s: &Session) -> Vec<FitRequest> {
    let (t0, t1) = s.view_range();
    shown_channels(s)
        .into_iter()
        .map(|c| {
            let rate_hz = s.recording.channels[c].rate_hz;
            let len = s.samples.len(c);
            let at = |t: f64| ((t.max(0.0) * rate_hz) as usize).min(len);
            FitRequest {
                channel: c,
                range: at(t0)..at(t1),
                amplitude: s.amplitudes[c],
                global_gain: s.gain,
            }
        })
        .collect()
}

/// Each requested channel's gain that makes the 1st–99th percentile range
/// of its samples in view fill its lane ([`FIT_FILL`] of it) (channels without a finite range
/// are left out). Reads from the file for a recording read on demand: run
/// it on a worker.
pub fn fit_gains(
    samples: &SampleStore,
    requests: &[FitRequest],
) -> Result<Vec<(usize, f32)>, RecordingError> {
    let mut buf = Vec::new();
    let mut gains = Vec::with_capacity(requests.len());
    for r in requests {
        buf.clear();
        samples.read(r.channel, r.range.clone(), &mut buf)?;
        let Some(range) = fit_range(&buf) else {
            continue;
        };
        if range.span() <= 0.0 || r.global_gain <= 0.0 {
            continue;
        }
        // span · px_per_unit = FIT_FILL · lane height, px_per_unit as in
        // `px_per_unit`.
        let gain = FIT_FILL * 6.0 * r.amplitude / (r.global_gain * range.span());
        gains.push((
            r.channel,
            gain.clamp(*CHANNEL_GAIN_RANGE.start(), *CHANNEL_GAIN_RANGE.end()),
        ));
    }
    Ok(gains)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_read_with_three_significant_digits() {
        assert_eq!(round_3(50.0), "50");
        assert_eq!(round_3(16.666_666), "16.7");
        assert_eq!(round_3(0.5), "0.5");
        assert_eq!(round_3(1234.0), "1234");
    }
}
