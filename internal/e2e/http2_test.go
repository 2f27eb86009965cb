package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// A master given --http2 and two workers: the setting reaches the
// workers in the bundle, so every request of a script that does not
// choose (pages of u.batch requests) goes over HTTP/2 (h2c here), one
// connection per user, and every row's count equals what the target
// served.
func TestDistributedHTTP2Batch(t *testing.T) {
	t.Parallel()
	srv := target.New(target.Options{})
	host := targettest.StartServer(t, srv)
	dir := t.TempDir()
	script := filepath.Join(dir, "h2.star")
	if err := os.WriteFile(script, []byte(`
def page(u):
    u.get("/")
    for r in u.batch(["/status/201", "/delay/5", ("GET", "/bytes/100", {"name": "/bytes"})]):
        if r.proto != "HTTP/2.0":
            r.fail("over " + r.proto)

users = [user(name="U", tasks=[page], wait=constant(0.02))]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "s.json")
	m, _, addr := startMaster(t, "127.0.0.1:0", script, "--http2", "-H", host, "-u", "10", "-r", "100", "-t", "4s",
		"--stop-timeout", "5s", "--expect-workers", "2", "--json", out)
	for _, w := range []string{"w1", "w2"} {
		start(t, w, []string{"HORDE_AUTH_TOKEN=" + token}, "worker", "--master", addr, "--id", w)
	}
	if code := m.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("master exit %d", code)
	}
	reqs, fails := endpoints(t, out)
	want := map[string]string{"GET /": "GET /", "GET /status/201": "GET /status/201", "GET /delay/5": "GET /delay/5", "GET /bytes": "GET /bytes/100"}
	served := srv.Counts()
	var total int64
	for row, key := range want {
		total += reqs[row]
		if reqs[row] == 0 || reqs[row] != served[key] {
			t.Errorf("%s: horde counted %d, the target served %d", row, reqs[row], served[key])
		}
		if fails[row] != 0 {
			t.Errorf("%s: %d failures", row, fails[row])
		}
	}
	if p := srv.Protocols(); p["HTTP/2.0"] != total || p["HTTP/1.1"] != 0 {
		t.Errorf("the target saw %v, want all %d requests over HTTP/2", p, total)
	}
	if n := srv.Conns(); n != 10 {
		t.Errorf("%d connections for 10 users, want one each", n)
	}
}
