//! Where runs live, how run folders are named, and what makes a folder one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::RunsError;
use crate::train::RunPaths;

/// The environment variable that, when set and non-empty, overrides
/// [`default_runs_dir`].
pub const RUNS_DIR_ENV: &str = "SPINDLE_RUNS_DIR";

/// The folder that holds the run folders, shared by the GUI and the CLI.
///
/// `$SPINDLE_RUNS_DIR` when set and non-empty; otherwise the platform's data
/// folder: Linux (and other Unix) `$XDG_DATA_HOME/spindle/runs` or
/// `~/.local/share/spindle/runs`, macOS `~/Library/Application
/// Support/Spindle/runs`, Windows `%APPDATA%\Spindle\runs`; and
/// `./spindle-runs` when no home folder is known. The folder may not exist yet.
pub fn default_runs_dir() -> PathBuf {
    runs_dir_for(std::env::consts::OS, |name| std::env::var_os(name))
}

/// [`default_runs_dir`] for operating system `os` (as in
/// [`std::env::consts::OS`]) with environment lookups by `env`.
fn runs_dir_for(os: &str, env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    if let Some(dir) = env(RUNS_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    match data_dir_for(os, env) {
        Some(base) => base.join("runs"),
        None => PathBuf::from(".").join("spindle-runs"),
    }
}

/// Spindle's folder in the platform's data folder, where the runs and the
/// user's copy of the sample data live: Linux (and other Unix)
/// `$XDG_DATA_HOME/spindle` or `~/.local/share/spindle`, macOS
/// `~/Library/Application Support/Spindle`, Windows `%APPDATA%\Spindle`;
/// `None` when no home folder is known. The folder may not exist yet.
pub fn data_dir() -> Option<PathBuf> {
    data_dir_for(std::env::consts::OS, |name| std::env::var_os(name))
}

/// [`data_dir`] for operating system `os` with environment lookups by `env`.
fn data_dir_for(os: &str, env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    match os {
        "windows" => var("APPDATA").map(|d| d.join("Spindle")),
        "macos" | "ios" => var("HOME").map(|h| {
            h.join("Library")
                .join("Application Support")
                .join("Spindle")
        }),
        _ => var("XDG_DATA_HOME")
            // The XDG spec says relative paths are to be ignored.
            .filter(|d| d.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
            .map(|d| d.join("spindle")),
    }
}

/// Creates `runs_dir` (with its parents) and in it a new, empty run folder
/// for `model_name`, e.g. `runs_dir/2026-12-02_05-31-07_eegnet` (the
/// current UTC time, so names sort by start time), with `-2`, `-3`, ...
/// appended when that name is taken. Characters other than ASCII letters,
/// digits, `-` and `_` in `model_name` become `-`; an empty name becomes
/// `run`. The creation itself decides which name is free, so concurrent
/// callers never share a folder.
pub fn create_run_dir(runs_dir: &Path, model_name: &str) -> Result<PathBuf, RunsError> {
    // A file entry point: the app's tests fail a frame that makes a folder.
    spindle_signals::io_guard::note(runs_dir);
    std::fs::create_dir_all(runs_dir).map_err(|e| RunsError::io(runs_dir, e))?;
    let base = run_dir_name(unix_seconds_now(), model_name);
    let mut n = 1usize;
    loop {
        let dir = runs_dir.join(numbered(&base, n));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100_000 => n += 1,
            Err(e) => return Err(RunsError::io(&dir, e)),
        }
    }
}

/// `base`, or `base-n` for `n >= 2`.
fn numbered(base: &str, n: usize) -> String {
    if n < 2 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

/// Seconds since 1970-01-01 UTC (0 for a clock set before it).
fn unix_seconds_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DD_hh-mm-ss_model` for `unix_s` seconds after 1970-01-01 UTC.
fn run_dir_name(unix_s: u64, model_name: &str) -> String {
    format!("{}_{}", utc_stamp(unix_s), sanitize(model_name))
}

/// `YYYY-MM-DD hh:mm` (UTC) of `time`, for lists of runs (a time before
/// 1970 reads as 1970-01-01 00:00).
pub fn utc_minute(time: SystemTime) -> String {
    let unix_s = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(unix_s);
    format!("{} {}:{}", &stamp[..10], &stamp[11..13], &stamp[14..16])
}

/// `YYYY-MM-DD_hh-mm-ss` (UTC) of `unix_s` seconds after 1970-01-01 UTC.
fn utc_stamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs_of_day = unix_s % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}_{:02}-{:02}-{:02}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    )
}

/// The proleptic Gregorian date `(year, month 1..=12, day 1..=31)` of
/// `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `name` with every character other than ASCII letters, digits, `-` and
/// `_` replaced by `-`, runs of `-` collapsed, at most 64 characters; `run`
/// when nothing is left.
fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out: String = out.trim_matches('-').chars().take(64).collect();
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "run".to_string()
    } else {
        out.to_string()
    }
}

