#!/usr/bin/env bash
# The learning benchmark: Spindle's defaults trained on every real labelled
# EEG set at hand and on generated sets built to be hard (class carried by
# slow shifts under drift, few trials, one changing training recording;
# tools/learning_sets.py), over three seeds, with braindecode's EEGNet beside
# them where ../shared/bench/braindecode_edf.py can train it (one training
# and one test file). Prints one table: set, model, test balanced accuracy
# per seed and their mean, mean training seconds, and braindecode's mean
# test accuracy and fit seconds (braindecode_edf.py reports plain accuracy;
# the generated test sets are balanced, so there the two are the same).
#
#   tools/learning_bench.sh [OUT]      (OUT default: /tmp/spindle-learning)
#
# Environment: SPINDLE (the binary, default target/release/spindle), SEEDS
# (default "0 1 2"), THREADS (default 2), EPOCHS (default: Spindle's and
# braindecode_edf.py's default, 30), PYTHON (a Python with braindecode, default
# /tmp/torch-venv/bin/python; the braindecode column is left out when it
# does not import), TESTDATA (default ../shared/testdata), ONLY (a set name:
# run that set alone), EXTRA (more `spindle train` arguments, the same for
# every run). Run folders and the table (table.md) go under OUT; a run
# folder that has its report.json is reused, so remove OUT to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/spindle-learning}
SPINDLE=${SPINDLE:-target/release/spindle}
SEEDS=${SEEDS:-"0 1 2"}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-30}
PYTHON=${PYTHON:-/tmp/torch-venv/bin/python}
TESTDATA=${TESTDATA:-../shared/testdata}
BRAINDECODE=${BRAINDECODE:-../shared/bench/braindecode_edf.py}
ONLY=${ONLY:-}
EXTRA=${EXTRA:-}
mkdir -p "$OUT/runs" "$OUT/braindecode"
python3 tools/learning_sets.py "$OUT/sets"

# name | models | training data | test data (empty: Spindle holds out recordings)
SETS=(
  "blink|eegnet crnn cnn1d|$TESTDATA/eeg-blink/blink_train.edf|$TESTDATA/eeg-blink/blink_test.edf"
  "eyes|eegnet crnn|$TESTDATA/eeg-eyes/eyes_train.edf|$TESTDATA/eeg-eyes/eyes_test.edf"
  "sample-eeg|eegnet crnn|sample_data/eeg|"
  "slowshift|eegnet crnn|$OUT/sets/slowshift/slowshift_train.edf|$OUT/sets/slowshift/slowshift_test.edf"
  "fewtrials|eegnet crnn|$OUT/sets/fewtrials/fewtrials_train.edf|$OUT/sets/fewtrials/fewtrials_test.edf"
  "onerec|eegnet crnn|$OUT/sets/onerec/onerec_train.edf|$OUT/sets/onerec/onerec_test.edf"
)

have_braindecode=0
if "$PYTHON" -c "import braindecode, mne" 2>/dev/null; then have_braindecode=1; fi

for entry in "${SETS[@]}"; do
  IFS='|' read -r name models train test <<<"$entry"
  [[ -n "$ONLY" && "$ONLY" != "$name" ]] && continue
  if [[ ! -e "$train" ]]; then
    echo "skipping $name: $train is missing" >&2
    continue
  fi
  for model in $models; do
    for seed in $SEEDS; do
      dir="$OUT/runs/$name-$model-$seed"
      [[ -f "$dir/report.json" ]] && continue
      args=(train --data "$train" --model "$model" --seed "$seed" --epochs "$EPOCHS"
            --threads "$THREADS" --out "$dir")
      [[ -n "$test" ]] && args+=(--test "$test")
      # shellcheck disable=SC2086
      "$SPINDLE" "${args[@]}" $EXTRA >"$dir.log" 2>&1 || echo "failed: $name $model $seed (see $dir.log)" >&2
    done
  done
  if [[ $have_braindecode == 1 && -n "$test" && ! -s "$OUT/braindecode/$name.jsonl" ]]; then
    "$PYTHON" "$BRAINDECODE" --train "$train" --test "$test" --models EEGNet \
      --epochs "$EPOCHS" --seeds "$(echo "$SEEDS" | tr ' ' ',')" --threads "$THREADS" \
      >"$OUT/braindecode/$name.jsonl" 2>"$OUT/braindecode/$name.log" || true
  fi
done

python3 - "$OUT" "$SEEDS" <<'EOF' | tee "$OUT/table.md"
import json, os, sys
out, seeds = sys.argv[1], sys.argv[2].split()
runs = os.path.join(out, "runs")
rows = {}
for d in sorted(os.listdir(runs)):
    path = os.path.join(runs, d, "report.json")
    if not os.path.isfile(path):
        continue
    name, model, seed = d.rsplit("-", 2)
    r = json.load(open(path))
    test = r.get("test") or {}
    rows.setdefault((name, model), {})[seed] = (test.get("balanced_accuracy"), r.get("train_seconds"))
bd = {}
for f in os.listdir(os.path.join(out, "braindecode")):
    if f.endswith(".jsonl"):
        for line in open(os.path.join(out, "braindecode", f)):
            if line.startswith("{"):
                j = json.loads(line)
                bd.setdefault(f[:-6], []).append((j["test_acc"], j["fit_s"]))
order = ["blink", "eyes", "sample-eeg", "slowshift", "fewtrials", "onerec"]
print("| set | model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | train s | braindecode EEGNet acc | its fit s |")
print("|---|---|" + "---|" * len(seeds) + "---|---|---|---|")
for (name, model) in sorted(rows, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1])):
    per = rows[(name, model)]
    accs = [per.get(s, (None, None))[0] for s in seeds]
    secs = [per[s][1] for s in seeds if s in per and per[s][1] is not None]
    got = [a for a in accs if a is not None]
    mean = f"{sum(got) / len(got):.3f}" if got else "-"
    sec = f"{sum(secs) / len(secs):.1f}" if secs else "-"
    b = bd.get(name) if model == "eegnet" else None
    bacc = f"{sum(x for x, _ in b) / len(b):.3f}" if b else "-"
    bsec = f"{sum(x for _, x in b) / len(b):.1f}" if b else "-"
    cells = " | ".join("-" if a is None else f"{a:.3f}" for a in accs)
    print(f"| {name} | {model} | {cells} | {mean} | {sec} | {bacc} | {bsec} |")
EOF
