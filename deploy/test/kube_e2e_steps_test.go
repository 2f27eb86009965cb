package deploytest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// walkthrough: the tutorial's steps 1 to 7 — image, sample app, master and
// 7 workers, the UI, a test of 140 users, 20 workers, counts, the
// loadbalancer overlay's password, clean-up.
func (e *e2e) walkthrough() {
	t := e.t
	// 1. The image, from this checkout, into the cluster's containerd.
	e.runText(kubernetesDoc+" (image, in the repository)", docRun(t, e.blocks, "image").Text, e.root, 15*time.Minute)
	e.run("load", 5*time.Minute)

	// The overlay of steps 1 and 3 renders with the registry image, the
	// settings and the script the page gives.
	e.myHorde()

	// 2. The sample app, Ready by its probe.
	e.run("target", time.Minute)
	e.podsReady("app.kubernetes.io/component=target", 1, 2*time.Minute)

	// 4. Master and 7 workers: the pods Ready, the workers connected to
	// the master by the Service's DNS name.
	start := time.Now()
	e.run("base", 3*time.Minute)
	e.podsReady("app.kubernetes.io/component=master", 1, time.Minute)
	e.podsReady("app.kubernetes.io/component=worker", 7, time.Minute)

	// 5. The UI through kubectl port-forward.
	ui := e.forward("port-forward", "horde-ui", 8089)
	e.waitWorkers(ui, 7, 0, 2*time.Minute)
	e.figure("time to 7 workers connected: %.1fs from kubectl apply -k deploy/kubernetes/base", time.Since(start).Seconds())
	// The log reaches kubectl through the container runtime's log file,
	// a moment after the master wrote it: read it until the 7 lines are in.
	var logs string
	e.poll("7 'worker connected' lines in the master's log", 30*time.Second, func() error {
		logs = e.run("master-log", time.Minute)
		if n := strings.Count(logs, "worker connected"); n < 7 {
			return fmt.Errorf("%d 'worker connected' lines, want 7 or more", n)
		}
		return nil
	})
	// A worker's CPU limit is one core: horde runs one P (Go alone would
	// run two).
	if n := strings.Count(logs, "cores=1"); n < 7 || strings.Contains(logs, "cores=2") {
		e.errorf("master log: workers with cores=1: %d of the connected; want all (GOMAXPROCS follows the 1-CPU limit)\n%s", n, logs)
	}
	resp, err := http.Get("http://" + ui + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		e.fatalf("the web UI through port-forward: %v %v", resp, err)
	}
	resp.Body.Close()

	// 6. A test of 140 users started through the API, then 20 workers.
	api := []string{"127.0.0.1:8089", ui}
	out := e.run("start", time.Minute, api...)
	if !strings.Contains(out, `"state"`) {
		e.fatalf("POST /api/v1/test answered %q", out)
	}
	spread := e.waitWorkers(ui, 7, 20, 2*time.Minute)
	e.figure("140 users on 7 workers: 20 each, %.1fs after the start", spread.Seconds())
	start = time.Now()
	e.run("scale", time.Minute)
	e.waitWorkers(ui, 20, 7, 3*time.Minute)
	e.figure("time to 20 workers with 7 users each: %.1fs from kubectl scale", time.Since(start).Seconds())
	var st apiStats
	if err := apiGet(ui, "/api/v1/stats", &st); err != nil || st.Users != 140 {
		e.fatalf("users after the scale: %d (%v), want 140", st.Users, err)
	}
	// Let the 20 workers send requests, so that the counts cover them.
	before := st.Total.Requests
	e.poll("requests after the scale", time.Minute, func() error {
		if err := apiGet(ui, "/api/v1/stats", &st); err != nil {
			return err
		}
		if st.Total.Requests < before+100 {
			return fmt.Errorf("%d requests, want %d", st.Total.Requests, before+100)
		}
		return nil
	})

	// Back to 7: the leaving workers hand their users and statistics over.
	start = time.Now()
	e.run("scale-down", time.Minute)
	e.waitWorkers(ui, 7, 20, 3*time.Minute)
	e.figure("scaled down to 7 workers with 20 users each again: %.1fs from kubectl scale", time.Since(start).Seconds())

	// Stop; horde's counts equal the sample app's, the 13 workers that
	// left included.
	e.run("counts", 2*time.Minute, api...)
	if err := apiGet(ui, "/api/v1/stats", &st); err != nil || st.State != "stopped" {
		e.fatalf("after stop: state %q (%v)", st.State, err)
	}
	counts, served := e.targetCounts()
	e.figure("requests: horde counted %d (%d failed), the sample app served %d %v", st.Total.Requests, st.Total.Failures, served, counts)
	// A request in flight when the users stopped may be served and not
	// counted by horde; at ~20 requests/s of ~1 ms each there is hardly
	// ever one.
	if st.Total.Failures != 0 || served == 0 || math.Abs(float64(served-st.Total.Requests)) > 2 {
		e.errorf("horde counted %d requests (%d failures), the sample app served %d: want equal (±2 in flight at stop), no failures",
			st.Total.Requests, st.Total.Failures, served)
	}

	e.hpa(ui, api)

	// 5 (the UI on a LoadBalancer): the master restarts with a password.
	e.stopForwards()
	oldMaster := e.masterPod()
	e.run("loadbalancer", 2*time.Minute)
	e.poll("a new master pod with the password", 2*time.Minute, func() error {
		if p := e.masterPod(); p == oldMaster || p == "" {
			return fmt.Errorf("master pod %q", p)
		}
		return nil
	})
	e.podsReady("app.kubernetes.io/component=master", 1, 2*time.Minute)
	if typ := e.mustKubectl("get", "svc", "horde-ui", "-o", "jsonpath={.spec.type}"); typ != "LoadBalancer" {
		e.errorf("horde-ui is a %s Service, want LoadBalancer", typ)
	}
	if typ := e.mustKubectl("get", "svc", "horde-master", "-o", "jsonpath={.spec.type}"); typ != "ClusterIP" {
		e.errorf("horde-master (the worker port) is a %s Service, want ClusterIP", typ)
	}
	ui = e.forward("port-forward", "horde-ui", 8089)
	e.checkPassword(ui)
	e.stopForwards()

	// 7. Clean up: nothing left.
	e.run("cleanup", 3*time.Minute)
	e.nothingLeft("after the walkthrough's clean-up")
}

