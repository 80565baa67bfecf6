#!/usr/bin/env python3
"""Writes the generated sets of the learning benchmark (tools/learning_bench.sh): EEG built to be hard in the ways
that defaults fail quietly on data nobody tuned them to. Plain Python (no numpy), so any python3 runs it.

Each set is a training recording and a test recording (EDF, 4 channels at 128 Hz, microvolts, 1-s records) with
an `X_events.tsv` sidecar (onset, duration, trial_type): 2-s trials separated by 1.5 s of rest.

- slowshift: the class is a sustained shift of the potential (+/-4 uV, full on Cz/FCz, a third elsewhere) that
  builds up in the rest before the trial and holds through it, over slow drift (sinusoids of 1 to 5 minutes,
  6 uV) and 1/f-like noise: only the window means carry the class (slow cortical potentials).
- fewtrials: 24 training trials (12 per class); the class is a 10-Hz burst over the back or an 18-Hz burst over
  the centre, 8 uV in 10 uV of noise; 120 test trials.
- onerec: one training recording whose session changes: an evoked bump (positive or negative by class, 6 uV, at a
  latency jittered 0.3-0.7 s) fades from 1.6x to 0.4x over the session while the noise grows; the test
  recording is a second session at average strength.

Usage: python3 learning_sets.py OUT_DIR [SEED]   (the default seed writes the benchmark's files)
"""
import math
import os
import random
import struct
import sys

RATE_HZ = 128
CHANNELS = ["Fz", "FCz", "Cz", "Pz"]
TRIAL_S = 2.0
REST_S = 1.5


def noise(rng, n, scale_uv):
    """Sum of three AR(1) processes (time constants 4 ms, 30 ms, 250 ms): a rough 1/f spectrum."""
    out = [0.0] * n
    for tau_s, weight in ((0.004, 0.6), (0.03, 0.6), (0.25, 0.5)):
        a = math.exp(-1.0 / (tau_s * RATE_HZ))
        s = math.sqrt(1 - a * a)
        x = 0.0
        for i in range(n):
            x = a * x + s * rng.gauss(0, 1)
            out[i] += weight * scale_uv * x
    return out


def layout(n_trials, classes, rng):
    """Balanced, shuffled class order and trial onsets (the first after 2 s of rest)."""
    labels = [classes[i % len(classes)] for i in range(n_trials)]
    rng.shuffle(labels)
    onsets = [2.0 + i * (TRIAL_S + REST_S) for i in range(n_trials)]
    total_s = int(math.ceil(onsets[-1] + TRIAL_S + 2.0))
    return labels, onsets, total_s


def smooth_step(t):
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def slowshift(rng, n_trials):
    labels, onsets, total_s = layout(n_trials, ["negative", "positive"], rng)
    n = total_s * RATE_HZ
    gains = [0.33, 1.0, 1.0, 0.33]
    data = []
    periods = [rng.uniform(60, 300) for _ in range(3)]
    for c in range(len(CHANNELS)):
        x = noise(rng, n, 10.0)
        phases = [rng.uniform(0, 2 * math.pi) for _ in periods]
        for i in range(n):
            t = i / RATE_HZ
            x[i] += sum(6.0 / math.sqrt(3) * math.sin(2 * math.pi * t / p + ph) for p, ph in zip(periods, phases))
        for label, onset in zip(labels, onsets):
            sign = 1.0 if label == "positive" else -1.0
            start, end = onset - 0.6, onset + TRIAL_S + 0.6
            for i in range(max(0, int(start * RATE_HZ)), min(n, int(end * RATE_HZ))):
                t = i / RATE_HZ
                env = smooth_step((t - start) / 0.5) * smooth_step((end - t) / 0.5)
                x[i] += sign * 4.0 * gains[c] * env
        data.append(x)
    return data, labels, onsets


