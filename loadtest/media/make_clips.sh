#!/usr/bin/env bash
# Re-create the looped VP8 clips: 3 s (90 frames at 30 fps) of a synthetic test pattern per layer, a keyframe
# every 30 frames. Needs python3 and vpxenc (Debian: vpx-tools). The .ivf files are committed; run this only to
# change them.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in "low 320 180 150" "mid 640 360 500" "high 1280 720 1200"; do
  set -- $spec
  python3 testpattern.py "$2" "$3" 90 > "$tmp/$1.y4m"
  vpxenc --codec=vp8 --target-bitrate="$4" --end-usage=cbr --kf-max-dist=30 --kf-min-dist=30 --good \
    --cpu-used=4 --ivf -o "$1.ivf" "$tmp/$1.y4m"
done
