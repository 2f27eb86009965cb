package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/yaml"
)

// operatorDir is the operator's kustomization, crdFile its generated CRD.
var (
	operatorDir = filepath.Join("deploy", "operator")
	crdFile     = filepath.Join("deploy", "operator", "crd", "load.horde.dev_hordetests.yaml")
	chartCRD    = filepath.Join("deploy", "helm", "horde", "files", "crd-hordetests.yaml")
	hordeTests  = schema.GroupVersionResource{Group: "load.horde.dev", Version: "v1alpha1", Resource: "hordetests"}
)

// operatorRendering is the operator's objects, decoded strictly.
type operatorRendering struct {
	crd         *apiextv1.CustomResourceDefinition
	deployment  *appsv1.Deployment
	account     *corev1.ServiceAccount
	roles       map[string]*rbacv1.ClusterRole
	binding     *rbacv1.ClusterRoleBinding
	kinds       []string
	unstructure []*unstructured.Unstructured
}

func decodeOperator(t *testing.T, data []byte) operatorRendering {
	t.Helper()
	sch := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, rbacv1.AddToScheme, apiextv1.AddToScheme} {
		if err := add(sch); err != nil {
			t.Fatal(err)
		}
	}
	ser := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, sch, sch, kjson.SerializerOptions{Yaml: true, Strict: true})
	objs := mustDecodeManifests(t, data)
	r := operatorRendering{roles: map[string]*rbacv1.ClusterRole{}, unstructure: objs}
	for _, o := range objs {
		raw, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := ser.Decode(raw, nil, nil)
		if err != nil {
			t.Fatalf("%s: strict decoding: %v", describe(o), err)
		}
		r.kinds = append(r.kinds, o.GetKind())
		switch v := obj.(type) {
		case *apiextv1.CustomResourceDefinition:
			r.crd = v
		case *appsv1.Deployment:
			r.deployment = v
		case *corev1.ServiceAccount:
			r.account = v
		case *rbacv1.ClusterRole:
			r.roles[v.Name] = v
		case *rbacv1.ClusterRoleBinding:
			r.binding = v
		}
	}
	if r.crd == nil || r.deployment == nil || r.account == nil || r.binding == nil || len(r.roles) != 3 {
		t.Fatalf("want the CRD, a Deployment, a ServiceAccount, a ClusterRoleBinding and 3 ClusterRoles; got %v", r.kinds)
	}
	return r
}

// operatorRole is the role bound to the operator's account.
func (r operatorRendering) operatorRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	role := r.roles[r.binding.RoleRef.Name]
	if role == nil || len(r.binding.Subjects) != 1 || r.binding.Subjects[0].Name != r.account.Name ||
		r.deployment.Spec.Template.Spec.ServiceAccountName != r.account.Name {
		t.Fatalf("the operator's Deployment runs as %q, bound %+v to role %q: want its ServiceAccount bound to its role",
			r.deployment.Spec.Template.Spec.ServiceAccountName, r.binding.Subjects, r.binding.RoleRef.Name)
	}
	return role
}

