//! Stacked LSTM / GRU classifiers, with PyTorch's parameters and gate math.
//!
//! ```text
//! x [B, C, T] read as T steps of C features
//! rnn.l{i}   LSTM or GRU layer (optionally a second, time-reversed direction)
//!            dropout between layers
//! last step  forward state after the last step (+ backward state after the first step)
//! fc         linear to n_outputs
//! ```
//!
//! Each layer keeps PyTorch's four tensors per direction (`weight_ih_l{i}`,
//! `weight_hh_l{i}`, `bias_ih_l{i}`, `bias_hh_l{i}`, `_reverse` for the second
//! direction), so parameter counts and state dicts match `nn.LSTM`/`nn.GRU`.
//!
//! On the CPU (f32) each layer and direction runs as one whole-sequence op
//! ([`spindle_kernels::rnn::rnn_sequence`]) on a time-major `[T, B, C]`
//! sequence: input projection, recurrence and gate math fused per step,
//! with a hand-written backward pass through time that skips the gradient
//! of the input data. Elsewhere (CUDA, Metal, f64) the cell is stepped by
//! hand with candle ops (candle-nn's `seq` makes the backward pass
//! quadratic in the sequence length): per step, one matrix product
//! `[x_t, h] @ W` computes all gate pre-activations, with `W` assembled once
//! per forward pass from the PyTorch tensors. That step-by-step path is also
//! the reference the fused op is tested against. Time reversal is free: the
//! steps are a `Vec`.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use spindle_kernels::rnn::{Cell, rnn_sequence};

use super::conv::WeightInit;
use super::dense::{Dense, dropout};
use super::init::torch_default;
use super::registry::{WindowFacts, dropout as dropout_param, int};
use super::summary::Trace;
use super::{
    Architecture, Family, Hyper, HyperParam, InputShape, Kind, ModelError, Network, Traced, check,
};

const RNN_PARAMS: &[HyperParam] = &[
    int(
        "hidden",
        "hidden units",
        "memory size of each layer (per direction)",
        4.0,
        512.0,
    ),
    int("layers", "layers", "stacked recurrent layers", 1.0, 4.0),
    dropout_param(
        "dropout",
        "dropout between stacked layers (needs 2 or more layers)",
    ),
];

/// The recurrent menu entries: one kind, four fixed cell/direction choices.
pub const ARCHITECTURES: &[Architecture] = &[
    Architecture {
        name: "lstm",
        aliases: &[],
        title: "LSTM",
        family: Family::Recurrent,
        description: "Long short-term memory network reading the window step by step. Works on short sequences (spectrogram frames, under about 200 steps); on long raw windows choose CRNN, which shortens time with convolutions first.",
        kind: Kind::of::<RnnConfig>(),
        fixed: r#"{"cell":"lstm"}"#,
        advise: long_window_advice,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "gru",
        aliases: &[],
        title: "GRU",
        family: Family::Recurrent,
        description: "Gated recurrent unit: a lighter LSTM. Same advice: short sequences or spectrogram frames; for long raw windows choose CRNN.",
        kind: Kind::of::<RnnConfig>(),
        fixed: r#"{"cell":"gru"}"#,
        advise: long_window_advice,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "bilstm",
        aliases: &[],
        title: "Bidirectional LSTM",
        family: Family::Recurrent,
        description: "An LSTM reading the window forwards and backwards, so each moment sees what comes before and after. Short sequences only; for long raw windows choose CRNN.",
        kind: Kind::of::<RnnConfig>(),
        fixed: r#"{"cell":"lstm","bidirectional":true}"#,
        advise: long_window_advice,
        params: RNN_PARAMS,
    },
    Architecture {
        name: "bigru",
        aliases: &[],
        title: "Bidirectional GRU",
        family: Family::Recurrent,
        description: "A GRU reading the window forwards and backwards. Short sequences only; for long raw windows choose CRNN.",
        kind: Kind::of::<RnnConfig>(),
        fixed: r#"{"cell":"gru","bidirectional":true}"#,
        advise: long_window_advice,
        params: RNN_PARAMS,
    },
];

/// Plain recurrent layers stepped over hundreds of raw samples do not learn
/// (they stay at chance on 510-sample blink windows, in PyTorch as here).
fn long_window_advice(window: &WindowFacts) -> Option<String> {
    (window.steps > 200).then(|| {
        format!(
            "A plain recurrent network reads these windows one of {} steps at a time and rarely learns from so many; choose CRNN (convolutions first shorten time to a few dozen steps), a CNN such as EEGNet, or the spectrogram representation.",
            window.steps
        )
    })
}

