package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// A runtime error inside a task is recorded with its traceback; the run
// goes on and ends with exit 1.
func TestTaskRuntimeErrorIsRecordedAndRunGoesOn(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	dir := t.TempDir()
	script := writeFile(t, dir, "broken.star", `
def index(u):
    u.get("/")

def broken(u):
    x = {"a": 1}
    return x["missing"]

users = [user(name="U", tasks={index: 1, broken: 1}, wait=constant(0.05))]
`)
	out := filepath.Join(dir, "s.json")
	r := horde(t, nil, "run", script, "-H", host, "-u", "3", "-r", "10", "-t", "1500ms", "--headless", "--json", out)
	if r.code != exitcode.Failed {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if len(s.Exceptions) != 1 || s.Exceptions[0].Count < 2 {
		t.Fatalf("exceptions %+v: want one group seen several times", s.Exceptions)
	}
	mustContain(t, "exception", s.Exceptions[0].Message+s.Exceptions[0].Traceback, "missing", "broken.star:7")
	if got := s.endpointCounts()["GET /"]; got < 3 || got != srv.Counts()["GET /"] {
		t.Fatalf("GET / counted %d, served %d: the run must go on after errors", got, srv.Counts()["GET /"])
	}
	mustContain(t, "stdout", r.stdout, "missing")
}

// --csv writes Locust's four files; --html the self-contained report.
func TestCSVFiles(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	prefix := filepath.Join(t.TempDir(), "run")
	r := horde(t, nil, "run", host+"/", "-u", "2", "-t", "2s", "--headless", "--csv", prefix, "--html", prefix+".html")
	if r.code != exitcode.OK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for suffix, header := range map[string]string{
		"_stats.csv":         "Type,Name,Request Count,Failure Count,Median Response Time",
		"_stats_history.csv": "Timestamp,User Count,Type,Name,Requests/s",
		"_failures.csv":      "Method,Name,Error,Occurrences",
		"_exceptions.csv":    "Count,Message,Traceback,Nodes",
	} {
		b, err := os.ReadFile(prefix + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), header) {
			t.Errorf("%s starts %q, want %q", suffix, firstLine(string(b)), header)
		}
	}
	b, _ := os.ReadFile(prefix + "_stats.csv")
	mustContain(t, "stats CSV", string(b), "GET,/,", ",Aggregated,")
	h, err := os.ReadFile(prefix + ".html")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "HTML report", string(h), "<svg", host, "Aggregated")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Settings come from, lowest first: the script's options, the config
// file, HORDE_* variables, the command line. TARGET_HOST sets the host.
func TestSettingSourcesPrecedence(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	dir := t.TempDir()
	script := writeFile(t, dir, "s.star", `
options = {"users": 2, "run_time": "1s", "spawn_rate": 100}
def index(u):
    u.get("/")
users = [user(name="U", tasks=[index], wait=constant(0.2))]
`)
	conf := writeFile(t, dir, "horde.conf", "users = 3\nheadless = true\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"script options", map[string]string{"TARGET_HOST": host, "HORDE_HEADLESS": "1"}, nil, 2},
		{"config over script", map[string]string{"TARGET_HOST": host}, []string{"--config", conf}, 3},
		{"env over config", map[string]string{"TARGET_HOST": host, "HORDE_USERS": "4", "HORDE_CONFIG": conf}, nil, 4},
		{"flag over env", map[string]string{"HORDE_USERS": "4"}, []string{"--config", conf, "-u", "5", "-H", host}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "s.json")
			args := append([]string{"run", script, "--json", out}, tt.args...)
			r := horde(t, tt.env, args...)
			if r.code != exitcode.OK {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if s := readSummary(t, out); s.UsersPeak != tt.want {
				t.Fatalf("users_peak = %d, want %d", s.UsersPeak, tt.want)
			}
		})
	}
}
