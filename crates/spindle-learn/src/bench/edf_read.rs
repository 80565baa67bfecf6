//! EDF read throughput on a generated 64-channel, 512 Hz, 1-hour file — the
//! same kind of file the PyTorch-side baselines (pyedflib, edfio, MNE) are
//! measured on.

use std::path::Path;
use std::time::Instant;

use spindle_signals::recording::{
    Channel, EdfWriteOptions, Format, Recording, RecordingError, Segment, read_edf, write_edf,
};
use spindle_signals::rng::Rng;

use super::memory::{peak_rss_mb, reset_peak_rss, rss_mb};

/// What one EDF read benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EdfReadResult {
    /// File size in MB (10^6 bytes).
    pub file_mb: f64,
    /// Best of the timed reads, MB of file per second.
    pub mb_per_s: f64,
    /// Peak resident memory during the reads, MB; `None` where the system
    /// cannot measure it (no `/proc`, or its peak mark cannot be reset).
    pub peak_rss_mb: Option<f64>,
    /// Memory the decoded samples need (f32), MB.
    pub decoded_mb: f64,
}

/// Writes the benchmark file: `channels` channels at `rate_hz` for
/// `duration_s` seconds of noisy sines, EDF+C with 1-s records.
pub fn write_bench_edf(
    path: &Path,
    channels: usize,
    rate_hz: f64,
    duration_s: f64,
) -> Result<(), RecordingError> {
    let n = (rate_hz * duration_s) as usize;
    let mut rng = Rng::new(1);
    let channels = (0..channels)
        .map(|c| Channel {
            label: format!("EEG{:03}", c + 1),
            unit: "uV".into(),
            rate_hz,
            physical_min: -3276.8,
            physical_max: 3276.7,
            transducer: String::new(),
            prefilter: String::new(),
            samples: (0..n)
                .map(|i| {
                    (50.0 * (i as f64 * 0.01 * (c + 1) as f64).sin() + 10.0 * rng.normal()) as f32
                })
                .collect(),
        })
        .collect();
    let rec = Recording {
        path: path.to_path_buf(),
        format: Format::EdfPlusC,
        patient: String::new(),
        recording_id: String::new(),
        start: None,
        channels,
        annotations: Vec::new(),
        segments: vec![Segment {
            onset_s: 0.0,
            duration_s,
        }],
        warnings: Vec::new(),
    };
    write_edf(path, &rec, &EdfWriteOptions::default())
}

/// Reads `path` `runs` times and reports the best throughput and the peak
/// memory of the reads (the peak mark is reset first where the OS allows).
pub fn bench_edf_read(path: &Path, runs: usize) -> Result<EdfReadResult, RecordingError> {
    let file_mb = std::fs::metadata(path)
        .map_err(|e| RecordingError::io(path, e))?
        .len() as f64
        / 1e6;
    // Warm the page cache, as the reference figures were taken warm.
    drop(read_edf(path)?);
    let baseline = rss_mb();
    let can_measure = reset_peak_rss();
    let mut best = f64::INFINITY;
    let mut decoded_mb = 0.0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let rec = read_edf(path)?;
        best = best.min(t.elapsed().as_secs_f64());
        decoded_mb = rec
            .channels
            .iter()
            .map(|c| c.samples.len() * 4)
            .sum::<usize>() as f64
            / 1e6;
        drop(rec);
    }
    let peak = match (can_measure, peak_rss_mb(), baseline) {
        (true, Some(peak), Some(base)) => Some(peak - base),
        _ => None,
    };
    Ok(EdfReadResult {
        file_mb,
        mb_per_s: file_mb / best,
        peak_rss_mb: peak,
        decoded_mb,
    })
}
