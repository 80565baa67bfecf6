//! Writing a [`Recording`] as a BrainVision triple: header (`.vhdr`), marker
//! file (`.vmrk`) and 32-bit float data (`.eeg`).

use std::path::Path;

use super::data::out_of_memory;
use super::ini::escape_field;
use super::markers::marker_text;
use crate::recording::{Channel, Recording, RecordingError, write_atomic};

/// Writes `rec` as a BrainVision triple: `vhdr_path`, and beside it a data
/// file and a marker file with the header's name and the extensions `.eeg`
/// and `.vmrk`, replacing existing files.
///
/// Each file is written atomically with [`write_atomic`] (temporary file,
/// fsync, rename): the data file first, then the marker file, the header
/// last, so that a reader never finds a header naming a half-written data
/// file. The data file is built in memory before it is written.
///
/// The three files are not replaced as one: when the process dies or the
/// power fails between two of them, each file on disk is whole, either its
/// old or its new version, but the triple may mix them. A first write cut
/// short leaves a data (and marker) file without a header, which no reader
/// opens. A rewrite cut short leaves the old header (and markers) beside the
/// new samples: the reader then checks the data file's length against the
/// old header's channels and rejects or warns about a mismatch, but a new
/// recording with the same layout reads as the new samples under the old
/// header's names and markers. Writing again completes the triple.
///
/// Samples are written as `IEEE_FLOAT_32`, multiplexed, resolution 1, in each
/// channel's unit (an empty unit reads back as `µV`, the format's default).
/// Every channel must have the same rate (Hz) and number of samples. The
/// annotations become `Comment` markers (position = round(onset x rate) + 1,
/// size = round(duration x rate), at least 1); the start time, when known,
/// becomes a dated `New Segment` marker.
pub fn write_brainvision(vhdr_path: &Path, rec: &Recording) -> Result<(), RecordingError> {
    crate::io_guard::note(vhdr_path);
    let Some(first) = rec.channels.first() else {
        return Err(RecordingError::invalid(
            vhdr_path,
            "no channels to write: a BrainVision file needs at least one",
        ));
    };
    let rate_hz = first.rate_hz;
    if !(rate_hz.is_finite() && rate_hz > 0.0) {
        return Err(RecordingError::invalid(
            vhdr_path,
            format!("channel {} has sample rate {rate_hz} Hz", first.label),
        ));
    }
    let n_samples = first.samples.len();
    for ch in &rec.channels {
        if (ch.rate_hz - rate_hz).abs() > rate_hz * 1e-9 {
            return Err(RecordingError::unsupported(
                vhdr_path,
                format!(
                    "BrainVision has one sample rate for all channels, but {} is at {} Hz and {} at {} Hz",
                    first.label, rate_hz, ch.label, ch.rate_hz
                ),
            ));
        }
        if ch.samples.len() != n_samples {
            return Err(RecordingError::unsupported(
                vhdr_path,
                format!(
                    "BrainVision needs equally long channels, but {} has {} samples and {} has {}",
                    first.label,
                    n_samples,
                    ch.label,
                    ch.samples.len()
                ),
            ));
        }
    }
    let Some(stem) = vhdr_path.file_stem() else {
        return Err(RecordingError::invalid(vhdr_path, "not a file path"));
    };
    let stem = stem.to_string_lossy();
    let data_name = format!("{stem}.eeg");
    let marker_name = format!("{stem}.vmrk");
    let data_path = vhdr_path.with_file_name(&data_name);
    let marker_path = vhdr_path.with_file_name(&marker_name);

    let data = encode_samples(&data_path, &rec.channels, n_samples)?;
    write_atomic(&data_path, &data)?;
    drop(data);

    let vmrk = marker_text(rec, rate_hz, &data_name);
    write_atomic(&marker_path, vmrk.as_bytes())?;

    let vhdr = header_text(rec, rate_hz, &data_name, &marker_name);
    write_atomic(vhdr_path, vhdr.as_bytes())
}

/// The text of the header file for `rec`, naming the data and marker files.
fn header_text(rec: &Recording, rate_hz: f64, data_name: &str, marker_name: &str) -> String {
    let mut vhdr = String::new();
    vhdr.push_str("Brain Vision Data Exchange Header File Version 1.0\r\n");
    vhdr.push_str("; Data written by Spindle\r\n\r\n[Common Infos]\r\nCodepage=UTF-8\r\n");
    vhdr.push_str(&format!(
        "DataFile={data_name}\r\nMarkerFile={marker_name}\r\nDataFormat=BINARY\r\n"
    ));
    vhdr.push_str("; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...\r\n");
    vhdr.push_str("DataOrientation=MULTIPLEXED\r\n");
    vhdr.push_str(&format!("NumberOfChannels={}\r\n", rec.channels.len()));
    vhdr.push_str("; Sampling interval in microseconds\r\n");
    vhdr.push_str(&format!("SamplingInterval={}\r\n", 1e6 / rate_hz));
    vhdr.push_str("\r\n[Binary Infos]\r\nBinaryFormat=IEEE_FLOAT_32\r\n\r\n[Channel Infos]\r\n");
    vhdr.push_str("; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,\r\n");
    vhdr.push_str("; <Resolution in \"Unit\">,<Unit>, Future extensions..\r\n");
    vhdr.push_str("; Fields are delimited by commas, some fields might be omitted (empty).\r\n");
    vhdr.push_str("; Commas in channel names are coded as \"\\1\".\r\n");
    for (i, ch) in rec.channels.iter().enumerate() {
        vhdr.push_str(&format!(
            "Ch{}={},,1,{}\r\n",
            i + 1,
            escape_field(&ch.label),
            escape_field(&ch.unit)
        ));
    }
    vhdr
}

