package deploytest

import (
	"bufio"
	"context"
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

// TestKubeE2E runs docs/kubernetes.md on a real cluster: every block marked
// <!-- run: NAME --> in the page's order of steps, as written, with two
// changes only (kubectl port-forward listens on a free port instead of
// 8089, and the curl lines use it), and checks after each step what a user
// would see. make kube-e2e starts the one-node cluster of
// scripts/kube-cluster.sh, sets HORDE_KUBE_E2E_KUBECONFIG to its
// kubeconfig, and takes the cluster down afterwards, pass or fail. Without
// that variable the test is skipped.
//
// It prints the figures: time to 7 workers and to 20, users per worker,
// requests counted by horde and served by the sample app, the headless
// Job's exit codes, the Helm steps' times.
func TestKubeE2E(t *testing.T) {
	kubeconfig := os.Getenv("HORDE_KUBE_E2E_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("HORDE_KUBE_E2E_KUBECONFIG is not set: make kube-e2e runs this on a real one-node cluster (scripts/kube-cluster.sh)")
	}
	e := newE2E(t, kubeconfig)
	defer e.printFigures()
	t.Cleanup(e.cleanUpAfterFailure)
	e.walkthrough()
	e.headless()
	e.helm()
	e.nothingLeft("at the end")
}

// e2e is the state of one walkthrough: the page's blocks, a work directory
// where they run (with deploy/, examples/ and scripts/ linked from the
// repository, and the files the page asks for), the environment.
type e2e struct {
	t       *testing.T
	blocks  []docBlock
	root    string // the repository
	work    string // where the blocks run
	env     []string
	figures []string

	mu       sync.Mutex
	forwards []*exec.Cmd
	failures []string // what failed the test, repeated after the figures
}

func newE2E(t *testing.T, kubeconfig string) *e2e {
	e := &e2e{t: t, blocks: readDocBlocks(t), root: repoRoot(t), work: t.TempDir()}
	for _, d := range []string{"deploy", "examples", "scripts"} {
		if err := os.Symlink(filepath.Join(e.root, d), filepath.Join(e.work, d)); err != nil {
			t.Fatal(err)
		}
	}
	path := os.Getenv("PATH")
	if bin := os.Getenv("HORDE_KUBE_BIN"); bin != "" {
		path = bin + string(os.PathListSeparator) + path
	}
	e.env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+path)
	for _, tool := range []string{"kubectl", "helm", "curl", "openssl", "make"} {
		if _, err := lookPath(tool, path); err != nil {
			t.Fatalf("%s is not on PATH (%s): make kube-e2e provides kubectl (HORDE_KUBE_BIN), .ci/run installs helm", tool, path)
		}
	}
	t.Cleanup(e.stopForwards)
	return e
}

func lookPath(tool, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, tool)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", tool)
}

// figure records one figure for the summary and logs it at once.
func (e *e2e) figure(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	e.figures = append(e.figures, s)
	e.t.Log(s)
}

// printFigures prints the figures and then, when the test failed, why:
// the failures again, at the end of a long log where they are found.
func (e *e2e) printFigures() {
	fmt.Println("kube-e2e figures:")
	for _, f := range e.figures {
		fmt.Println("  " + f)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.failures) > 0 {
		fmt.Printf("%s failed (%d), why:\n", e.t.Name(), len(e.failures))
		for _, f := range e.failures {
			fmt.Println("  " + strings.ReplaceAll(f, "\n", "\n    "))
		}
	}
}

// errorf is t.Errorf, the message also kept for printFigures.
func (e *e2e) errorf(format string, a ...any) {
	e.t.Helper()
	e.keep(format, a...)
	e.t.Errorf(format, a...)
}

// fatalf is t.Fatalf, the message also kept for printFigures.
func (e *e2e) fatalf(format string, a ...any) {
	e.t.Helper()
	e.keep(format, a...)
	e.t.Fatalf(format, a...)
}

func (e *e2e) keep(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	if len(s) > 2000 {
		s = s[:2000] + " […]"
	}
	e.mu.Lock()
	e.failures = append(e.failures, s)
	e.mu.Unlock()
}

// run runs the page's block name with bash (-e, -u, pipefail) in the work
// directory, with the substitutions given as old, new pairs (each old must
// be in the block), and returns its output; it fails the test if the block
// fails or takes longer than timeout.
func (e *e2e) run(name string, timeout time.Duration, subst ...string) string {
	e.t.Helper()
	b := docRun(e.t, e.blocks, name)
	return e.runText(fmt.Sprintf("%s:%d (%s)", kubernetesDoc, b.Line, name), b.Text, e.work, timeout, subst...)
}

