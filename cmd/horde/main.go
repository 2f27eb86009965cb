// Command horde is a distributed load-testing tool; see README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/horde-load/horde/internal/cli"
)

func main() {
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
