package operator

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// TestCRDValidates: the CRD of deploy/operator/crd, on a real
// kube-apiserver, refuses what the operator could not run — with a
// message that says why — and fills in the defaults.
func TestCRDValidates(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	i32 := func(n int32) *int32 { return &n }
	tests := []struct {
		name   string
		mutate func(*v1.HordeTest)
		want   string // in the refusal; "" accepted
	}{
		{"valid", func(*v1.HordeTest) {}, ""},
		{"stages instead of a run time", func(ht *v1.HordeTest) {
			ht.Spec.RunTime = ""
			ht.Spec.Stages = []v1.Stage{{Duration: "30s", Users: i32(10)}}
		}, ""},
		{"a ConfigMap script", func(ht *v1.HordeTest) {
			ht.Spec.Script = v1.Script{ConfigMap: &v1.ConfigMapScript{Name: "scripts"}}
		}, ""},
		{"no script", func(ht *v1.HordeTest) { ht.Spec.Script = v1.Script{} }, "exactly one of inline, configMap and bundle"},
		{"two scripts", func(ht *v1.HordeTest) {
			ht.Spec.Script.ConfigMap = &v1.ConfigMapScript{Name: "x"}
		}, "exactly one of inline, configMap and bundle"},
		{"a bundle without its main file", func(ht *v1.HordeTest) {
			ht.Spec.Script = v1.Script{Bundle: &v1.Bundle{Main: "a.star", Files: map[string]string{"b.star": "x"}}}
		}, "main must name one of files"},
		{"no run time: until stopped", func(ht *v1.HordeTest) { ht.Spec.RunTime = "" }, ""},
		{"a run time that is not one", func(ht *v1.HordeTest) { ht.Spec.RunTime = "ten minutes" }, "spec.runTime"},
		{"negative users", func(ht *v1.HordeTest) { ht.Spec.Users = -1 }, "spec.users"},
		{"too many workers", func(ht *v1.HordeTest) { ht.Spec.Workers.Replicas = 5000 }, "spec.workers.replicas"},
		{"unknown clean-up", func(ht *v1.HordeTest) { ht.Spec.Cleanup = "Sometimes" }, "spec.cleanup"},
		{"a stage with no load", func(ht *v1.HordeTest) {
			ht.Spec.Stages = []v1.Stage{{Duration: "30s"}}
		}, "a stage needs users or rate"},
		{"two stores", func(ht *v1.HordeTest) {
			ht.Spec.Reports = &v1.Reports{StoreURL: "postgres://x", StoreSecret: secretKey("s", "url")}
		}, "storeURL or storeSecret"},
		{"a long name", func(ht *v1.HordeTest) { ht.Name = strings.Repeat("n", 51) }, "at most 50"},
		{"a name its Services cannot have", func(ht *v1.HordeTest) { ht.Name = "9lives" }, "starting with a letter"},
	}
	for _, tt := range tests {
		ht := newTest("valid-"+strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r
			}
			return '-'
		}, strings.ToLower(tt.name)), 1, tt.mutate)
		ht.Namespace = k.ns
		err := k.c.Create(t.Context(), ht, client.DryRunAll)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want it refused as invalid saying %q", tt.name, err, tt.want)
		}
	}

	// Defaults, and what may change once the test exists.
	ht := newTest("edits", 2)
	ht.Spec.Users = 0
	k.create(ht)
	got := k.get("edits")
	if got.Spec.Cleanup != v1.CleanupKeepOnFailure || got.Spec.StartTimeout != "5m" || got.Spec.Users != 1 {
		t.Errorf("defaults: cleanup %q, startTimeout %q, users %d; want KeepOnFailure, 5m, 1", got.Spec.Cleanup, got.Spec.StartTimeout, got.Spec.Users)
	}
	edits := []struct {
		name   string
		mutate func(*v1.HordeTest)
		want   string
	}{
		{"users", func(ht *v1.HordeTest) { ht.Spec.Users = 50 }, ""},
		{"workers", func(ht *v1.HordeTest) { ht.Spec.Workers.Replicas = 6 }, ""},
		{"rates", func(ht *v1.HordeTest) { ht.Spec.SpawnRate = 2.5; ht.Spec.Rate = 100 }, ""},
		{"clean-up and stop", func(ht *v1.HordeTest) { ht.Spec.Cleanup = v1.CleanupKeep; ht.Spec.Stop = true }, ""},
		{"script", func(ht *v1.HordeTest) { ht.Spec.Script.Inline += "\n" }, "script cannot change"},
		{"host", func(ht *v1.HordeTest) { ht.Spec.Host = "http://elsewhere" }, "host cannot change"},
		{"host removed", func(ht *v1.HordeTest) { ht.Spec.Host = "" }, "host cannot change"},
		{"thresholds", func(ht *v1.HordeTest) { ht.Spec.Thresholds = nil }, "thresholds cannot change"},
		{"run time", func(ht *v1.HordeTest) { ht.Spec.RunTime = "2m" }, "runTime cannot change"},
		{"image", func(ht *v1.HordeTest) { ht.Spec.Image = "other:1" }, "image cannot change"},
	}
	for _, e := range edits {
		ht := k.get("edits")
		e.mutate(ht)
		err := k.c.Update(t.Context(), ht, client.DryRunAll)
		switch {
		case e.want == "" && err != nil:
			t.Errorf("edit of %s: refused: %v", e.name, err)
		case e.want != "" && (err == nil || !strings.Contains(err.Error(), e.want)):
			t.Errorf("edit of %s: %v, want it refused saying %q", e.name, err, e.want)
		}
	}
}

func secretKey(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}
