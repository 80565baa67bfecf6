//! Cutting labeled segments into fixed-length windows.

use spindle_signals::recording::{LabelSet, Recording};

/// One window: where it lies in a source and what it is labeled.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRef {
    /// Index of the source recording.
    pub source: usize,
    /// First sample, at the dataset's common rate, in the concatenated samples.
    pub start: usize,
    /// Onset in seconds from the recording's start.
    pub onset_s: f64,
    /// The label text (after merging).
    pub class: String,
}

/// Median duration of the labels in seconds (`None` without labels of
/// positive duration).
pub fn median_duration_s<'a>(labels: impl IntoIterator<Item = &'a LabelSet>) -> Option<f64> {
    let mut durations: Vec<f64> = labels
        .into_iter()
        .flat_map(|l| l.labels.iter().map(|l| l.duration_s))
        .filter(|&d| d > 0.0)
        .collect();
    if durations.is_empty() {
        return None;
    }
    durations.sort_by(f64::total_cmp);
    let mid = durations.len() / 2;
    Some(if durations.len() % 2 == 1 {
        durations[mid]
    } else {
        (durations[mid - 1] + durations[mid]) / 2.0
    })
}

/// Sample index of time `t_s` at `rate_hz` and the end (exclusive, in samples)
/// of the contiguous run holding it, or `None` in a gap or past the end.
fn locate(rec: &Recording, rate_hz: f64, n_samples: usize, t_s: f64) -> Option<(usize, usize)> {
    let mut covered = 0.0;
    for seg in &rec.segments {
        if t_s >= seg.onset_s - 1e-9 && t_s < seg.onset_s + seg.duration_s {
            let index = ((covered + t_s - seg.onset_s) * rate_hz).round() as usize;
            let end = (((covered + seg.duration_s) * rate_hz).round() as usize).min(n_samples);
            return (index < end).then_some((index, end));
        }
        covered += seg.duration_s;
    }
    if rec.segments.is_empty() {
        let index = (t_s * rate_hz).round() as usize;
        return (index < n_samples).then_some((index, n_samples));
    }
    None
}

/// Windows of `len` samples every `stride` samples inside each label of
/// `labels` (classes `keep` accepts), plus windows in unlabeled time when
/// `unlabeled` names a class. Returns the windows and how many labels were
/// too short for one window.
#[allow(clippy::too_many_arguments)]
pub fn cut_windows(
    source: usize,
    rec: &Recording,
    labels: &LabelSet,
    rate_hz: f64,
    n_samples: usize,
    len: usize,
    stride: usize,
    unlabeled: Option<&str>,
) -> (Vec<WindowRef>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    let tolerance = 0.5 / rate_hz;
    for label in &labels.labels {
        let count = windows_in(label.duration_s + tolerance, len, stride, rate_hz);
        if count == 0 {
            skipped += 1;
            continue;
        }
        let before = out.len();
        push_windows(
            &mut out,
            source,
            rec,
            rate_hz,
            n_samples,
            label.onset_s,
            count,
            len,
            stride,
            &label.trial_type,
        );
        if out.len() == before {
            skipped += 1;
        }
    }
    if let Some(class) = unlabeled {
        let mut spans: Vec<(f64, f64)> = labels
            .labels
            .iter()
            .map(|l| (l.onset_s, l.onset_s + l.duration_s))
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut free_from = 0.0f64;
        let end_s = rec.duration_s();
        for (a, b) in spans.into_iter().chain([(end_s, end_s)]) {
            if a > free_from {
                let count = windows_in(a - free_from + tolerance, len, stride, rate_hz);
                push_windows(
                    &mut out, source, rec, rate_hz, n_samples, free_from, count, len, stride, class,
                );
            }
            free_from = free_from.max(b);
        }
    }
    (out, skipped)
}

/// Number of whole windows in a span of `span_s` seconds.
fn windows_in(span_s: f64, len: usize, stride: usize, rate_hz: f64) -> usize {
    let span = (span_s * rate_hz).floor() as usize;
    if span < len {
        0
    } else {
        (span - len) / stride.max(1) + 1
    }
}

