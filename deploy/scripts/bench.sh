#!/usr/bin/env bash
# The performance benchmarks: figures printed and written as JSON, never asserted.
#
#   deploy/scripts/bench.sh [all|stage|pipeline|pipeline-postgres|pipeline-postgres-2|backlog|router-scale|http|classifier] [options]
#
# No argument (= all) runs every benchmark below, prints one table and writes
# bench-results/*.json (one file per benchmark, plus summary.json).
#
#   stage         one pipeline stage written with this project's AMQP client (consume, decode the
#                 CloudEvent, re-encode, publish with confirms, ack after confirm; 1 KiB events)
#                 against the raw C stage and the pika stage of ../shared/bench, alternating in the
#                 same run on the same broker; medians of R rounds. These are the baselines the
#                 pipeline figure is compared with.
#   pipeline      the four services as separate processes (release builds, fresh vhost, own DATA_DIR
#                 each): saturation reports/s to the last itr.ticket.assigned; latency report ->
#                 itr.ticket.classified at 50 % of that rate, paced by schedule (HdrHistogram);
#                 resident memory of each service at steady state and its peak (VmHWM). Saturation is reported twice:
#                 reports/s, and pipeline events/s (events the services published on itr.events,
#                 as the bench's observer sees them), each with its ratio to the raw C and pika
#                 stages; the ≥ 0.3x raw C target is judged on reports/s (the issue's "three
#                 broker hops plus storage per event": one report's trip), events/s is shown beside.
#   pipeline-postgres  the same with every service storing in PostgreSQL (a database of the
#                 stage's own on the postgres.sh cluster itr-bench, 127.0.0.1:5452, started and
#                 stopped here when it is not running), printed beside the SQLite figures
#   pipeline-postgres-2  the same on PostgreSQL with two instances of each service (itr-bench
#                 pipeline --instances 2: <product>-1 and <product>-2, each with ITR_INSTANCE,
#                 HTTP port and DATA_DIR of its own, on one database and one queue per service, as
#                 run.sh's ha profile); printed beside the one-instance PostgreSQL figures, memory
#                 summed over a service's two instances
#   backlog       resident memory of each service while a backlog of 100,000 reports drains.
#   router-scale  the router's per-event cost with 10,000 and 1,000,000 stored tickets (seeded by
#                 SQL in the router's schema); the SLA scheduler with 100,000 open clocks.
#   http          intake's POST /v1/reports from 127.0.0.1: single reports and batches of 50.
#   classifier    the service-type classifier in one process (no broker): the shipped model's
#                 accuracy on the held-out eval split, the outside set and with whole families held
#                 out; the previous release's keyword rules against the shipped rules + model; model
#                 load time, memory and µs per report.
#
# Options: --count N (stage messages, 20000) --rounds R (stage rounds, 3)
#          --reports N (pipeline saturation reports, 20000) --seconds S (latency run, 20)
#          --backlog N (100000) --stored A,B (10000,1000000) --clocks N (100000)
#          --broker-name NODE (the broker.sh node serving 127.0.0.1:5672; found when not given)
#          --no-build (use the release binaries as they are; ITR_BENCH_BIN=DIR to use others)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASELINES=${ITR_BENCH_BASELINES:-$ROOT/../shared/bench}
OUT_DIR=${ITR_BENCH_OUT:-$ROOT/bench-results}
COUNT=20000
ROUNDS=3
PIKA_COUNT=5000
REPORTS=20000
SECONDS_LATENCY=20
BACKLOG=100000
STORED=10000,1000000
CLOCKS=100000
NODE=${ITR_BROKER_NAME:-}
BUILD=1
what=all

usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; }  # the comment above
while [ $# -gt 0 ]; do
    case "$1" in
        all|stage|pipeline|pipeline-postgres|pipeline-postgres-2|backlog|router-scale|http|classifier) what=$1; shift ;;
        --count) COUNT=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --reports) REPORTS=$2; shift 2 ;;
        --seconds) SECONDS_LATENCY=$2; shift 2 ;;
        --backlog) BACKLOG=$2; shift 2 ;;
        --stored) STORED=$2; shift 2 ;;
        --clocks) CLOCKS=$2; shift 2 ;;
        --broker-name) NODE=$2; shift 2 ;;
        --no-build) BUILD=""; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
wants() { [ "$what" = all ] || [ "$what" = "$1" ]; }