// TestOperatorManifests: deploy/operator (kustomize) and the chart's
// operator.enabled render the same operator: the generated CRD (the
// chart's copy identical to it) with the status subresource and the
// printer columns a user reads in kubectl get, a hardened Deployment
// running `horde operator`, and the same least-privilege role.
func TestOperatorManifests(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	crd, err := os.ReadFile(filepath.Join(root, crdFile))
	if err != nil {
		t.Fatal(err)
	}
	if copyCRD, err := os.ReadFile(filepath.Join(root, chartCRD)); err != nil || !bytes.Equal(crd, copyCRD) {
		t.Errorf("%s differs from %s (%v): run scripts/operator-gen.sh", chartCRD, crdFile, err)
	}
	kust := decodeOperator(t, kustomizeYAML(t, filepath.Join(root, operatorDir)))
	renderings := map[string]operatorRendering{"kustomize": kust}
	if helm, ok := lookHelm(); ok {
		out, err := helmTemplate(t, helm, "--set", "operator.enabled=true")
		if err != nil {
			t.Fatal(err)
		}
		renderings["helm"] = decodeOperator(t, out)
		if kinds := renderings["helm"].kinds; slices.Contains(kinds, "Service") || len(kinds) != 7 {
			t.Errorf("helm with operator.enabled renders %v: want the operator only, no master, workers or Services", kinds)
		}
	} else {
		t.Log("helm not on PATH: the chart's operator option is not rendered")
	}
	for name, r := range renderings {
		c := r.crd
		if c.Spec.Names.Kind != "HordeTest" || !slices.Contains(c.Spec.Names.ShortNames, "ht") || len(c.Spec.Versions) != 1 ||
			c.Spec.Versions[0].Subresources == nil || c.Spec.Versions[0].Subresources.Status == nil {
			t.Errorf("%s: CRD %s: want kind HordeTest, short name ht, one version with a status subresource", name, c.Name)
		}
		var cols []string
		for _, col := range c.Spec.Versions[0].AdditionalPrinterColumns {
			cols = append(cols, col.Name)
		}
		if want := []string{"Phase", "Users", "Workers", "RPS", "Failures", "P95 ms", "Verdict", "Age"}; !slices.Equal(cols, want) {
			t.Errorf("%s: printer columns %q, want %q", name, cols, want)
		}
		spec := r.deployment.Spec.Template.Spec
		ctr := spec.Containers[0]
		if len(ctr.Args) != 1 || ctr.Args[0] != "operator" || *r.deployment.Spec.Replicas != 1 ||
			r.deployment.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s: the operator's Deployment: args %q, %d replicas, %s: want `horde operator`, one replica, Recreate",
				name, ctr.Args, *r.deployment.Spec.Replicas, r.deployment.Spec.Strategy.Type)
		}
		psc, sc := spec.SecurityContext, ctr.SecurityContext
		if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || sc == nil || !*sc.ReadOnlyRootFilesystem ||
			*sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
			spec.EnableServiceLinks == nil || *spec.EnableServiceLinks || ctr.Resources.Limits.Cpu().IsZero() {
			t.Errorf("%s: the operator's pod is not hardened like horde's others: %+v", name, spec)
		}
		if ctr.ReadinessProbe == nil || ctr.ReadinessProbe.HTTPGet.Path != "/readyz" || ctr.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: probes %+v %+v, want /readyz and /healthz (horde operator --health-addr)", name, ctr.ReadinessProbe, ctr.LivenessProbe)
		}
		checkLeastPrivilege(t, name, r.operatorRole(t).Rules)
		// A namespace's editors may run tests, its viewers read them: the
		// operator's roles aggregate into the built-in ones.
		agg := map[string]bool{}
		for _, role := range r.roles {
			for l := range role.Labels {
				if strings.HasPrefix(l, "rbac.authorization.k8s.io/aggregate-to-") {
					verbs := role.Rules[0].Verbs
					agg[strings.TrimPrefix(l, "rbac.authorization.k8s.io/aggregate-to-")+":"+fmt.Sprint(slices.Contains(verbs, "create"))] = true
				}
			}
		}
		if !agg["edit:true"] || !agg["admin:true"] || !agg["view:false"] || len(agg) != 3 {
			t.Errorf("%s: roles aggregated to the built-in ones: %v; want edit and admin to create HordeTests, view to read them", name, agg)
		}
	}
	if h, ok := renderings["helm"]; ok {
		if !slices.EqualFunc(h.operatorRole(t).Rules, kust.operatorRole(t).Rules, func(a, b rbacv1.PolicyRule) bool {
			return fmt.Sprint(a) == fmt.Sprint(b)
		}) {
			t.Errorf("the chart's operator role differs from deploy/operator/rbac.yaml's")
		}
	}
}

// checkLeastPrivilege: no wildcard; Secrets and ConfigMaps are never
// listed or watched (the operator reads those it was told about); nothing
// beyond the kinds the operator makes.
func checkLeastPrivilege(t *testing.T, name string, rules []rbacv1.PolicyRule) {
	t.Helper()
	allowed := map[string]bool{"load.horde.dev/hordetests": true, "load.horde.dev/hordetests/status": true, "apps/deployments": true,
		"/services": true, "/pods": true, "/secrets": true, "/configmaps": true, "/events": true}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if !allowed[g+"/"+res] {
					t.Errorf("%s: the operator may use %s/%s: not a kind it needs", name, g, res)
				}
				for _, v := range r.Verbs {
					if v == "*" || res == "*" || g == "*" {
						t.Errorf("%s: a wildcard rule %+v", name, r)
					}
					if (res == "secrets" || res == "configmaps") && (v == "list" || v == "watch") {
						t.Errorf("%s: the operator may %s %s: it reads only those it is told about", name, v, res)
					}
					if strings.HasPrefix(res, "hordetests") && res == "hordetests" && v != "get" && v != "list" && v != "watch" {
						t.Errorf("%s: the operator may %s HordeTests: it only reads them and writes their status", name, v)
					}
				}
			}
		}
	}
}

