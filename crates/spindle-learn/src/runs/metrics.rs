//! Following a growing `metrics.csv` while a run trains.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::RunsError;
use crate::train::EpochMetrics;

/// Bytes before the read position that must still be there at the next
/// poll; when they changed, the file was rewritten and is read again.
const CHECK_BYTES: usize = 64;

/// The columns of `metrics.csv` that a follower needs, by position.
#[derive(Debug, Clone, Copy)]
struct Columns {
    epoch: usize,
    split: usize,
    loss: usize,
    accuracy: usize,
    balanced_accuracy: usize,
    lr: usize,
    seconds: usize,
    count: usize,
}

impl Columns {
    /// The positions of the needed columns in `header`.
    fn from_header(header: &str) -> Result<Self, String> {
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        let find = |name: &str| {
            names.iter().position(|n| *n == name).ok_or_else(|| {
                format!("not a metrics.csv header: no `{name}` column in `{header}`")
            })
        };
        Ok(Self {
            epoch: find("epoch")?,
            split: find("split")?,
            loss: find("loss")?,
            accuracy: find("accuracy")?,
            balanced_accuracy: find("balanced_accuracy")?,
            lr: find("lr")?,
            seconds: find("seconds")?,
            count: names.len(),
        })
    }
}

/// The train row of an epoch, waiting for its validation row.
#[derive(Debug, Clone, Copy)]
struct TrainRow {
    loss: f64,
    accuracy: Option<f64>,
}

/// Follows a `metrics.csv` that a training run appends to (one `train` and
/// one `validation` row per epoch, see `crate::train`'s run folder), reading
/// only what was added since the last [`MetricsFollower::poll`].
///
/// A partial last line is kept until the rest arrives. When the file shrinks
/// or its already-read bytes change (a new run rewrote it), the follower
/// starts over from the beginning. A missing file is not an error: the run
/// may not have written it yet.
#[derive(Debug, Clone)]
pub struct MetricsFollower {
    path: PathBuf,
    /// Bytes consumed so far (complete lines plus `partial`).
    offset: u64,
    /// The last bytes before `offset`, to notice rewrites.
    tail: Vec<u8>,
    /// The bytes of an incomplete last line.
    partial: Vec<u8>,
    /// Complete lines consumed, for error messages.
    lines: usize,
    /// The header's columns, once read.
    columns: Option<Columns>,
    /// Train rows whose validation row has not arrived.
    pending: BTreeMap<usize, TrainRow>,
    epochs: Vec<EpochMetrics>,
}

