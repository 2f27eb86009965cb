// Package v1alpha1 is the HordeTest API (group load.horde.dev, version
// v1alpha1): one load test as a Kubernetes resource — its script, its load
// and its workers in the spec; its live figures and its verdict in the
// status. The operator (package operator) acts on it; `horde kube` creates
// and reads it. It holds types only: no client, no controller.
//
// zz_generated.deepcopy.go and the CRD under deploy/operator/crd are
// generated from these types by scripts/operator-gen.sh (controller-gen);
// never edit them by hand.
//
// +kubebuilder:object:generate=true
// +groupName=load.horde.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API's group and version.
var GroupVersion = schema.GroupVersion{Group: "load.horde.dev", Version: "v1alpha1"}

// AddToScheme adds HordeTest and HordeTestList to s.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &HordeTest{}, &HordeTestList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
