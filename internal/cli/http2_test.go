package cli

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// h2PageScript loads a page of five 200 ms assets at once in a
// transaction, and fails any response that did not come over HTTP/2.
const h2PageScript = `
def assets(u):
    for r in u.batch([("GET", "/delay/200", {"name": "/asset"})] * 5):
        if r.proto != "HTTP/2.0":
            r.fail("over " + r.proto)

def page(u):
    u.get("/", name="/")
    u.transaction("page", assets)

users = [user(name="H2", tasks=[page]%s)]
`

// HTTP/2 end to end against horde target, over TLS (chosen by the user
// class) and h2c (chosen by --http2): what horde counted equals what the
// target served, all of it over HTTP/2, on one connection per user; and a
// batch of five 200 ms requests takes about 200 ms, not 1 s.
func TestHTTP2CountsEqualTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, userArg string
		tls           bool
		flags         []string
	}{
		{"tls by user(http2=True)", ", http2=True", true, nil},
		{"h2c by --http2", "", false, []string{"--http2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := target.New(target.Options{})
			host := targettest.StartServer(t, srv)
			args := tc.flags
			if tc.tls {
				var ca string
				host, ca = targettest.StartTLS(t, srv)
				args = append(args, "--ca-file", ca)
			}
			dir := t.TempDir()
			script := filepath.Join(dir, "h2.star")
			if err := os.WriteFile(script, []byte(fmt.Sprintf(h2PageScript, tc.userArg)), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "s.json")
			r := horde(t, nil, append([]string{"run", script, "-H", host, "-u", "4", "-r", "100", "-t", "4s",
				"--stop-timeout", "10s", "--headless", "--json", out}, args...)...)
			if r.code != exitcode.OK {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			s := readSummary(t, out)
			got, served := s.endpointCounts(), srv.Counts()
			if got["GET /asset"] != served["GET /delay/200"] || got["GET /"] != served["GET /"] || got["GET /asset"] < 20 {
				t.Errorf("horde counted %d assets and %d pages, the target served %d and %d (want equal, ≥ 20 assets)",
					got["GET /asset"], got["GET /"], served["GET /delay/200"], served["GET /"])
			}
			if got["GET /asset"] != 5*got["TRANSACTION page"] {
				t.Errorf("%d assets in %d pages, want 5 per page", got["GET /asset"], got["TRANSACTION page"])
			}
			if p := srv.Protocols(); p["HTTP/1.1"] != 0 || p["HTTP/2.0"] != s.Totals.Requests-got["TRANSACTION page"] {
				t.Errorf("the target saw %v, want every one of horde's %d requests over HTTP/2", p, s.Totals.Requests-got["TRANSACTION page"])
			}
			if n := srv.Conns(); n != 4 {
				t.Errorf("%d connections, want 4: one per user, the batches' requests as its streams", n)
			}
			if s.Totals.Failures != 0 {
				t.Errorf("%d failures: %+v", s.Totals.Failures, s.Errors)
			}
			// Five 200 ms requests one after another would take 1 s at the
			// least: the median page shows they ran at once.
			if med := s.latency("TRANSACTION", "page", "p50"); med < 200 || med >= 1000 {
				t.Errorf("a page of five 200 ms requests took %.0f ms (median), want about 200", med)
			}
		})
	}
}

// HTTP/2 against nginx (Debian's 1.22: listen ... ssl http2, with a
// certificate the test makes): counts equal its access log, every request
// logged as HTTP/2.0.
func TestHTTP2CountsEqualNginx(t *testing.T) {
	t.Parallel()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
		}
		nginx = "/usr/sbin/nginx"
	}
	host, ca, logPath := startNginxH2(t, nginx, "")
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", repoFile("examples", "seed.star"), "-H", host, "--http2", "--ca-file", ca,
		"-u", "10", "-r", "20", "-t", "5s", "--stop-timeout", "10s", "--headless", "--json", out)
	if r.code != exitcode.OK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	served, protos, _ := readNginxH2Log(t, logPath)
	got := s.endpointCounts()
	var total int64
	for _, k := range []string{"POST /login", "GET /", "GET /profile"} {
		total += got[k]
		if got[k] != served[k] {
			t.Errorf("%s: horde counted %d, nginx served %d", k, got[k], served[k])
		}
	}
	if total != s.Totals.Requests || total < 20 {
		t.Errorf("endpoints add up to %d, totals say %d (want ≥ 20)", total, s.Totals.Requests)
	}
	if protos["HTTP/2.0"] != total || len(protos) != 1 {
		t.Errorf("nginx logged the protocols %v, want all %d requests over HTTP/2.0", protos, total)
	}
}

