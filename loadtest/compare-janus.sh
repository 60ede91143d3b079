#!/usr/bin/env bash
# Plenum against the Janus WebRTC Gateway (VideoRoom plugin, Debian's janus package) through the same scenarios:
# both servers on loopback pinned to CPU 0 (Plenum with one SFU worker), plenum-loadtest pinned to CPU 1; for each
# scenario Plenum runs first, then Janus, so both see about the same background load. Writes one JSON report
# per run and a side-by-side table (markdown) to OUT/comparison.md.
#
#   loadtest/compare-janus.sh [BIN_DIR=target/release] [OUT=janus-comparison] [DURATION=30s]
#
# SIMULCAST=on (environment) runs the video scenarios with three layers per publisher against both servers
# (`--simulcast on`; Janus gets rid_order "lmh" and a substream per tile); default off: one layer.
#
# Janus's CPU comes from /proc/<pid>/stat like Plenum's. Janus has no forwarded-packet counter outside its Admin
# API (off here), so "µs per packet" divides the server's CPU time in the steady phase by the RTP packets the
# subscribers received in it, for both servers alike; Plenum's own counter is shown beside it.
set -euo pipefail
BIN=${1:-target/release}
OUT=${2:-janus-comparison}
DURATION=${3:-30s}
command -v janus >/dev/null || { echo "janus not found: apt-get install janus" >&2; exit 1; }
SIMULCAST=${SIMULCAST:-off}
case "$SIMULCAST" in on|off) ;; *) echo "SIMULCAST must be on or off, not '$SIMULCAST'" >&2; exit 2;; esac
mkdir -p "$OUT"
rm -f "$OUT"/*.json
DATA=$(mktemp -d)
PORT=18080
JPORT=18188
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$DATA"
}
trap cleanup EXIT

# Janus gathers no ICE candidates on loopback: both servers and the load generator use the same non-loopback
# local address for media (janus-config picks it), so both see the same (in-machine) network path.
"$BIN/plenum-loadtest" janus-config "$DATA/janus" --ws-port "$JPORT" --rtp-ports 40000-44999 > "$DATA/janus-args"
IP=$(sed -n 's/.*ice_enforce_list = "\(.*\)".*/\1/p' "$DATA/janus/janus.jcfg")
echo "media address: $IP"
PLENUM_HTTP_ADDR=127.0.0.1:$PORT PLENUM_MEDIA_ADDR=$IP:52000 PLENUM_DATA_DIR="$DATA/plenum" PLENUM_WORKERS=1 \
  taskset -c 0 "$BIN/plenum" serve > "$OUT/plenum.log" 2>&1 &
PLENUM=$!
PIDS+=("$PLENUM")
# shellcheck disable=SC2046
taskset -c 0 janus $(cat "$DATA/janus-args") > "$OUT/janus.log" 2>&1 &
JANUS=$!
PIDS+=("$JANUS")
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$JPORT") 2>/dev/null && break
  sleep 0.2
done

run() {
  local name=$1; shift
  echo "==> plenum $name: $*"
  taskset -c 1 "$BIN/plenum-loadtest" run --pin 1 --quiet --url "http://127.0.0.1:$PORT" \
    --secret-file "$DATA/plenum/secret" --bind-ip "$IP" --server-pid "$PLENUM" --duration "$DURATION" --ramp 10 \
    --simulcast "$SIMULCAST" --json "$OUT/$name.plenum.json" "$@" | tee "$OUT/$name.plenum.txt" || true
  echo "==> janus $name: $*"
  taskset -c 1 "$BIN/plenum-loadtest" run --pin 1 --quiet --target janus --url "ws://127.0.0.1:$JPORT" \
    --bind-ip "$IP" --server-pid "$JANUS" --duration "$DURATION" --ramp 10 \
    --simulcast "$SIMULCAST" --json "$OUT/$name.janus.json" "$@" | tee "$OUT/$name.janus.txt" || true
}

run 1-meeting-1x5 --scenario meeting --rooms 1 --publishers 5
run 2-meeting-1x10 --scenario meeting --rooms 1 --publishers 10
run 3-webinar-1x50 --scenario webinar --rooms 1 --subscribers 50
run 4-audio-5x10 --scenario audio-only --rooms 5 --publishers 10 --speakers-switch 5s

python3 - "$OUT" <<'PY' > "$OUT/comparison.md"
import json, pathlib, sys

out = pathlib.Path(sys.argv[1])

def steady_us_per_received(r):
    """Server CPU time / RTP packets received by the subscribers, over the steady phase (same for both)."""
    c = r["config"]
    ramp_s = r["participants"] / c["ramp_per_s"]
    lo, hi = ramp_s + 2.0, ramp_s + c["duration_s"] + 0.5
    s = [x for x in r["timeline"] if lo <= x["t_s"] <= hi and x.get("server_cpu_s") is not None]
    if len(s) < 2 or s[-1]["rx_packets"] <= s[0]["rx_packets"]:
        return None
    return (s[-1]["server_cpu_s"] - s[0]["server_cpu_s"]) * 1e6 / (s[-1]["rx_packets"] - s[0]["rx_packets"])

def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)

print("| run | server | joined/all | join p50/p95 ms | first media p95 ms | loss % | e2e latency p50/p95/p99 ms "
      "| freezes | recv kbit/s p50 | server CPU p50/p95 % of a core | µs per packet received (steady) "
      "| µs per packet, Plenum's counter | load generator CPU p95 % | bottleneck |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
names = sorted({f.name.split(".")[0] for f in out.glob("*.json")})
for name in names:
    for server in ["plenum", "janus"]:
        f = out / f"{name}.{server}.json"
        if not f.exists():
            print(f"| {name[2:]} | {server} | run failed (no report) | | | | | | | | | | | |")
            continue
        r = json.loads(f.read_text())
        e, j, cpu = r["e2e_latency_ms"], r["join_ms"], r["server"]["cpu_pct"]
        w = r["server_cpu_us_per_packet"]
        counter = w["p50"] if server == "plenum" and w.get("count", 0) > 0 else None
        print(f"| {name[2:]} | {server} | {r['joined']}/{r['participants']} | {j['p50']:.0f}/{j['p95']:.0f} | "
              f"{r['first_media_ms']['p95']:.0f} | {r['loss_pct_total']:.3f} | "
              f"{e['p50']:.1f}/{e['p95']:.1f}/{e['p99']:.1f} | {r['freezes_total']} | {r['recv_kbps']['p50']:.0f} | "
              f"{cpu['p50']:.0f}/{cpu['p95']:.0f} | {fmt(steady_us_per_received(r), '.1f')} | {fmt(counter, '.1f')} | "
              f"{r['client']['cpu_pct']['p95']:.0f} | {r['bottleneck']['first']} |")
PY
cat "$OUT/comparison.md"
