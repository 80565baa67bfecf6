#!/usr/bin/env bash
# Runs one fuzz target: fuzz/run.sh TARGET [SECONDS] (default 600), after
# `cargo fuzz build TARGET` (SPINDLE_FUZZ_NO_BUILD=1 runs the last build).
# Over-allocation counts as a finding (-malloc_limit_mb, -rss_limit_mb), so
# does a hang of more than 10 s on one input. Crashes land in
# fuzz/artifacts/TARGET/, the log in fuzz/logs/TARGET.log (its last lines give
# the executions).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh edf|edf_on_demand|wav|brainvision|events_tsv [SECONDS]}
seconds=${2:-600}
export RUSTC_BOOTSTRAP=1
[ -n "${SPINDLE_FUZZ_NO_BUILD:-}" ] || cargo fuzz build "$target"
host=$(rustc -vV | sed -n 's/^host: //p')
SPINDLE_FUZZ_SCRATCH=$(mktemp -d /dev/shm/spindle-fuzz.XXXXXX 2>/dev/null || mktemp -d)
export SPINDLE_FUZZ_SCRATCH
trap 'rm -rf "$SPINDLE_FUZZ_SCRATCH"' EXIT
mkdir -p "corpus/$target" "artifacts/$target" logs
"target/$host/release/$target" -artifact_prefix="artifacts/$target/" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=65536 -timeout=10 -dict="dict/$target.dict" -print_final_stats=1 \
    "corpus/$target" 2>&1 | tee "logs/$target.log"
