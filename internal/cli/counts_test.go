package cli

import (
	"bufio"
	"fmt"
	"net"
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

// repoFile is a path inside the repository, from this package's directory.
func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

// The tutorial's scenario against the sample app: what horde counted per
// endpoint equals what the app served.
func TestSeedScenarioCountsEqualServer(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", repoFile("examples", "seed.star"), "-H", host, "-u", "20", "-r", "20",
		"-t", "7s", "--stop-timeout", "10s", "--headless", "--json", out)
	if r.code != exitcode.OK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	served := srv.Counts()
	got := s.endpointCounts()
	if got["POST /login"] != 20 {
		t.Errorf("POST /login counted %d times, want 20 (once per user)", got["POST /login"])
	}
	for _, k := range []string{"POST /login", "GET /", "GET /profile"} {
		if got[k] != served[k] {
			t.Errorf("%s: horde counted %d, the server served %d", k, got[k], served[k])
		}
	}
	if s.Totals.Failures != 0 {
		t.Errorf("failures %d, want 0: %+v", s.Totals.Failures, s.Errors)
	}
}

// The same against nginx, a server horde did not write: counts from its
// access log.
func TestSeedScenarioCountsEqualNginx(t *testing.T) {
	t.Parallel()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
		}
		nginx = "/usr/sbin/nginx"
	}
	host, logPath := startNginx(t, nginx)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", repoFile("examples", "seed.star"), "-H", host, "-u", "20", "-r", "20",
		"-t", "7s", "--stop-timeout", "10s", "--headless", "--json", out)
	if r.code != exitcode.OK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	served := readNginxCounts(t, logPath)
	got := s.endpointCounts()
	total := int64(0)
	for _, k := range []string{"POST /login", "GET /", "GET /profile"} {
		total += got[k]
		if got[k] != served[k] {
			t.Errorf("%s: horde counted %d, nginx served %d", k, got[k], served[k])
		}
	}
	if total != s.Totals.Requests || total < 40 {
		t.Errorf("endpoints add up to %d, totals say %d (want ≥ 40)", total, s.Totals.Requests)
	}
}

func startNginx(t *testing.T, bin string) (host, logPath string) {
	t.Helper()
	dir := t.TempDir()
	logPath = filepath.Join(dir, "access.log")
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
  log_format counts '$request_method $uri $status';
  access_log %[2]s/access.log counts;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  server {
    listen 127.0.0.1:%[3]d;
    location = / { default_type text/html; return 200 "<h1>home</h1>\n"; }
    location = /login { default_type application/json; add_header Set-Cookie "session=s1; Path=/"; return 200 '{"token":"t1"}'; }
    location = /profile { default_type application/json; return 200 '{"username":"ellen_key"}'; }
  }
}
`, user, dir, port)
		confPath := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-p", dir, "-c", confPath)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		host = fmt.Sprintf("http://127.0.0.1:%d", port)
		if waitHTTP(host, 5*time.Second) {
			t.Cleanup(func() {
				_ = cmd.Process.Signal(os.Interrupt)
				_ = cmd.Wait()
			})
			return host, logPath
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Fatal("nginx did not start")
	return "", ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHTTP(host string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := http.Head(host + "/_ready")
		if err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func readNginxCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[1] != "/_ready" {
			counts[fields[0]+" "+fields[1]]++
		}
	}
	return counts
}
