//! The windows of one split laid out for a model, with their targets and
//! where each came from.

use super::WindowRef;

/// The windows of one split, ready for a model.
#[derive(Debug, Clone, Default)]
pub struct SplitData {
    /// Samples laid out `[n, channels, window_len]`, normalized.
    pub x: Vec<f32>,
    /// Class index of each window (classification).
    pub y: Vec<usize>,
    /// Target value of each window (regression).
    pub values: Vec<f32>,
    /// Where each window came from.
    pub windows: Vec<WindowRef>,
}

impl SplitData {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// True without windows.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}
