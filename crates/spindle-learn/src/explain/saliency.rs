//! Saliency over time. Gradient × input: how much each input value, times
//! how strongly the class's output reacts to it, adds to that output,
//! summed per channel over time bins. Grad-CAM (for networks with a
//! convolutional stage): the last `[features, time]` layer's outputs
//! weighted by the gradient of the class's output, summed over features and
//! kept where positive; where in the window that layer found evidence for
//! the class.

use candle_core::{Tensor, Var};

use super::scoring::{Scorer, Steps};
use super::windows::{Truth, WindowSet, model_input};
use super::{ClassSaliency, ExplainError, Saliency, WindowSaliency};
use crate::model::Trace;
use crate::train::Predictions;

/// Time bins across a window (fewer when the input has fewer columns).
pub const SALIENCY_BINS: usize = 50;

/// Windows explained per pass through the network.
pub(crate) const BATCH: usize = 32;

/// Most windows whose own saliency is kept in `explain.json` (the first in
/// file order; class averages use every window).
pub const MAX_SALIENCY_WINDOWS: usize = 500;

/// Most per-window values (windows × channels × bins) kept, so that
/// `explain.json` stays a few MB with many channels.
const MAX_SALIENCY_VALUES: usize = 250_000;

fn compute(e: candle_core::Error) -> ExplainError {
    ExplainError::Compute(format!("computing saliency: {e}"))
}

/// The saliency of every window and its class averages. `predictions`
/// are the network's outputs on the unperturbed windows.
pub(crate) fn saliency(
    set: &WindowSet,
    scorer: &Scorer,
    predictions: &Predictions,
    channel_names: &[String],
    steps: &mut Steps,
) -> Result<Saliency, ExplainError> {
    let info = scorer.info;
    let (rows, cols) = (info.input_channels, info.input_len);
    let n_ch = set.channels.max(1);
    let bins = SALIENCY_BINS.min(cols).max(1);
    let classes: Vec<String> = match set.truth {
        Truth::Classes(_) => info.classes.clone(),
        Truth::Values(_) => vec!["output".to_string()],
    };
    let k = classes.len();
    let predicted: Vec<usize> = match set.truth {
        Truth::Classes(_) => predictions.classes(),
        Truth::Values(_) => vec![0; set.count()],
    };
    let truth_class = |i: usize| match &set.truth {
        Truth::Classes(y) => y[i],
        Truth::Values(_) => 0,
    };
    let mut sum_gxi = vec![vec![0.0f64; n_ch * bins]; k];
    let mut sum_cam = vec![vec![0.0f64; bins]; k];
    let mut counts = vec![0usize; k];
    let mut cam_layer: Option<String> = None;
    let mut windows = Vec::new();
    let per_raw = set.channels * set.len;
    let kept_windows = MAX_SALIENCY_WINDOWS
        .min(MAX_SALIENCY_VALUES / (n_ch * bins))
        .max(1);
    for first in (0..set.count()).step_by(BATCH) {
        let b = BATCH.min(set.count() - first);
        let raw = &set.raw[first * per_raw..(first + b) * per_raw];
        let x_host = model_input(info, raw);
        let x = Var::from_tensor(
            &Tensor::from_slice(&x_host, (b, rows, cols), scorer.device).map_err(compute)?,
        )
        .map_err(compute)?;
        let mut trace = Trace::probing();
        let logits = scorer
            .net
            .forward_traced(x.as_tensor(), false, &mut trace)
            .map_err(compute)?;
        let probe = trace
            .into_probe()
            .filter(|p| p.value.rank() == 3 && p.value.dims()[0] == b);
        if let Some(p) = &probe {
            cam_layer.get_or_insert_with(|| p.layer.clone());
        }
        // Per window of the batch: the maps toward each output.
        let mut gxi_by_output = vec![Vec::new(); k];
        let mut cam_by_output = vec![Vec::new(); k];
        for j in 0..k {
            let target = logits
                .narrow(1, j, 1)
                .and_then(|t| t.sum_all())
                .map_err(compute)?;
            let grads = target.backward().map_err(compute)?;
            let gx: Vec<f32> = match grads.get(x.as_tensor()) {
                Some(g) => g.flatten_all().and_then(|g| g.to_vec1()).map_err(compute)?,
                None => vec![0.0; x_host.len()],
            };
            gxi_by_output[j] = (0..b)
                .map(|i| {
                    let at = i * rows * cols;
                    binned_gradient_x_input(
                        &gx[at..at + rows * cols],
                        &x_host[at..at + rows * cols],
                        rows,
                        cols,
                        n_ch,
                        bins,
                    )
                })
                .collect();
            if let Some(p) = &probe
                && let Some(ga) = grads.get(p.var.as_tensor())
            {
                cam_by_output[j] = grad_cam(&p.value, ga, bins).map_err(compute)?;
            }
        }
        for (i, global) in (first..first + b).enumerate() {
            let t = truth_class(global);
            counts[t] += 1;
            for (acc, v) in sum_gxi[t].iter_mut().zip(&gxi_by_output[t][i]) {
                *acc += v;
            }
            if let Some(cam) = cam_by_output[t].get(i) {
                for (acc, v) in sum_cam[t].iter_mut().zip(cam) {
                    *acc += v;
                }
            }
            if global < kept_windows {
                let p = predicted[global];
                let w = set.windows[global];
                windows.push(WindowSaliency {
                    file: set.files[w.source].clone(),
                    onset_s: w.onset_s,
                    duration_s: set.len as f64 / info.rate_hz,
                    truth: describe(&set.truth, &classes, predictions, global, true),
                    predicted: describe(&set.truth, &classes, predictions, global, false),
                    gradient_x_input: to_rows(&gxi_by_output[p][i], n_ch, bins),
                    grad_cam: cam_by_output[p].get(i).map(|c| scaled(c)),
                });
            }
        }
        steps.step()?;
    }
    let class_maps = classes
        .iter()
        .enumerate()
        .map(|(j, class)| ClassSaliency {
            class: class.clone(),
            windows: counts[j],
            gradient_x_input: to_rows(&sum_gxi[j], n_ch, bins),
            grad_cam: cam_layer.as_ref().map(|_| scaled(&sum_cam[j])),
        })
        .collect();
    Ok(Saliency {
        channels: channel_names.to_vec(),
        window_s: set.len as f64 / info.rate_hz,
        bins,
        grad_cam_layer: cam_layer,
        classes: class_maps,
        windows,
    })
}

