//! `spindle bench`: training throughput of the standard configurations and
//! EDF read throughput, one JSON object per line with `--json`.

use anyhow::Context;
use clap::Args;
use serde_json::json;
use spindle::bench::{bench_edf_read, write_bench_edf};

/// Arguments of `spindle bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Only the benchmarks whose name contains this text (e.g. `edf-read`).
    #[arg(long)]
    only: Option<String>,
}

/// Runs the benchmarks and prints their results.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    if wanted("edf-read") {
        let dir = tempfile_dir()?;
        let path = dir.join("bench-64ch-512hz-1h.edf");
        write_bench_edf(&path, 64, 512.0, 3600.0).context("writing the benchmark EDF")?;
        let result = bench_edf_read(&path, 5);
        let _ = std::fs::remove_dir_all(&dir);
        let r = result.context("reading the benchmark EDF")?;
        if args.json {
            println!(
                "{}",
                json!({"name": "edf-read", "mb_per_s": r.mb_per_s, "peak_rss_mb": r.peak_rss_mb})
            );
        } else {
            println!(
                "edf-read   {:.0} MB/s on a {:.0} MB file (64 ch x 512 Hz x 1 h); peak memory {:.0} MB for {:.0} MB of decoded samples ({:.2}x)",
                r.mb_per_s,
                r.file_mb,
                r.peak_rss_mb,
                r.decoded_mb,
                r.peak_rss_mb / r.decoded_mb
            );
        }
    }
    Ok(())
}

/// A fresh folder in the system's temporary directory.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("spindle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
