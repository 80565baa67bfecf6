//! `spindle sweep --slurm --wait` on a real one-node Slurm cluster started
//! by `tests/slurm/start.sh` (munged, slurmctld and slurmd of Debian's
//! packages, every file in a temporary folder) and stopped afterwards by
//! their process ids. Skips with a message where `slurmctld` is not
//! installed, and fails instead when `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use spindle_signals::testdata::sample;

use crate::support::json;

const SLURMCTLD: &str = "/usr/sbin/slurmctld";

/// The cluster of `tests/slurm/start.sh` in a folder; stopped when dropped.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/start.sh");
        let out = Command::new("bash").arg(script).arg(dir).output().unwrap();
        let cluster = Cluster {
            dir: dir.to_path_buf(),
            conf: dir.join("slurm.conf"),
        };
        assert!(
            out.status.success(),
            "start.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/stop.sh");
        let _ = Command::new("bash").arg(script).arg(&self.dir).status();
    }
}

#[test]
fn a_sweep_runs_as_a_slurm_job_array_and_compare_reports_it() {
    if !Path::new(SLURMCTLD).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{SLURMCTLD} is missing: CI must install slurmctld, slurmd, slurm-client and munge"
        );
        eprintln!(
            "skipping: {SLURMCTLD} is not installed (apt-get install slurmctld slurmd slurm-client munge)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(&tmp.path().join("slurm"));

    // Recordings with hostile names: the batch script must run nothing of them.
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sample = sample("eeg");
    for (from, to) in [
        ("sub-01", "$(touch pwned)"),
        ("sub-02", "a b;c"),
        ("sub-03", "sub-03"),
        ("sub-04", "sub-04"),
    ] {
        for ext in [".edf", "_events.tsv"] {
            std::fs::copy(
                sample.join(format!("{from}{ext}")),
                data.join(format!("{to}{ext}")),
            )
            .unwrap();
        }
    }
    let out = tmp.path().join("sweep");
    let run = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .current_dir(tmp.path())
        .env("SLURM_CONF", &cluster.conf)
        .args(["sweep", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args([
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--lr",
            "0.001,0.01",
            "--seed",
            "0,1",
        ])
        .args(["--slurm", "--wait", "--sbatch-args", "--time=10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("submitted job "), "{stdout}");
    let script = std::fs::read_to_string(out.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3%"), "{script}");
    assert!(!script.contains("touch") && !script.contains(data.to_str().unwrap()));

    let plan = json(&out.join("sweep.json"));
    let tasks = plan["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4);
    for (i, task) in tasks.iter().enumerate() {
        assert_eq!(task["status"], "done");
        let dir = out.join(task["run_dir"].as_str().unwrap());
        for f in [
            "run.json",
            "metrics.csv",
            "model.safetensors",
            "predictions.tsv",
            "report.json",
        ] {
            assert!(dir.join(f).is_file(), "{}: {f} missing", dir.display());
        }
        // Slurm ran it: its log is the array task's output.
        let log = std::fs::read_to_string(out.join(format!("logs/task-{i}.out"))).unwrap();
        assert!(log.contains(&format!("task {i}: ")), "{log}");
        assert!(log.contains("run folder: "), "{log}");
    }
    assert!(!tmp.path().join("pwned").exists() && !out.join("pwned").exists());

    let compare = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .arg("compare")
        .arg(&out)
        .output()
        .unwrap();
    let table = String::from_utf8(compare.stdout).unwrap();
    assert!(compare.status.success(), "{table}");
    for task in tasks {
        let name = task["run_dir"].as_str().unwrap();
        let line = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{table}"));
        assert!(line.contains("complete"), "{line}");
    }

    // Submitted again, there is nothing left to do.
    let again = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .env("SLURM_CONF", &cluster.conf)
        .args(["sweep", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args([
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--lr",
            "0.001,0.01",
            "--seed",
            "0,1",
        ])
        .args(["--slurm", "--wait"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to submit"));
    drop(cluster);
}
