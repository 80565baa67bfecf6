//! Choosing where tensors live.

use candle_core::Device;

use super::TrainError;

/// Where to compute: `auto` picks a GPU when this build has one and it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// CUDA or Metal when compiled in and available, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU (build with `--features cuda`).
    Cuda,
    /// An Apple GPU (build with `--features metal`).
    Metal,
}

impl DeviceChoice {
    /// Every choice, in the order the command line lists them.
    pub const ALL: [DeviceChoice; 4] = [
        DeviceChoice::Auto,
        DeviceChoice::Cpu,
        DeviceChoice::Cuda,
        DeviceChoice::Metal,
    ];

    /// The name `--device` takes: `auto`, `cpu`, `cuda` or `metal`.
    pub fn name(self) -> &'static str {
        match self {
            DeviceChoice::Auto => "auto",
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
            DeviceChoice::Metal => "metal",
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    /// One of the [`DeviceChoice::name`]s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceChoice::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("{s:?} is not one of auto, cpu, cuda, metal"))
    }
}

/// The choices this build and machine can train on: `auto` and `cpu`, and
/// `cuda` or `metal` when compiled in and available.
pub fn available_devices() -> Vec<DeviceChoice> {
    let mut v = vec![DeviceChoice::Auto, DeviceChoice::Cpu];
    if candle_core::utils::cuda_is_available() {
        v.push(DeviceChoice::Cuda);
    }
    if candle_core::utils::metal_is_available() {
        v.push(DeviceChoice::Metal);
    }
    v
}

/// The candle device for `choice`, or why it is not available in this build.
pub fn select_device(choice: DeviceChoice) -> Result<Device, TrainError> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => {
            if candle_core::utils::cuda_is_available()
                && let Ok(d) = Device::new_cuda(0)
            {
                return Ok(d);
            }
            if candle_core::utils::metal_is_available()
                && let Ok(d) = Device::new_metal(0)
            {
                return Ok(d);
            }
            Ok(Device::Cpu)
        }
        DeviceChoice::Cuda => {
            if !candle_core::utils::cuda_is_available() {
                return Err(TrainError::Device(
                    "this build has no CUDA support: rebuild with `cargo build --release --features cuda`".into(),
                ));
            }
            Device::new_cuda(0).map_err(|e| TrainError::Device(format!("no usable CUDA GPU: {e}")))
        }
        DeviceChoice::Metal => {
            if !candle_core::utils::metal_is_available() {
                return Err(TrainError::Device(
                    "this build has no Metal support: rebuild on macOS with `cargo build --release --features metal`".into(),
                ));
            }
            Device::new_metal(0)
                .map_err(|e| TrainError::Device(format!("no usable Metal GPU: {e}")))
        }
    }
}

/// A short name for a device (`cpu`, `cuda:0`, `metal:0`).
pub fn device_name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda:0".into(),
        Device::Metal(_) => "metal:0".into(),
    }
}
