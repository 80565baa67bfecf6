//! What the network learned to see, as a map: every window of a run as a
//! point, once from what enters the network (the input map) and once from
//! what its penultimate layer makes of it (the learned map, from
//! `Traced::features` in `crate::model`), each projected to 2-D by PCA or
//! t-SNE; how well the classes separate in each (silhouette), and the
//! windows whose nearest neighbours in the learned feature space mostly
//! carry another label ("check these labels").

mod neighbours;
mod tsne;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

pub use neighbours::{Suspect, silhouette};

use super::ExplainError;
use super::windows::{Truth, WindowSet, model_input, run_all_windows};
use crate::model::Traced;
use crate::train::{DeviceChoice, RunInfo, pca, predict_windows};

/// The file the CLI writes into the run folder.
pub const EMBEDDING_TSV: &str = "embedding.tsv";
/// Its header.
pub const EMBEDDING_HEADER: &str =
    "window\tfile\tonset_s\tlabel\tsplit\tinput_x\tinput_y\tlearned_x\tlearned_y";
/// Neighbours that vote on a window's label.
pub const CHECK_NEIGHBOURS: usize = 10;
/// Principal components kept before t-SNE and the neighbour search.
const REDUCED_DIMS: usize = 50;
/// Windows run through the network at once.
const BATCH: usize = 64;

/// How a map is projected to 2-D.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// The first two principal components (fast, linear, global layout).
    Pca,
    /// t-SNE (Barnes-Hut) on the first 50 principal components: local
    /// neighbourhoods kept, distances between clusters not meaningful.
    Tsne,
}

impl Projection {
    /// `pca` or `tsne`.
    pub fn name(self) -> &'static str {
        match self {
            Projection::Pca => "pca",
            Projection::Tsne => "tsne",
        }
    }

    /// The projection named `name` (`pca`, `tsne`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "pca" => Some(Projection::Pca),
            "tsne" | "t-sne" => Some(Projection::Tsne),
            _ => None,
        }
    }
}

/// What to map and how.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedOptions {
    /// The projection.
    pub projection: Projection,
    /// Recordings to map; empty: every window of the run's own data.
    pub data: Vec<PathBuf>,
    /// Where the network runs.
    pub device: DeviceChoice,
}

/// The stages of [`embed_run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedStage {
    /// Running the network over the windows.
    Network,
    /// Projecting the input map.
    InputMap,
    /// Projecting the learned map.
    LearnedMap,
    /// Finding each window's neighbours.
    Neighbours,
}

impl EmbedStage {
    /// In words, for a progress line.
    pub fn doing(self) -> &'static str {
        match self {
            EmbedStage::Network => "running the network",
            EmbedStage::InputMap => "mapping the input",
            EmbedStage::LearnedMap => "mapping the learned features",
            EmbedStage::Neighbours => "finding neighbours",
        }
    }
}

/// How far [`embed_run`] has come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbedProgress {
    /// The stage running.
    pub stage: EmbedStage,
    /// Steps done of it.
    pub done: usize,
    /// Its steps in all.
    pub total: usize,
}

/// One window on both maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddedWindow {
    /// The recording.
    pub file: PathBuf,
    /// Onset, seconds from the recording's start.
    pub onset_s: f64,
    /// Its label: the class name, or the target value for regression.
    pub label: String,
    /// The class index (classification).
    pub class: Option<usize>,
    /// The target value (regression).
    pub value: Option<f32>,
    /// What the network predicts: a class name or a value.
    pub predicted: String,
    /// `train`, `validation`, `test`, or `data` for windows of `--data`.
    pub split: String,
    /// Its point on the input map.
    pub input: [f32; 2],
    /// Its point on the learned map.
    pub learned: [f32; 2],
}

/// Both maps of a run's windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// How the maps were projected.
    pub projection: Projection,
    /// The run's classes (empty for regression).
    pub classes: Vec<String>,
    /// True for a regression run (points colored by value, no silhouette).
    pub regression: bool,
    /// Width of the penultimate layer (features per window).
    pub feature_width: usize,
    /// The windows, training then validation then test (or in file order
    /// for `--data`).
    pub windows: Vec<EmbeddedWindow>,
    /// Silhouette of the classes on the input map (`None` for regression).
    pub input_silhouette: Option<f64>,
    /// Silhouette of the classes on the learned map.
    pub learned_silhouette: Option<f64>,
    /// Windows of which most of the [`CHECK_NEIGHBOURS`] nearest in the
    /// learned feature space carry another label, the most outvoted first.
    pub suspects: Vec<Suspect>,
}