/// |gradient × input| of one window (`[rows, cols]`) summed into
/// `[channel * bins + bin]`: rows belong to channels in blocks (a
/// spectrogram has several rows per channel), columns to bins in order.
fn binned_gradient_x_input(
    g: &[f32],
    x: &[f32],
    rows: usize,
    cols: usize,
    channels: usize,
    bins: usize,
) -> Vec<f64> {
    let rows_per_channel = (rows / channels).max(1);
    let mut out = vec![0.0f64; channels * bins];
    for r in 0..rows {
        let c = (r / rows_per_channel).min(channels - 1);
        for col in 0..cols {
            let bin = col * bins / cols;
            let i = r * cols + col;
            out[c * bins + bin] += f64::from((g[i] * x[i]).abs());
        }
    }
    out
}

/// Grad-CAM of each window of a batch from a layer's output `a` and the
/// gradient `ga` (both `[batch, features, time]`), resampled to `bins`: the
/// element-wise form (HiResCAM, Draelos & Carin 2020), the sum over features
/// of gradient times output at each time, kept where positive. It equals
/// Grad-CAM's (features weighted by their mean gradient) for networks that
/// average over time before the classifier, and unlike it stays faithful to
/// those that flatten time into the classifier (EEGNet, ShallowConvNet).
fn grad_cam(a: &Tensor, ga: &Tensor, bins: usize) -> candle_core::Result<Vec<Vec<f64>>> {
    let (b, f, t) = a.dims3()?;
    let a: Vec<f32> = a.flatten_all()?.to_vec1()?;
    let ga: Vec<f32> = ga.flatten_all()?.to_vec1()?;
    let mut out = Vec::with_capacity(b);
    for i in 0..b {
        let mut cam = vec![0.0f64; t];
        for feature in 0..f {
            let at = (i * f + feature) * t;
            for ((c, &v), &g) in cam.iter_mut().zip(&a[at..at + t]).zip(&ga[at..at + t]) {
                *c += f64::from(g) * f64::from(v);
            }
        }
        for c in &mut cam {
            *c = c.max(0.0);
        }
        out.push(resample_linear(&cam, bins));
    }
    Ok(out)
}

/// `values` spread evenly over a window, read at the centres of `bins` bins
/// by linear interpolation.
fn resample_linear(values: &[f64], bins: usize) -> Vec<f64> {
    let t = values.len();
    if t == 0 {
        return vec![0.0; bins];
    }
    (0..bins)
        .map(|j| {
            let pos = ((j as f64 + 0.5) / bins as f64 * t as f64 - 0.5).clamp(0.0, (t - 1) as f64);
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(t - 1);
            let frac = pos - lo as f64;
            values[lo] * (1.0 - frac) + values[hi] * frac
        })
        .collect()
}

/// Values scaled so that the largest is 1 (all zeros stay zeros).
fn scaled(values: &[f64]) -> Vec<f32> {
    let max = values.iter().copied().fold(0.0f64, f64::max);
    values
        .iter()
        .map(|&v| if max > 0.0 { (v / max) as f32 } else { 0.0 })
        .collect()
}

/// `[channel * bins + bin]` as rows per channel, scaled to a largest value of 1.
fn to_rows(map: &[f64], channels: usize, bins: usize) -> Vec<Vec<f32>> {
    let all = scaled(map);
    all.chunks(bins)
        .take(channels)
        .map(<[f32]>::to_vec)
        .collect()
}

/// The true (`truth`) or predicted class of window `i`, or its value as text.
fn describe(t: &Truth, classes: &[String], p: &Predictions, i: usize, truth: bool) -> String {
    match t {
        Truth::Classes(y) => {
            let c = if truth { y[i] } else { p.classes()[i] };
            classes.get(c).cloned().unwrap_or_default()
        }
        Truth::Values(v) => {
            if truth {
                format!("{}", v[i])
            } else {
                format!("{}", p.outputs[i * p.k.max(1)])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_x_input_is_binned_by_channel_and_time() {
        // 4 rows (2 channels x 2 spectrogram rows) x 4 columns, 2 bins.
        let g = vec![1.0f32; 16];
        let mut x = vec![0.0f32; 16];
        x[3] = 2.0; // channel 0, last column
        x[8] = -3.0; // channel 1 (row 2), first column
        let out = binned_gradient_x_input(&g, &x, 4, 4, 2, 2);
        assert_eq!(out, vec![0.0, 2.0, 3.0, 0.0]);
    }

    #[test]
    fn resampling_keeps_where_the_mass_is() {
        let late = resample_linear(&[0.0, 0.0, 0.0, 1.0], 8);
        assert!(late[..4].iter().all(|&v| v == 0.0));
        assert!(late[7] > 0.99);
        assert_eq!(resample_linear(&[2.0], 3), vec![2.0; 3]);
        assert_eq!(scaled(&[0.0, 2.0, 4.0]), vec![0.0, 0.5, 1.0]);
        assert_eq!(scaled(&[0.0, 0.0]), vec![0.0, 0.0]);
    }
}