/// The recurrent cell of [`RnnConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RnnCell {
    /// Long short-term memory (PyTorch `nn.LSTM` gate order i, f, g, o).
    Lstm,
    /// Gated recurrent unit (PyTorch `nn.GRU` gate order r, z, n).
    Gru,
}

/// Stacked LSTM or GRU over time (the window's samples are the time steps,
/// its channels the features), classified from the last step (JSON kind
/// `rnn`). Defaults follow PyTorch's `nn.LSTM` / `nn.GRU`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RnnConfig {
    /// LSTM or GRU (default LSTM).
    pub cell: RnnCell,
    /// Hidden units per direction (default 64).
    pub hidden: usize,
    /// Stacked layers (default 2).
    pub layers: usize,
    /// Run a second, time-reversed direction per layer (default false).
    pub bidirectional: bool,
    /// Dropout probability between layers (default 0, as PyTorch).
    pub dropout: f64,
}

impl Default for RnnConfig {
    fn default() -> Self {
        Self {
            cell: RnnCell::Lstm,
            hidden: 64,
            layers: 2,
            bidirectional: false,
            dropout: 0.0,
        }
    }
}

impl Hyper for RnnConfig {
    const KIND: &'static str = "rnn";

    fn display_name(&self) -> String {
        let cell = match self.cell {
            RnnCell::Lstm => "LSTM",
            RnnCell::Gru => "GRU",
        };
        let bi = if self.bidirectional { "Bi" } else { "" };
        format!("{bi}{cell} {}x{}", self.layers, self.hidden)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        check::positive("hidden", self.hidden)?;
        check::positive("layers", self.layers)?;
        check::probability("dropout", self.dropout)
    }

    fn feature_len(&self, samples: usize) -> Option<usize> {
        (samples >= 1).then_some(samples)
    }

    fn build(
        &self,
        vb: VarBuilder,
        input: &InputShape,
    ) -> std::result::Result<Box<dyn Traced>, ModelError> {
        Ok(Box::new(Rnn::new(vb, self, input)?))
    }
}

/// One direction of one recurrent layer (PyTorch layout and initialization).
#[derive(Debug, Clone)]
pub struct RnnLayer {
    cell: RnnCell,
    hidden: usize,
    /// `[G*H, in]`, gates stacked as PyTorch (LSTM i, f, g, o; GRU r, z, n).
    weight_ih: Tensor,
    /// `[G*H, H]`.
    weight_hh: Tensor,
    /// `[G*H]`.
    bias_ih: Tensor,
    /// `[G*H]`.
    bias_hh: Tensor,
}

impl RnnLayer {
    /// Creates the four tensors under `vb` with names ending in `suffix`
    /// (e.g. `_l0`, `_l1_reverse`), uniform in `±1/sqrt(hidden)` as PyTorch.
    pub fn new(
        vb: &VarBuilder,
        cell: RnnCell,
        input: usize,
        hidden: usize,
        suffix: &str,
    ) -> Result<Self> {
        let gates = match cell {
            RnnCell::Lstm => 4,
            RnnCell::Gru => 3,
        };
        let init = torch_default(hidden);
        Ok(Self {
            cell,
            hidden,
            weight_ih: vb.get_with_hints(
                (gates * hidden, input),
                &format!("weight_ih{suffix}"),
                init,
            )?,
            weight_hh: vb.get_with_hints(
                (gates * hidden, hidden),
                &format!("weight_hh{suffix}"),
                init,
            )?,
            bias_ih: vb.get_with_hints(gates * hidden, &format!("bias_ih{suffix}"), init)?,
            bias_hh: vb.get_with_hints(gates * hidden, &format!("bias_hh{suffix}"), init)?,
        })
    }

    /// Trainable parameters.
    pub fn params(&self) -> usize {
        self.weight_ih.elem_count()
            + self.weight_hh.elem_count()
            + self.bias_ih.elem_count()
            + self.bias_hh.elem_count()
    }

