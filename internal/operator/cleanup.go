package operator

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// keepMaster says whether the clean-up policy keeps the master (its UI,
// API, log and reports) of a test that has ended.
func keepMaster(ht *v1.HordeTest) bool {
	switch ht.Spec.Cleanup {
	case v1.CleanupKeep:
		return true
	case v1.CleanupDelete:
		return false
	default: // KeepOnFailure
		return ht.Status.Phase == v1.PhaseFailed
	}
}

// cleanup carries out the clean-up policy of an ended test: the workers
// always go (no load generator idles after its test); the master, its
// Service, the generated Secret and the script's ConfigMap go unless the
// policy keeps them. The summary's ConfigMap stays with the HordeTest.
// Deleting what is gone already is fine, so a restarted operator may do it
// again.
func (r *Reconciler) cleanup(ctx context.Context, ht *v1.HordeTest) error {
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ht.Namespace, Name: name} }
	objs := []client.Object{&appsv1.Deployment{ObjectMeta: om(workerName(ht))}}
	what := []string{"the workers"}
	if !keepMaster(ht) {
		objs = append(objs,
			&appsv1.Deployment{ObjectMeta: om(masterName(ht))},
			&corev1.Service{ObjectMeta: om(masterName(ht))},
			&corev1.ConfigMap{ObjectMeta: om(scriptName(ht))})
		what = append(what, "the master", "its Service", "the script's ConfigMap")
		if ht.Spec.Auth == nil {
			objs = append(objs, &corev1.Secret{ObjectMeta: om(secretName(ht))})
			what = append(what, "the Secret")
		}
	}
	for _, o := range objs {
		if err := r.Client.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("clean-up: delete %T %s: %w", o, o.GetName(), err)
		}
	}
	if !ht.Status.CleanedUp {
		msg := "deleted " + strings.Join(what, ", ")
		if keepMaster(ht) {
			msg += fmt.Sprintf("; kept the master (cleanup: %s): kubectl port-forward svc/%s 8089", cleanupPolicy(ht), masterName(ht))
		}
		if s := ht.Status.Summary; s != nil && s.ConfigMap != "" {
			msg += "; the summary is in ConfigMap " + s.ConfigMap
		}
		r.Recorder.Event(ht, corev1.EventTypeNormal, "CleanedUp", msg)
	}
	ht.Status.CleanedUp = true
	return nil
}

func cleanupPolicy(ht *v1.HordeTest) v1.CleanupPolicy {
	if ht.Spec.Cleanup == "" {
		return v1.CleanupKeepOnFailure
	}
	return ht.Spec.Cleanup
}
