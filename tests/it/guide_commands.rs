//! The user guide cannot rot: every command of a ```` ```console ```` block
//! in `docs/guide/*.md` and `README.md` (a line starting with `$ `) is run
//! with this build's `spindle` first on `PATH`, in a scratch folder holding
//! a copy of `sample_data/`, one folder per page and the page's commands in
//! order (a later command may use an earlier one's run). Each must succeed,
//! except in blocks marked ```` ```console,error ````, whose `spindle`
//! commands must fail with exit code 2; blocks marked
//! ```` ```console,skip ```` are not run (installing, a cluster, a GPU).

use std::path::Path;
use std::process::Command;

/// One ```` ```console ```` block to run.
#[derive(Debug, PartialEq)]
struct Block {
    /// The line of the opening fence (1-based).
    line: usize,
    /// Marked `console,error`.
    error: bool,
    /// Its commands, without the `$ `.
    commands: Vec<String>,
}

/// The blocks of `markdown` to run, in order.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    let mut skipping = false;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (fence, open.take()) {
            (Some(_), Some(block)) => out.push(block),
            (Some(_), None) if skipping => skipping = false,
            (Some(info), None) => match info.trim() {
                "console" | "console,error" => {
                    open = Some(Block {
                        line: i + 1,
                        error: info.trim() == "console,error",
                        commands: Vec::new(),
                    });
                }
                _ => skipping = true,
            },
            (None, Some(mut block)) => {
                if let Some(command) = line.strip_prefix("$ ") {
                    block.commands.push(command.to_string());
                }
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    out
}

/// The repository root (this package's folder).
fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs every command of the page `rel` (relative to the repository root).
fn run_page(rel: &str) {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap();
    let blocks = blocks(&text);
    assert!(!blocks.is_empty(), "{rel}: no console block to run");
    let scratch = tempfile::tempdir().unwrap();
    let copy = Command::new("cp")
        .arg("-R")
        .arg(repo().join("sample_data"))
        .arg(scratch.path())
        .status()
        .unwrap();
    assert!(copy.success());
    let bin = scratch.path().join(".bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_spindle"), bin.join("spindle")).unwrap();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let home = scratch.path().join(".home");
    for block in &blocks {
        for command in &block.commands {
            let out = Command::new("bash")
                .arg("-c")
                .arg(command)
                .current_dir(scratch.path())
                .env("PATH", &path)
                .env("HOME", &home)
                .env_remove("XDG_DATA_HOME")
                .env("SPINDLE_RUNS_DIR", home.join("runs"))
                .env("RAYON_NUM_THREADS", "1")
                .output()
                .unwrap();
            let expected = if block.error && command.starts_with("spindle ") {
                2
            } else {
                0
            };
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{rel}:{}: `{command}`\nstdout: {}\nstderr: {}",
                block.line,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The guide's pages with commands to run (`install.md`'s are all
/// skipped), and README.md; a test per page below.
const PAGES: [&str; 14] = [
    "README.md",
    "docs/guide/command-line.md",
    "docs/guide/comparing.md",
    "docs/guide/dataset.md",
    "docs/guide/explain.md",
    "docs/guide/files.md",
    "docs/guide/first-model.md",
    "docs/guide/interop.md",
    "docs/guide/predictions.md",
    "docs/guide/results.md",
    "docs/guide/sleep-scoring.md",
    "docs/guide/sweeps.md",
    "docs/guide/training.md",
    "docs/guide/troubleshooting.md",
];

#[test]
fn every_page_with_commands_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(repo().join("docs/guide"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !blocks(&std::fs::read_to_string(p).unwrap()).is_empty())
        .map(|p| format!("docs/guide/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    found.push("README.md".into());
    found.sort();
    let mut listed: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "a page with commands to run is missing from PAGES (and its test)"
    );
}

#[test]
fn blocks_are_read_as_marked() {
    let md = "text\n```console\n$ spindle a\nout\n```\n```console,skip\n$ no\n```\n```sh\n$ no\n```\n```console,error\n$ spindle b\n```\n";
    assert_eq!(
        blocks(md),
        [
            Block {
                line: 2,
                error: false,
                commands: vec!["spindle a".into()]
            },
            Block {
                line: 12,
                error: true,
                commands: vec!["spindle b".into()]
            },
        ]
    );
}

macro_rules! page_tests {
    ($($name:ident => $index:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_page(PAGES[$index]);
            }
        )*
    };
}

page_tests! {
    readme => 0,
    command_line => 1,
    comparing => 2,
    dataset => 3,
    explain => 4,
    files => 5,
    first_model => 6,
    interop => 7,
    predictions => 8,
    results => 9,
    sleep_scoring => 10,
    sweeps => 11,
    training => 12,
    troubleshooting => 13,
}
