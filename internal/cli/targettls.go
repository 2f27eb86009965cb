package cli

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
)

// targetTLS are `horde target`'s HTTPS flags.
type targetTLS struct {
	addr, cert, key string
}

func (f *targetTLS) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "tls-addr", "", "also serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) on this address, e.g. :8443")
	fs.StringVar(&f.cert, "tls-cert", "", "PEM certificate for --tls-addr (default: a self-signed one for 127.0.0.1 and localhost, made at start)")
	fs.StringVar(&f.key, "tls-key", "", "PEM private key of --tls-cert")
}

// serve serves srv on the plain listener and on --tls-addr until ctx
// ends; the first error stops both.
func (f *targetTLS) serve(ctx context.Context, srv *target.Server, plain net.Listener, log *slog.Logger) error {
	cert, err := f.certificate(log)
	if err != nil {
		_ = plain.Close()
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		_ = plain.Close()
		return exitcode.With(exitcode.CannotRun, fmt.Errorf("target: %w", err))
	}
	log.Info("target listening", slog.String("addr", "https://"+ln.Addr().String()))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ctx, plain) }()
	go func() { errc <- srv.ServeTLS(ctx, ln, cert) }()
	first := <-errc
	cancel()
	return errors.Join(first, <-errc)
}

func (f *targetTLS) certificate(log *slog.Logger) (tls.Certificate, error) {
	if (f.cert == "") != (f.key == "") {
		return tls.Certificate{}, exitcode.Newf(exitcode.BadInput, "--tls-cert and --tls-key go together")
	}
	if f.cert != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return tls.Certificate{}, exitcode.With(exitcode.BadInput, fmt.Errorf("--tls-cert/--tls-key: %w", err))
		}
		return cert, nil
	}
	certPEM, keyPEM, err := target.SelfSignedCert("127.0.0.1", "::1", "localhost")
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
		log.Info("target: self-signed certificate for 127.0.0.1, ::1 and localhost: run horde with --insecure",
			slog.String("sha256", fmt.Sprintf("%x", sha256.Sum256(leaf.Raw))))
	}
	return cert, nil
}
