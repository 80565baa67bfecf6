#!/usr/bin/env bash
# Installs Spindle from the folder this script is in (the unpacked tarball)
# into ~/.local, or into the folder given with --prefix, without root:
#   bin/spindle, share/applications/spindle.desktop, share/icons/hicolor/*/apps/spindle.*,
#   share/mime/packages/spindle.xml, share/spindle/sample_data/, share/man/man1/,
#   shell completions (bash, zsh, fish), and share/spindle/uninstall.sh.
# What it installed is listed in share/spindle/install-manifest.tsv, which
# uninstall.sh reads to remove exactly that. Running it again updates an
# earlier install. Sample recordings whose labels you edited are kept as
# you left them.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [--prefix DIR]
Installs Spindle into DIR (default: ~/.local) without root: the program into
DIR/bin, the menu entry, icons, file types, sample data, manual page and shell
completions into DIR/share. Remove it with DIR/share/spindle/uninstall.sh.
EOF
}

main() {
  local here prefix=${HOME:?HOME is not set}/.local
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
      *) fail "unknown option '$1' (./install.sh --help)" ;;
    esac
  done
  [[ -x $here/bin/spindle && -d $here/share ]] ||
    fail "$here does not hold Spindle's files (bin/spindle, share/): run the install.sh of the unpacked tarball"
  # The menu entry names the binary by its path; keep that path simple.
  [[ $prefix == /* ]] || prefix=$PWD/$prefix
  [[ $prefix =~ ^[A-Za-z0-9/._+\ -]+$ ]] ||
    fail "$prefix: the menu entry cannot name a folder with quotes, backslashes or other unusual characters; choose another --prefix"
  mkdir -p "$prefix"
  prefix=$(cd "$prefix" && pwd)

  local manifest="$prefix/share/spindle/install-manifest.tsv"
  local -A old_hash=() old_dirs=()
  if [[ -f $manifest ]]; then
    local kind hash rel
    while IFS=$'\t' read -r kind hash rel; do
      case "$kind" in
        file) old_hash[$rel]=$hash ;;
        dir) old_dirs[$rel]=1 ;;
      esac
    done <"$manifest"
    echo "Updating the Spindle installed in $prefix."
  else
    echo "Installing Spindle into $prefix."
  fi

  local -a entries=() kept=()
  local -A new_files=()
  local rel src dest mode
  while IFS= read -r rel; do
    src="$here/$rel"
    dest="$prefix/$rel"
    new_files[$rel]=1
    make_dirs "$prefix" "$(dirname "$rel")"
    if [[ $rel == share/spindle/sample_data/* && -f $dest ]] && ! cmp -s "$src" "$dest"; then
      # A sample file that differs from ours: overwrite it only if it is
      # still what an earlier install put there, never the user's edits.
      if [[ ${old_hash[$rel]:-} != "$(sha256 "$dest")" ]]; then
        kept+=("$dest")
        continue
      fi
    fi
    mode=$(stat -c %a "$src")
    if [[ $rel == share/applications/spindle.desktop ]]; then
      # The menu starts the installed binary by its full path: a desktop
      # session started before ~/.local/bin existed does not have it on PATH.
      sed -e "s#^Exec=spindle#Exec=$(desktop_exec_path "$prefix/bin/spindle")#" \
        -e "s#^TryExec=spindle\$#TryExec=$prefix/bin/spindle#" "$src" >"$dest.tmp"
      chmod "$mode" "$dest.tmp"
      mv -f "$dest.tmp" "$dest"
    else
      install -m "$mode" "$src" "$dest.tmp"
      mv -f "$dest.tmp" "$dest"
    fi
    entries+=("file"$'\t'"$(sha256 "$dest")"$'\t'"$rel")
  done < <(cd "$here" && find bin share -type f | LC_ALL=C sort)

  # The uninstaller stays installed, so the tarball's folder can be deleted.
  rel=share/spindle/uninstall.sh
  new_files[$rel]=1
  install -m 755 "$here/uninstall.sh" "$prefix/$rel"
  entries+=("file"$'\t'"$(sha256 "$prefix/$rel")"$'\t'"$rel")

  # Files an earlier install put there that this one no longer has.
  for rel in "${!old_hash[@]}"; do
    if [[ -z ${new_files[$rel]:-} && -f $prefix/$rel && ${old_hash[$rel]} == "$(sha256 "$prefix/$rel")" ]]; then
      rm -f "$prefix/$rel"
    fi
  done

  # Folders made by this install or an earlier one, removed by uninstall.sh when empty.
  for rel in "${!old_dirs[@]}" "${!CREATED_DIRS[@]}"; do
    [[ -d $prefix/$rel ]] && entries+=("dir"$'\t'"-"$'\t'"$rel")
  done
  printf '%s\n' "${entries[@]}" | LC_ALL=C sort -u >"$manifest.tmp"
  mv -f "$manifest.tmp" "$manifest"

  refresh_desktop_caches "$prefix"

  echo "Installed: $prefix/bin/spindle (with sample data in $prefix/share/spindle/sample_data)."
  if ((${#kept[@]})); then
    echo "Kept as you left them (they differ from the new sample data):"
    printf '  %s\n' "${kept[@]}"
  fi
  case ":$PATH:" in
    *":$prefix/bin:"*)
      local first
      first=$(command -v spindle || true)
      if [[ -n $first && $first != "$prefix/bin/spindle" ]]; then
        echo "Note: 'spindle' in a terminal starts $first, which comes first on your PATH."
      fi
      ;;
    *) echo "Note: $prefix/bin is not on your PATH yet; log out and in again (most systems add ~/.local/bin once it exists), or add it in ~/.profile. The menu entry works already." ;;
  esac
  if [[ ${SHELL:-} == */zsh ]]; then
    echo "Note: for zsh completions, add $prefix/share/zsh/site-functions to fpath in ~/.zshrc before compinit."
  fi
  echo "Start Spindle from your applications menu or with 'spindle'. To remove it: $prefix/share/spindle/uninstall.sh"
}

