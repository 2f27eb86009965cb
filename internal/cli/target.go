package cli

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
)

func newTargetCmd(env Env) *cobra.Command {
	var addr, grpcAddr, config, logLevel string
	var tlsFlags targetTLS
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Serve the tutorial's sample web app plus test endpoints (delays, status codes, stalls)",
		Long: "Serve the sample app of the tutorial (/, POST /login, /profile) and endpoints for tests\n" +
			"and demos: /delay/{ms}, /random-delay?min=&max=, /status/{code}, /stall?period=&stall=,\n" +
			"/bytes/{n}, /echo, /redirect/{n}, WebSockets /ws/echo and /ws/broadcast, and a gRPC service\n" +
			"with reflection on --grpc-addr. GET /_horde/counts shows what it served.\n" +
			"It speaks HTTP/1.1 and HTTP/2 by prior knowledge (h2c) on --addr, and HTTPS (HTTP/2 and\n" +
			"HTTP/1.1 by ALPN) on --tls-addr, with a self-signed certificate unless --tls-cert/--tls-key give one.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			log, err := newLogger(env.Stderr, logLevel)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return exitcode.With(exitcode.CannotRun, fmt.Errorf("target: %w", err))
			}
			log.Info("target listening", slog.String("addr", "http://"+ln.Addr().String()))
			srv := target.New(target.Options{Logger: log, Version: Version})
			if grpcAddr != "" {
				stop, err := startGRPC(cmd.Context(), log, srv, grpcAddr, cmd.Flags().Changed("grpc-addr"))
				if err != nil {
					return err
				}
				defer stop()
			}
			if tlsFlags.addr == "" {
				return srv.Serve(cmd.Context(), ln)
			}
			return tlsFlags.serve(cmd.Context(), srv, ln, log)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "read settings from this file")
	cmd.Flags().StringVar(&addr, "addr", ":8080", "address to listen on")
	cmd.Flags().StringVar(&grpcAddr, "grpc-addr", ":50051", "address of the gRPC service (\"\" turns it off)")
	cmd.Flags().StringVarP(&logLevel, "loglevel", "L", "info", "log level: debug, info, warn, error")
	tlsFlags.register(cmd)
	return cmd
}
