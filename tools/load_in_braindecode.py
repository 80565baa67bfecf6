#!/usr/bin/env python3
"""Load a Spindle run exported with `spindle export --to braindecode` into
braindecode and reproduce the run's predictions.tsv from the recordings.

    spindle export --run RUN --to braindecode          # RUN/braindecode.safetensors
    python tools/load_in_braindecode.py RUN            # compares with RUN/predictions.tsv
    python tools/load_in_braindecode.py RUN --weights other.safetensors

Needs torch, braindecode (1.8), mne and numpy. The recordings are read
with MNE (which gives volts); the export's metadata says the unit the network
was trained on and the factor from volts, the normalization Spindle applied
and the constructor arguments of the braindecode model.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np


def read_safetensors(path):
    """Tensors (numpy) and metadata of a safetensors file, without the
    safetensors package: an 8-byte header length, a JSON header, the data."""
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    types = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16}
    tensors = {}
    for name, t in header.items():
        start, end = t["data_offsets"]
        data = np.frombuffer(raw[8 + n + start:8 + n + end], dtype=types[t["dtype"]])
        tensors[name] = data.reshape(t["shape"]).copy()
    return tensors, meta


def load_model(weights):
    """The braindecode model with the exported weights, and the metadata."""
    import braindecode.models
    import torch

    tensors, meta = read_safetensors(weights)
    cls = getattr(braindecode.models, meta["braindecode_class"])
    model = cls(**json.loads(meta["constructor"]))
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, meta


def read_volts(path, channels):
    """The channels of a recording in volts, in the run's order, and its rate."""
    import mne

    suffix = Path(path).suffix.lower()
    if suffix == ".vhdr":
        raw = mne.io.read_raw_brainvision(path, preload=True, verbose="error")
    elif suffix == ".bdf":
        raw = mne.io.read_raw_bdf(path, preload=True, verbose="error")
    else:
        raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    raw.pick(channels)
    return raw.get_data(picks=channels), raw.info["sfreq"]


def exponential_moving_standardize(x, factor_new=1e-3, init_block=1000, eps=1e-4):
    """Spindle's (and braindecode's) exponential moving standardization of
    each row of x, the first init_block samples standardized as a block."""
    out = np.empty_like(x, dtype=np.float64)
    for c, row in enumerate(x.astype(np.float64)):
        block = min(max(init_block, 1), len(row))
        m0, s0 = row[:block].mean(), row[:block].std()
        mean, var = row[0], 0.0
        for t, v in enumerate(row):
            if t > 0:
                mean = (1 - factor_new) * mean + factor_new * v
                var = (1 - factor_new) * var + factor_new * (v - mean) ** 2
            if t < block:
                out[c, t] = (v - m0) / max(s0, eps)
            else:
                out[c, t] = (v - mean) / max(np.sqrt(var), eps)
    return out.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="the Spindle run folder")
    parser.add_argument("--weights", type=Path, help="default: RUN/braindecode.safetensors")
    args = parser.parse_args()
    import torch

    model, meta = load_model(args.weights or args.run / "braindecode.safetensors")
    channels = json.loads(meta["channels"])
    classes = json.loads(meta["classes"])
    norm = json.loads(meta["normalization"])
    rate = float(meta["rate_hz"])
    length = int(meta["window_samples"])
    scale = float(meta.get("scale_from_volts") or 1.0)
    mean = np.array(norm["mean"], dtype=np.float32)[:, None]
    std = np.array(norm["std"], dtype=np.float32)[:, None]

    with open(args.run / "predictions.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    signals = {}
    worst, agree = 0.0, 0
    for row in rows:
        path = row["file"]
        if path not in signals:
            volts, sfreq = read_volts(path, channels)
            if abs(sfreq - rate) > 1e-6:
                sys.exit(f"{path}: recorded at {sfreq} Hz, the run at {rate} Hz; resample first")
            x = (volts * scale).astype(np.float32)  # the unit Spindle trained on
            if norm["mode"] == "ems":
                x = exponential_moving_standardize(x)
            signals[path] = x
        start = int(round(float(row["onset"]) * rate))
        w = signals[path][:, start:start + length].copy()
        if norm["mode"] == "baseline":
            w -= w.mean(axis=1, keepdims=True)
        w = (w - mean) / std
        with torch.no_grad():
            p = torch.softmax(model(torch.from_numpy(w[None])), dim=1)[0].numpy()
        expected = np.array([float(row[f"p_{c}"]) for c in classes])
        worst = max(worst, float(np.abs(p - expected).max()))
        agree += classes[int(p.argmax())] == row["predicted"]
    print(f"{len(rows)} windows: max |p - predictions.tsv| = {worst:.2e}, "
          f"predicted class agrees on {agree}/{len(rows)}")


if __name__ == "__main__":
    main()
