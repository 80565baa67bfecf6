//! A benchmark of the viewer's per-frame data path: per-column min/max of
//! every channel from the pyramids, the screen points, and the labels in view.

use std::time::Instant;

use super::{ChannelData, DisplayFilter, IntervalIndex, MinMaxPyramid, Samples, TimeWindow, Trace};

/// What [`bench_viewer_frame`] measures, one figure per scenario.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ViewerBench {
    /// Channels drawn.
    pub channels: usize,
    /// Recording length in seconds.
    pub duration_s: f64,
    /// Sample rate in Hz.
    pub rate_hz: f64,
    /// Labels in the recording.
    pub labels: usize,
    /// Pixel columns of the traces.
    pub width_px: usize,
    /// Seconds to build the pyramids of all channels (done once, off the UI thread).
    pub pyramid_build_s: f64,
    /// Per scenario: name, mean and worst frame time in milliseconds.
    pub scenarios: Vec<FrameTiming>,
}

/// Frame times of one viewer scenario.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FrameTiming {
    /// What the frames showed, e.g. `"10 s window, scrolling"`.
    pub name: String,
    /// Frames timed.
    pub frames: usize,
    /// Mean CPU time of a frame's data path, milliseconds.
    pub mean_ms: f64,
    /// Slowest frame, milliseconds.
    pub max_ms: f64,
}

/// Deterministic test signal: a few sines plus a pseudo-random walk, in µV.
fn synthetic_channel(ch: usize, n: usize, rate_hz: f64) -> Vec<f32> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (ch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let f = 8.0 + ch as f64 * 0.25;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            let t = i as f64 / rate_hz;
            (20.0 * (std::f64::consts::TAU * f * t).sin()) as f32 + 10.0 * noise
        })
        .collect()
}

/// Times the viewer's frame data path on a synthetic recording of `channels`
/// channels × `duration_s` seconds at `rate_hz` with `labels` labels, drawn
/// `width_px` columns wide, for `frames` frames per scenario: the whole
/// recording, an idle frame, a 10 s window scrolling, a 10 s window with
/// display filters, and a 5 min window scrolling. Every frame but the idle ones
/// recomputes all traces. Returns the figures (it also allocates the whole
/// recording: `channels * duration_s * rate_hz * 4` bytes).
pub fn bench_viewer_frame(
    channels: usize,
    duration_s: f64,
    rate_hz: f64,
    labels: usize,
    width_px: usize,
    frames: usize,
) -> ViewerBench {
    let n = (duration_s * rate_hz) as usize;
    let data: Vec<Vec<f32>> = (0..channels)
        .map(|c| synthetic_channel(c, n, rate_hz))
        .collect();
    let started = Instant::now();
    let pyramids: Vec<MinMaxPyramid> = data.iter().map(|d| MinMaxPyramid::build(d)).collect();
    let pyramid_build_s = started.elapsed().as_secs_f64();
    let spacing = duration_s / labels.max(1) as f64;
    let index = IntervalIndex::new((0..labels).map(|i| {
        let onset = i as f64 * spacing;
        (onset, onset + spacing * 0.5)
    }));

    let mut traces: Vec<Trace> = (0..channels).map(|_| Trace::default()).collect();
    let mut points: Vec<[f32; 2]> = Vec::new();
    let lane_px = 600.0 / channels.max(1) as f32;
    let mut frame =
        |window: TimeWindow, filter: Option<&DisplayFilter>, fresh: bool| -> (usize, usize) {
            let mut drawn = 0;
            for (c, trace) in traces.iter_mut().enumerate() {
                if fresh {
                    trace.invalidate();
                }
                let ch = ChannelData {
                    samples: Samples::Slice(&data[c]),
                    pyramid: &pyramids[c],
                    rate_hz,
                    segments: &[],
                };
                trace.compute(ch, window, filter);
                points.clear();
                let center = lane_px * (c as f32 + 0.5);
                for piece in &trace.pieces {
                    trace.piece_points(piece, 0.0, center, 0.1, 0.0, 600.0, &mut points);
                }
                drawn += points.len();
            }
            let mut in_view = 0;
            index.for_each_overlap(window.start_s, window.end_s, |_| in_view += 1);
            (drawn, in_view)
        };

    let filter = DisplayFilter {
        highpass_hz: Some(0.5),
        lowpass_hz: Some(35.0),
        notch_hz: Some(50.0),
    };
    let scenarios: [(&str, f64, bool); 5] = [
        ("whole recording", duration_s, false),
        (
            "10 s window, idle (nothing changed since the last frame)",
            10.0,
            false,
        ),
        ("10 s window, scrolling", 10.0, false),
        (
            "10 s window, scrolling, filters on (0.5-35 Hz + 50 Hz notch)",
            10.0,
            true,
        ),
        ("5 min window, scrolling", 300.0, false),
    ];
    let mut timings = Vec::new();
    let mut sink = 0usize;
    for (name, span, filtered) in scenarios {
        let span = span.min(duration_s);
        let mut total = 0.0;
        let mut worst: f64 = 0.0;
        for f in 0..frames {
            let idle = name.contains("idle");
            let start = if span >= duration_s || idle {
                0.0
            } else {
                (f as f64 * span * 0.37) % (duration_s - span)
            };
            let window = TimeWindow {
                start_s: start,
                end_s: start + span,
                width_px,
            };
            let t = Instant::now();
            let (a, b) = frame(window, filtered.then_some(&filter), !idle);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            sink = sink.wrapping_add(a + b);
            total += ms;
            worst = worst.max(ms);
        }
        timings.push(FrameTiming {
            name: name.to_owned(),
            frames,
            mean_ms: total / frames.max(1) as f64,
            max_ms: worst,
        });
    }
    std::hint::black_box(sink);
    ViewerBench {
        channels,
        duration_s,
        rate_hz,
        labels,
        width_px,
        pyramid_build_s,
        scenarios: timings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_runs() {
        let b = bench_viewer_frame(2, 20.0, 128.0, 50, 200, 3);
        assert_eq!(b.scenarios.len(), 5);
        assert!(b.scenarios.iter().all(|s| s.mean_ms >= 0.0));
    }

    /// The design target: 64 ch × 1 h × 512 Hz with 10,000 labels under 8 ms per
    /// frame. Run with `cargo test --release viewer_frame_benchmark -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn viewer_frame_benchmark() {
        let b = bench_viewer_frame(64, 3600.0, 512.0, 10_000, 1200, 60);
        println!("{}", serde_json::to_string_pretty(&b).unwrap_or_default());
    }
}
