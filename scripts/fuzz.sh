#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $FUZZTIME (default 10s) each.
#
# A run that ends with the fuzzing engine's own "context deadline exceeded"
# (the coordinator timing out a worker at the end of -fuzztime, not a failing
# input: golang/go#48127 and friends) is run again, up to three times. A real failure writes
# its input under testdata/fuzz and says "Failing input written"; that is never
# retried.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
	for fz in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		for attempt in 1 2 3; do
			echo "== fuzz $pkg $fz ($fuzztime, attempt $attempt)"
			if go test -run '^$' -fuzz "^${fz}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "$pkg" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
				break
			fi
			if [ "$attempt" -lt 3 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				echo "== $fz: the fuzzing engine timed out (not a failing input); running it again"
				continue
			fi
			status=1
			break
		done
	done
done
# Nested modules with fuzz targets of their own.
for mod in deploy/test; do
	for fz in $(cd "$mod" && go test -list '^Fuzz' . | grep '^Fuzz' || true); do
		echo "== fuzz $mod $fz ($fuzztime)"
		if ! (cd "$mod" && go test -run '^$' -fuzz "^${fz}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s .); then
			status=1
		fi
	done
done
exit $status
