package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestHelmLint runs `helm lint --strict` on the chart.
func TestHelmLint(t *testing.T) {
	t.Parallel()
	helm := helmBinary(t)
	chart := filepath.Join(repoRoot(t), "deploy", "helm", "horde")
	out, err := exec.Command(helm, "lint", "--strict", "--kube-version", kubeVersion, chart).CombinedOutput()
	if err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
}

// TestHelmTemplate renders the chart with the combinations of values a user
// picks, decodes every object strictly, and runs the same checks as the
// kustomize overlays.
func TestHelmTemplate(t *testing.T) {
	t.Parallel()
	helm := helmBinary(t)
	d := newDecoder(t)
	rt := readRoutes(t)
	for _, tc := range helmCases(repoRoot(t)) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := helmTemplate(t, helm, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			r, err := d.decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("strict decoding: %v", err)
			}
			ext := map[string]bool{}
			for _, e := range tc.external {
				ext[e] = true
			}
			checks{routes: rt, external: ext}.run(t, r)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// helmCase is one combination of values a user picks: the helm template
// arguments, the objects they name that the user creates (external), and
// what the chart must render beyond the common checks.
type helmCase struct {
	name     string
	args     []string
	external []string
	check    func(t *testing.T, r rendering)
}

// helmCases are the value sets that TestHelmTemplate checks and
// TestRenderedManifestsOnAPIServer applies; root is horde's repository.
func helmCases(root string) []helmCase {
	return []helmCase{
		{"defaults", nil, nil, func(t *testing.T, r rendering) {
			checkDeployments(t, r, 7)
			target := renderKustomize(t, newDecoder(t), filepath.Join(root, "deploy", "kubernetes", "target"))
			checkFitsSmallCluster(t, r, target)
			checkScriptIsTheExample(t, r)
			checkGeneratedToken(t, r)
			if len(r.services()) != 2 || r.get("ServiceMonitor", "horde") != nil || r.get("ConfigMap", "horde-dashboard") != nil {
				t.Errorf("defaults: want the two Services and no ServiceMonitor or dashboard")
			}
		}},
		{"headless job", []string{"--set", "headless.enabled=true", "--set", "headless.thresholds[0]=GET /profile: p99<500ms"}, nil,
			func(t *testing.T, r rendering) {
				checkHeadless(t, r)
				c := container(r.one(t, "master"))
				if v, _ := flagValue(c.Args, "threshold"); v != "GET /profile: p99<500ms" {
					t.Errorf("--threshold = %q, want the value as given", v)
				}
				if v, _ := flagValue(c.Args, "expect-workers"); v != "7" {
					t.Errorf("--expect-workers = %q, want worker.replicas (7)", v)
				}
			}},
		{"headless without a claim", []string{"--set", "headless.enabled=true", "--set", "headless.reports.persistence=false",
			"--set", "headless.ttlSecondsAfterFinished=3600"}, nil, func(t *testing.T, r rendering) {
			checkHeadless(t, r)
			if r.get("PersistentVolumeClaim", "horde-reports") != nil {
				t.Errorf("persistence=false still renders the claim")
			}
		}},
		{"hpa", []string{"--set", "worker.hpa.enabled=true"}, nil, func(t *testing.T, r rendering) {
			checkHPA(t, r)
		}},
		{"servicemonitor and dashboard", []string{"--set", "serviceMonitor.enabled=true", "--set", "grafanaDashboard.enabled=true"}, nil,
			func(t *testing.T, r rendering) {
				checkServiceMonitor(t, r)
				checkDashboardConfigMap(t, r)
			}},
		{"existing secret", []string{"--set", "auth.existingSecret=my-token", "--set", "auth.existingSecretKey=value"}, []string{"my-token"},
			func(t *testing.T, r rendering) {
				checkDeployments(t, r, 7)
				if r.get("Secret", "horde-auth") != nil {
					t.Errorf("auth.existingSecret still renders a Secret")
				}
				ref := envVar(container(r.one(t, "worker")), "HORDE_AUTH_TOKEN").ValueFrom.SecretKeyRef
				if ref.Name != "my-token" || ref.Key != "value" {
					t.Errorf("workers read the token from %s/%s, want my-token/value", ref.Name, ref.Key)
				}
			}},
		{"script from file", []string{"--set-file", "script=" + filepath.Join(root, "examples", "csv_users.star"),
			"--set-file", `extraScriptFiles.users\.csv=` + filepath.Join(root, "examples", "users.csv")}, nil,
			func(t *testing.T, r rendering) {
				checkDeployments(t, r, 7)
				cm, _ := r.get("ConfigMap", "horde-script").(*corev1.ConfigMap)
				for key, file := range map[string]string{"script.star": "csv_users.star", "users.csv": "users.csv"} {
					want, err := os.ReadFile(filepath.Join(root, "examples", file))
					if err != nil {
						t.Fatal(err)
					}
					if cm == nil || strings.TrimRight(cm.Data[key], "\n") != strings.TrimRight(string(want), "\n") {
						t.Errorf("ConfigMap horde-script: %s is not examples/%s", key, file)
					}
				}
			}},
		{"existing script configmap", []string{"--set", "existingScriptConfigMap=my-script", "--set", "scriptName=main.star"},
			[]string{"my-script"}, func(t *testing.T, r rendering) {
				checkDeployments(t, r, 7)
				if r.get("ConfigMap", "horde-script") != nil {
					t.Errorf("existingScriptConfigMap still renders a script ConfigMap")
				}
				if p := scriptPath(container(r.one(t, "master"))); p != "/etc/horde/script/main.star" {
					t.Errorf("master loads %q, want /etc/horde/script/main.star", p)
				}
			}},
		{"loadbalancer with password", []string{"--set", "ui.service.type=LoadBalancer", "--set", "webAuth.existingSecret=horde-web-auth",
			"--set", "serviceMonitor.enabled=true"}, []string{"horde-web-auth"}, func(t *testing.T, r rendering) {
			checkLoadBalancer(t, r)
			var sm *serviceMonitor
			for _, o := range r {
				if x, ok := o.Obj.(*serviceMonitor); ok {
					sm = x
				}
			}
			if sm == nil || sm.Spec.Endpoints[0].Authorization == nil || sm.Spec.Endpoints[0].Authorization.Credentials.Name != "horde-web-auth" {
				t.Errorf("with a web password, the ServiceMonitor must send it to /metrics")
			}
		}},
		{"run store from a secret", []string{"--set", "store.existingSecret=horde-db", "--set", "store.keep=30d"}, []string{"horde-db"},
			func(t *testing.T, r rendering) {
				c := container(r.one(t, "master"))
				e := envVar(c, "HORDE_STORE")
				if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					t.Fatalf("the master has no HORDE_STORE from a Secret: %+v", e)
				}
				if ref := e.ValueFrom; ref.SecretKeyRef.Name != "horde-db" || ref.SecretKeyRef.Key != "url" {
					t.Errorf("the master's HORDE_STORE = %+v, want it from Secret horde-db, key url", e)
				}
				if k := envVar(c, "HORDE_STORE_KEEP"); k == nil || k.Value != "30d" {
					t.Errorf("HORDE_STORE_KEEP = %+v, want 30d", k)
				}
				if envVar(container(r.one(t, "worker")), "HORDE_STORE") != nil {
					t.Errorf("workers get HORDE_STORE; only the master stores runs")
				}
			}},
		{"run store url, headless", []string{"--set", "headless.enabled=true", "--set", "store.url=postgres://horde@db/horde"}, nil,
			func(t *testing.T, r rendering) {
				checkHeadless(t, r)
				if e := envVar(container(r.one(t, "master")), "HORDE_STORE"); e == nil || e.Value != "postgres://horde@db/horde" {
					t.Errorf("the master's HORDE_STORE = %+v, want store.url", e)
				}
			}},
		{"three workers", []string{"--set", "worker.replicas=3"}, nil, func(t *testing.T, r rendering) {
			checkDeployments(t, r, 3)
		}},
	}
}