func lookHelm() (string, bool) {
	if p := os.Getenv("HELM"); p != "" {
		return p, true
	}
	p, err := lookPath("helm", os.Getenv("PATH"))
	return p, err == nil
}

// TestOperatorOnAPIServer applies deploy/operator to a real kube-apiserver
// (envtest): the server accepts every object, serves HordeTests with the
// printer columns, accepts the sample, and — asked as the operator's
// ServiceAccount — lets the operator do what it needs and not more. (No
// controller-manager runs here, so the aggregated roles are checked by
// TestOperatorManifests, on their labels.)
func TestOperatorOnAPIServer(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	root := repoRoot(t)
	r := decodeOperator(t, kustomizeYAML(t, filepath.Join(root, operatorDir)))
	ctx := t.Context()
	// The CRD and the namespace first: the other objects live in them.
	var rest []*unstructured.Unstructured
	for _, o := range r.unstructure {
		if o.GetKind() == "CustomResourceDefinition" || o.GetKind() == "Namespace" {
			if err := s.applyAs(ctx, o); err != nil {
				t.Fatal(err)
			}
			continue
		}
		rest = append(rest, o)
	}
	for _, o := range rest {
		if err := s.applyAs(ctx, o); err != nil {
			t.Error(err)
		}
	}
	ns := s.namespace(t, "operator-sample")
	sample, err := os.ReadFile(filepath.Join(root, operatorDir, "samples", "hordetest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := mustDecodeManifests(t, sample)
	var table metav1.Table
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The CRD takes a moment to be served.
		_, err = s.dyn.Resource(hordeTests).Namespace(ns).Create(ctx, objs[0], metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the sample HordeTest: %v", err)
	}
	raw, err := s.cs.CoreV1().RESTClient().Get().AbsPath("/apis/load.horde.dev/v1alpha1/namespaces", ns, "hordetests").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if len(table.Rows) != 1 || !slices.Equal(cols, []string{"Name", "Phase", "Users", "Workers", "RPS", "Failures", "P95 ms", "Verdict", "Age"}) {
		t.Errorf("kubectl get hordetests: columns %q, %d rows; want the printer columns and the sample", cols, len(table.Rows))
	}

	sa := "system:serviceaccount:horde-system:" + r.account.Name
	for _, c := range []struct {
		verb, group, resource, sub, ns string
		allowed                        bool
	}{
		{"watch", "load.horde.dev", "hordetests", "", "", true},
		{"patch", "load.horde.dev", "hordetests", "status", "team-a", true},
		{"create", "apps", "deployments", "", "team-a", true},
		{"patch", "apps", "deployments", "", "team-a", true},
		{"create", "", "secrets", "", "team-a", true},
		{"get", "", "configmaps", "", "team-a", true},
		{"create", "", "events", "", "team-a", true},
		{"list", "", "pods", "", "", true},
		{"list", "", "secrets", "", "", false},
		{"watch", "", "configmaps", "", "", false},
		{"update", "load.horde.dev", "hordetests", "", "team-a", false},
		{"delete", "", "namespaces", "", "", false},
		{"create", "", "pods", "", "team-a", false},
		{"create", "rbac.authorization.k8s.io", "rolebindings", "", "team-a", false},
	} {
		rev := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: sa,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:horde-system"},
			ResourceAttributes: &authzv1.ResourceAttributes{Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.sub, Namespace: c.ns}}}
		got, err := s.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, rev, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("the operator may %s %s %s/%s in %q: %v, want %v", c.verb, c.group, c.resource, c.sub, c.ns, got.Status.Allowed, c.allowed)
		}
	}
}

// applyAs server-side-applies o as it is (its own namespace).
func (s *apiServer) applyAs(ctx context.Context, o *unstructured.Unstructured) error {
	return s.apply(ctx, o, o.GetNamespace(), false)
}