func (e *e2e) runText(what, text, dir string, timeout time.Duration, subst ...string) string {
	e.t.Helper()
	for i := 0; i+1 < len(subst); i += 2 {
		if !strings.Contains(text, subst[i]) {
			e.fatalf("%s: no %q to replace in\n%s", what, subst[i], text)
		}
		text = strings.ReplaceAll(text, subst[i], subst[i+1])
	}
	ctx, cancel := context.WithTimeout(e.t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", text)
	cmd.Dir, cmd.Env = dir, e.env
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	e.t.Logf("ran %s in %.1fs:\n%s\n--- output:\n%s", what, time.Since(start).Seconds(), indent(text), indent(string(out)))
	if err != nil {
		e.fatalf("%s failed (%v): %s", what, err, lastLines(string(out), 20))
	}
	return string(out)
}

// kubectl runs kubectl with args for the test's own checks.
func (e *e2e) kubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(e.t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Dir, cmd.Env = e.work, e.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func (e *e2e) mustKubectl(args ...string) string {
	e.t.Helper()
	out, err := e.kubectl(args...)
	if err != nil {
		e.fatalf("%v", err)
	}
	return out
}

// poll calls f every half second until it returns nil or timeout has
// passed; then it fails the test with f's last error.
func (e *e2e) poll(what string, timeout time.Duration, f func() error) time.Duration {
	e.t.Helper()
	start := time.Now()
	var err error
	for {
		if err = f(); err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout || e.t.Context().Err() != nil {
			e.dumpState()
			e.fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dumpState logs what a person would look at when a step times out.
func (e *e2e) dumpState() {
	for _, args := range [][]string{
		{"get", "pods,jobs,svc,pvc", "-o", "wide"},
		{"get", "events", "--sort-by=.lastTimestamp"},
		{"logs", "-l", "app.kubernetes.io/component=master", "--tail=40"},
	} {
		out, err := e.kubectl(args...)
		e.t.Logf("kubectl %s: %v\n%s", strings.Join(args, " "), err, lastLines(out, 40))
	}
}

// forward starts the page's port-forward block for svc with a free local
// port instead of the fixed one (0:PORT for PORT:PORT) and returns the
// local address. It ends with the test, or with stopForwards.
func (e *e2e) forward(name, svc string, port int) string {
	e.t.Helper()
	b := docRun(e.t, e.blocks, name)
	cmdline := strings.TrimSpace(b.Text)
	fixed := fmt.Sprintf("%d:%d", port, port)
	if strings.Count(cmdline, "\n") != 0 || !strings.Contains(cmdline, "kubectl port-forward") || !strings.Contains(cmdline, fixed) {
		e.fatalf("%s:%d: want one `kubectl port-forward ... %s` line, got %q", kubernetesDoc, b.Line, fixed, cmdline)
	}
	cmdline = strings.Replace(cmdline, fixed, fmt.Sprintf("0:%d", port), 1)
	cmdline = strings.Replace(cmdline, "svc/horde-ui", "svc/"+svc, 1)
	cmd := exec.Command("bash", "-c", "exec "+cmdline)
	cmd.Dir, cmd.Env = e.work, e.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.fatalf("%v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		e.fatalf("%v", err)
	}
	e.mu.Lock()
	e.forwards = append(e.forwards, cmd)
	e.mu.Unlock()
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- "127.0.0.1:" + m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		e.t.Logf("%s: %s -> svc/%s:%d", cmdline, a, svc, port)
		return a
	case <-time.After(30 * time.Second):
		e.fatalf("%s: no 'Forwarding from' line within 30s", cmdline)
		return ""
	}
}

func (e *e2e) stopForwards() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.forwards {
		c.Process.Kill()
		c.Wait()
	}
	e.forwards = nil
}

// apiGet reads JSON from the master's API at addr into v.
func apiGet(addr, path string, v any) error {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

type apiWorker struct {
	ID, Hostname, State string
	Users               int
}

type apiStats struct {
	State string `json:"state"`
	Users int    `json:"users"`
	Total struct {
		Requests int64 `json:"requests"`
		Failures int64 `json:"failures"`
	} `json:"total"`
	Workers []apiWorker `json:"workers"`
}

// connected returns the workers the master at addr has that are not
// missing.
func connected(addr string) ([]apiWorker, error) {
	var w struct{ Workers []apiWorker }
	if err := apiGet(addr, "/api/v1/workers", &w); err != nil {
		return nil, err
	}
	var out []apiWorker
	for _, x := range w.Workers {
		if x.State != "missing" {
			out = append(out, x)
		}
	}
	return out, nil
}

// waitWorkers waits until the master at addr has n workers connected,
// each with users users (-1: any), and returns how long it took.
func (e *e2e) waitWorkers(addr string, n, users int, timeout time.Duration) time.Duration {
	e.t.Helper()
	return e.poll(fmt.Sprintf("%d workers with %d users each", n, users), timeout, func() error {
		w, err := connected(addr)
		if err != nil {
			return err
		}
		counts := map[int]int{}
		for _, x := range w {
			counts[x.Users]++
		}
		if len(w) != n || (users >= 0 && counts[users] != n) {
			return fmt.Errorf("%d workers connected, users per worker: %v", len(w), counts)
		}
		return nil
	})
}

// podsReady waits until every pod with the label selector is Ready (and
// at least min of them exist).
func (e *e2e) podsReady(selector string, min int, timeout time.Duration) {
	e.t.Helper()
	e.poll("pods "+selector+" Ready", timeout, func() error {
		var pods corev1.PodList
		out, err := e.kubectl("get", "pods", "-l", selector, "-o", "json")
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(out), &pods); err != nil {
			return err
		}
		ready := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				return fmt.Errorf("pod %s is terminating", p.Name)
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready < min || ready != len(pods.Items) {
			return fmt.Errorf("%d of %d pods Ready, want all and at least %d", ready, len(pods.Items), min)
		}
		return nil
	})
}

// targetCounts returns what the sample app served, per "METHOD path", read
// through the API server's Service proxy as the page does.
func (e *e2e) targetCounts() (map[string]int64, int64) {
	e.t.Helper()
	out := e.mustKubectl("get", "--raw", "/api/v1/namespaces/default/services/horde-target:8080/proxy/_horde/counts")
	counts := map[string]int64{}
	if err := json.Unmarshal([]byte(out), &counts); err != nil {
		e.fatalf("/_horde/counts: %v: %s", err, out)
	}
	var sum int64
	for _, n := range counts {
		sum += n
	}
	return counts, sum
}

// nothingLeft waits until no object of horde's remains in the default
// namespace (pods may take their grace period to go).
func (e *e2e) nothingLeft(when string) {
	e.t.Helper()
	e.poll("nothing of horde's left "+when, 2*time.Minute, func() error {
		out, err := e.kubectl("get", "all,configmaps,secrets,pvc,pv,jobs,hpa", "-A",
			"-l", "app.kubernetes.io/name=horde", "-o", "name")
		if err != nil {
			return err
		}
		more, err := e.kubectl("get", "pods,secrets,configmaps,pvc,pv", "-o", "name")
		if err != nil {
			return err
		}
		var left []string
		for _, l := range strings.Fields(out + " " + more) {
			// kube-root-ca.crt is the cluster's own, in every namespace.
			if l != "configmap/kube-root-ca.crt" && !slices.Contains(left, l) {
				left = append(left, l)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("left: %s", strings.Join(left, " "))
		}
		return nil
	})
}

// cleanUpAfterFailure deletes, when the test failed half-way through the
// page, what its steps left in the cluster (the page's own clean-up steps
// did not run), so that the next test on the same cluster starts from an
// empty namespace instead of failing on this one's leftovers.
func (e *e2e) cleanUpAfterFailure() {
	if !e.t.Failed() {
		return
	}
	e.stopForwards()
	// t.Context() has ended by now: each command gets its own two minutes.
	run := func(name string, args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = e.work, e.env
		if out, err := cmd.CombinedOutput(); err != nil {
			e.t.Logf("clean-up after the failure: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
	}
	run("helm", "uninstall", "horde", "--ignore-not-found", "--wait")
	for _, args := range [][]string{
		{"delete", "hpa,jobs,deployments,services,configmaps,secrets,pvc", "-l", "app.kubernetes.io/name=horde", "--ignore-not-found"},
		{"delete", "pods,jobs,pvc", "--all", "--ignore-not-found"},
		{"delete", "secrets,configmaps", "--field-selector", "metadata.name!=kube-root-ca.crt", "--ignore-not-found"},
		{"delete", "pv", "--all", "--ignore-not-found"},
	} {
		run("kubectl", args...)
	}
	_ = os.RemoveAll("/srv/horde-reports")
	e.t.Log("clean-up after the failure: done (the page's own clean-up steps did not run)")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
