//! Evaluation metrics: plain slices in, serializable structs out.
//!
//! Classification: a [`ConfusionMatrix`] (rows = true class, columns =
//! predicted) gives accuracy, balanced accuracy, per-class precision, recall
//! and F1, macro F1 and Cohen's kappa; [`roc`] gives rank-based one-vs-rest
//! AUCs and ROC curves from class probabilities; [`ChanceReport`] sets the
//! accuracy against chance (majority class) with a Wilson interval, an exact
//! binomial p-value and a plain-language verdict. [`ClassificationReport`]
//! gathers all of it for `report.json`.
//!
//! Agreement between raters: [`fleiss_kappa`] (with each category's kappa
//! and specific agreement) and [`class_kappa`] (one class against the rest).
//!
//! Regression: [`mse`], [`mae`], [`pearson_r`], [`r_squared`] and
//! [`RegressionReport`].
//!
//! Undefined ratios are 0 (precision, recall, F1, kappa) or `None` (AUC, r,
//! R²), never NaN, so every report serializes to valid JSON and reads back.

mod agreement;
mod binomial;
mod chance;
mod classification;
mod confusion;
mod error;
mod probabilities;
mod regression;
pub mod roc;

pub use agreement::{CategoryAgreement, FleissKappa, class_kappa, fleiss_kappa};
pub use binomial::{Z_95, binomial_upper_tail, ln_gamma, wilson_interval};
pub use chance::ChanceReport;
pub use classification::{ClassReport, ClassificationReport};
pub use confusion::{ClassScores, ConfusionMatrix};
pub use error::EvalError;
pub use probabilities::ClassProbabilities;
pub use regression::{RegressionReport, mae, mse, pearson_r, r_squared};
pub use roc::RocCurve;
