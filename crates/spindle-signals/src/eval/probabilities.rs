//! A validated table of per-class scores, one row per example.

use super::EvalError;

/// Per-class scores (usually softmax probabilities), one row per example and
/// one column per class, stored row-major.
///
/// Only the order of the scores within a column matters to the ROC metrics,
/// so rows need not sum to 1; every value must be finite.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassProbabilities {
    values: Vec<f32>,
    n_classes: usize,
}

impl ClassProbabilities {
    /// Builds the table from one `Vec` per example, each `n_classes` long.
    pub fn from_rows(rows: &[Vec<f32>], n_classes: usize) -> Result<Self, EvalError> {
        if n_classes == 0 {
            return Err(EvalError::NoClasses);
        }
        let mut values = Vec::with_capacity(rows.len() * n_classes);
        for row in rows {
            if row.len() != n_classes {
                return Err(EvalError::LengthMismatch {
                    what: "probability row",
                    expected: n_classes,
                    found: row.len(),
                });
            }
            values.extend_from_slice(row);
        }
        Self::from_vec(values, n_classes)
    }

    /// Builds the table from a flat row-major slice (`n_examples * n_classes`
    /// values: example 0's classes first).
    pub fn from_flat(values: &[f32], n_classes: usize) -> Result<Self, EvalError> {
        if n_classes == 0 {
            return Err(EvalError::NoClasses);
        }
        if !values.len().is_multiple_of(n_classes) {
            return Err(EvalError::LengthMismatch {
                what: "flat probabilities",
                expected: values.len().div_ceil(n_classes) * n_classes,
                found: values.len(),
            });
        }
        Self::from_vec(values.to_vec(), n_classes)
    }

    fn from_vec(values: Vec<f32>, n_classes: usize) -> Result<Self, EvalError> {
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(EvalError::NonFinite {
                what: "probabilities",
                index,
            });
        }
        Ok(Self { values, n_classes })
    }

    /// Number of examples (rows).
    pub fn n_rows(&self) -> usize {
        self.values.len() / self.n_classes
    }

    /// Number of classes (columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The scores of example `i` for every class, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.values
            .get(i * self.n_classes..(i + 1) * self.n_classes)
    }

    /// The score of every example for class `class` (empty past the last class).
    pub fn column(&self, class: usize) -> Vec<f32> {
        if class >= self.n_classes {
            return Vec::new();
        }
        self.values
            .iter()
            .skip(class)
            .step_by(self.n_classes)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_flat_agree() {
        let rows = vec![vec![0.1, 0.9], vec![0.7, 0.3], vec![0.5, 0.5]];
        let a = ClassProbabilities::from_rows(&rows, 2).unwrap();
        let b = ClassProbabilities::from_flat(&[0.1, 0.9, 0.7, 0.3, 0.5, 0.5], 2).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.n_rows(), 3);
        assert_eq!(a.column(1), vec![0.9, 0.3, 0.5]);
        assert_eq!(a.row(1), Some(&[0.7f32, 0.3][..]));
        assert_eq!(a.row(3), None);
        assert!(a.column(2).is_empty());
    }

    #[test]
    fn rejects_bad_shapes_and_values() {
        assert_eq!(
            ClassProbabilities::from_rows(&[vec![0.5, 0.5], vec![1.0]], 2),
            Err(EvalError::LengthMismatch {
                what: "probability row",
                expected: 2,
                found: 1
            })
        );
        assert!(ClassProbabilities::from_flat(&[0.1, 0.2, 0.3], 2).is_err());
        assert_eq!(
            ClassProbabilities::from_flat(&[0.1, f32::NAN], 2),
            Err(EvalError::NonFinite {
                what: "probabilities",
                index: 1
            })
        );
        assert_eq!(
            ClassProbabilities::from_flat(&[], 0),
            Err(EvalError::NoClasses)
        );
    }
}
