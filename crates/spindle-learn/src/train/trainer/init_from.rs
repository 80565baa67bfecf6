//! Fine-tuning (`--init`): the weights of an earlier run copied into a new
//! network where names and shapes match, and what was left fresh.

use std::path::Path;

use candle_core::Device;
use candle_nn::VarMap;

use crate::train::TrainError;

/// Copies into `varmap` every tensor of the safetensors file whose name and
/// shape match; returns (copied, total in the map).
pub(super) fn load_matching(
    varmap: &VarMap,
    path: &Path,
    device: &Device,
) -> Result<Loaded, TrainError> {
    let tensors = candle_core::safetensors::load(path, device)
        .map_err(|e| TrainError::run_folder(path, e))?;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| TrainError::run_folder(path, "variable map lock poisoned"))?;
    let mut loaded = Loaded {
        copied: 0,
        total: data.len(),
        reinitialized: Vec::new(),
    };
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let Some(var) = data.get(name) else { continue };
        match tensors.get(name) {
            Some(t) if t.dims() == var.dims() => {
                var.set(t)?;
                loaded.copied += 1;
            }
            Some(t) => loaded.reinitialized.push(format!(
                "{name} ({:?} here, {:?} in the run)",
                var.dims(),
                t.dims()
            )),
            None => loaded
                .reinitialized
                .push(format!("{name} (not in the run)")),
        }
    }
    Ok(loaded)
}

/// What [`load_matching`] took from a run's weights.
pub(super) struct Loaded {
    /// Tensors copied.
    copied: usize,
    /// Tensors of the new network.
    total: usize,
    /// The new network's tensors left as freshly initialized, each with why.
    reinitialized: Vec<String>,
}

impl Loaded {
    /// The warning that says what fine-tuning from `from` kept.
    pub(super) fn message(&self, from: &Path) -> String {
        let mut m = format!(
            "fine-tuning: started from {} of {} tensors of {}",
            self.copied,
            self.total,
            from.display()
        );
        if !self.reinitialized.is_empty() {
            m.push_str(&format!(
                "; re-initialized (they do not fit the new data): {}",
                self.reinitialized.join(", ")
            ));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Tensor};
    use std::collections::HashMap;

    #[test]
    fn fine_tuning_names_the_tensors_that_do_not_fit() {
        let dev = Device::Cpu;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("model.safetensors");
        let saved: HashMap<String, Tensor> = [
            (
                "conv.weight",
                Tensor::ones((4, 2), DType::F32, &dev).unwrap(),
            ),
            (
                "head.weight",
                Tensor::ones((3, 4), DType::F32, &dev).unwrap(),
            ),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), t))
        .collect();
        candle_core::safetensors::save(&saved, &path).unwrap();
        let varmap = VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        vb.get((4, 2), "conv.weight").unwrap();
        vb.get((2, 4), "head.weight").unwrap();
        vb.get(2, "head.bias").unwrap();
        let loaded = load_matching(&varmap, &path, &dev).unwrap();
        assert_eq!((loaded.copied, loaded.total), (1, 3));
        let m = loaded.message(Path::new("old-run"));
        assert!(
            m.starts_with("fine-tuning: started from 1 of 3 tensors of old-run"),
            "{m}"
        );
        assert!(m.contains("head.bias (not in the run)"), "{m}");
        assert!(
            m.contains("head.weight ([2, 4] here, [3, 4] in the run)"),
            "{m}"
        );
        assert!(!m.contains("conv.weight"), "{m}");
    }
}
