#!/usr/bin/env bash
# The performance benchmarks: figures printed and written as JSON, never asserted.
#
#   deploy/scripts/bench.sh [stage] [--count N] [--rounds R]
#
# stage: one pipeline stage written with this project's AMQP client (consume, decode the
# CloudEvent, re-encode, publish with confirms, ack after confirm; 1 KiB events) against the
# raw C stage and the pika stage of ../shared/bench, alternating in the same run on the same
# broker, so the ratio means something on a noisy shared machine. Medians of R rounds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASELINES=${ITR_BENCH_BASELINES:-$ROOT/../shared/bench}
OUT_DIR=${ITR_BENCH_OUT:-$ROOT/bench-results}
COUNT=20000
ROUNDS=3
PIKA_COUNT=5000
what=stage

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        stage) what=stage; shift ;;
        --count) COUNT=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

BROKER="$ROOT/deploy/scripts/broker.sh"
bash "$BROKER" install
started=""
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    bash "$BROKER" start --name itr-bench --port 5672
    started=1
fi
cleanup() { [ -n "$started" ] && bash "$BROKER" stop --name itr-bench --purge || true; }
trap cleanup EXIT

echo "== building (release)"
(cd "$ROOT" && swift build -c release --product itr-bench 2>&1 | tail -1)
BIN=$(cd "$ROOT" && swift build -c release --show-bin-path)
cc -O2 -o /tmp/itr-raw-stage "$BASELINES/raw_stage.c" -lrabbitmq
VENV="$ROOT/.venv-test"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import pika" 2>/dev/null || "$VENV/bin/pip" install -q pika==1.3.2

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { grep -oE '[0-9]+ msg/s' | grep -oE '^[0-9]+'; }

mkdir -p "$OUT_DIR"
raw=(); swift=(); pika=()
echo "== stage benchmark: $ROUNDS rounds of $COUNT messages (pika: $PIKA_COUNT), alternating"
for r in $(seq 1 "$ROUNDS"); do
    c=$(/tmp/itr-raw-stage "$COUNT" 256 | rate); raw+=("$c")
    s=$("$BIN/itr-bench" stage --count "$COUNT" | rate); swift+=("$s")
    p=$(cd /tmp && "$VENV/bin/python" "$BASELINES/pika_stage.py" "$PIKA_COUNT" | rate); pika+=("$p")
    echo "round $r: raw C $c msg/s, swift $s msg/s, pika $p msg/s"
done
mr=$(printf '%s\n' "${raw[@]}" | median); ms=$(printf '%s\n' "${swift[@]}" | median); mp=$(printf '%s\n' "${pika[@]}" | median)
ratio=$(awk -v s="$ms" -v r="$mr" 'BEGIN {printf "%.2f", s/r}')
vs_pika=$(awk -v s="$ms" -v p="$mp" 'BEGIN {printf "%.1f", s/p}')
printf '\n%-28s %12s %10s\n' "stage (1 KiB, confirms)" "msg/s" "ratio"
printf '%-28s %12s %10s\n' "raw C (librabbitmq)" "$mr" "1.00"
printf '%-28s %12s %10s\n' "swift (this client)" "$ms" "$ratio"
printf '%-28s %12s %10s\n' "pika (Python)" "$mp" "$(awk -v p="$mp" -v r="$mr" 'BEGIN {printf "%.2f", p/r}')"
echo "target: swift/raw >= 0.80; swift is ${vs_pika}x pika"
cat >"$OUT_DIR/stage.json" <<JSON
{"benchmark":"stage","count":$COUNT,"rounds":$ROUNDS,"raw_c_msgs_per_s":$mr,"swift_msgs_per_s":$ms,"pika_msgs_per_s":$mp,"swift_over_raw":$ratio,"swift_over_pika":$vs_pika,
 "raw_c_rounds":[$(IFS=,; echo "${raw[*]}")],"swift_rounds":[$(IFS=,; echo "${swift[*]}")],"pika_rounds":[$(IFS=,; echo "${pika[*]}")]}
JSON
echo "written: $OUT_DIR/stage.json"
