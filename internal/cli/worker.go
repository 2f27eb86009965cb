package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/memtune"
	"github.com/horde-load/horde/internal/timespan"
	"github.com/horde-load/horde/internal/worker"
)

func newWorkerCmd(env Env) *cobra.Command {
	cf := &clusterFlags{}
	var masterAddr, id, logLevel, config string
	var reconnect worker.Options
	cmd := &cobra.Command{
		Use:   "worker --master HOST:5557",
		Short: "Run a worker: connect to a master, receive its script, run the users it assigns",
		Long: "Run a worker. It needs nothing but the master's address (and the auth token): the\n" +
			"master sends the script and its files. It reconnects with backoff when the master is\n" +
			"away, and rejoins a restarted master by itself. SIGTERM stops it gracefully: running\n" +
			"tasks finish, the last statistics are sent.",
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
			token, err := cf.token()
			if err != nil {
				return err
			}
			tlsCfg, err := cf.tlsConfig(false)
			if err != nil {
				return err
			}
			if id == "" {
				id = hostname() + "-" + randomToken()[:8]
			}
			o := reconnect
			o.Dial = func(ctx context.Context) (cluster.WorkerStream, func() error, error) {
				return cluster.Dial(ctx, masterAddr, cluster.DialOptions{Token: token, TLS: tlsCfg})
			}
			o.Permanent = permanentClusterError
			o.Explain = cluster.Explain
			o.ID, o.Hostname, o.Version = id, hostname(), Version
			o.Env, o.Stdout, o.Logger = env.Getenv, env.Stdout, log.With("worker", id)
			log.Info("worker starting", "id", id, "master", masterAddr)
			memtune.Tune(cmd.Context(), env.Getenv)
			if err := worker.Run(cmd.Context(), o); err != nil {
				if permanentClusterError(err) {
					return exitcode.With(exitcode.BadInput, errors.New(cluster.Explain(err)))
				}
				return exitcode.With(exitcode.CannotRun, err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&config, "config", "", "read settings from this file")
	fs.StringVar(&masterAddr, "master", "", "address of the master's worker port, HOST:PORT")
	fs.StringVar(&id, "id", "", "worker id (default: hostname and a random suffix)")
	fs.StringVarP(&logLevel, "loglevel", "L", "info", "log level: debug, info, warn, error")
	fs.Var(timespan.Value{D: &reconnect.ReconnectTimeout}, "reconnect-timeout", "give up after this long without a master (0: never)")
	fs.Var(timespan.Value{D: &reconnect.ReconnectMax}, "reconnect-max-backoff", "longest wait between connection attempts (default 5s)")
	cf.register(cmd, "worker")
	return cmd
}

// permanentClusterError reports errors that retrying cannot fix: the
// master refused the token or speaks another protocol version.
func permanentClusterError(err error) bool {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.FailedPrecondition, codes.PermissionDenied:
		return true
	}
	return false
}
