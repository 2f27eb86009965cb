package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/headless"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/timespan"
)

type masterFlags struct {
	bind          string
	expectWorkers int
	expectMaxWait time.Duration
}

func newMasterCmd(env Env) *cobra.Command {
	f := &testFlags{}
	cf := &clusterFlags{}
	mf := &masterFlags{}
	wf := &webFlags{}
	cmd := &cobra.Command{
		Use:   "master [SCRIPT.star [USERCLASS...] | URL]",
		Short: "Run the master of a distributed test: workers connect to it and run the users",
		Long: "Run the master: it serves the worker port (--bind, default :5557), ships the script to\n" +
			"every worker that connects, spreads the users over them and merges their statistics.\n" +
			"Workers may join, leave and come back while the test runs. The API (GET /stats/requests)\n" +
			"is on --web-host:--web-port.",
		Example: "  horde master examples/seed.star -H http://target:8080 --headless -u 100 -r 10 -t 10m --expect-workers 3\n" +
			"  horde worker --master master-host:5557",
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			lt, _, err := f.prepare(cmd, env, args)
			if err != nil {
				return err
			}
			return runMaster(cmd.Context(), env, f, cf, mf, wf, lt)
		},
	}
	f.register(cmd)
	cf.register(cmd, "master")
	wf.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&mf.bind, "bind", ":5557", "address of the worker port")
	fs.IntVar(&mf.expectWorkers, "expect-workers", 1, "headless: wait for this many workers before starting")
	fs.Var(timespan.Value{D: &mf.expectMaxWait}, "expect-workers-max-wait", "give up (exit 3) when the workers have not come after this long (0: wait forever)")
	return cmd
}

func runMaster(ctx context.Context, env Env, f *testFlags, cf *clusterFlags, mf *masterFlags, wf *webFlags, lt *loadedTest) error {
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	store, labels, err := f.history(ctx, env, lt, log)
	if err != nil {
		return err
	}
	token, err := cf.token()
	if err != nil {
		return err
	}
	if token == "" {
		token = randomToken()
		log.Warn("no --auth-token given: generated one; start workers with it", "auth_token", token)
	}
	tlsCfg, err := cf.tlsConfig(true)
	if err != nil {
		return err
	}
	m, err := master.New(master.Options{Scenario: lt.sc, Bundle: lt.bundle.PB(), Host: f.host, Logger: log,
		HeartbeatInterval: cf.heartbeat, MissingTimeout: cf.missing, DataShares: max(mf.expectWorkers, 1), ResetStatsAfterRamp: f.resetStats,
		Aggregate: stats.AggregateOptions{EndpointHistory: f.csvFull}})
	if err != nil {
		return exitcode.With(exitcode.BadInput, err)
	}
	defer keep(m, store, f.end(env), lt, f, labels, log)()
	mctx, stopMaster := context.WithCancel(context.WithoutCancel(ctx))
	mdone := make(chan struct{})
	go func() { defer close(mdone); _ = m.Run(mctx) }()

	// The worker port outlives the master's loop, so that the master's
	// last words — quit — reach the workers: they end with it.
	addr, stopCluster, err := serveCluster(context.WithoutCancel(ctx), m, mf.bind, token, tlsCfg, log)
	if err != nil {
		stopMaster()
		<-mdone
		return err
	}
	defer stopCluster()
	defer func() { stopMaster(); <-mdone }()
	log.Info("worker port open", "addr", addr)
	ws, err := serveWeb(mctx, m, wf, f.parsed, webRuns(store), log)
	if err != nil {
		return err
	}
	defer ws.stop()
	if !f.headless {
		return interactive(ctx, env, m, f, wf, ws, mf.expectWorkers, log)
	}
	return headless.Run(ctx, headless.Config{
		Master: m, Test: f.test(), End: f.end(env), OnlySummary: f.onlySummary,
		ExpectWorkers: mf.expectWorkers, ExpectWorkersMaxWait: mf.expectMaxWait,
		Terminal: env.terminal(), Interval: f.interval, Logger: log,
	})
}
