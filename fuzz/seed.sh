#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs: small files from Spindle's own
# writers (the `seeds` program of this crate, and `spindle synth`) and the real
# recordings of the shared test data, cut to their first 64 KiB. The corpus is
# not committed (fuzz/.gitignore); run this once before fuzzing.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
testdata=${SPINDLE_TESTDATA:-$root/../shared/testdata}
export RUSTC_BOOTSTRAP=1
bin=target/x86_64-unknown-linux-gnu/release
[ -x "$bin/seeds" ] || cargo fuzz build seeds
# `spindle synth` from the root crate; SPINDLE_BIN=path/to/spindle skips the build.
synth() {
    if [ -n "${SPINDLE_BIN:-}" ]; then
        "$SPINDLE_BIN" synth --out "$1"
    else
        (cd "$root" && cargo run --release --quiet -- synth --out "$1")
    fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/seeds" "$work/own"
synth "$work/synth"

for t in edf wav brainvision events_tsv; do mkdir -p "corpus/$t"; done
cp "$work"/own/edf/* corpus/edf/
cp "$work"/own/wav/* corpus/wav/
cp "$work"/own/brainvision/* corpus/brainvision/
cp "$work"/own/events_tsv/* corpus/events_tsv/

cut64() { head -c 65536 "$1" > "$2"; }
n=0
while IFS= read -r -d '' f; do
    n=$((n + 1)); cut64 "$f" "corpus/edf/synth-$n-$(basename "$f")"
done < <(find "$work/synth" -name '*.edf' -print0 | sort -z | head -z -n 4)
find "$work/synth" -name '*_events.tsv' -print0 | sort -z | head -z -n 4 |
    while IFS= read -r -d '' f; do cp "$f" "corpus/events_tsv/synth-$(basename "$f")"; done
find "$work/synth" -name '*.wav' -print0 | sort -z | head -z -n 4 |
    while IFS= read -r -d '' f; do cut64 "$f" "corpus/wav/synth-$(basename "$f")"; done

if [ -d "$testdata" ]; then
    for f in "$testdata"/pyedflib/*.edf "$testdata"/pyedflib/*.bdf "$testdata"/eeg-blink/*.edf "$testdata"/eeg-blink/*.bdf; do
        [ -f "$f" ] && cut64 "$f" "corpus/edf/testdata-$(basename "$f")"
    done
    for f in "$testdata"/eeg-blink/*.csv; do
        [ -f "$f" ] && cp "$f" "corpus/events_tsv/testdata-$(basename "$f")"
    done
    for d in 0 3 7; do
        for f in "$testdata"/audio-digits/$d/*.wav; do
            [ -f "$f" ] && cut64 "$f" "corpus/wav/testdata-$d-$(basename "$f")"
        done
    done
else
    echo "seed.sh: no shared test data at $testdata; only Spindle's own files seed the corpus" >&2
fi
# The on-demand EDF reader starts from the same files as the whole one.
mkdir -p corpus/edf_on_demand
cp corpus/edf/* corpus/edf_on_demand/
for t in edf edf_on_demand wav brainvision events_tsv; do
    echo "corpus/$t: $(ls "corpus/$t" | wc -l) files"
done
