package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pki is a test CA with a server and a client certificate, as PEM files.
type pki struct {
	dir                   string
	ca                    string
	serverCert, serverKey string
	clientCert, clientKey string
	caCert                *x509.Certificate
	caKey                 *ecdsa.PrivateKey
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.caKey = newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "horde test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.caCert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.ca = p.write(t, "ca.pem", "CERTIFICATE", der)
	p.serverCert, p.serverKey = p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = p.issue(t, "client", x509.ExtKeyUsageClientAuth)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue signs a certificate for 127.0.0.1 and localhost.
func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "PRIVATE KEY", keyDER)
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func tlsConfig(t *testing.T, cert, key, ca string, server bool) *tls.Config {
	t.Helper()
	cfg, err := TLSConfig(cert, key, ca, server)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestTLSAndMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tlsServer := startServer(t, ServerOptions{Token: token, TLS: tlsConfig(t, p.serverCert, p.serverKey, "", true)})
	mtlsServer := startServer(t, ServerOptions{Token: token, TLS: tlsConfig(t, p.serverCert, p.serverKey, p.ca, true)})
	plainServer := startServer(t, ServerOptions{Token: token})

	trusting := tlsConfig(t, "", "", p.ca, false)
	withCert := tlsConfig(t, p.clientCert, p.clientKey, p.ca, false)
	untrusting := tlsConfig(t, "", "", "", false)

	for _, tc := range []struct {
		name    string
		srv     *testServer
		tls     *tls.Config
		explain string // "" means admitted
		log     []string
	}{
		{"TLS", tlsServer, trusting, "", nil},
		{"TLS client with a certificate", tlsServer, withCert, "", nil},
		{"mTLS", mtlsServer, withCert, "", nil},
		{"mTLS client without a certificate", mtlsServer, trusting, "master unreachable at",
			[]string{"level=WARN", "TLS handshake failed", "certificate"}},
		{"plaintext client to a TLS master", tlsServer, nil, "master unreachable at",
			[]string{"level=WARN", "TLS handshake failed"}},
		{"client that does not trust the master", tlsServer, untrusting, "TLS handshake failed",
			[]string{"level=WARN", "TLS handshake failed", "bad certificate"}},
		{"TLS client to a plaintext master", plainServer, trusting, "master unreachable at",
			[]string{"level=WARN", "not a horde worker", "a TLS client"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := DialOptions{Token: token, TLS: tc.tls}
			if tc.explain == "" {
				w := join(t, tc.srv.addr, o, "w")
				if err := w.ping(); err != nil {
					t.Fatal(err)
				}
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			_, _, err := Dial(ctx, tc.srv.addr, o)
			if err == nil {
				t.Fatal("Dial succeeded")
			}
			if c := status.Code(err); c != codes.Unavailable {
				t.Errorf("code %v (%v), want Unavailable", c, err)
			}
			if ex := Explain(err); !strings.Contains(ex, tc.explain) {
				t.Errorf("Explain = %q, want %q", ex, tc.explain)
			}
			tc.srv.log.waitLine(t, tc.log...)
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	garbage := filepath.Join(p.dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(p.dir, "missing.pem")
	for _, tc := range []struct {
		name          string
		cert, key, ca string
		server        bool
		want          string // in the error; "" means no error
		clientAuth    tls.ClientAuthType
	}{
		{"server", p.serverCert, p.serverKey, "", true, "", tls.NoClientCert},
		{"server mTLS", p.serverCert, p.serverKey, p.ca, true, "", tls.RequireAndVerifyClientCert},
		{"client", "", "", p.ca, false, "", tls.NoClientCert},
		{"client mTLS", p.clientCert, p.clientKey, p.ca, false, "", tls.NoClientCert},
		{"server without a certificate", "", "", p.ca, true, "needs a certificate and a key", 0},
		{"certificate without a key", p.serverCert, "", "", true, "both a certificate and a key", 0},
		{"missing certificate", missing, p.serverKey, "", true, "missing.pem", 0},
		{"key of another certificate", p.serverCert, p.clientKey, "", true, "private key does not match", 0},
		{"missing CA", "", "", missing, false, "no such file", 0},
		{"CA file without PEM", "", "", garbage, false, "holds no PEM certificate", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := TLSConfig(tc.cert, tc.key, tc.ca, tc.server)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.ClientAuth != tc.clientAuth {
					t.Errorf("ClientAuth %v, want %v", cfg.ClientAuth, tc.clientAuth)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
