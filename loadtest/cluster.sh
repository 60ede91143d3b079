#!/usr/bin/env bash
# Load test across a cluster on one machine: a private redis-server, two SFU nodes (`plenum sfu`, one worker each)
# and two signaling nodes (`plenum serve --role signaling`), all pinned to CPU 0; plenum-loadtest pinned to CPU 1
# joins through both signaling nodes (`--url A,B`: every room spans both). Writes the loadtest's JSON/text report
# and a per-process table (CPU seconds, forwarded packets, rooms placed per SFU node) to OUT/cluster.md.
#
#   loadtest/cluster.sh [BIN_DIR=target/release] [OUT=cluster-results] [DURATION=20s] [loadtest args...]
#   default scenario: --scenario meeting --rooms 4 --publishers 3 --subscribers 2
set -euo pipefail
BIN=${1:-target/release}
OUT=${2:-cluster-results}
DURATION=${3:-20s}
shift $(( $# < 3 ? $# : 3 ))
SCENARIO=("$@")
[ ${#SCENARIO[@]} -gt 0 ] || SCENARIO=(--scenario meeting --rooms 4 --publishers 3 --subscribers 2)
command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d)
SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
export PLENUM_SECRET=$SECRET
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

REDIS_PORT=16390
taskset -c 0 redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  > "$OUT/redis.log" 2>&1 &
PIDS+=($!)
REDIS=redis://127.0.0.1:$REDIS_PORT/
for _ in $(seq 50); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break; sleep 0.1; done

wait_http() { for _ in $(seq 100); do curl -sf "http://$1/healthz" >/dev/null && return 0; sleep 0.2; done; return 1; }

SFU_ADDRS=(127.0.0.1:18181 127.0.0.1:18182)
SIG_ADDRS=(127.0.0.1:18081 127.0.0.1:18082)
for i in 0 1; do
  taskset -c 0 "$BIN/plenum" sfu --redis-url "$REDIS" --http-addr "${SFU_ADDRS[$i]}" \
    --media-addr "127.0.0.1:$((52100 + i * 10))" --workers 1 > "$OUT/sfu-$((i + 1)).log" 2>&1 &
  PIDS+=($!); SFU_PIDS[$i]=$!
done
for i in 0 1; do
  taskset -c 0 "$BIN/plenum" serve --redis-url "$REDIS" --role signaling --http-addr "${SIG_ADDRS[$i]}" \
    --data-dir "$WORK/sig-$i" > "$OUT/signaling-$((i + 1)).log" 2>&1 &
  PIDS+=($!); SIG_PIDS[$i]=$!
done
for a in "${SFU_ADDRS[@]}" "${SIG_ADDRS[@]}"; do wait_http "$a" || { echo "$a did not come up" >&2; exit 1; }; done

cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }   # utime + stime, USER_HZ = 100
fwd() { curl -sf "http://$1/metrics" | awk '/^plenum_sfu_rtp_packets_forwarded_total/ { s += $2 } END { print s + 0 }'; }
placed() { curl -sf "http://$1/metrics" | awk -v n="$2" '/^plenum_cluster_placements_total/ && $0 ~ "node=\"" n "\"" && /outcome="new"/ { s += $2 } END { print s + 0 }'; }

declare -A CPU0 FWD0
for i in 0 1; do CPU0[sfu$i]=$(cpu_s "${SFU_PIDS[$i]}"); CPU0[sig$i]=$(cpu_s "${SIG_PIDS[$i]}"); FWD0[$i]=$(fwd "${SFU_ADDRS[$i]}"); done
T0=$(date +%s.%N)
set +e
taskset -c 1 "$BIN/plenum-loadtest" run --pin 1 --quiet --url "http://${SIG_ADDRS[0]},http://${SIG_ADDRS[1]}" \
  --secret "$SECRET" --server-pid "${SIG_PIDS[0]}" --duration "$DURATION" --ramp 10 --json "$OUT/cluster.json" \
  "${SCENARIO[@]}" | tee "$OUT/cluster.txt"
STATUS=${PIPESTATUS[0]}
set -e
T1=$(date +%s.%N)

{
  echo "Scenario: ${SCENARIO[*]}, duration $DURATION; wall time of the run $(printf '%.1f' "$(echo "$T1 - $T0" | bc)") s"
  echo
  echo "| process | CPU s during the run | % of a core | RTP packets forwarded | rooms placed (new) |"
  echo "|---|---|---|---|---|"
  WALL=$(echo "$T1 - $T0" | bc)
  for i in 0 1; do
    id=$(curl -sf "http://${SFU_ADDRS[$i]}/metrics" | grep -o 'node="sfu-[0-9]*"' | head -1 | cut -d'"' -f2)
    c=$(echo "$(cpu_s "${SFU_PIDS[$i]}") - ${CPU0[sfu$i]}" | bc)
    f=$(( $(fwd "${SFU_ADDRS[$i]}") - ${FWD0[$i]} ))
    p=$(( $(placed "${SIG_ADDRS[0]}" "$id") + $(placed "${SIG_ADDRS[1]}" "$id") ))
    echo "| plenum sfu ($id) | $c | $(printf '%.0f' "$(echo "100 * $c / $WALL" | bc -l)") | $f | $p |"
  done
  for i in 0 1; do
    c=$(echo "$(cpu_s "${SIG_PIDS[$i]}") - ${CPU0[sig$i]}" | bc)
    echo "| plenum serve --role signaling ($((i + 1))) | $c | $(printf '%.0f' "$(echo "100 * $c / $WALL" | bc -l)") | – | – |"
  done
} > "$OUT/cluster.md"
cat "$OUT/cluster.md"
exit "$STATUS"