impl Embedding {
    /// `embedding.tsv`: [`EMBEDDING_HEADER`], then one row per window.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from(EMBEDDING_HEADER);
        out.push('\n');
        for (i, w) in self.windows.iter().enumerate() {
            let file = w.file.display().to_string().replace(['\t', '\n'], " ");
            out.push_str(&format!(
                "{i}\t{file}\t{:.3}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                w.onset_s, w.label, w.split, w.input[0], w.input[1], w.learned[0], w.learned[1]
            ));
        }
        out
    }

    /// Writes [`Embedding::to_tsv`] to `run_dir/embedding.tsv` atomically;
    /// returns its path.
    pub fn save(&self, run_dir: &Path) -> Result<PathBuf, ExplainError> {
        let path = run_dir.join(EMBEDDING_TSV);
        spindle_signals::recording::write_atomic(&path, self.to_tsv().as_bytes())
            .map_err(|e| ExplainError::file(&path, e))?;
        Ok(path)
    }
}

/// Maps the run in `run_dir`: every window of its data (or of
/// `options.data`) through the network, both maps projected, silhouettes
/// and suspects. Reports each step to `progress` and stops with
/// [`ExplainError::Cancelled`] soon after `cancel` is set (a t-SNE map,
/// a few seconds, runs to its end first). Writes nothing.
pub fn embed_run(
    run_dir: &Path,
    options: &EmbedOptions,
    progress: &mut dyn FnMut(EmbedProgress),
    cancel: &AtomicBool,
) -> Result<Embedding, ExplainError> {
    let stop = || {
        if cancel.load(Ordering::Relaxed) {
            Err(ExplainError::Cancelled)
        } else {
            Ok(())
        }
    };
    let (info, net, device) = crate::train::load_run_traced(run_dir, options.device)?;
    stop()?;
    let (set, splits) = if options.data.is_empty() {
        let (set, splits) = run_all_windows(&info, run_dir)?;
        let names = splits.iter().map(|s| s.as_str().to_string()).collect();
        (set, names)
    } else {
        let set = super::windows::data_windows(&info, &options.data)?;
        let n = set.count();
        (set, vec!["data".to_string(); n])
    };
    stop()?;
    let x = model_input(&info, &set.raw);
    let n = set.count();
    let per = info.input_channels * info.input_len;
    let (features, width) = features_of(net.as_ref(), &info, &x, &device, progress, cancel)?;
    let outputs = predict_windows(
        net.as_ref(),
        &x,
        info.input_channels,
        info.input_len,
        BATCH,
        &device,
    )
    .map_err(|e| ExplainError::Compute(format!("running the network: {e}")))?;
    let classes = match &set.truth {
        Truth::Classes(y) => Some(y.clone()),
        Truth::Values(_) => None,
    };
    let mut maps = Mapper {
        projection: options.projection,
        progress,
        cancel,
    };
    let (input, _) = maps.map(&x, n, per, EmbedStage::InputMap, 0)?;
    let check = if classes.is_some() {
        CHECK_NEIGHBOURS
    } else {
        0
    };
    let (learned, near) = maps.map(&features, n, width, EmbedStage::LearnedMap, check)?;
    let suspects = classes
        .as_ref()
        .map(|y| {
            let first: Vec<Vec<neighbours::Near>> = near
                .iter()
                .map(|row| row.iter().take(CHECK_NEIGHBOURS).copied().collect())
                .collect();
            neighbours::suspects(y, &first)
        })
        .unwrap_or_default();
    let windows = embedded_windows(&info, &set, &splits, &outputs, &input, &learned);
    Ok(Embedding {
        projection: options.projection,
        classes: if info.regression {
            Vec::new()
        } else {
            info.classes.clone()
        },
        regression: info.regression,
        feature_width: width,
        input_silhouette: classes.as_ref().and_then(|y| silhouette(&input, y)),
        learned_silhouette: classes.as_ref().and_then(|y| silhouette(&learned, y)),
        windows,
        suspects,
    })
}

