//! Models and labels that travel: `spindle export --to onnx` checked with an
//! independent ONNX evaluator (tract) against the run's own predictions for
//! every exportable architecture, the braindecode export's keys and
//! metadata, and crafted run folders refused with one line.
//!
//! Each test trains a small model for one epoch on the bundled sample EEG
//! (5 recordings, 4 classes, 2-s windows at 256 Hz).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use spindle_learn::runs::load_run_snapshot;
use spindle_learn::train::{DeviceChoice, RunInfo, load_run, predict_file, read_weights_header};
use spindle_signals::labeling::open_labels;
use spindle_signals::recording::{
    LabelSet, read_events_tsv, read_recording, sidecar_path, write_events_tsv,
};
use spindle_signals::testdata::sample;
use tract_onnx::prelude::*;

use crate::support::{crafted, json, one_error_line, run_ok, spindle};

/// Stderr of a command that must fail with exit code 2 and one line.
fn run_fails(cmd: &mut Command) -> String {
    one_error_line(&cmd.output().unwrap())
}

/// Trains `model` (with `params` as `--model-param`) for one epoch.
fn train(dir: &Path, model: &str, params: &[&str], extra: &[&str]) -> PathBuf {
    let run = dir.join(model);
    let mut cmd = spindle();
    cmd.args(["train", "--data"])
        .arg(sample("eeg"))
        .args(["--model", model, "--epochs", "1", "--seed", "5", "--out"])
        .arg(&run)
        .args(extra);
    for p in params {
        cmd.args(["--model-param", p]);
    }
    run_ok(&mut cmd);
    run
}

/// Raw windows `[n, channels, samples]` of `file` at `onsets_s`, in the
/// run's channel order, physical units.
/// Runs `spindle export --to braindecode` on `run`: the exported tensors'
/// shapes by name, and the file's metadata.
fn export_to_braindecode(run: &Path) -> (BTreeMap<String, Vec<usize>>, BTreeMap<String, String>) {
    run_ok(
        spindle()
            .args(["export", "--to", "braindecode", "--run"])
            .arg(run),
    );
    let header = read_weights_header(&run.join("braindecode.safetensors")).unwrap();
    let shapes = header
        .tensors
        .into_iter()
        .map(|(name, t)| (name, t.shape))
        .collect();
    (shapes, header.metadata)
}

fn raw_windows(info: &RunInfo, file: &Path, onsets_s: &[f64]) -> Tensor {
    let rec = read_recording(file).unwrap();
    let len = info.window_len;
    let mut x = Vec::new();
    for &onset in onsets_s {
        let start = (onset * info.rate_hz).round() as usize;
        for label in &info.channels {
            let ch = rec.channels.iter().find(|c| &c.label == label).unwrap();
            assert_eq!(
                ch.rate_hz, info.rate_hz,
                "the sample data need no resampling"
            );
            x.extend_from_slice(&ch.samples[start..start + len]);
        }
    }
    tract_ndarray::Array3::from_shape_vec((onsets_s.len(), info.channels.len(), len), x)
        .unwrap()
        .into_tensor()
}

