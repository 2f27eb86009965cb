package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/horde-load/horde/internal/buftest"
	"github.com/horde-load/horde/internal/operator"
	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// TestKubeCommands runs `horde kube` against a real kube-apiserver
// (envtest, the CRD of deploy/operator/crd installed), with the test
// playing the operator: it reads the HordeTest that `kube run` created
// and writes its status as the operator would. What a user checks: the
// HordeTest carries the script with the files it loads and the flags;
// --wait prints the live line and exits with the test's exit code; a
// script that does not load is exit 2 with nothing created; ls, status
// and stop do what they say.
func TestKubeCommands(t *testing.T) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "kube", "bin")
	}
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		t.Skipf("no kube-apiserver in %s (KUBEBUILDER_ASSETS): run scripts/kube-bins.sh", dir)
	}
	crlog.SetLogger(logr.Discard())
	env := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: []string{filepath.Join("..", "..", "deploy", "operator", "crd")}, ErrorIfPathMissing: true},
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme, err := operator.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	k := &kubeCLI{t: t, c: c, kubeconfig: kubeconfig}

	t.Run("run --wait, failed", k.runFailed)
	t.Run("run --wait, passed", k.runPassed)
	t.Run("bad script", k.badScript)
	t.Run("ls status stop logs", k.lsStatusStop)
}

type kubeCLI struct {
	t          *testing.T
	c          client.Client
	kubeconfig string
}