/// The penultimate layer's output of every window (`[n, width]`) and width.
fn features_of(
    net: &dyn Traced,
    info: &RunInfo,
    x: &[f32],
    device: &candle_core::Device,
    progress: &mut dyn FnMut(EmbedProgress),
    cancel: &AtomicBool,
) -> Result<(Vec<f32>, usize), ExplainError> {
    let per = info.input_channels * info.input_len;
    let n = x.len().checked_div(per).unwrap_or(0);
    let total = n.div_ceil(BATCH);
    let compute =
        |e: candle_core::Error| ExplainError::Compute(format!("running the network: {e}"));
    let mut out = Vec::new();
    let mut width = 0;
    for (b, chunk) in x.chunks(BATCH * per).enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(ExplainError::Cancelled);
        }
        progress(EmbedProgress {
            stage: EmbedStage::Network,
            done: b,
            total,
        });
        let rows = chunk.len() / per;
        let xb = Tensor::from_slice(chunk, (rows, info.input_channels, info.input_len), device)
            .map_err(compute)?;
        let f = net.features(&xb).map_err(compute)?;
        width = f.dim(1).map_err(compute)?;
        out.extend(
            f.flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(compute)?,
        );
    }
    Ok((out, width))
}

/// A 2-D map and each point's nearest neighbours (empty when not asked).
type MapAndNeighbours = (Vec<[f32; 2]>, Vec<Vec<neighbours::Near>>);

/// Projects vectors to 2-D with progress and cancel.
struct Mapper<'a> {
    projection: Projection,
    progress: &'a mut dyn FnMut(EmbedProgress),
    cancel: &'a AtomicBool,
}

impl Mapper<'_> {
    /// The 2-D map of the `n` rows of `data` (`[n, d]`) and, when `k` > 0,
    /// each row's `k` nearest (at least) in the first principal components.
    fn map(
        &mut self,
        data: &[f32],
        n: usize,
        d: usize,
        stage: EmbedStage,
        k: usize,
    ) -> Result<MapAndNeighbours, ExplainError> {
        let report =
            |p: &mut dyn FnMut(EmbedProgress), done, total| p(EmbedProgress { stage, done, total });
        report(self.progress, 0, 1);
        let dims = REDUCED_DIMS.min(n).min(d).max(2);
        let (reduced, _) = pca::principal_components(data, n, d, dims)
            .map_err(|e| ExplainError::Compute(format!("principal components: {e}")))?;
        let pca_map: Vec<[f32; 2]> = reduced.chunks_exact(dims).map(|r| [r[0], r[1]]).collect();
        let tsne = self.projection == Projection::Tsne;
        let k = if tsne {
            k.max(tsne::neighbours_needed(n))
        } else {
            k
        };
        let near = if k > 0 {
            let cancel = self.cancel;
            let progress = &mut *self.progress;
            neighbours::nearest(&reduced, n, dims, k, &mut |row| {
                progress(EmbedProgress {
                    stage: EmbedStage::Neighbours,
                    done: row,
                    total: n,
                });
                if cancel.load(Ordering::Relaxed) {
                    Err(ExplainError::Cancelled)
                } else {
                    Ok(())
                }
            })?
        } else {
            Vec::new()
        };
        let map = if tsne {
            let progress = &mut *self.progress;
            tsne::tsne_map(&reduced, dims, &near, &pca_map, &mut |e| {
                if e % 10 == 0 {
                    progress(EmbedProgress {
                        stage,
                        done: e,
                        total: tsne::EPOCHS,
                    });
                }
            })
            .map_err(ExplainError::Compute)?
        } else {
            pca_map
        };
        if self.cancel.load(Ordering::Relaxed) {
            return Err(ExplainError::Cancelled);
        }
        report(self.progress, 1, 1);
        Ok((map, near))
    }
}

/// The windows with their labels, predictions, splits and points.
fn embedded_windows(
    info: &RunInfo,
    set: &WindowSet,
    splits: &[String],
    outputs: &crate::train::Predictions,
    input: &[[f32; 2]],
    learned: &[[f32; 2]],
) -> Vec<EmbeddedWindow> {
    let predicted_class = outputs.classes();
    let name = |k: usize| info.classes.get(k).cloned().unwrap_or_default();
    set.windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (label, class, value, predicted) = match &set.truth {
                Truth::Classes(y) => (
                    name(y[i]),
                    Some(y[i]),
                    None,
                    predicted_class.get(i).map(|&k| name(k)).unwrap_or_default(),
                ),
                Truth::Values(v) => (
                    format!("{}", v[i]),
                    None,
                    Some(v[i]),
                    outputs
                        .outputs
                        .get(i * outputs.k.max(1))
                        .map(|p| format!("{p}"))
                        .unwrap_or_default(),
                ),
            };
            EmbeddedWindow {
                file: set.files[w.source].clone(),
                onset_s: w.onset_s,
                label,
                class,
                value,
                predicted,
                split: splits.get(i).cloned().unwrap_or_default(),
                input: input[i],
                learned: learned[i],
            }
        })
        .collect()
}
