//! The `spindle inspect` and `spindle synth` commands, run as a user would.

use std::path::{Path, PathBuf};

use spindle_signals::testdata::sample;

use crate::support::spindle;

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn synth_reproduces_sample_data_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = spindle()
        .args(["synth", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = files_under(dir.path());
    let committed: Vec<PathBuf> = files_under(&sample(""))
        .into_iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "edf" || e == "wav" || e == "tsv")
        })
        .collect();
    assert_eq!(generated, committed);
    for rel in &generated {
        let a = std::fs::read(dir.path().join(rel)).unwrap();
        let b = std::fs::read(sample("").join(rel)).unwrap();
        assert!(a == b, "{} differs from sample_data", rel.display());
    }
}

#[test]
fn inspect_json_follows_the_contract() {
    let file = sample("").join("eeg/sub-01.edf");
    let out = spindle()
        .args(["inspect", "--json", "--head", "4"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    // Keys in the contract's order.
    let keys = [
        "file",
        "format",
        "start",
        "duration_s",
        "channels",
        "annotations",
        "warnings",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| lines[0].find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(v.as_object().unwrap().len(), keys.len());
    assert_eq!(v["format"], "EDF+C");
    assert_eq!(v["start"], "2026-01-11T09:30:00");
    assert_eq!(v["duration_s"], 150.0);
    let ch = &v["channels"][0];
    assert_eq!(ch["label"], "Fp1");
    assert_eq!(ch["kind"], "eeg");
    assert_eq!(ch["unit"], "uV");
    assert_eq!(ch["sample_rate"], 256.0);
    assert_eq!(ch["n_samples"], 38400);
    assert_eq!(ch["head"].as_array().unwrap().len(), 4);
    let a = &v["annotations"][0];
    assert_eq!(a["duration"], 2.0);
    assert!(a["text"].is_string() && a["onset"].is_number());
    // Without --head there is no head.
    let out = spindle()
        .args(["inspect", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["channels"][0].get("head").is_none());
}

#[test]
fn inspect_reports_bad_files_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.edf");
    let good = sample("").join("eeg/sub-02.edf");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&bad, &bytes[..300]).unwrap();
    let out = spindle()
        .args(["inspect", "--json"])
        .arg(&bad)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("error: {}: ", bad.display())),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        objects.len(),
        2,
        "one object per file, the bad one too: {stdout}"
    );
    assert_eq!(objects[0]["file"], bad.display().to_string());
    assert!(objects[0]["error"].as_str().unwrap().contains("broken.edf"));
    assert!(
        objects[1]["channels"].is_array(),
        "the good file is still reported"
    );
    // A missing file too.
    let out = spindle()
        .args(["inspect", "/nonexistent/x.edf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: /nonexistent/x.edf: "));
}

/// The sleep nights' channels get their types from their names, in the
/// text and in the JSON.
#[test]
fn inspect_names_each_channels_type() {
    let night = sample("sleep/sub-01_night.edf");
    let out = spindle().arg("inspect").arg(&night).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for (label, kind) in [
        ("Fpz-Cz", "EEG"),
        ("EOG horizontal", "EOG"),
        ("EMG submental", "EMG"),
    ] {
        let row = text.lines().find(|l| l.contains(label)).unwrap();
        assert!(row.contains(&format!("  {kind}  ")), "{row}");
    }
    let out = spindle()
        .args(["inspect", "--json"])
        .arg(&night)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["eeg", "eeg", "eog", "emg"]);
}

/// A reader that stops early (`| head`) ends the command quietly, as it
/// ends `cat`: no "Broken pipe" error line and no panic report.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let file = sample("eeg/sub-01.edf");
    let mut child = spindle()
        .args(["inspect", "--json", "--head", "2000"])
        .args(std::iter::repeat_n(&file, 400))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader is gone: the next lines meet a closed pipe.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[test]
fn inspect_text_summary_is_readable() {
    let out = spindle()
        .arg("inspect")
        .arg(sample("").join("audio/trill/call-01.wav"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("format       WAV"), "{text}");
    assert!(text.contains("16000"), "{text}");
}

#[test]
fn inspect_rejects_hostile_files_of_every_kind_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let edf = std::fs::read(sample("").join("eeg/sub-01.edf")).unwrap();
    let wav = std::fs::read(sample("").join("audio/trill/call-01.wav")).unwrap();
    let mut lying_wav = wav.clone();
    lying_wav[22..24].copy_from_slice(&0u16.to_le_bytes()); // zero channels
    let mut lying_edf = edf.clone();
    lying_edf[252..256].copy_from_slice(b"999 "); // signal count the file cannot back
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.edf", vec![]),
        ("header-cut.edf", edf[..200].to_vec()),
        ("lying.edf", lying_edf),
        ("random.bdf", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("cut.wav", wav[..30].to_vec()),
        ("lying.wav", lying_wav),
        ("text.vhdr", b"Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nDataFile=missing.eeg\n".to_vec()),
        ("notes.txt", b"hello".to_vec()),
    ];
    for (name, bytes) in &cases {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let mut cmd = spindle();
    cmd.arg("inspect");
    for (name, _) in &cases {
        cmd.arg(d.join(name));
    }
    cmd.arg(d); // a folder
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        cases.len() + 1,
        "one line per bad file:\n{stderr}"
    );
    for ((name, _), line) in cases.iter().zip(&lines) {
        assert!(line.starts_with("error: ") && line.contains(name), "{line}");
        assert!(!line.contains("panicked"), "{line}");
    }
}
