//! CPU kernels for Spindle's hot layers, as candle custom ops with
//! hand-written backward passes.
//!
//! A leaf crate: it knows candle and nothing of Spindle's other crates, and
//! is compiled once and rarely (`spindle-learn`'s models call it).
//!
//! Each kernel works on contiguous `f32` slices and falls back to a
//! reference built from candle's own ops on other devices and dtypes (CUDA,
//! Metal, f64), so the models call one function everywhere. Every kernel is
//! tested against its reference and against finite differences; those with
//! variants per instruction set, on every one [`isa::Isa::available`] lists
//! (the `testing` feature offers those helpers to crates that build on them).
//!
//! - [`conv1d`]: strided, padded 1-D convolution (`W · col` with the columns
//!   packed straight from the input; a single input channel read in place);
//!   the input gradient is computed only when the input needs one.
//! - [`bn_act_pool`]: batch norm + activation (ReLU, ELU, square) + pooling
//!   (max, average with any stride), fused in one pass each way; max
//!   pooling keeps each window's first maximum for the backward pass.
//!   [`bn_act_pool::act_pool`] is the same without the normalization.
//! - [`dwconv`]: depthwise 1-D convolution with bias, and the batch
//!   statistics of a temporal convolution computed from its input (EEGNet's
//!   front and its separable convolution); its three loops (forward, kernel
//!   and input gradients) are one register-tiled correlation.
//! - [`rnn`]: a whole LSTM/GRU layer over the sequence with its BPTT backward.
//! - [`gemm`]: the matrix-product micro-kernel they share; [`par`]: the
//!   persistent pool of compute threads (candle's own); [`isa`]: the
//!   instruction sets they are compiled for, detected at run time and
//!   capped by `SPINDLE_ISA=avx512|avx2|portable`.
//!
//! # Pitfalls met (candle 0.11.1, Rust 1.95, AVX2 on AMD EPYC)
//!
//! - candle's thread pool (`candle_core::utils::barrier_pool`): a panic in
//!   a part poisons its lock for the rest of the process (the lock is still
//!   held when the pool raises the panic again), and a nested call from the
//!   calling thread would deadlock on that lock; [`par`] catches panics
//!   inside its parts and runs nested calls inline. Its calling thread
//!   waits for the workers by spinning and the workers spin 25,000 rounds
//!   before parking, so on a loaded machine CPU time per step exceeds the
//!   work.
//! - AVX2 has 16 vector registers: tiles shaped for AVX-512's 32 spill
//!   their accumulators (a store and a reload per multiply-add). And when
//!   the gate math is inlined into the loops over steps and tiles, LLVM
//!   hoists its constants out of all of them, where they hold registers
//!   through the multiply-add loop: the recurrent tiles are functions of
//!   their own per instruction set ([`rnn`]'s `Tiles`). A closure cannot
//!   serve as that boundary: compiled on its own it lacks the target
//!   features and every intrinsic in it stays a call (15x slower).
//! - In code compiled for the baseline target, `copy_from_slice` of a
//!   short run, an array copy and a copy loop all become `memmove` calls;
//!   packing copies panel rows by explicit 8-value loads and stores
//!   ([`gemm`]). `vec![0.0; n]` of a large buffer that is overwritten anyway
//!   is a `memset` over cold memory; packing reuses its buffers.
//! - Rust's `f32 as i32` saturates (NaN gives 0), and LLVM keeps a loop
//!   with that conversion scalar on AVX2; so does an `if` whose one side
//!   calls `exp`. `math::exp` takes its integer from the bits of a sum with
//!   1.5·2²³, and ELU computes both sides and selects (its forward pass
//!   became about 2x faster, its backward 3x). A reduction in 8 lanes in a
//!   loop that also writes the values back did not vectorize either; the
//!   backward pass writes in one loop and sums in another.
//! - An integer division per packed row (to find its channel) cost a tenth
//!   of a step; packing reads a table of row starts instead.
//! - Max pooling after a non-decreasing activation needs no activation per
//!   value: the maximum of the activations is the activation of the
//!   maximum, and only the maxima take a gradient.
//!
//! # Example
//!
//! A 1-D convolution of one window, `[batch, channels, samples]`, with the
//! fast kernel, checked against candle's reference:
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use spindle_kernels::conv1d::{conv1d, conv1d_reference};
//!
//! let x = Tensor::arange(0f32, 16.0, &Device::Cpu)?.reshape((1, 2, 8))?; // [B, C, T]
//! let w = Tensor::ones((3, 2, 4), candle_core::DType::F32, &Device::Cpu)?; // [F, C, K]
//! let y = conv1d(&x, &w, None, 2, (1, 1))?; // [1, 3, 4]
//! assert_eq!(y.dims(), &[1, 3, 4]);
//! let reference = conv1d_reference(&x, &w, None, 2, (1, 1))?;
//! let gap = (y - reference)?.abs()?.max_all()?.to_scalar::<f32>()?;
//! assert!(gap < 1e-4);
//! # Ok::<(), candle_core::Error>(())
//! ```

pub mod bn_act_pool;
pub mod conv1d;
pub mod dwconv;
pub mod gemm;
pub mod isa;
pub mod math;
pub mod par;
pub mod rnn;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use candle_core::{CpuStorage, DType, Layout, Result, Storage, Tensor, bail};

/// Whether the fast kernels apply to `t` (CPU, f32).
pub fn is_cpu_f32(t: &Tensor) -> bool {
    t.device().is_cpu() && t.dtype() == DType::F32
}

/// The contiguous f32 values of a CPU storage.
pub(crate) fn slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("{what}: expected f32 storage")
    };
    let Some((a, b)) = l.contiguous_offsets() else {
        bail!("{what}: expected a contiguous tensor")
    };
    Ok(&v[a..b])
}

/// Runs `f` on the contiguous f32 values of a CPU tensor.
pub(crate) fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (guard, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*guard else {
        bail!("kernel: expected a CPU tensor")
    };
    f(slice(cpu, layout, "kernel")?)
}

/// A CPU f32 tensor from `v`.
pub(crate) fn tensor(v: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
    Tensor::from_vec(v, shape, &candle_core::Device::Cpu)
}

/// Keeps freed large buffers in the heap instead of returning them to the
/// kernel (glibc only; once per process).
///
/// A training step allocates and frees buffers of several MB per layer;
/// with glibc's defaults each comes from a fresh `mmap` whose pages are
/// faulted in and zeroed every step (10-15% of a step's CPU time). Raising
/// the mmap and trim thresholds lets the same memory be reused.
pub fn tune_allocator() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes allocator thresholds; it is safe to
        // call at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 << 20);
        }
    });
}
