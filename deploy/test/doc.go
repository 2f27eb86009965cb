// Package deploytest checks horde's deployment files: it renders every
// kustomize overlay under deploy/kubernetes and the Helm chart under
// deploy/helm/horde, decodes each object strictly into its Kubernetes API
// type, and asserts what an operator would check. It has no code of its
// own; it is a separate module so that horde's module does not carry the
// Kubernetes dependencies.
package deploytest
