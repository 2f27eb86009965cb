#!/usr/bin/env bash
# Starts (in the foreground) an nginx for bench/idle_many.sh: WORKERS worker
# processes (each may hold 20,000 connections, the machine's open-file hard
# limit) listening on NPORTS free ports of 127.0.0.1 with reuseport, keep-alive
# 75 s, stub_status on /nginx_status. Writes the ports, comma-separated, to
# DIR/ports.
# Usage: bench/idle_nginx.sh DIR WORKERS NPORTS CONNS_PER_WORKER
set -euo pipefail
(($# == 4)) || { echo "usage: $0 DIR WORKERS NPORTS CONNS_PER_WORKER" >&2; exit 2; }
DIR=$1 W=$2 NP=$3 C=$4
mkdir -p "$DIR"
ports=()
for _ in $(seq "$NP"); do
	ports+=("$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
done
{
	echo "daemon off; worker_processes $W; worker_rlimit_nofile 20000; pid $DIR/nginx.pid; error_log $DIR/err.log warn;"
	echo "events { worker_connections $C; }"
	echo "http { access_log off; keepalive_requests 10000000; keepalive_timeout 75s;"
	echo " client_body_temp_path $DIR/b; proxy_temp_path $DIR/p; fastcgi_temp_path $DIR/f; uwsgi_temp_path $DIR/u; scgi_temp_path $DIR/s;"
	echo " server {"
	for p in "${ports[@]}"; do echo "  listen 127.0.0.1:$p reuseport backlog=4096;"; done
	echo '  location / { default_type text/plain; return 200 "hello\n"; }'
	echo '  location = /nginx_status { stub_status; }'
	echo " }"
	echo "}"
} >"$DIR/nginx.conf"
(IFS=,; echo "${ports[*]}") >"$DIR/ports"
exec nginx -p "$DIR" -c "$DIR/nginx.conf"
