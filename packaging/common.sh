# shellcheck shell=bash
# shellcheck disable=SC2034 # its variables are read by the scripts that source it
# What packaging/deb.sh and packaging/tarball.sh share: their build options,
# the build of the binary, and the files the binary writes about itself (man
# page, shell completions); and what packaging/check-deb.sh and
# install-deb.sh share: which .deb they take. Sourced, not run; expects
# `set -euo pipefail` and the repository root as the working directory.

PROFILE=${SPINDLE_PACKAGE_PROFILE:-dist}
FEATURES=""
BUILD=1
OUT_DIR=""

COMMON_USAGE="Build options (both scripts):
  --profile NAME   Cargo profile to build and package (default: dist, or
                   \$SPINDLE_PACKAGE_PROFILE). CI packages the build it already
                   has with --profile release.
  --features LIST  Cargo features to build with besides the defaults (e.g. cuda).
  --no-build       Package the binary already in the profile's target folder.
  --out DIR        Where to write the package (default: target/packages).
  -h, --help       This text."

# Reads one build option from "$@" and sets TAKEN to how many arguments it
# took (0 when "$1" is not one of them).
parse_common_option() {
  TAKEN=0
  case "$1" in
    --profile)
      [[ $# -ge 2 ]] || die "--profile needs a profile name (dist, release, ...)"
      PROFILE=$2
      TAKEN=2
      ;;
    --profile=*)
      PROFILE=${1#--profile=}
      TAKEN=1
      ;;
    --features)
      [[ $# -ge 2 ]] || die "--features needs a list of features"
      FEATURES=$2
      TAKEN=2
      ;;
    --features=*)
      FEATURES=${1#--features=}
      TAKEN=1
      ;;
    --no-build)
      BUILD=0
      TAKEN=1
      ;;
    --out)
      [[ $# -ge 2 ]] || die "--out needs a folder"
      OUT_DIR=$2
      TAKEN=2
      ;;
    --out=*)
      OUT_DIR=${1#--out=}
      TAKEN=1
      ;;
    *) ;;
  esac
}

die() {
  echo "error: $*" >&2
  exit 2
}

# Cargo's output folder for $PROFILE ("dev" builds into debug/).
profile_dir() {
  local target=${CARGO_TARGET_DIR:-target}
  if [[ $PROFILE == dev ]]; then
    echo "$target/debug"
  else
    echo "$target/$PROFILE"
  fi
}

# ".exe" on Windows (Git Bash, MSYS), else nothing.
exe_suffix() {
  case "$(uname -s)" in
    MINGW* | MSYS* | CYGWIN*) echo .exe ;;
  esac
}

# The version of the spindle package, from Cargo ("0.1.0").
package_version() {
  local id
  id=$(cargo pkgid --offline -p spindle 2>/dev/null || cargo pkgid -p spindle)
  # path+file:///...#spindle@0.1.0 (or #0.1.0 from older Cargo)
  echo "${id##*[#@]}"
}

# Builds the binary with $PROFILE and $FEATURES, unless --no-build; sets BIN.
build_binary() {
  if [[ $PROFILE != release && $PROFILE != dev ]] && ! grep -q "^\[profile\.$PROFILE\]" Cargo.toml; then
    die "Cargo.toml has no [profile.$PROFILE]; pass --profile release or dist"
  fi
  if ((BUILD)); then
    local args=(build --locked -p spindle --profile "$PROFILE")
    [[ -n $FEATURES ]] && args+=(--features "$FEATURES")
    echo "packaging: cargo ${args[*]}" >&2
    cargo "${args[@]}"
  fi
  BIN="$(profile_dir)/spindle$(exe_suffix)"
  [[ -x $BIN ]] || die "$BIN: no binary there; build it first or leave out --no-build"
}

# Has the binary write its man page(s) and shell completions into
# "$(profile_dir)/generated" (the folder Cargo.toml's [package.metadata.deb] names):
#   man/spindle.1 (and man/spindle-<command>.1), compressed here to .1.gz
#   completions/spindle.bash, completions/_spindle (zsh), completions/spindle.fish
#   (completions/_spindle.ps1 for PowerShell when the binary writes it)
# Sets GENERATED.
generate_assets() {
  GENERATED="$(profile_dir)/generated"
  # `help` resolves hidden subcommands too, and fails on unknown ones (while
  # `spindle generate-assets --help` would take the name for a path to open).
  if ! "$BIN" help generate-assets >/dev/null 2>&1; then
    die "$BIN has no 'generate-assets' command, which writes the man page and shell completions that the packages install ('spindle generate-assets --out DIR', issue 20 part 2); the packages cannot be made without them"
  fi
  rm -rf "$GENERATED"
  mkdir -p "$GENERATED"
  "$BIN" generate-assets --out "$GENERATED"
  local f
  for f in man/spindle.1 completions/spindle.bash completions/_spindle completions/spindle.fish; do
    [[ -s $GENERATED/$f ]] || die "'$BIN generate-assets' wrote no $GENERATED/$f"
  done
  # -n: no name or time stamp in the archive, so the same page gives the same bytes.
  gzip -9nf "$GENERATED"/man/*.1
}

# Refuses to package sample_data/ when it holds anything git does not: labels
# edited in the app, their .bak and .journal files, runs. The packages ship
# the committed sample data only (what `spindle synth` writes).
check_sample_data() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
  local extra
  extra=$(git ls-files --others -- sample_data; git diff --name-only HEAD -- sample_data)
  [[ -z $extra ]] || die "sample_data/ differs from the commit (packages ship the committed sample data):
$extra
(git checkout -- sample_data restores edited files; move the others away)"
}

# Prints a size in bytes as MB with one decimal.
megabytes() {
  awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'
}

# The .deb to check or install: GIVEN when not empty, else the last
# target/packages/spindle_*.deb in name order. Sets DEB; dies saying there is
# no .deb to VERB when that is not a file.
deb_to_use() {
  local verb=$1 given=${2:-} f
  DEB=$given
  if [[ -z $DEB ]]; then
    for f in target/packages/spindle_*.deb; do
      [[ -e $f ]] && DEB=$f
    done
  fi
  [[ -f $DEB ]] || die "no .deb to $verb (build one with packaging/deb.sh)"
}
