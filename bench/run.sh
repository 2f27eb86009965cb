#!/usr/bin/env bash
# Side-by-side benchmark: horde (URL mode and scripted) against wrk, hey,
# vegeta, k6 and Locust FastHttpUser over HTTP/1.1, then against h2load and
# vegeta -h2c over HTTP/2 (TLS by ALPN and h2c), all hitting one nginx on
# 127.0.0.1. nginx is pinned to CPU 1, every load generator to CPU 0.
# Prints Markdown tables.
# Usage: bench/run.sh [-d SECONDS] [-r ROUNDS] [-c CONNS] [-p h1|h2|h1,h2]
set -euo pipefail

DUR=10 ROUNDS=2 CONNS=50 PROTOS=h1,h2
usage() { echo "usage: $0 [-d SECONDS] [-r ROUNDS] [-c CONNS] [-p h1|h2|h1,h2]" >&2; exit 2; }
while getopts "d:r:c:p:h" opt; do
	case "$opt" in
	d) DUR=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	c) CONNS=$OPTARG ;;
	p) PROTOS=$OPTARG ;;
	*) usage ;;
	esac
done
for v in "$DUR" "$ROUNDS" "$CONNS"; do [[ $v =~ ^[1-9][0-9]*$ ]] || usage; done
[[ $PROTOS =~ ^(h1|h2|h1,h2|h2,h1)$ ]] || usage

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "run.sh: $TIME missing: run bench/install.sh" >&2; exit 1; }
command -v nginx >/dev/null || { echo "run.sh: nginx missing: run bench/install.sh" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run.sh: python3 missing" >&2; exit 1; }
[ -x "$HORDE" ] || make -C "$ROOT" build >&2

TMP="$(mktemp -d /tmp/horde-bench.XXXXXX)"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
start_nginx "$((CONNS > 4096 ? CONNS : 4096))"

RESULTS="$TMP/results.tsv" # tool round rps p50ms p99ms rssKiB
: >"$RESULTS"

# measure NAME -- CMD...: runs CMD on CPU 0 under time -v; output in $TMP/NAME.out.
measure() {
	local name=$1
	shift 2
	"$TIME" -v -o "$TMP/$name.time" taskset -c 0 "$@" >"$TMP/$name.out" 2>&1 ||
		echo "run.sh: $name exited non-zero (output below)" >&2
}
rss_kib() { awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/$1.time" 2>/dev/null || true; }
record() { # tool round rps p50 p99
	local rss
	rss="$(rss_kib "$1")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${3:--}" "${4:--}" "${5:--}" "${rss:--}" >>"$RESULTS"
	if [ -z "${3:-}" ] || [ "$3" = "-" ]; then tail -20 "$TMP/$1.out" >&2; fi
}
# to_ms VALUE UNIT-SUFFIXED (wrk style: 310.00us, 1.20ms, 1.05s)
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }

run_wrk() {
	measure wrk -- wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "$URL/"
	local o="$TMP/wrk.out"
	record wrk "$1" "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$o")" \
		"$(to_ms "$(awk '$1=="50%" {print $2}' "$o")")" "$(to_ms "$(awk '$1=="99%" {print $2}' "$o")")"
}
# hey prints its percentiles as "50%% in 0.0003 secs" (a doubled %); both forms are accepted.
run_hey() {
	measure hey -- hey -z "${DUR}s" -c "$CONNS" "$URL/"
	local o="$TMP/hey.out"
	record hey "$1" "$(awk '/Requests\/sec:/ {printf "%.0f", $2}' "$o")" \
		"$(awk '($1=="50%" || $1=="50%%") && $2=="in" {printf "%.3f", $3*1000}' "$o")" \
		"$(awk '($1=="99%" || $1=="99%%") && $2=="in" {printf "%.3f", $3*1000}' "$o")"
}
run_vegeta() {
	echo "GET $URL/" >"$TMP/targets"
	measure vegeta -- vegeta attack -targets="$TMP/targets" -rate=0 -workers="$CONNS" \
		-max-workers="$CONNS" -duration="${DUR}s" -output="$TMP/vegeta.bin"
	vegeta report -type=json "$TMP/vegeta.bin" >"$TMP/vegeta.json" 2>>"$TMP/vegeta.out" || true
	# shellcheck disable=SC2046
	record vegeta "$1" $(python3 - "$TMP/vegeta.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    l = r["latencies"]
    print("%.0f %.3f %.3f" % (r["throughput"], l["50th"] / 1e6, l["99th"] / 1e6))
except Exception:
    print("- - -")
PY
)
}
run_k6() {
	measure k6 -- k6 run --no-usage-report --quiet --vus "$CONNS" --duration "${DUR}s" \
		--summary-trend-stats "med,p(99)" --summary-export "$TMP/k6.json" \
		-e BASE_URL="$URL" "$BENCH_DIR/k6.js"
	# shellcheck disable=SC2046
	record k6 "$1" $(python3 - "$TMP/k6.json" <<'PY'
import json, sys
try:
    m = json.load(open(sys.argv[1]))["metrics"]
    d = m["http_req_duration"]
    print("%.0f %.3f %.3f" % (m["http_reqs"]["rate"], d["med"], d["p(99)"]))
except Exception:
    print("- - -")
PY
)
}
run_locust() {
	measure locust -- locust -f "$BENCH_DIR/locustfile.py" --headless -u "$CONNS" -r "$CONNS" \
		-t "${DUR}s" --only-summary -H "$URL" --csv "$TMP/locust"
	# shellcheck disable=SC2046
	record locust "$1" $(python3 - "$TMP/locust_stats.csv" <<'PY'
import csv, sys
try:
    for row in csv.DictReader(open(sys.argv[1])):
        if row["Name"] == "Aggregated":
            print("%.0f %s %s" % (float(row["Requests/s"]), row["50%"], row["99%"]))
            break
    else:
        print("- - -")
except Exception:
    print("- - -")
PY
)
}
horde_record() { # name round
	# shellcheck disable=SC2046
	record "$1" "$2" $(python3 - "$TMP/$1.json" <<'PY'
import json, sys
try:
    t = json.load(open(sys.argv[1]))["totals"]
    l = t["latency_ms"]
    print("%.0f %.3f %.3f" % (t["rps"], l["p50"], l["p99"]))
except Exception:
    print("- - -")
PY
)
}
run_horde_url() {
	rm -f "$TMP/horde-url.json"
	measure horde-url -- "$HORDE" run "$URL/" -u "$CONNS" -r 1000 -t "${DUR}s" --headless \
		--print-interval 1h --json "$TMP/horde-url.json"
	horde_record horde-url "$1"
}
run_horde_script() {
	rm -f "$TMP/horde-script.json"
	measure horde-script -- "$HORDE" run "$BENCH_DIR/get.star" -H "$URL" -u "$CONNS" -r 1000 \
		-t "${DUR}s" --headless --print-interval 1h --json "$TMP/horde-script.json"
	horde_record horde-script "$1"
}

