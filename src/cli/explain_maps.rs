//! `spindle explain --embedding pca|tsne` and `--filters`: the maps of what
//! a run's network learned to see (`embedding.tsv`) and its first layer's
//! filters (`filters.tsv`), written into the run folder and summed up in a
//! few lines.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use indicatif::{ProgressBar, ProgressStyle};
use spindle_learn::explain::embedding::{EmbedOptions, EmbedProgress, Projection, embed_run};
use spindle_learn::explain::filters::run_filters;
use spindle_learn::train::DeviceChoice;

/// The windows to check printed at most.
const SHOWN_SUSPECTS: usize = 10;

/// Maps the run's windows, writes `embedding.tsv` and prints the
/// silhouettes and the windows to check.
pub fn embedding(
    run: &Path,
    data: &[PathBuf],
    projection: Projection,
    device: DeviceChoice,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:28} {bar:30} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = |p: EmbedProgress| {
        bar.set_message(p.stage.doing());
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    };
    let options = EmbedOptions {
        projection,
        data: data.to_vec(),
        device,
    };
    let cancel = AtomicBool::new(false);
    let map = embed_run(run, &options, &mut progress, &cancel);
    bar.finish_and_clear();
    let map = map?;
    let path = map.save(run)?;
    println!(
        "Mapped {} windows by {} (the penultimate layer: {} features per window).",
        map.windows.len(),
        projection.name(),
        map.feature_width
    );
    if let (Some(input), Some(learned)) = (map.input_silhouette, map.learned_silhouette) {
        println!(
            "Silhouette of the classes (-1..1, higher: apart): input map {input:.3}, learned map {learned:.3}."
        );
        println!(
            "Check these labels ({} windows whose 10 nearest in the learned features mostly carry another label):",
            map.suspects.len()
        );
        for s in map.suspects.iter().take(SHOWN_SUSPECTS) {
            let w = &map.windows[s.window];
            println!(
                "  window {:>5}  {} at {:.2} s  labeled {}, {} of {} neighbours {}",
                s.window,
                w.file.display(),
                w.onset_s,
                w.label,
                s.others,
                s.neighbours,
                map.classes
                    .get(s.neighbours_label)
                    .map_or("?", String::as_str)
            );
        }
        if map.suspects.len() > SHOWN_SUSPECTS {
            println!("  ... all in the app's Feature explorer");
        }
    }
    println!("wrote {}", path.display());
    Ok(())
}

/// Writes `filters.tsv` and prints each temporal filter's peak.
pub fn filters(run: &Path, device: DeviceChoice) -> anyhow::Result<()> {
    let f = run_filters(run, device)?;
    let path = f.save(run)?;
    let peaks: Vec<String> = f
        .temporal
        .iter()
        .map(|t| format!("{:.1}", t.peak_hz))
        .collect();
    println!(
        "First layer {} ({} temporal filters, {} spatial): peaks at {} Hz.",
        f.layer,
        f.temporal.len(),
        f.spatial.len(),
        peaks.join(", ")
    );
    println!("wrote {}", path.display());
    Ok(())
}
