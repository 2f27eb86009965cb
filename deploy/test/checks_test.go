package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// workerPort is the master's worker port: it must never leave the cluster.
const workerPort = 5557

// webPort is the master's web UI, API, /metrics and probes.
const webPort = 8089

// routes are the GET paths each component serves, read from horde's source
// so that a probe or a scrape path cannot name a route that does not exist.
type routes map[string]map[string]bool

var (
	routeRE      = regexp.MustCompile(`Handle(?:Func)?\("(?:GET )?(/[^"\s]*)"`)
	countsPathRE = regexp.MustCompile(`countsPath\s*=\s*"(/[^"]+)"`)
)

func readRoutes(t testing.TB) routes {
	t.Helper()
	root := repoRoot(t)
	out := routes{}
	for comp, file := range map[string]string{
		"master": filepath.Join(root, "internal", "web", "web.go"),
		"target": filepath.Join(root, "internal", "target", "target.go"),
	} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out[comp] = map[string]bool{}
		for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
			out[comp][strings.TrimSuffix(m[1], "{$}")] = true
		}
	}
	// The target's own endpoints are named by a constant: its counts
	// route, which the target's readiness probe uses because the app does
	// not count requests to it.
	src, err := os.ReadFile(filepath.Join(root, "internal", "target", "counts.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := countsPathRE.FindSubmatch(src)
	if m == nil {
		t.Fatal("internal/target/counts.go: no countsPath constant found (renamed?)")
	}
	out["target"][string(m[1])] = true
	for _, want := range []string{"/healthz", "/readyz", "/metrics"} {
		if !out["master"][want] {
			t.Fatalf("internal/web/web.go: no GET %s route found (the route pattern changed?)", want)
		}
	}
	return out
}

// checks are the rules every rendering must pass. external names the
// Secrets, ConfigMaps and claims the user creates (not rendered).
type checks struct {
	routes   routes
	external map[string]bool
}

func (c checks) run(t *testing.T, r rendering) {
	t.Helper()
	for _, e := range c.errors(r) {
		t.Error(e)
	}
}

// errors returns every rule r breaks.
func (c checks) errors(r rendering) []string {
	var errs []string
	if n := len(r.component("master")); n != 1 {
		errs = append(errs, fmt.Sprintf("want exactly one master workload, got %d", n))
	}
	if n := len(r.component("worker")); n > 1 {
		errs = append(errs, fmt.Sprintf("want at most one worker workload, got %d", n))
	}
	for _, f := range []func(rendering) []string{
		c.security, c.workerPortInside, c.exposedUIHasPassword, c.scriptOnlyInMaster,
		c.probes, c.references, c.selectors, c.scrape, c.labels,
	} {
		errs = append(errs, f(r)...)
	}
	return errs
}

// security: nonroot 65532, read-only root, no privilege escalation, no
// capabilities, RuntimeDefault seccomp, no API token, resources.
func (c checks) security(r rendering) []string {
	var errs []string
	for _, p := range r.pods() {
		s := p.Spec.Spec
		bad := func(f string, a ...any) { errs = append(errs, p.Owner+": "+fmt.Sprintf(f, a...)) }
		if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
			bad("automountServiceAccountToken must be false")
		}
		if s.EnableServiceLinks == nil || *s.EnableServiceLinks {
			bad("enableServiceLinks must be false (Service env like HORDE_MASTER_PORT=tcp://...)")
		}
		psc := s.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
			bad("pod must run as non-root uid 65532")
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad("pod seccompProfile must be RuntimeDefault")
		}
		for _, ct := range append(slices.Clone(s.InitContainers), s.Containers...) {
			sc := ct.SecurityContext
			if sc == nil {
				bad("container %s: no securityContext", ct.Name)
				continue
			}
			if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				bad("container %s: runAsNonRoot must be true", ct.Name)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				bad("container %s: readOnlyRootFilesystem must be true", ct.Name)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				bad("container %s: allowPrivilegeEscalation must be false", ct.Name)
			}
			if sc.Privileged != nil && *sc.Privileged {
				bad("container %s: privileged", ct.Name)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				bad("container %s: must drop ALL capabilities and add none", ct.Name)
			}
			if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				bad("container %s: runs as root", ct.Name)
			}
			req, lim := ct.Resources.Requests, ct.Resources.Limits
			if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
				bad("container %s: wants cpu and memory requests and a memory limit", ct.Name)
			}
			if ct.Image == "" || ct.ImagePullPolicy != corev1.PullIfNotPresent {
				bad("container %s: image %q, pull policy %q (want IfNotPresent, so a loaded image works)", ct.Name, ct.Image, ct.ImagePullPolicy)
			}
		}
	}
	return errs
}