run_h2load() { # h2load-tls|h2load-h2c round URL
	measure "$1" -- h2load -t1 -c"$CONNS" -m1 -D"$DUR" "$3/"
	record "$1" "$2" "$(awk '/^finished in/ {gsub(",", "", $4); printf "%.0f", $4}' "$TMP/$1.out")"
}
run_vegeta_h2c() {
	echo "GET $H2C_URL/" >"$TMP/targets-h2c"
	measure vegeta-h2c -- vegeta attack -h2c -targets="$TMP/targets-h2c" -rate=0 -workers="$CONNS" \
		-max-workers="$CONNS" -duration="${DUR}s" -output="$TMP/vegeta-h2c.bin"
	vegeta report -type=json "$TMP/vegeta-h2c.bin" >"$TMP/vegeta-h2c.json" 2>>"$TMP/vegeta-h2c.out" || true
	# shellcheck disable=SC2046
	record vegeta-h2c "$1" $(python3 - "$TMP/vegeta-h2c.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    l = r["latencies"]
    print("%.0f %.3f %.3f" % (r["throughput"], l["50th"] / 1e6, l["99th"] / 1e6))
except Exception:
    print("- - -")
PY
)
}
run_horde_h2() { # name round URL script-or-empty [flags...]
	local name=$1 round=$2 url=$3 script=$4
	shift 4
	rm -f "$TMP/$name.json"
	if [ -n "$script" ]; then
		measure "$name" -- "$HORDE" run "$script" -H "$url" --http2=strict "$@" -u "$CONNS" -r 1000 \
			-t "${DUR}s" --headless --print-interval 1h --json "$TMP/$name.json"
	else
		measure "$name" -- "$HORDE" run "$url/" --http2=strict "$@" -u "$CONNS" -r 1000 \
			-t "${DUR}s" --headless --print-interval 1h --json "$TMP/$name.json"
	fi
	horde_record "$name" "$round"
}
run_h2load_tls() { run_h2load h2load-tls "$1" "$H2_URL"; }
run_h2load_h2c() { run_h2load h2load-h2c "$1" "$H2C_URL"; }
run_horde_url_tls() { run_horde_h2 horde-url-tls "$1" "$H2_URL" "" --insecure; }
run_horde_script_tls() { run_horde_h2 horde-script-tls "$1" "$H2_URL" "$BENCH_DIR/get.star" --insecure; }
run_horde_url_h2c() { run_horde_h2 horde-url-h2c "$1" "$H2C_URL" ""; }

TOOLS=(wrk hey vegeta k6 locust horde-url horde-script)
H2TOOLS=(h2load-tls horde-url-tls horde-script-tls h2load-h2c horde-url-h2c vegeta-h2c)
[[ $PROTOS == *h1* ]] || TOOLS=()
[[ $PROTOS == *h2* ]] || H2TOOLS=()
declare -A BIN=([wrk]=wrk [hey]=hey [vegeta]=vegeta [k6]=k6 [locust]=locust
	[horde-url]="$HORDE" [horde-script]="$HORDE")
