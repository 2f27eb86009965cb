//go:build tools

// Package kube pins the kube-apiserver and etcd commands that
// scripts/kube-bins.sh builds for the Kubernetes API tests, and kubectl,
// which it builds on request (KUBE_BINS_KUBECTL=1). It is never compiled:
// the blank imports only keep the commands' dependencies in go.mod and
// go.sum.
package kube

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
