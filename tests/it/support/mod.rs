//! What the tests of the `spindle` executable share: running it
//! ([`spindle`]) and reading what it answers or writes, and (with the `gui`
//! feature) the real app under egui_kittest ([`app`], the file the
//! spindle-app crate's tests use too, and [`gui`]).

#[cfg(feature = "gui")]
#[path = "../../../crates/spindle-app/tests/it/support/app.rs"]
pub mod app;
#[cfg(feature = "gui")]
pub mod gui;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `spindle` executable of this build, its training on one thread.
pub fn spindle() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spindle"));
    c.env("RAYON_NUM_THREADS", "1");
    c
}

/// Runs `cmd`, fails with its output unless it succeeds, and returns its
/// standard output.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `cmd`, which must succeed ([`run_ok`]), and parses its standard
/// output as one JSON value.
pub fn stdout_json(cmd: &mut Command) -> Value {
    serde_json::from_str(&run_ok(cmd)).unwrap()
}

/// The one line `out` printed on stderr, after checking that it exited with
/// code 2 and that the line is `error: ...`.
pub fn one_error_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "exit code");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

/// `spindle ARGS`, which must fail with one error line ([`one_error_line`]).
pub fn fails(args: &[&str]) -> String {
    let out = spindle().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    one_error_line(&out)
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A copy of the run folder `run` beside it, named `name`, with `edit`
/// applied to its run.json: a run folder as someone may have edited it.
pub fn crafted(run: &Path, name: &str, edit: impl Fn(&mut Value)) -> PathBuf {
    let dir = run.parent().unwrap().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "run.json",
        "model.safetensors",
        "report.json",
        "predictions.tsv",
        "metrics.csv",
    ] {
        std::fs::copy(run.join(f), dir.join(f)).unwrap();
    }
    let mut info = json(&dir.join("run.json"));
    edit(&mut info);
    std::fs::write(dir.join("run.json"), info.to_string()).unwrap();
    dir
}