    /// The fused step weights: `[in + H, 4H]` and bias `[4H]` such that
    /// `[x_t, h] @ W + b` gives all gate pre-activations of one step.
    ///
    /// LSTM: columns i, f, g, o with `b = b_ih + b_hh`. GRU: columns
    /// `r, z` (input and hidden parts summed), `n_x = W_in x + b_in` and
    /// `n_h = W_hn h + b_hn` kept apart because `r` multiplies only `n_h`.
    fn fused_weights(&self) -> Result<(Tensor, Tensor)> {
        let h = self.hidden;
        match self.cell {
            RnnCell::Lstm => {
                let w = Tensor::cat(&[&self.weight_ih, &self.weight_hh], 1)?; // [4H, in + H]
                let b = (&self.bias_ih + &self.bias_hh)?; // [4H]
                Ok((w.t()?.contiguous()?, b))
            }
            RnnCell::Gru => {
                let input = self.weight_ih.dim(1)?;
                let rz = Tensor::cat(
                    &[
                        &self.weight_ih.narrow(0, 0, 2 * h)?,
                        &self.weight_hh.narrow(0, 0, 2 * h)?,
                    ],
                    1,
                )?; // [2H, in + H]
                let zeros_hh =
                    Tensor::zeros((h, h), self.weight_hh.dtype(), self.weight_hh.device())?;
                let zeros_ih =
                    Tensor::zeros((h, input), self.weight_ih.dtype(), self.weight_ih.device())?;
                let n_x = Tensor::cat(&[&self.weight_ih.narrow(0, 2 * h, h)?, &zeros_hh], 1)?; // [H, in + H]
                let n_h = Tensor::cat(&[&zeros_ih, &self.weight_hh.narrow(0, 2 * h, h)?], 1)?; // [H, in + H]
                let w = Tensor::cat(&[&rz, &n_x, &n_h], 0)?; // [4H, in + H]
                let b = Tensor::cat(
                    &[
                        &(self.bias_ih.narrow(0, 0, 2 * h)? + self.bias_hh.narrow(0, 0, 2 * h)?)?,
                        &self.bias_ih.narrow(0, 2 * h, h)?,
                        &self.bias_hh.narrow(0, 2 * h, h)?,
                    ],
                    0,
                )?; // [4H]
                Ok((w.t()?.contiguous()?, b))
            }
        }
    }

    /// Runs the layer over a whole sequence `x` `[B, T, in]` with the fused
    /// kernel ([`spindle_kernels::rnn`]). Returns the hidden states
    /// `[B, T, H]` in the original time order. CPU f32 only.
    pub fn forward_sequence(&self, x: &Tensor, reverse: bool) -> Result<Tensor> {
        let y = self.forward_time_major(&x.transpose(0, 1)?, reverse)?; // [T, B, H]
        y.transpose(0, 1)?.contiguous()
    }

    /// [`Self::forward_sequence`] on a time-major sequence `x` `[T, B, in]`
    /// -> `[T, B, H]`: the input projection of every step, the recurrence
    /// and the gate math run in one op, whose backward pass gives the
    /// gradient of `x` only when `x` needs one. CPU f32 only.
    pub fn forward_time_major(&self, x: &Tensor, reverse: bool) -> Result<Tensor> {
        let h = self.hidden;
        let (dtype, dev) = (self.bias_hh.dtype(), self.bias_hh.device());
        let (cell, bias, b_hn) = match self.cell {
            RnnCell::Lstm => (
                Cell::Lstm,
                (&self.bias_ih + &self.bias_hh)?,
                Tensor::zeros(4 * h, dtype, dev)?,
            ),
            RnnCell::Gru => {
                let zeros = Tensor::zeros(h, dtype, dev)?;
                let zeros2 = Tensor::zeros(2 * h, dtype, dev)?;
                let b_hh_rz0 = Tensor::cat(&[&self.bias_hh.narrow(0, 0, 2 * h)?, &zeros], 0)?;
                let b_hn = Tensor::cat(&[&zeros2, &self.bias_hh.narrow(0, 2 * h, h)?], 0)?;
                (Cell::Gru, (&self.bias_ih + b_hh_rz0)?, b_hn)
            }
        };
        // [G*H, in + H + 2]: W_ih | W_hh | folded bias | b_hn (GRU n rows).
        let w = Tensor::cat(
            &[
                &self.weight_ih,
                &self.weight_hh,
                &bias.unsqueeze(1)?,
                &b_hn.unsqueeze(1)?,
            ],
            1,
        )?;
        rnn_sequence(cell, x, &w, reverse)
    }

