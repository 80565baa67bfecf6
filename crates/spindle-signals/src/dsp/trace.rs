//! The viewer's data path: what one channel looks like in a time window that
//! is `width_px` pixel columns wide, as pieces of per-column min/max (zoomed
//! out) or of single samples (zoomed in), split at gaps in the data.

use std::ops::Range;

use super::{DisplayFilter, MinMaxPyramid, min_max};
use crate::recording::{SampleStore, Segment};

/// At most this many samples of a channel are filtered per frame; wider spans
/// are drawn unfiltered (see [`Trace::filter_skipped`]).
pub const MAX_FILTERED_SAMPLES: usize = 1 << 18;

/// At most this many samples of a channel read on demand are fetched per
/// frame; wider spans are drawn from the pyramid's blocks alone.
pub const MAX_ON_DEMAND_SAMPLES: usize = 1 << 16;

/// A time window mapped onto pixel columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    /// Time at the left edge, seconds from the recording's start.
    pub start_s: f64,
    /// Time at the right edge, seconds.
    pub end_s: f64,
    /// Number of pixel columns.
    pub width_px: usize,
}

impl TimeWindow {
    /// Pixels per second.
    pub fn px_per_s(&self) -> f64 {
        self.width_px as f64 / (self.end_s - self.start_s).max(1e-9)
    }

    /// The x position in pixels (from the left edge) of time `t_s`.
    pub fn x_of(&self, t_s: f64) -> f64 {
        (t_s - self.start_s) * self.px_per_s()
    }

    /// The time in seconds at x position `x_px` (from the left edge).
    pub fn t_of(&self, x_px: f64) -> f64 {
        self.start_s + x_px / self.px_per_s()
    }
}

/// Where a channel's physical samples (in time order, concatenated across
/// gaps) are.
#[derive(Debug, Clone, Copy)]
pub enum Samples<'a> {
    /// All of them, in memory.
    Slice(&'a [f32]),
    /// Channel `channel` of a store that may read them from the file. In a
    /// frame only what the store's cache holds is drawn
    /// ([`SampleStore::read_cached`]); the rest is drawn from the pyramid's
    /// blocks, or left blank, and named in [`Trace::missing`].
    Store {
        /// The store.
        store: &'a SampleStore,
        /// The channel's index in it.
        channel: usize,
    },
    /// A part of a channel prepared off the frame (display-filtered by
    /// [`filter_span`](super::filter_span())): samples
    /// `first..first + span.len()` of a channel of `len` samples. The
    /// window drawn lies inside it.
    Span {
        /// The samples.
        span: &'a [f32],
        /// Index of the first one in the channel.
        first: usize,
        /// Samples in the whole channel.
        len: usize,
    },
}

impl Samples<'_> {
    fn len(&self) -> usize {
        match self {
            Samples::Slice(s) => s.len(),
            Samples::Store { store, channel } => store.len(*channel),
            Samples::Span { len, .. } => *len,
        }
    }

    fn identity(&self) -> usize {
        match self {
            Samples::Slice(s) => s.as_ptr() as usize,
            Samples::Store { store, channel } => store.identity() + channel,
            Samples::Span { span, first, .. } => span.as_ptr() as usize + first,
        }
    }
}

/// One channel's samples and where they sit in time.
#[derive(Debug, Clone, Copy)]
pub struct ChannelData<'a> {
    /// The samples.
    pub samples: Samples<'a>,
    /// The pyramid built from the samples; for samples read on demand it may
    /// still be empty (being built), and then only spans short enough to
    /// fetch are drawn.
    pub pyramid: &'a MinMaxPyramid,
    /// Samples per second (Hz).
    pub rate_hz: f64,
    /// Runs of contiguous data (the recording's segments); empty means one run
    /// from 0 s.
    pub segments: &'a [Segment],
}

