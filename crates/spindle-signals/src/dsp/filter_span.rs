//! Display filtering off the frame: a part of one channel filtered as the
//! viewer shows it, computed on a worker and then drawn from memory as
//! [`Samples::Span`](super::Samples::Span), so that a frame never filters.

use std::ops::Range;

use super::DisplayFilter;
use crate::recording::{RecordingError, SampleStore, Segment};

/// Samples `range` of each of `channels` (all sampled at `rate_hz`; the
/// range clamped to each) filtered with `filter`, each run of contiguous
/// data (`segments`, as in [`ChannelData`](super::ChannelData)) filtered on
/// its own so that no filter runs across a gap. Channels are filtered
/// several at a time (the same results as one by one). Reads the store,
/// which may read the file: call it on a worker.
pub fn filter_span(
    store: &SampleStore,
    channels: &[usize],
    rate_hz: f64,
    segments: &[Segment],
    range: Range<usize>,
    filter: &DisplayFilter,
) -> Result<Vec<Vec<f32>>, RecordingError> {
    let mut outs = Vec::with_capacity(channels.len());
    for &c in channels {
        let mut out = Vec::new();
        store.read(c, range.clone(), &mut out)?;
        outs.push(out);
    }
    let mut runs = Vec::new();
    if segments.is_empty() {
        runs.push(0..usize::MAX);
    }
    let mut data_s = 0.0;
    for seg in segments {
        let a = (data_s * rate_hz).round() as usize;
        data_s += seg.duration_s;
        let b = (data_s * rate_hz).round() as usize;
        runs.push(a..b);
    }
    let first = range.start;
    for run in runs {
        let mut parts: Vec<&mut [f32]> = outs
            .iter_mut()
            .filter_map(|out| {
                let a = run.start.max(first);
                let b = run.end.min(first + out.len());
                (a < b).then(|| &mut out[a - first..b - first])
            })
            .collect();
        filter.apply_zero_phase_many(&mut parts, rate_hz);
    }
    Ok(outs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::{ChannelData, MinMaxPyramid, Samples, TimeWindow, Trace};
    use crate::recording::{Channel, Recording};
    use std::sync::Arc;

    #[test]
    fn a_span_filtered_off_the_frame_draws_as_the_frame_would_filter_it() {
        let rate_hz = 256.0;
        let samples: Vec<f32> = (0..256 * 60)
            .map(|i| {
                let t = i as f32 / 256.0;
                100.0 + 20.0 * (t * 50.0 * std::f32::consts::TAU).sin() + (t * 3.0).sin()
            })
            .collect();
        let rec = Arc::new(Recording::from_channels(vec![Channel::new(
            "Cz",
            rate_hz,
            samples.clone(),
        )]));
        let store = SampleStore::Memory(rec);
        let filter = DisplayFilter {
            highpass_hz: Some(0.5),
            lowpass_hz: Some(35.0),
            notch_hz: Some(50.0),
        };
        let pyramid = MinMaxPyramid::build(&samples);
        let window = TimeWindow {
            start_s: 20.0,
            end_s: 30.0,
            width_px: 500,
        };
        // Filtered in the frame, as before.
        let mut framed = Trace::default();
        let ch = |samples| ChannelData {
            samples,
            pyramid: &pyramid,
            rate_hz,
            segments: &[],
        };
        framed.compute(ch(Samples::Slice(&samples)), window, Some(&filter));
        // Filtered off the frame with a margin around the view.
        let margin = filter.margin_samples(rate_hz);
        let range = (20 * 256 - margin)..(30 * 256 + margin);
        let spans = filter_span(&store, &[0], rate_hz, &[], range.clone(), &filter).unwrap();
        let span = &spans[0];
        let mut drawn = Trace::default();
        let from_span = Samples::Span {
            span,
            first: range.start,
            len: samples.len(),
        };
        drawn.compute(ch(from_span), window, None);
        assert_eq!(framed.values.len(), drawn.values.len());
        for (a, b) in framed.values.iter().zip(&drawn.values) {
            assert!((a[0] - b[0]).abs() < 1e-3 && (a[1] - b[1]).abs() < 1e-3);
        }
        // The mains hum and the offset are gone.
        assert!(
            drawn
                .values
                .iter()
                .all(|[lo, hi]| lo.abs() < 3.0 && hi.abs() < 3.0)
        );
    }

    #[test]
    fn channels_filtered_together_match_each_run_filtered_alone() {
        let rate_hz = 128.0;
        // 20 s of data in two runs, 8 s then (after a gap) 12 s.
        let n = 128 * 20;
        let channels = (0..3)
            .map(|c| {
                let values = (0..n).map(|i| ((i * (7 + c)) % 31) as f32 - 15.0).collect();
                Channel::new(format!("C{c}"), rate_hz, values)
            })
            .collect();
        let store = SampleStore::Memory(Arc::new(Recording::from_channels(channels)));
        let segments = [
            Segment {
                onset_s: 0.0,
                duration_s: 8.0,
            },
            Segment {
                onset_s: 30.0,
                duration_s: 12.0,
            },
        ];
        let filter = DisplayFilter {
            highpass_hz: Some(0.5),
            lowpass_hz: Some(35.0),
            notch_hz: Some(50.0),
        };
        // Across the gap, which lies at sample 1024.
        let range = 500..2400;
        let together = filter_span(
            &store,
            &[0, 1, 2],
            rate_hz,
            &segments,
            range.clone(),
            &filter,
        )
        .unwrap();
        for (c, filtered) in together.iter().enumerate() {
            let mut raw = Vec::new();
            store.read(c, range.clone(), &mut raw).unwrap();
            let (before, after) = raw.split_at_mut(1024 - range.start);
            filter.apply_zero_phase(before, rate_hz);
            filter.apply_zero_phase(after, rate_hz);
            assert_eq!(*filtered, raw, "channel {c}");
        }
    }
}
