//! `spindle explain`: what a trained run's network relies on (channels,
//! frequency bands, channel × frequency, time in the window), written to the
//! run folder's `explain.json` and printed as a ranking.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spindle_learn::explain::embedding::Projection;
use spindle_learn::explain::{
    EXPLAIN_JSON, ExplainOptions, ExplainProgress, Explanation, Method, band_label, explain_run,
    parse_bands,
};
use spindle_learn::train::DeviceChoice;

/// Arguments of `spindle explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The run folder written by `spindle train` (or the app).
    #[arg(long)]
    run: PathBuf,
    /// Labeled recordings to explain on (default: the run's own test windows).
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Methods, comma-separated: channels (shuffle one channel across
    /// windows), bands (remove one frequency band), amplitude (perturb
    /// Fourier amplitudes per channel and frequency), saliency (gradient ×
    /// input and Grad-CAM over time). Default: all.
    #[arg(long, value_delimiter = ',', value_parser = parse_method)]
    methods: Vec<Method>,
    /// Shuffles per channel, and amplitude perturbations of every window.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Seed of the shuffles and perturbations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Frequency bands, NAME:LOW-HIGH in Hz, comma-separated (default for
    /// EEG: slow:0-1,delta:1-4,theta:4-8,alpha:8-13,beta:13-30,gamma:30-45;
    /// for sound: octaves from 250 Hz up to half the sample rate).
    #[arg(long)]
    bands: Option<String>,
    /// Print the explanation as JSON (what explain.json holds) instead of the ranking.
    #[arg(long)]
    json: bool,
    /// Map every window (the run's training, validation and test windows,
    /// or those of --data) as the network's input and as its penultimate
    /// layer sees it, projected to 2-D by pca or tsne, into embedding.tsv
    /// in the run folder; prints the silhouette of each map and the windows
    /// to check. Without --methods, only the maps are made.
    #[arg(long, value_name = "pca|tsne")]
    embedding: Option<String>,
    /// Write the first layer's filters (frequency responses; spatial
    /// weights per channel for EEGNet, ShallowConvNet, Deep4) into
    /// filters.tsv in the run folder. Without --methods, only the filters.
    #[arg(long)]
    filters: bool,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

fn parse_method(text: &str) -> Result<Method, String> {
    Method::ALL
        .into_iter()
        .find(|m| m.name() == text.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
            format!("{text:?} is not a method; choose from {}", names.join(", "))
        })
}

/// Explains the run, writes `explain.json` into it and prints the result.
pub fn run(args: &ExplainArgs) -> anyhow::Result<()> {
    let bands = match &args.bands {
        Some(text) => parse_bands(text).map_err(|e| anyhow!("--bands: {e}"))?,
        None => Vec::new(),
    };
    if args.repeats == 0 {
        anyhow::bail!("--repeats: must be at least 1");
    }
    let projection = match &args.embedding {
        Some(text) => Some(
            Projection::parse(text)
                .ok_or_else(|| anyhow!("--embedding: {text:?} is not pca or tsne"))?,
        ),
        None => None,
    };
    if !args.run.is_dir() {
        anyhow::bail!("{}: no such run folder", args.run.display());
    }
    let maps_only = args.methods.is_empty() && (args.embedding.is_some() || args.filters);
    if let Some(projection) = projection {
        super::explain_maps::embedding(&args.run, &args.data, projection, args.device)?;
    }
    if args.filters {
        super::explain_maps::filters(&args.run, args.device)?;
    }
    if maps_only {
        return Ok(());
    }
    let options = ExplainOptions {
        methods: if args.methods.is_empty() {
            Method::ALL.to_vec()
        } else {
            args.methods.clone()
        },
        data: args.data.clone(),
        repeats: args.repeats,
        seed: args.seed,
        bands,
        device: args.device,
    };
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:10} {bar:30} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = |p: ExplainProgress| {
        bar.set_message(p.method.name());
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    };
    let cancel = AtomicBool::new(false);
    let explanation = explain_run(&args.run, &options, &mut progress, &cancel);
    bar.finish_and_clear();
    let explanation = explanation?;
    explanation.save(&args.run)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&explanation).context("writing the explanation")?
        );
    } else {
        print!("{}", ranking(&explanation));
        println!("wrote {}", args.run.join(EXPLAIN_JSON).display());
    }
    Ok(())
}