// namespace makes a namespace for one subtest.
func (k *kubeCLI) namespace(t *testing.T, name string) string {
	if err := k.c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

// horde runs `horde kube ARGS` in namespace ns; it returns a channel with
// the exit code and the output so far.
func (k *kubeCLI) horde(ctx context.Context, ns string, args ...string) (<-chan int, *buftest.Buffer) {
	out := &buftest.Buffer{}
	env := Env{Stdout: out, Stderr: out, Getenv: func(string) (string, bool) { return "", false }}
	code := make(chan int, 1)
	go func() {
		code <- Execute(ctx, append([]string{"kube", "--kubeconfig", k.kubeconfig, "-n", ns}, args...), env)
	}()
	return code, out
}

// script writes a script that loads a module and reads a data file.
func kubeScript(t *testing.T) string {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"shop.star": `load("lib.star", "path")

rows = csv("users.csv")

def index(u):
    u.get(path())

users = [user(name="Web", tasks={index: 1}, wait=constant(1))]
`,
		"lib.star":  "def path():\n    return \"/\"\n",
		"users.csv": "name\nann\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "shop.star")
}

// waitTest waits for the HordeTest name to exist.
func (k *kubeCLI) waitTest(t *testing.T, ns, name string) *v1.HordeTest {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ht v1.HordeTest
		err := k.c.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, &ht)
		if err == nil {
			return &ht
		}
		if time.Now().After(deadline) {
			t.Fatalf("hordetest %s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setStatus plays the operator: it writes ht's status.
func (k *kubeCLI) setStatus(t *testing.T, ht *v1.HordeTest, f func(*v1.HordeTestStatus)) {
	t.Helper()
	var cur v1.HordeTest
	if err := k.c.Get(t.Context(), client.ObjectKeyFromObject(ht), &cur); err != nil {
		t.Fatal(err)
	}
	f(&cur.Status)
	if err := k.c.Status().Update(t.Context(), &cur); err != nil {
		t.Fatal(err)
	}
}

func running(st *v1.HordeTestStatus) {
	st.Phase, st.Users, st.TargetUsers, st.Workers = v1.PhaseRunning, 30, 30, "3/3"
	st.Requests, st.CurrentRPS, st.RPS, st.P95Ms, st.ElapsedSeconds, st.RunTimeSeconds = 420, 14.2, 12, 8.25, 30, 60
}

func ended(code int32, verdict string, passed bool) func(*v1.HordeTestStatus) {
	return func(st *v1.HordeTestStatus) {
		st.Phase = v1.PhaseSucceeded
		if code != 0 {
			st.Phase = v1.PhaseFailed
		}
		st.ExitCode, st.Verdict, st.Message = &code, verdict, "test failed: 1 of 1 thresholds crossed: p95<5ms"
		st.Thresholds = []v1.ThresholdResult{{Expr: "p95<5ms", Value: 8.25, Passed: passed}}
		st.Summary = &v1.SummaryLocation{ConfigMap: "shop-summary"}
		st.Requests, st.RPS = 840, 14
	}
}

func (k *kubeCLI) runFailed(t *testing.T) {
	ns := k.namespace(t, "run-failed")
	code, out := k.horde(t.Context(), ns, "run", kubeScript(t), "-H", "http://horde-target:8080", "-u", "30", "-r", "10", "-t", "1m",
		"--workers", "3", "--threshold", "p95<5ms", "--name", "shop", "--wait", "--print-interval", "100ms")
	ht := k.waitTest(t, ns, "shop")
	s := ht.Spec
	b := s.Script.Bundle
	if b == nil || b.Main != "shop.star" || len(b.Files) != 3 || b.Files["lib.star"] == "" || b.Files["users.csv"] != "name\nann\n" {
		t.Fatalf("spec.script %+v: want a bundle of shop.star with lib.star and users.csv", s.Script)
	}
	if s.Users != 30 || s.SpawnRate != 10 || s.RunTime != "1m0s" || s.Workers.Replicas != 3 || s.Host != "http://horde-target:8080" ||
		len(s.Thresholds) != 1 || s.Thresholds[0] != "p95<5ms" {
		t.Errorf("spec %+v: want the flags", s)
	}
	k.setStatus(t, ht, func(st *v1.HordeTestStatus) {
		st.Phase, st.Workers, st.Message = v1.PhaseStarting, "1/3", "waiting for the workers: 1 of 3 connected"
	})
	time.Sleep(1500 * time.Millisecond) // a look or two at each phase
	k.setStatus(t, ht, running)
	time.Sleep(1500 * time.Millisecond)
	k.setStatus(t, ht, ended(1, "Failed", false))
	select {
	case c := <-code:
		o := out.String()
		if c != 1 {
			t.Errorf("exit code %d, want 1 (the test's)\n%s", c, o)
		}
		for _, want := range []string{"hordetest/shop created in namespace run-failed", "Starting  0/30 users  1/3 workers",
			"Running   30/30 users  3/3 workers  420 requests  0 failed  14.2 req/s  p95 8.2 ms  30s of 1m0s",
			"shop: Failed (exit code 1): test failed: 1 of 1 thresholds crossed: p95<5ms", "✗ FAIL  p95<5ms",
			"kubectl get configmap shop-summary -n run-failed"} {
			if !strings.Contains(o, want) {
				t.Errorf("output lacks %q:\n%s", want, o)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("kube run --wait did not end with the test:\n%s", out.String())
	}
}

func (k *kubeCLI) runPassed(t *testing.T) {
	ns := k.namespace(t, "run-passed")
	code, out := k.horde(t.Context(), ns, "run", kubeScript(t), "-u", "30", "-t", "30s", "--wait")
	var list v1.HordeTestList
	deadline := time.Now().Add(30 * time.Second)
	for len(list.Items) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if err := k.c.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	if len(list.Items) != 1 || !strings.HasPrefix(list.Items[0].Name, "shop-") {
		t.Fatalf("HordeTests %v: want one named after the script", list.Items)
	}
	k.setStatus(t, &list.Items[0], ended(0, "Passed", true))
	if c := <-code; c != 0 {
		t.Errorf("exit code %d, want 0\n%s", c, out)
	}
}

func (k *kubeCLI) badScript(t *testing.T) {
	ns := k.namespace(t, "bad-script")
	bad := filepath.Join(t.TempDir(), "bad.star")
	if err := os.WriteFile(bad, []byte("users = [user(name=\"x\", tasks={nope: 1})]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := k.horde(t.Context(), ns, "run", bad, "-t", "1m", "--wait")
	if c := <-code; c != 2 || !strings.Contains(out.String(), "bad.star:1") {
		t.Errorf("a script that does not load: exit %d, %q; want 2 with where", c, out)
	}
	code, out = k.horde(t.Context(), ns, "run", kubeScript(t))
	if c := <-code; c != 2 || !strings.Contains(out.String(), "--run-time") {
		t.Errorf("no run time: exit %d, %q; want 2 asking for one", c, out)
	}
	var list v1.HordeTestList
	if err := k.c.List(t.Context(), &list, client.InNamespace(ns)); err != nil || len(list.Items) != 0 {
		t.Errorf("HordeTests after bad input: %d (%v), want none", len(list.Items), err)
	}
}

func (k *kubeCLI) lsStatusStop(t *testing.T) {
	ns := k.namespace(t, "ls")
	code, out := k.horde(t.Context(), ns, "run", kubeScript(t), "-u", "30", "-t", "1m", "--workers", "3", "--name", "shop")
	if c := <-code; c != 0 || !strings.Contains(out.String(), "horde kube status shop") {
		t.Fatalf("kube run without --wait: exit %d, %q; want 0 and how to follow it", c, out)
	}
	ht := k.waitTest(t, ns, "shop")
	k.setStatus(t, ht, running)

	code, out = k.horde(t.Context(), ns, "ls")
	if c := <-code; c != 0 || !strings.Contains(out.String(), "NAME") ||
		!strings.Contains(strings.Join(strings.Fields(out.String()), " "), "shop Running 30 3/3 420 0 12.0 8.2 -") {
		t.Errorf("kube ls: exit %d\n%s", c, out)
	}
	code, out = k.horde(t.Context(), ns, "status", "shop")
	if c := <-code; c != 0 || !strings.Contains(out.String(), "kubectl port-forward -n ls svc/shop-master 8089") ||
		!strings.Contains(out.String(), "shop-auth -o jsonpath='{.data.web}'") {
		t.Errorf("kube status: exit %d\n%s", c, out)
	}
	code, out = k.horde(t.Context(), ns, "stop", "shop")
	if c := <-code; c != 0 || !k.waitTest(t, ns, "shop").Spec.Stop {
		t.Errorf("kube stop: exit %d, %q; want spec.stop set", c, out)
	}
	code, out = k.horde(t.Context(), ns, "logs", "shop")
	if c := <-code; c != 3 || !strings.Contains(out.String(), "no master pod") {
		t.Errorf("kube logs without pods: exit %d, %q; want 3 saying so", c, out)
	}
	code, out = k.horde(t.Context(), ns, "status", "nosuch")
	if c := <-code; c != 2 || !strings.Contains(out.String(), "no such HordeTest") {
		t.Errorf("kube status of a missing test: exit %d, %q", c, out)
	}
	k.setStatus(t, ht, ended(1, "Failed", false))
	code, out = k.horde(t.Context(), ns, "status", "shop")
	if c := <-code; c != 0 || !strings.Contains(out.String(), "Failed (exit code 1)") || !strings.Contains(out.String(), "✗ FAIL  p95<5ms") {
		t.Errorf("kube status of a failed test: exit %d\n%s", c, out)
	}
}
