// Command horde is a distributed load-testing tool; see README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/horde-load/horde/internal/cgroup"
	"github.com/horde-load/horde/internal/cli"
)

func main() {
	fitSchedulerToCPULimit()
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\nhorde: %v: shutting down gracefully (again to quit at once)\n", s)
		cancel()
		<-sig
		os.Exit(130)
	}()
	code := cli.Execute(ctx, os.Args[1:], cli.OSEnv())
	cancel()
	os.Exit(code)
}

// fitSchedulerToCPULimit sets GOMAXPROCS to a cgroup CPU limit below two
// cores, rounded up: Go's runtime gives any limit below two cores two Ps, so
// a worker limited to one core (a Kubernetes limits.cpu of 1) would run two
// threads of Go code on it and be throttled in bursts, which shows up as
// response time. At two cores or more, or without a limit, the runtime's
// own choice stands; a GOMAXPROCS in the environment always wins.
func fitSchedulerToCPULimit() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	cores, err := cgroup.CPULimit(os.DirFS("/"), "proc/self")
	if err != nil || cores >= 2 {
		return
	}
	runtime.GOMAXPROCS(cgroup.GOMAXPROCS(cores))
}