/// The explanation in words: rankings, strongest cells, where in time.
fn ranking(e: &Explanation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Explained on {}: {} {:.3} (a model that ignores its input: {:.3}).",
        e.windows.description, e.metric, e.baseline_score, e.chance_score
    );
    if let Some(channels) = &e.channels {
        let _ = writeln!(
            s,
            "\nChannels: drop of {} when the channel is shuffled across windows (mean ± spread over {} repeats; larger: the model needs it more)",
            e.metric, e.repeats
        );
        let mut order: Vec<_> = channels.iter().collect();
        order.sort_by(|a, b| b.mean_drop.total_cmp(&a.mean_drop));
        for (i, c) in order.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {:>2}. {:<12} {:+.3} ± {:.3}",
                i + 1,
                c.name,
                c.mean_drop,
                c.spread
            );
        }
    }
    if let Some(bands) = &e.bands {
        let _ = writeln!(
            s,
            "\nBands: drop of {} when the band is filtered out of every channel",
            e.metric
        );
        let mut order: Vec<_> = bands.iter().collect();
        order.sort_by(|a, b| b.mean_drop.total_cmp(&a.mean_drop));
        for (i, b) in order.iter().enumerate() {
            let band = band_label(&b.name, b.low_hz, b.high_hz);
            let _ = writeln!(s, "  {:>2}. {:<22} {:+.3}", i + 1, band, b.mean_drop);
        }
        for skipped in &e.skipped_bands {
            let _ = writeln!(s, "  not measured: {}: {}", skipped.name, skipped.reason);
        }
    }
    if let Some(map) = &e.amplitude {
        let what = if e.metric == "R²" {
            "the output (+: raises it, −: lowers it)"
        } else {
            "each class's output (+: pushes toward the class, −: away)"
        };
        let _ = writeln!(
            s,
            "\nChannel × frequency (amplitude perturbation): the strongest links between more amplitude and {what}"
        );
        for (k, class) in map.classes.iter().enumerate() {
            let cells: Vec<String> = map
                .strongest(k, 3)
                .iter()
                .map(|&(c, f, r)| {
                    format!("{} {:.1} Hz {:+.2}", map.channels[c], map.freqs_hz[f], r)
                })
                .collect();
            let _ = writeln!(s, "  {class}: {}", cells.join(", "));
        }
        let _ = writeln!(
            s,
            "  (|r| below {:.2} may be chance: 3 standard deviations over {} windows × {} repeats)",
            e.chance_correlation(),
            e.windows.count,
            e.repeats
        );
    }
    if let Some(sal) = &e.saliency {
        let _ = writeln!(
            s,
            "\nTime (gradient × input, averaged over the windows of each class; the window is {:.2} s)",
            sal.window_s
        );
        for c in &sal.classes {
            let over_time = c.mass_over_time();
            let bin_s = sal.window_s / over_time.len().max(1) as f64;
            let peak = over_time
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            let by_channel = c.mass_by_channel();
            let top = by_channel
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            let mut line = format!(
                "  {} ({} windows): peak at {:.2}–{:.2} s, {:.0} % in the second half; most on {}",
                c.class,
                c.windows,
                peak as f64 * bin_s,
                (peak + 1) as f64 * bin_s,
                100.0 * c.share_in_second_half(),
                sal.channels.get(top).map_or("-", String::as_str)
            );
            if let Some(cam) = &c.grad_cam {
                let cam_peak = cam
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i);
                let _ = write!(
                    line,
                    "; Grad-CAM peak at {:.2} s",
                    (cam_peak as f64 + 0.5) * sal.window_s / cam.len().max(1) as f64
                );
            }
            let _ = writeln!(s, "{line}");
        }
    }
    let took: Vec<String> = e
        .seconds
        .iter()
        .map(|(m, t)| format!("{m} {t:.1} s"))
        .collect();
    let _ = writeln!(s, "\nTook: {}", took.join(", "));
    let _ = writeln!(s, "\n{}", e.caveat);
    s
}
