package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/headless"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/threshold"
	"github.com/horde-load/horde/internal/web"
	"github.com/horde-load/horde/internal/webui"
)

// webFlags are the flags of the web UI and API.
type webFlags struct {
	host      string
	port      int
	auth      string
	tlsCert   string
	tlsKey    string
	autostart bool
}

func (w *webFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&w.host, "web-host", "", "address the web UI and API listen on (default: all)")
	fs.IntVar(&w.port, "web-port", 8089, "port of the web UI and API (0: any free port)")
	fs.StringVar(&w.auth, "web-auth", "", "protect the web UI and API: user:pass (HTTP basic) or a bearer token")
	fs.StringVar(&w.tlsCert, "web-tls-cert", "", "serve the web UI over HTTPS with this PEM certificate")
	fs.StringVar(&w.tlsKey, "web-tls-key", "", "PEM key of --web-tls-cert")
	fs.BoolVar(&w.autostart, "autostart", false, "start the test at once and keep the web UI")
}

// webServer is the running web UI and API.
type webServer struct {
	url  string
	stop func()
}

// serveWeb serves the UI and API of m until stop is called.
func serveWeb(ctx context.Context, m *master.Master, wf *webFlags, ts []threshold.Threshold, runs web.Runs, log *slog.Logger) (*webServer, error) {
	if (wf.tlsCert == "") != (wf.tlsKey == "") {
		return nil, exitcode.Newf(exitcode.BadInput, "HTTPS needs both --web-tls-cert and --web-tls-key")
	}
	addr := net.JoinHostPort(wf.host, strconv.Itoa(wf.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, exitcode.With(exitcode.CannotRun, fmt.Errorf("web UI: %w", err))
	}
	api := web.New(web.Options{Control: m, UI: webui.Handler(), Auth: wf.auth, Logger: log, Runs: runs,
		Meta: func() report.Meta {
			var meta report.Meta
			meta.Thresholds, _ = report.EvaluateThresholds(ts, m.Snapshot(time.Now()))
			return meta
		}})
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(api.Close)
	scheme := "http"
	if wf.tlsCert != "" {
		scheme = "https"
	}
	url := scheme + "://" + displayAddr(ln.Addr().(*net.TCPAddr))
	log.Info("web API listening", "addr", url)
	if wf.auth == "" && !loopbackOnly(wf.host) {
		log.Warn("the web UI accepts anyone who can reach it: it listens beyond this machine without --web-auth")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		if wf.tlsCert != "" {
			err = srv.ServeTLS(ln, wf.tlsCert, wf.tlsKey)
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("web UI stopped", "err", err)
		}
	}()
	return &webServer{url: url, stop: func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}}, nil
}

// displayAddr is the address to open in a browser: loopback for a
// wildcard listener.
func displayAddr(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}

func loopbackOnly(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// interactive keeps the web UI up until ctx is done (Ctrl-C): the user
// starts and stops tests there, or --autostart starts one at once. At the
// end it stops the test, writes the report files and returns the verdict of
// the last test, if one ran.
func interactive(ctx context.Context, env Env, m *master.Master, f *testFlags, wf *webFlags, ws *webServer, expect int, log *slog.Logger) error {
	fmt.Fprintf(env.Stderr, "horde: web UI at %s (Ctrl-C to quit)\n", ws.url)
	if wf.autostart {
		if expect > 0 {
			if err := m.WaitWorkers(ctx, expect); err != nil {
				return nil // interrupted while waiting
			}
		}
		if err := m.Start(f.test()); err != nil {
			return exitcode.With(exitcode.BadInput, err)
		}
	}
	<-ctx.Done()
	if m.Status().Started.IsZero() {
		return nil // no test ran
	}
	return headless.Finish(m, f.end(env))
}
