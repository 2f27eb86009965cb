package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// hordeBinary returns $HORDE_BIN, or builds cmd/horde into dir.
func hordeBinary(t *testing.T, dir string) string {
	t.Helper()
	if p := os.Getenv("HORDE_BIN"); p != "" {
		return p
	}
	bin := filepath.Join(dir, "horde")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/horde")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/horde: %v\n%s", err, out)
	}
	return bin
}

// TestRenderedConfigRunsHorde runs the horde binary with the configuration
// the manifests give it: every HORDE_* variable and every flag is one horde
// knows, the master starts from the base's environment and answers its
// probes and scrape path, and the headless Job's command line runs a test
// with a worker configured as the worker Job's, and exits with the verdict.
func TestRenderedConfigRunsHorde(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: not building and running horde")
	}
	bin := hordeBinary(t, t.TempDir())
	d := newDecoder(t)
	renders := map[string]rendering{}
	for _, dir := range kustomizations(t) {
		renders["kustomize "+dir] = renderKustomize(t, d, filepath.Join(repoRoot(t), "deploy", "kubernetes", dir))
	}
	if helm, err := exec.LookPath("helm"); err == nil || os.Getenv("HELM") != "" {
		if os.Getenv("HELM") != "" {
			helm = os.Getenv("HELM")
		}
		for name, args := range map[string][]string{"defaults": nil, "headless": {"--set", "headless.enabled=true"}} {
			out, err := helmTemplate(t, helm, args...)
			if err != nil {
				t.Fatal(err)
			}
			if renders["helm "+name], err = d.decode(bytes.NewReader(out)); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		flags := hordeFlags(t, bin)
		for name, r := range renders {
			for _, p := range r.pods() {
				for _, e := range configErrors(r, container(p), flags) {
					t.Errorf("%s: %s: %s", name, p.Owner, e)
				}
			}
		}
	})
	t.Run("master answers its probes", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"kustomize base", "helm defaults"} {
			if r, ok := renders[name]; ok {
				checkMasterServes(t, bin, r)
			}
		}
	})
	t.Run("headless job", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"kustomize overlays/headless", "helm headless"} {
			if r, ok := renders[name]; ok {
				checkHeadlessRuns(t, bin, r)
			}
		}
	})
}

// hordeFlags returns the long flags of each subcommand, from --help.
func hordeFlags(t *testing.T, bin string) map[string]map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`)
	out := map[string]map[string]bool{}
	for _, sub := range []string{"run", "master", "worker", "target"} {
		help, err := exec.Command(bin, sub, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("horde %s --help: %v\n%s", sub, err, help)
		}
		out[sub] = map[string]bool{}
		for _, m := range re.FindAllStringSubmatch(string(help), -1) {
			out[sub][m[1]] = true
		}
	}
	if !out["worker"]["reconnect-timeout"] || !out["master"]["expect-workers"] {
		t.Fatalf("could not read the flags from --help: %v", out)
	}
	return out
}

// subcommand is what horde runs in c: its first argument, or HORDE_MODE.
func subcommand(r rendering, c *corev1.Container) string {
	if len(c.Args) > 0 {
		return c.Args[0]
	}
	switch mode := resolveEnv(r, c)["HORDE_MODE"]; mode {
	case "standalone":
		return "run"
	default:
		return mode
	}
}

// configErrors: every HORDE_* variable is a flag's (HORDE_SPAWN_RATE is
// --spawn-rate) of the subcommand, every --flag exists.
func configErrors(r rendering, c *corev1.Container, flags map[string]map[string]bool) []string {
	sub := subcommand(r, c)
	known, ok := flags[sub]
	if !ok {
		return []string{fmt.Sprintf("runs %q: not a horde subcommand (args %v, HORDE_MODE)", sub, c.Args)}
	}
	var errs []string
	env := resolveEnv(r, c)
	for name := range env {
		switch {
		case name == "HORDE_MODE" || name == "HORDE_SCRIPT":
			if len(c.Args) > 0 {
				errs = append(errs, name+" is ignored: the container has args")
			}
		case name == "TARGET_HOST":
			if sub != "master" && sub != "run" {
				errs = append(errs, "TARGET_HOST on a "+sub)
			}
		case strings.HasPrefix(name, "HORDE_"):
			flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "HORDE_"), "_", "-"))
			if !known[flag] {
				errs = append(errs, fmt.Sprintf("%s: horde %s has no --%s", name, sub, flag))
			}
		default:
			errs = append(errs, "unexpected environment variable "+name)
		}
	}
	if sub == "master" && len(c.Args) == 0 && env["HORDE_SCRIPT"] == "" {
		errs = append(errs, "HORDE_MODE=master without HORDE_SCRIPT")
	}
	for _, a := range c.Args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !known[name] {
				errs = append(errs, fmt.Sprintf("horde %s has no flag --%s", sub, name))
			}
		}
	}
	return errs
}

// resolveEnv is the environment the container gets, Secrets and
// ConfigMaps looked up in r (an unrendered one reads as "").
func resolveEnv(r rendering, c *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.EnvFrom {
		if e.ConfigMapRef != nil {
			if cm, ok := r.get("ConfigMap", e.ConfigMapRef.Name).(*corev1.ConfigMap); ok {
				for k, v := range cm.Data {
					env[e.Prefix+k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			s, _ := r.get("Secret", e.ValueFrom.SecretKeyRef.Name).(*corev1.Secret)
			if s != nil {
				env[e.Name] = string(s.Data[e.ValueFrom.SecretKeyRef.Key])
			} else {
				env[e.Name] = ""
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			cm, _ := r.get("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name).(*corev1.ConfigMap)
			if cm != nil {
				env[e.Name] = cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
			}
		}
	}
	return env
}

// pod is a container made local: its volumes are directories (ConfigMaps
// written out), its paths rewritten to them.
type pod struct {
	args []string
	env  map[string]string
	dirs map[string]string // mount path -> local directory
}

func localPod(t *testing.T, r rendering, p podTemplate) *pod {
	t.Helper()
	c := container(p)
	lp := &pod{env: resolveEnv(r, c), dirs: map[string]string{}}
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(t.TempDir(), m.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if v := volume(p, m.Name); v != nil && v.ConfigMap != nil {
			cm, ok := r.get("ConfigMap", v.ConfigMap.Name).(*corev1.ConfigMap)
			if !ok {
				t.Fatalf("%s: ConfigMap %s not rendered", p.Owner, v.ConfigMap.Name)
			}
			for k, data := range cm.Data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		lp.dirs[m.MountPath] = dir
	}
	for _, a := range c.Args {
		lp.args = append(lp.args, lp.local(a))
	}
	for k, v := range lp.env {
		lp.env[k] = lp.local(v)
	}
	return lp
}

// local rewrites a path under a mount (also in --flag=PATH) to its directory.
func (p *pod) local(s string) string {
	for mp, dir := range p.dirs {
		for _, pre := range []string{"", "="} {
			if i := strings.Index(s, pre+mp+"/"); i >= 0 && (pre != "" || i == 0) {
				return s[:i+len(pre)] + dir + s[i+len(pre)+len(mp):]
			}
		}
	}
	return s
}

// proc is a running horde process.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	code   int
	stdout *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs horde with exactly env (plus PATH and HOME).
func start(t *testing.T, bin string, args []string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, out: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(p.stdout, p.out), p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// await returns the first submatch of re in the output, polling until the
// deadline.
func (p *proc) await(t *testing.T, re string, within time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("horde exited %d before %q:\n%s", p.code, re, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %q within %v:\n%s", re, within, p.out.String())
	return ""
}

// exit waits for the process to end and returns its exit code.
func (p *proc) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(within):
		t.Fatalf("horde still running after %v:\n%s", within, p.out.String())
		return -1
	}
}

// checkMasterServes starts the master as its Deployment configures it (on
// loopback ports) and asks it what the kubelet and Prometheus ask.
func checkMasterServes(t *testing.T, bin string, r rendering) {
	t.Helper()
	m := r.one(t, "master")
	lp := localPod(t, r, m)
	lp.env["HORDE_BIND"], lp.env["HORDE_WEB_HOST"], lp.env["HORDE_WEB_PORT"] = "127.0.0.1:0", "127.0.0.1", "0"
	p := start(t, bin, lp.args, lp.env)
	web := p.await(t, `web API listening" addr=(\S+)`, 30*time.Second)
	c := container(m)
	paths := []string{c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path}
	if sp := m.Spec.Annotations["prometheus.io/path"]; sp != "" {
		paths = append(paths, sp)
	}
	for _, path := range paths {
		resp, err := http.Get(web + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !bytes.Contains(body, []byte("horde_users")) {
			t.Errorf("GET /metrics: no horde_users in\n%s", body)
		}
	}
}

