#!/usr/bin/env bash
# Training throughput of Spindle beside PyTorch on the same machine, in one
# run: for each configuration, Spindle then PyTorch, alternately, ROUNDS
# times, both on the same threads and the same instruction set; prints each
# pair's ratio (Spindle / PyTorch samples per second), both sides' CPU time
# per step and the load average before each pair, and per configuration the
# median and lowest ratio, the median samples/s of each side and the range
# of the load.
#
#   tools/bench_vs_torch.sh [ROUNDS] [SECONDS] [CONFIGS]
#
# ROUNDS defaults to 2, SECONDS (timed seconds per measurement) to 4,
# CONFIGS to all eight: "eegnet shallow deep4 lstm gru cnn1d-audio crnn
# sleep" (Spindle's names); THREADS (default 2) sets both sides' compute
# threads.
#
# Instruction sets: ISAS (default: $SPINDLE_ISA, else the machine's own)
# lists the sets to measure, e.g. ISAS="avx2 avx512"; each is measured in
# turn with both sides capped to it: SPINDLE_ISA for Spindle,
# ATEN_CPU_CAPABILITY for PyTorch's own kernels, DNNL_MAX_CPU_ISA for
# oneDNN (its convolutions and recurrent layers) and MKL_ENABLE_INSTRUCTIONS
# for MKL. Before measuring, the script checks that the caps took effect
# (Spindle's reported set, torch's CPU capability, oneDNN's verbose ISA
# line) and skips a set this machine lacks.
#
# WAIT_LOAD (e.g. 1.2; default: none) makes each pair wait until the 1-minute
# load average is below it, for shared machines: the figures that count are
# those taken while nothing else runs.
#
# Needs a release build and a Python with torch and braindecode:
# TORCH_PY (default /tmp/torch-venv/bin/python), TORCH_BENCH (default
# ../shared/bench/torch_train_bench.py: eegnet, shallow, deep4, lstm, gru,
# audio1d), TORCH_EXTRA (default tools/torch_bench_extra.py: crnn, sleep).
set -euo pipefail
rounds=${1:-2}
seconds=${2:-4}
configs=${3:-"eegnet shallow deep4 lstm gru cnn1d-audio crnn sleep"}
threads=${THREADS:-2}
isas=${ISAS:-${SPINDLE_ISA:-native}}
bin=${SPINDLE_BIN:-target/release/spindle}
py=${TORCH_PY:-/tmp/torch-venv/bin/python}
torch_bench=${TORCH_BENCH:-../shared/bench/torch_train_bench.py}
torch_extra=${TORCH_EXTRA:-tools/torch_bench_extra.py}

# The PyTorch script and its name for each of Spindle's configurations.
torch_cmd() {
  case $1 in
    cnn1d-audio) echo "$torch_bench audio1d" ;;
    crnn | sleep) echo "$torch_extra $1" ;;
    *) echo "$torch_bench $1" ;;
  esac
}

# Fields of the last JSON line on stdin, space-separated.
fields() {
  "$py" -c '
import json, sys
d = json.loads(sys.stdin.read().strip().splitlines()[-1])
print(" ".join(str(d.get(k, "-")) for k in sys.argv[1:]))' "$@"
}

# Sets the caps of both sides for instruction set $1 ("native": none), and
# what torch and oneDNN then report (want_torch, want_dnnl, lower case).
set_caps() {
  unset SPINDLE_ISA ATEN_CPU_CAPABILITY DNNL_MAX_CPU_ISA MKL_ENABLE_INSTRUCTIONS
  case $1 in
    native) ;;
    avx2)
      want_torch=avx2 want_dnnl=avx2
      export SPINDLE_ISA=avx2 ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 ;;
    avx512)
      want_torch=avx512 want_dnnl=avx-512
      export SPINDLE_ISA=avx512 ATEN_CPU_CAPABILITY=avx512 DNNL_MAX_CPU_ISA=AVX512_CORE MKL_ENABLE_INSTRUCTIONS=AVX512 ;;
    portable)
      want_torch=default want_dnnl=sse4.1
      export SPINDLE_ISA=portable ATEN_CPU_CAPABILITY=default DNNL_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 ;;
    *)
      echo "error: ISAS: unknown instruction set $1 (avx2, avx512, portable or native)" >&2
      exit 2 ;;
  esac
}