/// Runs the exported model on `x` with tract; rows of probabilities.
fn run_onnx(model: &Path, x: Tensor) -> Vec<Vec<f32>> {
    let shape = x.shape().to_vec();
    let plan = tract_onnx::onnx()
        .model_for_path(model)
        .unwrap()
        .with_input_fact(0, f32::fact(&shape).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let out = plan.run(tvec!(x.into_tvalue())).unwrap();
    let view = out[0].to_plain_array_view::<f32>().unwrap();
    view.outer_iter()
        .map(|row| row.iter().copied().collect())
        .collect()
}

/// Exports `run` to ONNX and checks it against a fresh `predict_file` of
/// one test recording (1e-4 absolute on every probability) and against
/// the run's `predictions.tsv` (1e-4, which includes its 4-decimal rounding).
fn check_onnx_matches(run: &Path) -> f32 {
    let onnx = run.join("model.onnx");
    let out = run_ok(spindle().args(["export", "--to", "onnx", "--run"]).arg(run));
    assert!(out.contains("model.onnx"), "{out}");
    let loaded = load_run(run, DeviceChoice::Cpu).unwrap();
    let info = &loaded.info;
    let file = sample("eeg/sub-05.edf");
    let predicted = predict_file(&loaded, &file).unwrap();
    let onsets: Vec<f64> = predicted.iter().map(|w| w.onset_s).take(40).collect();
    let probs = run_onnx(&onnx, raw_windows(info, &file, &onsets));
    let mut worst = 0f32;
    for (w, p) in predicted.iter().zip(&probs) {
        for (a, b) in w.probabilities.iter().zip(p) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(
        worst < 1e-4,
        "{}: ONNX differs from predict by {worst}",
        run.display()
    );
    // predictions.tsv: the run's own test windows.
    let table = std::fs::read_to_string(run.join("predictions.tsv")).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let p0 = header.iter().position(|h| h.starts_with("p_")).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).take(60).collect();
    let mut by_file: std::collections::BTreeMap<&str, Vec<&Vec<&str>>> = Default::default();
    for r in &rows {
        by_file.entry(r[0]).or_default().push(r);
    }
    for (file, rows) in by_file {
        let onsets: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
        let probs = run_onnx(&onnx, raw_windows(info, Path::new(file), &onsets));
        for (r, p) in rows.iter().zip(&probs) {
            for (k, q) in p.iter().enumerate() {
                let tsv: f32 = r[p0 + k].parse().unwrap();
                assert!(
                    (tsv - q).abs() < 1e-4,
                    "{}: {file} at {}: predictions.tsv {tsv}, ONNX {q}",
                    run.display(),
                    r[1]
                );
            }
        }
    }
    worst
}

#[test]
fn onnx_export_of_the_convolutional_models_matches_predict() {
    let dir = tempfile::tempdir().unwrap();
    for (model, params) in [
        ("eegnet", &[][..]),
        ("shallow", &[][..]),
        ("deep4", &[][..]),
        ("cnn1d", &["filters=8,8"][..]),
        (
            "m5",
            &["filters=8,8", "first_kernel=16", "first_stride=4", "pool=2"][..],
        ),
        ("sleep", &["kernel=16", "pool=4"][..]),
        ("mlp", &["hidden=16"][..]),
    ] {
        let run = train(dir.path(), model, params, &[]);
        let worst = check_onnx_matches(&run);
        eprintln!("{model}: max |ONNX - predict| = {worst:e}");
    }
}

#[test]
fn onnx_export_of_the_recurrent_models_matches_predict() {
    let dir = tempfile::tempdir().unwrap();
    for (model, params) in [
        ("crnn", &["filters=8,8", "hidden=8"][..]),
        ("lstm", &["hidden=8", "layers=2"][..]),
        ("bigru", &["hidden=8", "layers=1"][..]),
    ] {
        let run = train(dir.path(), model, params, &["--window", "0.5"]);
        let worst = check_onnx_matches(&run);
        eprintln!("{model}: max |ONNX - predict| = {worst:e}");
    }
}

#[test]
fn onnx_export_names_its_input_and_output_in_metadata_and_refuses_what_it_cannot_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "eegnet", &[], &["--normalization", "baseline"]);
    let out = dir.path().join("m.onnx");
    run_ok(
        spindle()
            .args(["export", "--to", "onnx", "--run"])
            .arg(&run)
            .arg("--out")
            .arg(&out),
    );
    let model = tract_onnx::onnx().proto_model_for_path(&out).unwrap();
    let meta: std::collections::BTreeMap<String, String> = model
        .metadata_props
        .iter()
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    assert!(model.opset_import.iter().any(|o| o.version >= 17));
    assert_eq!(meta["normalization"], "baseline");
    assert!(meta["classes"].contains("blink"), "{meta:?}");
    assert!(meta["channels"].starts_with('['), "{meta:?}");
    assert_eq!(meta["run"], "eegnet");
    assert!(!meta["unit"].is_empty(), "{meta:?}");
    // A run that filtered whole recordings cannot be repeated window by window.
    let filtered = dir.path().join("filtered");
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(sample("eeg"))
            .args([
                "--model",
                "mlp",
                "--epochs",
                "1",
                "--highpass",
                "1",
                "--out",
            ])
            .arg(&filtered),
    );
    let err = run_fails(
        spindle()
            .args(["export", "--to", "onnx", "--run"])
            .arg(&filtered),
    );
    assert!(err.contains("filters whole recordings"), "{err}");
}

