//! What a built network looks like: layers, shapes, parameters, receptive field.

use candle_core::{Tensor, Var};

/// One layer of a network as seen by a forward pass.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerInfo {
    /// Layer name, matching the variable prefix where the layer has weights.
    pub name: String,
    /// Output shape of the layer for one window (without the batch axis).
    pub output_shape: Vec<usize>,
    /// Trainable parameters of this layer (batch-norm running statistics excluded).
    pub params: usize,
}

/// A summary of a built network, for the GUI's model panel and the run folder.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelSummary {
    /// Layers in forward order.
    pub layers: Vec<LayerInfo>,
    /// Sum of the layers' trainable parameters.
    pub trainable_params: usize,
    /// Input samples that one output of the last feature layer depends on
    /// (before global pooling, flattening or the classifier), at most the window.
    pub receptive_field_samples: usize,
    /// The receptive field in milliseconds at the input's sample rate
    /// (0 when the rate is not positive).
    pub receptive_field_ms: f64,
    /// What sizing to the data chose (`size_to_window`), one line each,
    /// e.g. `temporal kernel 32 samples = 0.25 s at 64 Hz (...)`; empty
    /// when nothing was sized.
    #[serde(default)]
    pub sizing: Vec<String>,
}

impl ModelSummary {
    /// A summary from recorded layers and a receptive field in samples.
    pub fn new(layers: Vec<LayerInfo>, receptive_field_samples: usize, rate_hz: f64) -> Self {
        let trainable_params = layers.iter().map(|l| l.params).sum();
        let receptive_field_ms = if rate_hz > 0.0 {
            receptive_field_samples as f64 * 1000.0 / rate_hz
        } else {
            0.0
        };
        Self {
            layers,
            trainable_params,
            receptive_field_samples,
            receptive_field_ms,
            sizing: Vec::new(),
        }
    }
}

/// Collects layer outputs during a forward pass; does nothing when off.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    layers: Option<Vec<LayerInfo>>,
    /// Whether [`Trace::feature_map`] adds a probe.
    probing: bool,
    /// The name of the last layer recorded.
    last_name: String,
    /// The probe on the feature map, once the forward pass has reached it.
    probe: Option<FeatureProbe>,
    /// Whether [`Trace::head_input`] keeps what the classifier head reads.
    capturing: bool,
    /// What the classifier head read, `[batch, features]`, once reached.
    head: Option<Tensor>,
}

/// The network's last temporal feature map in a probed forward pass, and a
/// zero variable added to it: candle keeps gradients only of variables, so
/// the gradient with respect to `var` is the gradient with respect to the
/// map (what Grad-CAM needs).
#[derive(Debug)]
pub(crate) struct FeatureProbe {
    /// The layer whose output it is.
    pub layer: String,
    /// The map, `[batch, features, time]`.
    pub value: Tensor,
    /// The zero variable added to it.
    pub var: Var,
}

impl Trace {
    /// A trace that records nothing (the training path).
    pub(crate) fn off() -> Self {
        Self::default()
    }

    /// A trace that records every layer.
    pub(crate) fn on() -> Self {
        Self {
            layers: Some(Vec::new()),
            ..Self::default()
        }
    }

    /// A trace that records every layer and probes the feature map (see
    /// [`Trace::feature_map`]).
    pub(crate) fn probing() -> Self {
        Self {
            layers: Some(Vec::new()),
            probing: true,
            ..Self::default()
        }
    }

    /// A trace that records no layer (the fast paths stay on) but keeps
    /// what the classifier head reads ([`Trace::head_input`]).
    pub(crate) fn capturing() -> Self {
        Self {
            capturing: true,
            ..Self::default()
        }
    }

    /// Marks `x` as what the network's classifier head (its last linear
    /// layer) reads: the penultimate layer's output, `[batch, ...]`. A
    /// capturing trace keeps it flattened to `[batch, features]`.
    pub(crate) fn head_input(&mut self, x: &Tensor) -> candle_core::Result<()> {
        if self.capturing {
            self.head = Some(x.flatten_from(1)?);
        }
        Ok(())
    }

    /// What the classifier head read (`None` unless capturing, or when the
    /// architecture did not mark it).
    pub(crate) fn into_head(self) -> Option<Tensor> {
        self.head
    }

