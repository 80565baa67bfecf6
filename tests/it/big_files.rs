//! Recordings larger than memory: `spindle inspect` on a 4 GB EDF file (its
//! data a hole in the file, so it costs no disk) reads the header and the
//! samples it prints, not the rest; `spindle train` and `spindle predict`
//! read only the windows they need.

#![cfg(unix)]

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};

use spindle_signals::recording::{Channel, EdfWriteOptions, Recording, write_edf};

use crate::support::spindle;

/// Channels, rate and record length of the file.
const CHANNELS: usize = 64;
const RATE_HZ: f64 = 256.0;
const RECORD_S: f64 = 100.0;
const RECORDS: u64 = 1300;

/// Writes one 100-s record of 64 channels, then claims `RECORDS` records and
/// extends the file to hold them (a sparse hole: the extra samples read as 0).
fn sparse_edf(path: &Path) -> u64 {
    let (header, record) = one_record_edf(path);
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(236)).unwrap();
    f.write_all(format!("{RECORDS:<8}").as_bytes()).unwrap();
    let len = header + record * RECORDS;
    f.set_len(len).unwrap();
    len
}

/// Writes one 100-s record of 64 channels (3 MB: read whole); returns the
/// header's and the record's bytes.
fn one_record_edf(path: &Path) -> (u64, u64) {
    let n = (RATE_HZ * RECORD_S) as usize;
    let channels = (0..CHANNELS)
        .map(|c| Channel {
            physical_min: -1000.0,
            physical_max: 1000.0,
            ..Channel::new(
                format!("E{c}"),
                RATE_HZ,
                (0..n).map(|i| ((i + c) % 100) as f32).collect(),
            )
        })
        .collect();
    let rec = Recording {
        path: path.to_path_buf(),
        ..Recording::from_channels(channels)
    };
    let options = EdfWriteOptions {
        record_duration_s: RECORD_S,
        ..EdfWriteOptions::default()
    };
    write_edf(path, &rec, &options).unwrap();
    let one = std::fs::metadata(path).unwrap().len();
    let header = 256 * (CHANNELS as u64 + 2);
    (header, one - header)
}

/// Runs `cmd` to its end and returns its output and its own peak resident
/// memory in MB. The child is waited for with `wait4`, which reports that
/// child alone (the other tests of this binary run children at the same
/// time, so `RUSAGE_CHILDREN` would mix theirs in).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which std's Child does not offer"
)]
fn output_and_peak_rss_mb(cmd: &mut Command) -> (Output, f64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::Builder::new()
        .name("inspect-stderr".into())
        .spawn(move || {
            err_pipe.read_to_end(&mut stderr).unwrap();
            stderr
        })
        .unwrap();
    out_pipe.read_to_end(&mut stdout).unwrap();
    let stderr = reader.join().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes the child's exit status and resource usage into
    // the two places it is given and nothing else; the child is ours and not
    // yet waited for.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let waited = libc::wait4(pid, &mut status, 0, &mut usage);
        assert_eq!(waited, pid, "wait4 failed");
        usage
    };
    let output = Output {
        status: ExitStatus::from_raw(status),
        stdout,
        stderr,
    };
    (output, usage.ru_maxrss as f64 / 1024.0)
}

#[test]
fn inspect_decodes_only_what_it_prints_of_a_4_gb_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("night.edf");
    let len = sparse_edf(&path);
    assert!(len > 4_000_000_000);
    let (out, peak) = output_and_peak_rss_mb(spindle().args(["inspect", "--head", "3"]).arg(&path));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples = (RATE_HZ * RECORD_S) as u64 * RECORDS;
    assert!(text.contains(&format!("{samples}")), "{text}");
    // The first samples of the first and the last channel, within the
    // 16-bit resolution of a +-1000 uV range.
    for (label, first) in [("E0 ", 0.0), ("E63 ", 63.0)] {
        let line = text.lines().find(|l| l.contains(label)).unwrap();
        let head = line.split("head [").nth(1).unwrap().trim_end_matches(']');
        let values: Vec<f64> = head.split(", ").map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), 3, "{line}");
        for (k, v) in values.iter().enumerate() {
            assert!((v - (first + k as f64)).abs() < 0.05, "{line}");
        }
    }
    // Decoding it all would take 8 GB of f32; the header and one block of
    // records take a few MB besides the binary.
    assert!(peak < 200.0, "inspect peaked at {peak:.0} MB");
}

