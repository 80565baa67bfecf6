//! Which variables of a `VarMap` the optimizer trains.
//!
//! Batch-norm running statistics (`*.running_mean`, `*.running_var`) live in
//! the `VarMap` so that checkpoints carry them, but they are updated by the
//! forward pass in training mode, not by gradients: keep them out of the
//! optimizer and out of parameter counts.

use candle_core::Var;
use candle_nn::VarMap;

/// True for variables trained by gradient descent; false for batch-norm
/// running statistics.
pub fn is_trainable_name(name: &str) -> bool {
    !(name.ends_with("running_mean") || name.ends_with("running_var"))
}

/// The trainable variables of `varmap` with their names, sorted by name.
pub fn trainable_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let Ok(data) = varmap.data().lock() else {
        return Vec::new();
    };
    let mut vars: Vec<(String, Var)> = data
        .iter()
        .filter(|(name, _)| is_trainable_name(name))
        .map(|(name, var)| (name.clone(), var.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Names of the trainable variables of `varmap`, sorted.
pub fn trainable_var_names(varmap: &VarMap) -> Vec<String> {
    trainable_vars(varmap).into_iter().map(|(n, _)| n).collect()
}

/// Number of trainable scalars in `varmap` (PyTorch's `requires_grad` count).
pub fn count_trainable_params(varmap: &VarMap) -> usize {
    trainable_vars(varmap)
        .iter()
        .map(|(_, v)| v.elem_count())
        .sum()
}
