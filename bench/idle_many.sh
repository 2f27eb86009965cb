#!/usr/bin/env bash
# Idle-user memory past one destination's ephemeral ports: runs BIN (a horde
# binary) with bench/idle.star against the nginx of bench/idle_nginx.sh DIR
# (users spread over its ports), waits until nginx has served one request per
# user (WAIT=conns: until it holds one open connection per user, for a ramp
# longer than the 30 s wait, when early users' second requests would count),
# then reads VmRSS, RssAnon and RssFile of the horde process and its children
# (--processes) 3 s and 15 s later. Prints one tab-separated line per reading:
# label users served spawn_s settle_s processes rss_kib anon_kib rss_kib/user anon_kib/user
# Usage: NGINX_DIR=DIR bench/idle_many.sh LABEL BIN USERS RATE [horde run flags...]
set -uo pipefail
(($# >= 4)) || { echo "usage: NGINX_DIR=DIR $0 LABEL BIN USERS RATE [horde run flags...]" >&2; exit 2; }
LABEL=$1 BIN=$2 N=$3 RATE=$4
shift 4
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORTS=$(cat "${NGINX_DIR:?NGINX_DIR: the directory of bench/idle_nginx.sh}/ports")
P1=${PORTS%%,*}
status() { curl -s "127.0.0.1:$P1/nginx_status"; }
requests() { status | awk 'NR==3{print $3}'; }
conns() { status | awk 'NR==1{print $3}'; }
OUT=$(mktemp "/tmp/idle_many.$LABEL.$N.XXXXXX")
base=$(requests) polls=0 served=0
t0=$(date +%s.%N)
IDLE_PORTS=$PORTS setsid "$BIN" run "$BENCH_DIR/idle.star" -H "http://127.0.0.1:$P1" -u "$N" -r "$RATE" -t 600s \
	--headless --print-interval 1h "$@" >"$OUT" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	sleep 0.25
	polls=$((polls + 1))
	# Every poll is one request and one connection too.
	if [ "${WAIT:-}" = conns ]; then served=$(($(conns) - 1)); else served=$(($(requests) - base - polls)); fi
	((served >= N)) && break
	(($(date +%s) - ${t0%.*} > 400)) && break
done
spawn=$(echo "$(date +%s.%N) - $t0" | bc)
last=0
for at in 3 15; do
	sleep $((at - last))
	last=$at
	rss=0 anon=0 np=0
	for p in $pid $(pgrep -P "$pid"); do
		read -r r a < <(awk '$1=="VmRSS:"{r=$2} $1=="RssAnon:"{a=$2} END{print r, a}' "/proc/$p/status")
		rss=$((rss + r)) anon=$((anon + a)) np=$((np + 1))
	done
	printf '%s\t%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%.2f\t%.2f\n' "$LABEL" "$N" "$served" "$spawn" "$at" "$np" "$rss" "$anon" \
		"$(echo "scale=4; $rss/$N" | bc)" "$(echo "scale=4; $anon/$N" | bc)"
done
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -KILL -- "-$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if ((served >= N)); then rm -f "$OUT"; else echo "idle_many.sh: $served of $N served; horde's output: $OUT" >&2; fi
true
