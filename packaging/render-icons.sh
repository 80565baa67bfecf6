#!/usr/bin/env bash
# Renders the app icon from its SVG sources into the files the app and the
# packages use, all committed so that no build needs these tools:
#   assets/icons/spindle-<N>.png  N = 16 24 32 48 64 128 256 512
#                                 (16-32 from assets/spindle-small.svg, drawn
#                                 on a 16-pixel grid; 48 up from assets/spindle.svg)
#   assets/spindle.ico            16-256 px (Windows: the .exe and the installer)
#   assets/spindle.icns           16-512 px (macOS: the .app bundle)
# Run it after editing either SVG, then look at every PNG at its real size.
# Needs (Debian): librsvg2-bin (rsvg-convert), icoutils (icotool), icnsutils (png2icns).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in rsvg-convert icotool png2icns; do
  if ! command -v "$tool" >/dev/null; then
    echo "render-icons.sh: $tool is missing; on Debian/Ubuntu: apt-get install librsvg2-bin icoutils icnsutils" >&2
    exit 2
  fi
done

out=assets/icons
mkdir -p "$out"
for size in 16 24 32 48 64 128 256 512; do
  if ((size <= 32)); then src=assets/spindle-small.svg; else src=assets/spindle.svg; fi
  rsvg-convert --width "$size" --height "$size" "$src" --output "$out/spindle-$size.png"
done

# .ico: every size up to 256 (Windows stores 256 as PNG, the rest as bitmaps).
icotool --create --output assets/spindle.ico \
  "$out"/spindle-{16,24,32,48,64}.png --raw="$out/spindle-128.png" --raw="$out/spindle-256.png"

# .icns: the sizes png2icns knows (16, 32, 48, 128, 256, 512); it picks each
# image's slot by its size. It prints one line per image; keep errors only.
png2icns assets/spindle.icns "$out"/spindle-{16,32,48,128,256,512}.png >/dev/null

ls -l "$out" assets/spindle.ico assets/spindle.icns
