package deploytest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func metaSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}

// kustomizations lists every directory under deploy/kubernetes with a
// kustomization.yaml, relative to it: a new overlay is tested by default.
func kustomizations(t testing.TB) []string {
	t.Helper()
	base := filepath.Join(repoRoot(t), "deploy", "kubernetes")
	var dirs []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "kustomization.yaml" {
			rel, _ := filepath.Rel(base, filepath.Dir(p))
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// The expectations of each kustomization beyond the common checks.
var kustomizeCases = map[string]struct {
	external []string // Secrets the user creates
	check    func(t *testing.T, r rendering)
}{
	"base":                  {check: checkBase},
	"overlays/loadbalancer": {external: []string{"horde-web-auth"}, check: checkLoadBalancer},
	"overlays/headless":     {check: checkHeadless},
	"overlays/hpa":          {check: checkHPA},
	"overlays/prometheus":   {check: checkServiceMonitor},
	"target":                {check: checkTarget},
}

// TestKustomize renders every kustomization under deploy/kubernetes as
// `kubectl kustomize` does, decodes every object strictly, and checks it.
func TestKustomize(t *testing.T) {
	t.Parallel()
	d := newDecoder(t)
	rt := readRoutes(t)
	dirs := kustomizations(t)
	for name := range kustomizeCases {
		if !slices.Contains(dirs, name) {
			t.Errorf("deploy/kubernetes/%s: no kustomization.yaml", name)
		}
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			tc, ok := kustomizeCases[dir]
			if !ok {
				t.Fatalf("deploy/kubernetes/%s: a kustomization without expectations: add it to kustomizeCases", dir)
			}
			r := renderKustomize(t, d, filepath.Join(repoRoot(t), "deploy", "kubernetes", dir))
			if dir == "target" {
				checkTarget(t, r) // the sample app only: no master, no workers
				return
			}
			ext := map[string]bool{}
			for _, e := range tc.external {
				ext[e] = true
			}
			checks{routes: rt, external: ext}.run(t, r)
			checkScriptIsTheExample(t, r)
			tc.check(t, r)
		})
	}
}

// checkBase: the tutorial's layout.
func checkBase(t *testing.T, r rendering) {
	t.Helper()
	checkDeployments(t, r, 7)
	target := renderKustomize(t, newDecoder(t), filepath.Join(repoRoot(t), "deploy", "kubernetes", "target"))
	checkFitsSmallCluster(t, r, target)
	for _, s := range r.services() {
		if s.Spec.Type != corev1.ServiceTypeClusterIP {
			t.Errorf("Service/%s is %s: the base exposes nothing outside the cluster", s.Name, s.Spec.Type)
		}
	}
}

// smallCluster is the CPU a laptop-sized cluster (kind or minikube on 2
// cores) can allocate to the walkthrough, leaving room for its own pods.
const smallCluster = "1800m"

// checkFitsSmallCluster: the walkthrough's pods — the master, the sample
// app and 20 workers (after kubectl scale) — request no more CPU than a
// 2-core cluster has (with 1 CPU per worker, 7 workers did not fit one), and
// each worker may still use a whole core (its limit: horde's GOMAXPROCS
// follows it).
func checkFitsSmallCluster(t *testing.T, base, target rendering) {
	t.Helper()
	total := resource.MustParse("0")
	add := func(p podTemplate, n int64) {
		for _, c := range p.Spec.Spec.Containers {
			q := c.Resources.Requests.Cpu().DeepCopy()
			q.Mul(n)
			total.Add(q)
		}
	}
	add(base.one(t, "master"), 1)
	add(target.one(t, "target"), 1)
	w := base.one(t, "worker")
	add(w, 20)
	if limit := container(w).Resources.Limits.Cpu(); limit.Cmp(resource.MustParse("1")) != 0 {
		t.Errorf("worker CPU limit %v, want 1 (one core per worker at most)", limit)
	}
	if total.Cmp(resource.MustParse(smallCluster)) > 0 {
		t.Errorf("master + sample app + 20 workers request %v CPU, more than a 2-core cluster can give (%s)", &total, smallCluster)
	}
}

