#!/usr/bin/env bash
# Checks a built .deb without installing it: unpacks it with `dpkg-deb -x`
# into a scratch root and checks that the binary, desktop entry, icons (every
# hicolor size and the SVG), MIME file, man pages, shell completions and
# sample data are where Cargo.toml's [package.metadata.deb] puts them; validates the
# desktop entry and the MIME XML; runs the unpacked binary's --version and
# `inspect` on the packaged sample data. Run by .ci/run and by the release
# workflow. Usage: packaging/check-deb.sh [PACKAGE.deb] (default: the newest
# target/packages/spindle_*.deb).
set -euo pipefail
cd "$(dirname "$0")/.."

shopt -s nullglob
# shellcheck source=packaging/common.sh
source packaging/common.sh
deb_to_use check "${1:-}"
deb=$DEB
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"

failures=0
fail() {
  echo "check-deb: $*" >&2
  failures=$((failures + 1))
}
need() {
  local path
  for path in "$@"; do
    [[ -s $root/$path ]] || fail "missing or empty: /$path"
  done
}

need usr/bin/spindle usr/share/applications/spindle.desktop usr/share/mime/packages/spindle.xml \
  usr/share/icons/hicolor/scalable/apps/spindle.svg \
  usr/share/man/man1/spindle.1.gz usr/share/man/man1/spindle-train.1.gz \
  usr/share/bash-completion/completions/spindle usr/share/zsh/vendor-completions/_spindle \
  usr/share/fish/vendor_completions.d/spindle.fish \
  usr/share/spindle/sample_data/eeg/sub-01.edf usr/share/spindle/sample_data/eeg/sub-01_events.tsv \
  usr/share/spindle/sample_data/sleep/sub-01_night.edf \
  usr/share/doc/spindle/guide/index.md usr/share/doc/spindle/guide/img/results.png
for size in 16 24 32 48 64 128 256 512; do
  need "usr/share/icons/hicolor/${size}x$size/apps/spindle.png"
done
[[ -x $root/usr/bin/spindle ]] || fail "/usr/bin/spindle is not executable"
# Every sample file the repository has, and no other.
packaged=$(cd "$root/usr/share/spindle/sample_data" && find . -type f | sort)
committed=$(cd sample_data && git ls-files 2>/dev/null | sed 's|^|./|' | sort)
[[ -z $committed || $packaged == "$committed" ]] || fail "the packaged sample data differs from sample_data/'s committed files"

desktop-file-validate "$root/usr/share/applications/spindle.desktop" || fail "desktop-file-validate failed"
xmllint --noout "$root/usr/share/mime/packages/spindle.xml" || fail "the MIME XML is not well-formed"
gzip -t "$root"/usr/share/man/man1/*.gz || fail "a man page is not valid gzip"
# Every man page renders without a warning, as man renders it (preconv
# turns the UTF-8 text into groff's escapes), where groff is installed.
if command -v groff >/dev/null && command -v preconv >/dev/null; then
  for page in "$root"/usr/share/man/man1/*.gz; do
    zcat "$page" | preconv | groff -man -Tutf8 -ww -z 2>&1 | grep . && fail "groff warns on $(basename "$page")"
  done
fi
bash -n "$root/usr/share/bash-completion/completions/spindle" || fail "the bash completion does not parse"

bin=$root/usr/bin/spindle
"$bin" --version || fail "spindle --version failed"
"$bin" --version | grep -q '^commit: ' || fail "spindle --version names no commit"
"$bin" inspect "$root/usr/share/spindle/sample_data/eeg/sub-01.edf" >/dev/null || fail "spindle inspect of the packaged sample data failed"

if ((failures)); then
  echo "check-deb: $deb: $failures problem(s)" >&2
  exit 1
fi
echo "check-deb: $deb: $(find "$root" -type f | wc -l) files, all in place"
