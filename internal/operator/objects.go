package operator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// This file builds the objects a HordeTest is run with, from its spec
// alone: a Secret (the workers' token and the UI's password), a ConfigMap
// with the script, the master's Deployment and Service, the workers'
// Deployment; and, at the end, the summary's ConfigMap.

// Labels on everything the operator makes. The operator's caches select
// its objects by LabelManagedBy.
const (
	LabelTest      = "load.horde.dev/test"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "horde-operator"
	labelComponent = "app.kubernetes.io/component"

	annTemplateHash = "load.horde.dev/template-hash"
	annScriptMain   = "load.horde.dev/script"
	annScriptPaths  = "load.horde.dev/script-paths"

	// Ports of the master, as in deploy/kubernetes.
	portHTTP    = 8089
	portWorkers = 5557

	scriptDir  = "/etc/horde/script"
	reportsDir = "/reports"

	// SummaryKey is the key of the summary JSON in the summary ConfigMap.
	SummaryKey = "summary.json"
	// maxConfigMap is what a ConfigMap may hold (etcd's object limit
	// with room for the metadata).
	maxConfigMap = 1000 << 10
)

// Names of a test's objects.
func secretName(ht *v1.HordeTest) string  { return ht.Name + "-auth" }
func scriptName(ht *v1.HordeTest) string  { return ht.Name + "-script" }
func masterName(ht *v1.HordeTest) string  { return ht.Name + "-master" }
func workerName(ht *v1.HordeTest) string  { return ht.Name + "-worker" }
func summaryName(ht *v1.HordeTest) string { return ht.Name + "-summary" }

// MasterService is the name of the test's master Service (web UI and API
// on 8089, worker port 5557): kubectl port-forward svc/NAME 8089.
func MasterService(testName string) string { return testName + "-master" }

func labels(ht *v1.HordeTest, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     "horde",
		"app.kubernetes.io/instance": ht.Name,
		labelComponent:               component,
		LabelManagedBy:               ManagedBy,
		LabelTest:                    ht.Name,
	}
}

func selector(ht *v1.HordeTest, component string) map[string]string {
	return map[string]string{LabelTest: ht.Name, labelComponent: component}
}

func meta(ht *v1.HordeTest, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ht.Namespace, Labels: labels(ht, component)}
}

// errSpec is a spec the operator cannot run: the test fails with exit
// code 2 (bad input), as horde would.
type errSpec struct{ msg string }

func (e *errSpec) Error() string { return e.msg }

func specErr(format string, a ...any) error { return &errSpec{msg: fmt.Sprintf(format, a...)} }

// newSecret is the generated Secret: token for the workers, web for the
// master's UI and API (a bearer token; any user name with it as the
// password in a browser).
func newSecret(ht *v1.HordeTest) (*corev1.Secret, error) {
	token, err := randomHex(24)
	if err != nil {
		return nil, err
	}
	web, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: meta(ht, secretName(ht), "auth"),
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"token": token, "web": web},
	}, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// authSecret is the Secret that holds the test's token and password.
func authSecret(ht *v1.HordeTest) string {
	if ht.Spec.Auth != nil && ht.Spec.Auth.ExistingSecret != "" {
		return ht.Spec.Auth.ExistingSecret
	}
	return secretName(ht)
}

// scriptFiles is the test's script: its files by name, and the main one.
type scriptFiles struct {
	main  string
	files map[string][]byte
}