// checkDeployments: one master that is never doubled, workers that find it
// through the worker Service, worker replicas as given (0: not set).
func checkDeployments(t *testing.T, r rendering, workers int32) {
	t.Helper()
	m := r.one(t, "master")
	md, ok := r.get("Deployment", strings.TrimPrefix(m.Owner, "Deployment/")).(*appsv1.Deployment)
	if !ok {
		t.Fatalf("the master is %s, want a Deployment", m.Owner)
	}
	if md.Spec.Replicas == nil || *md.Spec.Replicas != 1 || md.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("master Deployment: want 1 replica and the Recreate strategy (never two masters)")
	}
	if v, _ := envValue(container(m), "HORDE_MODE"); v != "master" {
		t.Errorf("master: HORDE_MODE=%q, want master", v)
	}
	w := r.one(t, "worker")
	wd, ok := r.get("Deployment", strings.TrimPrefix(w.Owner, "Deployment/")).(*appsv1.Deployment)
	if !ok {
		t.Fatalf("the workers are %s, want a Deployment", w.Owner)
	}
	switch {
	case workers == 0 && wd.Spec.Replicas != nil:
		t.Errorf("worker Deployment sets replicas %d under an HPA", *wd.Spec.Replicas)
	case workers > 0 && (wd.Spec.Replicas == nil || *wd.Spec.Replicas != workers):
		t.Errorf("worker replicas = %v, want %d", wd.Spec.Replicas, workers)
	}
	checkWorkerFindsMaster(t, r, w)
}

// checkWorkerFindsMaster: HORDE_MASTER names the Service of the worker
// port, and master and workers share the token's Secret.
func checkWorkerFindsMaster(t *testing.T, r rendering, w podTemplate) {
	t.Helper()
	c := container(w)
	if v, _ := envValue(c, "HORDE_MODE"); v != "worker" {
		t.Errorf("worker: HORDE_MODE=%q, want worker", v)
	}
	addr, _ := envValue(c, "HORDE_MASTER")
	host, port, _ := strings.Cut(addr, ":")
	s, ok := r.get("Service", host).(*corev1.Service)
	if !ok || port != "5557" || !selects(s.Spec.Selector, r.component("master")) ||
		!slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == workerPort }) {
		t.Errorf("worker: HORDE_MASTER=%q is not a Service of the master's port 5557", addr)
	}
	wt, mt := envVar(c, "HORDE_AUTH_TOKEN"), envVar(container(r.one(t, "master")), "HORDE_AUTH_TOKEN")
	if wt == nil || mt == nil || wt.ValueFrom == nil || mt.ValueFrom == nil || wt.ValueFrom.SecretKeyRef == nil ||
		mt.ValueFrom.SecretKeyRef == nil || *wt.ValueFrom.SecretKeyRef != *mt.ValueFrom.SecretKeyRef {
		t.Errorf("master and workers must take HORDE_AUTH_TOKEN from the same Secret key")
	}
}

// checkScriptIsTheExample: the tutorial's script in the ConfigMap is
// examples/seed.star, byte for byte (kustomize cannot read outside its
// directory, so it keeps a copy).
func checkScriptIsTheExample(t *testing.T, r rendering) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "seed.star"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range scriptConfigMaps(r) {
		cm, _ := r.get("ConfigMap", name).(*corev1.ConfigMap)
		if cm != nil && cm.Data["script.star"] != string(want) {
			t.Errorf("ConfigMap %s: script.star differs from examples/seed.star", name)
		}
	}
}

func checkLoadBalancer(t *testing.T, r rendering) {
	t.Helper()
	checkDeployments(t, r, 7)
	var lb []string
	for _, s := range r.services() {
		if exposed(s) {
			lb = append(lb, s.Name)
		}
	}
	if !slices.Equal(lb, []string{"horde-ui"}) {
		t.Errorf("exposed Services = %v, want only horde-ui", lb)
	}
}