// hpa: the hpa overlay on the running master and 7 workers; under the
// page's open-model load the HorizontalPodAutoscaler adds workers on their
// CPU use (metrics-server), and they join the test; then back to the base.
func (e *e2e) hpa(ui string, api []string) {
	t := e.t
	e.run("hpa", time.Minute)
	rate := regexp.MustCompile(`"rate": *(\d+)`).FindStringSubmatch(docRun(t, e.blocks, "hpa-load").Text)
	if rate == nil {
		e.fatalf("%s (hpa-load): no open-model test (\"rate\": N)", kubernetesDoc)
	}
	e.run("hpa-load", time.Minute, api...)
	start := time.Now()
	var peak string
	e.poll("the HPA adding workers under load", 5*time.Minute, func() error {
		out, err := e.kubectl("get", "hpa", "horde-worker", "-o",
			"jsonpath={.status.currentReplicas} {.status.desiredReplicas} {.status.currentMetrics[0].resource.current.averageUtilization}")
		if err != nil {
			return err
		}
		var cur, want, util int
		fmt.Sscan(out, &cur, &want, &util)
		if util > 0 {
			peak = fmt.Sprintf("%d%%", util)
		}
		w, err := connected(ui)
		if err != nil {
			return err
		}
		if cur <= 7 || len(w) <= 7 {
			return fmt.Errorf("HPA replicas %d (desired %d, CPU %d%% of the request), %d workers connected", cur, want, util, len(w))
		}
		return nil
	})
	w, _ := connected(ui)
	var st apiStats
	if err := apiGet(ui, "/api/v1/stats", &st); err != nil {
		e.fatalf("%v", err)
	}
	e.figure("HPA: %d workers connected %.0fs into a %s requests/s test (workers' CPU %s of their request, target 70%%), %d requests, %d failures",
		len(w), time.Since(start).Seconds(), rate[1], peak, st.Total.Requests, st.Total.Failures)
	if st.Total.Failures != 0 {
		e.errorf("HPA test: %d failed requests", st.Total.Failures)
	}
	e.run("hpa-off", 2*time.Minute, api...)
	if out, err := e.kubectl("get", "hpa", "-o", "name"); err != nil || strings.TrimSpace(out) != "" {
		e.errorf("HPA left after hpa-off: %q %v", out, err)
	}
	e.waitWorkers(ui, 7, 0, 3*time.Minute)
}

