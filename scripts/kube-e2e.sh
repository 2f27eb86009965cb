#!/usr/bin/env bash
# kube-e2e.sh — make kube-e2e: runs docs/kubernetes.md on a real one-node
# cluster. Starts the cluster (scripts/kube-cluster.sh up: it builds the
# Kubernetes commands and the cluster's images when their cache is stale),
# runs TestKubeE2E (the walkthrough, headless, Helm) and then TestOperatorE2E
# (the operator's section: HordeTests, horde kube) in deploy/test against it,
# and takes the cluster down afterwards, whether the tests passed or not.
#
# Skipped, saying why, where this machine cannot run the cluster: not Linux,
# not root, or without the Debian packages it needs (.ci/run installs them).
# Environment: GO, KUBE_BIN (as kube-cluster.sh), KUBE_E2E_TIMEOUT (go test
# -timeout, default 45m), KUBE_E2E_KEEP=1 leaves the cluster up,
# KUBE_E2E_RUN (go test -run, default both tests).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
go=${GO:-go}
bin=${KUBE_BIN:-$root/.cache/kube/bin}

skip() {
	echo "kube-e2e: SKIP: $* — docs/kubernetes.md was not run on a cluster"
	exit 0
}
[[ $(uname -s) == Linux ]] || skip "not Linux"
[[ $(id -u) == 0 ]] || skip "needs root (containerd, iptables, mounts)"
missing=()
for c in containerd runc ctr iptables conntrack podman openssl ip curl helm; do
	command -v "$c" >/dev/null || missing+=("$c")
done
[[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
[[ -x /bin/busybox ]] || missing+=(busybox-static)
((${#missing[@]} == 0)) || skip "missing ${missing[*]} (.ci/run installs them: apt-get install containerd runc containernetworking-plugins conntrack iptables podman busybox-static curl; go install helm.sh/helm/v3/cmd/helm@v3.22.0)"

trap '[[ ${KUBE_E2E_KEEP:-0} == 1 ]] || "$root/scripts/kube-cluster.sh" down' EXIT
start=$SECONDS
KUBE_BIN=$bin "$root/scripts/kube-cluster.sh" up
echo "kube-e2e: cluster up after $((SECONDS - start))s (builds included)"
cd "$root/deploy/test"
HORDE_KUBE_E2E_KUBECONFIG=${KUBE_CLUSTER_DIR:-/var/lib/horde-kube}/admin.kubeconfig HORDE_KUBE_BIN=$bin \
	"$go" test -race -count=1 -v -timeout "${KUBE_E2E_TIMEOUT:-45m}" -run "${KUBE_E2E_RUN:-^(TestKubeE2E|TestOperatorE2E)\$}" .
echo "kube-e2e: passed in $((SECONDS - start))s"
