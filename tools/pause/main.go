// Command pause is the process that holds a pod sandbox's namespaces in the
// test cluster (scripts/kube-cluster.sh), like Kubernetes' own pause image,
// which cannot be pulled here: it sleeps until SIGTERM or SIGINT and, as PID
// 1 of a pod that shares its process namespace, reaps orphaned children.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
