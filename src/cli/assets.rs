//! `spindle generate-assets --out DIR` (hidden): the man pages and shell
//! completions, written from the clap definitions for the packages
//! (`packaging/common.sh`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

/// Arguments of `spindle generate-assets`.
#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// Folder to write `man/` and `completions/` into (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// The completion scripts, by shell, under the names the packages install.
const COMPLETIONS: [(Shell, &str); 4] = [
    (Shell::Bash, "spindle.bash"),
    (Shell::Zsh, "_spindle"),
    (Shell::Fish, "spindle.fish"),
    (Shell::PowerShell, "_spindle.ps1"),
];

/// Writes `DIR/man/spindle.1`, `DIR/man/spindle-<command>.1` for each
/// visible subcommand, and `DIR/completions/*`; lists what it wrote.
pub fn run(args: &GenerateAssetsArgs) -> anyhow::Result<()> {
    let man = args.out.join("man");
    let completions = args.out.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    clap_mangen::generate_to(Cli::command(), &man)
        .with_context(|| format!("{}: cannot write the man pages", man.display()))?;
    for (shell, name) in COMPLETIONS {
        write_completion(shell, &completions.join(name))?;
    }
    let mut written = list(&man)?;
    written.extend(list(&completions)?);
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}

/// Writes `shell`'s completion script for `spindle` to `path`.
fn write_completion(shell: Shell, path: &Path) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "spindle", &mut script);
    std::fs::write(path, script).with_context(|| format!("{}: cannot write", path.display()))
}

/// The files in `dir`, sorted.
fn list(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}: cannot list", dir.display()))?;
    files.sort();
    Ok(files)
}