/// ShallowConvNet and Deep4 sized to the sample EEG's 256 Hz (the papers
/// give 250 Hz): the CLI says which temporal kernel it chose (Shallow's 25
/// samples become 26; Deep4's 10.24 round to 10), and the braindecode
/// export carries the kernel the network was built with, in its
/// constructor and its weights alike.
#[test]
fn sized_models_export_to_braindecode_with_the_kernels_they_were_built_with() {
    let dir = tempfile::tempdir().unwrap();
    for (model, kernel) in [("shallow", 26u64), ("deep4", 10)] {
        let run = dir.path().join(model);
        let out = spindle()
            .args(["train", "--data"])
            .arg(sample("eeg"))
            .args(["--model", model, "--epochs", "1", "--seed", "5", "--out"])
            .arg(&run)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(
            err.contains(&format!(
                "sized to the data: temporal kernel {kernel} samples"
            )),
            "{err}"
        );
        let (shapes, meta) = export_to_braindecode(&run);
        let weight = &shapes["conv_time_spat.conv_time.weight"];
        assert_eq!(weight[2] as u64, kernel, "{model}: {weight:?}");
        let args: serde_json::Value = serde_json::from_str(&meta["constructor"]).unwrap();
        assert_eq!(args["filter_time_length"].as_u64(), Some(kernel), "{model}");
    }
}

/// The sleep stager becomes braindecode's `SleepStagerChambon2018`: its
/// exact keys and shapes (as braindecode 1.8.1 lists them for 4 channels
/// of 30 s at 100 Hz and 5 stages) and constructor arguments whose
/// `ceil(seconds * sfreq)` give back the kernel, pooling and padding.
/// `tools/load_in_braindecode.py` reproduces predictions.tsv with it
/// (checked by hand: 323/323 epochs, max difference 5e-5).
#[test]
fn the_sleep_stager_exports_to_braindecodes_sleep_stager_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("sleep");
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(sample("sleep"))
            .args(["--model", "sleep", "--epochs", "1", "--out"])
            .arg(&run),
    );
    let (shapes, meta) = export_to_braindecode(&run);
    let want: BTreeMap<String, Vec<usize>> = [
        ("spatial_conv.weight", vec![4, 1, 4, 1]),
        ("spatial_conv.bias", vec![4]),
        ("feature_extractor.0.weight", vec![8, 1, 1, 50]),
        ("feature_extractor.0.bias", vec![8]),
        ("feature_extractor.4.weight", vec![8, 8, 1, 50]),
        ("feature_extractor.4.bias", vec![8]),
        ("final_layer.1.weight", vec![5, 544]),
        ("final_layer.1.bias", vec![5]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(shapes, want);
    assert_eq!(meta["braindecode_class"], "SleepStagerChambon2018");
    let args: serde_json::Value = serde_json::from_str(&meta["constructor"]).unwrap();
    let sfreq = args["sfreq"].as_f64().unwrap();
    let samples = |key: &str| (args[key].as_f64().unwrap() * sfreq).ceil() as u64;
    assert_eq!(
        (
            samples("time_conv_size_s"),
            samples("max_pool_size_s"),
            samples("pad_size_s")
        ),
        (50, 13, 25)
    );
    assert_eq!(
        (args["n_chans"].as_u64(), args["n_outputs"].as_u64()),
        (Some(4), Some(5))
    );
}

#[test]
fn crafted_run_folders_get_one_line_errors_wherever_a_run_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "eegnet", &[], &[]);
    let recording = sample("eeg/sub-05.edf");
    // An EEGNet setting far out of range: it used to abort predict with
    // "memory allocation of 128000000000000 bytes failed" (exit 134).
    let huge = crafted(&run, "huge", |j| j["model"]["f1"] = 4_000_000.into());
    let expect = |err: &str| {
        assert!(
            err.contains("run.json") && err.contains("f1") && err.contains("4000000"),
            "{err}"
        );
    };
    expect(&run_fails(
        spindle()
            .args(["predict", "--run"])
            .arg(&huge)
            .arg(&recording),
    ));
    expect(&run_fails(
        spindle()
            .args(["explain", "--methods", "channels", "--run"])
            .arg(&huge),
    ));
    expect(&run_fails(
        spindle()
            .args(["export", "--to", "onnx", "--run"])
            .arg(&huge),
    ));
    expect(&run_fails(
        spindle()
            .args(["train", "--data"])
            .arg(sample("eeg"))
            .args(["--epochs", "1", "--out"])
            .arg(dir.path().join("fine-tuned"))
            .arg("--init")
            .arg(&huge),
    ));
    // The app's loaders: Runs and Results read run.json through
    // load_run_snapshot, suggestions and "Explain again" through load_run.
    let snapshot = load_run_snapshot(&huge).unwrap();
    assert!(snapshot.info.is_none());
    let problem = snapshot
        .problems
        .iter()
        .map(ToString::to_string)
        .collect::<String>();
    expect(&problem);
    let Err(e) = load_run(&huge, DeviceChoice::Cpu) else {
        panic!("loaded")
    };
    expect(&e.to_string());

    // In range, but not what the weights hold: found in the header before
    // anything of that size is allocated.
    let other = crafted(&run, "other", |j| j["model"]["f1"] = 16.into());
    let err = run_fails(
        spindle()
            .args(["predict", "--run"])
            .arg(&other)
            .arg(&recording),
    );
    assert!(
        err.contains("model.safetensors") && err.contains("conv_temporal.weight"),
        "{err}"
    );
    // Other claims: statistics that do not fit the channels, a window of
    // a billion samples, a class list that does not fit the weights.
    let stats = crafted(&run, "stats", |j| {
        j["normalization"]["mean"] = serde_json::json!([0.0])
    });
    let err = run_fails(
        spindle()
            .args(["predict", "--run"])
            .arg(&stats)
            .arg(&recording),
    );
    assert!(
        err.contains("run.json") && err.contains("normalization"),
        "{err}"
    );
    let window = crafted(&run, "window", |j| {
        j["window_len"] = 1_000_000_000u64.into();
        j["input_len"] = 1_000_000_000u64.into();
    });
    let err = run_fails(
        spindle()
            .args(["predict", "--run"])
            .arg(&window)
            .arg(&recording),
    );
    assert!(
        err.contains("run.json") && err.contains("window_len"),
        "{err}"
    );
    let classes = crafted(&run, "classes", |j| {
        j["classes"] = serde_json::json!(["a", "b", "c", "d", "e", "f", "g"]);
    });
    let err = run_fails(
        spindle()
            .args(["predict", "--run"])
            .arg(&classes)
            .arg(&recording),
    );
    assert!(err.contains("final_layer"), "{err}");
    // A weights header that claims more than the file holds.
    let lying = crafted(&run, "lying", |_| {});
    let mut bytes = std::fs::read(lying.join("model.safetensors")).unwrap();
    bytes[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(lying.join("model.safetensors"), bytes).unwrap();
    let err = run_fails(
        spindle()
            .args(["predict", "--run"])
            .arg(&lying)
            .arg(&recording),
    );
    assert!(
        err.contains("model.safetensors") && err.contains("header claims"),
        "{err}"
    );
    // model.safetensors says what it is.
    let header = read_weights_header(&run.join("model.safetensors")).unwrap();
    assert!(
        header.metadata["model"].contains("eegnet"),
        "{:?}",
        header.metadata
    );
    assert!(header.metadata["classes"].contains("blink"));
    assert!(!header.metadata["input_unit"].is_empty());
    let info = RunInfo::load(&run).unwrap();
    assert_eq!(
        info.input_unit.as_deref(),
        Some(header.metadata["input_unit"].as_str())
    );
}

