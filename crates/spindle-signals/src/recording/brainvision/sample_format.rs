//! The binary sample types of a BrainVision data file (`BinaryFormat=`),
//! their sizes and the physical range each can hold; the header parser
//! reads them and the data decoder uses them.

/// A binary sample type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// `INT_16`: signed 16-bit integers.
    Int16,
    /// `UINT_16`: unsigned 16-bit integers.
    UInt16,
    /// `INT_32`: signed 32-bit integers.
    Int32,
    /// `IEEE_FLOAT_32`: 32-bit floats.
    Float32,
    /// `IEEE_FLOAT_64`: 64-bit floats.
    Float64,
}

impl SampleFormat {
    /// Parses a `BinaryFormat=` value.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        [
            ("INT_16", Self::Int16),
            ("UINT_16", Self::UInt16),
            ("INT_32", Self::Int32),
            ("IEEE_FLOAT_32", Self::Float32),
            ("IEEE_FLOAT_64", Self::Float64),
        ]
        .into_iter()
        .find(|(name, _)| text.eq_ignore_ascii_case(name))
        .map(|(_, fmt)| fmt)
    }

    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            Self::Int16 | Self::UInt16 => 2,
            Self::Int32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }

    /// The physical range a channel can hold: the integer type's range times
    /// the resolution, or the data's range for float types.
    pub fn physical_range(self, resolution: f64, samples: &[f32]) -> (f64, f64) {
        let raw = match self {
            Self::Int16 => (f64::from(i16::MIN), f64::from(i16::MAX)),
            Self::UInt16 => (f64::from(u16::MIN), f64::from(u16::MAX)),
            Self::Int32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
            Self::Float32 | Self::Float64 => return data_range(samples),
        };
        let (a, b) = (raw.0 * resolution, raw.1 * resolution);
        (a.min(b), a.max(b))
    }
}

/// The smallest and largest finite sample, or `(0, 0)` when there is none.
pub fn data_range(samples: &[f32]) -> (f64, f64) {
    let (lo, hi) = samples
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi {
        (f64::from(lo), f64::from(hi))
    } else {
        (0.0, 0.0)
    }
}
