//! The integration tests of the `spindle` executable, in one binary: the
//! command line run as a user runs it (`inspect`, `synth`, `train`,
//! `predict`, `explain`, `export`, `sweep` here and on a one-node Slurm,
//! `compare`, `hypnogram`, `agree`; BIDS folders, crafted run folders),
//! and, with the `gui` feature, the app tests whose runs and sweeps the
//! executable makes (runs made by the CLI opened, compared and explained in
//! the app, every menu and panel visited). `support` holds what they share.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen

mod support;

mod big_files;
mod cli_inspect_synth;
mod embedding;
mod explain;
mod guide_commands;
mod interop;
mod label_files;
mod scoring;
mod sweep_local;
mod sweep_slurm;
mod train_cli;
mod train_cv;

mod gui_crafted_run;
mod gui_explain;
mod gui_sweep;
mod gui_training;
mod gui_visit_everything;