// myHorde writes the page's my-horde overlay, with the script and module it
// names, and checks what kubectl kustomize renders from it.
func (e *e2e) myHorde() {
	t := e.t
	dir := filepath.Join(e.work, "my-horde")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.fatalf("%v", err)
	}
	seed, err := os.ReadFile(filepath.Join(e.root, "examples", "seed.star"))
	if err != nil {
		e.fatalf("%v", err)
	}
	for name, data := range map[string]string{
		"kustomization.yaml": docFile(t, e.blocks, "my-horde/kustomization.yaml"),
		"my-test.star":       string(seed),
		"lib.star":           "# a module my-test.star could load()\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			e.fatalf("%v", err)
		}
	}
	out := e.mustKubectl("kustomize", dir)
	for _, want := range []string{
		"image: registry.example.com/horde:v1.2.3",
		"TARGET_HOST: http://my-service.my-namespace:8080",
		`HORDE_USERS: "500"`,
		"script.star: |", "lib.star: |",
	} {
		if !strings.Contains(out, want) {
			e.errorf("kubectl kustomize my-horde: no %q in\n%s", want, out)
		}
	}
}

// masterPod returns the UID of the one master pod that is not going away,
// or "" while there is not exactly one.
func (e *e2e) masterPod() string {
	uid, _ := e.masterPodMeta()
	return uid
}

// masterPodMeta returns the UID and the annotations of the one master pod
// that is not going away.
func (e *e2e) masterPodMeta() (string, map[string]string) {
	out, err := e.kubectl("get", "pods", "-l", "app.kubernetes.io/component=master", "-o", "json")
	if err != nil {
		return "", nil
	}
	var pods corev1.PodList
	if json.Unmarshal([]byte(out), &pods) != nil {
		return "", nil
	}
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	if len(live) != 1 {
		return "", nil
	}
	return string(live[0].UID), live[0].Annotations
}

