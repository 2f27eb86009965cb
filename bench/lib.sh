# shellcheck shell=bash disable=SC2034 # the variables set here are used by the scripts that source it
# Shared by bench/run.sh and bench/idle.sh (sourced, not run): PATH, the
# pinned nginx on 127.0.0.1 and its request counter. The caller sets TMP
# (a private temp dir) and its EXIT trap calls bench_cleanup.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
HORDE="${BENCH_HORDE:-$ROOT/bin/horde}" # BENCH_HORDE: measure another build
if command -v go >/dev/null 2>&1; then
	GOBIN_DIR="$(go env GOBIN)"
	PATH="$PATH:${GOBIN_DIR:-$(go env GOPATH)/bin}"
fi
PATH="$PATH:/usr/sbin:/sbin"
NGINX_PID=""

# bench_cleanup stops the nginx started by start_nginx and removes $TMP.
bench_cleanup() {
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
		NGINX_PID=""
	fi
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
}

# free_port prints a TCP port free on 127.0.0.1.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_nginx CONNECTIONS: starts nginx on CPU 1, one worker, access log off,
# a 6-byte "200 hello" on every path but /nginx_status (stub_status, read by
# nginx_requests), keep-alive unlimited in requests and 75 s idle. CONNECTIONS
# sizes worker_connections and the worker's open-file limit (the caller's
# ulimit -n must allow it). Sets PORT, URL and NGINX_PID; and H2_URL (HTTPS
# with HTTP/2 by ALPN, a self-signed ECDSA certificate made here) and
# H2C_URL (HTTP/2 by prior knowledge, no TLS), the same hello on both.
start_nginx() {
	# nginx closes idle keep-alive connections once fewer than 1/16 of its
	# worker_connections are free: leave that much room above CONNECTIONS.
	local conns=$(($1 + $1 / 8 + 128))
	local files=$((conns + 64)) hard
	hard="$(ulimit -Hn)"
	[ "$hard" = unlimited ] || ((files <= hard)) || files=$hard
	command -v nginx >/dev/null || { echo "bench: nginx missing: run bench/install.sh" >&2; return 1; }
	PORT="$(free_port)"
	URL="http://127.0.0.1:$PORT"
	local h2port h2cport
	h2port="$(free_port)"
	h2cport="$(free_port)"
	H2_URL="https://127.0.0.1:$h2port"
	H2C_URL="http://127.0.0.1:$h2cport"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 ||
		{ echo "bench: openssl could not make the test certificate" >&2; return 1; }
	cat >"$TMP/nginx.conf" <<CONF
daemon off;
worker_processes 1;
worker_rlimit_nofile $files;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections $conns; }
http {
	access_log off;
	keepalive_requests 10000000;
	keepalive_timeout 75s;
	client_body_temp_path $TMP/body;
	proxy_temp_path $TMP/proxy;
	fastcgi_temp_path $TMP/fastcgi;
	uwsgi_temp_path $TMP/uwsgi;
	scgi_temp_path $TMP/scgi;
	server {
		listen 127.0.0.1:$PORT backlog=4096;
		location / { default_type text/plain; return 200 "hello\n"; }
		location = /nginx_status { stub_status; }
	}
	server {
		listen 127.0.0.1:$h2port ssl http2 backlog=4096;
		listen 127.0.0.1:$h2cport http2 backlog=4096;
		ssl_certificate $TMP/cert.pem;
		ssl_certificate_key $TMP/key.pem;
		location / { default_type text/plain; return 200 "hello\n"; }
	}
}
CONF
	taskset -c 1 nginx -p "$TMP" -c "$TMP/nginx.conf" 2>"$TMP/nginx-start.log" &
	NGINX_PID=$!
	local deadline=$((SECONDS + 10))
	until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
		if ((SECONDS > deadline)) || ! kill -0 "$NGINX_PID" 2>/dev/null; then
			echo "bench: nginx did not start:" >&2
			cat "$TMP/nginx-start.log" "$TMP/nginx-error.log" >&2 2>/dev/null || true
			return 1
		fi
		sleep 0.1
	done
}

# nginx_requests prints how many requests nginx has served since it
# started, this one included; "active" after it prints the open connections.
nginx_requests() {
	local out
	out="$(curl -s --max-time 2 "$URL/nginx_status")" || return 1
	# Active connections: N \n server accepts handled requests \n A H R \n ...
	awk -v what="${1:-requests}" '
		/^Active connections:/ { active = $3 }
		NR == 3 { requests = $3 }
		END { print (what == "active" ? active : requests) }' <<<"$out"
}