/// How a [`TracePiece`]'s values are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    /// One `[min, max]` per pixel column.
    Envelope,
    /// One sample per entry (`[v, v]`), joined by lines.
    Samples,
}

/// A run of values without gaps: entry `i` sits at `x0_px + i * dx_px`.
#[derive(Debug, Clone, PartialEq)]
pub struct TracePiece {
    /// x of the first entry, pixels from the window's left edge.
    pub x0_px: f32,
    /// Pixels between entries.
    pub dx_px: f32,
    /// How to draw the entries.
    pub kind: PieceKind,
    /// The entries, as a range of [`Trace::values`].
    pub range: Range<usize>,
}

/// What one channel looks like in a window; reused across frames to avoid
/// allocating.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Runs of data; a gap in the recording separates two pieces.
    pub pieces: Vec<TracePiece>,
    /// `[min, max]` per entry, in physical units.
    pub values: Vec<[f32; 2]>,
    /// True when a display filter was asked for but the span was too long
    /// (over [`MAX_FILTERED_SAMPLES`]) so the raw data is shown.
    pub filter_skipped: bool,
    /// True when part of the window could not be drawn because the samples
    /// are read on demand and the pyramid is not built yet.
    pub waiting: bool,
    /// Samples of the channel (read on demand) that the window wants but
    /// the store's cache does not hold yet: drawn from the pyramid's blocks
    /// or left blank meanwhile; a worker should warm them, and the next
    /// [`Trace::compute`] draws them (it recomputes while any are missing).
    pub missing: Option<Range<usize>>,
    scratch: Vec<f32>,
    /// [`Trace::visible_mean`], computed once per [`Trace::compute`].
    mean: f32,
    /// The inputs of the last [`Trace::compute`], to skip recomputing.
    key: Option<TraceKey>,
}

/// What a trace was computed from (data identity, window, filter).
#[derive(Debug, Clone, Copy, PartialEq)]
struct TraceKey {
    /// Address of the samples (never dereferenced; tells buffers apart).
    data: usize,
    len: usize,
    pyramid_len: usize,
    rate_hz: f64,
    segments: usize,
    window: TimeWindow,
    filter: Option<DisplayFilter>,
}

impl Trace {
    /// The mean of what is drawn (the middle of each `[min, max]`), in
    /// physical units; 0 when nothing finite is drawn. The viewer draws
    /// each channel around it, as MNE's browser removes the mean of the
    /// visible data, so that a channel with a large DC offset (hundreds of
    /// µV, common on amplifiers without a high-pass) stays in its lane.
    pub fn visible_mean(&self) -> f32 {
        self.mean
    }

    /// Forgets the last inputs, so the next [`Trace::compute`] recomputes.
    pub fn invalidate(&mut self) {
        self.key = None;
    }