BROKER="$ROOT/deploy/scripts/broker.sh"
started=""
if [ "$what" != classifier ]; then  # the classifier benchmark alone needs no broker
    bash "$BROKER" install
    if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
        NODE=itr-bench
        bash "$BROKER" start --name itr-bench --port 5672
        started=1
    fi
    if [ -z "$NODE" ]; then
        # The broker.sh node that serves 5672 (vhosts are made with its rabbitmqctl).
        for dir in /tmp/itr-broker-*; do
            [ -d "$dir" ] || continue
            name=${dir#/tmp/itr-broker-}
            if bash "$BROKER" status --name "$name" 2>/dev/null | grep -q '127.0.0.1:5672/'; then NODE=$name; break; fi
        done
    fi
    [ -n "$NODE" ] || { echo "bench.sh: cannot tell which broker.sh node serves 5672; pass --broker-name" >&2; exit 2; }
fi
PIDFILE=$(mktemp /tmp/itr-bench-pids.XXXXXX)
export ITR_BENCH_PIDFILE=$PIDFILE
cleanup() {
    # Services a benchmark that died left behind (only the pids it recorded, only if still ours).
    while read -r pid; do
        if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] && tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q '^DATA_DIR=/tmp/itr-bench-'; then
            kill "$pid" 2>/dev/null || true
        fi
    done <"$PIDFILE"
    rm -f "$PIDFILE"
    if [ -n "$started" ]; then bash "$BROKER" stop --name itr-bench --purge || true; fi
}
trap cleanup EXIT

# ITR_BENCH_BIN (with --no-build) runs other binaries, e.g. a debug build while changing the harness.
BIN=${ITR_BENCH_BIN:-$(cd "$ROOT" && swift build -c release --show-bin-path)}
if [ -n "$BUILD" ]; then
    echo "== building (release)"
    if [ "$what" = stage ] || [ "$what" = classifier ]; then
        (cd "$ROOT" && swift build -c release --product itr-bench 2>&1 | tail -1)
    else
        for product in itr-bench intake itr-router ltc-extractor ipd-feedback; do
            (cd "$ROOT" && swift build -c release --product "$product" 2>&1 | tail -1)
        done
    fi
fi
mkdir -p "$OUT_DIR"
BENCH=("$BIN/itr-bench")
COMMON=(--bin "$BIN" --config "$ROOT/deploy/config" --broker-script "$BROKER" --broker-name "$NODE")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { grep -oE '[0-9]+ msg/s' | grep -oE '^[0-9]+'; }

if wants stage || wants pipeline; then
    cc -O2 -o /tmp/itr-raw-stage "$BASELINES/raw_stage.c" -lrabbitmq
    VENV="$ROOT/.venv-test"
    if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
    "$VENV/bin/python" -c "import pika" 2>/dev/null || "$VENV/bin/pip" install -q pika==1.3.2
    raw=(); swift=(); pika=()
    echo "== stage benchmark: $ROUNDS rounds of $COUNT messages (pika: $PIKA_COUNT), alternating"
    for r in $(seq 1 "$ROUNDS"); do
        c=$(/tmp/itr-raw-stage "$COUNT" 256 | rate); raw+=("$c")
        s=$("${BENCH[@]}" stage --count "$COUNT" | rate); swift+=("$s")
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
fi

run_bench() {  # name, then itr-bench arguments
    local name=$1; shift
    echo "== $name"
    (cd "$ROOT" && "${BENCH[@]}" "$@" "${COMMON[@]}" --json "$OUT_DIR/$name.json") || echo "bench.sh: $name failed" >&2
}
wants pipeline && run_bench pipeline pipeline --count "$REPORTS" --seconds "$SECONDS_LATENCY"
if wants pipeline-postgres || wants pipeline-postgres-2; then
    POSTGRES="$ROOT/deploy/scripts/postgres.sh"
    pg_started=""
    if ! bash "$POSTGRES" status --name itr-bench >/dev/null 2>&1; then
        bash "$POSTGRES" install
        bash "$POSTGRES" start --name itr-bench --port 5452
        pg_started=1
    fi
    wants pipeline-postgres &&
        run_bench pipeline-postgres pipeline --count "$REPORTS" --seconds "$SECONDS_LATENCY" --postgres itr-bench
    wants pipeline-postgres-2 &&
        run_bench pipeline-postgres-2 pipeline --count "$REPORTS" --seconds "$SECONDS_LATENCY" --postgres itr-bench --instances 2
    if [ -n "$pg_started" ]; then bash "$POSTGRES" stop --name itr-bench --purge || true; fi