impl MetricsFollower {
    /// A follower of `path` that has read nothing yet.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            offset: 0,
            tail: Vec::new(),
            partial: Vec::new(),
            lines: 0,
            columns: None,
            pending: BTreeMap::new(),
            epochs: Vec::new(),
        }
    }

    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The epochs whose train and validation rows have both been read, in
    /// file order.
    pub fn epochs(&self) -> &[EpochMetrics] {
        &self.epochs
    }

    /// Reads what was appended since the last poll. `Ok(true)` when
    /// [`MetricsFollower::epochs`] changed (new epochs, or the file was
    /// rewritten and read again).
    ///
    /// A malformed line is skipped and reported as an error after the rest
    /// of the new lines have been read, so the next poll continues after it.
    pub fn poll(&mut self) -> Result<bool, RunsError> {
        let before = self.epochs.len();
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(RunsError::io(&self.path, e)),
        };
        let len = file
            .metadata()
            .map_err(|e| RunsError::io(&self.path, e))?
            .len();
        let mut restarted = false;
        if len < self.offset || !self.tail_unchanged(&mut file)? {
            restarted = !self.epochs.is_empty();
            *self = Self::new(&self.path);
        }
        if len == self.offset {
            return Ok(restarted);
        }
        file.seek(SeekFrom::Start(self.offset))
            .map_err(|e| RunsError::io(&self.path, e))?;
        let mut new = Vec::new();
        file.take(len - self.offset)
            .read_to_end(&mut new)
            .map_err(|e| RunsError::io(&self.path, e))?;
        self.offset += new.len() as u64;
        self.tail.extend_from_slice(&new);
        if self.tail.len() > CHECK_BYTES {
            self.tail.drain(..self.tail.len() - CHECK_BYTES);
        }

        self.partial.extend_from_slice(&new);
        let mut first_error = None;
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.lines += 1;
            if let Err(message) = self.take_line(&line[..end]) {
                first_error.get_or_insert(RunsError::line(&self.path, self.lines, message));
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(restarted || self.epochs.len() != before),
        }
    }

    /// True when the bytes just before the read position are still those read.
    fn tail_unchanged(&self, file: &mut std::fs::File) -> Result<bool, RunsError> {
        if self.tail.is_empty() {
            return Ok(true);
        }
        let start = self.offset - self.tail.len() as u64;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| RunsError::io(&self.path, e))?;
        let mut now = vec![0u8; self.tail.len()];
        match file.read_exact(&mut now) {
            Ok(()) => Ok(now == self.tail),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(RunsError::io(&self.path, e)),
        }
    }

    /// Handles one complete line (without its `\n`).
    fn take_line(&mut self, line: &[u8]) -> Result<(), String> {
        let line = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_string())?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return Ok(());
        }
        let Some(columns) = self.columns else {
            self.columns = Some(Columns::from_header(line)?);
            return Ok(());
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != columns.count {
            return Err(format!(
                "expected {} columns, found {}",
                columns.count,
                fields.len()
            ));
        }
        let epoch: usize = fields[columns.epoch]
            .parse()
            .map_err(|_| format!("epoch `{}` is not a whole number", fields[columns.epoch]))?;
        let loss = optional(fields[columns.loss], "loss")?;
        let accuracy = optional(fields[columns.accuracy], "accuracy")?;
        match fields[columns.split] {
            "train" => {
                let loss = loss.ok_or("train row without a loss")?;
                self.pending.insert(epoch, TrainRow { loss, accuracy });
            }
            "validation" => {
                let train = self.pending.remove(&epoch).ok_or_else(|| {
                    format!("validation row of epoch {epoch} without its train row")
                })?;
                let lr = optional(fields[columns.lr], "lr")?.unwrap_or(f64::NAN);
                let seconds = optional(fields[columns.seconds], "seconds")?.unwrap_or(f64::NAN);
                self.epochs.push(EpochMetrics {
                    epoch,
                    train_loss: train.loss,
                    train_accuracy: train.accuracy,
                    val_loss: loss,
                    val_accuracy: accuracy,
                    val_balanced_accuracy: optional(
                        fields[columns.balanced_accuracy],
                        "balanced_accuracy",
                    )?,
                    lr,
                    seconds,
                });
            }
            other => {
                return Err(format!(
                    "unknown split `{other}` (expected train or validation)"
                ));
            }
        }
        Ok(())
    }
}

/// An empty field as `None`, else the number.
fn optional(field: &str, what: &str) -> Result<Option<f64>, String> {
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse()
        .map(Some)
        .map_err(|_| format!("{what} `{field}` is not a number"))
}