func checkHPA(t *testing.T, r rendering) {
	t.Helper()
	checkDeployments(t, r, 0)
	h, ok := r.get("HorizontalPodAutoscaler", "horde-worker").(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		t.Fatal("no HorizontalPodAutoscaler horde-worker")
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != 7 || h.Spec.MaxReplicas <= *h.Spec.MinReplicas {
		t.Errorf("HPA: min %v max %d, want from the tutorial's 7 upwards", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
}

func checkServiceMonitor(t *testing.T, r rendering) {
	t.Helper()
	checkDeployments(t, r, 7)
	n := 0
	for _, o := range r {
		if _, ok := o.Obj.(*serviceMonitor); ok {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one ServiceMonitor, got %d", n)
	}
}

func checkTarget(t *testing.T, r rendering) {
	t.Helper()
	for _, e := range (checks{routes: readRoutes(t)}).security(r) {
		t.Error(e)
	}
	s, ok := r.get("Service", "horde-target").(*corev1.Service)
	if !ok || s.Spec.Ports[0].Port != 8080 || serviceErrors(r, s) != nil {
		t.Errorf("want Service horde-target on 8080 selecting the target (the base's TARGET_HOST)")
	}
	if c := container(r.one(t, "target")); !slices.Equal(c.Args[:1], []string{"target"}) {
		t.Errorf("target args %v, want `horde target`", c.Args)
	}
}

// checkHeadless: master and workers are Jobs; the master's exit code is
// the verdict and is never retried; workers end after the master.
func checkHeadless(t *testing.T, r rendering) {
	t.Helper()
	for _, o := range r {
		if o.Kind == "Deployment" {
			t.Errorf("headless: %s left over (a Deployment restarts what exits)", o)
		}
	}
	m := r.one(t, "master")
	checkMasterJob(t, m)
	w := r.one(t, "worker")
	checkWorkerJob(t, w)
	checkWorkerFindsMaster(t, r, w)
}

// checkMasterJob: backoffLimit 0, --headless, a run time, reports on a
// writable volume.
func checkMasterJob(t *testing.T, m podTemplate) {
	t.Helper()
	if m.Job == nil {
		t.Fatalf("headless master is %s, want a Job", m.Owner)
	}
	if m.Job.Spec.BackoffLimit == nil || *m.Job.Spec.BackoffLimit != 0 {
		t.Errorf("master Job: backoffLimit %v, want 0 (a failed verdict is not retried)", m.Job.Spec.BackoffLimit)
	}
	if m.Spec.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("master Job: restartPolicy %q, want Never", m.Spec.Spec.RestartPolicy)
	}
	c := container(m)
	if len(c.Args) < 2 || c.Args[0] != "master" || !slices.Contains(c.Args, "--headless") {
		t.Errorf("master Job args %v: want master SCRIPT ... --headless", c.Args)
	}
	rt, ok := flagValue(c.Args, "run-time")
	if d, err := time.ParseDuration(rt); !ok || err != nil || d <= 0 {
		t.Errorf("master Job: --run-time %q, want a positive duration (a headless test must end)", rt)
	}
	for _, f := range []string{"json", "html", "csv"} {
		v, ok := flagValue(c.Args, f)
		mnt := mountAt(c, filepath.Dir(v))
		if !ok || mnt == nil || mnt.ReadOnly {
			t.Errorf("master Job: --%s %q is not on a writable volume", f, v)
			continue
		}
		if vol := volume(m, mnt.Name); vol == nil || (vol.PersistentVolumeClaim == nil && vol.EmptyDir == nil) {
			t.Errorf("master Job: --%s goes to volume %s, want a claim (or an emptyDir)", f, mnt.Name)
		}
	}
}

// checkWorkerJob: workers that end by themselves once the master is gone.
func checkWorkerJob(t *testing.T, w podTemplate) {
	t.Helper()
	if w.Job == nil {
		t.Fatalf("headless workers are %s, want a Job (a Deployment never ends)", w.Owner)
	}
	if w.Spec.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("worker Job: restartPolicy %q, want Never", w.Spec.Spec.RestartPolicy)
	}
	if w.Job.Spec.Completions != nil {
		t.Errorf("worker Job: completions set; the workers' Job must end when they end")
	}
	v, _ := envValue(container(w), "HORDE_RECONNECT_TIMEOUT")
	if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		t.Errorf("worker Job: HORDE_RECONNECT_TIMEOUT=%q, want a positive duration (else workers retry forever)", v)
	}
	if !failJobOn(w.Job, exitCannotRun) {
		t.Errorf("worker Job: no podFailurePolicy FailJob rule for exit code %d (a worker without its master)", exitCannotRun)
	}
}

// exitCannotRun is horde's exit code 3: what a worker returns when it gives
// up on its master (internal/exitcode).
const exitCannotRun = 3

// failJobOn reports whether the Job's podFailurePolicy ends it when its
// horde container exits with code.
func failJobOn(j *batchv1.Job, code int32) bool {
	if j.Spec.PodFailurePolicy == nil {
		return false
	}
	for _, r := range j.Spec.PodFailurePolicy.Rules {
		e := r.OnExitCodes
		if e == nil || (e.ContainerName != nil && *e.ContainerName != "horde") {
			continue
		}
		in := slices.Contains(e.Values, code)
		if e.Operator == batchv1.PodFailurePolicyOnExitCodesOpNotIn {
			in = !in
		}
		if in {
			return r.Action == batchv1.PodFailurePolicyActionFailJob
		}
	}
	return false
}

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}