# Prints what each side runs under the current caps; fails when a cap did
# not take effect (or the machine lacks the set).
check_caps() {
  local want=$1 spindle torch onednn
  spindle=$("$bin" bench --only eegnet --json --seconds 0 --threads 1 | fields isa)
  torch=$("$py" -c 'import torch; print(torch.backends.cpu.get_cpu_capability())' 2>/dev/null)
  onednn=$(ONEDNN_VERBOSE=1 "$py" -c '
import torch
torch.nn.functional.conv1d(torch.randn(8, 22, 1000), torch.randn(25, 22, 10))' 2>/dev/null |
    grep -m1 -o 'isa:[^,]*' || echo "isa:unknown")
  echo "instruction set $want: spindle runs $spindle; torch CPU capability $torch; oneDNN $onednn; MKL capped by MKL_ENABLE_INSTRUCTIONS=${MKL_ENABLE_INSTRUCTIONS:-none}"
  [ "$want" = native ] && return 0
  [ "$spindle" = "$want" ] || { echo "  skipped: spindle runs $spindle, not $want (this CPU lacks it)"; return 1; }
  [ "${torch,,}" = "$want_torch" ] || { echo "  skipped: torch runs $torch, not $want_torch"; return 1; }
  case "${onednn,,}" in
    *"$want_dnnl"*) ;;
    *) echo "  skipped: oneDNN runs ${onednn#isa:}, not $want_dnnl"; return 1 ;;
  esac
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $threads threads per side, $rounds rounds of $seconds s"
for isa in $isas; do
  set_caps "$isa"
  echo
  check_caps "$isa" || continue
  printf '%-8s %-12s %5s %6s %10s %10s %6s %11s %11s\n' isa config round load spindle torch ratio spindle_cpu torch_cpu
  for round in $(seq 1 "$rounds"); do
    for c in $configs; do
      if [ -n "${WAIT_LOAD:-}" ]; then
        while "$py" -c "import sys; sys.exit(0 if $(cut -d' ' -f1 /proc/loadavg) >= $WAIT_LOAD else 1)"; do
          sleep 5
        done
      fi
      load=$(cut -d' ' -f1 /proc/loadavg)
      read -r s s_cpu < <("$bin" bench --only "$c" --json --seconds "$seconds" --threads "$threads" |
        grep "\"name\":\"$c\"" | fields samples_per_s cpu_ms_per_step)
      read -r script name < <(torch_cmd "$c")
      read -r t t_cpu < <("$py" "$script" --only "$name" --runs 1 --threads "$threads" --target-s "$seconds" 2>/dev/null |
        fields samples_per_s cpu_ms_per_step)
      ratio=$("$py" -c "print(f'{$s / $t:.2f}')")
      printf '%-8s %-12s %5s %6s %10.1f %10.1f %6s %11.1f %11.1f\n' "$isa" "$c" "$round" "$load" "$s" "$t" "$ratio" "$s_cpu" "$t_cpu"
      echo "$isa $c $ratio $s $t $load" >>"$results"
    done
  done
done
echo
printf '%-8s %-12s %12s %12s %10s %10s %11s\n' isa config median_ratio lowest_ratio spindle/s torch/s load
"$py" - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    isa, name, ratio, s, t, load = line.split()
    rows.setdefault((isa, name), []).append((float(ratio), float(s), float(t), float(load)))
for (isa, name), r in rows.items():
    ratios = [x[0] for x in r]
    loads = [x[3] for x in r]
    print(f"{isa:<8} {name:<12} {statistics.median(ratios):12.2f} {min(ratios):12.2f} "
          f"{statistics.median(x[1] for x in r):10.1f} {statistics.median(x[2] for x in r):10.1f} "
          f"{min(loads):5.2f}-{max(loads):.2f}")
EOF
