package deploytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sendFunc sends obj to the server into namespace ns, in a dry run or not:
// apiServer.create or apiServer.apply.
type sendFunc func(ctx context.Context, obj *unstructured.Unstructured, ns string, dryRun bool) error

// malformedCase is a rendered object broken in one way. create and apply
// classify the errors of the two ways of sending it (nil: accepted); field
// is what each error must name.
type malformedCase struct {
	name          string
	kind, object  string // the rendered object to break
	mutate        func(t *testing.T, o *unstructured.Unstructured)
	create, apply func(error) bool
	field         string
}

// malformedCases break the worker Deployment in the ways a hand edit
// breaks it, and the ServiceMonitor in ways its CRD's schema catches. The
// unchanged objects are the controls: they must be accepted, so that the
// rejections are the breaks' doing.
var malformedCases = []malformedCase{
	{name: "unchanged worker", kind: "Deployment", object: "horde-worker", mutate: func(*testing.T, *unstructured.Unstructured) {}},
	{name: "negative replicas", kind: "Deployment", object: "horde-worker",
		create: apierrors.IsInvalid, apply: apierrors.IsInvalid, field: "spec.replicas",
		mutate: func(t *testing.T, d *unstructured.Unstructured) { set(t, d, int64(-1), "spec", "replicas") }},
	{name: "selector does not match the template", kind: "Deployment", object: "horde-worker",
		create: apierrors.IsInvalid, apply: apierrors.IsInvalid, field: "spec.template.metadata.labels",
		mutate: func(t *testing.T, d *unstructured.Unstructured) {
			set(t, d, map[string]any{"app.kubernetes.io/component": "not-the-worker"}, "spec", "template", "metadata", "labels")
		}},
	// A create with fieldValidation=Strict is a BadRequest; an apply
	// rejects an unknown field whatever its fieldValidation, but as an
	// internal error (500, "field not declared in schema").
	{name: "unknown field", kind: "Deployment", object: "horde-worker",
		create: apierrors.IsBadRequest, apply: isStatus, field: "spec.replicaz",
		mutate: func(t *testing.T, d *unstructured.Unstructured) { set(t, d, int64(20), "spec", "replicaz") }},
	{name: "container without image", kind: "Deployment", object: "horde-worker",
		create: apierrors.IsInvalid, apply: apierrors.IsInvalid, field: "spec.template.spec.containers[0].image",
		mutate: func(t *testing.T, d *unstructured.Unstructured) {
			cs, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			if err != nil || len(cs) == 0 {
				t.Fatalf("containers: %v, %v", cs, err)
			}
			delete(cs[0].(map[string]any), "image")
			set(t, d, cs, "spec", "template", "spec", "containers")
		}},
	{name: "unchanged ServiceMonitor", kind: "ServiceMonitor", object: "horde", mutate: func(*testing.T, *unstructured.Unstructured) {}},
	{name: "ServiceMonitor interval not a duration", kind: "ServiceMonitor", object: "horde",
		create: apierrors.IsInvalid, apply: apierrors.IsInvalid, field: "spec.endpoints[0].interval",
		mutate: func(t *testing.T, o *unstructured.Unstructured) {
			eps, _, err := unstructured.NestedSlice(o.Object, "spec", "endpoints")
			if err != nil || len(eps) == 0 {
				t.Fatalf("endpoints: %v, %v", eps, err)
			}
			eps[0].(map[string]any)["interval"] = "15 seconds"
			set(t, o, eps, "spec", "endpoints")
		}},
	{name: "ServiceMonitor without selector", kind: "ServiceMonitor", object: "horde",
		create: apierrors.IsInvalid, apply: apierrors.IsInvalid, field: "spec.selector",
		mutate: func(t *testing.T, o *unstructured.Unstructured) {
			unstructured.RemoveNestedField(o.Object, "spec", "selector")
		}},
}

// checkMalformedRejected sends each of malformedCases, made from objs,
// into ns four times: created with strict field validation and server-side
// applied, each in a dry run and for real. The server must reject every
// attempt, with the kind of error expected and naming the broken field,
// and store nothing; it must accept and store the controls.
func checkMalformedRejected(t *testing.T, s *apiServer, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	for i, tc := range malformedCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := findObject(t, objs, tc.kind, tc.object).DeepCopy()
			o.SetName(fmt.Sprintf("%s-%d", o.GetName(), i))
			tc.mutate(t, o)
			for _, a := range []struct {
				how  string
				send sendFunc
				is   func(error) bool
			}{{"create", s.create, tc.create}, {"apply", s.apply, tc.apply}} {
				for _, dryRun := range []bool{true, false} {
					how := a.how
					if dryRun {
						how += " --dry-run=server"
					}
					err := a.send(t.Context(), o, ns, dryRun)
					switch {
					case a.is == nil && err != nil:
						t.Errorf("%s: the unchanged object is rejected: %v", how, err)
					case a.is != nil && !a.is(err):
						t.Errorf("%s: error = %v, want a rejection of %s", how, err, tc.field)
					case a.is != nil && !names(err, tc.field):
						t.Errorf("%s: the error does not name %s: %v", how, tc.field, err)
					}
				}
			}
			_, err := s.get(t.Context(), o, ns)
			if tc.create == nil && err != nil {
				t.Errorf("the unchanged object was not stored: %v", err)
			}
			if tc.create != nil && !apierrors.IsNotFound(err) {
				t.Errorf("get after the rejections: %v, want NotFound (nothing stored)", err)
			}
		})
	}
}

// set sets a field of d, or fails.
func set(t *testing.T, d *unstructured.Unstructured, v any, fields ...string) {
	t.Helper()
	if err := unstructured.SetNestedField(d.Object, v, fields...); err != nil {
		t.Fatalf("set %s: %v", strings.Join(fields, "."), err)
	}
}

// isStatus reports whether err is an error status the server returned.
func isStatus(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}

// names reports whether the server's error blames field: one of an Invalid
// error's causes, or the message of another.
func names(err error, field string) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	if d := status.Status().Details; apierrors.IsInvalid(err) && d != nil {
		return slices.ContainsFunc(d.Causes, func(c metav1.StatusCause) bool { return c.Field == field })
	}
	return strings.Contains(status.Status().Message, field)
}
