//! Which settings differ between runs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::train::RunInfo;

/// Shown for a setting that a run does not have.
pub const MISSING: &str = "-";

/// One setting that differs between the compared runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingDiff {
    /// The dotted key, e.g. `model.kind`, `train.lr`, `dataset.window_s`.
    pub key: String,
    /// The value in each run, in the order the runs were given: numbers and
    /// strings as written in `run.json` (strings without quotes), `null` as
    /// `none`, lists as compact JSON, and [`MISSING`] where a run lacks the key.
    pub values: Vec<String>,
}

/// The settings that differ between `infos`: their `model`, `train` and
/// `dataset_config` flattened into dotted keys (`model.*`, `train.*`,
/// `dataset.*`; nested objects continue the dots, lists are one value),
/// keeping the keys whose values are not all equal. A key one run lacks
/// differs. Sorted by key; empty for fewer than two runs.
///
/// Runs of different architectures differ in one `model` entry (each
/// run's model by name and its main settings) instead of one entry per
/// hyper-parameter of either, and without the window minimum that follows
/// from the model; a seed given to both the dataset and the training (as
/// `--seed` does) is one `seed` entry.
pub fn settings_diff(infos: &[&RunInfo]) -> Vec<SettingDiff> {
    let values: Vec<Value> = infos.iter().map(|info| settings_value(info)).collect();
    let mut diffs = settings_diff_values(&values);
    if diffs.iter().any(|d| d.key == "model.kind") {
        diffs.retain(|d| !d.key.starts_with("model.") && d.key != "dataset.min_window_samples");
        diffs.push(SettingDiff {
            key: "model".into(),
            values: infos.iter().map(|i| i.model.display_name()).collect(),
        });
    }
    let seeds = |key: &str| diffs.iter().position(|d| d.key == key);
    if let (Some(d), Some(t)) = (seeds("dataset.seed"), seeds("train.seed"))
        && diffs[d].values == diffs[t].values
    {
        diffs[t].key = "seed".into();
        diffs.remove(d);
    }
    diffs.sort_by(|a, b| a.key.cmp(&b.key));
    diffs
}

/// The compared settings of one run as `{"model": .., "train": ..,
/// "dataset": ..}`.
fn settings_value(info: &RunInfo) -> Value {
    let section = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    serde_json::json!({
        "model": section(serde_json::to_value(&info.model)),
        "train": section(serde_json::to_value(&info.train)),
        "dataset": section(serde_json::to_value(&info.dataset_config)),
    })
}

/// [`settings_diff`] on each run's settings as a JSON object of sections.
fn settings_diff_values(runs: &[Value]) -> Vec<SettingDiff> {
    if runs.len() < 2 {
        return Vec::new();
    }
    let flat: Vec<BTreeMap<String, String>> = runs
        .iter()
        .map(|run| {
            let mut out = BTreeMap::new();
            flatten("", run, &mut out);
            out
        })
        .collect();
    let keys: BTreeSet<&String> = flat.iter().flat_map(|f| f.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let values: Vec<String> = flat
                .iter()
                .map(|f| f.get(key).cloned().unwrap_or_else(|| MISSING.to_string()))
                .collect();
            let all_present = flat.iter().all(|f| f.contains_key(key));
            let all_equal = values.windows(2).all(|w| w[0] == w[1]);
            (!all_present || !all_equal).then(|| SettingDiff {
                key: key.clone(),
                values,
            })
        })
        .collect()
}

/// Adds the leaves of `value` under `prefix` to `out`.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        leaf => {
            if !prefix.is_empty() {
                out.insert(prefix.to_string(), display(leaf));
            }
        }
    }
}

/// A leaf value as shown in a comparison.
fn display(value: &Value) -> String {
    match value {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_support::run_info;

    fn diff(key: &str, values: &[&str]) -> SettingDiff {
        SettingDiff {
            key: key.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn json_settings_diff() {
        let a = serde_json::json!({
            "model": {"kind": "eegnet", "f1": 8, "dropout": 0.25},
            "train": {"lr": 0.001, "epochs": 30, "schedule": {"kind": "constant"}},
            "dataset": {"window_s": null, "classes": ["a", "b"], "merge": {}},
        });
        let b = serde_json::json!({
            "model": {"kind": "mlp", "hidden": [128, 64], "dropout": 0.25},
            "train": {"lr": 0.01, "epochs": 30,
                      "schedule": {"kind": "step", "every_epochs": 10, "gamma": 0.5}},
            "dataset": {"window_s": 2.5, "classes": ["a", "b"], "merge": {}},
        });
        let got = settings_diff_values(&[a.clone(), b]);
        assert_eq!(
            got,
            vec![
                diff("dataset.window_s", &["none", "2.5"]),
                diff("model.f1", &["8", "-"]),
                diff("model.hidden", &["-", "[128,64]"]),
                diff("model.kind", &["eegnet", "mlp"]),
                diff("train.lr", &["0.001", "0.01"]),
                diff("train.schedule.every_epochs", &["-", "10"]),
                diff("train.schedule.gamma", &["-", "0.5"]),
                diff("train.schedule.kind", &["constant", "step"]),
            ]
        );
        assert!(settings_diff_values(&[a.clone(), a.clone()]).is_empty());
        assert!(settings_diff_values(&[a]).is_empty());
        assert!(settings_diff_values(&[]).is_empty());
    }

    #[test]
    fn run_info_settings_diff() {
        let a = run_info(&["wake", "n2"]);
        let mut b = a.clone();
        b.train.lr = 0.01;
        b.dataset_config.window_s = Some(30.0);
        let mut c = a.clone();
        c.model = serde_json::from_value(serde_json::json!({"kind": "mlp"})).unwrap();
        // channels and other non-settings differences are not compared
        c.channels.push("Fz".into());
        let got = settings_diff(&[&a, &b, &c]);
        let keys: Vec<&str> = got.iter().map(|d| d.key.as_str()).collect();
        assert!(keys.contains(&"train.lr"), "{keys:?}");
        assert!(keys.contains(&"dataset.window_s"), "{keys:?}");
        assert!(
            !keys.iter().any(|k| k.starts_with("model.")),
            "different architectures are one model entry: {keys:?}"
        );
        assert!(
            keys.iter()
                .all(|k| *k == "model" || k.starts_with("train.") || k.starts_with("dataset."))
        );
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let lr = got.iter().find(|d| d.key == "train.lr").unwrap();
        assert_eq!(lr.values, vec!["0.001", "0.01", "0.001"]);
        let model = got.iter().find(|d| d.key == "model").unwrap();
        assert!(model.values[0].starts_with("EEGNet"), "{:?}", model.values);
        assert_eq!(model.values[0], model.values[1]);
        assert!(model.values[2].starts_with("MLP"), "{:?}", model.values);
        let window = got.iter().find(|d| d.key == "dataset.window_s").unwrap();
        assert_eq!(window.values, vec!["none", "30.0", "none"]);
        assert!(settings_diff(&[&a, &a.clone()]).is_empty());

        // One seed given to both parts is one entry; so is one architecture's
        // hyper-parameter.
        let mut d = a.clone();
        d.train.seed += 1;
        d.dataset_config.seed += 1;
        let got = settings_diff(&[&a, &d]);
        let keys: Vec<&str> = got.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["seed"]);
    }
}