declare -A FN=([wrk]=run_wrk [hey]=run_hey [vegeta]=run_vegeta [k6]=run_k6 [locust]=run_locust
	[horde-url]=run_horde_url [horde-script]=run_horde_script)
BIN+=([h2load-tls]=h2load [h2load-h2c]=h2load [vegeta-h2c]=vegeta
	[horde-url-tls]="$HORDE" [horde-script-tls]="$HORDE" [horde-url-h2c]="$HORDE")
FN+=([h2load-tls]=run_h2load_tls [h2load-h2c]=run_h2load_h2c [vegeta-h2c]=run_vegeta_h2c
	[horde-url-tls]=run_horde_url_tls [horde-script-tls]=run_horde_script_tls [horde-url-h2c]=run_horde_url_h2c)
for ((round = 1; round <= ROUNDS; round++)); do
	for t in "${TOOLS[@]}" "${H2TOOLS[@]}"; do
		if ! command -v "${BIN[$t]}" >/dev/null 2>&1; then
			((round == 1)) && printf '%s\t-\tnot installed\t-\t-\t-\n' "$t" >>"$RESULTS"
			continue
		fi
		echo "run.sh: round $round/$ROUNDS: $t (${DUR}s)" >&2
		"${FN[$t]}" "$round"
	done
done

cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
gov="$(go version 2>/dev/null | awk '{print $3}')"
echo
echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r), ${gov:-no go}; $(date -u +%F)."
echo "nginx $(nginx -v 2>&1 | sed 's|.*/||') on CPU 1; each generator on CPU 0; $CONNS connections/users, ${DUR}s per run."
echo "HTTP/2: h2load -t1 -c$CONNS -m1 and horde -u $CONNS (one stream at a time per connection), vegeta -h2c -workers $CONNS"
echo "(Go's HTTP/2 transport: its workers' streams on one connection); h2load reports no percentiles."
echo
h1=0
[[ $PROTOS == *h1* ]] && h1=1
awk -F'\t' -v conns="$CONNS" -v h1="$h1" '
function fmt(x) { return x }
{
	tool[NR] = $1; round[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5; rss[NR] = $6
	if ($3 ~ /^[0-9.]+$/) { sum[$1] += $3; n[$1]++ }
	if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 }
}
END {
	print "| tool | round | req/s | p50 ms | p99 ms | peak RSS MiB |"
	print "|---|---|---:|---:|---:|---:|"
	for (i = 1; i <= NR; i++) {
		m = (rss[i] ~ /^[0-9]+$/) ? sprintf("%.1f", rss[i] / 1024) : "-"
		printf "| %s | %s | %s | %s | %s | %s |\n", tool[i], round[i], rps[i], p50[i], p99[i], m
	}
	if (!h1) k = 0 # no HTTP/1.1 peers to compare
	s = n["horde-script"] ? sum["horde-script"] / n["horde-script"] : 0
	u = n["horde-url"] ? sum["horde-url"] / n["horde-url"] : 0
	target["wrk"] = "scripted >= 0.6, URL >= 0.8"; target["vegeta"] = ">= 2"
	target["k6"] = ">= 4"; target["locust"] = ">= 8"; target["hey"] = "-"
	if (k) {
		print ""
		print "| peer | peer mean req/s | horde scripted / peer | horde URL / peer | target (DESIGN.md 4) |"
		print "|---|---:|---:|---:|---|"
	}
	for (j = 1; j <= k; j++) {
		t = order[j]
		if (t ~ /^horde/ || t ~ /-(tls|h2c)$/) continue
		if (!n[t]) { printf "| %s | not installed | - | - | %s |\n", t, target[t]; continue }
		pm = sum[t] / n[t]
		printf "| %s | %.0f | %s | %s | %s |\n", t, pm, s ? sprintf("%.2f", s / pm) : "-", u ? sprintf("%.2f", u / pm) : "-", target[t]
	}
	if (!("h2load-tls" in seen) && !("h2load-h2c" in seen)) exit
	print ""
	print "| HTTP/2 | mean req/s | / h2load (same transport) | target (DESIGN.md 4) |"
	print "|---|---:|---:|---|"
	split("horde-url-tls h2load-tls;horde-script-tls h2load-tls;horde-url-h2c h2load-h2c;vegeta-h2c h2load-h2c;h2load-tls -;h2load-h2c -", rows, ";")
	for (j = 1; j in rows; j++) {
		split(rows[j], pair, " ")
		t = pair[1]; ref = pair[2]
		if (!(t in seen)) continue
		if (!n[t]) { printf "| %s | not installed | - | |\n", t; continue }
		m = sum[t] / n[t]
		ratio = (ref != "-" && n[ref]) ? sprintf("%.2f", m / (sum[ref] / n[ref])) : "-"
		printf "| %s | %.0f | %s | %s |\n", t, m, ratio, (t ~ /^horde/ ? ">= 0.5" : "-")
	}
}' "$RESULTS"
