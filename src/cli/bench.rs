//! `spindle bench`: training throughput of the standard configurations and
//! EDF read throughput, one JSON object per line with `--json`. Each
//! training line gives wall and CPU time per step and the instruction set
//! the kernels ran (capped with `SPINDLE_ISA=avx512|avx2|portable`).

use anyhow::Context;
use clap::Args;
use serde_json::json;
use spindle_learn::bench::{STANDARD_CONFIGS, bench_edf_read, bench_train_step, write_bench_edf};
use spindle_learn::train::{DeviceChoice, select_device};

/// Arguments of `spindle bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Only the benchmarks whose name contains this text (e.g. `edf-read`, `lstm`).
    #[arg(long)]
    only: Option<String>,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    /// Minimum seconds of timed steps per configuration.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

/// Runs the benchmarks and prints their results.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    // A bad cap would otherwise only warn inside the kernels: refuse it.
    spindle_kernels::isa::cap_from_env().map_err(anyhow::Error::msg)?;
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    // The read is measured first (training changes the allocator's settings,
    // see `model::build`, which would flatter a later read) and printed last.
    let read = if wanted("edf-read") {
        // Removed when dropped.
        let dir = tempfile::tempdir().context("creating a temporary folder")?;
        let path = dir.path().join("bench-64ch-512hz-1h.edf");
        write_bench_edf(&path, 64, 512.0, 3600.0).context("writing the benchmark EDF")?;
        let result = bench_edf_read(&path, 5);
        drop(dir);
        Some(result.context("reading the benchmark EDF")?)
    } else {
        None
    };
    let device = select_device(args.device)?;
    for config in STANDARD_CONFIGS.iter().filter(|c| wanted(c.name)) {
        let r = bench_train_step(config, &device, 2, 5, args.seconds)
            .with_context(|| format!("benchmark {}", config.name))?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!(
                "{:<12} {:>8.1} samples/s  {:>8.1} ms/step  {:>8.1} CPU ms/step  {:>6} params  {} thread(s) on {}, {}",
                r.name,
                r.samples_per_s,
                r.step_ms,
                r.cpu_ms_per_step,
                r.params,
                r.threads,
                r.device,
                r.isa
            );
        }
    }
    if let Some(r) = read {
        if args.json {
            println!(
                "{}",
                json!({"name": "edf-read", "mb_per_s": r.mb_per_s, "peak_rss_mb": r.peak_rss_mb})
            );
        } else {
            let memory = r
                .peak_rss_mb
                .map_or("peak memory not measurable here".into(), |p| {
                    format!(
                        "peak memory {p:.0} MB for {:.0} MB of decoded samples ({:.2}x)",
                        r.decoded_mb,
                        p / r.decoded_mb
                    )
                });
            println!(
                "edf-read   {:.0} MB/s on a {:.0} MB file (64 ch x 512 Hz x 1 h); {memory}",
                r.mb_per_s, r.file_mb
            );
        }
    }
    Ok(())
}
