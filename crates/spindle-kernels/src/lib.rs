//! CPU kernels for Spindle's hot layers, as candle custom ops with
//! hand-written backward passes.
//!
//! A leaf crate: it knows candle and nothing of Spindle's other crates, and
//! is compiled once and rarely (`spindle-learn`'s models call it).
//!
//! Each kernel works on contiguous `f32` slices and falls back to a
//! reference built from candle's own ops on other devices and dtypes (CUDA,
//! Metal, f64), so the models call one function everywhere. Every kernel is
//! tested against its reference and against finite differences (the
//! `testing` feature offers those helpers to crates that build on them).
//!
//! - [`conv1d`]: strided, padded 1-D convolution (per-sample im2col + GEMM,
//!   a single input channel read in place);
//!   the input gradient is computed only when the input needs one.
//! - [`bn_act_pool`]: batch norm + activation (ReLU, ELU, square) + pooling
//!   (max, average with any stride), fused in one pass each way.
//! - [`dwconv`]: depthwise 1-D convolution with bias, and the batch
//!   statistics of a temporal convolution computed from its input (EEGNet).
//! - [`rnn`]: a whole LSTM/GRU layer over the sequence with its BPTT backward.
//! - [`gemm`]: the matrix-product micro-kernel they share; [`par`]: threads;
//!   [`isa`]: the instruction sets they are compiled for, detected at run time.
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
