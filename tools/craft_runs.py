#!/usr/bin/env python3
"""Fills a runs folder with many run folders made from one real run, for
looking at (and photographing) the Runs view with a few hundred runs.

Usage: tools/craft_runs.py TEMPLATE_RUN OUT_RUNS_DIR [N]   (default N = 300)

Each crafted run is a copy of TEMPLATE_RUN's run.json, report.json and
metrics.csv (the shapes Spindle writes) with another model, other data
files, another test accuracy and training time, and a date spread over the
last 60 days: about two thirds stand alone, the rest are the fold runs of
cross-validations (`cv-*/fold-N`) and the points of a sweep
(`sweep-lr/lr-*`); a few carry a note.json (pinned, tags, a note). The
numbers are drawn from a seeded generator: they are not results.
"""

import json
import os
import random
import shutil
import sys
import time

MODELS = ["eegnet", "crnn", "deep4", "shallow", "cnn1d", "mlp"]
DATA = [
    ["sub-01_blink.edf", "sub-02_blink.edf"],
    ["sub-03_eyes.edf"],
    ["night-01.edf", "night-02.edf", "night-03.edf"],
    ["digits/"],
    ["scp_train.edf"],
]
TAGS = ["baseline", "paper", "zscore", "refit", "check"]


def craft(template, out, rel, rng, now, model, data, accuracy, seconds, age_s, note=None):
    d = os.path.join(out, rel)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(template, "run.json")) as f:
        info = json.load(f)
    info["model"] = {"kind": model}
    info["data"] = [
        {"path": f"/data/{name}", "role": "train", "sha256": "0" * 64} for name in data
    ]
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump(info, f, indent=2)
    with open(os.path.join(template, "report.json")) as f:
        report = json.load(f)
    if isinstance(report.get("test"), dict) and "accuracy" in report["test"]:
        report["test"]["accuracy"] = accuracy
    report["train_seconds"] = seconds
    with open(os.path.join(d, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    shutil.copy(os.path.join(template, "metrics.csv"), os.path.join(d, "metrics.csv"))
    if note is not None:
        with open(os.path.join(d, "note.json"), "w") as f:
            json.dump(note, f, indent=2)
    t = now - age_s
    for name in os.listdir(d):
        os.utime(os.path.join(d, name), (t, t))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    template, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rng = random.Random(23)
    now = time.time()
    os.makedirs(out, exist_ok=True)
    made = 0
    # Three cross-validations of five folds, one sweep of twelve points.
    for cv, model in [("cv-eegnet-5", "eegnet"), ("cv-crnn-5", "crnn"), ("cv-deep4-5", "deep4")]:
        age = rng.uniform(0, 60 * 86400)
        base = {"eegnet": 0.9, "crnn": 0.85, "deep4": 0.78}[model]
        for k in range(1, 6):
            acc = min(0.99, max(0.4, rng.gauss(base, 0.03)))
            craft(template, out, f"{cv}/fold-{k}", rng, now, model, DATA[0], acc,
                  rng.uniform(20, 90), age + k * 60)
            made += 1
    for k, lr in enumerate(["0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03"] * 2):
        acc = min(0.99, max(0.4, rng.gauss(0.8, 0.06)))
        name = f"sweep-lr/lr-{lr}" + ("" if k < 6 else "-seed1")
        craft(template, out, name, rng, now, "eegnet", DATA[1], acc, rng.uniform(30, 200),
              3 * 86400 + k * 300)
        made += 1
    i = 0
    while made < n:
        model = rng.choice(MODELS)
        data = rng.choice(DATA)
        acc = min(0.99, max(0.35, rng.gauss(0.78, 0.1)))
        age = rng.uniform(0, 60 * 86400)
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.gmtime(now - age))
        note = None
        if i % 17 == 0:
            note = {"pinned": i % 51 == 0, "tags": rng.sample(TAGS, 2),
                    "note": "window 2 s; compare with the z-score run"}
        craft(template, out, f"{stamp}_{model}-{i}", rng, now, model, data, acc,
              rng.uniform(5, 600), age, note)
        made += 1
        i += 1
    print(f"{made} runs in {out}")


if __name__ == "__main__":
    main()
