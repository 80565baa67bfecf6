//! What the tests of spindle-learn share.

use std::path::{Path, PathBuf};

/// The teaching EEG of `spindle synth` (seed 5), written into `dir/data`
/// once, then reused: its `eeg` folder.
pub fn teaching_eeg(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    if !data.exists() {
        spindle_signals::synth::write_teaching_data(&data, 5).unwrap();
    }
    data.join("eeg")
}