fi
wants backlog && run_bench backlog backlog --count "$BACKLOG"
wants router-scale && run_bench router-scale router-scale --stored "$STORED" --clocks "$CLOCKS"
wants http && run_bench http http
wants classifier && run_bench classifier classifier

# One table over whatever this run (or an earlier one) wrote.
python3 - "$OUT_DIR" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    try:
        return json.load(open(os.path.join(out, name + ".json")))
    except (OSError, ValueError):
        return None
stage, pipe, backlog, scale, http, clf = (load(n) for n in ("stage", "pipeline", "backlog", "router-scale", "http", "classifier"))
pgpipe = load("pipeline-postgres")
pgpipe2 = load("pipeline-postgres-2")
rows = []
def row(what, value, target="", verdict=""):
    rows.append((what, value, target, verdict))
def ok(b):
    return "met" if b else "MISSED"
if stage:
    row("raw C stage (librabbitmq)", f"{stage['raw_c_msgs_per_s']:,} msg/s")
    row("pika stage (Python)", f"{stage['pika_msgs_per_s']:,} msg/s")
    row("swift stage (this client)", f"{stage['swift_msgs_per_s']:,} msg/s", "≥ 0.80x raw", ok(stage['swift_over_raw'] >= 0.8))
if pipe:
    # Two figures, each against the one-hop stages (msg/s = events consumed and re-published
    # per second by one stage): reports/s (a report = a ticket opened, classified and assigned,
    # plus what follows from it), and pipeline events/s (every event the services published on
    # itr.events, as observed). The target (0.3x raw C for "three broker hops plus storage per
    # event") is judged on the first: one report's trip through the loop is the event it means;
    # counting every published event would flatter the pipeline about 4x.
    rps = pipe.get("reportsPerSecond", pipe.get("eventsPerSecond", 0))
    eps = pipe.get("pipelineEventsPerSecond")
    def vs(x):
        return f" = {x / stage['raw_c_msgs_per_s']:.2f}x raw C, {x / stage['pika_msgs_per_s']:.1f}x pika" if stage else ""
    row("pipeline saturation, reports", f"{rps:,.0f} reports/s{vs(rps)}",
        "≥ 0.3x raw C", ok(rps / stage["raw_c_msgs_per_s"] >= 0.3) if stage else "")
    if eps is not None:
        per = pipe["pipelineEvents"] / pipe["reports"]
        row("pipeline saturation, events", f"{eps:,.0f} events/s ({per:.1f} per report){vs(eps)}")
    lat = pipe["latency"]
    row("report→classified @50 %", f"p50 {lat['p50Ms']:.1f} / p99 {lat['p99Ms']:.1f} / p99.9 {lat['p999Ms']:.1f} ms at {lat['ratePerSecond']:,.0f}/s",
        "p99 < 25 ms", ok(lat["p99Ms"] < 25))
    for p, v in sorted(pipe["memorySteadyMiB"].items()):
        row(f"RSS steady {p}", f"{v:.1f} MiB", "< 64 MiB", ok(v < 64))
def peak_memory(label, run):
    # VmHWM of each service, summed over its instances; the sum of the four beside.
    peak = run.get("memoryPeakMiB") or {}
    if peak:
        each = " / ".join(f"{p} {v:.0f}" for p, v in sorted(peak.items()))
        row(f"RSS peak {label}", f"{each}; total {sum(peak.values()):.0f} MiB")
if pipe:
    peak_memory("SQLite", pipe)
def pipeline_rows(label, run, base, base_label):
    # Saturation (with its ratio to `base`), latency and peak memory of a further pipeline run.
    rps = run["reportsPerSecond"]
    beside = f" ({rps / base['reportsPerSecond']:.2f}x {base_label})" if base and base.get("reportsPerSecond") else ""
    row(f"pipeline on {label}, reports", f"{rps:,.0f} reports/s{beside}")
    lat = run["latency"]
    row(f"report→classified on {label}", f"p50 {lat['p50Ms']:.1f} / p99 {lat['p99Ms']:.1f} / p99.9 {lat['p999Ms']:.1f} ms at {lat['ratePerSecond']:,.0f}/s")
    peak_memory(label, run)
if pgpipe:
    pipeline_rows("PostgreSQL", pgpipe, pipe, "SQLite's")
