package deploytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// repoRoot is horde's repository: this module lives in deploy/test.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "web", "web.go")); err != nil {
		t.Fatalf("not horde's repository root: %s: %v", root, err)
	}
	return root
}

// object is one rendered Kubernetes object, decoded strictly into its Go
// type (*appsv1.Deployment, *corev1.Service...).
type object struct {
	Kind, Name string
	Obj        any
}

func (o object) String() string { return o.Kind + "/" + o.Name }

// rendering is everything one kustomize overlay or one helm template gave.
type rendering []object

// decoder decodes YAML documents strictly: an unknown or misspelt field, a
// duplicate field or a wrong type is an error.
type decoder struct {
	ser *kjson.Serializer
}

func newDecoder(t testing.TB) *decoder {
	t.Helper()
	sch := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		autoscalingv2.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(sch); err != nil {
			t.Fatal(err)
		}
	}
	return &decoder{ser: kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, sch, sch,
		kjson.SerializerOptions{Yaml: true, Strict: true})}
}

// decode turns a stream of YAML documents into objects.
func (d *decoder) decode(r io.Reader) (rendering, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out rendering
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		o, err := d.decodeOne(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

func (d *decoder) decodeOne(doc []byte) (object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return object{}, err
	}
	if tm.APIVersion == "monitoring.coreos.com/v1" && tm.Kind == "ServiceMonitor" {
		// No k8s.io/api type: a struct of the fields horde uses, strictly.
		var sm serviceMonitor
		if err := yaml.UnmarshalStrict(doc, &sm); err != nil {
			return object{}, fmt.Errorf("ServiceMonitor: %w", err)
		}
		return object{Kind: tm.Kind, Name: sm.Name, Obj: &sm}, nil
	}
	obj, gvk, err := d.ser.Decode(doc, nil, nil)
	if err != nil {
		return object{}, fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return object{}, fmt.Errorf("%s: not an object with metadata", gvk)
	}
	if m.GetName() == "" {
		return object{}, fmt.Errorf("%s without a name", gvk.Kind)
	}
	return object{Kind: gvk.Kind, Name: m.GetName(), Obj: obj}, nil
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) that horde's files use. Strict decoding into
// it rejects any other field, which is how a misspelling shows.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []smEndpoint `json:"endpoints"`
	} `json:"spec"`
}

type smEndpoint struct {
	Port          string `json:"port"`
	Path          string `json:"path,omitempty"`
	Scheme        string `json:"scheme,omitempty"`
	Interval      string `json:"interval,omitempty"`
	Authorization *struct {
		Type        string                   `json:"type,omitempty"`
		Credentials corev1.SecretKeySelector `json:"credentials"`
	} `json:"authorization,omitempty"`
	BasicAuth *struct {
		Username corev1.SecretKeySelector `json:"username"`
		Password corev1.SecretKeySelector `json:"password"`
	} `json:"basicAuth,omitempty"`
}

// kustomizeYAML builds the kustomization in dir in process, as
// `kubectl kustomize dir` does, and returns the YAML stream.
func kustomizeYAML(t testing.TB, dir string) []byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderKustomize builds the kustomization in dir (see kustomizeYAML) and
// decodes every object.
func renderKustomize(t testing.TB, d *decoder, dir string) rendering {
	t.Helper()
	r, err := d.decode(bytes.NewReader(kustomizeYAML(t, dir)))
	if err != nil {
		t.Fatalf("kustomize build %s: strict decoding: %v", dir, err)
	}
	return r
}

// helmBinary returns the helm on PATH, or skips: CI installs it (see the
// Makefile's deploy-test target).
func helmBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HELM"); p != "" {
		return p
	}
	p, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm not on PATH: skipping the chart's tests (install it with go install helm.sh/helm/v3/cmd/helm@v3.22.0)")
	}
	return p
}

// kubeVersion is what helm renders for. A helm built with go install
// assumes Kubernetes 1.20 otherwise, below the chart's kubeVersion.
const kubeVersion = "1.33.0"

// helmTemplate runs `helm template horde CHART args...` and returns its
// output, or its error with the output.
func helmTemplate(t testing.TB, helm string, args ...string) ([]byte, error) {
	t.Helper()
	chart := filepath.Join(repoRoot(t), "deploy", "helm", "horde")
	all := append([]string{"template", "horde", chart, "--namespace", "loadtest", "--kube-version", kubeVersion}, args...)
	cmd := exec.Command(helm, all...)
	cmd.Dir = repoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("helm %s: %w: %s", strings.Join(all, " "), err, stderr.String())
	}
	return out, nil
}

// get returns the object of this kind and name, or nil.
func (r rendering) get(kind, name string) any {
	for _, o := range r {
		if o.Kind == kind && o.Name == name {
			return o.Obj
		}
	}
	return nil
}

// podTemplate is one pod template of a workload, with where it came from.
type podTemplate struct {
	Owner string
	Spec  *corev1.PodTemplateSpec
	Job   *batchv1.Job // set for a Job's template
}

func (p podTemplate) component() string {
	return p.Spec.Labels["app.kubernetes.io/component"]
}

// pods returns the pod templates of every workload in r.
func (r rendering) pods() []podTemplate {
	var out []podTemplate
	for _, o := range r {
		switch x := o.Obj.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{Owner: o.String(), Spec: &x.Spec.Template})
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{Owner: o.String(), Spec: &x.Spec.Template})
		case *appsv1.DaemonSet:
			out = append(out, podTemplate{Owner: o.String(), Spec: &x.Spec.Template})
		case *batchv1.Job:
			out = append(out, podTemplate{Owner: o.String(), Spec: &x.Spec.Template, Job: x})
		case *corev1.Pod:
			out = append(out, podTemplate{Owner: o.String(), Spec: &corev1.PodTemplateSpec{ObjectMeta: x.ObjectMeta, Spec: x.Spec}})
		}
	}
	return out
}

// component returns the pod templates of one component (master, worker).
func (r rendering) component(c string) []podTemplate {
	var out []podTemplate
	for _, p := range r.pods() {
		if p.component() == c {
			out = append(out, p)
		}
	}
	return out
}

// one returns the only pod template of component c, or fails.
func (r rendering) one(t testing.TB, c string) podTemplate {
	t.Helper()
	ps := r.component(c)
	if len(ps) != 1 {
		t.Fatalf("want one %s workload, got %d", c, len(ps))
	}
	return ps[0]
}

// services returns the rendered Services.
func (r rendering) services() []*corev1.Service {
	var out []*corev1.Service
	for _, o := range r {
		if s, ok := o.Obj.(*corev1.Service); ok {
			out = append(out, s)
		}
	}
	return out
}

// container returns the container named horde (or the first one).
func container(p podTemplate) *corev1.Container {
	for i := range p.Spec.Spec.Containers {
		if p.Spec.Spec.Containers[i].Name == "horde" {
			return &p.Spec.Spec.Containers[i]
		}
	}
	return &p.Spec.Spec.Containers[0]
}

// envValue returns a container's literal env value by name.
func envValue(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}
