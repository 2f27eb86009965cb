package target

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// wireCounts are what the server saw below the routes: TCP connections
// accepted and requests per protocol, so that a test can tell that a
// client used HTTP/2 and how many connections it opened.
type wireCounts struct {
	conns        atomic.Int64
	http1, http2 atomic.Int64
}

// Conns returns the TCP connections the server has accepted, on every
// listener.
func (s *Server) Conns() int64 { return s.wire.conns.Load() }

// Protocols returns the requests served so far per protocol, "HTTP/1.1"
// (HTTP/1.0 counts there too) and "HTTP/2.0", without /_horde/ requests.
// ResetCounts does not zero them.
func (s *Server) Protocols() map[string]int64 {
	out := map[string]int64{}
	if n := s.wire.http1.Load(); n > 0 {
		out["HTTP/1.1"] = n
	}
	if n := s.wire.http2.Load(); n > 0 {
		out["HTTP/2.0"] = n
	}
	return out
}

// httpServer is the server of one listener: HTTP/1.1 and HTTP/2 — by
// prior knowledge (h2c) on a cleartext listener, by ALPN on a TLS one.
func (s *Server) httpServer() *http.Server {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           s.countProtocols(s.handler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		Protocols:         p,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.wire.conns.Add(1)
			}
		},
	}
}

// wirePath serves the connections and protocols as JSON:
// {"connections": 4, "protocols": {"HTTP/2.0": 120}}.
const wirePath = "/_horde/wire"

func (s *Server) countProtocols(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wirePath && r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, map[string]any{"connections": s.Conns(), "protocols": s.Protocols()})
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/_horde/") {
			if r.ProtoMajor == 2 {
				s.wire.http2.Add(1)
			} else {
				s.wire.http1.Add(1)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ServeTLS serves HTTPS on ln with cert until ctx ends, as Serve does:
// HTTP/2 and HTTP/1.1 as the client's ALPN asks.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener, cert tls.Certificate) error {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
	return s.Serve(ctx, tls.NewListener(ln, cfg))
}

// SelfSignedCert makes a certificate and its key (PEM) for hosts, IP
// addresses or names, valid for a year from now: for `horde target`'s
// HTTPS listener and for tests. Clients trust it with --ca-file (the
// certificate is its own CA) or skip verification with --insecure.
func SelfSignedCert(hosts ...string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"horde target"}, CommonName: "horde target"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("target: self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	var c, k bytes.Buffer
	_ = pem.Encode(&c, &pem.Block{Type: "CERTIFICATE", Bytes: der}) // a bytes.Buffer does not fail
	_ = pem.Encode(&k, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return c.Bytes(), k.Bytes(), nil
}
