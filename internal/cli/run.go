package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/headless"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/memtune"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/worker"
)

func newRunCmd(env Env) *cobra.Command {
	f := &testFlags{}
	wf := &webFlags{}
	var processes int
	cmd := &cobra.Command{
		Use:   "run [SCRIPT.star [USERCLASS...] | URL]",
		Short: "Run a load test on this machine: a Starlark script, or GET one URL as fast as the users can",
		Long: "Run a load test on this machine: a master and an in-process worker (or --processes N\n" +
			"local worker processes, to use every core). SCRIPT is a Starlark file (see docs/scripting.md);\n" +
			"a bare URL means \"GET this URL\" with no script. Every flag can also be set with\n" +
			"HORDE_<FLAG> (HORDE_SPAWN_RATE for --spawn-rate) or in a --config file.",
		Example: "  horde run examples/seed.star -H http://127.0.0.1:8080 -u 50 -r 10 -t 1m --headless\n" +
			"  horde run http://127.0.0.1:8080/ -u 50 -t 30s --headless --json result.json --processes 2",
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			lt, _, err := f.prepare(cmd, env, args)
			if err != nil {
				return err
			}
			if processes < 0 {
				return exitcode.Newf(exitcode.BadInput, "--processes must be ≥ 0, got %d", processes)
			}
			return runStandalone(cmd.Context(), env, f, wf, lt, processes)
		},
	}
	f.register(cmd)
	wf.register(cmd)
	cmd.Flags().IntVar(&processes, "processes", 0, "run users in N local worker processes instead of in this one (-1: one per core)")
	return cmd
}

func runStandalone(ctx context.Context, env Env, f *testFlags, wf *webFlags, lt *loadedTest, processes int) error {
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	store, labels, err := f.history(ctx, env, lt, log)
	if err != nil {
		return err
	}
	if processes == -1 {
		processes = max(1, numCPU())
	}
	if err := checkOpenFiles((f.users+max(processes, 1)-1)/max(processes, 1), processes, openFilesLimit()); err != nil {
		return err
	}
	memtune.Tune(ctx, env.Getenv)
	m, err := master.New(master.Options{Scenario: lt.sc, Bundle: lt.bundle.PB(), Host: f.host, Logger: log,
		DataShares: max(processes, 1), Standalone: true, ResetStatsAfterRamp: f.resetStats,
		Aggregate: stats.AggregateOptions{EndpointHistory: f.csvFull}})
	if err != nil {
		return exitcode.With(exitcode.BadInput, err)
	}
	defer keep(m, store, f.end(env), lt, f, labels, log)()
	mctx, stopMaster := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMaster()
	mdone := make(chan struct{})
	go func() { defer close(mdone); _ = m.Run(mctx) }()
	defer func() { stopMaster(); <-mdone }()

	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wait func()
	expect := 1
	if processes > 0 {
		wait, err = startLocalProcesses(wctx, env, m, processes, f.logLevel, log)
		if err != nil {
			stopWorkers()
			return err
		}
		expect = processes
	} else {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = worker.Run(wctx, worker.Options{Dial: inProcessDial(wctx, m), ID: "local", Hostname: hostname(),
				Version: Version, Loader: lt.loader, Logger: log})
		}()
		wait = func() { <-done }
	}
	defer func() { stopWorkers(); wait() }()
	// Start-up is over: what it alone touched of the binary leaves the
	// resident set (the in-process worker trims again once its script
	// has loaded).
	_, _ = memtune.Trim()
	if !f.headless {
		ws, err := serveWeb(mctx, m, wf, f.parsed, webRuns(store), log)
		if err != nil {
			return err
		}
		defer ws.stop()
		return interactive(ctx, env, m, f, wf, ws, expect, log)
	}
	return headless.Run(ctx, headless.Config{
		Master: m, Test: f.test(), End: f.end(env), OnlySummary: f.onlySummary,
		ExpectWorkers: expect, ExpectWorkersMaxWait: 60 * time.Second, Quiet: true,
		Terminal: env.terminal(), Interval: f.interval, Logger: log,
	})
}

// inProcessDial connects a worker to m through an in-process pipe: the
// same messages as over gRPC, without the network.
func inProcessDial(ctx context.Context, m *master.Master) func(context.Context) (cluster.WorkerStream, func() error, error) {
	return func(context.Context) (cluster.WorkerStream, func() error, error) {
		ms, ws, closePipe := cluster.Pipe()
		go func() {
			first, err := ms.Recv()
			if err != nil || first.GetHello() == nil {
				return
			}
			_ = m.Attach(ctx, ms, first.GetHello())
			closePipe() // as a gRPC stream ends when its handler returns
		}()
		return ws, func() error { closePipe(); return nil }, nil
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// startLocalProcesses serves m on a loopback port with a fresh token and
// starts n `horde worker` processes against it. wait ends them.
func startLocalProcesses(ctx context.Context, env Env, m *master.Master, n int, logLevel string, log *slog.Logger) (wait func(), err error) {
	token := randomToken()
	// The server outlives ctx: stopping the workers must let them say
	// goodbye and send their last statistics through it.
	addr, stopServer, err := serveCluster(context.WithoutCancel(ctx), m, "127.0.0.1:0", token, nil, log)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		stopServer()
		return nil, exitcode.With(exitcode.CannotRun, err)
	}
	var cmds []*exec.Cmd
	for i := range n {
		c := exec.Command(exe, "worker", "--master", addr, "--loglevel", logLevel, "--id", "local-"+strconv.Itoa(i))
		c.Env = append(os.Environ(), "HORDE_AUTH_TOKEN="+token)
		c.Stdout, c.Stderr = env.Stderr, env.Stderr
		if err := c.Start(); err != nil {
			stopServer()
			return nil, exitcode.With(exitcode.CannotRun, fmt.Errorf("starting worker process: %w", err))
		}
		cmds = append(cmds, c)
	}
	log.Info("started local worker processes", "n", n, "master", addr)
	return func() {
		for _, c := range cmds {
			_ = c.Process.Signal(os.Interrupt)
		}
		for _, c := range cmds {
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = c.Process.Kill()
				<-done
			}
		}
		stopServer()
	}, nil
}
