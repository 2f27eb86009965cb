package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// The tests of this package run the operator against a real etcd and
// kube-apiserver (envtest), with the CRD of deploy/operator/crd installed,
// and a fake master (httptest) in place of each test's master: no
// kubelet, no controller-manager, so no pod is ever made and nothing is
// garbage-collected; what the operator creates and deletes, its status
// and its Events are what the tests look at.

// apiCfg is the shared API server's config; nil when the binaries are
// missing (apiSkip says why).
var (
	apiCfg  *rest.Config
	apiSkip string
)

func TestMain(m *testing.M) {
	// controller-runtime logs through a process-wide logger, which
	// otherwise complains, with a stack trace, that none was set.
	crlog.SetLogger(logr.Discard())
	stop := startAPI()
	code := m.Run()
	stop()
	os.Exit(code)
}

// startAPI starts etcd and kube-apiserver from KUBEBUILDER_ASSETS, or from
// .cache/kube/bin where scripts/kube-bins.sh builds them.
func startAPI() func() {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "kube", "bin")
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			apiSkip = fmt.Sprintf("no %s in %s (KUBEBUILDER_ASSETS): run scripts/kube-bins.sh to build etcd and kube-apiserver", bin, dir)
			return func() {}
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths: []string{filepath.Join("..", "..", "deploy", "operator", "crd")}, ErrorIfPathMissing: true,
		},
		ControlPlaneStartTimeout: 2 * time.Minute, // 2 shared cores
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start etcd and kube-apiserver from %s: %v\n", dir, err)
		os.Exit(1)
	}
	apiCfg = cfg
	return func() { _ = env.Stop() }
}

// needAPI skips t without the API server.
func needAPI(t *testing.T) *rest.Config {
	t.Helper()
	if apiCfg == nil {
		t.Skip(apiSkip)
	}
	return apiCfg
}

// namespaces numbers the tests' namespaces.
var namespaces atomic.Int64

// cluster is one test's view of the API server: a client and a namespace
// of its own.
type cluster struct {
	t  *testing.T
	c  client.Client
	ns string
}

func newCluster(t *testing.T) *cluster {
	cfg := needAPI(t)
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	ns = fmt.Sprintf("%s-%d", strings.Trim(ns, "-"), namespaces.Add(1))
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, c: c, ns: ns}
}

// operator is a running operator, watching the test's namespace only.
type operator struct {
	cancel context.CancelFunc
	done   chan error
}

