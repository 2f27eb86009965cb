package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/sim"
	"github.com/horde-load/horde/internal/timespan"
)

// fdsReserved are the open files a simulator needs besides one per
// worker: its control API, logs, the runtime.
const fdsReserved = 64

func newSimWorkersCmd(env Env) *cobra.Command {
	cf := &clusterFlags{}
	o := sim.Options{Shape: sim.DefaultShape}
	var masterAddr, control, logLevel, config string
	cmd := &cobra.Command{
		Use:   "sim-workers --master HOST:5557 -n WORKERS",
		Short: "Simulate many workers on real connections, to measure a master (docs/scaling.md)",
		Long: "Open N real worker connections to a master (gRPC, the auth token, heartbeats) and answer\n" +
			"on each as a worker does: take targets, report them, and send a statistics delta of the\n" +
			"chosen shape every report interval — without running users or making requests. A control\n" +
			"API on --control kills, hangs, delays, drops and revives groups of them (docs/scaling.md).",
		Example: "  horde sim-workers --master 127.0.0.1:5557 --auth-token T -n 1000 --endpoints 100 --rate 10\n" +
			"  curl -X POST 'http://127.0.0.1:PORT/kill?percent=10&hang=1'",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			if masterAddr == "" {
				return &usageError{cmd: cmd, err: errors.New("--master HOST:PORT is required (or HORDE_MASTER)")}
			}
			log, err := newLogger(env.Stderr, logLevel)
			if err != nil {
				return err
			}
			if limit := sim.RaiseOpenFiles(); limit > 0 && uint64(o.Workers)+fdsReserved > limit {
				return exitcode.Newf(exitcode.BadInput, "%d workers need %d open files, and this process may open %d: "+
					"run several simulators with fewer workers each (and distinct --id-prefix)", o.Workers, o.Workers+fdsReserved, limit)
			}
			if o.Dial.Token, err = cf.token(); err != nil {
				return err
			}
			if o.Dial.TLS, err = cf.tlsConfig(false); err != nil {
				return err
			}
			o.Master, o.Version, o.Logger = masterAddr, Version, log
			if o.Hostname == "" {
				o.Hostname = hostname()
			}
			return runSim(cmd.Context(), o, control, log)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&config, "config", "", "read settings from this file")
	fs.StringVar(&masterAddr, "master", "", "address of the master's worker port, HOST:PORT")
	fs.IntVarP(&o.Workers, "workers", "n", 100, "simulated workers, one connection each")
	fs.StringVar(&o.IDPrefix, "id-prefix", "sim", "worker ids are PREFIX-00000, PREFIX-00001...; give each simulator its own")
	fs.IntVar(&o.Cores, "cores", 1, "cores each worker says it has")
	fs.IntVar(&o.Shape.Endpoints, "endpoints", o.Shape.Endpoints, "rows in each worker's statistics report")
	fs.Float64Var(&o.Shape.Rate, "rate", o.Shape.Rate, "requests per second each worker reports per endpoint")
	fs.Var(timespan.Value{D: &o.Shape.LatencyMin}, "latency-min", "shortest latency reported (default 1ms)")
	fs.Var(timespan.Value{D: &o.Shape.LatencyMax}, "latency-max", "longest latency reported (default 200ms)")
	fs.Float64Var(&o.Shape.FailRatio, "fail-ratio", 0, "share of the reported requests that failed, 0..1")
	fs.IntVar(&o.ConnectConcurrency, "connect-concurrency", 64, "connections opened at once while starting")
	fs.StringVar(&control, "control", "127.0.0.1:0", "address of the control API (empty: none)")
	fs.StringVarP(&logLevel, "loglevel", "L", "info", "log level: debug, info, warn, error")
	cf.register(cmd, "worker")
	return cmd
}

// runSim runs the fleet and its control API until ctx is done or every
// worker quit (the master ended), logging progress while they connect.
func runSim(ctx context.Context, o sim.Options, control string, log *slog.Logger) error {
	started := time.Now()
	fleet, err := sim.Start(ctx, o)
	if err != nil {
		return exitcode.With(exitcode.BadInput, err)
	}
	defer fleet.Close()
	if control != "" {
		ln, err := net.Listen("tcp", control)
		if err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("--control: %w", err))
		}
		srv := &http.Server{Handler: fleet.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		log.Info("control API listening", "addr", "http://"+ln.Addr().String())
	}
	log.Info("simulating workers", "workers", o.Workers, "master", o.Master, "endpoints", o.Shape.Endpoints,
		"rate_per_endpoint", o.Shape.Rate)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	all := o.Workers == 0
	last := -1
	for {
		select {
		case <-ctx.Done():
			log.Info("simulator stopping: the workers say goodbye")
			return nil
		case <-fleet.Done():
			log.Info("the master told every worker to quit")
			return nil
		case <-tick.C:
			if all {
				continue
			}
			s := fleet.Summary(false)
			if s.Connected == o.Workers {
				all = true
				log.Info("all workers connected", "workers", s.Connected, "took", time.Since(started).Round(time.Millisecond))
			} else if s.Connected != last {
				log.Info("workers connecting", "connected", s.Connected, "of", o.Workers)
			}
			last = s.Connected
		}
	}
}
