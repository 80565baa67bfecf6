//! Build script of the `spindle` binary: records the commit it is built from
//! for `spindle --version` (`SPINDLE_COMMIT`): `$SPINDLE_COMMIT` when set
//! (a build from a source archive that knows its commit), else git's short
//! hash with `-modified` for uncommitted changes, else `unknown` (no git, no
//! repository).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SPINDLE_COMMIT");
    let commit = match std::env::var("SPINDLE_COMMIT") {
        Ok(given) if !given.is_empty() => given,
        _ => from_git().unwrap_or_else(|| "unknown".into()),
    };
    println!("cargo:rustc-env=SPINDLE_COMMIT={commit}");
}

/// The commit from git, and the files whose change moves it (so that Cargo
/// reruns this script after a commit or a checkout, and only then).
fn from_git() -> Option<String> {
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    // In a worktree, HEAD is in its own git folder and the branches in the
    // common one.
    let dir = git(&["rev-parse", "--absolute-git-dir"])?;
    println!("cargo:rerun-if-changed={dir}/HEAD");
    if let (Some(common), Some(head_ref)) = (
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]),
        git(&["symbolic-ref", "-q", "HEAD"]),
    ) {
        let loose = format!("{common}/{head_ref}");
        if std::path::Path::new(&loose).exists() {
            println!("cargo:rerun-if-changed={loose}");
        }
    }
    Some(commit)
}

/// The trimmed output of `git ARGS`, or `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