// newScriptConfigMap holds the script and its files. A file name that is
// not a valid ConfigMap key ("lib/util.star") gets a key of its own, and
// an annotation maps keys to the paths the master's volume gives them
// (see scriptLayout). The spec's stages are appended to the main script.
func newScriptConfigMap(ht *v1.HordeTest, sf scriptFiles) (*corev1.ConfigMap, error) {
	if _, ok := sf.files[sf.main]; !ok {
		return nil, specErr("the script %q is not among its files", sf.main)
	}
	cm := &corev1.ConfigMap{ObjectMeta: meta(ht, scriptName(ht), "script"), Data: map[string]string{}, BinaryData: map[string][]byte{}}
	paths := map[string]string{}
	size := 0
	for i, name := range slices.Sorted(maps.Keys(sf.files)) {
		if name == "" || strings.HasPrefix(name, "/") || slices.Contains(strings.Split(name, "/"), "..") {
			return nil, specErr("script file %q: want a relative path inside the script's directory", name)
		}
		data := sf.files[name]
		if name == sf.main && len(ht.Spec.Stages) > 0 {
			data = append(slices.Clip(data), stagesSource(ht.Spec.Stages)...)
		}
		key := name
		if !configMapKey.MatchString(key) || len(key) > 253 {
			key = fmt.Sprintf("file-%d", i)
		}
		if isText(data) {
			cm.Data[key] = string(data)
		} else {
			cm.BinaryData[key] = data
		}
		paths[key] = name
		size += len(key) + len(data)
	}
	if size > maxConfigMap {
		return nil, specErr("the script and its files are %d KiB, more than a ConfigMap holds (%d KiB): "+
			"keep data files small, or build them into an image", size>>10, maxConfigMap>>10)
	}
	layout, _ := json.Marshal(paths) // a map of strings always marshals
	cm.Annotations = map[string]string{annScriptMain: sf.main, annScriptPaths: string(layout)}
	return cm, nil
}

// scriptLayout is where the script's ConfigMap puts each file on the
// master (the volume's items), and the main script's name.
func scriptLayout(cm *corev1.ConfigMap) (string, []corev1.KeyToPath) {
	paths := map[string]string{}
	_ = json.Unmarshal([]byte(cm.Annotations[annScriptPaths]), &paths) // the operator wrote it
	var items []corev1.KeyToPath
	for _, k := range slices.Sorted(maps.Keys(paths)) {
		items = append(items, corev1.KeyToPath{Key: k, Path: paths[k]})
	}
	return cm.Annotations[annScriptMain], items
}

var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// isText says whether a file can go in a ConfigMap's data (UTF-8), or
// needs its binaryData.
func isText(b []byte) bool { return utf8.Valid(b) }

// stagesSource is spec.stages as the script's stages global.
func stagesSource(stages []v1.Stage) []byte {
	var b strings.Builder
	b.WriteString("\n\n# spec.stages of the HordeTest, added by horde's operator\nstages = [\n")
	for _, s := range stages {
		fmt.Fprintf(&b, "    stage(%q", s.Duration)
		if s.Users != nil {
			fmt.Fprintf(&b, ", users=%d", *s.Users)
		}
		if s.Rate != nil {
			fmt.Fprintf(&b, ", rate=%s", formatFloat(*s.Rate))
		}
		b.WriteString("),\n")
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// expectWorkers is the master's --expect-workers: the workers the test
// starts with (at least one).
func expectWorkers(ht *v1.HordeTest) int32 { return max(ht.Spec.Workers.Replicas, 1) }

// masterArgs is the master's command line: the test's start, at once
// once its workers are there, with the web UI kept up after the end (so
// that the operator reads the summary).
func masterArgs(ht *v1.HordeTest, main string) []string {
	s := ht.Spec
	args := []string{"master", scriptDir + "/" + main, "--autostart",
		"--expect-workers", strconv.Itoa(int(expectWorkers(ht)))}
	if s.RunTime != "" {
		args = append(args, "--run-time", s.RunTime)
	}
	if s.Host != "" {
		args = append(args, "--host", s.Host)
	}
	if len(s.Stages) == 0 {
		args = append(args, "--users", strconv.Itoa(int(s.Users)))
		if s.SpawnRate > 0 {
			args = append(args, "--spawn-rate", formatFloat(s.SpawnRate))
		}
		if s.Rate > 0 {
			args = append(args, "--rate", formatFloat(s.Rate))
		}
	}
	for _, t := range s.Thresholds {
		args = append(args, "--threshold", t)
	}
	if !hasStore(ht) {
		args = append(args, "--store", "off")
	}
	if s.Reports != nil && s.Reports.ClaimName != "" {
		p := reportsDir + "/" + ht.Name
		args = append(args, "--json", p+".json", "--html", p+".html", "--csv", p)
	}
	return append(args, s.Args...)
}

func hasStore(ht *v1.HordeTest) bool {
	r := ht.Spec.Reports
	return r != nil && (r.StoreURL != "" || r.StoreSecret != nil)
}

// The default resources, as deploy/kubernetes's (docs/kubernetes.md,
// Resources): small requests, so that tests fit a small cluster.
func defaultResources(reqCPU, reqMem, limCPU, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(reqCPU), corev1.ResourceMemory: resource.MustParse(reqMem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(limCPU), corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

func podSecurity() *corev1.PodSecurityContext {
	id := int64(65532)
	yes := true
	return &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &id, RunAsGroup: &id, FSGroup: &id,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
}

func containerSecurity() *corev1.SecurityContext {
	yes, no := true, false
	return &corev1.SecurityContext{RunAsNonRoot: &yes, AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
}

func secretEnv(name, secret, key string, optional bool) corev1.EnvVar {
	ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}
	if optional {
		ref.Optional = &optional
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref}}
}

func tmpVolume() (corev1.Volume, corev1.VolumeMount) {
	size := resource.MustParse("64Mi")
	return corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}}},
		corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"}
}

