#!/usr/bin/env bash
# Idle-user memory: resident memory per mostly idle user, horde against
# Locust FastHttpUser, in one run against one nginx on 127.0.0.1 (DESIGN.md
# §4: <= 8 KiB per user at 10,000 users). Each user GETs / once, then waits
# 30-60 s (bench/idle.star, bench/idle_locustfile.py). For each tool and each
# user count the generator runs alone on CPU 0 (nginx on CPU 1); once nginx
# has served one request per user, and SETTLE seconds later, the generator's
# VmRSS is read from /proc and the generator is stopped.
# Usage: bench/idle.sh [-u USERS] [-b BASE_USERS] [-r SPAWN_RATE] [-s SETTLE] [-m MAX_SECONDS]
set -euo pipefail

USERS=10000 BASE=100 RATE=1000 SETTLE=3 MAX=40
usage() {
	echo "usage: $0 [-u USERS] [-b BASE_USERS] [-r SPAWN_RATE] [-s SETTLE_SECONDS] [-m MAX_SECONDS]" >&2
	exit 2
}
while getopts "u:b:r:s:m:h" opt; do
	case "$opt" in
	u) USERS=$OPTARG ;;
	b) BASE=$OPTARG ;;
	r) RATE=$OPTARG ;;
	s) SETTLE=$OPTARG ;;
	m) MAX=$OPTARG ;;
	*) usage ;;
	esac
done
for v in "$USERS" "$BASE" "$RATE" "$SETTLE" "$MAX"; do [[ $v =~ ^[0-9]+$ ]] || usage; done
((BASE >= 1 && USERS > BASE && RATE >= 1 && MAX > SETTLE + 5)) || usage

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v curl >/dev/null || { echo "idle.sh: curl missing: run bench/install.sh" >&2; exit 1; }
[ -x "$HORDE" ] || make -C "$ROOT" build >&2

# One descriptor per user's connection, in the generator and in nginx (which
# wants an eighth more: see start_nginx).
need=$((USERS + USERS / 8 + 256))
if (($(ulimit -n) < need)); then
	ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if (($(ulimit -n) < need)); then
	echo "idle.sh: open-file limit $(ulimit -n) < $need: raise it (ulimit -Hn) or use -u" >&2
	exit 1
fi

TMP="$(mktemp -d /tmp/horde-idle.XXXXXX)"
GEN_PID=""
stop_gen() {
	[ -n "$GEN_PID" ] || return 0
	kill -TERM "$GEN_PID" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while kill -0 "$GEN_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	kill -KILL "$GEN_PID" 2>/dev/null || true
	wait "$GEN_PID" 2>/dev/null || true
	GEN_PID=""
}
trap 'stop_gen; bench_cleanup' EXIT
trap 'exit 130' INT TERM
start_nginx "$USERS"

RESULTS="$TMP/results.tsv" # tool users served spawn_s conns rss_kib hwm_kib
: >"$RESULTS"

status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || true; }

# idle TOOL USERS CMD...: runs CMD on CPU 0 and records its RSS once nginx
# has served USERS requests (each user's first) and SETTLE seconds passed.
idle() {
	local tool=$1 n=$2 base served=0 polls=0 t0 spawn="-" conns="-" rss hwm
	shift 2
	base="$(nginx_requests)"
	t0=$(date +%s.%N)
	taskset -c 0 "$@" >"$TMP/$tool-$n.out" 2>&1 &
	GEN_PID=$!
	echo "idle.sh: $tool, $n users (up to ${MAX}s)" >&2
	local deadline=$((SECONDS + MAX - SETTLE - 2))
	while kill -0 "$GEN_PID" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.25
		polls=$((polls + 1))
		# Every poll is one request too: served = requests - base - polls.
		served=$(($(nginx_requests) - base - polls))
		if ((served >= n)); then
			spawn="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
			break
		fi
	done
	if [ "$spawn" = "-" ]; then
		echo "idle.sh: $tool: $served of $n first requests served in time; RSS read anyway" >&2
		tail -5 "$TMP/$tool-$n.out" >&2 || true
	fi
	sleep "$SETTLE"
	rss="$(status_kib "$GEN_PID" VmRSS)"
	hwm="$(status_kib "$GEN_PID" VmHWM)"
	conns="$(nginx_requests active || echo -)"
	polls=$((polls + 1))
	stop_gen
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$n" "$served" "$spawn" "${conns:--}" "${rss:--}" "${hwm:--}" >>"$RESULTS"
}

