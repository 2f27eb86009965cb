#!/usr/bin/env bash
# kube-images.sh [DIR] — builds the images the test cluster of
# scripts/kube-cluster.sh needs and cannot pull (no registry is reachable
# here), as archives in DIR (default .cache/kube/images) that `kube-cluster.sh
# up` imports into containerd:
#
#   localhost/pause:3.10               the pod sandbox (tools/pause, our own program)
#   localhost/coredns:1.12.0           the cluster DNS (tools/coredns: CoreDNS from the Go module proxy)
#   docker.io/library/busybox:latest   Debian's busybox-static, for the docs' `kubectl run --image=busybox`
#                                      step that copies reports off a volume
#   localhost/metrics-server:v0.8.1    resource metrics for the HPA (tools/metrics-server, from the Go module proxy)
#
# Each is FROM scratch: one static binary (busybox with its applets as
# symlinks), built with podman without running a container. Idempotent:
# DIR/.stamp records the Go version, the modules' go.mod/go.sum/sources and
# busybox's checksum; when it matches, nothing is built. A cold CoreDNS build
# takes about 3 minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
dir=${1:-$root/.cache/kube/images}
busybox=${BUSYBOX:-/bin/busybox}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

command -v podman >/dev/null || {
	echo "kube-images: podman is not installed (apt-get install podman)" >&2
	exit 1
}
[[ -x $busybox ]] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || {
	echo "kube-images: no static busybox at $busybox (apt-get install busybox-static)" >&2
	exit 1
}

stamp="$("$go" version)
$(cd "$root/tools" && sha256sum pause/go.mod pause/main.go coredns/go.mod coredns/go.sum coredns/main.go metrics-server/go.mod metrics-server/go.sum)
$(sha256sum "$busybox" | cut -d' ' -f1) busybox
$(sha256sum "$0" | cut -d' ' -f1) kube-images.sh"
if [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$stamp" ]] &&
	[[ -f $dir/pause.tar && -f $dir/coredns.tar && -f $dir/busybox.tar && -f $dir/metrics-server.tar ]]; then
	echo "kube-images: up to date in $dir"
	exit 0
fi

start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$dir/.stamp"

# image NAME TAG CONTEXT: podman build of CONTEXT/Containerfile, saved to
# DIR/NAME.tar. --layers=false: one image, no intermediate ones.
image() {
	podman build -q --layers=false -t "$2" -f "$3/Containerfile" "$3" >/dev/null
	podman save -q -o "$dir/$1.tar.new" "$2"
	mv -f "$dir/$1.tar.new" "$dir/$1.tar"
	echo "kube-images: $2 -> $dir/$1.tar"
}

echo "kube-images: building pause, CoreDNS and metrics-server (a cold Go build cache takes about 6 minutes)"
mkdir -p "$tmp/pause" "$tmp/coredns" "$tmp/busybox/bin" "$tmp/metrics-server"
CGO_ENABLED=0 "$go" -C "$root/tools/pause" build -trimpath -ldflags "-s -w" -o "$tmp/pause/pause" .
CGO_ENABLED=0 "$go" -C "$root/tools/coredns" build -trimpath -ldflags "-s -w" -o "$tmp/coredns/coredns" .
CGO_ENABLED=0 "$go" -C "$root/tools/metrics-server" build -trimpath -ldflags "-s -w" \
	-o "$tmp/metrics-server/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server

cat >"$tmp/pause/Containerfile" <<'EOF'
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
EOF
cat >"$tmp/coredns/Containerfile" <<'EOF'
FROM scratch
COPY coredns /coredns
EXPOSE 1053 1053/udp
ENTRYPOINT ["/coredns"]
EOF
cat >"$tmp/metrics-server/Containerfile" <<'EOF'
FROM scratch
COPY metrics-server /metrics-server
USER 65532:65532
ENTRYPOINT ["/metrics-server"]
EOF
cp "$busybox" "$tmp/busybox/bin/busybox"
for applet in sh ls cat tar sleep mkdir cp rm chown chmod id; do
	ln -s busybox "$tmp/busybox/bin/$applet"
done
cat >"$tmp/busybox/Containerfile" <<'EOF'
FROM scratch
COPY bin /bin
ENV PATH=/bin
CMD ["sh"]
EOF

image pause localhost/pause:3.10 "$tmp/pause"
image coredns localhost/coredns:1.12.0 "$tmp/coredns"
image busybox docker.io/library/busybox:latest "$tmp/busybox"
image metrics-server localhost/metrics-server:v0.8.1 "$tmp/metrics-server"
printf '%s\n' "$stamp" >"$dir/.stamp"
echo "kube-images: built in $((SECONDS - start))s"