/// The channels multiplexed as little-endian `f32`; every channel holds
/// `n_samples` samples (checked by the caller).
fn encode_samples(
    path: &Path,
    channels: &[Channel],
    n_samples: usize,
) -> Result<Vec<u8>, RecordingError> {
    let too_big = || out_of_memory(path, channels.len(), n_samples);
    let len = channels
        .len()
        .checked_mul(n_samples)
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(too_big)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| too_big())?;
    let mut iters: Vec<_> = channels.iter().map(|c| c.samples.iter()).collect();
    for _ in 0..n_samples {
        for it in &mut iters {
            if let Some(v) = it.next() {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::write_brainvision;
    use crate::recording::{
        Annotation, Channel, Format, Recording, RecordingError, StartTime, read_brainvision,
    };

    #[test]
    fn round_trip_through_writer() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recording {
            path: PathBuf::new(),
            format: Format::Edf,
            patient: String::new(),
            recording_id: String::new(),
            start: Some(StartTime {
                year: 2021,
                month: 12,
                day: 31,
                hour: 23,
                minute: 59,
                second: 58.25,
            }),
            channels: vec![
                Channel {
                    label: "EEG Fp1, left".into(),
                    unit: "µV".into(),
                    rate_hz: 256.0,
                    physical_min: -100.0,
                    physical_max: 100.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples: vec![0.5, -1.25, 3.0e-5, 99.0, -0.0],
                },
                Channel {
                    label: "Resp".into(),
                    unit: "mV".into(),
                    rate_hz: 256.0,
                    physical_min: -1.0,
                    physical_max: 1.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                },
            ],
            annotations: vec![
                Annotation {
                    onset_s: 0.0,
                    duration_s: None,
                    text: "start".into(),
                },
                Annotation {
                    onset_s: 2.0 / 256.0,
                    duration_s: Some(2.0 / 256.0),
                    text: "blink, twice\nnewline".into(),
                },
            ],
            segments: vec![],
            warnings: vec![],
        };
        let path = dir.path().join("sub-01.task.vhdr");
        write_brainvision(&path, &rec).unwrap();
        assert!(dir.path().join("sub-01.task.eeg").is_file());
        assert!(dir.path().join("sub-01.task.vmrk").is_file());
        let back = read_brainvision(&path).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.start, rec.start);
        assert_eq!(back.channels.len(), 2);
        for (a, b) in back.channels.iter().zip(&rec.channels) {
            assert_eq!(a.label, b.label);
            assert_eq!(a.unit, b.unit);
            assert_eq!(a.rate_hz, b.rate_hz);
            assert_eq!(a.samples, b.samples);
        }
        assert_eq!(back.annotations.len(), 2);
        assert_eq!(back.annotations[0], rec.annotations[0]);
        assert_eq!(back.annotations[1].onset_s, rec.annotations[1].onset_s);
        assert_eq!(
            back.annotations[1].duration_s,
            rec.annotations[1].duration_s
        );
        assert_eq!(back.annotations[1].text, "blink, twice newline");
        assert_eq!(back.duration_s(), 5.0 / 256.0);

        // Different rates or lengths cannot be written.
        let mut bad = rec.clone();
        bad.channels[1].rate_hz = 128.0;
        assert!(matches!(
            write_brainvision(&path, &bad),
            Err(RecordingError::Unsupported { .. })
        ));
        let mut bad = rec.clone();
        bad.channels[1].samples.pop();
        assert!(write_brainvision(&path, &bad).is_err());
        bad.channels.clear();
        assert!(write_brainvision(&path, &bad).is_err());
    }

    /// A recording of `channels` (label, samples) at `rate_hz`.
    fn recording(
        channels: &[(&str, Vec<f32>)],
        rate_hz: f64,
        start: Option<StartTime>,
        annotations: Vec<Annotation>,
    ) -> Recording {
        Recording {
            path: PathBuf::new(),
            format: Format::BrainVision,
            patient: String::new(),
            recording_id: String::new(),
            start,
            channels: channels
                .iter()
                .map(|(label, samples)| Channel {
                    label: (*label).into(),
                    unit: "µV".into(),
                    rate_hz,
                    physical_min: -1.0,
                    physical_max: 1.0,
                    transducer: String::new(),
                    prefilter: String::new(),
                    samples: samples.clone(),
                })
                .collect(),
            annotations,
            segments: vec![],
            warnings: vec![],
        }
    }

    /// The names in `dir`, sorted.
    fn entries(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The bytes of the triple `x.*` in `dir`.
    fn triple_bytes(dir: &std::path::Path) -> Vec<Vec<u8>> {
        ["x.vhdr", "x.vmrk", "x.eeg"]
            .iter()
            .map(|name| fs::read(dir.join(name)).unwrap())
            .collect()
    }

    #[test]
    fn rewriting_replaces_the_whole_recording_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.vhdr");
        let long: Vec<f32> = (0..1000u16).map(f32::from).collect();
        let big = recording(
            &[("A", long.clone()), ("B", long.clone()), ("C", long)],
            500.0,
            Some(StartTime {
                year: 2020,
                month: 1,
                day: 2,
                hour: 3,
                minute: 4,
                second: 5.0,
            }),
            (0..20)
                .map(|i| Annotation {
                    onset_s: f64::from(i) / 10.0,
                    duration_s: Some(0.5),
                    text: format!("event {i}"),
                })
                .collect(),
        );
        write_brainvision(&path, &big).unwrap();
        assert_eq!(read_brainvision(&path).unwrap().channels.len(), 3);

        let small = recording(
            &[("Z", vec![0.25, -0.5, 1.0])],
            100.0,
            None,
            vec![Annotation {
                onset_s: 0.01,
                duration_s: None,
                text: "only".into(),
            }],
        );
        write_brainvision(&path, &small).unwrap();
        assert_eq!(entries(dir.path()), ["x.eeg", "x.vhdr", "x.vmrk"]);
        assert_eq!(fs::metadata(dir.path().join("x.eeg")).unwrap().len(), 3 * 4);
        let back = read_brainvision(&path).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.start, None);
        assert_eq!(back.channels.len(), 1);
        assert_eq!(back.channels[0].label, "Z");
        assert_eq!(back.channels[0].rate_hz, 100.0);
        assert_eq!(back.channels[0].samples, vec![0.25, -0.5, 1.0]);
        assert_eq!(back.annotations, small.annotations);

        // A rejected recording leaves the files as they were.
        let before = triple_bytes(dir.path());
        let mut bad = big.clone();
        bad.channels[1].rate_hz = 250.0;
        assert!(write_brainvision(&path, &bad).is_err());
        assert_eq!(triple_bytes(dir.path()), before);
        assert_eq!(entries(dir.path()), ["x.eeg", "x.vhdr", "x.vmrk"]);
    }

    #[test]
    fn a_rewrite_cut_short_after_the_data_file_is_noticed_by_the_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.vhdr");
        let three = vec![1.0f32; 100];
        let old = recording(
            &[("A", three.clone()), ("B", three.clone()), ("C", three)],
            100.0,
            None,
            vec![],
        );
        write_brainvision(&path, &old).unwrap();
        // A one-channel rewrite that died after its data file: the old header
        // (3 channels) is left beside 5 new samples (20 bytes).
        let new = recording(&[("Z", vec![0.5; 5])], 100.0, None, vec![]);
        let data = super::encode_samples(&path, &new.channels, 5).unwrap();
        crate::recording::write_atomic(&dir.path().join("x.eeg"), &data).unwrap();
        let back = read_brainvision(&path).unwrap();
        assert_eq!(back.channels.len(), 3, "the old header is what is read");
        assert!(
            back.warnings
                .iter()
                .any(|w| w.contains("not a whole number")),
            "{:?}",
            back.warnings
        );
        // Writing again completes the triple.
        write_brainvision(&path, &new).unwrap();
        let back = read_brainvision(&path).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.channels[0].samples, vec![0.5; 5]);
    }

    #[cfg(unix)]
    #[test]
    fn the_header_is_written_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.vhdr");
        // A folder in the header's place: the header cannot be replaced, but
        // the data and marker files were already written.
        fs::create_dir(&path).unwrap();
        let rec = recording(&[("A", vec![1.0, 2.0])], 10.0, None, vec![]);
        let err = write_brainvision(&path, &rec).unwrap_err();
        assert!(matches!(err, RecordingError::Io { .. }), "{err}");
        assert_eq!(err.path(), path);
        assert_eq!(entries(dir.path()), ["x.eeg", "x.vhdr", "x.vmrk"]);
        assert!(path.is_dir());
        let data = fs::read(dir.path().join("x.eeg")).unwrap();
        assert_eq!(data, [1f32.to_le_bytes(), 2f32.to_le_bytes()].concat());
    }
}