/// The rows of a `spindle predict` table after its header.
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn train_and_predict_read_only_their_windows_of_a_4_gb_file() {
    use spindle_learn::train::{DeviceChoice, load_run, predict_file, predict_file_in_chunks};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("night.edf");
    sparse_edf(&path);
    // A 1-s label every 10 minutes over the 36 hours, and every 10 s in the
    // first record (the only one that is not zeros).
    let total_s = RECORD_S as u64 * RECORDS;
    let mut events = String::from("onset\tduration\ttrial_type\n");
    let onsets = (0..10)
        .map(|k| 5 + 10 * k)
        .chain((1..total_s / 600).map(|k| 600 * k));
    for (k, onset) in onsets.enumerate() {
        events.push_str(&format!("{onset}\t1\t{}\n", ["a", "b"][k % 2]));
    }
    let labels = dir.path().join("labels.tsv");
    std::fs::write(&labels, events).unwrap();
    let run = dir.path().join("run");
    let channels = "E0,E1,E2,E3";
    let (out, peak) = output_and_peak_rss_mb(
        spindle()
            .args(["train", "--data"])
            .arg(&path)
            .arg("--labels")
            .arg(&labels)
            .args([
                "--model", "mlp", "--epochs", "1", "--window", "1", "--stride", "10",
            ])
            .args(["--channels", channels, "--seed", "1", "--out"])
            .arg(&run),
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Decoding the 4 channels whole would take 480 MB of f32.
    assert!(peak < 250.0, "train peaked at {peak:.0} MB");
    // The pause for the file's checksum (4 GB: seconds) is announced.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: checksumming ") && stderr.contains(" GB) for run.json"),
        "{stderr}"
    );
    let table = dir.path().join("table.tsv");
    let (out, peak) = output_and_peak_rss_mb(
        spindle()
            .args(["predict", "--run"])
            .arg(&run)
            .arg(&path)
            .arg("--out")
            .arg(&table),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(peak < 250.0, "predict peaked at {peak:.0} MB");
    let on_demand = rows(&std::fs::read_to_string(&table).unwrap());
    assert_eq!(
        on_demand.len() as u64,
        total_s / 10,
        "a 1-s window every 10 s"
    );
    // The first record alone, a small file read whole: the same windows give
    // the same predictions, and chunks change nothing.
    let small = dir.path().join("first.edf");
    one_record_edf(&small);
    let loaded = load_run(&run, DeviceChoice::Cpu).unwrap();
    let whole = predict_file(&loaded, &small).unwrap();
    assert_eq!(whole.len(), RECORD_S as usize / 10);
    let chunked = |windows: usize| {
        let mut all = Vec::new();
        predict_file_in_chunks(&loaded, &small, windows, |chunk| {
            assert!(chunk.len() <= windows);
            all.extend_from_slice(chunk);
            Ok(())
        })
        .unwrap();
        all
    };
    // Chunks of whole forward batches (64 windows) give the same batches.
    assert_eq!(chunked(64), whole);
    assert_eq!(chunked(1).len(), whole.len());
    // Other chunks change the last batches' sizes: the same within float noise.
    let odd = chunked(3);
    assert_eq!(odd.len(), whole.len());
    for (a, b) in odd.iter().zip(&whole) {
        assert_eq!((a.onset_s, &a.label), (b.onset_s, &b.label));
        for (p, q) in a.probabilities.iter().zip(&b.probabilities) {
            assert!((p - q).abs() < 1e-5, "{a:?} {b:?}");
        }
    }
    for (row, w) in on_demand.iter().zip(&whole) {
        assert_eq!(row[1], format!("{:.3}", w.onset_s));
        assert_eq!(row[3], w.label);
        let probabilities: Vec<String> =
            w.probabilities.iter().map(|p| format!("{p:.4}")).collect();
        assert_eq!(row[4..], probabilities, "at {} s", w.onset_s);
    }
}