/// True when `dir` looks like a run folder (holds `run.json` or `metrics.csv`).
pub fn is_run_dir(dir: &Path) -> bool {
    let paths = RunPaths::new(dir);
    paths.run_json().is_file() || paths.metrics_csv().is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn minutes_for_lists() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(utc_minute(t), "2023-11-14 22:13");
    }

    #[test]
    fn civil_dates_of_known_timestamps() {
        assert_eq!(utc_stamp(0), "1970-01-01_00-00-00");
        assert_eq!(utc_stamp(1_700_000_000), "2023-11-14_22-13-20");
        // leap day and the last second of a year
        assert_eq!(utc_stamp(951_782_400), "2000-02-29_00-00-00");
        assert_eq!(utc_stamp(1_735_689_599), "2024-12-31_23-59-59");
        assert_eq!(
            run_dir_name(1_700_000_000, "eegnet"),
            "2023-11-14_22-13-20_eegnet"
        );
    }

    #[test]
    fn civil_date_matches_a_day_by_day_count() {
        // Walk 1970-01-01 .. 2100 one day at a time with month lengths.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for days in 0..(130 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn model_names_are_made_safe() {
        assert_eq!(sanitize("eegnet"), "eegnet");
        assert_eq!(
            sanitize("EEGNet (F1=8, D=2, F2=16)"),
            "EEGNet-F1-8-D-2-F2-16"
        );
        assert_eq!(sanitize("../../etc"), "etc");
        assert_eq!(sanitize("  "), "run");
        assert_eq!(sanitize(""), "run");
        assert!(sanitize(&"x".repeat(200)).len() <= 64);
    }

    #[test]
    fn run_folders_are_created_with_unique_names() {
        let tmp = tempfile::tempdir().unwrap();
        let first = create_run_dir(&tmp.path().join("runs"), "eegnet").unwrap();
        assert!(first.is_dir());
        assert_eq!(first.parent(), Some(tmp.path().join("runs").as_path()));
        let name = first.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.ends_with("_eegnet"), "{name}");
        assert_eq!(name.len(), "2026-12-02_05-31-07_eegnet".len(), "{name}");
        assert_eq!(numbered("base", 1), "base");
        assert_eq!(numbered("base", 3), "base-3");

        // Folders asked for in the same second never share a name.
        let dirs: Vec<_> = (0..3)
            .map(|_| create_run_dir(tmp.path(), "eegnet").unwrap())
            .collect();
        assert!(dirs.iter().all(|d| d.is_dir()));
        assert_ne!(dirs[0], dirs[1]);
        assert_ne!(dirs[1], dirs[2]);
        assert_ne!(dirs[0], dirs[2]);
    }

    #[test]
    fn runs_dir_per_platform() {
        let linux = runs_dir_for("linux", env(&[("HOME", "/home/ada")]));
        assert_eq!(linux, PathBuf::from("/home/ada/.local/share/spindle/runs"));
        let xdg = runs_dir_for(
            "linux",
            env(&[("HOME", "/home/ada"), ("XDG_DATA_HOME", "/data")]),
        );
        assert_eq!(xdg, PathBuf::from("/data/spindle/runs"));
        let relative_xdg = runs_dir_for(
            "linux",
            env(&[("HOME", "/home/ada"), ("XDG_DATA_HOME", "rel")]),
        );
        assert_eq!(
            relative_xdg,
            PathBuf::from("/home/ada/.local/share/spindle/runs")
        );
        let mac = runs_dir_for("macos", env(&[("HOME", "/Users/ada")]));
        assert_eq!(
            mac,
            PathBuf::from("/Users/ada/Library/Application Support/Spindle/runs")
        );
        let win = runs_dir_for(
            "windows",
            env(&[("APPDATA", r"C:\Users\ada\AppData\Roaming")]),
        );
        assert_eq!(
            win,
            PathBuf::from(r"C:\Users\ada\AppData\Roaming")
                .join("Spindle")
                .join("runs")
        );
        let homeless = runs_dir_for("linux", env(&[("HOME", "")]));
        assert_eq!(homeless, PathBuf::from("./spindle-runs"));
        let overridden = runs_dir_for(
            "windows",
            env(&[("APPDATA", r"C:\x"), (RUNS_DIR_ENV, "/tmp/my-runs")]),
        );
        assert_eq!(overridden, PathBuf::from("/tmp/my-runs"));
        let empty_override = runs_dir_for("linux", env(&[("HOME", "/h"), (RUNS_DIR_ENV, "")]));
        assert_eq!(
            empty_override,
            PathBuf::from("/h/.local/share/spindle/runs")
        );
    }
}
