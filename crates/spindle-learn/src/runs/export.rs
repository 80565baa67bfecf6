//! Curves of one or more runs as one CSV table, for spreadsheets and plots
//! made elsewhere.

use std::fmt::Write as _;

use crate::train::EpochMetrics;

/// The header of [`curves_csv`].
pub const CURVES_HEADER: &str =
    "run,epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_balanced_accuracy,lr,seconds";

/// One row per run and epoch: `runs` pairs a run's name with its epochs.
/// Missing values are empty cells; names with commas or quotes are quoted.
pub fn curves_csv(runs: &[(&str, &[EpochMetrics])]) -> String {
    let mut s = format!("{CURVES_HEADER}\n");
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for (name, epochs) in runs {
        let name = if name.contains([',', '"', '\n']) {
            format!("\"{}\"", name.replace('"', "\"\""))
        } else {
            (*name).to_string()
        };
        for e in *epochs {
            let _ = writeln!(
                s,
                "{name},{},{},{},{},{},{},{},{}",
                e.epoch,
                e.train_loss,
                opt(e.train_accuracy),
                opt(e.val_loss),
                opt(e.val_accuracy),
                opt(e.val_balanced_accuracy),
                e.lr,
                e.seconds
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_run_and_epoch() {
        let e = |epoch, val: Option<f64>| EpochMetrics {
            epoch,
            train_loss: 0.5,
            train_accuracy: Some(0.75),
            val_loss: val,
            val_accuracy: None,
            val_balanced_accuracy: None,
            lr: 0.001,
            seconds: 1.5,
        };
        let a = [e(1, Some(0.25)), e(2, None)];
        let b = [e(1, Some(1.0))];
        let csv = curves_csv(&[("a", &a), ("b,c", &b)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CURVES_HEADER);
        assert_eq!(lines[1], "a,1,0.5,0.75,0.25,,,0.001,1.5");
        assert_eq!(lines[2], "a,2,0.5,0.75,,,,0.001,1.5");
        assert_eq!(lines[3], "\"b,c\",1,0.5,0.75,1,,,0.001,1.5");
        assert_eq!(lines.len(), 4);
    }
}