    /// Runs the layer over `steps` (each `[B, in]`), in reverse time order
    /// when `reverse`; returns the hidden state of every step `[B, H]` in
    /// the original time order.
    pub fn forward(&self, steps: &[Tensor], reverse: bool) -> Result<Vec<Tensor>> {
        let Some(first) = steps.first() else {
            return Ok(Vec::new());
        };
        let (b, _) = first.dims2()?;
        let h_size = self.hidden;
        let (w, bias) = self.fused_weights()?;
        let bias = bias.unsqueeze(0)?; // [1, 4H]
        let mut h = Tensor::zeros((b, h_size), first.dtype(), first.device())?; // [B, H]
        let mut c = h.clone(); // [B, H] (LSTM cell state)
        let mut out: Vec<Tensor> = Vec::with_capacity(steps.len());
        let order: Box<dyn Iterator<Item = &Tensor>> = if reverse {
            Box::new(steps.iter().rev())
        } else {
            Box::new(steps.iter())
        };
        for x_t in order {
            let gates = Tensor::cat(&[x_t, &h], 1)? // [B, in + H]
                .matmul(&w)? // [B, 4H]
                .broadcast_add(&bias)?;
            match self.cell {
                RnnCell::Lstm => {
                    let s = candle_nn::ops::sigmoid(&gates)?; // [B, 4H]
                    let i = s.narrow(1, 0, h_size)?;
                    let f = s.narrow(1, h_size, h_size)?;
                    let g = gates.narrow(1, 2 * h_size, h_size)?.tanh()?;
                    let o = s.narrow(1, 3 * h_size, h_size)?;
                    c = ((f * &c)? + (i * g)?)?; // [B, H]
                    h = (o * c.tanh()?)?; // [B, H]
                }
                RnnCell::Gru => {
                    let rz = candle_nn::ops::sigmoid(&gates.narrow(1, 0, 2 * h_size)?)?; // [B, 2H]
                    let r = rz.narrow(1, 0, h_size)?;
                    let z = rz.narrow(1, h_size, h_size)?;
                    let n_x = gates.narrow(1, 2 * h_size, h_size)?;
                    let n_h = gates.narrow(1, 3 * h_size, h_size)?;
                    let n = (n_x + (r * n_h)?)?.tanh()?; // [B, H]
                    h = (&n + (z * (&h - &n)?)?)?; // (1 - z) * n + z * h
                }
            }
            out.push(h.clone());
        }
        if reverse {
            out.reverse();
        }
        Ok(out)
    }
}

/// Stacked (bi)directional recurrent layers read out at the sequence ends:
/// the forward state after the last step and, when bidirectional, the
/// backward state after the first. Shared by [`Rnn`] and the CRNN.
#[derive(Debug, Clone)]
pub struct RecurrentStack {
    /// Per layer: forward direction and, when bidirectional, the reverse one.
    layers: Vec<(RnnLayer, Option<RnnLayer>)>,
    cell: RnnCell,
    hidden: usize,
    dropout: f64,
}

impl RecurrentStack {
    /// Creates `layers` layers of `hidden` units per direction over `input`
    /// features under `vb` (`weight_ih_l0`, `weight_ih_l0_reverse`, ...,
    /// PyTorch's names), with `dropout` between layers.
    pub fn new(
        vb: &VarBuilder,
        cell: RnnCell,
        input: usize,
        hidden: usize,
        layers: usize,
        bidirectional: bool,
        dropout: f64,
    ) -> Result<Self> {
        let dirs = if bidirectional { 2 } else { 1 };
        let mut stack = Vec::with_capacity(layers);
        for l in 0..layers {
            let in_size = if l == 0 { input } else { dirs * hidden };
            let fwd = RnnLayer::new(vb, cell, in_size, hidden, &format!("_l{l}"))?;
            let bwd = if bidirectional {
                Some(RnnLayer::new(
                    vb,
                    cell,
                    in_size,
                    hidden,
                    &format!("_l{l}_reverse"),
                )?)
            } else {
                None
            };
            stack.push((fwd, bwd));
        }
        Ok(Self {
            layers: stack,
            cell,
            hidden,
            dropout,
        })
    }

    /// Width of the readout: `hidden`, doubled when bidirectional.
    pub fn output_width(&self) -> usize {
        let bidirectional = self.layers.first().is_some_and(|(_, b)| b.is_some());
        if bidirectional {
            2 * self.hidden
        } else {
            self.hidden
        }
    }

