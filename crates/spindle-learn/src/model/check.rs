//! Range checks shared by the architectures' `validate`: each names the
//! setting and the value it got.

/// `p` is a probability in `[0, 1)` (dropout).
pub(crate) fn probability(name: &str, p: f64) -> Result<(), String> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("{name} must be in [0, 1), got {p}"))
    }
}

/// `v` is at least 1.
pub(crate) fn positive(name: &str, v: usize) -> Result<(), String> {
    if v >= 1 {
        Ok(())
    } else {
        Err(format!("{name} must be at least 1"))
    }
}

/// `v` is a non-empty list of positive layer sizes.
pub(crate) fn widths(name: &str, v: &[usize]) -> Result<(), String> {
    if v.is_empty() || v.contains(&0) {
        Err(format!(
            "{name} must be a non-empty list of positive sizes, got {v:?}"
        ))
    } else {
        Ok(())
    }
}

/// Batch-norm momentum in `[0, 1]` (PyTorch convention) and a positive epsilon.
pub(crate) fn batch_norm(momentum: f64, eps: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&momentum) {
        return Err(format!(
            "batch_norm_momentum must be in [0, 1], got {momentum}"
        ));
    }
    if eps.is_nan() || eps <= 0.0 {
        return Err(format!("batch_norm_eps must be positive, got {eps}"));
    }
    Ok(())
}

/// A positive, finite real number.
pub(crate) fn positive_real(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be positive, got {v}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_the_setting() {
        assert!(probability("dropout", 0.5).is_ok());
        assert!(probability("dropout", 1.0).is_err_and(|e| e.contains("dropout")));
        assert!(positive("kernel", 0).is_err_and(|e| e.contains("kernel")));
        assert!(widths("filters", &[]).is_err());
        assert!(widths("filters", &[8, 0]).is_err());
        assert!(widths("filters", &[8]).is_ok());
        assert!(batch_norm(1.5, 1e-5).is_err());
        assert!(batch_norm(0.1, 0.0).is_err());
        assert!(batch_norm(0.1, 1e-5).is_ok());
        assert!(positive_real("max_norm", f64::NAN).is_err());
    }
}
