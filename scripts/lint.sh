#!/usr/bin/env bash
# lint.sh — gofmt, go vet, staticcheck and deadcode over horde's module.
#
# staticcheck and deadcode are installed at pinned versions into
# .cache/tools (stamped by version and Go version) when missing, so that
# `make lint` works on a fresh clone.
#
# deadcode runs without -test: a function that only tests reach is
# reported too (move it to an export_test.go file, or remove it). Packages
# that exist for tests are exempt: their names end in "test", as
# net/http/httptest's does (targettest, buftest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}

staticcheck_version=v0.8.2 # honnef.co/go/tools
tools_version=v0.52.0      # golang.org/x/tools (deadcode)

bin=$root/.cache/tools
stamp="staticcheck $staticcheck_version deadcode $tools_version $("$go" env GOVERSION)"
if [[ ! -x $bin/staticcheck || ! -x $bin/deadcode || $(cat "$bin/.stamp" 2>/dev/null) != "$stamp" ]]; then
	mkdir -p "$bin"
	echo "lint: installing staticcheck $staticcheck_version and deadcode $tools_version into $bin"
	GOBIN=$bin GOFLAGS=-mod=mod "$go" install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
	GOBIN=$bin GOFLAGS=-mod=mod "$go" install "golang.org/x/tools/cmd/deadcode@$tools_version"
	printf '%s\n' "$stamp" >"$bin/.stamp"
fi

status=0
out=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $out ]]; then
	echo "gofmt needed:"
	echo "$out"
	status=1
fi
"$go" vet ./... || status=1
"$bin/staticcheck" ./... || status=1
dead=$("$bin/deadcode" ./... | grep -v -E '/[a-z]+test/[^/]+\.go:' || true)
if [[ -n $dead ]]; then
	echo "deadcode: unreachable from the program (remove it, or move what only tests use to export_test.go):"
	echo "$dead"
	status=1
fi
exit $status
