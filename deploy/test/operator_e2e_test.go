package deploytest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOperatorE2E runs the operator section of docs/kubernetes.md on the
// real cluster of make kube-e2e, after TestKubeE2E (which built the image
// and loaded it into the cluster; run alone, it does so itself when the
// cluster has no horde image, or when HORDE_OPERATOR_E2E_IMAGE=1), and
// checks what a user of the operator would:
//
//   - the sample HordeTest (3 workers, the sample app) reaches Succeeded,
//     its status's figures equal to its summary's, its counts to what the
//     app served, and it cleans up after itself;
//   - horde kube run --wait of 3 workers, edited mid-test to 60 users on
//     6 workers (the master rebalances: 10 users each), with the operator
//     killed mid-test: the test goes on undisturbed, the new operator
//     picks its status back up, and kube run exits 0 with the status equal
//     to the summary and the counts to the app's;
//   - a crossed threshold: Failed, and exit 1 from horde kube run;
//   - a running test's master killed: a new master, its workers rejoin,
//     the test runs again (counted in the status); then the running
//     HordeTest deleted: no pod, Service, Secret or ConfigMap of it left;
//   - the operator uninstalled: nothing left.
//
// It prints the figures: times to Running and to clean up, status against
// summary, counts against the app's, exit codes.
func TestOperatorE2E(t *testing.T) {
	kubeconfig := os.Getenv("HORDE_KUBE_E2E_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("HORDE_KUBE_E2E_KUBECONFIG is not set: make kube-e2e runs this on a real one-node cluster (scripts/kube-cluster.sh)")
	}
	e := newE2E(t, kubeconfig)
	defer e.printFigures()
	// horde kube is the binary make image built.
	for i, v := range e.env {
		if strings.HasPrefix(v, "PATH=") {
			e.env[i] = "PATH=" + filepath.Join(e.root, "bin") + string(os.PathListSeparator) + strings.TrimPrefix(v, "PATH=")
		}
	}
	o := &opE2E{e}
	o.image()
	start := time.Now()
	e.run("operator-install", 3*time.Minute)
	e.figure("operator: installed and Ready %.1fs after kubectl apply -k deploy/operator", time.Since(start).Seconds())
	o.sample()
	o.kubeRun()
	o.crossedThreshold()
	o.ls()
	o.deleteRunning()
	start = time.Now()
	e.run("operator-uninstall", 5*time.Minute)
	e.poll("the operator's namespace and CRD gone", 3*time.Minute, func() error {
		out, _ := e.kubectl("get", "namespace/horde-system", "crd/hordetests.load.horde.dev", "--ignore-not-found", "-o", "name")
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
	e.nothingLeft("after the operator's uninstall")
	e.figure("operator: uninstalled, nothing left, %.1fs", time.Since(start).Seconds())
}

type opE2E struct{ *e2e }

// image loads horde's image into the cluster unless it is there (from
// TestKubeE2E) and bin/horde exists.
func (o *opE2E) image() {
	out, err := o.kubectl("get", "nodes", "-o", "jsonpath={.items[*].status.images[*].names}")
	_, binErr := os.Stat(filepath.Join(o.root, "bin", "horde"))
	if err == nil && binErr == nil && strings.Contains(out, "docker.io/library/horde:latest") && os.Getenv("HORDE_OPERATOR_E2E_IMAGE") != "1" {
		o.t.Log("horde:latest is in the cluster already (TestKubeE2E loaded it)")
		return
	}
	o.runText(kubernetesDoc+" (image, in the repository)", docRun(o.t, o.blocks, "image").Text, o.root, 15*time.Minute)
	o.run("load", 5*time.Minute)
}

// hordeTest is what the test reads of a HordeTest.
type hordeTest struct {
	Spec struct {
		Users   int `json:"users"`
		Workers struct {
			Replicas int `json:"replicas"`
		} `json:"workers"`
	} `json:"spec"`
	Status struct {
		Phase          string  `json:"phase"`
		Message        string  `json:"message"`
		Users          int     `json:"users"`
		ReadyWorkers   int     `json:"readyWorkers"`
		Requests       int64   `json:"requests"`
		Failures       int64   `json:"failures"`
		RPS            float64 `json:"rps"`
		P95Ms          float64 `json:"p95Ms"`
		ElapsedSeconds float64 `json:"elapsedSeconds"`
		StartedAt      string  `json:"startedAt"`
		Verdict        string  `json:"verdict"`
		ExitCode       *int    `json:"exitCode"`
		MasterRestarts int     `json:"masterRestarts"`
		CleanedUp      bool    `json:"cleanedUp"`
		Thresholds     []struct {
			Expr   string  `json:"expr"`
			Value  float64 `json:"value"`
			Passed bool    `json:"passed"`
		} `json:"thresholds"`
		Summary *struct {
			ConfigMap string `json:"configMap"`
		} `json:"summary"`
	} `json:"status"`
}

func (o *opE2E) get(name string) (*hordeTest, error) {
	out, err := o.kubectl("get", "hordetest", name, "-o", "json")
	if err != nil {
		return nil, err
	}
	var ht hordeTest
	return &ht, json.Unmarshal([]byte(out), &ht)
}

// waitPhase waits for the HordeTest name to be in phase, and returns it
// and how long that took.
func (o *opE2E) waitPhase(name, phase string, timeout time.Duration) (*hordeTest, time.Duration) {
	o.t.Helper()
	var ht *hordeTest
	d := o.poll("hordetest "+name+" "+phase, timeout, func() error {
		var err error
		if ht, err = o.get(name); err != nil {
			return err
		}
		if ht.Status.Phase != phase {
			return fmt.Errorf("phase %q: %s", ht.Status.Phase, ht.Status.Message)
		}
		return nil
	})
	return ht, d
}

// summaryOf is the test's summary, from its ConfigMap as the page reads
// it.
type summaryOf struct {
	UsersPeak int `json:"users_peak"`
	Totals    struct {
		Requests int64   `json:"requests"`
		Failures int64   `json:"failures"`
		RPS      float64 `json:"rps"`
		Latency  struct {
			P95 float64 `json:"p95"`
		} `json:"latency_ms"`
	} `json:"totals"`
	Thresholds []struct {
		Expr   string  `json:"expr"`
		Value  float64 `json:"value"`
		Passed bool    `json:"passed"`
	} `json:"thresholds"`
}

// statusIsSummary checks that a finished test's status shows its
// summary's figures, and returns the summary.
func (o *opE2E) statusIsSummary(name string, ht *hordeTest, raw string) summaryOf {
	o.t.Helper()
	var s summaryOf
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		o.fatalf("summary of %s: %v: %q", name, err, raw)
	}
	st := ht.Status
	// The status keeps requests per second to three decimals.
	same := st.Requests == s.Totals.Requests && st.Failures == s.Totals.Failures && st.RPS == math.Round(s.Totals.RPS*1000)/1000 &&
		st.P95Ms == s.Totals.Latency.P95 && st.Users == s.UsersPeak && len(st.Thresholds) == len(s.Thresholds)
	for i := range st.Thresholds {
		same = same && i < len(s.Thresholds) && st.Thresholds[i].Expr == s.Thresholds[i].Expr &&
			st.Thresholds[i].Value == s.Thresholds[i].Value && st.Thresholds[i].Passed == s.Thresholds[i].Passed
	}
	if !same || s.Totals.Requests == 0 {
		o.errorf("%s: status %+v, summary %+v: want the same figures (and requests)", name, st, s)
	}
	return s
}

// countsEqual checks horde's count against what the sample app served
// since before.
func (o *opE2E) countsEqual(name string, requests, failures, before int64) int64 {
	o.t.Helper()
	_, after := o.targetCounts()
	served := after - before
	// A request in flight when the users stopped may be served and not
	// counted (at a few requests per second, hardly ever).
	if failures != 0 || served == 0 || math.Abs(float64(served-requests)) > 2 {
		o.errorf("%s: horde counted %d requests (%d failed), the sample app served %d: want equal (±2 in flight), no failures",
			name, requests, failures, served)
	}
	return served
}

// gone waits until nothing labelled load.horde.dev/test=name but the
// kinds in keep remains, and returns how long that took.
func (o *opE2E) gone(name string, timeout time.Duration, keep ...string) time.Duration {
	o.t.Helper()
	return o.poll("nothing of hordetest "+name+" left", timeout, func() error {
		out, err := o.kubectl("get", "pods,services,secrets,configmaps,deployments,replicasets", "-l", "load.horde.dev/test="+name, "-o", "name")
		if err != nil {
			return err
		}
		var left []string
		for _, l := range strings.Fields(out) {
			kept := false
			for _, k := range keep {
				kept = kept || l == k
			}
			if !kept {
				left = append(left, l)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("left: %s", strings.Join(left, " "))
		}
		return nil
	})
}

// sample: the page's sample HordeTest against the sample app.
func (o *opE2E) sample() {
	o.run("target", time.Minute)
	o.podsReady("app.kubernetes.io/component=target", 1, 2*time.Minute)
	_, before := o.targetCounts()
	b := docRun(o.t, o.blocks, "operator-sample")
	start := time.Now()
	done := make(chan string, 1)
	go func() {
		done <- o.runTextNoFatal(fmt.Sprintf("%s:%d (operator-sample)", kubernetesDoc, b.Line), b.Text, 5*time.Minute)
	}()
	_, toRunning := o.waitPhase("seed", "Running", 3*time.Minute)
	out := <-done
	ht, err := o.get("seed")
	if err != nil {
		o.fatalf("%v", err)
	}
	if ht.Status.Phase != "Succeeded" || ht.Status.Verdict != "Passed" || ht.Status.ExitCode == nil || *ht.Status.ExitCode != 0 ||
		!strings.Contains(out, "Succeeded") {
		o.fatalf("the sample HordeTest: %+v, want Succeeded, Passed, exit 0\n%s", ht.Status, lastLines(out, 20))
	}
	took := time.Since(start)
	s := o.statusIsSummary("seed", ht, o.run("operator-summary", time.Minute))
	served := o.countsEqual("seed", ht.Status.Requests, ht.Status.Failures, before)
	cleaned := o.gone("seed", 2*time.Minute, "configmap/seed-summary")
	o.figure("sample HordeTest (30 users, 3 workers, 30s): Running %.1fs after kubectl apply, Succeeded after %.0fs; "+
		"status = summary: %d requests, %d failures, %.3f req/s, p95 %.3f ms, users %d, %d thresholds passed; the app served %d; "+
		"cleaned up (all but its summary) %.1fs later",
		toRunning.Seconds(), took.Seconds(), s.Totals.Requests, s.Totals.Failures, s.Totals.RPS, s.Totals.Latency.P95, s.UsersPeak,
		len(s.Thresholds), served, cleaned.Seconds())
}

// runCode runs a block as run does, and returns its output and exit code
// instead of failing on a code other than 0.
func (o *opE2E) runCode(name string, timeout time.Duration, subst ...string) (string, int) {
	o.t.Helper()
	b := docRun(o.t, o.blocks, name)
	text := b.Text
	for i := 0; i+1 < len(subst); i += 2 {
		if !strings.Contains(text, subst[i]) {
			o.fatalf("%s (%s): no %q to replace in\n%s", kubernetesDoc, name, subst[i], text)
		}
		text = strings.ReplaceAll(text, subst[i], subst[i+1])
	}
	ctx, cancel := context.WithTimeout(o.t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", text)
	cmd.Dir, cmd.Env = o.work, o.env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	o.t.Logf("ran %s:%d (%s):\n%s\n--- output:\n%s", kubernetesDoc, b.Line, name, indent(text), indent(string(out)))
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return string(out), ee.ExitCode()
	}
	o.fatalf("%s: %v\n%s", name, err, lastLines(string(out), 20))
	return "", -1
}

// master is a test's master's API through port-forward, with its password.
type master struct {
	addr, pass string
}

func (o *opE2E) master(name string) master {
	o.t.Helper()
	enc := o.mustKubectl("get", "secret", name+"-auth", "-o", "jsonpath={.data.web}")
	pass, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(pass) == 0 {
		o.fatalf("secret %s-auth: %q %v", name, enc, err)
	}
	return master{addr: o.forward("port-forward", name+"-master", 8089), pass: string(pass)}
}

func (m master) get(path string, v any) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+m.addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+m.pass)
	resp, err := http.DefaultClient.Do(req)
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

// workers waits for n workers connected to the master with users each.
func (o *opE2E) workers(m master, n, users int, timeout time.Duration) time.Duration {
	o.t.Helper()
	return o.poll(fmt.Sprintf("%d workers with %d users each", n, users), timeout, func() error {
		var w struct{ Workers []apiWorker }
		if err := m.get("/api/v1/workers", &w); err != nil {
			return err
		}
		counts := map[int]int{}
		live := 0
		for _, x := range w.Workers {
			if x.State != "missing" {
				live++
				counts[x.Users]++
			}
		}
		if live != n || counts[users] != n {
			return fmt.Errorf("%d workers connected, users per worker: %v", live, counts)
		}
		return nil
	})
}

// kubeRun: horde kube run --wait, edited and its operator killed mid-test.
func (o *opE2E) kubeRun() {
	_, before := o.targetCounts()
	type result struct {
		out  string
		code int
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		out, code := o.runCodeNoFatal("kube-run", 6*time.Minute)
		done <- result{out, code}
	}()
	_, toRunning := o.waitPhase("shop", "Running", 3*time.Minute)
	m := o.master("shop")
	o.workers(m, 3, 10, 2*time.Minute)

	// 30 users on 3 workers → 60 users on 6: 10 each.
	o.run("kube-scale", time.Minute)
	rebalanced := o.workers(m, 6, 10, 3*time.Minute)
	o.figure("horde kube run: Running %.1fs after the command; users 30 → 60 and workers 3 → 6 mid-test: 6 workers with 10 users each %.1fs after kubectl patch",
		toRunning.Seconds(), rebalanced.Seconds())

	// Kill the operator mid-test: the test goes on; the new operator
	// carries on with its status.
	var st1 apiStats
	if err := m.get("/api/v1/stats", &st1); err != nil {
		o.fatalf("%v", err)
	}
	ht1, err := o.get("shop")
	if err != nil {
		o.fatalf("%v", err)
	}
	oldOp := strings.TrimSpace(o.mustKubectl("-n", "horde-system", "get", "pods", "-l", "app.kubernetes.io/name=horde-operator", "-o", "jsonpath={.items[*].metadata.name}"))
	o.mustKubectl("-n", "horde-system", "delete", "pod", oldOp, "--grace-period=0", "--force", "--wait=false")
	var newOp string
	back := o.poll("a new operator pod Ready", 2*time.Minute, func() error {
		out, err := o.kubectl("-n", "horde-system", "get", "pods", "-l", "app.kubernetes.io/name=horde-operator", "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] != oldOp && f[1] == "True" {
				newOp = f[0]
				return nil
			}
		}
		return fmt.Errorf("operator pods: %q", out)
	})
	var st2 apiStats
	if err := m.get("/api/v1/stats", &st2); err != nil {
		o.fatalf("the master while the operator was away: %v", err)
	}
	w, _ := connectedAuth(m)
	if st2.State != "running" || st2.Users != 60 || st2.Total.Requests <= st1.Total.Requests || w != 6 {
		o.errorf("the test with the operator killed: state %s, %d users, %d → %d requests, %d workers; want it running on, undisturbed",
			st2.State, st2.Users, st1.Total.Requests, st2.Total.Requests, w)
	}
	var ht2 *hordeTest
	resumed := o.poll("the new operator updating the status", time.Minute, func() error {
		var err error
		if ht2, err = o.get("shop"); err != nil {
			return err
		}
		if ht2.Status.Requests <= st2.Total.Requests {
			return fmt.Errorf("status requests %d, the master had %d when the new operator came", ht2.Status.Requests, st2.Total.Requests)
		}
		return nil
	})
	if ht2.Status.StartedAt != ht1.Status.StartedAt || ht2.Status.MasterRestarts != 0 || ht2.Status.Phase != "Running" {
		o.errorf("after the operator's restart: startedAt %s (was %s), masterRestarts %d, phase %s; want the same test, running",
			ht2.Status.StartedAt, ht1.Status.StartedAt, ht2.Status.MasterRestarts, ht2.Status.Phase)
	}
	o.figure("operator killed mid-test: new operator (%s) Ready %.1fs later; meanwhile the test ran on (%d → %d requests, 6 workers, 60 users); "+
		"the status moved on again %.1fs after that (%d requests), same start, no master restart",
		newOp, back.Seconds(), st1.Total.Requests, st2.Total.Requests, resumed.Seconds(), ht2.Status.Requests)
	o.stopForwards()

	r := <-done
	if r.code != 0 || !strings.Contains(r.out, "shop: Passed (exit code 0)") {
		o.fatalf("horde kube run: exit %d, want 0 and the verdict:\n%s", r.code, lastLines(r.out, 30))
	}
	ht, err := o.get("shop")
	if err != nil {
		o.fatalf("%v", err)
	}
	s := o.statusIsSummary("shop", ht, o.mustKubectl("get", "configmap", "shop-summary", "-o", `jsonpath={.data.summary\.json}`))
	served := o.countsEqual("shop", ht.Status.Requests, ht.Status.Failures, before)
	o.figure("horde kube run --wait (1m): exit 0 after %.0fs; status = summary: %d requests, %d failures, %.3f req/s, p95 %.3f ms, users peak %d; the app served %d",
		time.Since(start).Seconds(), s.Totals.Requests, s.Totals.Failures, s.Totals.RPS, s.Totals.Latency.P95, s.UsersPeak, served)
}

