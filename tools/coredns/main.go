// Command coredns is CoreDNS with only the plugins the test cluster's DNS
// uses (scripts/kube-cluster.sh): Service and pod names from the Kubernetes
// API, health and readiness endpoints, a cache. There is deliberately no
// forward plugin: the cluster's DNS answers for cluster.local and nothing
// else, so no query leaves the machine. Fewer plugins also mean a build of
// minutes instead of many (no cloud providers' SDKs).
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