// startOperator starts an operator whose reconciler reaches every test's
// master at fm.
func (k *cluster) startOperator(fm *fakeMaster) *operator {
	t := k.t
	skip := true
	mgr, err := newManager(Options{Config: needAPI(t), Namespace: k.ns, Image: "horde:test", HealthAddr: "0", MetricsAddr: "0",
		Logger: logr.Discard()}, &tuning{
		// Every test runs its own manager, with the same controller name.
		manager: func(o *ctrl.Options) { o.Controller.SkipNameValidation = &skip },
		reconciler: func(r *Reconciler) {
			r.Poll = 50 * time.Millisecond
			r.MasterURL = func(*v1.HordeTest) string { return fm.url() }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	op := &operator{cancel: cancel, done: make(chan error, 1)}
	go func() { op.done <- mgr.Start(ctx) }()
	t.Cleanup(op.stop)
	return op
}

func (op *operator) stop() {
	if op.cancel == nil {
		return
	}
	op.cancel()
	<-op.done
	op.cancel = nil
}

// eventually polls f every 20 ms until it returns nil, for up to 30 s.
func (k *cluster) eventually(what string, f func() error) {
	k.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("%s: not within 30s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (k *cluster) key(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: k.ns, Name: name}
}

// get reads the HordeTest name.
func (k *cluster) get(name string) *v1.HordeTest {
	k.t.Helper()
	var ht v1.HordeTest
	if err := k.c.Get(k.t.Context(), k.key(name), &ht); err != nil {
		k.t.Fatal(err)
	}
	return &ht
}

// waitPhase waits until the HordeTest name is in phase p, and returns it.
func (k *cluster) waitPhase(name string, p v1.Phase) *v1.HordeTest {
	k.t.Helper()
	var ht *v1.HordeTest
	k.eventually("phase "+string(p), func() error {
		ht = k.get(name)
		if ht.Status.Phase != p {
			return fmt.Errorf("phase %q (%s)", ht.Status.Phase, ht.Status.Message)
		}
		return nil
	})
	return ht
}

// update changes the HordeTest name with f, retrying on conflicts.
func (k *cluster) update(name string, f func(*v1.HordeTest)) error {
	var err error
	for range 10 {
		ht := k.get(name)
		f(ht)
		if err = k.c.Update(k.t.Context(), ht); err == nil || !strings.Contains(err.Error(), "modified") {
			return err
		}
	}
	return err
}

// events returns the reasons and messages of the Events about the
// HordeTest name, oldest first.
func (k *cluster) events(name string) []string {
	var evs corev1.EventList
	if err := k.c.List(k.t.Context(), &evs, client.InNamespace(k.ns)); err != nil {
		k.t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		if e.InvolvedObject.Kind == "HordeTest" && e.InvolvedObject.Name == name {
			out = append(out, e.Reason+": "+e.Message)
		}
	}
	return out
}

// waitEvent waits for an Event about name with reason, and returns its
// reason and message.
func (k *cluster) waitEvent(name, reason string) string {
	k.t.Helper()
	var found string
	k.eventually("event "+reason, func() error {
		for _, e := range k.events(name) {
			if strings.HasPrefix(e, reason+": ") {
				found = e
				return nil
			}
		}
		return fmt.Errorf("events: %q", k.events(name))
	})
	return found
}

// fakeMaster stands in for every master of a test: it serves the state
// the test sets, and records what the operator asks of it.
type fakeMaster struct {
	srv *httptest.Server

	mu      sync.Mutex
	stats   masterStatsJSON
	summary []byte
	edits   []map[string]any
	stops   int
	auth    []string // Authorization headers seen
}

// masterStatsJSON is the part of /api/v1/stats the fake serves.
type masterStatsJSON struct {
	State       string       `json:"state"`
	Users       int          `json:"users"`
	TargetUsers int          `json:"target_users"`
	SpawnRate   float64      `json:"spawn_rate"`
	ArrivalRate float64      `json:"arrival_rate"`
	Started     string       `json:"started,omitempty"`
	ElapsedS    float64      `json:"elapsed_s"`
	RunTimeS    float64      `json:"run_time_s"`
	Total       fakeTotal    `json:"total"`
	Workers     []fakeWorker `json:"workers"`
}

type fakeTotal struct {
	Requests   int64   `json:"requests"`
	Failures   int64   `json:"failures"`
	RPS        float64 `json:"rps"`
	CurrentRPS float64 `json:"current_rps"`
	Latency    struct {
		P95 float64 `json:"p95"`
	} `json:"latency_ms"`
}

type fakeWorker struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Users int    `json:"users"`
}

func newFakeMaster(t *testing.T) *fakeMaster {
	fm := &fakeMaster{stats: masterStatsJSON{State: "ready", Workers: []fakeWorker{}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/stats", func(w http.ResponseWriter, r *http.Request) {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		fm.auth = append(fm.auth, r.Header.Get("Authorization"))
		_ = json.NewEncoder(w).Encode(fm.stats)
	})
	mux.HandleFunc("GET /api/v1/report.json", func(w http.ResponseWriter, r *http.Request) {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		w.Write(fm.summary)
	})
	mux.HandleFunc("POST /api/v1/test", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fm.mu.Lock()
		defer fm.mu.Unlock()
		fm.edits = append(fm.edits, m)
		fm.stats.TargetUsers = int(m["users"].(float64))
		fmt.Fprint(w, `{"state": "running"}`)
	})
	mux.HandleFunc("POST /api/v1/stop", func(w http.ResponseWriter, r *http.Request) {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		fm.stops++
		fm.stats.State = "stopping"
		fmt.Fprint(w, `{"state": "stopping"}`)
	})
	fm.srv = httptest.NewServer(mux)
	t.Cleanup(fm.srv.Close)
	return fm
}

func (fm *fakeMaster) url() string { return fm.srv.URL }

// set changes the state the fake serves.
func (fm *fakeMaster) set(f func(s *masterStatsJSON)) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	f(&fm.stats)
}

func (fm *fakeMaster) setSummary(b []byte) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	fm.summary = b
}

func (fm *fakeMaster) editsSeen() []map[string]any {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return append([]map[string]any(nil), fm.edits...)
}

// workers returns n connected workers with users spread over them.
func workers(n, users int) []fakeWorker {
	ws := make([]fakeWorker, n)
	for i := range ws {
		ws[i] = fakeWorker{ID: fmt.Sprintf("w%d", i), State: "running", Users: users / n}
	}
	return ws
}
