#!/usr/bin/env bash
# Photo redaction, posbon beside the Python peer, on the same two files in the same run:
# a vtest.avi still (768x576, searched at 2x) and the same still scaled to a phone's 4032x3024
# (searched at 1600 px). Prints both implementations' JSON lines and the ratio of medians.
#     bench/photo.sh            (threads: POSBON_BENCH_THREADS, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/posbon/target}"
threads="${POSBON_BENCH_THREADS:-2}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
posbon="$CARGO_TARGET_DIR/release/posbon"
[ -x "$posbon" ] || cargo build --release -p cli
vtest="$("$posbon" assets path footage/vtest.avi)"
ffmpeg -v error -nostdin -i "$vtest" -vf 'select=eq(n\,200)' -vframes 1 -q:v 2 "$dir/still.jpg"
ffmpeg -v error -nostdin -i "$dir/still.jpg" -vf scale=4032:3024 -q:v 2 "$dir/phone.jpg"
{
  POSBON_BENCH_THREADS="$threads" cargo bench -q -p workers --bench photo -- "$dir/still.jpg" "$dir/phone.jpg"
  python3 bench/python_photo.py --threads "$threads" "$dir/still.jpg" "$dir/phone.jpg"
} | tee "$dir/out.jsonl"
python3 - "$dir/out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for f in sorted({r["file"] for r in rows}):
    p = next(r for r in rows if r["file"] == f and r["impl"] == "posbon")
    q = next(r for r in rows if r["file"] == f and r["impl"] == "python")
    print(f"{p['width']}x{p['height']}: posbon {p['median_ms']} ms ({p['faces']} faces), "
          f"python {q['median_ms']} ms ({q['faces']} faces): python/posbon = {q['median_ms'] / p['median_ms']:.2f}")
PY