def fewtrials(rng, n_trials):
    labels, onsets, total_s = layout(n_trials, ["alpha", "beta"], rng)
    n = total_s * RATE_HZ
    data = [noise(rng, n, 10.0) for _ in CHANNELS]
    for label, onset in zip(labels, onsets):
        f_hz, gains = (10.0, [0.2, 0.3, 0.6, 1.0]) if label == "alpha" else (18.0, [0.5, 1.0, 1.0, 0.3])
        start = onset + rng.uniform(0.1, 0.6)
        length_s = rng.uniform(0.8, 1.2)
        phase = rng.uniform(0, 2 * math.pi)
        for c, g in enumerate(gains):
            for i in range(int(start * RATE_HZ), int((start + length_s) * RATE_HZ)):
                t = i / RATE_HZ
                env = math.sin(math.pi * (t - start) / length_s) ** 2
                data[c][i] += 8.0 * g * env * math.sin(2 * math.pi * f_hz * t + phase)
    return data, labels, onsets


def onerec(rng, n_trials, fading):
    labels, onsets, total_s = layout(n_trials, ["up", "down"], rng)
    n = total_s * RATE_HZ
    data = []
    for c in range(len(CHANNELS)):
        base = noise(rng, n, 1.0)
        data.append([base[i] * 10.0 * ((0.7 + 0.6 * i / n) if fading else 1.0) for i in range(n)])
    gains = [0.4, 0.8, 1.0, 0.6]
    for k, (label, onset) in enumerate(zip(labels, onsets)):
        strength = 1.6 - 1.2 * k / max(1, n_trials - 1) if fading else 1.0
        sign = 1.0 if label == "up" else -1.0
        peak = onset + rng.uniform(0.3, 0.7)
        for c, g in enumerate(gains):
            for i in range(int((peak - 0.3) * RATE_HZ), int((peak + 0.3) * RATE_HZ)):
                t = i / RATE_HZ
                data[c][i] += sign * 6.0 * g * strength * math.exp(-0.5 * ((t - peak) / 0.08) ** 2)
    return data, labels, onsets


def field(text, width):
    return text.encode("ascii")[:width].ljust(width)


def write_edf(path, data):
    """Plain EDF, 1-s records, 16-bit samples over each channel's own physical range."""
    n_records = len(data[0]) // RATE_HZ
    ns = len(data)
    phys = [max(1.0, math.ceil(max(abs(v) for v in ch) * 1.05)) for ch in data]
    header = field("0", 8) + field("X X X X", 80) + field("Startdate X X X X", 80)
    header += field("01.01.26", 8) + field("00.00.00", 8) + field(str(256 * (ns + 1)), 8) + field("", 44)
    header += field(str(n_records), 8) + field("1", 8) + field(str(ns), 4)
    for width, values in (
        (16, ["EEG " + c for c in CHANNELS]), (80, [""] * ns), (8, ["uV"] * ns),
        (8, [str(-int(p)) for p in phys]), (8, [str(int(p)) for p in phys]),
        (8, ["-32768"] * ns), (8, ["32767"] * ns), (80, [""] * ns),
        (8, [str(RATE_HZ)] * ns), (32, [""] * ns),
    ):
        header += b"".join(field(v, width) for v in values)
    body = bytearray()
    for r in range(n_records):
        for ch, p in zip(data, phys):
            for v in ch[r * RATE_HZ:(r + 1) * RATE_HZ]:
                d = int(round((v + p) / (2 * p) * 65535 - 32768))
                body += struct.pack("<h", max(-32768, min(32767, d)))
    with open(path, "wb") as f:
        f.write(header + body)


def write_events(path, labels, onsets):
    with open(path, "w") as f:
        f.write("onset\tduration\ttrial_type\n")
        for label, onset in zip(labels, onsets):
            f.write(f"{onset:.3f}\t{TRIAL_S:.3f}\t{label}\n")


def main():
    out = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 23
    sets = {
        "slowshift": (lambda r: slowshift(r, 200), lambda r: slowshift(r, 200)),
        "fewtrials": (lambda r: fewtrials(r, 24), lambda r: fewtrials(r, 120)),
        "onerec": (lambda r: onerec(r, 160, True), lambda r: onerec(r, 160, False)),
    }
    for k, (name, (make_train, make_test)) in enumerate(sets.items()):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for part, make in (("train", make_train), ("test", make_test)):
            rng = random.Random(seed * 1000 + k * 10 + (part == "test"))
            data, labels, onsets = make(rng)
            stem = os.path.join(out, name, f"{name}_{part}")
            write_edf(stem + ".edf", data)
            write_events(stem + "_events.tsv", labels, onsets)


if __name__ == "__main__":
    main()
