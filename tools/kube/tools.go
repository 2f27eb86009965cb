//go:build tools

// Package kube pins the Kubernetes commands that scripts/kube-bins.sh
// builds: etcd and kube-apiserver for the Kubernetes API tests (deploy/test),
// and, for the real one-node cluster of scripts/kube-cluster.sh, kubectl,
// kube-controller-manager, kube-scheduler, kubelet and kube-proxy. It is
// never compiled: the blank imports only keep the commands' dependencies in
// go.mod and go.sum.
package kube

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
