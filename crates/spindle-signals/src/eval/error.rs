//! The error every metric constructor returns.

/// Why a set of labels, predictions or scores could not be evaluated.
///
/// Messages name the problem in words a user understands, e.g.
/// `predicted labels: expected 120 values, found 119`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A metric needs at least one class.
    #[error("no classes: a classification needs at least one class")]
    NoClasses,
    /// There is nothing to evaluate.
    #[error("{what}: no values to evaluate")]
    Empty {
        /// What was empty, e.g. `true values`.
        what: &'static str,
    },
    /// Two inputs that must pair up element by element differ in length.
    #[error("{what}: expected {expected} values, found {found}")]
    LengthMismatch {
        /// The input with the wrong length, e.g. `predicted labels`.
        what: &'static str,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// A class index is not below the number of classes.
    #[error("{what}: class {label} at position {index} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// Which labels, e.g. `true labels`.
        what: &'static str,
        /// Position of the offending label (0-based).
        index: usize,
        /// The offending class index.
        label: usize,
        /// The number of classes.
        n_classes: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}: value at position {index} is not a finite number")]
    NonFinite {
        /// Which input, e.g. `probabilities`.
        what: &'static str,
        /// Position of the offending value (0-based; row-major for tables).
        index: usize,
    },
}