// nginx ends an HTTP/2 connection after keepalive_requests requests with
// GOAWAY: horde's users open new ones, and no request is lost or failed.
func TestHTTP2ConnectionsRenewedByNginx(t *testing.T) {
	t.Parallel()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
		}
		nginx = "/usr/sbin/nginx"
	}
	host, ca, logPath := startNginxH2(t, nginx, "keepalive_requests 20;")
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", host+"/profile", "--http2=strict", "--ca-file", ca,
		"-u", "4", "-r", "100", "-t", "2s", "--headless", "--json", out)
	if r.code != exitcode.OK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	served, protos, conns := readNginxH2Log(t, logPath)
	if got := s.endpointCounts()["GET /profile"]; got != served["GET /profile"] || got < 100 || s.Totals.Failures != 0 {
		t.Errorf("horde counted %d (%d failed), nginx served %d; want equal, ≥ 100, none failed", got, s.Totals.Failures, served["GET /profile"])
	}
	if protos["HTTP/2.0"] != served["GET /profile"] {
		t.Errorf("protocols %v", protos)
	}
	if want := served["GET /profile"] / 20; conns < want {
		t.Errorf("%d connections for %d requests, want ≥ %d: nginx closes each after 20", conns, served["GET /profile"], want)
	}
}

// startNginxH2 starts nginx with HTTPS and HTTP/2 on a free port, with a
// self-signed certificate and directive in its http block; it
// returns the base URL, the certificate's file (for --ca-file) and the
// access log, whose lines are "METHOD URI STATUS PROTOCOL CONNECTION".
func startNginxH2(t *testing.T, bin, directive string) (host, caFile, logPath string) {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM, err := target.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	caFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	logPath = filepath.Join(dir, "access.log")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // polls the test's own nginx
	defer client.CloseIdleConnections()
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		user := ""
		if os.Geteuid() == 0 {
			user = "user root;"
		}
		conf := fmt.Sprintf(`%s
worker_processes 1;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 1024; }
http {
  log_format counts '$request_method $uri $status $server_protocol $connection';
  %[6]s
  access_log %[2]s/access.log counts;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  server {
    listen 127.0.0.1:%[3]d ssl http2;
    ssl_certificate %[4]s;
    ssl_certificate_key %[5]s;
    location = / { default_type text/html; return 200 "<h1>home</h1>\n"; }
    location = /login { default_type application/json; add_header Set-Cookie "session=s1; Path=/"; return 200 '{"token":"t1"}'; }
    location = /profile { default_type application/json; return 200 '{"username":"ellen_key"}'; }
  }
}
`, user, dir, port, caFile, keyFile, directive)
		confPath := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-p", dir, "-c", confPath)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		host = fmt.Sprintf("https://127.0.0.1:%d", port)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := client.Head(host + "/_ready")
			if err == nil {
				resp.Body.Close()
				t.Cleanup(func() {
					_ = cmd.Process.Signal(os.Interrupt)
					_ = cmd.Wait()
				})
				return host, caFile, logPath
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Fatal("nginx did not start")
	return "", "", ""
}

// readNginxH2Log counts startNginxH2's access log per "METHOD URI", per
// protocol and the connections, without the start-up polls.
func readNginxH2Log(t *testing.T, path string) (counts, protos map[string]int64, conns int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts, protos = map[string]int64{}, map[string]int64{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 5 && fields[1] != "/_ready" {
			counts[fields[0]+" "+fields[1]]++
			protos[fields[3]]++
			seen[fields[4]] = true
		}
	}
	return counts, protos, int64(len(seen))
}

// latency is an endpoint's latency statistic (key "p50", "max"...), or
// -1 when the summary has no such endpoint.
func (s summary) latency(method, name, key string) float64 {
	for _, e := range s.Endpoints {
		if e.Method == method && e.Name == name {
			return e.Latency[key]
		}
	}
	return -1
}

// --http2 comes from the command line, the environment or the script's
// options (the command line winning), and a bad value is bad input.
func TestHTTP2SettingSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "opt.star")
	if err := os.WriteFile(script, []byte(`
options = {"http2": True}
users = [user(name="U", tasks=[lambda u: u.get("/")])]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"environment", map[string]string{"HORDE_HTTP2": "true"}, []string{"URL"}, "HTTP/2.0"},
		{"options", nil, []string{script}, "HTTP/2.0"},
		{"flag over options", nil, []string{script, "--http2=false"}, "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := target.New(target.Options{})
			host := targettest.StartServer(t, srv)
			args := []string{"run", "-H", host, "-u", "2", "-r", "100", "-t", "1s", "--headless", "--only-summary"}
			for _, a := range tc.args {
				if a == "URL" {
					a = host + "/"
				}
				args = append(args, a)
			}
			if r := horde(t, tc.env, args...); r.code != exitcode.OK {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if p := srv.Protocols(); p[tc.want] == 0 || len(p) != 1 {
				t.Errorf("the target saw %v, want only %s", p, tc.want)
			}
		})
	}
	r := horde(t, nil, "run", "http://127.0.0.1:1/", "--http2=sometimes", "--headless")
	if r.code != exitcode.BadInput || !strings.Contains(r.stderr, "want true, false or strict") {
		t.Errorf("--http2=sometimes: exit %d, stderr %q; want 2 naming the values", r.code, r.stderr)
	}
}