    /// Fills this trace with channel `ch` seen through `window`, filtered by
    /// `filter` when given and active. Returns at once when the inputs are the
    /// same as last time (an idle frame costs nothing).
    pub fn compute(
        &mut self,
        ch: ChannelData<'_>,
        window: TimeWindow,
        filter: Option<&DisplayFilter>,
    ) {
        let len = ch.samples.len();
        let key = TraceKey {
            data: ch.samples.identity(),
            len,
            pyramid_len: ch.pyramid.len(),
            rate_hz: ch.rate_hz,
            segments: ch.segments.len(),
            window,
            filter: filter.copied().filter(DisplayFilter::is_active),
        };
        if self.key == Some(key) {
            return;
        }
        self.key = Some(key);
        self.pieces.clear();
        self.values.clear();
        self.filter_skipped = false;
        self.waiting = false;
        self.missing = None;
        self.mean = 0.0;
        if ch.rate_hz <= 0.0 || window.width_px == 0 || window.end_s <= window.start_s {
            return;
        }
        let whole = [Segment {
            onset_s: 0.0,
            duration_s: len as f64 / ch.rate_hz,
        }];
        let segments = if ch.segments.is_empty() {
            &whole[..]
        } else {
            ch.segments
        };
        let filter = filter.filter(|f| f.is_active());
        let px_per_s = window.px_per_s();
        let samples_per_px = ch.rate_hz / px_per_s;
        let mut data_s = 0.0;
        for seg in segments {
            let seg_data_s = data_s;
            data_s += seg.duration_s;
            let seg_end_s = seg.onset_s + seg.duration_s;
            let vis0 = window.start_s.max(seg.onset_s);
            let vis1 = window.end_s.min(seg_end_s);
            if vis1 <= vis0 {
                continue;
            }
            let first_sample = (seg_data_s * ch.rate_hz).round() as usize;
            let end_sample =
                (((seg_data_s + seg.duration_s) * ch.rate_hz).round() as usize).min(len);
            if first_sample >= end_sample {
                continue;
            }
            // Sample position (fractional) of time t inside this segment.
            let pos = |t: f64| first_sample as f64 + (t - seg.onset_s) * ch.rate_hz;
            let lo = (pos(vis0).floor() as usize).clamp(first_sample, end_sample - 1);
            let hi = (pos(vis1).ceil() as usize + 1).clamp(lo + 1, end_sample);
            let margin = filter.map_or(0, |f| f.margin_samples(ch.rate_hz));
            let a = lo.saturating_sub(margin).max(first_sample);
            let b = (hi + margin).min(end_sample);
            // What the piece reads: samples (possibly filtered) starting at
            // sample `offset`, the whole slice with its pyramid, or the
            // pyramid's blocks alone.
            let piece = PieceSpan { lo, hi, a, b };
            let Some(read) = self.choose_read(&ch, filter, piece, samples_per_px) else {
                continue;
            };
            let local = |i: usize, offset: usize, scratch: &[f32]| {
                scratch[i.clamp(offset, offset + scratch.len() - 1) - offset]
            };
            let start = self.values.len();
            if samples_per_px < 1.0 && !matches!(read, Read::Blocks) {
                for i in lo..hi {
                    let v = match read {
                        Read::Whole(all) => all[i],
                        Read::Local(offset) => local(i, offset, &self.scratch),
                        Read::Span(span, first) => local(i, first, span),
                        Read::Blocks => f32::NAN,
                    };
                    self.values.push([v, v]);
                }
                let t_lo = seg.onset_s + (lo - first_sample) as f64 / ch.rate_hz;
                self.pieces.push(TracePiece {
                    x0_px: window.x_of(t_lo) as f32,
                    dx_px: (px_per_s / ch.rate_hz) as f32,
                    kind: PieceKind::Samples,
                    range: start..self.values.len(),
                });
            } else {
                let c0 = window.x_of(vis0).floor().max(0.0) as usize;
                let c1 = (window.x_of(vis1).ceil() as usize).min(window.width_px);
                for c in c0..c1 {
                    let ta = window.t_of(c as f64).max(vis0);
                    let tb = window.t_of((c + 1) as f64).min(vis1);
                    let a = (pos(ta).floor() as usize).clamp(first_sample, end_sample - 1);
                    let b = (pos(tb).ceil() as usize).clamp(a + 1, end_sample);
                    let (mn, mx) = match read {
                        Read::Whole(all) => ch.pyramid.range_min_max(all, a, b),
                        Read::Blocks => ch.pyramid.blocks_min_max(a, b),
                        Read::Local(offset) => local_min_max(&self.scratch, offset, a, b),
                        Read::Span(span, first) => local_min_max(span, first, a, b),
                    };
                    self.values.push([mn, mx]);
                }
                self.pieces.push(TracePiece {
                    x0_px: c0 as f32 + 0.5,
                    dx_px: 1.0,
                    kind: PieceKind::Envelope,
                    range: start..self.values.len(),
                });
            }
        }
        self.mean = mean_of_middles(&self.values);
        if self.missing.is_some() {
            // Drawn from what is ready: compute again once the cache holds it.
            self.key = None;
        }
    }

