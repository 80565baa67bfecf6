#!/usr/bin/env bash
# Installs a built .deb with dpkg, as a user's `apt install ./spindle_*.deb`
# does, and checks the installed program where no source tree is near: from
# an empty folder with a fresh home, `spindle` is on PATH and names its
# commit, trains on the packaged sample data, and the app's `spindle demo`
# (under Xvfb, when installed) copies the sample data into the user's data
# folder and trains the demo to a finished run. Then removes the package
# with dpkg and checks nothing of it is left. Run by .ci/run after
# packaging/check-deb.sh (which checks the package's contents unpacked).
#
# Usage: packaging/install-deb.sh [PACKAGE.deb]  (default: the newest
# target/packages/spindle_*.deb). Needs root; refuses to touch a machine
# where a spindle package is installed already.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
# shellcheck source=packaging/common.sh
source packaging/common.sh
deb_to_use install "${1:-}"
deb=$DEB
[[ $EUID -eq 0 ]] || { echo "error: installing $deb with dpkg needs root" >&2; exit 2; }
if dpkg -s spindle >/dev/null 2>&1; then
  echo "error: a spindle package is installed already; not replacing it (dpkg -r spindle first)" >&2
  exit 2
fi
deb=$(realpath "$deb")

scratch=$(mktemp -d)
demo=""
cleanup() {
  [[ -z $demo ]] || kill -- -"$demo" 2>/dev/null || true
  dpkg -r spindle >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "install-deb: $*" >&2
  exit 1
}

dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb failed"
[[ $(command -v spindle) == /usr/bin/spindle ]] || fail "spindle is not /usr/bin/spindle on PATH after installing"

# Away from any source tree: an empty folder, a fresh home, no hint where
# the sample data is.
mkdir -p "$scratch/cwd" "$scratch/home"
run() {
  (cd "$scratch/cwd" && env -u SPINDLE_SAMPLE_DATA -u XDG_DATA_HOME HOME="$scratch/home" "$@")
}
run spindle --version | grep -q '^commit: ' || fail "the installed spindle --version names no commit"
run spindle train --data /usr/share/spindle/sample_data/eeg --model mlp --epochs 1 \
  --out "$scratch/run" >/dev/null 2>"$scratch/train.log" ||
  fail "spindle train on the installed sample data failed: $(tail -n 3 "$scratch/train.log")"
[[ -s $scratch/run/report.json ]] || fail "the installed spindle train wrote no report.json"

# The app: `spindle demo` finds the installed sample data, copies it into the
# user's data folder and trains the demo.
if command -v xvfb-run >/dev/null; then
  runs=$scratch/home/.local/share/spindle/runs
  # In a session of its own (setsid keeps the subshell's PID, which is no
  # group leader here), so that one signal to the group ends xvfb-run, its
  # Xvfb and the app, here or in `cleanup`.
  (cd "$scratch/cwd" && exec setsid env -u SPINDLE_SAMPLE_DATA -u XDG_DATA_HOME HOME="$scratch/home" \
    xvfb-run -a -s "-screen 0 1280x800x24" spindle demo) >"$scratch/demo.log" 2>&1 &
  demo=$!
  for _ in $(seq 240); do
    compgen -G "$runs/*/report.json" >/dev/null && break
    kill -0 "$demo" 2>/dev/null || break
    sleep 0.5
  done
  kill -- -"$demo" 2>/dev/null || true
  wait "$demo" 2>/dev/null || true
  demo=""
  compgen -G "$runs/*/report.json" >/dev/null ||
    fail "spindle demo trained no run in $runs: $(tail -n 5 "$scratch/demo.log")"
  [[ -s $scratch/home/.local/share/spindle/sample_data/eeg/sub-01.edf ]] ||
    fail "spindle demo did not copy the installed sample data into the user's data folder"
  demo_checked=", and its demo trained a run"
else
  demo_checked="; xvfb-run is not installed, so the app's demo was not started"
fi

dpkg -r spindle >/dev/null || fail "dpkg -r spindle failed"
[[ ! -e /usr/bin/spindle && ! -e /usr/share/spindle ]] || fail "dpkg -r left /usr/bin/spindle or /usr/share/spindle behind"
echo "install-deb: $(basename "$deb") installed with dpkg, ran from an empty folder with a fresh home$demo_checked; removed"