run_horde() {
	idle horde "$1" "$HORDE" run "$BENCH_DIR/idle.star" -H "$URL" -u "$1" -r "$RATE" -t "${MAX}s" \
		--headless --print-interval 1h
}
run_locust() {
	idle locust "$1" locust -f "$BENCH_DIR/idle_locustfile.py" --headless -u "$1" -r "$RATE" \
		-t "${MAX}s" --only-summary -H "$URL" --loglevel WARNING
}

for tool in horde locust; do
	bin=$HORDE
	[ "$tool" = horde ] || bin=$tool
	if ! command -v "$bin" >/dev/null 2>&1; then
		printf '%s\t-\tnot installed\t-\t-\t-\t-\n' "$tool" >>"$RESULTS"
		continue
	fi
	"run_$tool" "$BASE"
	"run_$tool" "$USERS"
done

echo
echo "Idle memory: each user GETs / once, then waits 30-60 s; spawn rate ${RATE}/s; RSS read ${SETTLE}s after"
hv="$("$HORDE" --version 2>/dev/null | awk '{print $NF}')"
lv="$(locust --version 2>/dev/null | awk '{print $2}')"
# Debian's locust 2.12 prints an empty version.
[ -n "$lv" ] || lv="$(dpkg-query -W -f '${Version}' python3-locust 2>/dev/null || true)"
echo "nginx served every user's first request. Generator on CPU 0, nginx on CPU 1. horde ${hv:-?},"
echo "Locust ${lv:-?} FastHttpUser; $(nproc) CPUs, kernel $(uname -r); $(date -u +%F)."
echo
awk -F'\t' -v base="$BASE" -v users="$USERS" '
{
	tool[NR] = $1; n[NR] = $2; served[NR] = $3; spawn[NR] = $4; conns[NR] = $5; rss[NR] = $6; hwm[NR] = $7
	if ($6 ~ /^[0-9]+$/) R[$1, $2] = $6
	if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 }
}
function mib(x) { return x ~ /^[0-9]+$/ ? sprintf("%.1f", x / 1024) : "-" }
END {
	print "| tool | users | first GETs served | spawned in s | open conns | RSS MiB | peak RSS MiB | RSS / user KiB |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= NR; i++) {
		per = (rss[i] ~ /^[0-9]+$/ && n[i] > 0) ? sprintf("%.1f", rss[i] / n[i]) : "-"
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", tool[i], n[i], served[i], spawn[i], conns[i], mib(rss[i]), mib(hwm[i]), per
	}
	print ""
	printf "| tool | KiB / user at %d (whole RSS / users) | marginal KiB / user (%d to %d) | target (DESIGN.md 4) |\n", users, base, users
	print "|---|---:|---:|---|"
	for (j = 1; j <= k; j++) {
		t = order[j]
		if (!((t, users) in R)) { printf "| %s | - | - | |\n", t; continue }
		w[t] = R[t, users] / users
		m[t] = ((t, base) in R) ? (R[t, users] - R[t, base]) / (users - base) : -1
		marg = (m[t] >= 0) ? sprintf("%.1f", m[t]) : "-"
		target = (t == "horde") ? "<= 8 KiB whole RSS / users" : ""
		printf "| %s | %.1f | %s | %s |\n", t, w[t], marg, target
	}
	if (("horde" in w) && ("locust" in w) && w["horde"] > 0) {
		printf "\nLocust / horde: %.2f x whole RSS per user", w["locust"] / w["horde"]
		if (m["horde"] > 0 && m["locust"] >= 0) printf ", %.2f x marginal", m["locust"] / m["horde"]
		print "."
	}
}' "$RESULTS"
