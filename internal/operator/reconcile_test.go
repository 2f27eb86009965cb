package operator

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/stats"
)

const seedScript = `def index(u):
    u.get("/")

users = [user(name="Web", tasks={index: 1}, wait=constant(1))]
`

func newTest(name string, workers int32, mutate ...func(*v1.HordeTest)) *v1.HordeTest {
	ht := &v1.HordeTest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.HordeTestSpec{
			Script:     v1.Script{Inline: seedScript},
			Host:       "http://horde-target:8080",
			Users:      10,
			SpawnRate:  5,
			RunTime:    "1m",
			Thresholds: []string{"p95<500ms"},
			Workers:    v1.Workers{Replicas: workers},
		},
	}
	for _, m := range mutate {
		m(ht)
	}
	return ht
}

func (k *cluster) create(ht *v1.HordeTest) {
	k.t.Helper()
	ht.Namespace = k.ns
	if err := k.c.Create(k.t.Context(), ht); err != nil {
		k.t.Fatal(err)
	}
}

// summaryJSON is a finished test's summary, as the master serves it.
func summaryJSON(t *testing.T, requests, failures int64, p95 float64, thresholds ...report.ThresholdResult) []byte {
	t.Helper()
	s := report.Summary{Version: report.SummaryVersion, Started: "2026-01-01T00:00:00Z", DurationS: 60, UsersPeak: 20,
		Host: "http://horde-target:8080",
		Totals: report.Totals{Requests: requests, Failures: failures, RPS: float64(requests) / 60,
			Latency: stats.Latency{P50: p95 / 2, P95: p95, Max: p95 * 2}},
		Endpoints: []report.EndpointSummary{}, Errors: []report.ErrorSummary{}, Exceptions: []report.ExceptionInfo{},
		Workers: []report.WorkerInfo{}, Thresholds: append([]report.ThresholdResult{}, thresholds...), Warnings: []string{}}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// run moves the fake master to a running test of users users on n
// workers that started at started.
func (fm *fakeMaster) run(started time.Time, n, users int, requests int64) {
	fm.set(func(s *masterStatsJSON) {
		s.State, s.Started = "running", started.UTC().Format(time.RFC3339)
		s.Users, s.TargetUsers, s.SpawnRate = users, users, 5
		s.Workers = workers(n, users)
		s.Total.Requests, s.Total.RPS, s.Total.CurrentRPS = requests, float64(requests)/30, 11.5
		s.Total.Latency.P95 = 12.5
		s.ElapsedS, s.RunTimeS = 30, 60
	})
}

func owned(t *testing.T, obj client.Object, ht *v1.HordeTest) {
	t.Helper()
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.UID != ht.UID || ref.Kind != "HordeTest" {
		t.Errorf("%T %s: controller %+v, want the HordeTest %s (deleting it deletes them)", obj, obj.GetName(), ref, ht.Name)
	}
}

func flagValues(args []string, flag string) []string {
	var out []string
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return out
}

// TestHordeTestRunsAndSucceeds: a HordeTest's life as its user sees it —
// its objects made and owned; Starting while workers connect; Running
// with the master's figures; users and workers edited mid-test (the
// running test edited, the workers scaled, the master left alone); the
// end with the summary's figures, the verdict, the summary kept in a
// ConfigMap, and the clean-up of a passed test.
func TestHordeTestRunsAndSucceeds(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	fm := newFakeMaster(t)
	k.startOperator(fm)
	k.create(newTest("shop", 3))

	var sec corev1.Secret
	var cm corev1.ConfigMap
	var svc corev1.Service
	var master, workersD appsv1.Deployment
	k.eventually("the test's objects", func() error {
		for name, obj := range map[string]client.Object{"shop-auth": &sec, "shop-script": &cm, "shop-master": &master, "shop-worker": &workersD} {
			if err := k.c.Get(t.Context(), k.key(name), obj); err != nil {
				return err
			}
		}
		return k.c.Get(t.Context(), k.key("shop-master"), &svc)
	})
	ht := k.get("shop")
	for _, o := range []client.Object{&sec, &cm, &svc, &master, &workersD} {
		owned(t, o, ht)
	}
	if len(sec.Data["token"]) < 32 || len(sec.Data["web"]) < 16 || bytes.Equal(sec.Data["token"], sec.Data["web"]) {
		t.Errorf("Secret shop-auth: want a generated token and a web password, got %q", sec.Data)
	}
	if cm.Data["script.star"] != seedScript {
		t.Errorf("script ConfigMap: %q, want the inline script", cm.Data)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 2 {
		t.Errorf("Service: %s with ports %+v, want ClusterIP with 8089 and 5557", svc.Spec.Type, svc.Spec.Ports)
	}
	args := master.Spec.Template.Spec.Containers[0].Args
	for flag, want := range map[string]string{"--expect-workers": "3", "--users": "10", "--spawn-rate": "5", "--run-time": "1m",
		"--threshold": "p95<500ms", "--host": "http://horde-target:8080", "--store": "off"} {
		if got := flagValues(args, flag); len(got) != 1 || got[0] != want {
			t.Errorf("master %s = %q, want %q (args %q)", flag, got, want, args)
		}
	}
	if args[0] != "master" || args[1] != "/etc/horde/script/script.star" || !slices.Contains(args, "--autostart") {
		t.Errorf("master args %q: want master SCRIPT --autostart ...", args)
	}
	if *workersD.Spec.Replicas != 3 || workersD.Spec.Template.Spec.Containers[0].Args[2] != "shop-master:5557" {
		t.Errorf("workers: %d replicas, args %q; want 3 connecting to shop-master:5557", *workersD.Spec.Replicas, workersD.Spec.Template.Spec.Containers[0].Args)
	}

	// The master is up, two of three workers have come.
	fm.set(func(s *masterStatsJSON) { s.Workers = workers(2, 0) })
	k.eventually("Starting, 2 of 3 workers", func() error {
		st := k.get("shop").Status
		if st.Phase != v1.PhaseStarting || st.Workers != "2/3" || !strings.Contains(st.Message, "2 of 3") {
			return fmt.Errorf("phase %s, workers %q, message %q", st.Phase, st.Workers, st.Message)
		}
		return nil
	})
	if auth := fm.auth[len(fm.auth)-1]; auth != "Bearer "+string(sec.Data["web"]) {
		t.Errorf("the operator asked the master with %q, want the Secret's web password as a bearer token", auth)
	}

	// Running.
	started := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	fm.run(started, 3, 10, 345)
	ht = k.waitPhase("shop", v1.PhaseRunning)
	k.eventually("live figures", func() error {
		ht = k.get("shop")
		st := ht.Status
		if st.Users != 10 || st.Workers != "3/3" || st.Requests != 345 || st.RPS != 11.5 || st.CurrentRPS != 11.5 || st.P95Ms != 12.5 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	// kubectl get shows a figure that is 0 as 0, not as a blank.
	var raw unstructured.Unstructured
	raw.SetGroupVersionKind(v1.GroupVersion.WithKind("HordeTest"))
	if err := k.c.Get(t.Context(), k.key("shop"), &raw); err != nil {
		t.Fatal(err)
	}
	if f, ok, _ := unstructured.NestedInt64(raw.Object, "status", "failures"); !ok || f != 0 {
		t.Errorf("status.failures stored as %v (present %v), want 0", f, ok)
	}
	if !ht.Status.StartedAt.Time.Equal(started) {
		t.Errorf("startedAt %v, want the master's start %v", ht.Status.StartedAt, started)
	}
	k.waitEvent("shop", "Started")

	// users 10 → 20 edits the running test; workers 3 → 6 scales the
	// workers; the master's Deployment is not touched.
	if err := k.update("shop", func(ht *v1.HordeTest) { ht.Spec.Users = 20; ht.Spec.Workers.Replicas = 6 }); err != nil {
		t.Fatal(err)
	}
	k.eventually("the edit sent to the master", func() error {
		e := fm.editsSeen()
		if len(e) != 1 || e[0]["users"] != float64(20) || e[0]["spawn_rate"] != float64(5) || e[0]["run_time"] != nil {
			return fmt.Errorf("edits %v, want one with users 20, spawn_rate 5 and no run_time (the rest of it kept)", e)
		}
		return nil
	})
	k.eventually("6 workers", func() error {
		if err := k.c.Get(t.Context(), k.key("shop-worker"), &workersD); err != nil {
			return err
		}
		if *workersD.Spec.Replicas != 6 {
			return fmt.Errorf("%d replicas", *workersD.Spec.Replicas)
		}
		return nil
	})
	k.waitEvent("shop", "Scaled")
	var master2 appsv1.Deployment
	if err := k.c.Get(t.Context(), k.key("shop-master"), &master2); err != nil {
		t.Fatal(err)
	}
	if master2.Generation != master.Generation {
		t.Errorf("the master's Deployment changed (generation %d → %d): an edit must not restart the master", master.Generation, master2.Generation)
	}
	time.Sleep(200 * time.Millisecond) // a few more polls: the edit is sent once
	if n := len(fm.editsSeen()); n != 1 {
		t.Errorf("%d edits sent, want 1", n)
	}

	// The end: the summary decides.
	sum := summaryJSON(t, 1234, 2, 48.5, report.ThresholdResult{Expr: "p95<500ms", Value: 48.5, Passed: true})
	fm.setSummary(sum)
	fm.set(func(s *masterStatsJSON) { s.State, s.Users = "stopped", 0 })
	ht = k.waitPhase("shop", v1.PhaseSucceeded)
	st := ht.Status
	if st.Verdict != "Passed" || st.ExitCode == nil || *st.ExitCode != 0 || st.CompletedAt == nil {
		t.Errorf("verdict %q exit %v completed %v, want Passed 0 and a time", st.Verdict, st.ExitCode, st.CompletedAt)
	}
	if st.Requests != 1234 || st.Failures != 2 || st.P95Ms != 48.5 || st.RPS != round(1234.0/60) || st.Users != 20 || st.CurrentRPS != 0 {
		t.Errorf("final figures %+v, want the summary's: 1234 requests, 2 failures, p95 48.5, rps %v, users_peak 20", st, round(1234.0/60))
	}
	if len(st.Thresholds) != 1 || st.Thresholds[0] != (v1.ThresholdResult{Expr: "p95<500ms", Value: 48.5, Passed: true}) {
		t.Errorf("thresholds %+v", st.Thresholds)
	}
	if st.Summary == nil || st.Summary.ConfigMap != "shop-summary" {
		t.Fatalf("summary location %+v", st.Summary)
	}
	var kept corev1.ConfigMap
	if err := k.c.Get(t.Context(), k.key("shop-summary"), &kept); err != nil || kept.Data[SummaryKey] != string(sum) {
		t.Errorf("summary ConfigMap: %v, %q; want the master's summary JSON", err, kept.Data)
	}
	owned(t, &kept, ht)
	if ev := k.waitEvent("shop", "Succeeded"); !strings.Contains(ev, "1234 requests") {
		t.Errorf("event %q: want the figures", ev)
	}

	// A passed test's clean-up (KeepOnFailure): all gone but the summary.
	k.eventually("the clean-up", func() error {
		for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}} {
			for _, name := range []string{"shop-master", "shop-worker"} {
				if _, isSvc := o.(*corev1.Service); isSvc && name == "shop-worker" {
					continue
				}
				if err := k.c.Get(t.Context(), k.key(name), o); !apierrors.IsNotFound(err) {
					return fmt.Errorf("%T %s still there (%v)", o, name, err)
				}
			}
		}
		for _, name := range []string{"shop-auth", "shop-script"} {
			var obj client.Object = &corev1.ConfigMap{}
			if name == "shop-auth" {
				obj = &corev1.Secret{}
			}
			if err := k.c.Get(t.Context(), k.key(name), obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s still there (%v)", name, err)
			}
		}
		if !k.get("shop").Status.CleanedUp {
			return fmt.Errorf("status.cleanedUp false")
		}
		return nil
	})
	k.waitEvent("shop", "CleanedUp")
}

// TestHordeTestFailsOnThreshold: a crossed threshold ends the test Failed
// with exit code 1, naming the threshold; KeepOnFailure keeps the master
// (its UI and API) and removes the workers.
func TestHordeTestFailsOnThreshold(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	fm := newFakeMaster(t)
	k.startOperator(fm)
	k.create(newTest("slow", 1))
	fm.run(time.Now().Add(-5*time.Second), 1, 10, 50)
	k.waitPhase("slow", v1.PhaseRunning)
	fm.setSummary(summaryJSON(t, 100, 0, 900, report.ThresholdResult{Expr: "p95<500ms", Value: 900, Passed: false}))
	fm.set(func(s *masterStatsJSON) { s.State = "stopped" })
	ht := k.waitPhase("slow", v1.PhaseFailed)
	st := ht.Status
	if st.Verdict != "Failed" || st.ExitCode == nil || *st.ExitCode != 1 || !strings.Contains(st.Message, "p95<500ms") {
		t.Errorf("verdict %q exit %v message %q: want Failed, 1, naming p95<500ms", st.Verdict, st.ExitCode, st.Message)
	}
	if len(st.Thresholds) != 1 || st.Thresholds[0].Passed {
		t.Errorf("thresholds %+v, want the crossed one", st.Thresholds)
	}
	if ev := k.waitEvent("slow", "Failed"); !strings.Contains(ev, "exit code 1") {
		t.Errorf("event %q", ev)
	}
	k.eventually("workers gone, master kept", func() error {
		if err := k.c.Get(t.Context(), k.key("slow-worker"), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("workers: %v", err)
		}
		if !k.get("slow").Status.CleanedUp {
			return fmt.Errorf("not cleaned up yet")
		}
		return nil
	})
	for name, obj := range map[string]client.Object{"slow-master": &appsv1.Deployment{}, "slow-auth": &corev1.Secret{}, "slow-script": &corev1.ConfigMap{}} {
		if err := k.c.Get(t.Context(), k.key(name), obj); err != nil {
			t.Errorf("%s: %v, want it kept for a failed test (cleanup KeepOnFailure)", name, err)
		}
	}
	if err := k.c.Get(t.Context(), k.key("slow-master"), &corev1.Service{}); err != nil {
		t.Errorf("the master's Service: %v, want it kept", err)
	}
}

// TestOperatorRestart: an operator stopped mid-test and a new one started
// carry on: the new one reads the running test's figures into the same
// status, makes nothing twice, and sends nothing to the master. Then the
// master itself restarts: counted, told in an Event, followed again.
func TestOperatorRestart(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	fm := newFakeMaster(t)
	op := k.startOperator(fm)
	k.create(newTest("steady", 2))
	started := time.Now().Add(-10 * time.Second).Truncate(time.Second)
	fm.run(started, 2, 10, 100)
	before := k.waitPhase("steady", v1.PhaseRunning)
	op.stop()

	fm.set(func(s *masterStatsJSON) { s.Total.Requests = 777 })
	time.Sleep(200 * time.Millisecond)
	if n := k.get("steady").Status.Requests; n == 777 {
		t.Fatal("the status moved with the operator stopped")
	}
	k.startOperator(fm)
	k.eventually("the new operator's figures", func() error {
		if n := k.get("steady").Status.Requests; n != 777 {
			return fmt.Errorf("requests %d", n)
		}
		return nil
	})
	after := k.get("steady")
	if !after.Status.StartedAt.Equal(before.Status.StartedAt) || after.Status.MasterRestarts != 0 || after.Status.Phase != v1.PhaseRunning {
		t.Errorf("after the operator's restart: startedAt %v (was %v), masterRestarts %d, phase %s",
			after.Status.StartedAt, before.Status.StartedAt, after.Status.MasterRestarts, after.Status.Phase)
	}
	if e := fm.editsSeen(); len(e) != 0 {
		t.Errorf("the restarted operator sent edits %v, want none (the load is the spec's)", e)
	}
	var ds appsv1.DeploymentList
	if err := k.c.List(t.Context(), &ds, client.InNamespace(k.ns)); err != nil || len(ds.Items) != 2 {
		t.Errorf("%d Deployments (%v), want the master's and the workers'", len(ds.Items), err)
	}

	// The master restarts: it waits for its workers, then runs the test
	// again from its start.
	fm.set(func(s *masterStatsJSON) { s.State, s.Started, s.Workers = "ready", "", workers(1, 0) })
	k.waitPhase("steady", v1.PhaseStarting)
	if ev := k.waitEvent("steady", "MasterRestarted"); !strings.Contains(ev, "again") {
		t.Errorf("event %q", ev)
	}
	fm.run(started.Add(time.Minute), 2, 10, 5)
	ht := k.waitPhase("steady", v1.PhaseRunning)
	if ht.Status.MasterRestarts != 1 || !ht.Status.StartedAt.Time.Equal(started.Add(time.Minute)) {
		t.Errorf("masterRestarts %d, startedAt %v; want 1 and the new start", ht.Status.MasterRestarts, ht.Status.StartedAt)
	}
}

// TestStopAndStartTimeout: spec.stop stops a running test through the
// master's API; a test whose master never answers fails after its start
// timeout with exit code 3.
func TestStopAndStartTimeout(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	fm := newFakeMaster(t)
	k.startOperator(fm)
	k.create(newTest("brake", 1))
	fm.run(time.Now(), 1, 10, 10)
	k.waitPhase("brake", v1.PhaseRunning)
	if err := k.update("brake", func(ht *v1.HordeTest) { ht.Spec.Stop = true }); err != nil {
		t.Fatal(err)
	}
	k.eventually("POST /api/v1/stop", func() error {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		if fm.stops != 1 {
			return fmt.Errorf("%d stops", fm.stops)
		}
		return nil
	})

	dead := newFakeMaster(t)
	dead.srv.Close() // a master that never answers
	other := newCluster(t)
	other.startOperator(dead)
	other.create(newTest("never", 1, func(ht *v1.HordeTest) { ht.Spec.StartTimeout = "1s" }))
	ht := other.waitPhase("never", v1.PhaseFailed)
	if ht.Status.ExitCode == nil || *ht.Status.ExitCode != 3 || !strings.Contains(ht.Status.Message, "did not start within 1s") {
		t.Errorf("exit %v, message %q: want 3 and why", ht.Status.ExitCode, ht.Status.Message)
	}
}
