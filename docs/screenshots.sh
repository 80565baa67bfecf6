#!/usr/bin/env bash
# Remakes the user guide's screenshots (docs/guide/img/*.png) from the real
# app: each shot starts `spindle` under its own Xvfb display with a fresh
# home folder (dark theme, the window at 1280x800 in the corner of a
# 1440x900 screen), drives it with xdotool and photographs the window with
# ImageMagick's `import`, quantized to 256 colors. Run it after a change to
# a view, then look at every picture. docs/guide/img/README.md lists what
# each one must show and which ones are still made by hand.
#
# Usage: docs/screenshots.sh [SHOT...]   (default: all of them)
# Needs: Xvfb, xdotool, ImageMagick (import, convert), a built binary
# (target/release/spindle, or $SPINDLE_BIN).
#
# Clicks are at window coordinates of the layout at 1280x800; a view whose
# layout moves needs its numbers here updated (the shot then shows the
# wrong state, which looking at it reveals).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${SPINDLE_BIN:-target/release/spindle}
OUT=docs/guide/img
[[ -x $BIN ]] || { echo "error: $BIN: build it first (cargo build --release)" >&2; exit 2; }
for tool in Xvfb xdotool import convert; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 2; }
done
BIN=$(realpath "$BIN")

SCRATCH=$(mktemp -d)
XVFB_PID=""
APP_PID=""
cleanup() {
  [[ -n $APP_PID ]] && kill "$APP_PID" 2>/dev/null
  [[ -n $XVFB_PID ]] && kill "$XVFB_PID" 2>/dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# A display number nobody uses.
display=150
while [[ -e /tmp/.X11-unix/X$display || -e /tmp/.X$display-lock ]]; do display=$((display + 1)); done
export DISPLAY=:$display
Xvfb "$DISPLAY" -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done

# Starts the app in a fresh scratch folder (a copy of sample_data/, an
# empty home) with ARGS and waits for its window; sets WID.
start() {
  stop
  local work=$SCRATCH/work
  rm -rf "$work"
  mkdir -p "$work/home"
  cp -R sample_data "$work/"
  (cd "$work" && HOME=$work/home XDG_DATA_HOME='' exec "$BIN" "$@" >"$work/app.log" 2>&1) &
  APP_PID=$!
  WID=$(timeout 60 xdotool search --sync --class spindle | head -n 1)
  xdotool mousemove 1435 895
  sleep 3
}

stop() {
  if [[ -n $APP_PID ]]; then
    kill "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=""
  fi
}

# Clicks at window coordinates X Y, then lets the app draw.
click() {
  xdotool mousemove --window "$WID" "$1" "$2" sleep 0.3 click 1
  xdotool mousemove 1435 895
  sleep "${3:-1}"
}

# Photographs the window as NAME.png (or the area WxH+X+Y of it).
shot() {
  local name=$1 crop=${2:-}
  import -window "$WID" "$SCRATCH/$name.png"
  if [[ -n $crop ]]; then
    convert "$SCRATCH/$name.png" -crop "$crop" +repage "$SCRATCH/$name.png"
  fi
  convert "$SCRATCH/$name.png" -colors 256 "PNG8:$OUT/$name.png"
  echo "$OUT/$name.png"
}

# Waits until the home folder's runs folder holds a finished run.
wait_for_run() {
  local runs=$SCRATCH/work/home/.local/share/spindle/runs
  for _ in $(seq 240); do
    compgen -G "$runs/*/report.json" >/dev/null && { sleep 3; return; }
    sleep 0.5
  done
  echo "error: no finished run after 2 minutes" >&2
  exit 1
}

shot_start_screen() {
  start
  shot start-screen
}

shot_viewer() {
  start sample_data/eeg
  shot viewer
  # Help menu (checked by eye: User guide, Keyboard and mouse, About).
  click 153 12
  shot help-menu
  click 208 62
  shot help-keys
}

# Drags across the traces from window X1 to X2 at height Y (a new label).
drag() {
  xdotool mousemove --window "$WID" "$1" "$3" sleep 0.3 mousedown 1
  xdotool mousemove --window "$WID" $(( ($1 + $2) / 2 )) "$3" sleep 0.2
  xdotool mousemove --window "$WID" "$2" "$3" sleep 0.2 mouseup 1
  xdotool mousemove 1435 895
  sleep 1
}

# A new label dragged over about 0.2-1.7 s of sub-01.edf.
shot_new_label() {
  start sample_data/eeg
  drag 389 474 520
  shot viewer-new-label
}

shot_spectrum() {
  start sample_data/eeg
  click 55 12
  click 109 140 3
  shot spectrum
}

shot_epoch_scoring() {
  start sample_data/sleep/sub-01_night.edf
  click 722 92 2
  shot epoch-scoring
}

# A night being scored, after a click on the hypnogram strip a little
# before its middle.
shot_scoring_night() {
  start sample_data/sleep/sub-01_night.edf
  click 722 92 2
  click 440 200 2
  shot scoring-night
}

# A night compared with a small sleep run's stages (trained here, five
# epochs): Runs, open the run, "Stage sub-01_night.edf with this run",
# Epoch scoring, Next disagreement; the strip with the model's line and its
# disagreements ticked, the statistics and the agreement panel (cropped),
# and the run's Results with the test night's hypnogram.
shot_agreement_panel() {
  local runs=$SCRATCH/runs
  rm -rf "$runs"
  "$BIN" train --data sample_data/sleep --model sleep --epochs 5 --seed 1 \
    --out "$runs/sleep-stager" >/dev/null
  start --runs "$runs" sample_data/sleep/sub-01_night.edf
  click 326 37 3
  click 474 246 3
  shot results-sleep-run
  click 100 93 6
  click 722 92 2
  click 560 465 2
  shot agreement-panel 700x340+250+145
}

# The demo's run: Train view, Results, an off-diagonal cell, Explain.
shot_demo() {
  start demo
  wait_for_run
  # Leave presentation mode, so the views are at their usual size.
  click 1110 50
  click 124 37 2
  shot train-done
  click 189 37 2
  shot results
  click 261 37 2
  click 60 344
  local runs=$SCRATCH/work/home/.local/share/spindle/runs
  for _ in $(seq 240); do
    compgen -G "$runs/*/explain.json" >/dev/null && break
    sleep 0.5
  done
  sleep 3
  shot explain
}

# 300 runs made from one real run by tools/craft_runs.py (models, data,
# scores and dates drawn from a seeded generator, a few notes), sorted by
# score and filtered by "eegnet".
shot_runs_many() {
  local many=$SCRATCH/many template=$SCRATCH/template
  rm -rf "$many" "$template"
  "$BIN" train --data sample_data/eeg --model eegnet --epochs 2 --out "$template" >/dev/null 2>&1
  python3 tools/craft_runs.py "$template" "$many" 300 >/dev/null
  start --runs "$many"
  click 326 37 2
  click 686 228
  click 175 205
  xdotool windowfocus --sync "$WID"
  xdotool type --window "$WID" --delay 80 eegnet
  sleep 1
  shot runs-many
}

all=(start_screen viewer new_label spectrum epoch_scoring scoring_night agreement_panel demo runs_many)
shots=("$@")
((${#shots[@]})) || shots=("${all[@]}")
for s in "${shots[@]}"; do
  "shot_${s//-/_}"
done
stop
