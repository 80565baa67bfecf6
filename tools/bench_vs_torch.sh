#!/usr/bin/env bash
# Training throughput of Spindle beside PyTorch on the same machine, in one
# run: for each standard configuration, Spindle then PyTorch, alternately,
# ROUNDS times, both on the same threads; prints each pair's ratio (Spindle /
# PyTorch samples per second), the load average before each pair, and per
# configuration the median and lowest ratio.
#
#   tools/bench_vs_torch.sh [ROUNDS] [SECONDS] [CONFIGS]
#
# ROUNDS defaults to 2, SECONDS (timed seconds per measurement) to 4,
# CONFIGS to "eegnet shallow lstm gru cnn1d-audio" (Spindle's names);
# THREADS (default 2) sets both sides' compute threads.
# Needs a release build and a Python with torch (and braindecode for
# EEGNet/ShallowFBCSPNet): TORCH_PY (default /tmp/torch-venv/bin/python),
# TORCH_BENCH (default ../shared/bench/torch_train_bench.py).
set -euo pipefail
rounds=${1:-2}
seconds=${2:-4}
configs=${3:-"eegnet shallow lstm gru cnn1d-audio"}
threads=${THREADS:-2}
bin=${SPINDLE_BIN:-target/release/spindle}
py=${TORCH_PY:-/tmp/torch-venv/bin/python}
torch_bench=${TORCH_BENCH:-../shared/bench/torch_train_bench.py}

# PyTorch's name for each of Spindle's configurations.
torch_name() {
  case $1 in
    cnn1d-audio) echo audio1d ;;
    *) echo "$1" ;;
  esac
}

# The samples_per_s field of the JSON line on stdin.
rate() {
  "$py" -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["samples_per_s"])'
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
printf '%-12s %5s %6s %10s %10s %6s\n' config round load spindle torch ratio
for round in $(seq 1 "$rounds"); do
  for c in $configs; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    s=$("$bin" bench --only "$c" --json --seconds "$seconds" --threads "$threads" | grep "\"name\":\"$c\"" | rate)
    t=$("$py" "$torch_bench" --only "$(torch_name "$c")" --runs 1 --threads "$threads" --target-s "$seconds" | rate)
    ratio=$("$py" -c "print(f'{$s / $t:.2f}')")
    printf '%-12s %5s %6s %10.1f %10.1f %6s\n' "$c" "$round" "$load" "$s" "$t" "$ratio"
    echo "$c $ratio" >>"$results"
  done
done
echo
printf '%-12s %12s %12s\n' config median_ratio lowest_ratio
for c in $configs; do
  grep "^$c " "$results" | "$py" -c '
import statistics, sys
name = sys.argv[1]
r = [float(line.split()[1]) for line in sys.stdin]
print(f"{name:<12} {statistics.median(r):12.2f} {min(r):12.2f}")' "$c"
done