// runCodeNoFatal is runCode for a goroutine: an error that is not an exit
// code is returned as code -1 with the output.
func (o *opE2E) runCodeNoFatal(name string, timeout time.Duration) (string, int) {
	b := docRun(o.t, o.blocks, name)
	ctx, cancel := context.WithTimeout(o.t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", b.Text)
	cmd.Dir, cmd.Env = o.work, o.env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	o.t.Logf("ran %s:%d (%s):\n%s\n--- output:\n%s", kubernetesDoc, b.Line, name, indent(b.Text), indent(string(out)))
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return string(out), ee.ExitCode()
	}
	return fmt.Sprintf("%s\n%v", out, err), -1
}

func connectedAuth(m master) (int, error) {
	var w struct{ Workers []apiWorker }
	if err := m.get("/api/v1/workers", &w); err != nil {
		return 0, err
	}
	n := 0
	for _, x := range w.Workers {
		if x.State != "missing" {
			n++
		}
	}
	return n, nil
}

// crossedThreshold: the page's horde kube run with a threshold that cannot
// pass: Failed, exit 1; the failed test's master is kept.
func (o *opE2E) crossedThreshold() {
	start := time.Now()
	out, code := o.runCode("kube-run", 5*time.Minute,
		"--threshold 'p95<2s'", "--threshold 'rps>100000'", "-t 1m", "-t 20s", "--name shop", "--name shop-fail", "--workers 3", "--workers 1")
	ht, err := o.get("shop-fail")
	if err != nil {
		o.fatalf("%v", err)
	}
	if code != 1 || ht.Status.Phase != "Failed" || ht.Status.ExitCode == nil || *ht.Status.ExitCode != 1 ||
		!strings.Contains(out, "shop-fail: Failed (exit code 1)") || !strings.Contains(out, "rps>100000") {
		o.errorf("horde kube run with rps>100000: exit %d, status %+v; want exit 1, Failed, naming the threshold:\n%s", code, ht.Status, lastLines(out, 20))
	}
	o.poll("the failed test's workers gone, its master kept", 2*time.Minute, func() error {
		out, err := o.kubectl("get", "deployments", "-l", "load.horde.dev/test=shop-fail", "-o", "name")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "deployment.apps/shop-fail-master" {
			return fmt.Errorf("deployments %q, want the master's only", out)
		}
		return nil
	})
	o.figure("horde kube run with a crossed threshold (rps>100000, 20s): exit %d, HordeTest %s (%q) after %.0fs; its master kept (KeepOnFailure), its workers gone",
		code, ht.Status.Phase, ht.Status.Message, time.Since(start).Seconds())
}

