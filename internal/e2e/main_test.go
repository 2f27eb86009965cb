// Package e2e tests horde as users run it: the real binary, several
// processes, on 127.0.0.1 with ports from :0.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var hordeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "horde-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hordeBin = filepath.Join(dir, "horde")
	build := exec.Command("go", "build", "-o", hordeBin, "github.com/horde-load/horde/cmd/horde")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building horde:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a horde process whose output the test reads.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
	err  error
}

// start runs horde with args and extra environment; it is killed when
// the test ends.
func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(hordeBin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := launch(t, name, cmd)
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, p.output())
		}
	})
	return p
}

// launch starts cmd and collects its output; the caller arranges its end.
func launch(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: cmd, done: make(chan struct{})}
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		w.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitOutput waits for a line matching re and returns its first group.
func (p *proc) waitOutput(re string, d time.Duration) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(p.output()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("%s: no output matching %q within %v", p.name, re, d)
	return ""
}

// exitCode waits for the process to end and returns its exit code.
func (p *proc) exitCode(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %v", p.name, d)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	p.t.Fatalf("%s: %v", p.name, p.err)
	return -1
}

func (p *proc) signal(sig syscall.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.star")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// locustStats is the part of GET /stats/requests the tests read.
type locustStats struct {
	State     string `json:"state"`
	UserCount int    `json:"user_count"`
	Workers   []struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		UserCount int    `json:"user_count"`
	} `json:"workers"`
}

func getStats(t *testing.T, web string) (locustStats, error) {
	t.Helper()
	resp, err := http.Get(web + "/stats/requests")
	if err != nil {
		return locustStats{}, err
	}
	defer resp.Body.Close()
	var s locustStats
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

// waitWorkers polls the master until the live workers' user counts equal
// want (in any order) and returns how long it took.
func waitWorkers(t *testing.T, web string, want []int, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last locustStats
	for time.Since(start) < d {
		s, err := getStats(t, web)
		if err == nil {
			last = s
			var got []int
			for _, w := range s.Workers {
				if w.State != "missing" {
					got = append(got, w.UserCount)
				}
			}
			if sameCounts(got, want) {
				return time.Since(start)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("workers never held %v within %v; last: %+v", want, d, last.Workers)
	return 0
}

func sameCounts(got, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	count := map[int]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		count[w]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return true
}