    fn name(&self) -> &'static str {
        match self.cell {
            RnnCell::Lstm => "lstm",
            RnnCell::Gru => "gru",
        }
    }

    /// `x: [B, features, T]` (time last, as the windows) -> the readout
    /// `[B, output_width]`, recording each layer in `t`.
    pub(crate) fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        if spindle_kernels::is_cpu_f32(x) {
            return self.forward_fused(x, train, t);
        }
        let (_, _, n_steps) = x.dims3()?;
        let x = x.transpose(1, 2)?.transpose(0, 1)?.contiguous()?; // [T, B, C]
        let mut steps: Vec<Tensor> = (0..n_steps).map(|i| x.get(i)).collect::<Result<_>>()?; // T x [B, C]
        let n_layers = self.layers.len();
        let mut first_bwd: Option<Tensor> = None;
        for (l, (fwd, bwd)) in self.layers.iter().enumerate() {
            let out_f = fwd.forward(&steps, false)?; // T x [B, H]
            steps = match bwd {
                Some(bwd) => {
                    let out_b = bwd.forward(&steps, true)?; // T x [B, H]
                    first_bwd = out_b.first().cloned();
                    out_f
                        .iter()
                        .zip(&out_b)
                        .map(|(f, b)| Tensor::cat(&[f, b], 1))
                        .collect::<Result<_>>()? // T x [B, 2H]
                }
                None => out_f,
            };
            if l + 1 < n_layers && train && self.dropout > 0.0 {
                steps = steps
                    .iter()
                    .map(|s| dropout(s, self.dropout, train))
                    .collect::<Result<_>>()?;
            }
            let params = fwd.params() + bwd.as_ref().map_or(0, |b| b.params());
            t.record_shape(
                &format!("{}_l{l}", self.name()),
                &[n_steps, self.output_width()],
                params,
            );
        }
        let Some(last) = steps.last() else {
            candle_core::bail!("rnn: the window has no time steps")
        };
        let last = match &first_bwd {
            // Forward state after the last step, backward state after the first.
            Some(b) => Tensor::cat(&[&last.narrow(1, 0, self.hidden)?, b], 1)?, // [B, 2H]
            None => last.clone(),                                               // [B, H]
        };
        t.record("last_step", &last, 0);
        Ok(last)
    }

    /// The forward pass with whole-sequence kernels (CPU f32), time-major.
    fn forward_fused(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let (_, _, n_steps) = x.dims3()?;
        let mut seq = x.permute((2, 0, 1))?.contiguous()?; // [T, B, C]
        let n_layers = self.layers.len();
        let mut first_bwd: Option<Tensor> = None;
        for (l, (fwd, bwd)) in self.layers.iter().enumerate() {
            let out_f = fwd.forward_time_major(&seq, false)?; // [T, B, H]
            seq = match bwd {
                Some(bwd) => {
                    let out_b = bwd.forward_time_major(&seq, true)?; // [T, B, H]
                    first_bwd = Some(out_b.get(0)?);
                    Tensor::cat(&[&out_f, &out_b], 2)? // [T, B, 2H]
                }
                None => out_f,
            };
            if l + 1 < n_layers && train && self.dropout > 0.0 {
                seq = dropout(&seq, self.dropout, train)?;
            }
            let params = fwd.params() + bwd.as_ref().map_or(0, |b| b.params());
            let width = seq.dim(2)?;
            t.record_shape(&format!("{}_l{l}", self.name()), &[n_steps, width], params);
        }
        let last = seq.get(n_steps - 1)?; // [B, width]
        let last = match &first_bwd {
            // Forward state after the last step, backward state after the first.
            Some(b) => Tensor::cat(&[&last.narrow(1, 0, self.hidden)?, b], 1)?, // [B, 2H]
            None => last,                                                       // [B, H]
        };
        t.record("last_step", &last, 0);
        Ok(last)
    }
}

/// A stacked (bi)directional LSTM/GRU classifier; see the module documentation.
#[derive(Debug, Clone)]
pub struct Rnn {
    stack: RecurrentStack,
    fc: Dense,
}