if pgpipe2:
    pipeline_rows("PostgreSQL, 2 instances", pgpipe2, pgpipe, "one instance's")
if backlog:
    for p, v in sorted(backlog["memoryPeakMiB"].items()):
        after = backlog["memoryAfterMiB"].get(p, 0)
        row(f"RSS backlog {backlog['reports']:,} {p}", f"peak {v:.1f}, after {after:.1f} MiB", "peak < 64 MiB", ok(v < 64))
    left = {q: n for q, n in backlog.get("left", {}).items() if n}
    note = f"; NOT drained 10 min later: {left}" if backlog.get("queuesDrained") is False else ""
    row("backlog drain", f"{backlog['drainEventsPerSecond']:,.0f} reports/s to the last assignment{note}")
if scale:
    for s in scale["sizes"]:
        row(f"router @ {s['storedTickets']:,} stored", f"{s['wallMicrosPerEvent']:.0f} µs/event wall, {s['cpuMicrosPerEvent']:.0f} µs CPU")
    if scale.get("ratioLargestToSmallest"):
        r = scale["ratioLargestToSmallest"]
        row("router cost largest/smallest", f"{r:.2f}x", "≤ 1.2x", ok(r <= 1.2))
    sch = scale.get("scheduler")
    if sch:
        row(f"SLA scheduler, {sch['openClocks']:,} open clocks", f"idle {sch['idleCPUPercent']:.1f} % CPU; {sch['fired']} due in {sch['fireSeconds']:.2f} s")
if http:
    for key in ("single", "batch"):
        r = http[key]
        row(f"HTTP intake {r['mode']}", f"{r['requestsPerSecond']:,.0f} req/s ({r['reportsPerSecond']:,.0f} reports/s), p50 {r['latency']['p50Ms']:.1f} / p99 {r['latency']['p99Ms']:.1f} ms")
if clf:
    def accuracy(f):
        langs = ", ".join(f"{k} {v * 100:.1f}" for k, v in sorted(f["languages"].items()))
        return f"{f['accuracy'] * 100:.1f} % of {f['reports']} ({langs}); lowest type {f['lowestRecall'] * 100:.1f} %"
    for key, what in (("heldOut", "eval split"), ("outside", "outside set")):
        f = clf[key]
        row(f"classifier, {what}", accuracy(f), "≥ 95 %, types ≥ 90 %", ok(f["accuracy"] >= 0.95 and f["lowestRecall"] >= 0.9))
    row("classifier, families held out", accuracy(clf["familyHeldOut"]), "(estimate, printed beside)", "-")
    before, after = clf["keywordRules"], clf["rulesAndModel"]
    row("keyword rules → rules + model", f"eval {before['eval']['accuracy'] * 100:.1f} → {after['eval']['accuracy'] * 100:.1f} %, "
        f"outside {before['outside']['accuracy'] * 100:.1f} → {after['outside']['accuracy'] * 100:.1f} %")
    sp = clf["speed"]
    for key, what in (("predict", "model"), ("classify", "rules + model")):
        r = sp[key]
        row(f"classifier per report, {what}", f"mean {r['meanMicros']:.1f} / p50 {r['p50Micros']:.1f} / p99 {r['p99Micros']:.1f} µs", "≤ 50 µs",
            f"mean {ok(r['meanMicros'] <= 50)}, p99 {ok(r['p99Micros'] <= 50)}")
    row("classifier model load", f"{sp['loadMillisMedian']:.0f} ms", "< 1 s", ok(sp["loadMillisMedian"] < 1000))
    if sp.get("rssBeforeLoadMiB") is not None and sp.get("rssAfterLoadMiB") is not None:
        resident = sp["rssAfterLoadMiB"] - sp["rssBeforeLoadMiB"]
        row("classifier model memory", f"{resident:.1f} MiB resident ({sp['weightMiB']:.1f} MiB of weights)", "< 10 MiB", ok(resident < 10))
w = max(len(r[0]) for r in rows) if rows else 10
v = max(len(r[1]) for r in rows) if rows else 10
print()
for r in rows:
    print(f"{r[0]:<{w}}  {r[1]:<{v}}  {r[2]:<12} {r[3]}")
json.dump({"rows": [dict(zip(("what", "value", "target", "verdict"), r)) for r in rows]},
          open(os.path.join(out, "summary.json"), "w"), ensure_ascii=False, indent=1)
print(f"\nwritten: {out}/*.json")
PY
