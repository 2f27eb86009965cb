#!/usr/bin/env bash
# Builds horde's container image (Containerfile) from a static binary, with
# docker or podman, without pulling anything from a registry.
#
#   scripts/image.sh                    # make build, then tag horde:<version> and horde:latest
#   scripts/image.sh -b path/to/horde   # use this static binary instead of running make build
#   scripts/image.sh -t my/horde:1.0    # these tags instead (repeatable)
#
# Environment: ENGINE=docker|podman (default: docker if its daemon answers,
# else podman), VERSION (default: git describe, as the Makefile), IMAGE
# (default horde: the name of the default tags), CA_BUNDLE (the CA
# certificates to put in the image; default: the build host's).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

binary=""
tags=()
while getopts "b:t:h" opt; do
	case $opt in
	b) binary=$OPTARG ;;
	t) tags+=("$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

engine=${ENGINE:-}
if [ -z "$engine" ]; then
	if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
		engine=docker
	elif command -v podman >/dev/null; then
		engine=podman
	else
		echo "image.sh: neither a docker daemon nor podman found (install one, or set ENGINE)" >&2
		exit 1
	fi
fi

version=${VERSION:-}
if [ -z "$binary" ]; then
	[ -n "$version" ] || version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
	# make build embeds the web UI and sets cli.Version from VERSION.
	make build VERSION="$version"
	binary=bin/horde
fi
[ -x "$binary" ] || { echo "image.sh: $binary: not an executable" >&2; exit 1; }
if [ -z "$version" ]; then
	# A prebuilt binary: label the image with the version it reports.
	version=$("$binary" version 2>/dev/null | awk '{print $2}') || true
	[ -n "$version" ] || version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
# The base image is empty: the binary must not need a C library.
if command -v go >/dev/null; then
	info=$(go version -m "$binary") || { echo "image.sh: $binary: not a Go binary" >&2; exit 1; }
	if ! grep -q 'CGO_ENABLED=0' <<<"$info" || ! grep -q 'GOOS=linux' <<<"$info"; then
		echo "image.sh: $binary is not a static linux binary: build it with CGO_ENABLED=0 GOOS=linux" >&2
		exit 1
	fi
fi

if [ ${#tags[@]} -eq 0 ]; then
	# A tag is [A-Za-z0-9_.-], at most 128 characters, not starting with . or -.
	tag=$(printf '%s' "$version" | tr -c 'A-Za-z0-9_.-' '-' | sed 's/^[.-]*//' | cut -c1-128)
	tags=("${IMAGE:-horde}:${tag:-dev}" "${IMAGE:-horde}:latest")
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/examples" "$ctx/rootfs/tmp" "$ctx/rootfs/etc/ssl/certs"
cp "$binary" "$ctx/rootfs/horde"
chmod 0755 "$ctx/rootfs/horde"
cp examples/*.star examples/*.csv "$ctx/rootfs/examples/"
chmod 0644 "$ctx/rootfs/examples/"*
chmod 1777 "$ctx/rootfs/tmp"
chmod 0755 "$ctx/rootfs" "$ctx/rootfs/examples" "$ctx/rootfs/etc" "$ctx/rootfs/etc/ssl" "$ctx/rootfs/etc/ssl/certs"
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$ca" ]; then
	cp "$ca" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
	chmod 0644 "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
else
	echo "image.sh: warning: no CA bundle at $ca: https:// targets will need --ca-file" >&2
	rm -r "$ctx/rootfs/etc"
fi

created=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
args=(build -f "$PWD/Containerfile"
	--build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created")
# With podman, commit one image, not one per instruction: nothing here is
# worth caching, and no dangling intermediate images stay behind.
[ "$engine" != podman ] || args+=(--layers=false)
for t in "${tags[@]}"; do
	args+=(-t "$t")
done
# FROM scratch and no RUN step: the build starts no container, so podman
# needs neither --runtime nor --isolation here (running does: docs/docker.md).
echo "+ $engine ${args[*]} <context>"
"$engine" "${args[@]}" "$ctx"
echo "image.sh: built ${tags[*]} ($version) with $engine"
