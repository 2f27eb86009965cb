package operator

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// TestWorkerAffinityMerged: the user's affinity is added to the
// operator's spreading of workers over nodes, not put in its place.
func TestWorkerAffinityMerged(t *testing.T) {
	t.Parallel()
	nodeAff := &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"load"}}}}}}}
	userAnti := corev1.WeightedPodAffinityTerm{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, TopologyKey: "kubernetes.io/hostname"}}
	ht := newTest("spread", 4, func(ht *v1.HordeTest) {
		ht.Spec.Workers.Affinity = &corev1.Affinity{NodeAffinity: nodeAff,
			PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{userAnti}}}
		ht.Spec.Workers.NodeSelector = map[string]string{"disk": "ssd"}
		ht.Spec.Workers.Tolerations = []corev1.Toleration{{Key: "load", Operator: corev1.TolerationOpExists}}
	})
	spec := newWorkers(ht, "horde:1").Spec.Template.Spec
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key != "pool" {
		t.Fatalf("node affinity %+v, want the user's", a)
	}
	terms := a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	if len(terms) != 2 || terms[0].PodAffinityTerm.LabelSelector.MatchLabels[LabelTest] != "spread" ||
		terms[1].PodAffinityTerm.LabelSelector.MatchLabels["app"] != "db" {
		t.Errorf("pod anti-affinity %+v, want the operator's spreading and the user's term", terms)
	}
	if spec.NodeSelector["disk"] != "ssd" || len(spec.Tolerations) != 1 {
		t.Errorf("nodeSelector %v, tolerations %v: want the user's", spec.NodeSelector, spec.Tolerations)
	}
	// The user's spec is not changed by the merge.
	if n := len(ht.Spec.Workers.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution); n != 1 {
		t.Errorf("the spec's affinity has %d terms after the merge, want 1", n)
	}
	if own := newWorkers(newTest("alone", 2), "horde:1").Spec.Template.Spec.Affinity; own == nil || own.PodAntiAffinity == nil {
		t.Errorf("without the user's affinity: %+v, want the operator's spreading", own)
	}
}

// TestPodsAsTheManifests: the operator's pods are the hardened pods of
// deploy/kubernetes — nonroot, read-only root, no privileges, no
// service-account token, no service links — and the worker's template
// hash follows what changes the workers.
func TestPodsAsTheManifests(t *testing.T) {
	t.Parallel()
	ht := newTest("safe", 2, func(ht *v1.HordeTest) {
		ht.Spec.Reports = &v1.Reports{ClaimName: "reports", StoreSecret: secretKey("db", "url")}
	})
	m := newMaster(ht, "horde:1", "script.star", nil)
	w := newWorkers(ht, "horde:1")
	for _, spec := range []corev1.PodSpec{m.Spec.Template.Spec, w.Spec.Template.Spec} {
		c := spec.Containers[0]
		if !*spec.SecurityContext.RunAsNonRoot || *spec.AutomountServiceAccountToken || *spec.EnableServiceLinks ||
			!*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation ||
			!slices.Equal(c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("pod %q is not hardened: %+v", c.Args[0], spec)
		}
	}
	args := m.Spec.Template.Spec.Containers[0].Args
	for flag, want := range map[string]string{"--json": "/reports/safe.json", "--html": "/reports/safe.html", "--csv": "/reports/safe"} {
		if got := flagValues(args, flag); len(got) != 1 || got[0] != want {
			t.Errorf("%s %q, want %s", flag, got, want)
		}
	}
	if slices.Contains(args, "--store") {
		t.Errorf("args %q: a store from a Secret comes as HORDE_STORE, not --store off", args)
	}
	var store *corev1.EnvVar
	for _, e := range m.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "HORDE_STORE" {
			store = &e
		}
	}
	if store == nil || store.ValueFrom.SecretKeyRef.Name != "db" {
		t.Errorf("HORDE_STORE %+v, want it from Secret db", store)
	}

	more := ht.DeepCopy()
	more.Spec.Workers.Replicas = 9
	if newWorkers(more, "horde:1").Annotations[annTemplateHash] != w.Annotations[annTemplateHash] {
		t.Error("the template hash changed with the replicas: scaling would replace every worker")
	}
	more.Spec.Workers.NodeSelector = map[string]string{"zone": "b"}
	if newWorkers(more, "horde:1").Annotations[annTemplateHash] == w.Annotations[annTemplateHash] {
		t.Error("the template hash did not change with the node selector: the workers would keep the old one")
	}
}

// TestCleanupPolicy: which ended tests keep their master.
func TestCleanupPolicy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		policy v1.CleanupPolicy
		phase  v1.Phase
		keep   bool
	}{
		{"", v1.PhaseSucceeded, false}, {"", v1.PhaseFailed, true},
		{v1.CleanupKeepOnFailure, v1.PhaseSucceeded, false}, {v1.CleanupKeepOnFailure, v1.PhaseFailed, true},
		{v1.CleanupDelete, v1.PhaseSucceeded, false}, {v1.CleanupDelete, v1.PhaseFailed, false},
		{v1.CleanupKeep, v1.PhaseSucceeded, true}, {v1.CleanupKeep, v1.PhaseFailed, true},
	} {
		ht := newTest("p", 1, func(ht *v1.HordeTest) { ht.Spec.Cleanup = tt.policy; ht.Status.Phase = tt.phase })
		if got := keepMaster(ht); got != tt.keep {
			t.Errorf("cleanup %q, %s: keep the master %v, want %v", tt.policy, tt.phase, got, tt.keep)
		}
	}
}
