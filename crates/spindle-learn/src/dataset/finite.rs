//! Finding NaN and infinite samples in the chosen channels before anything
//! else is done with them.
//!
//! A recording with them is refused, not trained around: a zero-phase filter
//! or a resampler spreads one NaN over the rest of its channel, the
//! normalization statistics become NaN, and leaving out the windows that
//! touch the bad stretch would silently change the class balance the user
//! labeled. Most often the samples come from a broken export or a
//! disconnected electrode, which the user wants to know about and fix; the
//! message says where the first one is and how many follow.

use std::path::Path;

use spindle_signals::recording::Segment;

use super::{DatasetError, LoadedSource};

/// The first non-finite sample of one recording's chosen channels.
#[derive(Debug, Clone, PartialEq)]
struct FirstBad {
    channel: String,
    value: f32,
    onset_s: f64,
    /// Non-finite samples after the first, over all chosen channels.
    more: usize,
}

/// Fails with [`DatasetError::NonFinite`] naming the first recording (in the
/// order given) whose `channels` hold a NaN or infinite sample: the channel,
/// the time of its earliest bad sample, how many more there are, and how many
/// other recordings have them too.
pub(crate) fn check_finite(
    sources: &[LoadedSource],
    channels: &[String],
) -> Result<(), DatasetError> {
    let mut found = sources
        .iter()
        .filter_map(|s| first_bad(s, channels).map(|bad| (s.path(), bad)));
    let Some((path, bad)) = found.next() else {
        return Ok(());
    };
    Err(non_finite(path, bad, found.count()))
}

fn non_finite(path: &Path, bad: FirstBad, other_files: usize) -> DatasetError {
    let value = if bad.value.is_nan() {
        "NaN"
    } else if bad.value > 0.0 {
        "inf"
    } else {
        "-inf"
    };
    DatasetError::NonFinite {
        path: path.to_path_buf(),
        channel: bad.channel,
        value: value.to_owned(),
        onset_s: bad.onset_s,
        more: bad.more,
        other_files,
    }
}

/// The earliest non-finite sample of `channels` in `source` (the first
/// channel in `channels` order on a tie), if any.
fn first_bad(source: &LoadedSource, channels: &[String]) -> Option<FirstBad> {
    let mut first: Option<FirstBad> = None;
    let mut total = 0usize;
    for label in channels {
        let Some(ch) = source.recording.channels.iter().find(|c| &c.label == label) else {
            continue;
        };
        let mut bad = ch
            .samples
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_finite());
        let Some((i, &value)) = bad.next() else {
            continue;
        };
        total += 1 + bad.count();
        let onset_s = recording_time_s(i, ch.rate_hz, &source.recording.segments);
        if first.as_ref().is_none_or(|f| onset_s < f.onset_s) {
            first = Some(FirstBad {
                channel: label.clone(),
                value,
                onset_s,
                more: 0,
            });
        }
    }
    first.map(|f| FirstBad {
        more: total - 1,
        ..f
    })
}

/// Seconds from the recording's start of sample `i` of a channel at
/// `rate_hz`, across the gaps between `segments` (EDF+D), whose samples are
/// concatenated.
fn recording_time_s(i: usize, rate_hz: f64, segments: &[Segment]) -> f64 {
    if rate_hz <= 0.0 {
        return 0.0;
    }
    let data_s = i as f64 / rate_hz;
    let mut before_s = 0.0;
    for s in segments {
        if data_s < before_s + s.duration_s {
            return s.onset_s + (data_s - before_s);
        }
        before_s += s.duration_s;
    }
    // No segments (or past their end): the samples are contiguous.
    let last_end_s = segments.last().map_or(0.0, |s| s.onset_s + s.duration_s);
    last_end_s + (data_s - before_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_signals::recording::{Channel, Format, LabelSet, Recording};

    fn source(path: &str, channels: Vec<(&str, Vec<f32>)>) -> LoadedSource {
        let recording = Recording {
            path: path.into(),
            format: Format::Wav,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: channels
                .into_iter()
                .map(|(label, samples)| Channel {
                    label: label.into(),
                    unit: String::new(),
                    rate_hz: 10.0,
                    physical_min: -1.0,
                    physical_max: 1.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples,
                })
                .collect(),
            annotations: vec![],
            segments: vec![],
            warnings: vec![],
        };
        LoadedSource {
            recording,
            labels: LabelSet::default(),
            whole_file: false,
            file: None,
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn finite_recordings_pass() {
        let s = source("/d/a.wav", vec![("Cz", vec![0.0, 1.0, -1e30])]);
        assert!(check_finite(&[s], &names(&["Cz"])).is_ok());
    }

    #[test]
    fn the_earliest_bad_sample_is_named_with_the_count_of_the_others() {
        let mut cz = vec![0.0; 200];
        cz[125] = f32::NAN;
        cz[150] = f32::INFINITY;
        let mut pz = vec![0.0; 200];
        pz[130] = f32::NEG_INFINITY;
        pz[131] = f32::NAN;
        let mut eog = vec![0.0; 200];
        eog[3] = f32::NAN; // not chosen: does not count
        let a = source("/d/a.wav", vec![("Pz", pz), ("Cz", cz), ("EOG", eog)]);
        let e = check_finite(&[a], &names(&["Pz", "Cz"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/d/a.wav: channel Cz has NaN at 12.5 s (and 3 more non-finite samples); training needs a number at every sample, so repair or re-export the recording, or train without that channel (name the others in --channels, or in the Train view's channels field)"
        );
    }

    #[test]
    fn other_recordings_with_bad_samples_are_counted() {
        let ok = source("/d/ok.wav", vec![("ch1", vec![0.0; 20])]);
        let mut x = vec![0.0; 20];
        x[10] = f32::NEG_INFINITY;
        let first = source("/d/first.wav", vec![("ch1", x.clone())]);
        let second = source("/d/second.wav", vec![("ch1", x)]);
        let e = check_finite(&[ok, first, second], &names(&["ch1"])).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "/d/first.wav: channel ch1 has -inf at 1 s; 1 other recording has them too; training needs"
            ),
            "{text}"
        );
    }

    #[test]
    fn times_follow_the_segments_of_a_file_with_gaps() {
        let segments = [
            Segment {
                onset_s: 0.0,
                duration_s: 2.0,
            },
            Segment {
                onset_s: 10.0,
                duration_s: 3.0,
            },
        ];
        assert_eq!(recording_time_s(15, 10.0, &segments), 1.5);
        assert_eq!(recording_time_s(25, 10.0, &segments), 10.5);
        assert_eq!(recording_time_s(125, 10.0, &[]), 12.5);
    }
}
