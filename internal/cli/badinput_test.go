package cli

import (
	"net"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
)

func TestBadInputExitsTwoWithOneClearLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	okScript := writeFile(t, dir, "ok.star", "def index(u):\n    u.get(\"/\")\nusers = [user(name=\"U\", tasks=[index])]\n")
	syntax := writeFile(t, dir, "syntax.star", "def index(u)\n    u.get(\"/\")\n")
	runtimeErr := writeFile(t, dir, "runtime.star", "def f():\n    return 1 // 0\nx = f()\n")
	noUsers := writeFile(t, dir, "nousers.star", "def index(u):\n    u.get(\"/\")\n")
	badConf := writeFile(t, dir, "bad.conf", "userz = 3\n")
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string
	}{
		{"unknown flag", nil, []string{"run", "--userz", "3", okScript}, []string{"unknown flag: --userz", "Usage: horde run"}},
		{"bad duration", nil, []string{"run", "-t", "abc", okScript}, []string{`invalid duration "abc"`, "Usage:"}},
		{"negative duration", nil, []string{"run", "-t", "-5s", okScript}, []string{"must not be negative"}},
		{"bad users", nil, []string{"run", "-u", "many", okScript}, []string{"invalid argument \"many\""}},
		{"bad spawn rate", nil, []string{"run", "-r", "0", "-H", "http://127.0.0.1:1", okScript}, []string{"--spawn-rate must be > 0"}},
		{"missing script", nil, []string{"run", pathIn(dir, "nope.star"), "-H", "http://127.0.0.1:1"}, []string{"nope.star", "no such file"}},
		{"syntax error", nil, []string{"run", syntax, "-H", "http://127.0.0.1:1"}, []string{"syntax.star:2:1: got newline, want ':'"}},
		{"runtime error at load", nil, []string{"run", runtimeErr, "-H", "http://127.0.0.1:1"}, []string{"runtime.star:2:", "division by zero"}},
		{"no users", nil, []string{"run", noUsers, "-H", "http://127.0.0.1:1"}, []string{"users"}},
		{"no host", nil, []string{"run", okScript}, []string{"no host"}},
		{"bad host", nil, []string{"run", okScript, "-H", "127.0.0.1:8080"}, []string{"--host", "want a URL"}},
		{"bad url", nil, []string{"run", "http://"}, []string{"invalid URL"}},
		{"nothing to run", nil, []string{"run"}, []string{"nothing to run"}},
		{"user classes after a URL", nil, []string{"run", "http://127.0.0.1:1/", "B"}, []string{"user classes (B) are for a script: a URL has none"}},
		{"--tag without a value", nil, []string{"run", "http://127.0.0.1:1/", "--headless", "--tag", "web"}, []string{"--tag \"web\" labels the stored run and wants key=value; to run only the tasks tagged \"web\", use --tags"}},
		{"a store that cannot be opened", nil, []string{"run", "http://127.0.0.1:1/", "--headless", "--store", "/nonexistent/dir/runs.db"}, []string{"--store"}},
		{"a baseline threshold without --baseline", nil, []string{"run", "http://127.0.0.1:1/", "--headless", "--store", "off", "--threshold", "p95<baseline*1.1"}, []string{"give --baseline RUN"}},
		{"bad env", map[string]string{"HORDE_USERS": "lots"}, []string{"run", okScript, "-H", "http://127.0.0.1:1"}, []string{"HORDE_USERS"}},
		{"bad env duration", map[string]string{"HORDE_RUN_TIME": "soon"}, []string{"run", okScript, "-H", "http://127.0.0.1:1"}, []string{"HORDE_RUN_TIME", "invalid duration"}},
		{"config unknown key", nil, []string{"run", "--config", badConf, okScript}, []string{"unknown setting \"userz\""}},
		{"config missing", nil, []string{"run", "--config", pathIn(dir, "none.conf"), okScript}, []string{"config file", "no such file"}},
		{"bad log level", nil, []string{"run", "-L", "loud", okScript, "-H", "http://127.0.0.1:1"}, []string{"--loglevel"}},
		{"unknown command", nil, []string{"rnu"}, []string{"unknown command"}},
		{"ca file missing", nil, []string{"run", okScript, "-H", "https://127.0.0.1:1", "--ca-file", pathIn(dir, "none.pem")}, []string{"--ca-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := horde(t, tt.env, tt.args...)
			if r.code != exitcode.BadInput {
				t.Fatalf("exit code %d, want 2\nstderr: %s\nstdout: %s", r.code, r.stderr, r.stdout)
			}
			mustContain(t, "stderr", r.stderr, tt.wants...)
			if !strings.HasPrefix(r.stderr, "horde: ") {
				t.Errorf("stderr does not start with the one clear line: %q", r.stderr)
			}
			for _, bad := range []string{"panic", "goroutine ", ".go:"} {
				if strings.Contains(r.stderr+r.stdout, bad) {
					t.Errorf("output shows Go internals (%q):\n%s", bad, r.stderr)
				}
			}
		})
	}
}

func pathIn(dir, name string) string { return dir + "/" + name }

// A closed port: the run completes, the failures are recorded, exit 1.
func TestUnreachableTargetIsRecordedNotFatal(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out := pathIn(t.TempDir(), "s.json")
	r := horde(t, nil, "run", "http://"+addr+"/", "-u", "2", "-t", "1s", "--headless", "--json", out)
	if r.code != exitcode.Failed {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if s.Totals.Requests == 0 || s.Totals.Failures != s.Totals.Requests {
		t.Fatalf("totals %+v: want every request recorded as failed", s.Totals)
	}
	if len(s.Errors) != 1 || s.Errors[0].Error != "connection refused" {
		t.Fatalf("errors %+v, want one group \"connection refused\"", s.Errors)
	}
	mustContain(t, "stdout", r.stdout, "connection refused")
}
