package operator

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// inlineName is the name an inline script has on the master (it shows in
// tracebacks).
const inlineName = "script.star"

// ensureScript returns the test's own script ConfigMap, made from the
// spec's script when it does not exist yet: the test runs what it was
// given when it started, whatever happens to the source afterwards.
func (r *Reconciler) ensureScript(ctx context.Context, ht *v1.HordeTest) (*corev1.ConfigMap, error) {
	var cm corev1.ConfigMap
	err := r.Reader.Get(ctx, key(ht, scriptName(ht)), &cm)
	if err == nil {
		return &cm, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	sf, err := r.scriptFiles(ctx, ht)
	if err != nil {
		return nil, err
	}
	want, err := newScriptConfigMap(ht, sf)
	if err != nil {
		return nil, err
	}
	if err := r.create(ctx, ht, want); err != nil {
		return nil, err
	}
	return want, nil
}

// scriptFiles reads the spec's script: inline, a bundle, or a ConfigMap
// of the test's namespace (every key a file beside the script).
func (r *Reconciler) scriptFiles(ctx context.Context, ht *v1.HordeTest) (scriptFiles, error) {
	s := ht.Spec.Script
	switch {
	case s.Inline != "":
		return scriptFiles{main: inlineName, files: map[string][]byte{inlineName: []byte(s.Inline)}}, nil
	case s.Bundle != nil:
		files := make(map[string][]byte, len(s.Bundle.Files))
		for k, v := range s.Bundle.Files {
			files[k] = []byte(v)
		}
		return scriptFiles{main: s.Bundle.Main, files: files}, nil
	case s.ConfigMap != nil:
		var cm corev1.ConfigMap
		err := r.Reader.Get(ctx, key(ht, s.ConfigMap.Name), &cm)
		if apierrors.IsNotFound(err) {
			return scriptFiles{}, &transientError{fmt.Sprintf("ConfigMap %s (spec.script.configMap) not found", s.ConfigMap.Name)}
		}
		if err != nil {
			return scriptFiles{}, err
		}
		main := s.ConfigMap.Key
		if main == "" {
			main = inlineName
		}
		files := map[string][]byte{}
		for k, v := range cm.Data {
			files[k] = []byte(v)
		}
		for k, v := range cm.BinaryData {
			files[k] = v
		}
		if _, ok := files[main]; !ok {
			return scriptFiles{}, specErr("ConfigMap %s has no key %s (spec.script.configMap.key)", cm.Name, main)
		}
		return scriptFiles{main: main, files: files}, nil
	}
	return scriptFiles{}, specErr("spec.script: give inline, configMap or bundle")
}
