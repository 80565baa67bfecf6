//! The integration tests of spindle-signals, in one binary so that the crate
//! links once: readers and writers against hand-made, damaged, random and
//! real files, and labels that survive a crash. `support` holds what they
//! share. The peak-memory test is its own binary (`tests/alloc_bounded.rs`):
//! its counting allocator counts every thread of the process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen

mod support;

mod edf_roundtrip_and_hostile;
mod fuzz_regressions;
mod labels_crash;
mod roundtrip_props;
mod testdata_readers;
