//! The time window a recording is viewed (and labeled) through: where it
//! starts, how wide it is, and how scrolling, zooming and epoch pages move
//! it, always kept inside the recording.

use super::epoch;

/// The shortest span an EEG view zooms to, seconds.
const MIN_SPAN_EEG_S: f64 = 1.0;
/// The shortest span an audio view zooms to, seconds.
const MIN_SPAN_AUDIO_S: f64 = 0.01;

/// What bounds a view: the recording's length and the narrowest span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewLimits {
    /// The recording's duration, seconds (at least 1 ms).
    pub duration_s: f64,
    /// The narrowest span, seconds: 1 s for EEG, 10 ms for audio, never
    /// more than the recording.
    pub min_span_s: f64,
}

impl ViewLimits {
    /// The limits of a recording of `duration_s` seconds, audio or not.
    pub fn new(duration_s: f64, audio: bool) -> Self {
        let duration_s = duration_s.max(1e-3);
        let min = if audio {
            MIN_SPAN_AUDIO_S
        } else {
            MIN_SPAN_EEG_S
        };
        Self {
            duration_s,
            min_span_s: min.min(duration_s),
        }
    }
}

/// The visible time range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeView {
    /// Left edge, seconds.
    pub start_s: f64,
    /// Width, seconds.
    pub span_s: f64,
}

impl TimeView {
    /// Shows `[start_s, start_s + span_s]`, clamped to `lim`.
    pub fn set(&mut self, start_s: f64, span_s: f64, lim: ViewLimits) {
        let span = span_s.clamp(lim.min_span_s, lim.duration_s);
        self.span_s = span;
        self.start_s = start_s.clamp(0.0, (lim.duration_s - span).max(0.0));
    }

    /// Scrolls by `dt_s` seconds.
    pub fn scroll(&mut self, dt_s: f64, lim: ViewLimits) {
        self.set(self.start_s + dt_s, self.span_s, lim);
    }

    /// Zooms by `factor` (< 1 zooms in), keeping time `at_s` where it is on screen.
    pub fn zoom(&mut self, factor: f64, at_s: f64, lim: ViewLimits) {
        let span = (self.span_s * factor).clamp(lim.min_span_s, lim.duration_s);
        let frac = ((at_s - self.start_s) / self.span_s).clamp(0.0, 1.0);
        self.set(at_s - frac * span, span, lim);
    }

    /// The visible range `(start, end)`, seconds.
    pub fn range(&self) -> (f64, f64) {
        (self.start_s, self.start_s + self.span_s)
    }

    /// The epoch page (of `page_s` seconds) holding the view's start.
    pub fn page(&self, page_s: f64) -> usize {
        epoch::page_of(self.start_s, page_s)
    }

    /// Shows page `page` of `page_s` seconds (the last page at most).
    pub fn go_to_page(&mut self, page: usize, page_s: f64, lim: ViewLimits) {
        let last = epoch::page_count(lim.duration_s, page_s).saturating_sub(1);
        self.span_s = page_s;
        self.start_s = page.min(last) as f64 * page_s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: ViewLimits = ViewLimits {
        duration_s: 120.0,
        min_span_s: 1.0,
    };

    fn view() -> TimeView {
        TimeView {
            start_s: 0.0,
            span_s: 10.0,
        }
    }

    #[test]
    fn scrolling_stays_inside_the_recording() {
        let mut v = view();
        v.scroll(1.0, LIM);
        assert_eq!(v.range(), (1.0, 11.0));
        v.scroll(-5.0, LIM);
        assert_eq!(v.range(), (0.0, 10.0));
        v.scroll(500.0, LIM);
        assert_eq!(v.range(), (110.0, 120.0));
    }

    #[test]
    fn zoom_keeps_the_pointer_time_and_stops_at_the_limits() {
        let mut v = view();
        v.zoom(0.5, 5.0, LIM);
        assert_eq!(v.range(), (2.5, 7.5));
        for _ in 0..10 {
            v.zoom(0.5, 5.0, LIM);
        }
        assert_eq!(v.span_s, 1.0);
        v.zoom(1000.0, 5.0, LIM);
        assert_eq!(v.range(), (0.0, 120.0));
        assert_eq!(ViewLimits::new(0.5, false).min_span_s, 0.5);
        assert_eq!(ViewLimits::new(10.0, true).min_span_s, 0.01);
    }

    #[test]
    fn pages() {
        let mut v = view();
        v.go_to_page(2, 30.0, LIM);
        assert_eq!(v.range(), (60.0, 90.0));
        assert_eq!(v.page(30.0), 2);
        v.go_to_page(99, 30.0, LIM);
        assert_eq!(v.range(), (90.0, 120.0), "the last page at most");
    }
}
