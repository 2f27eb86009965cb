package operator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// TestScriptSources: a script from a ConfigMap (every key a file beside
// it) with the spec's stages, and a bundle with a module in a
// subdirectory, reach the master as the files the script loads, at the
// paths it loads them from.
func TestScriptSources(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	fm := newFakeMaster(t)
	k.startOperator(fm)
	i32 := func(n int32) *int32 { return &n }

	// The ConfigMap comes after the HordeTest: the test waits for it.
	k.create(newTest("fromcm", 1, func(ht *v1.HordeTest) {
		ht.Spec.Script = v1.Script{ConfigMap: &v1.ConfigMapScript{Name: "my-scripts", Key: "shop.star"}}
		ht.Spec.RunTime = ""
		ht.Spec.Stages = []v1.Stage{{Duration: "30s", Users: i32(100)}, {Duration: "1m", Users: i32(100)}, {Duration: "10s", Users: i32(0)}}
	}))
	k.eventually("waiting for the ConfigMap", func() error {
		if m := k.get("fromcm").Status.Message; !strings.Contains(m, "ConfigMap my-scripts (spec.script.configMap) not found") {
			return fmt.Errorf("message %q", m)
		}
		return nil
	})
	lib := "def helper():\n    return 1\n"
	if err := k.c.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "my-scripts", Namespace: k.ns},
		Data: map[string]string{"shop.star": seedScript, "lib.star": lib, "users.csv": "name\nann\n"}}); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	var master appsv1.Deployment
	k.eventually("the script's ConfigMap and the master", func() error {
		if err := k.c.Get(t.Context(), k.key("fromcm-script"), &cm); err != nil {
			return err
		}
		return k.c.Get(t.Context(), k.key("fromcm-master"), &master)
	})
	wantMain := seedScript + "\n\n# spec.stages of the HordeTest, added by horde's operator\nstages = [\n" +
		"    stage(\"30s\", users=100),\n    stage(\"1m\", users=100),\n    stage(\"10s\", users=0),\n]\n"
	if cm.Data["shop.star"] != wantMain || cm.Data["lib.star"] != lib || cm.Data["users.csv"] != "name\nann\n" {
		t.Errorf("script ConfigMap %q: want shop.star with the stages, lib.star and users.csv", cm.Data)
	}
	c := master.Spec.Template.Spec.Containers[0]
	if c.Args[1] != "/etc/horde/script/shop.star" || slices.Contains(c.Args, "--users") || slices.Contains(c.Args, "--run-time") {
		t.Errorf("master args %q: want shop.star, and neither --users nor --run-time (the stages decide)", c.Args)
	}

	// A bundle, as horde kube run sends it.
	k.create(newTest("bundled", 1, func(ht *v1.HordeTest) {
		ht.Spec.Script = v1.Script{Bundle: &v1.Bundle{Main: "main.star", Files: map[string]string{
			"main.star": seedScript, "lib/util.star": lib}}}
		ht.Spec.Rate = 50
	}))
	k.eventually("the bundle's master", func() error {
		if err := k.c.Get(t.Context(), k.key("bundled-script"), &cm); err != nil {
			return err
		}
		return k.c.Get(t.Context(), k.key("bundled-master"), &master)
	})
	items := master.Spec.Template.Spec.Volumes[0].ConfigMap.Items
	paths := map[string]string{}
	for _, it := range items {
		paths[it.Path] = cm.Data[it.Key]
	}
	if len(paths) != 2 || paths["main.star"] != seedScript || paths["lib/util.star"] != lib {
		t.Errorf("the master's script volume: %v (items %+v), want main.star and lib/util.star", paths, items)
	}
	if got := flagValues(master.Spec.Template.Spec.Containers[0].Args, "--rate"); len(got) != 1 || got[0] != "50" {
		t.Errorf("--rate %q, want 50", got)
	}
}

// TestBadScriptFailsWithCode2: a master that exits with code 2 (its
// script does not load) ends the test at once, Failed with exit code 2
// and horde's own one-line reason from the pod's termination message.
func TestBadScriptFailsWithCode2(t *testing.T) {
	t.Parallel()
	k := newCluster(t)
	dead := newFakeMaster(t)
	dead.srv.Close()
	k.startOperator(dead)
	k.create(newTest("typo", 1))
	k.eventually("the master's Deployment", func() error {
		return k.c.Get(t.Context(), k.key("typo-master"), &appsv1.Deployment{})
	})
	// No kubelet here: the test plays the master's pod, its container
	// ended by horde with exit code 2.
	ht := k.get("typo")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "typo-master-abc", Namespace: k.ns, Labels: labels(ht, "master")},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "horde", Image: "horde:test"}}}}
	if err := k.c.Create(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	msg := "horde: master started\nhorde: /etc/horde/script/script.star:3:5: undefined: usr\n"
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "horde", RestartCount: 1,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Message: msg, FinishedAt: metav1.NewTime(time.Now())}}}}
	if err := k.c.Status().Update(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	ht = k.waitPhase("typo", v1.PhaseFailed)
	if ht.Status.ExitCode == nil || *ht.Status.ExitCode != 2 || !strings.Contains(ht.Status.Message, "script.star:3:5: undefined: usr") {
		t.Errorf("exit %v, message %q: want 2 and the script's error", ht.Status.ExitCode, ht.Status.Message)
	}
}
