package deploytest

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRenderedManifestsOnAPIServer applies what `kubectl apply -k` and
// `helm install` would send, every kustomization under deploy/kubernetes
// and every value set of helmCases, to a real kube-apiserver (envtest, no
// kubelet), each rendering into a namespace of its own: the server's
// validation, with unknown fields an error, accepts every object, both in
// a dry run and for real. The base's workers scale to 20 through the scale
// subresource, an HPA's target is a stored Deployment, and the worker
// Deployment and the ServiceMonitor, broken, are rejected.
func TestRenderedManifestsOnAPIServer(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	root := repoRoot(t)
	for _, dir := range kustomizations(t) {
		t.Run("kustomize/"+dir, func(t *testing.T) {
			t.Parallel()
			objs := mustDecodeManifests(t, kustomizeYAML(t, filepath.Join(root, "deploy", "kubernetes", dir)))
			ns := s.namespace(t, dnsLabel("kustomize-"+dir))
			s.applyRendering(t, objs, ns)
			switch dir {
			case "base":
				checkScale(t, s, ns, "horde-worker", 7, 20)
			case "overlays/hpa":
				checkHPATarget(t, s, ns, "horde-worker", "horde-worker")
			}
			checkHPAs(t, s, ns, objs)
		})
	}
	t.Run("helm", func(t *testing.T) {
		t.Parallel()
		helm := helmBinary(t)
		for _, tc := range helmCases(root) {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				out, err := helmTemplate(t, helm, tc.args...)
				if err != nil {
					t.Fatal(err)
				}
				objs := mustDecodeManifests(t, out)
				ns := s.namespace(t, dnsLabel("helm-"+tc.name))
				s.applyRendering(t, objs, ns)
				checkHPAs(t, s, ns, objs)
			})
		}
	})
	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		// The base's objects and a ServiceMonitor.
		objs := mustDecodeManifests(t, kustomizeYAML(t, filepath.Join(root, "deploy", "kubernetes", "overlays", "prometheus")))
		checkMalformedRejected(t, s, s.namespace(t, "malformed"), objs)
	})
}

// applyRendering applies objs into ns as a careful user would: first with
// dryRun All (`kubectl apply --dry-run=server`), which must accept every
// object and store none, then for real, after which every object must be
// stored and owned by the apply.
func (s *apiServer) applyRendering(t *testing.T, objs []*unstructured.Unstructured, ns string) {
	t.Helper()
	ctx := t.Context()
	for _, o := range objs {
		if err := s.apply(ctx, o, ns, true); err != nil {
			t.Errorf("dry run: the server rejects %v", err)
		}
	}
	for _, o := range objs {
		if _, err := s.get(ctx, o, ns); !apierrors.IsNotFound(err) {
			t.Errorf("%s after a dry run: get error %v, want NotFound (a dry run stores nothing)", describe(o), err)
		}
	}
	for _, o := range objs {
		if err := s.apply(ctx, o, ns, false); err != nil {
			t.Errorf("the server rejects %v", err)
		}
	}
	for _, o := range objs {
		got, err := s.get(ctx, o, ns)
		if err != nil {
			t.Errorf("%s: not stored: %v", describe(o), err)
			continue
		}
		if !slices.ContainsFunc(got.GetManagedFields(), func(e metav1.ManagedFieldsEntry) bool {
			return e.Manager == fieldManager && e.Operation == metav1.ManagedFieldsOperationApply
		}) {
			t.Errorf("%s: stored without an Apply entry of %s in its managedFields", describe(o), fieldManager)
		}
	}
	t.Logf("namespace %s: the server accepted and stored all %d objects", ns, len(objs))
}

// checkScale scales a Deployment through its scale subresource, as
// `kubectl scale` and the HorizontalPodAutoscaler do, and reads the new
// count back from both the Deployment and its scale.
func checkScale(t *testing.T, s *apiServer, ns, name string, from, to int32) {
	t.Helper()
	ctx := t.Context()
	deps := s.cs.AppsV1().Deployments(ns)
	d, err := deps.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Deployment %s: %v", name, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		t.Fatalf("Deployment %s: selector: %v", name, err)
	}
	sc, err := deps.GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale of %s: %v", name, err)
	}
	if sc.Spec.Replicas != from || sc.Status.Selector != sel.String() {
		t.Errorf("scale of %s before = %d replicas, selector %q; want %d, %q", name, sc.Spec.Replicas, sc.Status.Selector, from, sel)
	}
	sc.Spec.Replicas = to
	updated, err := deps.UpdateScale(ctx, name, sc, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update scale of %s to %d: %v", name, to, err)
	}
	if updated.Spec.Replicas != to {
		t.Errorf("update scale returned %d replicas, want %d", updated.Spec.Replicas, to)
	}
	if d, err = deps.Get(ctx, name, metav1.GetOptions{}); err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != to {
		t.Errorf("Deployment %s after scaling: replicas %v, error %v; want %d", name, d.Spec.Replicas, err, to)
	}
	if sc, err = deps.GetScale(ctx, name, metav1.GetOptions{}); err != nil || sc.Spec.Replicas != to {
		t.Errorf("scale of %s after scaling: %v, error %v; want %d replicas", name, sc, err, to)
	}
}

// checkHPATarget: the HorizontalPodAutoscaler name is stored and scales
// the Deployment target, which is stored and has a scale subresource.
func checkHPATarget(t *testing.T, s *apiServer, ns, name, target string) {
	t.Helper()
	h, err := s.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get HorizontalPodAutoscaler %s: %v", name, err)
	}
	want := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target}
	if h.Spec.ScaleTargetRef != want {
		t.Errorf("HorizontalPodAutoscaler %s scales %+v, want %+v", name, h.Spec.ScaleTargetRef, want)
	}
	if _, err := s.cs.AppsV1().Deployments(ns).GetScale(t.Context(), target, metav1.GetOptions{}); err != nil {
		t.Errorf("HorizontalPodAutoscaler %s: the scale of its target: %v", name, err)
	}
}

// checkHPAs: every rendered HorizontalPodAutoscaler scales a Deployment of
// the same rendering.
func checkHPAs(t *testing.T, s *apiServer, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "HorizontalPodAutoscaler" {
			continue
		}
		target, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "name")
		checkHPATarget(t, s, ns, o.GetName(), target)
	}
}

// mustDecodeManifests decodes a rendering, which must not be empty.
func mustDecodeManifests(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	objs, err := decodeManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatal("nothing rendered")
	}
	return objs
}

// findObject returns the rendered object of this kind and name, or fails.
func findObject(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s/%s rendered", kind, name)
	return nil
}

// dnsLabel turns a rendering's name into a namespace name: lower case
// letters, digits and dashes.
func dnsLabel(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}
