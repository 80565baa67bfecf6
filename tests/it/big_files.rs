//! Recordings larger than memory: `spindle inspect` on a 4 GB EDF file (its
//! data a hole in the file, so it costs no disk) reads the header and the
//! samples it prints, not the rest.

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
    let record = one - header;
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(236)).unwrap();
    f.write_all(format!("{RECORDS:<8}").as_bytes()).unwrap();
    let len = header + record * RECORDS;
    f.set_len(len).unwrap();
    len
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