fail() {
  echo "install.sh: $*" >&2
  exit 2
}

sha256() {
  sha256sum "$1" | cut -d ' ' -f 1
}

# Makes the folders of $2 (relative to $1) that do not exist yet and notes
# each in CREATED_DIRS.
declare -A CREATED_DIRS=()
make_dirs() {
  local root=$1 rel=$2 path=""
  local -a parts
  IFS=/ read -r -a parts <<<"$rel"
  local part
  for part in "${parts[@]}"; do
    path=${path:+$path/}$part
    if [[ ! -d $root/$path ]]; then
      mkdir "$root/$path"
      CREATED_DIRS[$path]=1
    fi
  done
}

# The binary's path as a desktop entry's Exec= wants it: quoted when it holds spaces.
desktop_exec_path() {
  if [[ $1 == *" "* ]]; then
    printf '"%s"' "$1"
  else
    printf '%s' "$1"
  fi
}

# Tells the desktop about the new menu entry, file types and icons, with
# whichever of the tools this system has.
refresh_desktop_caches() {
  local share=$1/share
  if command -v update-mime-database >/dev/null; then
    update-mime-database "$share/mime"
  else
    echo "Note: update-mime-database is missing (package shared-mime-info), so the file manager may not recognise EDF, BDF and BrainVision files."
  fi
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$share/applications" || true
  fi
  # A folder without an icon cache is read directly; one with a cache is
  # read through it, so a cache there must be brought up to date.
  touch "$share/icons/hicolor"
  if [[ -f $share/icons/hicolor/icon-theme.cache ]] && command -v gtk-update-icon-cache >/dev/null; then
    gtk-update-icon-cache -q -t -f "$share/icons/hicolor" || true
  fi
}

main "$@"
