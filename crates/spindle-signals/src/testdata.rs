//! Where the test suites find the real recordings that come from outside
//! the project (the shared `testdata` folder beside the repository). Tests that need
//! them skip with a message when the folder is absent — unless
//! `SPINDLE_REQUIRE_TESTDATA=1` is set (as CI does), which turns the skip
//! into a failure so that a missing folder cannot pass unnoticed.

use std::path::PathBuf;

/// The environment variable that makes a missing test-data file a failure.
pub const REQUIRE_ENV: &str = "SPINDLE_REQUIRE_TESTDATA";

/// The shared test-data folder: `testdata/` in the folder that holds the
/// repository (this crate sits two folders below the repository root).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
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