    /// Marks `x` (`[batch, features, time]`, the output of the layer
    /// recorded last) as the network's last temporal feature map and returns
    /// the tensor to go on with: `x` itself, or in a probing trace `x` plus
    /// a zero variable whose gradient is the gradient with respect to `x`.
    pub(crate) fn feature_map(&mut self, x: &Tensor) -> candle_core::Result<Tensor> {
        if !self.probing {
            return Ok(x.clone());
        }
        let var = Var::zeros(x.dims(), x.dtype(), x.device())?;
        let probed = x.broadcast_add(var.as_tensor())?;
        self.probe = Some(FeatureProbe {
            layer: self.last_name.clone(),
            value: x.clone(),
            var,
        });
        Ok(probed)
    }

    /// Whether nothing is recorded (the training path).
    pub(crate) fn is_off(&self) -> bool {
        self.layers.is_none()
    }

    /// Records layer `name` with output `x` (batch axis dropped) and `params` weights.
    pub(crate) fn record(&mut self, name: &str, x: &Tensor, params: usize) {
        if let Some(layers) = &mut self.layers {
            layers.push(LayerInfo {
                name: name.to_string(),
                output_shape: x.dims().iter().skip(1).copied().collect(),
                params,
            });
        }
        if self.probing {
            self.last_name = name.to_string();
        }
    }

    /// Records a layer whose output is not one tensor (a recurrent layer's sequence).
    pub(crate) fn record_shape(&mut self, name: &str, output_shape: &[usize], params: usize) {
        if self.probing {
            self.last_name = name.to_string();
        }
        if let Some(layers) = &mut self.layers {
            layers.push(LayerInfo {
                name: name.to_string(),
                output_shape: output_shape.to_vec(),
                params,
            });
        }
    }

    /// The recorded layers (empty when the trace was off).
    pub(crate) fn into_layers(self) -> Vec<LayerInfo> {
        self.layers.unwrap_or_default()
    }

    /// The probe on the feature map (`None` unless probing, or when the
    /// network has no temporal feature map).
    pub(crate) fn into_probe(self) -> Option<FeatureProbe> {
        self.probe
    }
}

/// Receptive field of a stack of temporal layers, built layer by layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceptiveField {
    /// Input samples seen by one output.
    pub samples: usize,
    /// Distance in input samples between neighbouring outputs.
    pub jump: usize,
}

impl ReceptiveField {
    /// One input sample.
    pub(crate) fn new() -> Self {
        Self {
            samples: 1,
            jump: 1,
        }
    }

    /// After a convolution or pool of `kernel` samples with `stride`.
    pub(crate) fn then(self, kernel: usize, stride: usize) -> Self {
        Self {
            samples: self.samples + kernel.saturating_sub(1) * self.jump,
            jump: self.jump * stride,
        }
    }
}

/// Length after a valid (unpadded) convolution or window: `None` if too short.
pub(crate) fn valid_len(len: usize, kernel: usize, stride: usize) -> Option<usize> {
    if len < kernel || stride == 0 {
        None
    } else {
        Some((len - kernel) / stride + 1)
    }
}

/// Length after a pool with kernel == stride (`None` if nothing is left).
pub(crate) fn pooled_len(len: usize, pool: usize) -> Option<usize> {
    valid_len(len, pool, pool)
}

/// The smallest window length for which `fits` holds, assuming it is monotone.
/// Returns `usize::MAX` when nothing up to 2^40 samples fits.
pub(crate) fn min_fitting(fits: impl Fn(usize) -> bool) -> usize {
    let mut hi = 1usize;
    while !fits(hi) {
        if hi >= 1 << 40 {
            return usize::MAX;
        }
        hi *= 2;
    }
    let mut lo = hi / 2; // does not fit (or 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_fitting_finds_threshold() {
        assert_eq!(min_fitting(|n| n >= 1), 1);
        assert_eq!(min_fitting(|n| n >= 37), 37);
        assert_eq!(min_fitting(|n| n >= 1024), 1024);
    }

    #[test]
    fn receptive_field_of_conv_pool_stack() {
        // conv 80 stride 16, pool 4: 80 + 3 * 16 samples.
        let rf = ReceptiveField::new().then(80, 16).then(4, 4);
        assert_eq!(rf.samples, 128);
        assert_eq!(rf.jump, 64);
    }
}