// ls: horde kube ls, status and logs, as the page runs them (on the
// failed test, whose master is kept).
func (o *opE2E) ls() {
	out := o.run("kube-ls", time.Minute, "status shop", "status shop-fail", "logs shop", "logs shop-fail")
	for _, want := range []string{"seed", "Succeeded", "shop-fail", "Failed", "rps>100000", "kubectl port-forward -n default svc/shop-fail-master 8089"} {
		if !strings.Contains(out, want) {
			o.errorf("kube ls/status/logs: no %q in\n%s", want, out)
		}
	}
}

// deleteRunning: a running HordeTest deleted with the page's command
// leaves nothing of it.
func (o *opE2E) deleteRunning() {
	out, code := o.runCode("kube-run", 2*time.Minute, "--name shop", "--name long", "-t 1m", "-t 10m", " --wait", "")
	if code != 0 {
		o.fatalf("horde kube run without --wait: exit %d\n%s", code, out)
	}
	before, _ := o.waitPhase("long", "Running", 3*time.Minute)

	// The master's pod killed mid-test: a new master, the workers rejoin
	// it, the test runs again from its start; the status counts it.
	killed := time.Now()
	o.mustKubectl("delete", "pods", "-l", "load.horde.dev/test=long,app.kubernetes.io/component=master", "--grace-period=0", "--force", "--wait=false")
	var after *hordeTest
	o.poll("the test running again on a new master", 3*time.Minute, func() error {
		var err error
		if after, err = o.get("long"); err != nil {
			return err
		}
		if st := after.Status; st.MasterRestarts != 1 || st.Phase != "Running" || st.ReadyWorkers != 3 || st.StartedAt == before.Status.StartedAt {
			return fmt.Errorf("phase %s, %d master restarts, %d workers, started %s (was %s): %s", st.Phase, st.MasterRestarts,
				st.ReadyWorkers, st.StartedAt, before.Status.StartedAt, st.Message)
		}
		return nil
	})
	o.figure("the master's pod killed mid-test: the test running again from its start on a new master, its 3 workers rejoined, %.1fs later (masterRestarts 1)",
		time.Since(killed).Seconds())
	start := time.Now()
	o.run("hordetest-delete", 2*time.Minute, "shop", "long")
	del := time.Since(start)
	left := o.gone("long", 2*time.Minute)
	o.figure("a running HordeTest deleted: no pod, Service, Secret, ConfigMap, Deployment or ReplicaSet of it left %.1fs after kubectl delete began (the delete returned after %.1fs)",
		(del + left).Seconds(), del.Seconds())
}
