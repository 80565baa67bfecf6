//! Where the test suites find recordings: the bundled `sample_data/` of the
//! repository ([`sample`], always there), and the real recordings that come
//! from outside the project (the shared `testdata` folder beside the
//! repository, or where `SPINDLE_TESTDATA_DIR` says: [`path`]). Tests that
//! need the latter skip with a message when the folder is absent — unless
//! `SPINDLE_REQUIRE_TESTDATA=1` is set (as CI does), which turns the skip
//! into a failure so that a missing folder cannot pass unnoticed.

use std::path::{Path, PathBuf};

/// The environment variable that makes a missing test-data file a failure.
pub const REQUIRE_ENV: &str = "SPINDLE_REQUIRE_TESTDATA";

/// `rel` inside the repository's bundled `sample_data/` folder (`""` for
/// the folder itself), e.g. `sample("eeg/sub-01.edf")`.
pub fn sample(rel: &str) -> PathBuf {
    // This crate sits two folders below the repository root.
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    let folder = root.join("sample_data");
    if rel.is_empty() {
        folder
    } else {
        folder.join(rel)
    }
}

/// The environment variable that names the shared test-data folder when it
/// is not beside the repository (a clone elsewhere, a CI machine).
pub const DIR_ENV: &str = "SPINDLE_TESTDATA_DIR";

/// The shared test-data folder: [`DIR_ENV`] when set, else
/// `shared/testdata/` in the folder that holds the repository (this crate
/// sits two folders below the repository root).
pub fn root() -> PathBuf {
    match std::env::var_os(DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"),
    }
}

/// `rel` inside the shared test-data folder, or `None` (after saying so on
/// stderr) when it is absent.
///
/// # Panics
/// When it is absent and [`REQUIRE_ENV`] is `1`.
pub fn path(rel: &str) -> Option<PathBuf> {
    let p = root().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!(
            "{}: required test data is absent ({REQUIRE_ENV}=1)",
            p.display()
        );
    }
    eprintln!("skipping: {} is absent", p.display());
    None
}
