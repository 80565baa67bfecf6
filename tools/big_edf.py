#!/usr/bin/env python3
"""Writes a large EDF+C file for the big-recording checks (standard library only).

    python3 tools/big_edf.py OUT.edf --hours 1 --channels 64 --rate 512
    python3 tools/big_edf.py OUT.edf --gb 10 --sparse   # header only, data a hole

Each 1-s data record holds every channel: a channel-specific sine (1-20 Hz,
50 uV) plus noise, from a pool of 97 pre-computed records cycled through, so
that writing gigabytes takes seconds. With --sparse the data records are left
as a hole in the file (all zero samples, no disk used).
"""
import argparse
import math
import random
import struct


def field(text, width):
    return text.encode("ascii")[:width].ljust(width, b" ")


def header(n_channels, rate, n_records):
    ns = n_channels + 1  # plus "EDF Annotations"
    tal_samples = 30
    h = field("0", 8) + field("X X X X", 80)
    h += field("Startdate 01-JAN-2026 X X X", 80)
    h += field("01.01.26", 8) + field("22.00.00", 8)
    h += field(str(256 * (ns + 1)), 8) + field("EDF+C", 44)
    h += field(str(n_records), 8) + field("1", 8) + field(str(ns), 4)
    labels = [f"EEG{c + 1:03d}" for c in range(n_channels)] + ["EDF Annotations"]
    per = [
        (labels, 16),
        (["AgAgCl electrode"] * n_channels + [""], 80),
        (["uV"] * n_channels + [""], 8),
        (["-3276.8"] * n_channels + ["-1"], 8),
        (["3276.7"] * n_channels + ["1"], 8),
        (["-32768"] * ns, 8),
        (["32767"] * ns, 8),
        (["HP:0.1Hz LP:100Hz"] * n_channels + [""], 80),
        ([str(rate)] * n_channels + [str(tal_samples)], 8),
        ([""] * ns, 32),
    ]
    for values, width in per:
        for v in values:
            h += field(v, width)
    return h, tal_samples


def tal(record):
    text = f"+{record}\x14\x14\x00".encode("ascii")
    return text


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--gb", type=float, help="size instead of --hours")
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--rate", type=int, default=512)
    p.add_argument("--sparse", action="store_true")
    a = p.parse_args()
    _, tal_samples = header(a.channels, a.rate, 0)
    record_bytes = 2 * (a.channels * a.rate + tal_samples)
    if a.gb:
        n_records = int(a.gb * 1e9 / record_bytes)
    else:
        n_records = int(a.hours * 3600)
    head, _ = header(a.channels, a.rate, n_records)
    rng = random.Random(1)
    pool = []
    for k in range(97):
        samples = []
        for c in range(a.channels):
            f = 1 + (c % 20)
            for i in range(a.rate):
                t = (k * a.rate + i) / a.rate
                v = 50 * math.sin(2 * math.pi * f * t) + rng.gauss(0, 10)
                samples.append(max(-32768, min(32767, round(v * 10))))
        pool.append(struct.pack(f"<{len(samples)}h", *samples))
    with open(a.out, "wb") as f:
        f.write(head)
        if a.sparse:
            f.truncate(len(head) + n_records * record_bytes)
            # The first record's time-keeping TAL, so the file is valid EDF+.
            f.seek(len(head) + 2 * a.channels * a.rate)
            f.write(tal(0).ljust(2 * tal_samples, b"\x00"))
        else:
            for r in range(n_records):
                f.write(pool[r % len(pool)])
                f.write(tal(r).ljust(2 * tal_samples, b"\x00"))
    size = len(head) + n_records * record_bytes
    print(f"{a.out}: {n_records} records, {a.channels} channels at {a.rate} Hz, {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