// checkGeneratedToken: with no token given, the chart makes a long random
// one (not a fixed default anyone can read here).
func checkGeneratedToken(t *testing.T, r rendering) {
	t.Helper()
	s, ok := r.get("Secret", "horde-auth").(*corev1.Secret)
	if !ok || len(s.Data["token"]) < 32 {
		t.Fatalf("want Secret horde-auth with a generated token of 32+ characters")
	}
	if strings.Contains(string(s.Data["token"]), "replace") {
		t.Errorf("the chart's token is a placeholder")
	}
}

// TestHelmRefuses: values the chart must reject with a clear message
// rather than render something wrong.
func TestHelmRefuses(t *testing.T) {
	t.Parallel()
	helm := helmBinary(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"misspelt value", []string{"--set", "worker.replica=3"}, "replica"},
		{"unknown setting name", []string{"--set", "settings.USERS=3"}, "USERS"},
		{"public UI without a password", []string{"--set", "ui.service.type=LoadBalancer"}, "webAuth.existingSecret"},
		{"two run stores", []string{"--set", "store.url=postgres://db/horde", "--set", "store.existingSecret=horde-db"}, "not both"},
		{"misspelt store value", []string{"--set", "store.URL=postgres://db/horde"}, "URL"},
		{"bad run time", []string{"--set", "headless.enabled=true", "--set", "headless.runTime=ten minutes"}, "runTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := helmTemplate(t, helm, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("helm template %v: err = %v, want one naming %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestHelmReleaseName: objects are named after the release, and workers
// find the master under that name.
func TestHelmReleaseName(t *testing.T) {
	t.Parallel()
	helm := helmBinary(t)
	chart := filepath.Join(repoRoot(t), "deploy", "helm", "horde")
	out, err := exec.Command(helm, "template", "load", chart, "--kube-version", kubeVersion).Output()
	if err != nil {
		t.Fatal(err)
	}
	r, err := newDecoder(t).decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.get("Deployment", "load-horde-worker").(*appsv1.Deployment); !ok {
		t.Fatalf("release load: no Deployment load-horde-worker")
	}
	checkWorkerFindsMaster(t, r, r.one(t, "worker"))
}
