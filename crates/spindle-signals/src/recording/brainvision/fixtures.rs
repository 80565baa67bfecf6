//! Test helpers: BrainVision headers, marker files and data laid out in memory
//! and written to a folder.

use std::fs;
use std::path::{Path, PathBuf};

use crate::recording::{Recording, RecordingError};

/// A header for `channels` (`Ch<n>=` values) with the given layout.
pub fn vhdr(orientation: &str, format: &str, interval: &str, channels: &[&str]) -> String {
    let mut s = format!(
        "Brain Vision Data Exchange Header File Version 1.0\r\n\
         ; Data created by a test\r\n\r\n\
         [Common Infos]\r\nCodepage=UTF-8\r\nDataFile=rec.eeg\r\nMarkerFile=rec.vmrk\r\n\
         DataFormat=BINARY\r\n; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...\r\n\
         DataOrientation={orientation}\r\nNumberOfChannels={}\r\n\
         ; Sampling interval in microseconds\r\nSamplingInterval={interval}\r\n\r\n\
         [Binary Infos]\r\nBinaryFormat={format}\r\n\r\n[Channel Infos]\r\n\
         ; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,\r\n",
        channels.len()
    );
    for (i, c) in channels.iter().enumerate() {
        s.push_str(&format!("Ch{}={c}\r\n", i + 1));
    }
    s.push_str("\r\n[Coordinates]\r\nCh1=1,0,0\r\n\r\n[Comment]\r\n\r\nA m p l i f i e r  S e t u p\r\nCh1=not a channel\r\n");
    s
}

/// Writes `rec.vhdr`, `rec.eeg` and (when given) `rec.vmrk` into `dir`.
pub fn triple(dir: &Path, header: &[u8], markers: Option<&[u8]>, data: &[u8]) -> PathBuf {
    let path = dir.join("rec.vhdr");
    fs::write(&path, header).unwrap();
    fs::write(dir.join("rec.eeg"), data).unwrap();
    if let Some(m) = markers {
        fs::write(dir.join("rec.vmrk"), m).unwrap();
    }
    path
}

/// Lays out per-channel values multiplexed or vectorized.
pub fn pack<T: Copy, const N: usize>(
    channels: &[Vec<T>],
    vectorized: bool,
    to_bytes: impl Fn(T) -> [u8; N],
) -> Vec<u8> {
    let mut out = Vec::new();
    if vectorized {
        for ch in channels {
            for &v in ch {
                out.extend_from_slice(&to_bytes(v));
            }
        }
    } else {
        for i in 0..channels[0].len() {
            for ch in channels {
                out.extend_from_slice(&to_bytes(ch[i]));
            }
        }
    }
    out
}

/// `values x resolution` as `f32`, the way the reader computes samples.
pub fn scaled(values: &[f64], resolution: f64) -> Vec<f32> {
    values.iter().map(|&v| (v * resolution) as f32).collect()
}

/// A marker file for `rec.eeg`: two dated `New Segment` markers and three
/// others, out of number order, one with an escaped comma.
pub const MARKERS: &str = "Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n\
    [Common Infos]\r\nCodepage=UTF-8\r\nDataFile=rec.eeg\r\n\r\n[Marker Infos]\r\n\
    ; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>,\r\n\
    Mk1=New Segment,,1,1,0,20040124055607123456\r\n\
    Mk2=Stimulus,S  1,3,1,0\r\n\
    Mk4=Comment,blink\\1 left,2,3,1\r\n\
    Mk3=Response,,2,1,0\r\n\
    Mk5=New Segment,,4,1,0,20040124055608000000\r\n";

/// Asserts `result` is an `Invalid` error about `file` mentioning `words`.
pub fn assert_invalid(result: Result<Recording, RecordingError>, file: &str, words: &str) {
    match result {
        Err(e @ RecordingError::Invalid { .. }) => {
            let message = e.to_string();
            assert!(e.path().ends_with(file), "{message} should be about {file}");
            assert!(message.contains(words), "{message} should say {words}");
        }
        other => panic!("expected an Invalid error about {file}, got {other:?}"),
    }
}
