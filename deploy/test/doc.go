// Package deploytest checks horde's deployment files: it renders every
// kustomize overlay under deploy/kubernetes and the Helm chart under
// deploy/helm/horde, decodes each object strictly into its Kubernetes API
// type, and asserts what an operator would check. With KUBEBUILDER_ASSETS
// naming the etcd and kube-apiserver that scripts/kube-bins.sh builds, it
// also applies every rendering to a real API server started by envtest
// (TestRenderedManifestsOnAPIServer); without them that test is skipped.
// With HORDE_KUBE_E2E_KUBECONFIG naming a real cluster's kubeconfig (make
// kube-e2e starts one), TestKubeE2E runs every command block of
// docs/kubernetes.md on it and checks what a user would see;
// TestKubernetesDocIsTheScript, which needs no cluster, checks that every
// command block of that page is run by it or says why it cannot be.
// It has no code of its own; it is a separate module so that horde's module
// does not carry the Kubernetes dependencies.
package deploytest
