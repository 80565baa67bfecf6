//! `spindle inspect`: header, channels, annotations and warnings of recordings,
//! as readable text or as JSON Lines.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use spindle_signals::recording::{
    ChannelKind, Recording, SampleStore, channel_kinds, open_for_viewing,
};

use super::Reported;

/// Arguments of `spindle inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Recordings to inspect (EDF, BDF, BrainVision .vhdr, WAV).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file per line.
    #[arg(long)]
    json: bool,
    /// Also show the first N samples of each channel in physical units.
    #[arg(long, value_name = "N")]
    head: Option<usize>,
}

/// Reports every file; files that fail are reported on stderr and make the
/// command exit with code 2 after the others are shown.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let mut failed = 0;
    let stdout = std::io::stdout();
    for file in &args.files {
        // EDF/BDF files are read on demand, so only the samples that
        // --head prints are decoded.
        let opened = open_for_viewing(file, 0).and_then(|(rec, samples)| {
            let heads = heads(&samples, rec.channels.len(), args.head)?;
            let kinds = channel_kinds(&rec)?;
            Ok((rec, samples, heads, kinds))
        });
        match opened {
            Ok((rec, samples, heads, kinds)) => {
                let mut out = stdout.lock();
                if args.json {
                    let line = serde_json::to_string(&JsonRecording::new(
                        &rec, &samples, file, heads, &kinds,
                    ))?;
                    writeln!(out, "{line}")?;
                } else {
                    let text = summary(&rec, &samples, file, heads.as_deref(), &kinds);
                    write!(out, "{text}")?;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                if args.json {
                    // A script reading the JSON lines sees every file.
                    let line = serde_json::json!({
                        "file": file.display().to_string(),
                        "error": e.to_string(),
                    });
                    writeln!(stdout.lock(), "{line}")?;
                }
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(Reported(failed).into());
    }
    Ok(())
}

/// The first `head` samples of each of `n` channels, when asked for.
fn heads(
    samples: &SampleStore,
    n: usize,
    head: Option<usize>,
) -> Result<Option<Vec<Vec<f32>>>, spindle_signals::recording::RecordingError> {
    let Some(head) = head else { return Ok(None) };
    let mut out = Vec::with_capacity(n);
    for c in 0..n {
        let mut values = Vec::new();
        samples.read(c, 0..head, &mut values)?;
        out.push(values);
    }
    Ok(Some(out))
}

/// The `--json` contract: one object per file.
#[derive(Serialize)]
struct JsonRecording {
    file: String,
    format: &'static str,
    start: Option<String>,
    duration_s: f64,
    channels: Vec<JsonChannel>,
    annotations: Vec<JsonAnnotation>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct JsonChannel {
    label: String,
    /// What the channel measures: `eeg`, `eog`, `emg`, `ecg` or `other`.
    kind: ChannelKind,
    unit: String,
    sample_rate: f64,
    n_samples: usize,
    physical_min: f64,
    physical_max: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<Vec<f32>>,
}

#[derive(Serialize)]
struct JsonAnnotation {
    onset: f64,
    duration: Option<f64>,
    text: String,
}

impl JsonRecording {
    fn new(
        rec: &Recording,
        samples: &SampleStore,
        file: &std::path::Path,
        heads: Option<Vec<Vec<f32>>>,
        kinds: &[ChannelKind],
    ) -> Self {
        let mut heads = heads.map(Vec::into_iter);
        Self {
            file: file.display().to_string(),
            format: rec.format.name(),
            start: rec.start.map(|s| s.iso8601()),
            duration_s: rec.duration_s(),
            channels: rec
                .channels
                .iter()
                .enumerate()
                .map(|(i, c)| JsonChannel {
                    label: c.label.clone(),
                    kind: kinds.get(i).copied().unwrap_or(ChannelKind::Other),
                    unit: c.unit.clone(),
                    sample_rate: c.rate_hz,
                    n_samples: samples.len(i),
                    physical_min: c.physical_min,
                    physical_max: c.physical_max,
                    head: heads.as_mut().and_then(Iterator::next),
                })
                .collect(),
            annotations: rec
                .annotations
                .iter()
                .map(|a| JsonAnnotation {
                    onset: a.onset_s,
                    duration: a.duration_s,
                    text: a.text.clone(),
                })
                .collect(),
            warnings: rec.warnings.clone(),
        }
    }
}

/// `h:mm:ss.mmm`.
fn clock(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round().max(0.0) as u64;
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The readable report of one recording.
fn summary(
    rec: &Recording,
    samples: &SampleStore,
    file: &std::path::Path,
    heads: Option<&[Vec<f32>]>,
    kinds: &[ChannelKind],
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{}", file.display());
    let _ = writeln!(s, "  format       {}", rec.format);
    let start = rec.start.map_or("unknown".into(), |st| st.iso8601());
    let _ = writeln!(s, "  start        {start}");
    let d = rec.duration_s();
    let _ = writeln!(s, "  duration     {d:.3} s ({})", clock(d));
    if rec.has_gaps() {
        let _ = writeln!(
            s,
            "  segments     {} (the recording has gaps)",
            rec.segments.len()
        );
        for seg in &rec.segments {
            let _ = writeln!(
                s,
                "    {} .. {}",
                clock(seg.onset_s),
                clock(seg.onset_s + seg.duration_s)
            );
        }
    }
    if !rec.patient.is_empty() {
        let _ = writeln!(s, "  patient      {}", rec.patient);
    }
    if !rec.recording_id.is_empty() {
        let _ = writeln!(s, "  recording    {}", rec.recording_id);
    }
    let _ = writeln!(s, "  channels     {}", rec.channels.len());
    let width = rec
        .channels
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "    {:>3}  {:<width$}  {:<5}  {:<6} {:>10} {:>10}  physical range",
        "#", "label", "type", "unit", "rate Hz", "samples"
    );
    for (i, c) in rec.channels.iter().enumerate() {
        let _ = write!(
            s,
            "    {:>3}  {:<width$}  {:<5}  {:<6} {:>10} {:>10}  {} .. {}",
            i + 1,
            c.label,
            kinds.get(i).map_or("", |k| k.name()),
            c.unit,
            c.rate_hz,
            samples.len(i),
            c.physical_min,
            c.physical_max
        );
        if let Some(head) = heads.and_then(|h| h.get(i)) {
            let values: Vec<String> = head.iter().map(|v| format!("{v}")).collect();
            let _ = write!(s, "  head [{}]", values.join(", "));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "  annotations  {}", rec.annotations.len());
    const SHOWN: usize = 20;
    for a in rec.annotations.iter().take(SHOWN) {
        let dur = a.duration_s.map_or("-".into(), |d| format!("{d:.3} s"));
        let _ = writeln!(s, "    {}  {:>10}  {}", clock(a.onset_s), dur, a.text);
    }
    if rec.annotations.len() > SHOWN {
        let _ = writeln!(
            s,
            "    ... and {} more (--json lists all)",
            rec.annotations.len() - SHOWN
        );
    }
    if !rec.warnings.is_empty() {
        let _ = writeln!(s, "  warnings");
        for w in &rec.warnings {
            let _ = writeln!(s, "    - {w}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_hours() {
        assert_eq!(clock(0.0), "0:00:00.000");
        assert_eq!(clock(3725.5), "1:02:05.500");
    }
}
