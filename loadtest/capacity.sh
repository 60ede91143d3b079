#!/usr/bin/env bash
# Capacity table for one machine: starts `plenum serve` pinned to CPU 0 (one SFU worker) on loopback with a fresh
# data dir, runs each scenario with plenum-loadtest pinned to CPU 1, writes one JSON report per scenario and a
# summary table (markdown) to OUT/summary.md.
#
#   loadtest/capacity.sh [BIN_DIR=target/release] [OUT=capacity-results] [DURATION=30s] [SET=table|saturate]
#
# SIMULCAST=on (environment) makes every video publisher send three layers as the web client does, and every
# subscriber ask for the layer its grid tile needs (`--simulcast on --tile-sizes grid`); default off: one layer.
#
# SCENARIOS (environment, SET=saturate only) picks the sweeps, e.g. SCENARIOS="webinar meeting"; default all three.
#
# SET=table runs the fixed sizes of the capacity table; SET=saturate grows each scenario (webinar viewers, audio
# rooms, meeting rooms of 6 up to 32 rooms) until a run reports a CPU bottleneck (a side used >= 90 % of its cores), failed joins or
# more than 2 % loss, and stops that scenario there: the last size is where this machine ran out.
set -euo pipefail
BIN=${1:-target/release}
OUT=${2:-capacity-results}
DURATION=${3:-30s}
SET=${4:-table}
case "$SET" in table|saturate) ;; *) echo "SET must be table or saturate, not '$SET'" >&2; exit 2;; esac
SIMULCAST=${SIMULCAST:-off}
SCENARIOS=${SCENARIOS:-webinar audio meeting}
for s in $SCENARIOS; do
  case "$s" in webinar|audio|meeting) ;; *) echo "SCENARIOS: webinar, audio or meeting, not '$s'" >&2; exit 2;; esac
done
case "$SIMULCAST" in on|off) ;; *) echo "SIMULCAST must be on or off, not '$SIMULCAST'" >&2; exit 2;; esac
mkdir -p "$OUT"
DATA=$(mktemp -d)
PORT=18080
PLENUM_HTTP_ADDR=127.0.0.1:$PORT PLENUM_MEDIA_ADDR=127.0.0.1:52000 PLENUM_DATA_DIR="$DATA" PLENUM_WORKERS=1 \
  taskset -c 0 "$BIN/plenum" serve > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

run() {
  local name=$1; shift
  echo "==> $name: $*"
  taskset -c 1 "$BIN/plenum-loadtest" run --pin 1 --quiet --url "http://127.0.0.1:$PORT" --secret-file "$DATA/secret" \
    --server-pid "$SERVER" --duration "$DURATION" --ramp 10 --simulcast "$SIMULCAST" --json "$OUT/$name.json" "$@" \
    | tee "$OUT/$name.txt" || true
}

# Whether the report of run NAME shows the machine's limit: a saturated side, failed joins or > 2 % loss.
limit_reached() {
  python3 - "$OUT/$1.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("no report"); sys.exit(0)
why = []
if r["bottleneck"]["first"] != "none": why.append(f"{r['bottleneck']['first']} CPU saturated")
if r["joined"] < r["participants"]: why.append(f"{r['participants'] - r['joined']} joins failed")
if r["loss_pct_total"] > 2: why.append(f"{r['loss_pct_total']:.1f} % loss")
print("; ".join(why))
PY
}

# sweep PREFIX "ARGS with {} for the size" SIZE...: run growing sizes until the limit shows.
sweep() {
  local prefix=$1 template=$2; shift 2
  for n in "$@"; do
    local name; name=$(printf '%s-%04d' "$prefix" "$n")
    # shellcheck disable=SC2086
    run "$name" ${template//\{\}/$n}
    local why; why=$(limit_reached "$name")
    if [ -n "$why" ]; then echo "==> $prefix: limit at size $n ($why)"; return; fi
  done
  echo "==> $prefix: no limit up to size ${*: -1}"
}

if [ "$SET" = table ]; then
  run meeting-1x5 --scenario meeting --rooms 1 --publishers 5
  run meeting-1x10 --scenario meeting --rooms 1 --publishers 10
  run meeting-3x8 --scenario meeting --rooms 3 --publishers 8
  run webinar-1x50 --scenario webinar --rooms 1 --subscribers 50
  run webinar-1x150 --scenario webinar --rooms 1 --subscribers 150
  run audio-5x10 --scenario audio-only --rooms 5 --publishers 10 --speakers-switch 5s
  run audio-10x10 --scenario audio-only --rooms 10 --publishers 10 --speakers-switch 5s
else
  wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }
  if wants webinar; then sweep webinar "--scenario webinar --rooms 1 --subscribers {}" 250 400 600 900; fi
  if wants audio; then sweep audio "--scenario audio-only --rooms {} --publishers 10 --speakers-switch 5s" 20 35 55 80; fi
  if wants meeting; then sweep meeting "--scenario meeting --rooms {} --publishers 6" 4 7 11 16 24 32; fi
fi

python3 - "$OUT" <<'PY' > "$OUT/summary.md"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
print("| run | joined/all | join p50/p95 ms | first media p95 ms | loss % | e2e p50/p95/p99 ms | freezes (paused hints) | recv kbit/s p50 | server CPU p95 % | µs/fwd pkt p50 | bottleneck |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for f in sorted(out.glob("*.json")):
    r = json.loads(f.read_text())
    e = r["e2e_latency_ms"]
    print(f"| {f.stem} | {r['joined']}/{r['participants']} | {r['join_ms']['p50']:.0f}/{r['join_ms']['p95']:.0f} | "
          f"{r['first_media_ms']['p95']:.0f} | {r['loss_pct_total']:.3f} | {e['p50']:.1f}/{e['p95']:.1f}/{e['p99']:.1f} | "
          f"{r['freezes_total']} ({r['media']['video_paused_hints']}) | {r['recv_kbps']['p50']:.0f} | {r['server']['cpu_pct']['p95']:.0f} | "
          f"{r['server_cpu_us_per_packet']['p50']:.1f} | {r['bottleneck']['first']} |")
PY
cat "$OUT/summary.md"