/// A BIDS-named copy of the bundled sample EEG: `sub-0N/eeg/
/// sub-0N_task-demo_eeg.edf` with `sub-0N_task-demo_events.tsv` (its
/// classes renamed `bids_<class>`, so that a run shows which labels it
/// read), a `channels.tsv` for sub-01 marking one channel bad, and a
/// `dataset_description.json`.
fn bids_copy(root_dir: &Path) -> PathBuf {
    let bids = root_dir.join("bids");
    for n in 1..=5 {
        let eeg = bids.join(format!("sub-0{n}/eeg"));
        std::fs::create_dir_all(&eeg).unwrap();
        let src = sample(&format!("eeg/sub-0{n}"));
        std::fs::copy(
            src.with_extension("edf"),
            eeg.join(format!("sub-0{n}_task-demo_eeg.edf")),
        )
        .unwrap();
        let events = std::fs::read_to_string(format!("{}_events.tsv", src.display())).unwrap();
        let renamed: Vec<String> = events
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    l.to_string()
                } else {
                    let (head, class) = l.rsplit_once('\t').unwrap();
                    format!("{head}\tbids_{class}")
                }
            })
            .collect();
        std::fs::write(
            eeg.join(format!("sub-0{n}_task-demo_events.tsv")),
            renamed.join("\n") + "\n",
        )
        .unwrap();
    }
    std::fs::write(
        bids.join("dataset_description.json"),
        r#"{"Name": "Spindle demo", "BIDSVersion": "1.9.0"}"#,
    )
    .unwrap();
    bids
}