// exposed reports whether a Service is reachable from outside the cluster.
func exposed(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer || s.Spec.Type == corev1.ServiceTypeNodePort ||
		len(s.Spec.ExternalIPs) > 0
}

// workerPortInside: no LoadBalancer/NodePort Service carries 5557, and the
// workers' Service is ClusterIP.
func (c checks) workerPortInside(r rendering) []string {
	var errs []string
	found := false
	for _, s := range r.services() {
		for _, p := range s.Spec.Ports {
			isWorker := p.Port == workerPort || p.TargetPort == intstr.FromInt32(workerPort) ||
				p.TargetPort == intstr.FromString("workers")
			if !isWorker {
				continue
			}
			found = true
			if exposed(s) {
				errs = append(errs, fmt.Sprintf("Service/%s exposes the worker port %d as %s", s.Name, p.Port, s.Spec.Type))
			}
		}
	}
	if !found {
		errs = append(errs, "no Service carries the worker port: workers cannot reach the master")
	}
	return errs
}

// exposedUIHasPassword: a UI reachable from outside asks for --web-auth,
// taken from a Secret that must exist.
func (c checks) exposedUIHasPassword(r rendering) []string {
	var errs []string
	for _, s := range r.services() {
		if !exposed(s) || !selects(s.Spec.Selector, r.component("master")) {
			continue
		}
		for _, p := range r.component("master") {
			e := envVar(container(p), "HORDE_WEB_AUTH")
			if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
				(e.ValueFrom.SecretKeyRef.Optional != nil && *e.ValueFrom.SecretKeyRef.Optional) {
				errs = append(errs, fmt.Sprintf("Service/%s exposes the UI as %s but %s has no HORDE_WEB_AUTH from a required Secret",
					s.Name, s.Spec.Type, p.Owner))
			}
		}
	}
	return errs
}

func selects(sel map[string]string, ps []podTemplate) bool {
	for _, p := range ps {
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(p.Spec.Labels)) {
			return true
		}
	}
	return false
}

// scriptConfigMaps are the ConfigMaps that hold a script: rendered ones
// with a .star key, and any ConfigMap mounted where the master reads it.
func scriptConfigMaps(r rendering) map[string]bool {
	out := map[string]bool{}
	for _, o := range r {
		if cm, ok := o.Obj.(*corev1.ConfigMap); ok {
			for k := range cm.Data {
				if strings.HasSuffix(k, ".star") {
					out[cm.Name] = true
				}
			}
		}
	}
	for _, p := range r.component("master") {
		for _, m := range container(p).VolumeMounts {
			if m.MountPath == "/etc/horde/script" {
				if v := volume(p, m.Name); v != nil && v.ConfigMap != nil {
					out[v.ConfigMap.Name] = true
				}
			}
		}
	}
	return out
}

func volume(p podTemplate, name string) *corev1.Volume {
	for i := range p.Spec.Spec.Volumes {
		if p.Spec.Spec.Volumes[i].Name == name {
			return &p.Spec.Spec.Volumes[i]
		}
	}
	return nil
}

