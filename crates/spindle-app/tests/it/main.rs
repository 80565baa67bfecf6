//! The integration tests of spindle-app, in one binary so that the crate
//! links once: the real app driven headless through egui_kittest (opening,
//! scrolling, labeling by mouse and keys, autosave, rescued labels, a
//! recording read on demand; the Runs view's sorting, filtering, groups and
//! notes; fine-tuning from a run) and the viewer's frame benchmark (ignored).
//! The app tests that need the `spindle` executable to make their runs live
//! in the root package's `tests/it/`. `support` holds what they share.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen

mod support;

mod gui_app;
mod gui_big_recording;
mod gui_compare;
mod gui_desk;
mod gui_runs;
mod viewer_frame_bench;
