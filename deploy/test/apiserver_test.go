package deploytest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
)

// fieldManager owns every field that apiServer.apply sets.
const fieldManager = "horde-test"

// crdDir holds the CustomResourceDefinitions of the kinds horde renders
// that Kubernetes does not serve itself (the Prometheus Operator's
// ServiceMonitor), installed before a test sees the server.
const crdDir = "testdata/crds"

// apiServer is an etcd and a kube-apiserver started by envtest, with the
// clients of an admin (system:masters) user. No controller-manager or
// kubelet runs: objects are validated, defaulted and stored, but no
// ReplicaSet or Pod is ever made from them.
type apiServer struct {
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper // read once, after the CRDs were installed
}

// startAPIServer starts an etcd and a kube-apiserver with envtest from the
// binaries in the directory named by KUBEBUILDER_ASSETS, installs the CRDs
// of crdDir, and stops both processes (deleting their data) when t and its
// subtests have finished.
//
// Without KUBEBUILDER_ASSETS the test is skipped, saying how to build the
// binaries; with it set but a binary missing, the test fails. A server
// takes a few seconds to start and about 300 MB of memory: a test shares
// one among its subtests, which keep apart by namespace.
var setLoggerOnce sync.Once

func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: run scripts/kube-bins.sh and export the line it prints " +
			"to apply the rendered manifests to a real kube-apiserver")
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			t.Fatalf("KUBEBUILDER_ASSETS=%s has no %s (run scripts/kube-bins.sh): %v", dir, bin, err)
		}
	}
	// envtest logs through controller-runtime's process-wide logger, which
	// otherwise prints a stack trace on its first use 30 s after start.
	// Set once: SetLogger is not safe for concurrent use, and the tests
	// that start an API server run in parallel.
	setLoggerOnce.Do(func() { crlog.SetLogger(logr.Discard()) })
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: []string{crdDir}, ErrorIfPathMissing: true},
		// Generous: the machines that run this have 2 shared cores.
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start etcd and kube-apiserver from %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop etcd and kube-apiserver: %v", err)
		}
	})
	if n := len(env.CRDs); n == 0 {
		t.Fatalf("no CRD installed from %s", crdDir)
	}
	return newAPIServer(t, cfg)
}

// newAPIServer builds the clients of cfg and reads the server's kinds.
func newAPIServer(t *testing.T, cfg *rest.Config) *apiServer {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("dynamic client: %v", err)
	}
	groups, err := restmapper.GetAPIGroupResources(cs.Discovery())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &apiServer{cs: cs, dyn: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}
}

// namespace creates the namespace name and returns it.
func (s *apiServer) namespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := s.cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// resource returns the client of obj's kind, in namespace ns when the kind
// is namespaced, and obj moved into ns. A cluster-scoped object is left as
// it is.
func (s *apiServer) resource(obj *unstructured.Unstructured, ns string) (dynamic.ResourceInterface, *unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	m, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", describe(obj), err)
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return s.dyn.Resource(m.Resource), obj, nil
	}
	obj = obj.DeepCopy()
	obj.SetNamespace(ns)
	return s.dyn.Resource(m.Resource).Namespace(ns), obj, nil
}

// apply server-side-applies obj into namespace ns (see resource), as
// `kubectl apply --server-side --force-conflicts --field-manager=horde-test
// --validate=strict` does, with --dry-run=server when dryRun: an unknown or
// duplicate field is an error, not a warning. The error wraps the server's,
// so apierrors.IsInvalid and friends work on it.
func (s *apiServer) apply(ctx context.Context, obj *unstructured.Unstructured, ns string, dryRun bool) error {
	res, obj, err := s.resource(obj, ns)
	if err != nil {
		return err
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: %w", describe(obj), err)
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: &force, FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := res.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts); err != nil {
		return fmt.Errorf("apply %s: %w", describe(obj), err)
	}
	return nil
}

// create creates obj in namespace ns (see resource) with a POST, as
// `kubectl create --validate=strict` does, with --dry-run=server when
// dryRun. Unlike apply, whose unknown fields are always an error, a create
// only warns of them unless its field validation is Strict.
func (s *apiServer) create(ctx context.Context, obj *unstructured.Unstructured, ns string, dryRun bool) error {
	res, obj, err := s.resource(obj, ns)
	if err != nil {
		return err
	}
	opts := metav1.CreateOptions{FieldManager: fieldManager, FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := res.Create(ctx, obj, opts); err != nil {
		return fmt.Errorf("create %s: %w", describe(obj), err)
	}
	return nil
}

// get reads obj, by kind and name, from namespace ns (see resource).
func (s *apiServer) get(ctx context.Context, obj *unstructured.Unstructured, ns string) (*unstructured.Unstructured, error) {
	res, obj, err := s.resource(obj, ns)
	if err != nil {
		return nil, err
	}
	return res.Get(ctx, obj.GetName(), metav1.GetOptions{})
}

// describe names an object the way kubectl does: kind/namespace/name.
func describe(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetName()
}

// decodeManifests splits a stream of YAML (or JSON) documents, such as the
// output of `kustomize build` or `helm template`, into objects in their
// order. Empty documents are skipped; a document without apiVersion or kind
// is an error. Numbers decode as int64 or float64, as the dynamic client
// needs them.
func decodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if len(m) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
			return nil, fmt.Errorf("document %d: apiVersion and kind are required", doc)
		}
		objs = append(objs, obj)
	}
}
