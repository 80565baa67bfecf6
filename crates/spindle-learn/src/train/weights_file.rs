//! `model.safetensors` as untrusted input and as a file other tools read.
//!
//! A run folder travels between people, so its weights file is read like a
//! recording: [`read_weights_header`] reads only the safetensors header,
//! after checking the length it claims against the file, and checks every
//! tensor's byte range against the data that follows. Nothing is allocated
//! from a number the file gives before that number is checked.
//!
//! [`save_weights`] writes the checkpoint with safetensors metadata
//! (`__metadata__`, string to string): the model spec as JSON, the input
//! shape, classes, input unit and Spindle's version ([`weights_metadata`]),
//! so that the file says what it is without `run.json`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use candle_core::Tensor;

use super::{RunInfo, TrainError};

/// The longest safetensors header read (bytes). Spindle's largest models
/// have a few dozen tensors, a header of a few kB.
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// One tensor as the header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    /// The safetensors dtype, e.g. `F32`.
    pub dtype: String,
    /// The shape.
    pub shape: Vec<usize>,
}

/// What a safetensors header says: the tensors and the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightsHeader {
    /// Each tensor's dtype and shape, by name.
    pub tensors: BTreeMap<String, TensorEntry>,
    /// The `__metadata__` strings (empty when the file has none).
    pub metadata: BTreeMap<String, String>,
}

/// Bytes per element of a safetensors dtype (`None` for unknown ones).
fn dtype_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 1,
        "U16" | "I16" | "F16" | "BF16" => 2,
        "U32" | "I32" | "F32" => 4,
        "U64" | "I64" | "F64" => 8,
        _ => return None,
    })
}

/// Reads and checks the header of the safetensors file at `path`: its
/// claimed length against the file, and each tensor's dtype, shape and
/// byte range against the data after it. Errors name the file.
pub fn read_weights_header(path: &Path) -> Result<WeightsHeader, TrainError> {
    let bad = |reason: String| TrainError::run_folder(path, reason);
    let mut file = std::fs::File::open(path).map_err(|e| TrainError::run_folder(path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| TrainError::run_folder(path, e))?
        .len();
    let mut len_bytes = [0u8; 8];
    if file_len < 8 || file.read_exact(&mut len_bytes).is_err() {
        return Err(bad(format!(
            "not a safetensors file: {file_len} bytes, too short for its header length"
        )));
    }
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > file_len - 8 {
        return Err(bad(format!(
            "not a safetensors file: its header claims {header_len} bytes but the file holds {} after the length",
            file_len - 8
        )));
    }
    if header_len > MAX_HEADER_BYTES {
        return Err(bad(format!(
            "a safetensors header of {header_len} bytes is larger than any model's ({MAX_HEADER_BYTES} at most)"
        )));
    }
    let mut text = vec![0u8; header_len as usize];
    file.read_exact(&mut text)
        .map_err(|e| TrainError::run_folder(path, e))?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("the safetensors header is not JSON: {e}")))?;
    let serde_json::Value::Object(entries) = value else {
        return Err(bad("the safetensors header is not a JSON object".into()));
    };
    parse_entries(entries, file_len - 8 - header_len).map_err(bad)
}

/// The tensors and metadata of a header's JSON object, each tensor's byte
/// range checked against `data_len` bytes of data.
fn parse_entries(
    entries: serde_json::Map<String, serde_json::Value>,
    data_len: u64,
) -> Result<WeightsHeader, String> {
    let mut header = WeightsHeader::default();
    for (name, entry) in entries {
        if name == "__metadata__" {
            let Some(map) = entry.as_object() else {
                return Err("__metadata__ is not an object of strings".into());
            };
            for (k, v) in map {
                let Some(v) = v.as_str() else {
                    return Err(format!("__metadata__ value {k:?} is not a string"));
                };
                header.metadata.insert(k.clone(), v.to_string());
            }
            continue;
        }
        let dtype = entry["dtype"].as_str().unwrap_or_default().to_string();
        let Some(size) = dtype_bytes(&dtype) else {
            return Err(format!(
                "tensor {name} has an unknown dtype {:?}",
                entry["dtype"]
            ));
        };
        let shape: Option<Vec<u64>> = entry["shape"]
            .as_array()
            .and_then(|dims| dims.iter().map(serde_json::Value::as_u64).collect());
        let offsets: Option<Vec<u64>> = entry["data_offsets"]
            .as_array()
            .and_then(|o| o.iter().map(serde_json::Value::as_u64).collect());
        let (Some(shape), Some(offsets)) = (shape, offsets) else {
            return Err(format!("tensor {name} has no valid shape and data_offsets"));
        };
        let [start, end] = offsets[..] else {
            return Err(format!("tensor {name}: data_offsets must be two numbers"));
        };
        let bytes = shape
            .iter()
            .try_fold(size, |acc, &d| acc.checked_mul(d))
            .filter(|&b| b <= data_len);
        if start > end || end > data_len || bytes != Some(end - start) {
            return Err(format!(
                "tensor {name} of shape {shape:?} claims bytes {start}..{end}, but the file holds {data_len} bytes of data"
            ));
        }
        let shape = shape.iter().map(|&d| d as usize).collect();
        header.tensors.insert(name, TensorEntry { dtype, shape });
    }
    Ok(header)
}

