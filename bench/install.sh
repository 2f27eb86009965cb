#!/usr/bin/env bash
# Installs the tools bench/run.sh and bench/idle.sh compare horde against.
# Idempotent and quick: a tool already on PATH is left alone. A tool that
# fails to install is skipped with the reason printed; the script never fails
# as a whole for one tool.
set -uo pipefail

HEY_VERSION=v0.1.5      # github.com/rakyll/hey
VEGETA_VERSION=v12.13.0 # github.com/tsenart/vegeta/v12
GHZ_VERSION=v0.93.0     # github.com/bojand/ghz (bench/protocols.sh: the gRPC peer)

say() { printf 'bench/install: %s\n' "$*"; }

need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v locust >/dev/null 2>&1 || need_apt+=(python3-locust)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
command -v curl >/dev/null 2>&1 || need_apt+=(curl) # idle.sh reads nginx's stub_status
command -v h2load >/dev/null 2>&1 || need_apt+=(nghttp2-client) # h2load: the HTTP/2 anchor
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)        # the HTTP/2 round's certificate

if [ "${#need_apt[@]}" -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	say "apt-get install ${need_apt[*]}"
	if ! { $SUDO apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"; } >/tmp/horde-bench-apt.log 2>&1; then
		# Retry one by one so one missing package does not block the others.
		for p in "${need_apt[@]}"; do
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$p" >>/tmp/horde-bench-apt.log 2>&1 ||
				say "skipped $p: apt-get install failed (see /tmp/horde-bench-apt.log)"
		done
	fi
	# Debian starts the packaged nginx service; the benchmark runs its own.
	if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
else
	say "apt packages already present"
fi

if ! command -v go >/dev/null 2>&1; then
	say "skipped hey and vegeta: go is not installed"
	exit 0
fi
GOBIN_DIR="$(go env GOBIN)"
[ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"

go_tool() { # name module@version
	if [ -x "$GOBIN_DIR/$1" ] || command -v "$1" >/dev/null 2>&1; then
		say "$1 already installed"
		return
	fi
	say "go install $2"
	# Outside any module so the project's go.mod is not touched.
	if ! (cd /tmp && GOFLAGS=-mod=mod go install "$2") >/tmp/horde-bench-go-"$1".log 2>&1; then
		say "skipped $1: go install failed: $(tail -1 /tmp/horde-bench-go-"$1".log)"
	fi
}
go_tool hey "github.com/rakyll/hey@$HEY_VERSION"
go_tool vegeta "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
go_tool ghz "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"

# k6 (go.k6.io/k6) is AGPL-licensed and marked not-to-use in this project's
# package list, so it is not installed here; run.sh still measures a k6
# found on PATH.
if command -v k6 >/dev/null 2>&1; then
	say "k6 found on PATH: $(command -v k6)"
else
	say "skipped k6: AGPL-licensed, not installed by this project (put a k6 binary on PATH to include it)"
fi
say "go tools are in $GOBIN_DIR (run.sh adds it to PATH)"
