//! Writes small seed inputs for the fuzz targets with Spindle's own writers:
//! `seeds OUT` fills `OUT/edf`, `OUT/wav`, `OUT/brainvision` and
//! `OUT/events_tsv`. Real files from the shared test data are added by
//! `fuzz/seed.sh`, not here.

use std::fs;
use std::path::{Path, PathBuf};

use spindle_signals::recording::{
    Annotation, Channel, EdfWriteOptions, Format, Label, LabelSet, Recording, Segment, StartTime,
    WavSampleFormat, write_brainvision, write_edf, write_events_tsv, write_wav,
};
use spindle_fuzz::PART_SEPARATOR;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn channel(label: &str, unit: &str, rate_hz: f64, samples: Vec<f32>) -> Channel {
    let (lo, hi) = samples
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(f64::from(v)), hi.max(f64::from(v)))
        });
    Channel {
        label: label.into(),
        unit: unit.into(),
        rate_hz,
        physical_min: lo.min(-1.0),
        physical_max: hi.max(1.0),
        transducer: "AgAgCl electrode".into(),
        prefilter: "HP:0.1Hz LP:75Hz".into(),
        samples,
    }
}

fn wave(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| scale * ((i as f32) * 0.37).sin()).collect()
}

fn recording(channels: Vec<Channel>, annotations: Vec<Annotation>, fraction_s: f64) -> Recording {
    let duration_s = channels
        .iter()
        .map(|c| c.samples.len() as f64 / c.rate_hz)
        .fold(0.0, f64::max);
    Recording {
        path: PathBuf::new(),
        format: Format::EdfPlusC,
        patient: "MCH-0234567 F 02-MAY-1951 Haagse_Harry".into(),
        recording_id: String::new(),
        start: Some(StartTime {
            year: 2021,
            month: 3,
            day: 14,
            hour: 23,
            minute: 59,
            second: 58.0 + fraction_s,
        }),
        channels,
        annotations,
        segments: vec![Segment {
            onset_s: 0.0,
            duration_s,
        }],
        warnings: Vec::new(),
    }
}

fn annotations() -> Vec<Annotation> {
    vec![
        Annotation {
            onset_s: 0.25,
            duration_s: Some(0.5),
            text: "eyes closed".into(),
        },
        Annotation {
            onset_s: 1.5,
            duration_s: None,
            text: "spike \u{4e2d}".into(),
        },
    ]
}

fn edf_seeds(dir: &Path) -> Result<()> {
    let rec = recording(
        vec![
            channel("EEG Fp1", "uV", 8.0, wave(16, 100.0)),
            channel("EMG", "mV", 4.0, wave(8, 2.0)),
        ],
        annotations(),
        0.125,
    );
    let plain = recording(vec![channel("C3", "uV", 4.0, wave(8, 50.0))], vec![], 0.0);
    for (name, rec, bdf, record_s) in [
        ("edfplus.edf", &rec, false, 1.0),
        ("bdfplus.bdf", &rec, true, 1.0),
        ("edfplus_half_s.edf", &rec, false, 0.5),
        ("bdf_one_channel.bdf", &plain, true, 2.0),
        ("edf_one_channel.edf", &plain, false, 1.0),
    ] {
        let opts = EdfWriteOptions {
            bdf,
            record_duration_s: record_s,
        };
        write_edf(&dir.join(name), rec, &opts)?;
    }
    // An EDF+D variant of the first: the reserved field is the only change.
    let bytes = fs::read(dir.join("edfplus.edf"))?;
    let mut d = bytes.clone();
    if let Some(at) = find(&d, b"EDF+C") {
        d[at + 4] = b'D';
    }
    fs::write(dir.join("edfplus_d.edf"), d)?;
    Ok(())
}

fn wav_seeds(dir: &Path) -> Result<()> {
    let mono = vec![wave(12, 0.8)];
    let stereo = vec![wave(6, 0.5), wave(6, -0.9)];
    for (name, channels, format) in [
        ("pcm16_mono.wav", &mono, WavSampleFormat::Pcm16),
        ("pcm24_stereo.wav", &stereo, WavSampleFormat::Pcm24),
        ("float32_stereo.wav", &stereo, WavSampleFormat::Float32),
        ("pcm16_stereo.wav", &stereo, WavSampleFormat::Pcm16),
    ] {
        write_wav(&dir.join(name), 8000, channels, format)?;
    }
    Ok(())
}