/// Reads a whole `metrics.csv` at once: its complete epochs.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>, RunsError> {
    let mut follower = MetricsFollower::new(path);
    follower.poll()?;
    Ok(follower.epochs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The rows `MetricsLog::append` writes for `m` (the log itself is
    /// private to `crate::train`; this mirrors its format exactly).
    fn rows(m: &EpochMetrics, step: usize) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        format!(
            "{},{step},train,{:.6},{},,{:.8},{:.3}\n{},{step},validation,{},{},{},{:.8},{:.3}\n",
            m.epoch,
            m.train_loss,
            opt(m.train_accuracy),
            m.lr,
            m.seconds,
            m.epoch,
            opt(m.val_loss),
            opt(m.val_accuracy),
            opt(m.val_balanced_accuracy),
            m.lr,
            m.seconds
        )
    }

    const HEADER: &str = "epoch,step,split,loss,accuracy,balanced_accuracy,lr,seconds\n";

    fn epoch(n: usize) -> EpochMetrics {
        EpochMetrics {
            epoch: n,
            train_loss: 1.0 / n as f64,
            train_accuracy: Some(0.5 + 0.01 * n as f64),
            val_loss: Some(1.5 / n as f64),
            val_accuracy: Some(0.25 * n as f64),
            val_balanced_accuracy: Some(0.125 * n as f64),
            lr: 0.001,
            seconds: 2.5,
        }
    }

    fn regression_epoch(n: usize) -> EpochMetrics {
        EpochMetrics {
            train_accuracy: None,
            val_accuracy: None,
            val_balanced_accuracy: None,
            ..epoch(n)
        }
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn close(a: &EpochMetrics, b: &EpochMetrics) {
        let near = |x: f64, y: f64| (x - y).abs() < 1e-5;
        let near_opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => near(x, y),
            (None, None) => true,
            _ => false,
        };
        assert_eq!(a.epoch, b.epoch);
        assert!(near(a.train_loss, b.train_loss), "{a:?} {b:?}");
        assert!(near_opt(a.train_accuracy, b.train_accuracy), "{a:?} {b:?}");
        assert!(near_opt(a.val_loss, b.val_loss), "{a:?} {b:?}");
        assert!(near_opt(a.val_accuracy, b.val_accuracy), "{a:?} {b:?}");
        assert!(
            near_opt(a.val_balanced_accuracy, b.val_balanced_accuracy),
            "{a:?} {b:?}"
        );
        assert!(
            near(a.lr, b.lr) && near(a.seconds, b.seconds),
            "{a:?} {b:?}"
        );
    }

    #[test]
    fn follows_appends_and_partial_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        let mut f = MetricsFollower::new(&path);
        // not written yet
        assert!(!f.poll().unwrap());
        assert!(f.epochs().is_empty());

        append(&path, HEADER);
        assert!(!f.poll().unwrap());
        append(&path, &rows(&epoch(1), 10));
        assert!(f.poll().unwrap());
        assert_eq!(f.epochs().len(), 1);
        close(&f.epochs()[0], &epoch(1));

        // Epoch 2 arrives in three pieces: half the train row, the rest of it
        // with half the validation row, then the rest.
        let text = rows(&epoch(2), 20);
        let (train, validation) = text.split_at(text.find("2,20,validation").unwrap());
        let (t1, t2) = train.split_at(7);
        let (v1, v2) = validation.split_at(12);
        append(&path, t1);
        assert!(!f.poll().unwrap());
        append(&path, &format!("{t2}{v1}"));
        assert!(!f.poll().unwrap(), "validation row incomplete");
        assert_eq!(f.epochs().len(), 1);
        append(&path, v2);
        assert!(f.poll().unwrap());
        assert_eq!(f.epochs().len(), 2);
        close(&f.epochs()[1], &epoch(2));
        // nothing new
        assert!(!f.poll().unwrap());
        assert_eq!(read_metrics(&path).unwrap().len(), 2);
    }

    #[test]
    fn regression_rows_have_no_accuracy() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        append(&path, &format!("{HEADER}{}", rows(&regression_epoch(1), 4)));
        let epochs = read_metrics(&path).unwrap();
        assert_eq!(epochs.len(), 1);
        close(&epochs[0], &regression_epoch(1));
        assert_eq!(epochs[0].val_accuracy, None);
    }

    #[test]
    fn truncation_and_rewrite_start_over() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        let three: String = (1..=3).map(|n| rows(&epoch(n), n * 10)).collect();
        std::fs::write(&path, format!("{HEADER}{three}")).unwrap();
        let mut f = MetricsFollower::new(&path);
        assert!(f.poll().unwrap());
        assert_eq!(f.epochs().len(), 3);

        // A new run truncates the file and writes one epoch: shorter.
        std::fs::write(&path, format!("{HEADER}{}", rows(&regression_epoch(7), 1))).unwrap();
        assert!(f.poll().unwrap());
        assert_eq!(f.epochs().len(), 1);
        close(&f.epochs()[0], &regression_epoch(7));

        // Rewritten to something longer than what was read: the old bytes
        // before the read position changed.
        let four: String = (4..=7).map(|n| rows(&epoch(n), n)).collect();
        std::fs::write(&path, format!("{HEADER}{four}")).unwrap();
        assert!(f.poll().unwrap());
        let numbers: Vec<usize> = f.epochs().iter().map(|e| e.epoch).collect();
        assert_eq!(numbers, vec![4, 5, 6, 7]);

        // Emptied: no epochs any more.
        std::fs::write(&path, "").unwrap();
        assert!(f.poll().unwrap());
        assert!(f.epochs().is_empty());
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        let text = format!(
            "{HEADER}{}1,10,train,abc,,,0.001,1.0\n{}",
            rows(&epoch(1), 10),
            rows(&epoch(2), 20)
        );
        std::fs::write(&path, text).unwrap();
        let mut f = MetricsFollower::new(&path);
        let err = f.poll().unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(msg.contains("line 4:") && msg.contains("abc"), "{msg}");
        // The good epochs around it were still read.
        let numbers: Vec<usize> = f.epochs().iter().map(|e| e.epoch).collect();
        assert_eq!(numbers, vec![1, 2]);
        assert!(!f.poll().unwrap());

        std::fs::write(&path, "time,value\n").unwrap();
        let err = MetricsFollower::new(&path).poll().unwrap_err();
        assert!(
            err.to_string().contains("line 1: not a metrics.csv header"),
            "{err}"
        );
    }
}
