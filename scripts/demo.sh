#!/usr/bin/env bash
# make demo: start the sample app, run the tutorial's scenario against it
# with the live terminal view, then stop the app.
set -euo pipefail
cd "$(dirname "$0")/.."
addr=${1:-127.0.0.1:8080}
bin/horde target --addr "$addr" --loglevel warn &
target=$!
trap 'kill $target 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	if (exec 3<>/dev/tcp/${addr%:*}/${addr##*:}) 2>/dev/null; then break; fi
	sleep 0.1
done
echo "sample app on http://$addr — running examples/seed.star (Ctrl-C stops the test and prints the summary)"
bin/horde run examples/seed.star --headless -H "http://$addr" -u "${DEMO_USERS:-50}" -r "${DEMO_SPAWN_RATE:-10}" -t "${DEMO_RUN_TIME:-1m}" || true