/// The safetensors metadata Spindle writes: `format` (`pt`), `spindle_version`,
/// `model` (the spec's JSON), `input_shape` (`[channels, samples]`),
/// `input_rate_hz`, `classes` (JSON list), `regression`, `channels` (JSON
/// list) and, when known, `input_unit`; a regression with standardized
/// targets adds `target_mean` and `target_sd` (outputs are
/// `learned * target_sd + target_mean`).
pub fn weights_metadata(info: &RunInfo) -> BTreeMap<String, String> {
    let json = |v: serde_json::Value| v.to_string();
    let mut m = BTreeMap::new();
    m.insert("format".into(), "pt".into());
    m.insert("spindle_version".into(), info.spindle_version.clone());
    m.insert(
        "model".into(),
        serde_json::to_string(&info.model).unwrap_or_default(),
    );
    m.insert(
        "input_shape".into(),
        json(serde_json::json!([info.input_channels, info.input_len])),
    );
    m.insert("input_rate_hz".into(), info.input_rate_hz.to_string());
    m.insert("classes".into(), json(serde_json::json!(info.classes)));
    m.insert("regression".into(), info.regression.to_string());
    m.insert("channels".into(), json(serde_json::json!(info.channels)));
    if let Some(unit) = &info.input_unit {
        m.insert("input_unit".into(), unit.clone());
    }
    if let Some(scale) = &info.target_scale {
        m.insert("target_mean".into(), scale.mean.to_string());
        m.insert("target_sd".into(), scale.sd.to_string());
    }
    m
}

/// Writes `tensors` to `path` (through a temporary file and a rename) with
/// `metadata` in the safetensors header.
pub fn save_weights(
    tensors: &HashMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
    path: &Path,
) -> Result<(), TrainError> {
    let tmp = path.with_extension("safetensors.tmp");
    let metadata: HashMap<String, String> = metadata.clone().into_iter().collect();
    let mut sorted: Vec<(&String, &Tensor)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    safetensors::serialize_to_file(sorted, Some(metadata), &tmp)
        .map_err(|e| TrainError::run_folder(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::run_folder(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, header: &str, data_len: usize) {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.resize(bytes.len() + data_len, 0);
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn a_header_is_read_and_checked_against_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        write(
            &path,
            r#"{"__metadata__":{"model":"x"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#,
            24,
        );
        let h = read_weights_header(&path).unwrap();
        assert_eq!(h.tensors["w"].shape, vec![2, 3]);
        assert_eq!(h.metadata["model"], "x");
        // A tensor claiming more data than the file holds.
        write(
            &path,
            r#"{"w":{"dtype":"F32","shape":[4000000,64],"data_offsets":[0,1024000000]}}"#,
            24,
        );
        let e = read_weights_header(&path).unwrap_err().to_string();
        assert!(
            e.contains("model.safetensors") && e.contains("4000000"),
            "{e}"
        );
        // Shape and byte range disagree.
        write(
            &path,
            r#"{"w":{"dtype":"F32","shape":[3,3],"data_offsets":[0,24]}}"#,
            24,
        );
        assert!(read_weights_header(&path).is_err());
        // A header length past the end of the file.
        let mut bytes = (1u64 << 40).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        std::fs::write(&path, bytes).unwrap();
        let e = read_weights_header(&path).unwrap_err().to_string();
        assert!(e.contains("header claims"), "{e}");
        std::fs::write(&path, b"abc").unwrap();
        assert!(read_weights_header(&path).is_err());
    }

    #[test]
    fn saved_metadata_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let t = Tensor::ones((2, 2), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
        let tensors: HashMap<String, Tensor> = [("a.weight".to_string(), t)].into();
        let meta: BTreeMap<String, String> = [("model".to_string(), "{}".to_string())].into();
        save_weights(&tensors, &meta, &path).unwrap();
        let h = read_weights_header(&path).unwrap();
        assert_eq!(h.metadata, meta);
        assert_eq!(h.tensors["a.weight"].shape, vec![2, 2]);
    }
}
