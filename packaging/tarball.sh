#!/usr/bin/env bash
# Builds the portable Linux tarball target/packages/spindle-<version>-linux-<arch>[-<suffix>].tar.gz:
# a folder laid out like an install prefix (bin/, share/), so that the
# binary finds its sample data from where it was unpacked, with install.sh
# and uninstall.sh to put it into ~/.local without root. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/common.sh
source packaging/common.sh

SUFFIX=""

usage() {
  cat <<EOF
Usage: packaging/tarball.sh [options]
Builds spindle-<version>-linux-<arch>[-<suffix>].tar.gz (default: from the
dist profile) into target/packages/.

  --suffix NAME    Adds -NAME to the file name (the release workflow's CUDA
                   build is --features cuda --suffix cuda).
$COMMON_USAGE
EOF
}

while (($#)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --suffix)
      [[ $# -ge 2 ]] || die "--suffix needs a name"
      SUFFIX=$2
      shift 2
      continue
      ;;
    --suffix=*)
      SUFFIX=${1#--suffix=}
      shift
      continue
      ;;
  esac
  parse_common_option "$@"
  ((TAKEN)) || die "unknown option '$1' (packaging/tarball.sh --help lists them)"
  shift "$TAKEN"
done
OUT_DIR=${OUT_DIR:-target/packages}

check_sample_data
build_binary
generate_assets

version=$(package_version)
name="spindle-$version-linux-$(uname -m)${SUFFIX:+-$SUFFIX}"
stage="$(profile_dir)/tarball/$name"
rm -rf "$stage"
mkdir -p "$stage"

# The same files and places as the .deb (Cargo.toml's [package.metadata.deb]), under
# the folder instead of /usr.
install -D -m 755 "$BIN" "$stage/bin/spindle"
if command -v strip >/dev/null; then strip "$stage/bin/spindle"; fi
install -D -m 644 packaging/linux/spindle.desktop "$stage/share/applications/spindle.desktop"
install -D -m 644 packaging/linux/spindle-mime.xml "$stage/share/mime/packages/spindle.xml"
for size in 16 24 32 48 64 128 256 512; do
  install -D -m 644 "assets/icons/spindle-$size.png" "$stage/share/icons/hicolor/${size}x$size/apps/spindle.png"
done
install -D -m 644 assets/spindle.svg "$stage/share/icons/hicolor/scalable/apps/spindle.svg"
mkdir -p "$stage/share/spindle"
cp -R sample_data "$stage/share/spindle/sample_data"
find "$stage/share/spindle/sample_data" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
mkdir -p "$stage/share/doc/spindle"
cp -R docs/guide "$stage/share/doc/spindle/guide"
find "$stage/share/doc/spindle/guide" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
for page in "$GENERATED"/man/*.1.gz; do
  install -D -m 644 "$page" "$stage/share/man/man1/$(basename "$page")"
done
install -D -m 644 "$GENERATED/completions/spindle.bash" "$stage/share/bash-completion/completions/spindle"
install -D -m 644 "$GENERATED/completions/_spindle" "$stage/share/zsh/site-functions/_spindle"
install -D -m 644 "$GENERATED/completions/spindle.fish" "$stage/share/fish/vendor_completions.d/spindle.fish"
install -m 755 packaging/linux/install.sh packaging/linux/uninstall.sh "$stage/"
install -m 644 packaging/linux/README.txt "$stage/README.txt"

mkdir -p "$OUT_DIR"
tarball="$OUT_DIR/$name.tar.gz"
# Sorted names, no owners and one time stamp: the same inputs give the same
# archive. The time is the last commit's, or SOURCE_DATE_EPOCH's.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$(dirname "$stage")" -cf - "$name" | gzip -9n >"$tarball"

echo "packaging: $tarball ($(megabytes "$(stat -c %s "$tarball")"); binary $(megabytes "$(stat -c %s "$stage/bin/spindle")"), profile $PROFILE${FEATURES:+, features $FEATURES})"
echo "$tarball"
