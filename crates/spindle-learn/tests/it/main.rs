//! The integration tests of spindle-learn, in one binary so that the crate
//! links once: datasets from the bundled recordings (no leakage across
//! splits), the background training job and the services beside it
//! (cross-validation, sweep tasks, suggestions), and `--normalization auto` on
//! generated EEG. `support` holds what they share.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen

mod support;

mod dataset_splits;
mod normalization_auto;
mod refit;
mod regression_targets;
mod service_jobs;
mod training_job;
