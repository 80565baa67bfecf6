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

/// A small deterministic generator (xorshift) with Gaussian draws, for
/// generated recordings.
pub struct Noise(pub u64);

impl Noise {
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Runs a training job to its end and returns its outcome (panics on a
/// failure or a silence of two minutes).
pub fn finish(job: spindle_learn::jobs::TrainJob, name: &str) -> spindle_learn::train::Outcome {
    use spindle_learn::train::Event;
    loop {
        match job.events.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(Event::Finished(outcome)) => {
                job.join();
                return *outcome;
            }
            Ok(Event::Failed(f)) => panic!("{name}: {f:?}"),
            Ok(_) => {}
            Err(e) => panic!("{name}: no event: {e}"),
        }
    }
}
