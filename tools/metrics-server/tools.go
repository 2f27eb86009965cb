//go:build tools

// Package metricsserver pins sigs.k8s.io/metrics-server, which
// scripts/kube-images.sh builds with `go build
// sigs.k8s.io/metrics-server/cmd/metrics-server`. It is never compiled: the
// blank import only keeps the command's dependencies in go.mod and go.sum.
package metricsserver

import _ "sigs.k8s.io/metrics-server/cmd/metrics-server"