    /// Where the piece of samples `lo..hi` (`a..b` with the filter's
    /// margin) reads its values; `None` when it cannot be drawn yet.
    fn choose_read<'a>(
        &mut self,
        ch: &ChannelData<'a>,
        filter: Option<&DisplayFilter>,
        piece: PieceSpan,
        samples_per_px: f64,
    ) -> Option<Read<'a>> {
        let PieceSpan { lo, hi, a, b } = piece;
        match (ch.samples, filter) {
            (Samples::Slice(all), Some(f)) if hi - lo <= MAX_FILTERED_SAMPLES => {
                self.scratch.clear();
                self.scratch.extend_from_slice(&all[a..b]);
                f.apply_zero_phase(&mut self.scratch, ch.rate_hz);
                Some(Read::Local(a))
            }
            (Samples::Slice(all), f) => {
                self.filter_skipped |= f.is_some();
                Some(Read::Whole(all))
            }
            (Samples::Span { span, first, .. }, _) => {
                (first <= lo && hi <= first + span.len()).then_some(Read::Span(span, first))
            }
            (Samples::Store { store, channel }, f) => {
                let wants_samples =
                    f.is_some() || samples_per_px < 2.0 * ch.pyramid.base_block() as f64;
                let limit = if f.is_some() {
                    MAX_FILTERED_SAMPLES
                } else {
                    MAX_ON_DEMAND_SAMPLES
                };
                if wants_samples && b - a <= limit {
                    self.scratch.clear();
                    if store.read_cached(channel, a..b, &mut self.scratch)
                        && self.scratch.len() >= b - a
                    {
                        if let Some(f) = f {
                            f.apply_zero_phase(&mut self.scratch, ch.rate_hz);
                        }
                        return Some(Read::Local(a));
                    }
                    self.missing = Some(match self.missing.take() {
                        Some(m) => m.start.min(a)..m.end.max(b),
                        None => a..b,
                    });
                    // Meanwhile the overview's blocks, when built.
                    return (!ch.pyramid.is_empty()).then_some(Read::Blocks);
                }
                if ch.pyramid.is_empty() {
                    self.waiting = true;
                    return None;
                }
                self.filter_skipped |= f.is_some();
                Some(Read::Blocks)
            }
        }
    }
}

/// The samples a piece of a trace shows (`lo..hi`) and reads (`a..b`,
/// with a filter's margin).
#[derive(Debug, Clone, Copy)]
struct PieceSpan {
    lo: usize,
    hi: usize,
    a: usize,
    b: usize,
}

/// The min and max of samples `a..b` of a channel, of which `part` holds
/// those from `first` on (clamped to it).
fn local_min_max(part: &[f32], first: usize, a: usize, b: usize) -> (f32, f32) {
    let n = part.len();
    let a = a.clamp(first, first + n - 1);
    let b = b.clamp(a + 1, first + n);
    min_max(&part[a - first..b - first])
}

