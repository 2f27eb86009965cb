package deploytest

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDecodeManifests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantKinds []string
		wantErr   string // a substring of the error; "" for none
	}{
		{name: "empty input"},
		{
			name:      "two documents in order",
			in:        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n",
			wantKinds: []string{"ConfigMap", "Service"},
		},
		{
			name:      "empty and comment-only documents are skipped",
			in:        "---\n# Source: horde/templates/a.yaml\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n",
			wantKinds: []string{"ConfigMap"},
		},
		{
			name:      "JSON document",
			in:        `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}`,
			wantKinds: []string{"Secret"},
		},
		{
			name:    "missing kind names the document",
			in:      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n",
			wantErr: "document 2: apiVersion and kind are required",
		},
		{name: "not a mapping", in: "- a\n- b\n", wantErr: "document 1"},
		{name: "malformed YAML", in: "kind: [ConfigMap\n", wantErr: "document 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs, err := decodeManifests([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("decodeManifests() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeManifests() error = %v", err)
			}
			var kinds []string
			for _, obj := range objs {
				kinds = append(kinds, obj.GetKind())
			}
			if !slices.Equal(kinds, tt.wantKinds) {
				t.Errorf("kinds = %q, want %q", kinds, tt.wantKinds)
			}
		})
	}
}

// The dynamic client deep-copies objects, which panics on any number that
// is not an int64 or float64: numbers must decode as such.
func TestDecodeManifestsNumbers(t *testing.T) {
	t.Parallel()
	objs, err := decodeManifests([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: 7}\n"))
	if err != nil || len(objs) != 1 {
		t.Fatalf("decodeManifests() = %d objects, %v; want 1, nil", len(objs), err)
	}
	got, found, err := unstructured.NestedInt64(objs[0].DeepCopy().Object, "spec", "replicas")
	if err != nil || !found || got != 7 {
		t.Errorf("spec.replicas = %d (found %v, err %v), want 7", got, found, err)
	}
}

func FuzzDecodeManifests(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\napiVersion: v1\nkind: Service\n"))
	f.Add([]byte(`{"apiVersion": "v1", "kind": "Secret", "data": {"a": 1.5, "b": [1, null, true]}}`))
	f.Add([]byte("---\n# comment\n---\n- a\n"))
	f.Add([]byte("apiVersion: v1\nkind: X\nspec: {n: 99999999999999999999, f: .inf, d: 2024-01-01}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := decodeManifests(data)
		if err != nil {
			return
		}
		for _, obj := range objs {
			if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
				t.Fatalf("object without apiVersion or kind: %v", obj.Object)
			}
			_ = obj.DeepCopy() // panics on a value the dynamic client cannot send
		}
	})
}
