#!/usr/bin/env bash
# Opens one recording in the release app under a virtual X display, pages
# and zooms through it with xdotool (mouse wheel and the zoom buttons), and prints how long the first traces
# took (the app's --frame-stats line), the highest resident memory sampled
# every 20 ms (VmHWM of the process), and the frame times: of all frames, and
# of those after the first traces (the scrolling and zooming, without the
# app's first paint and the opening, which "first traces" times).
#
#   tools/measure_open.sh FILE.edf [SECONDS_OF_SCROLLING]
#   FILTERS=on tools/measure_open.sh FILE.edf   # with the display filters on
#                                               # (0.5 Hz high-pass, 35 Hz low-pass, 50 Hz notch)
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
if [ "${FILTERS:-off}" = on ]; then
  # eframe's settings file: the app's settings as a RON string under "app".
  mkdir -p "$home/spindle"
  echo '{"app":"(filter:(highpass_hz:Some(0.5),lowpass_hz:Some(35.0),notch_hz:Some(50.0)))"}' >"$home/spindle/app.ron"
fi
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
  grep -q "first traces drawn" "$log" && break
  sleep 0.02
done
opened_kb=$peak
# Without a window manager keys do not reach the window: drive it with the
# mouse. The window opens at the top left; the toolbar's zoom buttons and
# the traces are at these points.
zoom_out="438 69" zoom_in="517 69" whole="552 69" traces="700 400"
click() { xdotool mousemove $1 $2 click 1 2>/dev/null; }
end=$((SECONDS + scroll_s))
step=0
while ((SECONDS < end)); do
  case $((step % 60)) in
    15 | 16) click $zoom_out ;;
    30) click $whole ;;
    31 | 32 | 33 | 34 | 35 | 36 | 37) click $zoom_in ;;
    *) xdotool mousemove $traces click 5 2>/dev/null ;;
  esac
  step=$((step + 1))
  for _ in 1 2 3 4 5; do sample; sleep 0.01; done
done
sleep 1
sample
hwm=$(awk '/VmHWM/ {print $2}' /proc/$app/status)
# File > Quit (the menu's last item), so that the app prints its frame times.
click 19 12
sleep 1.5
click 30 195
for _ in $(seq 1 50); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
kill -TERM $app 2>/dev/null || true
wait $app 2>/dev/null || true
grep "first traces drawn" "$log" || echo "no traces drawn within 5 s"
echo "resident while opening: $((opened_kb / 1024)) MB; highest sampled while opening and scrolling: $((peak / 1024)) MB; VmHWM: $((hwm / 1024)) MB; $step wheel steps and clicks"
grep -E "^frame" "$log" || true
rm -rf "$log" "$home"
