package targettest

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/horde-load/horde/internal/target"
)

// StartTLS serves srv over HTTPS (HTTP/2 and HTTP/1.1 by ALPN) on
// 127.0.0.1:0 with a self-signed certificate until the test ends. It
// returns the base URL ("https://127.0.0.1:PORT") and a PEM file of the
// certificate for --ca-file. srv may serve other listeners too (Start's
// serves HTTP/1.1 and h2c): the counts are the same.
func StartTLS(t testing.TB, srv *target.Server) (base, caFile string) {
	t.Helper()
	certPEM, keyPEM, err := target.SelfSignedCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "target-ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeTLS(ctx, ln, cert) }()
	t.Cleanup(func() { cancel(); <-done })
	return "https://" + ln.Addr().String(), caFile
}

// StartServer serves srv (HTTP/1.1 and h2c) on 127.0.0.1:0 until the
// test ends, as Start does for a server it makes, and returns its base
// URL: with StartTLS, one target on both.
func StartServer(t testing.TB, srv *target.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}
