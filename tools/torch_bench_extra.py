#!/usr/bin/env python3
"""PyTorch CPU training-throughput baseline for the configurations that
../shared/bench/torch_train_bench.py does not have: `crnn` and `sleep`.

Same harness and JSON line as torch_train_bench.py (random data, batch 64,
AdamW(lr=1e-3), cross-entropy, torch.set_num_threads(--threads); warm-up
steps, then timed steps filling --target-s seconds, --runs times; the median
run gives samples_per_s and step_ms; cpu_ms_per_step is process CPU time per
step, all threads), plus the CPU capability ATen ran ("cpu_capability"; cap
it with ATEN_CPU_CAPABILITY=avx2, and oneDNN with DNNL_MAX_CPU_ISA=AVX2).

- crnn: Spindle's `crnn` with its defaults in plain PyTorch, layer for
  layer: three blocks of Conv1d (kernel 7, 'same' padding, no bias) +
  BatchNorm1d + ReLU + MaxPool1d(3) with 32, 32, 64 filters, a
  bidirectional GRU (hidden 64) over the pooled steps, read out as the
  forward state after the last step and the backward state after the
  first, dropout 0.25, linear. 22 x 1000, 4 classes (77,124 parameters, as
  Spindle's).
- sleep: braindecode's SleepStagerChambon2018 (the Chambon et al. 2018
  stager; Spindle's `sleep`) with its defaults at 100 Hz, which are
  Spindle's: 8 filters, kernel 0.5 s (50 samples) with 0.25 s (25) of zeros
  each side, max-pool 0.125 s (13), dropout 0.25, no batch norm. 2 channels
  x 3000 samples (30 s at 100 Hz), 5 stages (4,987 parameters, as Spindle's).

Usage: python torch_bench_extra.py [--runs 3] [--warmup 3] [--target-s 4]
                                   [--threads 2] [--only crnn,sleep]
"""
import argparse
import json
import os
import statistics
import time
import warnings

import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
BATCH = 64


class CRNN(nn.Module):
    """Spindle's CRNN (src/model/crnn.rs) with its defaults."""

    def __init__(self, n_chans, n_outputs, filters=(32, 32, 64), kernel=7, pool=3,
                 hidden=64, drop=0.25):
        super().__init__()
        blocks, width = [], n_chans
        for f in filters:
            blocks += [nn.Conv1d(width, f, kernel, padding="same", bias=False),
                       nn.BatchNorm1d(f), nn.ReLU(), nn.MaxPool1d(pool)]
            width = f
        self.front = nn.Sequential(*blocks)
        self.hidden = hidden
        self.rnn = nn.GRU(width, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(2 * hidden, n_outputs)

    def forward(self, x):  # B x C x T
        out, _ = self.rnn(self.front(x).transpose(1, 2))  # B x T' x 2H
        h = self.hidden
        last = torch.cat([out[:, -1, :h], out[:, 0, h:]], 1)
        return self.fc(self.drop(last))


def build(name):
    if name == "crnn":
        return ("CRNN conv 32-32-64 k7 p3 + BiGRU 64, 22x1000 4cls", "local (Spindle's crnn)",
                CRNN(22, 4), (22, 1000), 4)
    if name == "sleep":
        from braindecode.models import SleepStagerChambon2018
        m = SleepStagerChambon2018(n_chans=2, sfreq=100, n_outputs=5, n_times=3000)
        return ("SleepStagerChambon2018 2x3000 @100Hz 5cls", "braindecode.SleepStagerChambon2018",
                m, (2, 3000), 5)
    raise ValueError(name)


def bench(name, runs, warmup, target_s):
    torch.manual_seed(0)
    label, impl, model, shape, ncls = build(name)
    model.train()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    xs = [torch.randn(BATCH, *shape) for _ in range(4)]
    ys = [torch.randint(0, ncls, (BATCH,)) for _ in range(4)]

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xs[i % 4]), ys[i % 4])
        loss.backward()
        opt.step()
        return loss

    for i in range(warmup):
        step(i)
    t0 = time.perf_counter()
    step(0)
    probe = time.perf_counter() - t0
    n_steps = max(5, int(target_s / max(probe, 1e-4)))
    per_run, cpu_run = [], []
    load0 = os.getloadavg()[0]
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n_steps):
            step(i)
        per_run.append((time.perf_counter() - t0) / n_steps)
        cpu_run.append((time.process_time() - c0) / n_steps)
    med = statistics.median(per_run)
    out = {
        "model": label, "impl": impl,
        "samples_per_s": round(BATCH / med, 1), "step_ms": round(med * 1e3, 2),
        "params": params, "runs_step_ms": [round(r * 1e3, 2) for r in per_run],
        "cpu_ms_per_step": round(statistics.median(cpu_run) * 1e3, 2),
        "loadavg_1m_start": round(load0, 2), "loadavg_1m_end": round(os.getloadavg()[0], 2),
        "steps_per_run": n_steps, "batch": BATCH, "input": [BATCH, *shape],
        "threads": torch.get_num_threads(), "torch": torch.__version__, "device": "cpu",
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    try:
        import braindecode
        out["braindecode"] = braindecode.__version__
    except Exception:  # noqa
        pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--target-s", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="crnn,sleep")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for name in a.only.split(","):
        print(json.dumps(bench(name, a.runs, a.warmup, a.target_s)), flush=True)


if __name__ == "__main__":
    main()
