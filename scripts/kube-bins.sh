#!/usr/bin/env bash
# kube-bins.sh [DIR] — builds the etcd and kube-apiserver that the Kubernetes
# API tests (deploy/test) run, from the versions pinned in
# tools/kube/go.mod, into DIR (default: .cache/kube/bin at the repo root).
#
# DIR is laid out the way envtest expects KUBEBUILDER_ASSETS: it holds `etcd`
# and `kube-apiserver` (envtest needs no kubectl to start a control plane).
# Set KUBE_BINS_KUBECTL=1 to build `kubectl` there as well, and
# KUBE_BINS_CLUSTER=1 to build everything the one-node cluster of
# scripts/kube-cluster.sh runs: kubectl, kube-controller-manager,
# kube-scheduler, kubelet and kube-proxy besides etcd and kube-apiserver.
#
# Idempotent: DIR/.stamp records the versions, the Go version and a hash of
# tools/kube's go.mod and go.sum; when it matches and the binaries asked for
# exist, nothing is built. Otherwise all of them are built again, which takes
# seconds when the Go build cache still holds their packages.
# A cold build takes several minutes on 2 cores (about 6 for etcd and
# kube-apiserver, 12 for all seven) and adds 2.5 to 3.3 GB to the Go build cache; the last line printed is the `export KUBEBUILDER_ASSETS=...` to use.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mod=$root/tools/kube
go=${GO:-go}
dir=${1:-$root/.cache/kube/bin}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

modver() { "$go" -C "$mod" list -m -f '{{.Version}}' "$1"; }
k8s=$(modver k8s.io/kubernetes)
etcd=$(modver go.etcd.io/etcd/server/v3)

bins=(etcd kube-apiserver)
pkgs=(go.etcd.io/etcd/server/v3 k8s.io/kubernetes/cmd/kube-apiserver)
if [[ ${KUBE_BINS_KUBECTL:-0} == 1 || ${KUBE_BINS_CLUSTER:-0} == 1 ]]; then
	bins+=(kubectl)
	pkgs+=(k8s.io/kubernetes/cmd/kubectl)
fi
if [[ ${KUBE_BINS_CLUSTER:-0} == 1 ]]; then
	for b in kube-controller-manager kube-scheduler kubelet kube-proxy; do
		bins+=("$b")
		pkgs+=("k8s.io/kubernetes/cmd/$b")
	done
fi

stamp="kubernetes $k8s
etcd $etcd
$("$go" version)
$(cd "$mod" && sha256sum go.mod go.sum)"

have_all() {
	local b
	for b in "${bins[@]}"; do [[ -x $dir/$b ]] || return 1; done
}
if have_all && [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$stamp" ]]; then
	echo "kube-bins: up to date in $dir (kube-apiserver $k8s, etcd $etcd)"
else
	echo "kube-bins: building ${bins[*]} (kube-apiserver $k8s, etcd $etcd) into $dir"
	echo "kube-bins: a cold Go build cache takes several minutes on 2 cores"
	start=$SECONDS
	# The version the apiserver reports (/version, kubectl version); a
	# module build would otherwise say v0.0.0-master.
	minor=${k8s#v1.}
	minor=${minor%%.*}
	ldflags="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $p.gitVersion=$k8s -X $p.gitMajor=1 -X $p.gitMinor=$minor"
		ldflags+=" -X $p.gitTreeState=clean"
	done
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Binaries of the old stamp that are not rebuilt now (kubectl...) go too.
	rm -f "$dir/.stamp" "$dir/etcd" "$dir/kube-apiserver" "$dir/kubectl" \
		"$dir/kube-controller-manager" "$dir/kube-scheduler" "$dir/kubelet" "$dir/kube-proxy"
	# One go build for all commands, so that their shared packages are
	# compiled once and both cores stay busy.
	CGO_ENABLED=0 "$go" -C "$mod" build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"
	# go names the etcd command after its path without the /v3 suffix.
	mv "$tmp/server" "$tmp/etcd"
	for b in "${bins[@]}"; do mv -f "$tmp/$b" "$dir/$b"; done
	printf '%s\n' "$stamp" >"$dir/.stamp"
	echo "kube-bins: built in $((SECONDS - start))s"
fi
"$dir/etcd" --version | sed -n 1p
"$dir/kube-apiserver" --version
echo "export KUBEBUILDER_ASSETS=$dir"