#[test]
fn a_bids_dataset_trains_on_its_events_and_label_edits_land_under_bids_names() {
    let dir = tempfile::tempdir().unwrap();
    let bids = bids_copy(dir.path());
    let rec = read_recording(&bids.join("sub-01/eeg/sub-01_task-demo_eeg.edf")).unwrap();
    let bad = rec.channels[0].label.clone();
    let mut channels = String::from("name\ttype\tunits\tstatus\n");
    for (i, c) in rec.channels.iter().enumerate() {
        let status = if i == 0 { "bad" } else { "good" };
        channels.push_str(&format!("{}\tEEG\tuV\t{status}\n", c.label));
    }
    std::fs::write(
        bids.join("sub-01/eeg/sub-01_task-demo_channels.tsv"),
        channels,
    )
    .unwrap();
    // An events file nothing pairs with is named, not skipped in silence.
    std::fs::write(
        bids.join("sub-02/eeg/sub-02_task-other_events.tsv"),
        "onset\tduration\ttrial_type\n1.0\t2.0\tx\n",
    )
    .unwrap();
    let plain = dir.path().join("plain");
    let out = spindle()
        .args(["train", "--data"])
        .arg(&bids)
        .args(["--model", "mlp", "--epochs", "1", "--out"])
        .arg(&plain)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let said = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    assert!(said.contains("sub-02_task-other_events.tsv"), "{said}");
    assert!(said.contains("marked bad"), "{said}");
    // Leave-one-subject-out takes subjects from the sub- entity.
    let run = dir.path().join("run");
    run_ok(
        spindle()
            .args(["train", "--data"])
            .arg(&bids)
            .args(["--model", "mlp", "--epochs", "1", "--cv", "loso", "--out"])
            .arg(&run),
    );
    let info = RunInfo::load(&run.join("fold-1")).unwrap();
    assert!(
        info.classes.iter().all(|c| c.starts_with("bids_")),
        "{:?}",
        info.classes
    );
    assert!(!info.channels.contains(&bad), "{:?}", info.channels);
    let cv = json(&run.join("cv.json"));
    assert_eq!(
        cv["folds"].as_array().map(Vec::len),
        Some(5),
        "one fold per sub- subject"
    );

    // A label edit saved through the library's save path lands under the
    // BIDS name, not beside it as `..._eeg_events.tsv`.
    let recording = bids.join("sub-03/eeg/sub-03_task-demo_eeg.edf");
    let opened = open_labels(&recording, &[]);
    let mut labels = opened.labels.labels.clone();
    labels.truncate(3);
    let sidecar = sidecar_path(&recording);
    assert_eq!(sidecar, bids.join("sub-03/eeg/sub-03_task-demo_events.tsv"));
    write_events_tsv(&sidecar, &LabelSet::new(labels)).unwrap();
    let saved = read_events_tsv(&sidecar).unwrap();
    assert_eq!(saved.labels.len(), 3);
    assert!(
        !bids
            .join("sub-03/eeg/sub-03_task-demo_eeg_events.tsv")
            .exists()
    );
}

#[test]
fn onnx_export_of_a_regression_gives_the_targets_unit() {
    // The reaction times in seconds, learned standardized: the exported
    // model undoes the standardization as `predict` does.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("reaction");
    run_ok(
        spindle()
            .args(["train", "--regression", "--data"])
            .arg(sample("reaction_time"))
            .args(["--model", "mlp", "--model-param", "hidden=16"])
            .args(["--epochs", "2", "--normalization", "zscore", "--out"])
            .arg(&run),
    );
    run_ok(
        spindle()
            .args(["export", "--to", "onnx", "--run"])
            .arg(&run),
    );
    let loaded = load_run(&run, DeviceChoice::Cpu).unwrap();
    let scale = loaded
        .info
        .target_scale
        .expect("a regression stores its scale");
    assert!((0.3..0.6).contains(&scale.mean), "{scale:?}");
    let file = sample("reaction_time/sub-05.edf");
    let predicted = predict_file(&loaded, &file).unwrap();
    let onsets: Vec<f64> = predicted.iter().map(|w| w.onset_s).take(20).collect();
    let values = run_onnx(
        &run.join("model.onnx"),
        raw_windows(&loaded.info, &file, &onsets),
    );
    for (w, v) in predicted.iter().zip(&values) {
        let p: f32 = w.label.parse().unwrap();
        assert!(
            (p - v[0]).abs() < 1e-4,
            "at {} s: predict {p}, ONNX {}",
            w.onset_s,
            v[0]
        );
    }
}
