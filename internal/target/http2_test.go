package target

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// serveBoth serves s on a cleartext and a TLS listener (a self-signed
// certificate for 127.0.0.1) until the test ends; it returns both base
// URLs and a pool that trusts the certificate.
func serveBoth(t *testing.T, s *Server) (plain, secure string, roots *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM, err := SelfSignedCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("the certificate does not parse")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	ln1, ln2 := listen(), listen()
	go func() { done <- s.Serve(ctx, ln1) }()
	go func() { done <- s.ServeTLS(ctx, ln2, cert) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	})
	return "http://" + ln1.Addr().String(), "https://" + ln2.Addr().String(), roots
}

// The same endpoints over HTTP/2 — by ALPN over TLS and by prior
// knowledge over cleartext — and HTTP/1.1, counted per "METHOD path" as
// always, with the protocols and connections seen.
func TestHTTP2ServedAndCounted(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	plain, secure, roots := serveBoth(t, s)
	h2 := new(http.Protocols)
	h2.SetHTTP2(true)
	h2.SetUnencryptedHTTP2(true)
	h1 := new(http.Protocols)
	h1.SetHTTP1(true)
	for _, tc := range []struct {
		name, base, want string
		protos           *http.Protocols
	}{
		{"h2 over tls", secure, "HTTP/2.0", h2},
		{"h2c", plain, "HTTP/2.0", h2},
		{"http/1.1 over tls", secure, "HTTP/1.1", h1},
		{"http/1.1", plain, "HTTP/1.1", h1},
	} {
		tr := &http.Transport{Protocols: tc.protos, TLSClientConfig: &tls.Config{RootCAs: roots}}
		c := &http.Client{Transport: tr}
		for _, path := range []string{"/", "/profile", "/delay/1", "/status/404"} {
			resp, err := c.Get(tc.base + path)
			if err != nil {
				t.Fatalf("%s: GET %s: %v", tc.name, path, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Proto != tc.want {
				t.Fatalf("%s: GET %s over %s, want %s", tc.name, path, resp.Proto, tc.want)
			}
		}
		tr.CloseIdleConnections()
	}
	counts := s.Counts()
	for _, k := range []string{"GET /", "GET /profile", "GET /delay/1", "GET /status/404"} {
		if counts[k] != 4 {
			t.Errorf("%s counted %d times, want 4 (once per protocol and listener)", k, counts[k])
		}
	}
	if p := s.Protocols(); p["HTTP/2.0"] != 8 || p["HTTP/1.1"] != 8 {
		t.Errorf("protocols %v, want 8 requests of each", p)
	}
	if n := s.Conns(); n != 4 {
		t.Errorf("%d connections, want 4 (one per client)", n)
	}
	resp, err := http.Get(plain + "/_horde/wire")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want := `{"connections":5,"protocols":{"HTTP/1.1":8,"HTTP/2.0":8}}`; strings.TrimSpace(string(b)) != want {
		t.Errorf("GET /_horde/wire = %s, want %s", b, want)
	}
}

func TestSelfSignedCertNamesItsHosts(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM, err := SelfSignedCert("127.0.0.1", "target.test")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, host := range []string{"127.0.0.1", "target.test"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: roots}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: roots}); err == nil {
		t.Error("the certificate verifies for a host it does not name")
	}
}
