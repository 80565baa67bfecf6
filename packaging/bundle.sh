#!/usr/bin/env bash
# Builds the desktop package of the system it runs on, with cargo-packager:
#   macOS:   spindle-<version>-macos-<arch>.dmg holding Spindle.app (feature metal)
#   Windows: spindle-<version>-windows-<arch>-setup.exe (NSIS, no administrator
#            rights needed) and spindle-<version>-windows-<arch>.zip
# into target/packages/. The configurations are packaging/macos/Packager.toml
# and packaging/windows/Packager.toml. Runs in the release workflow on
# GitHub's macOS and Windows runners (Git Bash there); see packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/common.sh
source packaging/common.sh

# The cargo-packager the configurations are written for.
CARGO_PACKAGER_VERSION=0.11.8

case "$(uname -s)" in
  Darwin)
    platform=macos
    FEATURES=metal
    ;;
  MINGW* | MSYS* | CYGWIN*) platform=windows ;;
  *)
    echo "error: packaging/bundle.sh makes the macOS and Windows packages; on Linux use packaging/deb.sh and packaging/tarball.sh" >&2
    exit 2
    ;;
esac

usage() {
  cat <<EOF
Usage: packaging/bundle.sh [options]
Builds the $platform package (default: from the dist profile) into target/packages/.
On macOS the build has the metal feature unless --features says otherwise.

$COMMON_USAGE

Needs cargo-packager: cargo install cargo-packager --version $CARGO_PACKAGER_VERSION --locked
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
  ((TAKEN)) || die "unknown option '$1' (packaging/bundle.sh --help lists them)"
  shift "$TAKEN"
done
OUT_DIR=${OUT_DIR:-target/packages}

command -v cargo-packager >/dev/null ||
  die "cargo-packager is not installed: cargo install cargo-packager --version $CARGO_PACKAGER_VERSION --locked"

check_sample_data
build_binary
version=$(package_version)
arch=$(uname -m)
[[ $arch == arm64 ]] && arch=aarch64

# cargo-packager reads paths relative to its configuration file: put the
# configuration, the binary, the icon and the sample data in one folder.
stage="$(profile_dir)/bundle/$platform"
rm -rf "$stage"
mkdir -p "$stage"
sed "s/@VERSION@/$version/" "packaging/$platform/Packager.toml" >"$stage/Packager.toml"
cp "$BIN" "$stage/"
cp -R sample_data "$stage/sample_data"
case "$platform" in
  macos) cp assets/spindle.icns "$stage/" ;;
  windows) cp assets/spindle.ico "$stage/" ;;
esac

cargo packager --config "$stage/Packager.toml"

mkdir -p "$OUT_DIR"
base="spindle-$version-$platform-$arch"
made=()
case "$platform" in
  macos)
    dmg=$(find "$stage/out" -maxdepth 1 -name '*.dmg' | head -n 1)
    [[ -n $dmg ]] || die "cargo-packager made no .dmg in $stage/out"
    mv -f "$dmg" "$OUT_DIR/$base.dmg"
    made+=("$OUT_DIR/$base.dmg")
    ;;
  windows)
    setup=$(find "$stage/out" -maxdepth 1 -name '*-setup.exe' | head -n 1)
    [[ -n $setup ]] || die "cargo-packager made no *-setup.exe in $stage/out"
    mv -f "$setup" "$OUT_DIR/$base-setup.exe"
    made+=("$OUT_DIR/$base-setup.exe")
    # The zip: unpack anywhere and start spindle.exe, which finds
    # sample_data\ beside itself.
    zipdir="$stage/zip/$base"
    mkdir -p "$zipdir"
    cp "$BIN" "$zipdir/"
    cp -R sample_data "$zipdir/sample_data"
    cp packaging/windows/README.txt "$zipdir/README.txt"
    rm -f "$OUT_DIR/$base.zip"
    (cd "$stage/zip" && 7z a -tzip -bd -bso0 "$base.zip" "$base")
    mv -f "$stage/zip/$base.zip" "$OUT_DIR/$base.zip"
    made+=("$OUT_DIR/$base.zip")
    ;;
esac

for f in "${made[@]}"; do
  echo "packaging: $f ($(megabytes "$(wc -c <"$f")"); profile $PROFILE${FEATURES:+, features $FEATURES})"
done
printf '%s\n' "${made[@]}"
