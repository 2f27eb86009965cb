package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/timespan"
)

// clusterFlags are the flags of the master/worker connection.
type clusterFlags struct {
	authToken     string
	authTokenFile string
	tlsCert       string
	tlsKey        string
	tlsCA         string
	heartbeat     time.Duration
	missing       time.Duration
}

func (c *clusterFlags) register(cmd *cobra.Command, side string) {
	fs := cmd.Flags()
	fs.StringVar(&c.authToken, "auth-token", "", "shared token workers present to the master (or --auth-token-file)")
	fs.StringVar(&c.authTokenFile, "auth-token-file", "", "read the shared token from this file (a Kubernetes Secret)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate for TLS on the worker port (mTLS with --tls-ca)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM key of --tls-cert")
	if side == "master" {
		fs.StringVar(&c.tlsCA, "tls-ca", "", "CA that worker certificates must chain to (turns on mTLS)")
		c.heartbeat, c.missing = time.Second, 3*time.Second
		fs.Var(timespan.Value{D: &c.heartbeat}, "heartbeat-interval", "how often master and workers exchange heartbeats")
		fs.Var(timespan.Value{D: &c.missing}, "missing-timeout", "a worker silent this long is missing and its users move")
	} else {
		fs.StringVar(&c.tlsCA, "tls-ca", "", "CA to verify the master's certificate (turns on TLS)")
	}
}

// token returns the auth token from the flag, HORDE_AUTH_TOKEN (through
// sources) or the token file.
func (c *clusterFlags) token() (string, error) {
	if c.authTokenFile != "" {
		b, err := os.ReadFile(c.authTokenFile)
		if err != nil {
			return "", exitcode.With(exitcode.BadInput, fmt.Errorf("--auth-token-file: %w", err))
		}
		return strings.TrimSpace(string(b)), nil
	}
	return c.authToken, nil
}

func (c *clusterFlags) tlsConfig(server bool) (*tls.Config, error) {
	if c.tlsCert == "" && c.tlsKey == "" && c.tlsCA == "" {
		return nil, nil
	}
	if server && (c.tlsCert == "" || c.tlsKey == "") {
		return nil, exitcode.Newf(exitcode.BadInput, "TLS on the master needs both --tls-cert and --tls-key")
	}
	cfg, err := cluster.TLSConfig(c.tlsCert, c.tlsKey, c.tlsCA, server)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, err)
	}
	return cfg, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func numCPU() int { return runtime.NumCPU() }

// serveCluster serves m's worker port on addr. It returns the address it
// listens on and a func that stops the server.
func serveCluster(ctx context.Context, m *master.Master, addr, token string, tlsCfg *tls.Config, log *slog.Logger) (string, func(), error) {
	srv, err := cluster.NewServer(cluster.ServerOptions{Token: token, TLS: tlsCfg, Logger: log, Handle: m.Attach})
	if err != nil {
		return "", nil, exitcode.With(exitcode.BadInput, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, exitcode.With(exitcode.CannotRun, fmt.Errorf("worker port: %w", err))
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(sctx, ln) }()
	return ln.Addr().String(), func() { cancel(); <-done }, nil
}