#[allow(clippy::too_many_arguments)]
fn push_windows(
    out: &mut Vec<WindowRef>,
    source: usize,
    rec: &Recording,
    rate_hz: f64,
    n_samples: usize,
    onset_s: f64,
    count: usize,
    len: usize,
    stride: usize,
    class: &str,
) {
    for k in 0..count {
        let t = onset_s + (k * stride) as f64 / rate_hz;
        // A window must lie inside one contiguous run of data.
        let Some((start, run_end)) = locate(rec, rate_hz, n_samples, t) else {
            continue;
        };
        if start + len > run_end {
            continue;
        }
        out.push(WindowRef {
            source,
            start,
            onset_s: t,
            class: class.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_signals::recording::{Format, Label, Segment};

    fn recording(duration_s: f64, segments: Vec<Segment>) -> Recording {
        Recording {
            path: "x.edf".into(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: vec![],
            annotations: vec![],
            segments: if segments.is_empty() {
                vec![Segment {
                    onset_s: 0.0,
                    duration_s,
                }]
            } else {
                segments
            },
            warnings: vec![],
        }
    }

    #[test]
    fn median_of_durations() {
        let a = LabelSet::new(vec![Label::new(0.0, 2.0, "a"), Label::new(5.0, 4.0, "b")]);
        let b = LabelSet::new(vec![Label::new(0.0, 3.0, "a"), Label::new(1.0, 0.0, "m")]);
        assert_eq!(median_duration_s([&a, &b]), Some(3.0));
        assert_eq!(median_duration_s([&LabelSet::default()]), None);
    }

    #[test]
    fn one_window_per_trial_and_several_for_long_segments() {
        let rec = recording(60.0, vec![]);
        let labels = LabelSet::new(vec![
            Label::new(1.0, 2.0, "a"),
            Label::new(10.0, 7.0, "b"),
            Label::new(20.0, 1.0, "c"),
        ]);
        let (w, skipped) = cut_windows(0, &rec, &labels, 100.0, 6000, 200, 200, None);
        assert_eq!(skipped, 1);
        assert_eq!(w.iter().filter(|w| w.class == "a").count(), 1);
        assert_eq!(w.iter().filter(|w| w.class == "b").count(), 3);
        assert_eq!(w[0].start, 100);
        let (w, _) = cut_windows(0, &rec, &labels, 100.0, 6000, 200, 100, None);
        assert_eq!(w.iter().filter(|w| w.class == "b").count(), 6);
    }

    #[test]
    fn unlabeled_time_becomes_a_class() {
        let rec = recording(10.0, vec![]);
        let labels = LabelSet::new(vec![Label::new(2.0, 2.0, "a")]);
        let (w, _) = cut_windows(0, &rec, &labels, 10.0, 100, 20, 20, Some("rest"));
        let rest: Vec<usize> = w
            .iter()
            .filter(|w| w.class == "rest")
            .map(|w| w.start)
            .collect();
        assert_eq!(rest, vec![0, 40, 60, 80]);
    }

    #[test]
    fn windows_never_straddle_a_gap() {
        // Two runs: 0-5 s and 10-15 s; the samples are concatenated (1000 at 100 Hz).
        let rec = recording(
            15.0,
            vec![
                Segment {
                    onset_s: 0.0,
                    duration_s: 5.0,
                },
                Segment {
                    onset_s: 10.0,
                    duration_s: 5.0,
                },
            ],
        );
        let labels = LabelSet::new(vec![Label::new(3.0, 10.0, "a")]);
        let (w, _) = cut_windows(0, &rec, &labels, 100.0, 1000, 200, 200, None);
        // Windows tile the label from 3 s every 2 s: 3-5 s fits (samples 300..500);
        // those starting at 5, 7 and 9 s fall in or cross the gap; 11-13 s fits (600..800).
        let starts: Vec<usize> = w.iter().map(|w| w.start).collect();
        assert_eq!(starts, vec![300, 600]);
    }
}
