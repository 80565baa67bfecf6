#!/usr/bin/env bash
# Opens one recording in the release app under a virtual X display, pages
# and zooms through it with xdotool, and prints how long the first traces
# took (the app's --frame-stats line), the highest resident memory sampled
# every 20 ms (VmHWM of the process), and the frame times.
#
#   tools/measure_open.sh FILE.edf [SECONDS_OF_SCROLLING]
#
# Needs: Xvfb, xdotool (apt-get install -y xvfb xdotool); a release build.
set -euo pipefail
file=$1
scroll_s=${2:-10}
bin=${SPINDLE_BIN:-target/release/spindle}
n=90
while [ -e /tmp/.X11-unix/X$n ] || [ -e /tmp/.X$n-lock ]; do n=$((n + 1)); done
display=:$n
Xvfb $display -screen 0 1600x1000x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1
export DISPLAY=$display
log=$(mktemp)
# A fresh settings file, so that the window opens as on a new machine.
home=$(mktemp -d)
env HOME=$home XDG_DATA_HOME=$home ${SPINDLE_ENV:-} ${SPINDLE_WRAP:-} "$bin" --frame-stats "$file" 2>"$log" &
app=$!
peak=0
sample() {
  local kb
  kb=$(awk '/VmRSS/ {print $2}' /proc/$app/status 2>/dev/null || echo 0)
  ((kb > peak)) && peak=$kb
  return 0
}
for _ in $(seq 1 250); do
  sample
  grep -q "first traces" "$log" && break
  sleep 0.02
done
opened_kb=$peak
win=$(xdotool search --sync --name Spindle 2>/dev/null | head -1)
xdotool windowfocus "$win" 2>/dev/null || true
end=$((SECONDS + scroll_s))
step=0
while ((SECONDS < end)); do
  case $((step % 40)) in
    10) xdotool key --window "$win" minus 2>/dev/null ;;
    20) xdotool key --window "$win" minus 2>/dev/null ;;
    30) xdotool key --window "$win" plus plus 2>/dev/null ;;
    *) xdotool key --window "$win" Next 2>/dev/null ;;
  esac
  step=$((step + 1))
  for _ in 1 2 3 4 5; do sample; sleep 0.01; done
done
sleep 1
sample
hwm=$(awk '/VmHWM/ {print $2}' /proc/$app/status)
kill -TERM $app
wait $app 2>/dev/null || true
grep "first traces" "$log" || echo "no traces drawn within 5 s"
echo "resident while opening: $((opened_kb / 1024)) MB; highest sampled while opening and scrolling: $((peak / 1024)) MB; VmHWM: $((hwm / 1024)) MB; $step keys sent"
grep -E "frames, median|own|total" "$log" || true
rm -rf "$log" "$home"
