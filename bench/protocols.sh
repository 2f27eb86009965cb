#!/usr/bin/env bash
# Protocol benchmark: gRPC unary calls and WebSocket round trips against
# `horde target` (pinned to CPU 1), each generator on CPU 0, side by side
# in one run:
#   gRPC: horde (bench/grpc.star), ghz (if installed), and a plain grpc-go
#         client loop (bench/protoref) — DESIGN.md 4: horde >= 0.8 x each;
#   WebSocket: horde (bench/ws.star) and a minimal gorilla client loop.
# Every generator has -c connections (one per user or worker). Prints
# Markdown tables. Usage: bench/protocols.sh [-d SECONDS] [-r ROUNDS] [-c CONNS]
set -euo pipefail

DUR=10 ROUNDS=2 CONNS=50
usage() { echo "usage: $0 [-d SECONDS] [-r ROUNDS] [-c CONNS]" >&2; exit 2; }
while getopts "d:r:c:h" opt; do
	case "$opt" in
	d) DUR=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	c) CONNS=$OPTARG ;;
	*) usage ;;
	esac
done
for v in "$DUR" "$ROUNDS" "$CONNS"; do [[ $v =~ ^[1-9][0-9]*$ ]] || usage; done

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -x "$HORDE" ] || make -C "$ROOT" build >&2
TMP="$(mktemp -d /tmp/horde-bench-proto.XXXXXX)"
TARGET_PID=""
cleanup() {
	if [ -n "$TARGET_PID" ]; then
		kill "$TARGET_PID" 2>/dev/null || true
		wait "$TARGET_PID" 2>/dev/null || true
	fi
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$ROOT" && go build -o "$TMP/protoref" ./bench/protoref)
HTTP_PORT="$(free_port)"
GRPC_PORT="$(free_port)"
taskset -c 1 "$HORDE" target --addr "127.0.0.1:$HTTP_PORT" --grpc-addr "127.0.0.1:$GRPC_PORT" -L warn \
	>"$TMP/target.log" 2>&1 &
TARGET_PID=$!
deadline=$((SECONDS + 10))
until (exec 3<>"/dev/tcp/127.0.0.1/$GRPC_PORT") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; do
	if ((SECONDS > deadline)) || ! kill -0 "$TARGET_PID" 2>/dev/null; then
		echo "protocols.sh: horde target did not start:" >&2
		cat "$TMP/target.log" >&2
		exit 1
	fi
	sleep 0.1
done

RESULTS="$TMP/results.tsv" # tool round rps p50ms p99ms
: >"$RESULTS"
on_cpu0() { taskset -c 0 "$@"; }
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${3:--}" "${4:--}" "${5:--}" >>"$RESULTS"; }

# rps_of KIND FILE: "rps p50 p99" from a result file: horde's --json
# (the row of the measured call), ghz's JSON report, or protoref's line.
rps_of() {
	python3 - "$1" "$2" <<'PY'
import json, sys
kind, path = sys.argv[1], sys.argv[2]
try:
    j = json.load(open(path))
    if kind == "horde":
        e = [e for e in j["endpoints"] if e["name"] in ("/horde.target.v1.Target/Echo", "echo")][0]
        l = e["latency_ms"]
        print("%.0f %.3f %.3f" % (e["rps"], l["p50"], l["p99"]))
    elif kind == "ghz":
        d = {x["percentage"]: x["latency"] for x in j.get("latencyDistribution") or []}
        print("%.0f %.3f %.3f" % (j["rps"], d.get(50, 0) / 1e6, d.get(99, 0) / 1e6))
    else:
        print("%.0f %.3f %.3f" % (j["rps"], j["p50_ms"], j["p99_ms"]))
except Exception:
    print("- - -")
PY
}

run_horde() { # name round script port
	rm -f "$TMP/$1.json"
	on_cpu0 "$HORDE" run "$BENCH_DIR/$3" -H "http://127.0.0.1:$4" -u "$CONNS" -r 1000 -t "${DUR}s" \
		--headless --print-interval 1h --json "$TMP/$1.json" >"$TMP/$1.out" 2>&1 ||
		{ echo "protocols.sh: $1 exited non-zero:" >&2; tail -5 "$TMP/$1.out" >&2; }
	# shellcheck disable=SC2046
	record "$1" "$2" $(rps_of horde "$TMP/$1.json")
}
run_ghz() { # round
	# The service by reflection, as bench/grpc.star has it (ghz's .proto
	# parser predates proto3 optional fields, which target.proto has).
	on_cpu0 ghz --insecure --call horde.target.v1.Target/Echo -d '{"text":"hello"}' -c "$CONNS" --connections "$CONNS" \
		-z "${DUR}s" -O json -o "$TMP/ghz.json" "127.0.0.1:$GRPC_PORT" >"$TMP/ghz.out" 2>&1 ||
		{ echo "protocols.sh: ghz exited non-zero:" >&2; tail -5 "$TMP/ghz.out" >&2; }
	# shellcheck disable=SC2046
	record ghz "$1" $(rps_of ghz "$TMP/ghz.json")
}
run_ref() { # name round mode args...
	local name=$1 round=$2
	shift 2
	on_cpu0 "$TMP/protoref" "$@" -c "$CONNS" -d "${DUR}s" >"$TMP/$name.json" 2>"$TMP/$name.out" ||
		{ echo "protocols.sh: $name exited non-zero:" >&2; tail -5 "$TMP/$name.out" >&2; }
	# shellcheck disable=SC2046
	record "$name" "$round" $(rps_of ref "$TMP/$name.json")
}

for ((round = 1; round <= ROUNDS; round++)); do
	echo "protocols.sh: round $round/$ROUNDS (${DUR}s per tool)" >&2
	run_ref grpc-go-loop "$round" grpc -addr "127.0.0.1:$GRPC_PORT"
	if command -v ghz >/dev/null 2>&1; then run_ghz "$round"; elif ((round == 1)); then record ghz 1 "not installed"; fi
	run_horde horde-grpc "$round" grpc.star "$GRPC_PORT"
	run_ref gorilla-loop "$round" ws -url "ws://127.0.0.1:$HTTP_PORT/ws/echo"
	run_horde horde-ws "$round" ws.star "$HTTP_PORT"
done

cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo
echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r), $(go version | awk '{print $3}'); $(date -u +%F)."
echo "horde target (gRPC and WebSocket) on CPU 1; each generator on CPU 0; $CONNS connections, ${DUR}s per run."
echo "gRPC: unary Echo {\"text\": \"hello\"}; WebSocket: a 5-byte text message and its echo (a round trip)."
echo
awk -F'\t' '
{
	tool[NR] = $1; round[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5
	if ($3 ~ /^[0-9.]+$/) { sum[$1] += $3; n[$1]++ }
}
function mean(t) { return n[t] ? sum[t] / n[t] : 0 }
function ratio(a, b) { return (mean(a) && mean(b)) ? sprintf("%.2f", mean(a) / mean(b)) : "-" }
END {
	print "| tool | round | calls/s | p50 ms | p99 ms |"
	print "|---|---|---:|---:|---:|"
	for (i = 1; i <= NR; i++) printf "| %s | %s | %s | %s | %s |\n", tool[i], round[i], rps[i], p50[i], p99[i]
	print ""
	print "| horde / reference | mean calls/s | ratio | target (DESIGN.md 4) |"
	print "|---|---:|---:|---|"
	printf "| horde gRPC / grpc-go loop | %.0f / %.0f | %s | >= 0.8 |\n", mean("horde-grpc"), mean("grpc-go-loop"), ratio("horde-grpc", "grpc-go-loop")
	printf "| horde gRPC / ghz | %.0f / %.0f | %s | >= 0.8 |\n", mean("horde-grpc"), mean("ghz"), ratio("horde-grpc", "ghz")
	printf "| horde WebSocket / gorilla loop | %.0f / %.0f | %s | - |\n", mean("horde-ws"), mean("gorilla-loop"), ratio("horde-ws", "gorilla-loop")
}' "$RESULTS"