func podSpec(c corev1.Container, volumes []corev1.Volume, grace int64) corev1.PodSpec {
	no := false
	return corev1.PodSpec{
		AutomountServiceAccountToken:  &no, // horde never calls the Kubernetes API
		EnableServiceLinks:            &no, // no HORDE_*_PORT=tcp://... variables from Service names
		SecurityContext:               podSecurity(),
		TerminationGracePeriodSeconds: &grace,
		Containers:                    []corev1.Container{c},
		Volumes:                       volumes,
	}
}

// newMaster is the master's Deployment: one replica, recreated (never two
// masters splitting the workers).
func newMaster(ht *v1.HordeTest, image string, main string, items []corev1.KeyToPath) *appsv1.Deployment {
	env := []corev1.EnvVar{
		secretEnv("HORDE_AUTH_TOKEN", authSecret(ht), "token", false),
		secretEnv("HORDE_WEB_AUTH", authSecret(ht), "web", ht.Spec.Auth != nil),
	}
	if r := ht.Spec.Reports; r != nil && r.StoreSecret != nil {
		env = append(env, corev1.EnvVar{Name: "HORDE_STORE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: r.StoreSecret}})
	} else if r != nil && r.StoreURL != "" {
		env = append(env, corev1.EnvVar{Name: "HORDE_STORE", Value: r.StoreURL})
	}
	env = append(env, ht.Spec.Env...)
	res := defaultResources("100m", "128Mi", "2", "1Gi")
	if m := ht.Spec.Master; m != nil && m.Resources != nil {
		res = *m.Resources
	}
	tmp, tmpMount := tmpVolume()
	volumes := []corev1.Volume{
		{Name: "script", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: scriptName(ht)}, Items: items}}},
		tmp,
	}
	mounts := []corev1.VolumeMount{{Name: "script", MountPath: scriptDir, ReadOnly: true}, tmpMount}
	if r := ht.Spec.Reports; r != nil && r.ClaimName != "" {
		volumes = append(volumes, corev1.Volume{Name: "reports", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.ClaimName}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "reports", MountPath: reportsDir})
	}
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			PeriodSeconds: period, FailureThreshold: 3}
	}
	c := corev1.Container{
		Name:            "horde",
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent, // an image loaded into kind or minikube is used as it is
		Args:            masterArgs(ht, main),
		Env:             env,
		Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: portHTTP},
			{Name: "workers", ContainerPort: portWorkers},
		},
		LivenessProbe:  probe("/healthz", 10),
		ReadinessProbe: probe("/readyz", 2),
		Resources:      res,
		// A script that does not load ends the master with exit code 2:
		// the last lines of its log say why, in the pod's status.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext:          containerSecurity(),
		VolumeMounts:             mounts,
	}
	one, history := int32(1), int32(1)
	// The master writes its report files when it stops: give it time.
	spec := podSpec(c, volumes, 60)
	return &appsv1.Deployment{
		ObjectMeta: meta(ht, masterName(ht), "master"),
		Spec: appsv1.DeploymentSpec{
			Replicas:             &one,
			RevisionHistoryLimit: &history,
			Strategy:             appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Selector:             &metav1.LabelSelector{MatchLabels: selector(ht, "master")},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(ht, "master")},
				Spec:       spec,
			},
		},
	}
}

