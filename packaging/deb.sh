#!/usr/bin/env bash
# Builds the Debian/Ubuntu package target/packages/spindle_<version>-1_<arch>.deb
# with cargo-deb: the binary, desktop entry, icons, MIME types, sample data,
# man page and shell completions (the list is [package.metadata.deb] in
# the root Cargo.toml). Works offline once
# the dependencies are in Cargo's cache. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/common.sh
source packaging/common.sh

# The cargo-deb this script is written for; others may name things differently.
CARGO_DEB_VERSION=3.8.0

usage() {
  cat <<EOF
Usage: packaging/deb.sh [options]
Builds the .deb (default: from the dist profile) into target/packages/.

$COMMON_USAGE

Needs cargo-deb: cargo install cargo-deb --version $CARGO_DEB_VERSION --locked
EOF
}

while (($#)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
  esac
  parse_common_option "$@"
  ((TAKEN)) || die "unknown option '$1' (packaging/deb.sh --help lists them)"
  shift "$TAKEN"
done
OUT_DIR=${OUT_DIR:-target/packages}

command -v cargo-deb >/dev/null ||
  die "cargo-deb is not installed: cargo install cargo-deb --version $CARGO_DEB_VERSION --locked"
found=$(cargo deb --version | awk '{ print $2 }')
[[ $found == "$CARGO_DEB_VERSION" ]] ||
  echo "packaging: warning: cargo-deb $found, this script is written for $CARGO_DEB_VERSION" >&2
grep -q '^\[package\.metadata\.deb\]' Cargo.toml ||
  die "Cargo.toml has no [package.metadata.deb]"

check_sample_data
build_binary
generate_assets
mkdir -p "$OUT_DIR"
# --no-build: the binary is the one built above; cargo-deb reads each
# target/release/ asset from the profile's folder and strips the binary.
deb=$(cargo deb -p spindle --no-build --locked --profile "$PROFILE" --output "$OUT_DIR" | tail -n 1)
[[ -f $deb ]] || die "cargo-deb reported no package (last line: '$deb')"

echo "packaging: $deb ($(megabytes "$(stat -c %s "$deb")"); binary $(megabytes "$(stat -c %s "$BIN")"), profile $PROFILE${FEATURES:+, features $FEATURES})"
echo "$deb"
