package cli

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/examples"
	"github.com/horde-load/horde/internal/bundle"
	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/script"
	"github.com/horde-load/horde/internal/target"
)

func newDemoCmd(env Env) *cobra.Command {
	wf := &webFlags{}
	var users, workers int
	var rate float64
	var logLevel string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The product in one command: sample app, master, two workers and the web UI, running the tutorial's scenario",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			log, err := newLogger(env.Stderr, logLevel)
			if err != nil {
				return err
			}
			return runDemo(cmd.Context(), env, wf, users, rate, workers, log)
		},
	}
	wf.register(cmd)
	fs := cmd.Flags()
	fs.IntVarP(&users, "users", "u", 50, "users of the demo test")
	fs.Float64VarP(&rate, "spawn-rate", "r", 5, "users started per second")
	fs.IntVar(&workers, "workers", 2, "local worker processes")
	fs.StringVarP(&logLevel, "loglevel", "L", "warn", "log level: debug, info, warn, error")
	return cmd
}

func runDemo(ctx context.Context, env Env, wf *webFlags, users int, rate float64, workers int, log *slog.Logger) error {
	lt, err := demoScenario(env)
	if err != nil {
		return err
	}
	// The sample app, on a free loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return exitcode.With(exitcode.CannotRun, err)
	}
	host := "http://" + ln.Addr().String()
	tctx, stopTarget := context.WithCancel(context.WithoutCancel(ctx))
	tdone := make(chan struct{})
	go func() { defer close(tdone); _ = target.New(target.Options{Logger: log}).Serve(tctx, ln) }()
	defer func() { stopTarget(); <-tdone }()
	lt.bundle.Host = host

	m, err := master.New(master.Options{Scenario: lt.sc, Bundle: lt.bundle.PB(), Host: host, Logger: log, DataShares: workers})
	if err != nil {
		return exitcode.With(exitcode.BadInput, err)
	}
	mctx, stopMaster := context.WithCancel(context.WithoutCancel(ctx))
	mdone := make(chan struct{})
	go func() { defer close(mdone); _ = m.Run(mctx) }()
	defer func() { stopMaster(); <-mdone }()

	wctx, stopWorkers := context.WithCancel(mctx)
	wait, err := startLocalProcesses(wctx, env, m, workers, "warn", log)
	if err != nil {
		stopWorkers()
		return err
	}
	defer func() { stopWorkers(); wait() }()
	if wf.host == "" {
		wf.host = "127.0.0.1" // a demo needs no audience beyond this machine
	}
	wf.autostart = true
	ws, err := serveWeb(mctx, m, wf, nil, nil, log)
	if err != nil {
		return err
	}
	defer ws.stop()
	fmt.Fprintf(env.Stdout, "horde demo: the sample app on %s, %d worker processes, the tutorial's scenario.\n", host, workers)
	fmt.Fprintf(env.Stdout, "Open %s to watch it, change users, stop and start it again.\n", ws.url)
	f := &testFlags{users: users, spawnRate: rate, stopTimeout: 0}
	err = interactive(ctx, env, m, f, wf, ws, workers, log)
	if exitcode.Code(err) == exitcode.Failed {
		return nil // a demo's verdict is not the point
	}
	return err
}

// demoScenario loads the tutorial's locustfile from the embedded examples.
func demoScenario(env Env) (*loadedTest, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(examples.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[p], err = fs.ReadFile(examples.Files, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	loader := &bundle.Loader{Env: env.Getenv, Stdout: env.Stdout}
	sc, err := loader.Load(&bundle.Bundle{Files: files, Main: "seed.star"}, script.Share{})
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, err)
	}
	return &loadedTest{sc: sc, bundle: &bundle.Bundle{Files: sc.Files, Main: "seed.star"}, loader: loader}, nil
}