impl Rnn {
    /// Builds the layers under `vb` (`rnn.weight_ih_l0`, ..., `fc`).
    pub fn new(
        vb: VarBuilder,
        config: &RnnConfig,
        input: &InputShape,
    ) -> std::result::Result<Self, ModelError> {
        let stack = RecurrentStack::new(
            &vb.pp("rnn"),
            config.cell,
            input.channels,
            config.hidden,
            config.layers,
            config.bidirectional,
            config.dropout,
        )?;
        let fc = Dense::new(
            vb.pp("fc"),
            stack.output_width(),
            input.n_outputs,
            WeightInit::Torch,
        )?;
        Ok(Self { stack, fc })
    }
}

impl Traced for Rnn {
    fn forward_traced(&self, x: &Tensor, train: bool, t: &mut Trace) -> Result<Tensor> {
        let last = self.stack.forward_traced(x, train, t)?; // [B, width]
        t.head_input(&last)?;
        let y = self.fc.forward(&last)?; // [B, n_outputs]
        t.record("fc", &y, self.fc.params());
        Ok(y)
    }

    fn receptive_field_samples(&self) -> usize {
        usize::MAX // every step sees the whole window; clamped by the summary
    }
}

impl Network for Rnn {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_traced(x, train, &mut Trace::off())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::ModelSpec;
    use candle_core::{DType, Device};

    fn rnn(cell: RnnCell, layers: usize, bidirectional: bool) -> ModelSpec {
        ModelSpec::new(RnnConfig {
            cell,
            hidden: 8,
            layers,
            bidirectional,
            dropout: 0.0,
        })
    }

    #[test]
    fn standard_configs_have_pytorch_parameter_counts() {
        assert_param_count("lstm", &shape(22, 250, 4), 56_068);
        assert_param_count("gru", &shape(22, 250, 4), 42_116);
        // nn.LSTM(22, 64, 2, bidirectional=True) + Linear(128, 4).
        assert_param_count("bilstm", &shape(22, 250, 4), 144_900);
    }

    #[test]
    fn output_shapes_uni_and_bidirectional() -> Result<()> {
        for name in ["lstm", "gru", "bilstm", "bigru"] {
            let Some(spec) = ModelSpec::by_name(name) else {
                panic!()
            };
            assert_output_shape(&spec, &shape(3, 12, 5), 2)?;
        }
        let Some(spec) = ModelSpec::by_name("bigru") else {
            panic!()
        };
        let built = build_cpu(&spec, &shape(3, 12, 5), 0);
        let shapes: Vec<&[usize]> = built
            .summary
            .layers
            .iter()
            .map(|l| l.output_shape.as_slice())
            .collect();
        assert_eq!(shapes, vec![&[12, 128][..], &[12, 128], &[128], &[5]]);
        assert_eq!(built.summary.receptive_field_samples, 12);
        Ok(())
    }

    /// PyTorch's LSTM/GRU equations written out for one direction, in f64.
    fn reference(layer: &RnnLayer, xs: &[Vec<f64>], reverse: bool) -> Result<Vec<Vec<f64>>> {
        let h = layer.hidden;
        let wi = layer.weight_ih.to_dtype(DType::F64)?.to_vec2::<f64>()?;
        let wh = layer.weight_hh.to_dtype(DType::F64)?.to_vec2::<f64>()?;
        let bi = layer.bias_ih.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        let bh = layer.bias_hh.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut hs = vec![0.0; h];
        let mut cs = vec![0.0; h];
        let mut out = vec![Vec::new(); xs.len()];
        let order: Vec<usize> = if reverse {
            (0..xs.len()).rev().collect()
        } else {
            (0..xs.len()).collect()
        };
        for t in order {
            let x = &xs[t];
            let ix = |row: usize| -> f64 {
                bi[row] + wi[row].iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
            };
            let hx = |row: usize| -> f64 {
                bh[row] + wh[row].iter().zip(&hs).map(|(w, v)| w * v).sum::<f64>()
            };
            let mut new_h = vec![0.0; h];
            for j in 0..h {
                match layer.cell {
                    RnnCell::Lstm => {
                        let i = sig(ix(j) + hx(j));
                        let f = sig(ix(h + j) + hx(h + j));
                        let g = (ix(2 * h + j) + hx(2 * h + j)).tanh();
                        let o = sig(ix(3 * h + j) + hx(3 * h + j));
                        cs[j] = f * cs[j] + i * g;
                        new_h[j] = o * cs[j].tanh();
                    }
                    RnnCell::Gru => {
                        let r = sig(ix(j) + hx(j));
                        let z = sig(ix(h + j) + hx(h + j));
                        let n = (ix(2 * h + j) + r * hx(2 * h + j)).tanh();
                        new_h[j] = (1.0 - z) * n + z * hs[j];
                    }
                }
            }
            hs = new_h;
            out[t] = hs.clone();
        }
        Ok(out)
    }