// newService is the master's Service: the web API (8089) for the operator
// and port-forward, the worker port (5557) for the workers. ClusterIP
// only: neither leaves the cluster.
func newService(ht *v1.HordeTest) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: meta(ht, masterName(ht), "master"),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selector(ht, "master"),
			Ports: []corev1.ServicePort{
				{Name: "http", Port: portHTTP, TargetPort: intstr.FromString("http")},
				{Name: "workers", Port: portWorkers, TargetPort: intstr.FromString("workers")},
			},
		},
	}
}

// newWorkers is the workers' Deployment, with the hash of its pod
// template in an annotation: a spec whose template differs updates it.
func newWorkers(ht *v1.HordeTest, image string) *appsv1.Deployment {
	w := ht.Spec.Workers
	env := append([]corev1.EnvVar{secretEnv("HORDE_AUTH_TOKEN", authSecret(ht), "token", false)}, ht.Spec.Env...)
	res := defaultResources("50m", "64Mi", "1", "512Mi")
	if w.Resources != nil {
		res = *w.Resources
	}
	tmp, tmpMount := tmpVolume()
	c := corev1.Container{
		Name:            "horde",
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent, // an image loaded into kind or minikube is used as it is
		Args:            []string{"worker", "--master", fmt.Sprintf("%s:%d", masterName(ht), portWorkers)},
		Env:             env,
		Resources:       res,
		SecurityContext: containerSecurity(),
		VolumeMounts:    []corev1.VolumeMount{tmpMount},
	}
	// A leaving worker lets its tasks finish and hands its last
	// statistics over (SIGTERM): give it time.
	spec := podSpec(c, []corev1.Volume{tmp}, 60)
	spec.NodeSelector = w.NodeSelector
	spec.Tolerations = w.Tolerations
	spec.Affinity = mergeAffinity(spreadWorkers(ht), w.Affinity)
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(ht, "worker")}, Spec: spec}
	replicas, history := w.Replicas, int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: meta(ht, workerName(ht), "worker"),
		Spec: appsv1.DeploymentSpec{
			Replicas:             &replicas,
			RevisionHistoryLimit: &history,
			Selector:             &metav1.LabelSelector{MatchLabels: selector(ht, "worker")},
			Template:             tmpl,
		},
	}
	d.Annotations = map[string]string{annTemplateHash: templateHash(tmpl)}
	return d
}

func templateHash(t corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(t) // a PodTemplateSpec always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// spreadWorkers is the operator's own affinity for workers: prefer nodes
// without another worker of the test, so that a test's load is not
// measured on one crowded node.
func spreadWorkers(ht *v1.HordeTest) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 50,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: selector(ht, "worker")},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

// mergeAffinity adds the user's affinity to the operator's: node affinity
// and pod affinity are the user's, pod anti-affinity terms are both.
func mergeAffinity(ours, user *corev1.Affinity) *corev1.Affinity {
	if user == nil {
		return ours
	}
	out := user.DeepCopy()
	if ours == nil || ours.PodAntiAffinity == nil {
		return out
	}
	if out.PodAntiAffinity == nil {
		out.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	out.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(
		slices.Clone(ours.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution),
		out.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution...)
	out.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(
		slices.Clone(ours.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution),
		out.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
	return out
}

// newSummary keeps the summary JSON as long as the HordeTest.
func newSummary(ht *v1.HordeTest, summary []byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: meta(ht, summaryName(ht), "summary"), Data: map[string]string{SummaryKey: string(summary)}}
}