// scriptOnlyInMaster: workers get the script from the master over gRPC;
// only the master mounts it, and it names a file that is in it.
func (c checks) scriptOnlyInMaster(r rendering) []string {
	var errs []string
	scripts := scriptConfigMaps(r)
	if len(scripts) == 0 {
		return []string{"no script ConfigMap"}
	}
	for _, p := range r.pods() {
		for _, v := range p.Spec.Spec.Volumes {
			if v.ConfigMap != nil && scripts[v.ConfigMap.Name] && p.component() != "master" {
				errs = append(errs, fmt.Sprintf("%s (%s) mounts the script ConfigMap %s", p.Owner, p.component(), v.ConfigMap.Name))
			}
		}
	}
	for _, p := range r.component("master") {
		path := scriptPath(container(p))
		dir, file := filepath.Split(path)
		m := mountAt(container(p), filepath.Clean(dir))
		if m == nil {
			errs = append(errs, fmt.Sprintf("%s: the script %q is not under a mounted volume", p.Owner, path))
			continue
		}
		v := volume(p, m.Name)
		if v == nil || v.ConfigMap == nil || !scripts[v.ConfigMap.Name] {
			errs = append(errs, fmt.Sprintf("%s: %s is not the script ConfigMap", p.Owner, m.MountPath))
			continue
		}
		if cm, ok := r.get("ConfigMap", v.ConfigMap.Name).(*corev1.ConfigMap); ok {
			if _, ok := cm.Data[file]; !ok {
				errs = append(errs, fmt.Sprintf("%s: script %s is not a key of ConfigMap %s", p.Owner, file, cm.Name))
			}
		}
	}
	return errs
}

// scriptPath is the script the master loads: HORDE_SCRIPT, or the first
// argument after the subcommand.
func scriptPath(c *corev1.Container) string {
	if len(c.Args) >= 2 && c.Args[0] == "master" {
		return c.Args[1]
	}
	v, _ := envValue(c, "HORDE_SCRIPT")
	return v
}

func mountAt(c *corev1.Container, path string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if filepath.Clean(c.VolumeMounts[i].MountPath) == path {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

// probes: the master's liveness and readiness are /healthz and /readyz on
// the web port; a worker serves no HTTP port, so it has no probes; other
// probes name routes their component serves.
func (c checks) probes(r rendering) []string {
	var errs []string
	for _, p := range r.pods() {
		for _, ct := range p.Spec.Spec.Containers {
			bad := func(f string, a ...any) { errs = append(errs, p.Owner+": "+fmt.Sprintf(f, a...)) }
			comp := p.component()
			switch comp {
			case "worker":
				if ct.LivenessProbe != nil || ct.ReadinessProbe != nil || ct.StartupProbe != nil || len(ct.Ports) > 0 {
					bad("a worker serves no port: it must have no ports and no probes")
				}
				continue
			case "master":
				if ct.LivenessProbe == nil || ct.LivenessProbe.HTTPGet == nil || ct.LivenessProbe.HTTPGet.Path != "/healthz" {
					bad("master liveness probe must be GET /healthz")
				}
				if ct.ReadinessProbe == nil || ct.ReadinessProbe.HTTPGet == nil || ct.ReadinessProbe.HTTPGet.Path != "/readyz" {
					bad("master readiness probe must be GET /readyz")
				}
			}
			for _, pr := range []*corev1.Probe{ct.LivenessProbe, ct.ReadinessProbe, ct.StartupProbe} {
				if pr == nil {
					continue
				}
				if pr.HTTPGet == nil {
					bad("probe without httpGet (horde's image has no shell for exec probes)")
					continue
				}
				if !c.routes[comp][pr.HTTPGet.Path] {
					bad("probe path %s is not a route %s serves", pr.HTTPGet.Path, comp)
				}
				port, ok := containerPort(&ct, pr.HTTPGet.Port)
				if !ok || (comp == "master" && port != webPort) {
					bad("probe port %s is not the container's web port", pr.HTTPGet.Port.String())
				}
			}
		}
	}
	return errs
}

// containerPort resolves a named or numbered port of a container.
func containerPort(c *corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}
