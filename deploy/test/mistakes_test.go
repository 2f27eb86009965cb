package deploytest

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestChecksCatchMistakes breaks the base in the ways a manifest goes wrong
// and asserts that the checks say so: a check that cannot fail proves
// nothing.
func TestChecksCatchMistakes(t *testing.T) {
	t.Parallel()
	d := newDecoder(t)
	c := checks{routes: readRoutes(t), external: map[string]bool{}}
	base := filepath.Join(repoRoot(t), "deploy", "kubernetes", "base")
	svc := func(r rendering, name string) *corev1.Service { return r.get("Service", name).(*corev1.Service) }
	master := func(t *testing.T, r rendering) *corev1.Container { return container(r.one(t, "master")) }
	worker := func(t *testing.T, r rendering) podTemplate { return r.one(t, "worker") }
	tests := []struct {
		name   string
		mutate func(t *testing.T, r rendering)
		want   string
	}{
		{"worker port on a LoadBalancer", func(t *testing.T, r rendering) {
			svc(r, "horde-master").Spec.Type = corev1.ServiceTypeLoadBalancer
		}, "exposes the worker port"},
		{"worker port on a NodePort UI", func(t *testing.T, r rendering) {
			s := svc(r, "horde-ui")
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "w", Port: 5557, TargetPort: intstr.FromString("workers")})
		}, "exposes the worker port"},
		{"public UI without a password", func(t *testing.T, r rendering) {
			svc(r, "horde-ui").Spec.Type = corev1.ServiceTypeLoadBalancer
		}, "HORDE_WEB_AUTH"},
		{"script mounted into workers", func(t *testing.T, r rendering) {
			w := worker(t, r)
			w.Spec.Spec.Volumes = append(w.Spec.Spec.Volumes, *volume(r.one(t, "master"), "script"))
		}, "mounts the script ConfigMap"},
		{"script not in the ConfigMap", func(t *testing.T, r rendering) {
			master(t, r).Env[1].Value = "/etc/horde/script/locustfile.star"
		}, "is not a key of ConfigMap"},
		{"probe on an invented route", func(t *testing.T, r rendering) {
			master(t, r).LivenessProbe.HTTPGet.Path = "/health"
		}, "liveness probe must be GET /healthz"},
		{"probe on the worker port", func(t *testing.T, r rendering) {
			master(t, r).ReadinessProbe.HTTPGet.Port = intstr.FromString("workers")
		}, "is not the container's web port"},
		{"worker with a probe", func(t *testing.T, r rendering) {
			container(worker(t, r)).ReadinessProbe = master(t, r).ReadinessProbe
		}, "a worker serves no port"},
		{"writable root filesystem", func(t *testing.T, r rendering) {
			f := false
			master(t, r).SecurityContext.ReadOnlyRootFilesystem = &f
		}, "readOnlyRootFilesystem"},
		{"root user", func(t *testing.T, r rendering) {
			root := int64(0)
			worker(t, r).Spec.Spec.SecurityContext.RunAsUser = &root
		}, "non-root uid 65532"},
		{"capability added", func(t *testing.T, r rendering) {
			master(t, r).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}, "capabilities"},
		{"Service port name typo", func(t *testing.T, r rendering) {
			svc(r, "horde-ui").Spec.Ports[0].TargetPort = intstr.FromString("htpp")
		}, "has no port htpp"},
		{"Service selects nothing", func(t *testing.T, r rendering) {
			svc(r, "horde-master").Spec.Selector["app.kubernetes.io/component"] = "masters"
		}, "selects no pods"},
		{"missing Secret", func(t *testing.T, r rendering) {
			container(worker(t, r)).Env[2].ValueFrom.SecretKeyRef.Name = "horde-token"
		}, "Secret horde-token key token is not rendered"},
		{"scrape path invented", func(t *testing.T, r rendering) {
			r.one(t, "master").Spec.Annotations["prometheus.io/path"] = "/prometheus"
		}, "prometheus.io annotations"},
		{"service links on", func(t *testing.T, r rendering) {
			on := true
			worker(t, r).Spec.Spec.EnableServiceLinks = &on
		}, "enableServiceLinks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := renderKustomize(t, d, base)
			if errs := c.errors(r); len(errs) > 0 {
				t.Fatalf("the base already fails: %v", errs)
			}
			tc.mutate(t, r)
			errs := c.errors(r)
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("errors %q, want one containing %q", errs, tc.want)
			}
		})
	}
}

