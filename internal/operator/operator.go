// Package operator is horde's Kubernetes operator: it runs the load tests
// that HordeTest resources (package api/v1alpha1) describe. For each it
// makes a Secret (the workers' token, the UI's password), a ConfigMap with
// the script, a master Deployment running `horde master --autostart` and
// its Service, and a worker Deployment; it follows the master's web API
// into the HordeTest's status, sends edits of the load to the running
// test, scales the workers, and ends the test with the verdict of its
// summary (report.Summary.Outcome, horde's exit code) in the status, an
// Event and a ConfigMap holding the summary, then cleans up as the test's
// policy says. Everything it makes is owned by the HordeTest, so deleting
// the HordeTest deletes it.
//
// It does not measure or merge anything itself: the master does; nor does
// it talk to the workers.
package operator

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	klabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// Options configure Run.
type Options struct {
	Config *rest.Config
	// Namespace limits the operator to one namespace; "" watches all.
	Namespace string
	// Image is horde's image for tests that name none.
	Image string
	// Poll is how often a running test's master is read (default 2 s).
	Poll time.Duration
	// HealthAddr serves /healthz and /readyz ("0": off).
	HealthAddr string
	// MetricsAddr serves controller-runtime's Prometheus metrics ("0": off).
	MetricsAddr string
	Logger      logr.Logger
}

// NewScheme is the kinds the operator and `horde kube` use.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, v1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// tuning changes a manager for a test.
type tuning struct {
	manager    func(*ctrl.Options)
	reconciler func(*Reconciler)
}

// Run runs the operator until ctx is done.
func Run(ctx context.Context, o Options) error {
	mgr, err := newManager(o, nil)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// newManager sets up the manager and the reconciler. Its caches hold only
// the operator's own Deployments, Services and Pods (selected by label),
// not every one of the cluster's; Secrets and ConfigMaps are read
// uncached, so that the operator needs no list or watch on them.
//
// tune, when not nil, changes the manager's options and the reconciler
// before they are used (tests point the reconciler at a fake master).
func newManager(o Options, tune *tuning) (ctrl.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	ours := klabels.SelectorFromSet(klabels.Set{LabelManagedBy: ManagedBy})
	copts := cache.Options{ByObject: map[client.Object]cache.ByObject{
		&appsv1.Deployment{}: {Label: ours},
		&corev1.Service{}:    {Label: ours},
		&corev1.Pod{}:        {Label: ours},
	}}
	if o.Namespace != "" {
		copts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}
	mo := ctrl.Options{
		Scheme:                 scheme,
		Logger:                 o.Logger,
		Cache:                  copts,
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}}}},
		Metrics:                metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress: o.HealthAddr,
	}
	if tune != nil {
		tune.manager(&mo)
	}
	mgr, err := ctrl.NewManager(o.Config, mo)
	if err != nil {
		return nil, fmt.Errorf("operator: %w", err)
	}
	if o.HealthAddr != "" && o.HealthAddr != "0" {
		if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
			return nil, err
		}
		if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
			return nil, err
		}
	}
	r := &Reconciler{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Scheme: scheme,
		Recorder: mgr.GetEventRecorderFor("horde-operator"),
		Image:    o.Image, Poll: o.Poll,
	}
	if tune != nil {
		tune.reconciler(r)
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return mgr, nil
}
