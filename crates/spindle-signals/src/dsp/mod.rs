//! Signal processing for display and analysis: zero-phase display filters,
//! min/max pyramids and the viewer's per-column decimation, spectra and
//! spectrograms, axis numbers. Pure library code: no egui.

pub mod axis;
mod bandstop;
pub mod bench;
mod biquad;
mod cascade;
mod dft;
mod filter;
mod filter_span;
mod intervals;
mod percentile_range;
mod pyramid;
mod span_spectra;
mod spectrum;
mod trace;

pub use axis::{format_hms, nice_step, peak_amplitude, robust_amplitude, time_ticks};
pub use bandstop::BandStop;
pub use bench::{FrameTiming, ViewerBench, bench_viewer_frame};
pub use biquad::Biquad;
pub use dft::RealDft;
pub use filter::{DisplayFilter, zero_phase};
pub use filter_span::filter_span;
pub use intervals::IntervalIndex;
pub use percentile_range::{
    FIT_PERCENTILES, MAX_RANGE_SAMPLES, ValueRange, fit_range, percentile_range,
};
pub use pyramid::{BASE_BLOCK, FACTOR, MinMaxPyramid, PyramidBuilder, min_max};
pub use span_spectra::{
    MAX_SPECTROGRAM_FRAMES, MAX_SPECTRUM_CHANNELS, MAX_SPECTRUM_SAMPLES, SpanSpectra,
    SpectraRequest, span_spectra,
};
pub use spectrum::{Psd, Spectrogram, fft, hann, heat, spectrogram, welch_length, welch_psd};
pub use trace::{
    ChannelData, MAX_FILTERED_SAMPLES, MAX_ON_DEMAND_SAMPLES, PieceKind, Samples, TimeWindow,
    Trace, TracePiece,
};