// checkHeadlessRuns runs the headless master Job's command line for a
// short test against a local target, with one worker configured as the
// worker Job's: the master exits 0 with the summary in its log and the
// reports on its volume; the worker then ends with a code its Job's
// podFailurePolicy ends the Job on (or 0).
func checkHeadlessRuns(t *testing.T, bin string, r rendering) {
	t.Helper()
	target := start(t, bin, []string{"target", "--addr", "127.0.0.1:0"}, nil)
	host := target.await(t, `target listening" addr=(\S+)`, 30*time.Second)

	m := r.one(t, "master")
	lp := localPod(t, r, m)
	lp.env["TARGET_HOST"] = host
	args := append(slices.Clone(lp.args), "--bind=127.0.0.1:0", "--web-host=127.0.0.1", "--web-port=0",
		"--run-time=2s", "--expect-workers=1", "--expect-workers-max-wait=30s", "--users=3", "--spawn-rate=10", "--print-interval=1s")
	master := start(t, bin, args, lp.env)
	addr := master.await(t, `worker port open" addr=(\S+)`, 30*time.Second)

	w := r.one(t, "worker")
	wp := localPod(t, r, w)
	wp.env["HORDE_MASTER"], wp.env["HORDE_RECONNECT_TIMEOUT"] = addr, "1s"
	worker := start(t, bin, wp.args, wp.env)

	if code := master.exit(t, 60*time.Second); code != 0 {
		t.Fatalf("headless master exited %d, want 0:\n%s", code, master.out.String())
	}
	if !strings.Contains(master.stdout.String(), "Aggregated") {
		t.Errorf("the master's log has no summary table:\n%s", master.stdout.String())
	}
	reports := lp.dirs["/reports"]
	var sum struct {
		Version int
		Totals  struct{ Requests int }
	}
	raw, err := os.ReadFile(filepath.Join(reports, "summary.json"))
	if err != nil || json.Unmarshal(raw, &sum) != nil || sum.Version != 1 || sum.Totals.Requests == 0 {
		t.Errorf("summary.json on the reports volume: %v %s", err, raw)
	}
	for _, f := range []string{"report.html", "horde_stats.csv"} {
		if st, err := os.Stat(filepath.Join(reports, f)); err != nil || st.Size() == 0 {
			t.Errorf("report %s not on the reports volume: %v", f, err)
		}
	}
	code := worker.exit(t, 30*time.Second)
	t.Logf("%s: the worker exited %d once the master had gone", m.Owner, code)
	if code != 0 && !failJobOn(w.Job, int32(code)) {
		t.Errorf("after the master, the worker exited %d, which the worker Job's podFailurePolicy does not end on:\n%s", code, worker.out.String())
	}
}