// TestStrictDecoding: a misspelt, mis-cased or misplaced field is an
// error, not silently dropped (kubectl apply would drop some of them).
func TestStrictDecoding(t *testing.T) {
	t.Parallel()
	d := newDecoder(t)
	const head = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"valid", "spec:\n  replicas: 7\n", true},
		{"misspelt", "spec:\n  replica: 7\n", false},
		{"mis-cased", "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n        securityContext: {readOnlyRootFileSystem: true}\n", false},
		{"wrong type", "spec:\n  replicas: seven\n", false},
		{"duplicate", "spec:\n  replicas: 7\n  replicas: 8\n", false},
		{"ServiceMonitor misspelt", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := head + tc.doc
			if tc.name == "ServiceMonitor misspelt" {
				doc = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\n" +
					"spec:\n  selector: {}\n  endpoints:\n  - port: http\n    inteval: 15s\n"
			}
			_, err := d.decode(strings.NewReader(doc))
			if (err == nil) != tc.ok {
				t.Errorf("decode: err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestConfigErrorsCatchTypos: a misspelt HORDE_* variable or flag, which
// horde would silently ignore or refuse, is reported.
func TestConfigErrorsCatchTypos(t *testing.T) {
	t.Parallel()
	flags := map[string]map[string]bool{
		"master": {"users": true, "headless": true, "run-time": true},
		"worker": {"master": true, "reconnect-timeout": true},
	}
	env := func(kv ...string) []corev1.EnvVar {
		var out []corev1.EnvVar
		for i := 0; i < len(kv); i += 2 {
			out = append(out, corev1.EnvVar{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name string
		c    corev1.Container
		want string
	}{
		{"valid master", corev1.Container{Env: env("HORDE_MODE", "master", "HORDE_SCRIPT", "/s.star", "HORDE_USERS", "3", "TARGET_HOST", "http://x")}, ""},
		{"valid job", corev1.Container{Args: []string{"master", "/s.star", "--headless", "--run-time=1m"}}, ""},
		{"misspelt variable", corev1.Container{Env: env("HORDE_MODE", "master", "HORDE_SCRIPT", "/s.star", "HORDE_USRES", "3")}, "HORDE_USRES"},
		{"master flag on a worker", corev1.Container{Env: env("HORDE_MODE", "worker", "HORDE_USERS", "3")}, "no --users"},
		{"misspelt flag", corev1.Container{Args: []string{"master", "/s.star", "--runtime=1m"}}, "--runtime"},
		{"mode ignored", corev1.Container{Args: []string{"worker"}, Env: env("HORDE_MODE", "worker")}, "ignored"},
		{"master without script", corev1.Container{Env: env("HORDE_MODE", "master")}, "without HORDE_SCRIPT"},
		{"unknown mode", corev1.Container{Env: env("HORDE_MODE", "slave")}, "not a horde subcommand"},
		{"stray variable", corev1.Container{Env: env("HORDE_MODE", "worker", "LOCUST_MASTER", "x")}, "LOCUST_MASTER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errs := strings.Join(configErrors(nil, &tc.c, flags), "\n")
			if (tc.want == "") != (errs == "") || !strings.Contains(errs, tc.want) {
				t.Errorf("errors %q, want one containing %q", errs, tc.want)
			}
		})
	}
}