// checkPassword: behind the loadbalancer overlay the API asks for the
// password in horde-web-auth; the probes do not.
func (e *e2e) checkPassword(ui string) {
	t := e.t
	token := e.mustKubectl("get", "secret", "horde-web-auth", "-o", "jsonpath={.data.auth}")
	raw, err := base64.StdEncoding.DecodeString(token)
	pass := string(raw)
	if err != nil || pass == "" {
		e.fatalf("secret horde-web-auth: %q %v", token, err)
	}
	get := func(path, pass string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ui+path, nil)
		if pass != "" {
			req.SetBasicAuth("anyone", pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	codes := map[string][2]int{
		"/api/v1/stats": {get("/api/v1/stats", ""), get("/api/v1/stats", pass)},
		"/readyz":       {get("/readyz", ""), http.StatusOK},
	}
	if c := codes["/api/v1/stats"]; c[0] != http.StatusUnauthorized || c[1] != http.StatusOK {
		e.errorf("loadbalancer overlay: /api/v1/stats answers %d without the password and %d with it, want 401 and 200", c[0], c[1])
	}
	if c := codes["/readyz"]; c[0] != http.StatusOK {
		e.errorf("loadbalancer overlay: /readyz answers %d without the password, want 200 (the probes)", c[0])
	}
	e.figure("loadbalancer overlay: the API answers 401 without the password, 200 with it; /readyz 200")
}

// headless: the Job overlay on a volume made as the page says for a
// cluster without a provisioner; exit 0 and the reports on the volume;
// then a crossed threshold: exit 1 and a failed Job.
func (e *e2e) headless() {
	t := e.t
	e.run("reports-pv", time.Minute)
	if err := os.MkdirAll(filepath.Join(e.work, "my-ci"), 0o755); err != nil {
		e.fatalf("%v", err)
	}
	overlay := docFile(t, e.blocks, "my-ci/kustomization.yaml")
	writeOverlay := func(text string) {
		if err := os.WriteFile(filepath.Join(e.work, "my-ci", "kustomization.yaml"), []byte(text), 0o644); err != nil {
			e.fatalf("%v", err)
		}
	}
	writeOverlay(overlay)

	// The headless block waits for the Job's end; meanwhile, once the 7
	// workers run, the page's parallelism patch adds workers.
	start := time.Now()
	done := make(chan string, 1)
	b := docRun(t, e.blocks, "headless")
	go func() {
		defer close(done)
		done <- e.runTextNoFatal(fmt.Sprintf("%s:%d (headless)", kubernetesDoc, b.Line), b.Text, 6*time.Minute)
	}()
	e.podsReady("job-name=horde-worker", 7, 3*time.Minute)
	e.run("headless-scale", time.Minute)
	e.poll("20 worker pods in the headless worker Job", 2*time.Minute, func() error {
		out, err := e.kubectl("get", "pods", "-l", "job-name=horde-worker", "-o", "name")
		if n := len(strings.Fields(out)); err != nil || n < 20 {
			return fmt.Errorf("%d worker pods (%v)", n, err)
		}
		return nil
	})
	out, ok := <-done
	if !ok || !strings.Contains(out, "horde verdict: exit 0") {
		e.fatalf("headless run: want 'horde verdict: exit 0' in\n%s", lastLines(out, 40))
	}
	if !strings.Contains(out, "Aggregated") {
		e.errorf("headless run: the master's log has no summary table:\n%s", lastLines(out, 40))
	}
	e.figure("headless Job (1m test, 7 then 20 workers): exit 0, %.0fs from apply to the verdict", time.Since(start).Seconds())
	e.poll("the master Job succeeded", time.Minute, func() error {
		if c := e.mustKubectl("get", "job", "horde-master", "-o", "jsonpath={.status.succeeded}"); c != "1" {
			return fmt.Errorf("succeeded %q, want 1", c)
		}
		return nil
	})
	e.poll("the worker Job complete (the master told its workers to quit)", 2*time.Minute, func() error {
		if c, err := e.kubectl("get", "job", "horde-worker", "-o", "jsonpath={.status.conditions[?(@.type==\"Complete\")].status}"); c != "True" {
			return fmt.Errorf("worker Job Complete=%q (%v)", c, err)
		}
		return nil
	})

	// The reports, copied off the volume by the page's busybox pod.
	e.run("reports-copy", 3*time.Minute)
	users := regexp.MustCompile(`HORDE_USERS=(\d+)`).FindStringSubmatch(overlay)
	if users == nil {
		e.fatalf("my-ci overlay: no HORDE_USERS=N in\n%s", overlay)
	}
	e.checkReports(filepath.Join(e.work, "horde-reports"), users[1], strings.Count(overlay, "--threshold="))

	// Again with a threshold that cannot pass: exit 1, the Job failed and
	// its condition names the code.
	e.run("headless-again", 2*time.Minute)
	failing := strings.Replace(overlay, "--run-time=1m", "--run-time=20s", 1)
	failing = strings.Replace(failing, "--threshold=fail_ratio<0.01", "--threshold=rps>100000", 1)
	if failing == overlay || !strings.Contains(failing, "rps>100000") {
		e.fatalf("my-ci overlay: no --run-time=1m and --threshold=fail_ratio<0.01 to change in\n%s", overlay)
	}
	writeOverlay(failing)
	start = time.Now()
	out = e.run("headless", 5*time.Minute)
	if !strings.Contains(out, "horde verdict: exit 1") {
		e.fatalf("headless run with rps>100000: want 'horde verdict: exit 1' in\n%s", lastLines(out, 40))
	}
	msg := e.run("headless-failed", time.Minute)
	if !strings.Contains(msg, "exit code 1") {
		e.errorf("failed Job's condition: %q, want it to name exit code 1", msg)
	}
	e.figure("headless Job with a crossed threshold (rps>100000): exit 1, Job Failed (%q), %.0fs", strings.TrimSpace(msg), time.Since(start).Seconds())

	e.run("headless-cleanup", 3*time.Minute)
	if _, err := os.Stat("/srv/horde-reports"); !os.IsNotExist(err) {
		e.errorf("/srv/horde-reports after the clean-up: %v, want gone", err)
	}
	e.nothingLeft("after the headless clean-up")
}

// runTextNoFatal runs text as run does, for a goroutine: it returns the
// output, with the error at its end, instead of failing the test.
func (e *e2e) runTextNoFatal(name, text string, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(e.t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", text)
	cmd.Dir, cmd.Env = e.work, e.env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	e.t.Logf("ran %s:\n%s\n--- output:\n%s", name, indent(text), indent(string(out)))
	if err != nil {
		return fmt.Sprintf("%s\n%s failed: %v", out, name, err)
	}
	return string(out)
}

// checkReports: the master Job's reports, as the nonroot user wrote them on
// the hostPath volume.
func (e *e2e) checkReports(dir, users string, thresholds int) {
	for _, f := range []string{"summary.json", "report.html", "horde_stats.csv", "horde_stats_history.csv", "horde_failures.csv", "horde_exceptions.csv"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 {
			e.errorf("report %s: %v (size %v), want it copied off the volume", f, err, st)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		e.fatalf("%v", err)
	}
	var sum struct {
		Version   int `json:"version"`
		UsersPeak int `json:"users_peak"`
		Totals    struct {
			Requests int64 `json:"requests"`
			Failures int64 `json:"failures"`
		} `json:"totals"`
		Workers    []json.RawMessage `json:"workers"`
		Thresholds []struct {
			Expr   string `json:"expr"`
			Passed bool   `json:"passed"`
		} `json:"thresholds"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		e.fatalf("summary.json: %v", err)
	}
	passed := 0
	for _, th := range sum.Thresholds {
		if th.Passed {
			passed++
		}
	}
	if sum.Version != 1 || fmt.Sprint(sum.UsersPeak) != users || sum.Totals.Requests == 0 || sum.Totals.Failures != 0 ||
		thresholds == 0 || len(sum.Thresholds) != thresholds || passed != thresholds {
		e.errorf("summary.json: want version 1, users_peak %s (HORDE_USERS of my-ci), requests and no failures, "+
			"the overlay's %d thresholds passed; got %s", users, thresholds, data)
	}
	e.figure("headless reports on the volume: summary.json (%d requests, %d failures, %d workers, thresholds passed), report.html, 4 CSV files",
		sum.Totals.Requests, sum.Totals.Failures, len(sum.Workers))
}

// helm: install (7 workers connected), upgrade (10 workers, a new script:
// the master restarts and the workers rejoin it), uninstall.
func (e *e2e) helm() {
	start := time.Now()
	e.run("helm-install", 5*time.Minute)
	e.podsReady("app.kubernetes.io/instance=horde", 8, 2*time.Minute)
	ui := e.forward("port-forward", "horde-ui", 8089)
	e.waitWorkers(ui, 7, 0, 2*time.Minute)
	e.figure("helm install: 7 workers connected %.1fs after the install began", time.Since(start).Seconds())
	e.stopForwards()
	oldMaster, ann := e.masterPodMeta()
	oldScript := ann["checksum/script"]

	start = time.Now()
	e.run("helm-upgrade", 5*time.Minute)
	// The rollout is over; the old master may still be on its way out.
	e.poll("helm upgrade with a new script: one new master pod", time.Minute, func() error {
		var p string
		if p, ann = e.masterPodMeta(); p == oldMaster || p == "" {
			return fmt.Errorf("master pod %q (was %s)", p, oldMaster)
		}
		return nil
	})
	newScript := ann["checksum/script"]
	if newScript == oldScript || newScript == "" {
		e.errorf("helm upgrade: the master's script checksum %q, want a new one (was %q)", newScript, oldScript)
	}
	cm := e.mustKubectl("get", "configmaps", "-l", "app.kubernetes.io/instance=horde", "-o", "jsonpath={.items[*].data}")
	if !strings.Contains(cm, "u.state[") {
		e.errorf("helm upgrade: the script ConfigMap does not hold examples/login_token.star: %s", cm)
	}
	ui = e.forward("port-forward", "horde-ui", 8089)
	e.waitWorkers(ui, 10, 0, 3*time.Minute)
	e.figure("helm upgrade (10 workers, new script): new master, 10 workers rejoined %.1fs after the upgrade began", time.Since(start).Seconds())
	e.stopForwards()

	e.run("helm-uninstall", 3*time.Minute)
	e.nothingLeft("after helm uninstall")
	if out, _ := e.kubectl("get", "secrets", "-l", "owner=helm", "-o", "name"); strings.TrimSpace(out) != "" {
		e.errorf("helm uninstall left its release records: %s", out)
	}
	e.figure("helm: install, upgrade, uninstall; nothing left")
}
