#!/usr/bin/env bash
# proto.sh — regenerates internal/cluster/pb from horde.proto and
# internal/target/targetpb from target.proto with the
# protoc of Debian 12 (protobuf-compiler, 3.21.12) and the Go plugins at
# the versions the committed files were made with, installed into
# .cache/tools. The generated files are committed: building horde needs
# no protoc.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}
command -v protoc >/dev/null || { echo "proto.sh: protoc is missing: apt-get install protobuf-compiler" >&2; exit 1; }
bin=$root/.cache/tools
[[ -x $bin/protoc-gen-go ]] || GOBIN=$bin GOFLAGS=-mod=mod "$go" install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
[[ -x $bin/protoc-gen-go-grpc ]] || GOBIN=$bin GOFLAGS=-mod=mod "$go" install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PATH=$bin:$PATH protoc -I internal/cluster/pb \
	--go_out=internal/cluster/pb --go_opt=paths=source_relative \
	--go-grpc_out=internal/cluster/pb --go-grpc_opt=paths=source_relative \
	horde.proto
PATH=$bin:$PATH protoc -I internal/target/targetpb \
	--go_out=internal/target/targetpb --go_opt=paths=source_relative \
	--go-grpc_out=internal/target/targetpb --go-grpc_opt=paths=source_relative \
	target.proto