    #[test]
    fn cells_follow_pytorch_equations() -> Result<()> {
        let dev = Device::Cpu;
        for cell in [RnnCell::Lstm, RnnCell::Gru] {
            for reverse in [false, true] {
                let vm = candle_nn::VarMap::new();
                let vb = super::super::seeded_var_builder(&vm, DType::F32, &dev, 5);
                let layer = RnnLayer::new(&vb, cell, 3, 4, "_l0")?;
                let x = Tensor::randn(0f32, 1., (6, 1, 3), &dev)?; // 6 steps, batch 1
                let steps: Vec<Tensor> = (0..6).map(|t| x.get(t)).collect::<Result<_>>()?;
                let got = layer.forward(&steps, reverse)?;
                let xs: Vec<Vec<f64>> = steps
                    .iter()
                    .map(|s| s.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>())
                    .collect::<Result<_>>()?;
                let want = reference(&layer, &xs, reverse)?;
                for (t, (g, w)) in got.iter().zip(&want).enumerate() {
                    let g = g.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
                    for (a, b) in g.iter().zip(w) {
                        assert!(
                            (a - b).abs() < 1e-5,
                            "{cell:?} reverse={reverse} step {t}: {a} vs {b}"
                        );
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn fused_sequence_matches_the_step_by_step_reference() -> Result<()> {
        use spindle_kernels::testing::check_op;
        let dev = Device::Cpu;
        for cell in [RnnCell::Lstm, RnnCell::Gru] {
            for reverse in [false, true] {
                let vm = candle_nn::VarMap::new();
                let vb = super::super::seeded_var_builder(&vm, DType::F32, &dev, 7);
                let layer = RnnLayer::new(&vb, cell, 3, 5, "_l0")?;
                let x = candle_core::Var::randn(0f32, 1., (6, 7, 3), &dev)?; // [B, T, in]
                let vars: Vec<candle_core::Var> = std::iter::once(x)
                    .chain(
                        [
                            &layer.weight_ih,
                            &layer.weight_hh,
                            &layer.bias_ih,
                            &layer.bias_hh,
                        ]
                        .into_iter()
                        .map(candle_core::Var::from_tensor)
                        .collect::<Result<Vec<_>>>()?,
                    )
                    .collect();
                let with = |v: &[Tensor]| RnnLayer {
                    cell,
                    hidden: 5,
                    weight_ih: v[1].clone(),
                    weight_hh: v[2].clone(),
                    bias_ih: v[3].clone(),
                    bias_hh: v[4].clone(),
                };
                let fast = |v: &[Tensor]| with(v).forward_sequence(&v[0], reverse);
                let reference = |v: &[Tensor]| {
                    let steps: Vec<Tensor> = (0..7)
                        .map(|t| v[0].narrow(1, t, 1)?.squeeze(1))
                        .collect::<Result<_>>()?;
                    Tensor::stack(&with(v).forward(&steps, reverse)?, 1)
                };
                check_op(&vars, fast, reference)
                    .map_err(|e| e.context(format!("{cell:?} reverse={reverse}")))?;
            }
        }
        Ok(())
    }

    #[test]
    fn every_variable_gets_a_gradient() -> Result<()> {
        for cell in [RnnCell::Lstm, RnnCell::Gru] {
            assert_every_var_gets_gradient(&rnn(cell, 2, true), &shape(3, 10, 2), &[])?;
            assert_every_var_gets_gradient(&rnn(cell, 2, false), &shape(3, 10, 2), &[])?;
        }
        Ok(())
    }

    #[test]
    fn lstm_overfits_a_tiny_dataset() -> Result<()> {
        assert_overfits(&rnn(RnnCell::Lstm, 1, false), 4, 32, 2e-2, 150).map(|_| ())
    }

    #[test]
    fn bigru_overfits_a_tiny_dataset() -> Result<()> {
        assert_overfits(&rnn(RnnCell::Gru, 2, true), 4, 32, 2e-2, 150).map(|_| ())
    }
}
