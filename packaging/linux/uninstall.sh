#!/usr/bin/env bash
# Removes what install.sh installed, as listed in
# <prefix>/share/spindle/install-manifest.tsv: each file that is still as
# installed, then each folder the install made once it is empty. Anything
# else stays: your runs, your settings, labels you made or edited (also on
# the sample data), and any file changed since it was installed.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: uninstall.sh [--prefix DIR]
Removes the Spindle that install.sh put into DIR (default: the prefix this
script was installed into, else ~/.local). Your runs, settings and labels stay.
EOF
}

main() {
  local here prefix
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # Installed as <prefix>/share/spindle/uninstall.sh; in the tarball it sits
  # at the top, and then the default is ~/.local.
  if [[ -f $here/install-manifest.tsv && $(basename "$here") == spindle ]]; then
    prefix=$(cd "$here/../.." && pwd)
  else
    prefix=${HOME:?HOME is not set}/.local
  fi
  while (($#)); do
    case "$1" in
      --prefix)
        [[ $# -ge 2 ]] || fail "--prefix needs a folder"
        prefix=$2
        shift 2
        ;;
      --prefix=*)
        prefix=${1#--prefix=}
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) fail "unknown option '$1' (uninstall.sh --help)" ;;
    esac
  done

  local manifest="$prefix/share/spindle/install-manifest.tsv"
  [[ -f $manifest ]] || fail "$manifest does not exist: no Spindle installed by install.sh in $prefix"

  local -a changed=() dirs=()
  local kind hash rel removed=0
  while IFS=$'\t' read -r kind hash rel; do
    case "$kind" in
      file)
        [[ -e $prefix/$rel ]] || continue
        if [[ $(sha256sum "$prefix/$rel" | cut -d ' ' -f 1) == "$hash" ]]; then
          rm -f "$prefix/$rel"
          removed=$((removed + 1))
        else
          changed+=("$prefix/$rel")
        fi
        ;;
      dir) dirs+=("$rel") ;;
    esac
  done <"$manifest"
  rm -f "$manifest"

  local share=$prefix/share
  refresh_desktop_caches "$share" "${dirs[@]}"

  # Deepest folders first; a folder that still holds something stays.
  local dir
  while IFS= read -r dir; do
    if [[ -n $dir ]]; then rmdir "$prefix/$dir" 2>/dev/null || true; fi
  done < <(printf '%s\n' "${dirs[@]}" | awk '{ print gsub("/", "/") "\t" $0 }' | sort -rn | cut -f 2-)

  echo "Removed Spindle from $prefix ($removed files)."
  if ((${#changed[@]})); then
    echo "Kept, because they changed after they were installed:"
    printf '  %s\n' "${changed[@]}"
  fi
  if [[ -d $share/spindle ]]; then
    echo "Left in $share/spindle: what Spindle made there (runs/, settings, labels edited on the sample data); delete it yourself if you do not need it."
  fi
  echo "Labels beside your own recordings (*_events.tsv) and runs in other folders were not touched."
}

# Brings the desktop's caches up to date without Spindle's files. A cache in
# a folder the install made (listed after $1) and that nothing else uses now
# is removed with it, so that it cannot go on naming Spindle's file types.
refresh_desktop_caches() {
  local share=$1
  shift
  local created=" ${*} "
  if [[ -d $share/mime ]]; then
    if [[ -n $(ls -A "$share/mime/packages" 2>/dev/null) ]]; then
      if command -v update-mime-database >/dev/null; then update-mime-database "$share/mime"; fi
    elif [[ $created == *" share/mime "* ]]; then
      # Only what update-mime-database generated from Spindle's types is left.
      rm -rf "$share/mime"
    elif command -v update-mime-database >/dev/null; then
      mkdir -p "$share/mime/packages"
      update-mime-database "$share/mime"
    fi
  fi
  if [[ -d $share/applications ]]; then
    if [[ $created == *" share/applications "* && $(ls -A "$share/applications") == mimeinfo.cache ]]; then
      rm -f "$share/applications/mimeinfo.cache"
    elif command -v update-desktop-database >/dev/null; then
      update-desktop-database -q "$share/applications" || true
    fi
  fi
  if [[ -d $share/icons/hicolor ]]; then
    touch "$share/icons/hicolor"
    if [[ -f $share/icons/hicolor/icon-theme.cache ]] && command -v gtk-update-icon-cache >/dev/null; then
      gtk-update-icon-cache -q -t -f "$share/icons/hicolor" || true
    fi
  fi
}

fail() {
  echo "uninstall.sh: $*" >&2
  exit 2
}

main "$@"
