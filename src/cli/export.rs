//! `spindle export`: a trained run as an ONNX model or a braindecode state
//! dict, for ONNX Runtime, PyTorch and MNE users.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use spindle_learn::export::{export_braindecode, export_onnx};
use spindle_signals::recording::write_atomic;

/// What to export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// An ONNX model (opset 17): raw windows in, class probabilities out,
    /// the run's normalization inside.
    Onnx,
    /// A braindecode state dict (safetensors) with its constructor
    /// arguments; `tools/load_in_braindecode.py` loads it.
    Braindecode,
}

/// Arguments of `spindle export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run folder written by `spindle train` (or the app).
    #[arg(long)]
    run: PathBuf,
    /// The format to write.
    #[arg(long, value_enum)]
    to: Target,
    /// Where to write (default: `model.onnx` or `braindecode.safetensors`
    /// in the run folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Writes the export and says where.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let default = |name: &str| args.run.join(name);
    let out = match args.to {
        Target::Onnx => {
            let out = args.out.clone().unwrap_or_else(|| default("model.onnx"));
            write_atomic(&out, &export_onnx(&args.run)?)?;
            out
        }
        Target::Braindecode => {
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| default("braindecode.safetensors"));
            export_braindecode(&args.run)?.save(&out)?;
            out
        }
    };
    println!("wrote {}", display(&out));
    Ok(())
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