/// The mean of the middles of `[min, max]` pairs that are finite; 0 when none is.
fn mean_of_middles(values: &[[f32; 2]]) -> f32 {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for &[lo, hi] in values {
        let mid = (f64::from(lo) + f64::from(hi)) / 2.0;
        if mid.is_finite() {
            sum += mid;
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

/// Where one piece of a trace reads its values.
#[derive(Clone, Copy)]
enum Read<'a> {
    /// The whole channel in memory, with its pyramid.
    Whole(&'a [f32]),
    /// `Trace::scratch`, whose first sample is this sample index.
    Local(usize),
    /// A part of the channel prepared off the frame, whose first sample is
    /// this sample index.
    Span(&'a [f32], usize),
    /// The pyramid's blocks alone.
    Blocks,
}

impl Trace {
    /// Appends the screen points of `piece` to `out`: x from `x_origin_px`,
    /// y = `y_center_px - value * px_per_unit`, clamped to `y_min..=y_max`.
    /// Envelopes zig-zag between min and max so one polyline draws them.
    /// Non-finite values are skipped.
    #[allow(clippy::too_many_arguments)]
    pub fn piece_points(
        &self,
        piece: &TracePiece,
        x_origin_px: f32,
        y_center_px: f32,
        px_per_unit: f32,
        y_min: f32,
        y_max: f32,
        out: &mut Vec<[f32; 2]>,
    ) {
        let y = |v: f32| (y_center_px - v * px_per_unit).clamp(y_min, y_max);
        let values = &self.values[piece.range.clone()];
        out.reserve(values.len() * 2);
        for (i, &[mn, mx]) in values.iter().enumerate() {
            if !(mn.is_finite() && mx.is_finite()) {
                continue;
            }
            let x = x_origin_px + piece.x0_px + i as f32 * piece.dx_px;
            match piece.kind {
                PieceKind::Samples => out.push([x, y(mn)]),
                PieceKind::Envelope if i % 2 == 0 => {
                    out.push([x, y(mn)]);
                    out.push([x, y(mx)]);
                }
                PieceKind::Envelope => {
                    out.push([x, y(mx)]);
                    out.push([x, y(mn)]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32).collect()
    }

    #[test]
    fn zoomed_out_gives_one_envelope_per_column() {
        let samples = ramp(256 * 100);
        let pyramid = MinMaxPyramid::build(&samples);
        let ch = ChannelData {
            samples: Samples::Slice(&samples),
            pyramid: &pyramid,
            rate_hz: 256.0,
            segments: &[],
        };
        let mut trace = Trace::default();
        let window = TimeWindow {
            start_s: 0.0,
            end_s: 100.0,
            width_px: 1000,
        };
        trace.compute(ch, window, None);
        assert_eq!(trace.pieces.len(), 1);
        assert_eq!(trace.pieces[0].kind, PieceKind::Envelope);
        assert_eq!(trace.values.len(), 1000);
        // Column 10 covers samples 256..282 (0.1 s at 256 Hz).
        let [mn, mx] = trace.values[10];
        assert!(mn <= 256.0 && (281.0..=300.0).contains(&mx), "{mn} {mx}");
    }

    #[test]
    fn zoomed_in_gives_samples() {
        let samples = ramp(256 * 10);
        let pyramid = MinMaxPyramid::build(&samples);
        let ch = ChannelData {
            samples: Samples::Slice(&samples),
            pyramid: &pyramid,
            rate_hz: 256.0,
            segments: &[],
        };
        let mut trace = Trace::default();
        let window = TimeWindow {
            start_s: 1.0,
            end_s: 2.0,
            width_px: 1024,
        };
        trace.compute(ch, window, None);
        assert_eq!(trace.pieces[0].kind, PieceKind::Samples);
        assert_eq!(trace.values[0][0], 256.0);
        assert!((trace.pieces[0].dx_px - 4.0).abs() < 1e-6);
    }

    #[test]
    fn the_visible_mean_is_that_of_the_drawn_samples() {
        // A 845 µV offset with ±10 µV on it, as an amplifier without a
        // high-pass records: the lane is centred on the offset.
        let samples: Vec<f32> = (0..2560)
            .map(|i| 845.0 + if i % 2 == 0 { 10.0 } else { -10.0 })
            .collect();
        let pyramid = MinMaxPyramid::build(&samples);
        let ch = ChannelData {
            samples: Samples::Slice(&samples),
            pyramid: &pyramid,
            rate_hz: 256.0,
            segments: &[],
        };
        let mut trace = Trace::default();
        assert_eq!(trace.visible_mean(), 0.0, "nothing drawn yet");
        for (start_s, end_s) in [(1.0, 2.0), (0.0, 10.0)] {
            let window = TimeWindow {
                start_s,
                end_s,
                width_px: 100,
            };
            trace.compute(ch, window, None);
            assert!(
                (trace.visible_mean() - 845.0).abs() < 0.5,
                "{}",
                trace.visible_mean()
            );
        }
    }

    #[test]
    fn gaps_split_pieces_and_shift_time() {
        // Two 1 s runs at 0 s and 3 s: a 2 s gap between them.
        let samples = ramp(200);
        let pyramid = MinMaxPyramid::build(&samples);
        let segments = [
            Segment {
                onset_s: 0.0,
                duration_s: 1.0,
            },
            Segment {
                onset_s: 3.0,
                duration_s: 1.0,
            },
        ];
        let ch = ChannelData {
            samples: Samples::Slice(&samples),
            pyramid: &pyramid,
            rate_hz: 100.0,
            segments: &segments,
        };
        let mut trace = Trace::default();
        let window = TimeWindow {
            start_s: 0.0,
            end_s: 4.0,
            width_px: 40,
        };
        trace.compute(ch, window, None);
        assert_eq!(trace.pieces.len(), 2);
        assert_eq!(trace.pieces[1].x0_px, 30.5);
        assert_eq!(trace.values[trace.pieces[1].range.start][0], 100.0);
    }

    #[test]
    fn channels_of_different_rates_align_in_time() {
        // A step at 3 s in a 100 Hz and a 1000 Hz channel lands in the same column.
        let slow: Vec<f32> = (0..1000)
            .map(|i| if i >= 300 { 1.0 } else { 0.0 })
            .collect();
        let fast: Vec<f32> = (0..10_000)
            .map(|i| if i >= 3000 { 1.0 } else { 0.0 })
            .collect();
        let window = TimeWindow {
            start_s: 2.0,
            end_s: 4.0,
            width_px: 200,
        };
        let step_column = |samples: &[f32], rate_hz: f64| {
            let pyramid = MinMaxPyramid::build(samples);
            let mut trace = Trace::default();
            let ch = ChannelData {
                samples: Samples::Slice(samples),
                pyramid: &pyramid,
                rate_hz,
                segments: &[],
            };
            trace.compute(ch, window, None);
            let piece = &trace.pieces[0];
            let first = trace.values.iter().position(|v| v[1] > 0.5).unwrap();
            piece.x0_px + first as f32 * piece.dx_px
        };
        let a = step_column(&slow, 100.0);
        let b = step_column(&fast, 1000.0);
        assert!(
            (a - 100.0).abs() <= 1.0 && (b - 100.0).abs() <= 1.0,
            "{a} {b}"
        );
    }

    #[test]
    fn filter_on_visible_span() {
        let samples: Vec<f32> = (0..2560).map(|i| 50.0 + (i as f32 * 0.3).sin()).collect();
        let pyramid = MinMaxPyramid::build(&samples);
        let ch = ChannelData {
            samples: Samples::Slice(&samples),
            pyramid: &pyramid,
            rate_hz: 256.0,
            segments: &[],
        };
        let filter = DisplayFilter {
            highpass_hz: Some(1.0),
            ..Default::default()
        };
        let mut trace = Trace::default();
        let window = TimeWindow {
            start_s: 4.0,
            end_s: 6.0,
            width_px: 100,
        };
        trace.compute(ch, window, Some(&filter));
        assert!(!trace.filter_skipped);
        assert!(
            trace
                .values
                .iter()
                .all(|[a, b]| a.abs() < 2.0 && b.abs() < 2.0)
        );
    }

    #[test]
    fn samples_read_on_demand_draw_like_samples_in_memory() {
        use crate::dsp::PyramidBuilder;
        use crate::recording::{
            Channel, EdfWriteOptions, Format, Recording, SampleStore, open_for_viewing, write_edf,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.edf");
        let rate_hz = 256.0;
        let samples: Vec<f32> = (0..256 * 600)
            .map(|i| ((i % 97) as f32 - 48.0).round())
            .collect();
        let rec = Recording {
            path: path.clone(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: vec![Channel {
                label: "Cz".into(),
                unit: "uV".into(),
                rate_hz,
                physical_min: -100.0,
                physical_max: 100.0,
                transducer: String::new(),
                prefilter: String::new(),
                samples,
            }],
            annotations: Vec::new(),
            segments: Vec::new(),
            warnings: Vec::new(),
        };
        write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
        let (whole, memory) = open_for_viewing(&path, u64::MAX).unwrap();
        let (header, paged) = open_for_viewing(&path, 0).unwrap();
        assert!(paged.is_paged() && !memory.is_paged());
        let all = memory.in_memory(0).unwrap();
        let in_memory = MinMaxPyramid::build(all);
        let not_built = MinMaxPyramid::default();
        let draw = |samples: Samples<'_>, pyramid: &MinMaxPyramid, window: TimeWindow| {
            let mut trace = Trace::default();
            trace.compute(
                ChannelData {
                    samples,
                    pyramid,
                    rate_hz,
                    segments: &header.segments,
                },
                window,
                None,
            );
            trace
        };
        let store = Samples::Store {
            store: &paged,
            channel: 0,
        };
        // Zoomed in (samples) and a few seconds (envelope from samples): a
        // frame reads nothing from the file; it names what it misses, and
        // once a worker has warmed that, draws the same as in memory,
        // before any overview exists.
        for (start_s, end_s) in [(100.0, 101.0), (300.0, 310.0)] {
            let window = TimeWindow {
                start_s,
                end_s,
                width_px: 800,
            };
            let a = draw(Samples::Slice(all), &in_memory, window);
            let counted = crate::io_guard::UiThread::enter_counting();
            let before = crate::io_guard::accesses();
            let blank = draw(store, &not_built, window);
            assert_eq!(
                crate::io_guard::accesses(),
                before,
                "no file read in a frame"
            );
            drop(counted);
            let missing = blank.missing.clone().expect("names what it misses");
            assert!(blank.pieces.is_empty() && !blank.waiting);
            assert!(missing.start <= (start_s * rate_hz) as usize);
            assert!(missing.end >= (end_s * rate_hz) as usize);
            paged.warm(0, missing).unwrap();
            let b = draw(store, &not_built, window);
            assert!(!b.waiting && b.missing.is_none());
            assert_eq!(a.values, b.values, "{start_s}..{end_s}");
        }
        // The whole recording waits for the overview, then is drawn from its
        // blocks, never narrower than the true envelope.
        let window = TimeWindow {
            start_s: 0.0,
            end_s: whole.duration_s(),
            width_px: 800,
        };
        let waiting = draw(store, &not_built, window);
        assert!(waiting.waiting && waiting.pieces.is_empty());
        let mut builder = PyramidBuilder::new(PyramidBuilder::base_block_for(all.len(), 4096));
        builder.push(all);
        let overview = builder.finish();
        let coarse = draw(store, &overview, window);
        let exact = draw(Samples::Slice(all), &in_memory, window);
        assert!(!coarse.waiting);
        assert_eq!(coarse.values.len(), exact.values.len());
        for (c, e) in coarse.values.iter().zip(&exact.values) {
            assert!(c[0] <= e[0] && c[1] >= e[1]);
        }
        // A file cut short while open: an error, not a panic.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(2048)
            .unwrap();
        let SampleStore::Paged(_) = &paged else {
            unreachable!()
        };
        let window = TimeWindow {
            start_s: 500.0,
            end_s: 501.0,
            width_px: 800,
        };
        let broken = draw(store, &not_built, window);
        let missing = broken.missing.expect("not in the cache");
        let error = paged.warm(0, missing).unwrap_err().to_string();
        assert!(error.contains("became shorter"), "{error}");
    }
}