fn brainvision_seeds(dir: &Path, scratch: &Path) -> Result<()> {
    let rec = recording(
        vec![
            channel("Fp1", "µV", 250.0, wave(10, 30.0)),
            channel("O2,ref", "µV", 250.0, wave(10, -20.0)),
        ],
        annotations(),
        0.5,
    );
    let vhdr = scratch.join("rec.vhdr");
    write_brainvision(&vhdr, &rec)?;
    let header = fs::read_to_string(&vhdr)?;
    let markers = fs::read(scratch.join("rec.vmrk"))?;
    let data = fs::read(scratch.join("rec.eeg"))?;
    let join = |h: &str, m: &[u8], d: &[u8]| -> Vec<u8> {
        [h.as_bytes(), PART_SEPARATOR, m, PART_SEPARATOR, d].concat()
    };
    fs::write(dir.join("float32.bv"), join(&header, &markers, &data))?;
    // The same header declaring other sample types over raw bytes of the data.
    let int16 = header.replace("IEEE_FLOAT_32", "INT_16");
    fs::write(dir.join("int16.bv"), join(&int16, &markers, &data[..20]))?;
    let vectorized = header
        .replace("MULTIPLEXED", "VECTORIZED")
        .replace("[Binary Infos]", "DataPoints=10\r\n\r\n[Binary Infos]");
    fs::write(
        dir.join("vectorized.bv"),
        join(&vectorized, &markers, &data),
    )?;
    let big = int16.replace(
        "BinaryFormat=INT_16",
        "BinaryFormat=INT_32\r\nUseBigEndianOrder=YES",
    );
    fs::write(dir.join("int32_big.bv"), join(&big, &markers, &data))?;
    let ascii = header.replace("DataFormat=BINARY", "DataFormat=ASCII").replace(
        "[Binary Infos]",
        "[ASCII Infos]\r\nDecimalSymbol=,\r\nSkipLines=1\r\nSkipColumns=1\r\n\r\n[Binary Infos]",
    );
    let ascii_data = "t Fp1 O2\r\n0 1,5 -2\r\n1 3,25 4e1\r\n2 -0,5 0\r\n";
    fs::write(
        dir.join("ascii.bv"),
        join(&ascii, &markers, ascii_data.as_bytes()),
    )?;
    fs::write(dir.join("no_markers.bv"), header.as_bytes())?;
    Ok(())
}

fn tsv_seeds(dir: &Path) -> Result<()> {
    let mut a = Label::new(0.5, 2.0, "LongBlink");
    a.extra = vec!["r1".into(), "7".into()];
    let mut b = Label::new(3.25, 0.0, "");
    b.extra = vec!["r2".into()];
    let set = LabelSet {
        labels: vec![a, b, Label::new(-1.0, 0.125, "tab\there")],
        extra_columns: vec!["rater".into(), "value".into()],
    };
    write_events_tsv(&dir.join("extra_events.tsv"), &set)?;
    let plain = LabelSet::new(vec![
        Label::new(0.0, 30.0, "W"),
        Label::new(30.0, 30.0, "N2"),
    ]);
    write_events_tsv(&dir.join("plain_events.tsv"), &plain)?;
    fs::write(
        dir.join("value_events.tsv"),
        "\u{feff}duration\tonset\tvalue\r\nn/a\t1.5\t3\r\n\r\n2\tn/a\t4\r\n",
    )?;
    fs::write(
        dir.join("labels.csv"),
        "onset_s,duration_s,label,note\n0.5,2,\"a,b\",\"say \"\"hi\"\"\"\n",
    )?;
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn main() -> Result<()> {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: seeds OUT_DIR".into());
    };
    let scratch = out.join(".scratch");
    for sub in ["edf", "wav", "brainvision", "events_tsv", ".scratch"] {
        fs::create_dir_all(out.join(sub))?;
    }
    edf_seeds(&out.join("edf"))?;
    wav_seeds(&out.join("wav"))?;
    brainvision_seeds(&out.join("brainvision"), &scratch)?;
    tsv_seeds(&out.join("events_tsv"))?;
    fs::remove_dir_all(&scratch)?;
    Ok(())
}
