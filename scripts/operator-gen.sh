#!/usr/bin/env bash
# operator-gen.sh — generates what the HordeTest API's Go types imply, with
# controller-gen (sigs.k8s.io/controller-tools, from the Go module proxy):
#
#   internal/operator/api/v1alpha1/zz_generated.deepcopy.go   DeepCopy methods
#   deploy/operator/crd/load.horde.dev_hordetests.yaml         the CRD: schema, CEL rules, printer columns
#   deploy/helm/horde/files/crd-hordetests.yaml                 the same CRD, for the chart's operator option
#
# Run it after changing internal/operator/api/v1alpha1/types.go and commit
# the result; never edit those two files by hand. The CRD is checked against
# a real kube-apiserver by internal/operator's tests and deploy/test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}
version=v0.18.0 # sigs.k8s.io/controller-tools, for Kubernetes 1.33 (k8s.io/* v0.33)
gen=(env GOFLAGS=-mod=mod "$go" run "sigs.k8s.io/controller-tools/cmd/controller-gen@$version")

"${gen[@]}" object paths=./internal/operator/api/...
# allowDangerousTypes: rates and figures are floats (spawnRate: 2.5).
"${gen[@]}" crd:allowDangerousTypes=true paths=./internal/operator/api/... output:crd:dir=deploy/operator/crd
cp deploy/operator/crd/load.horde.dev_hordetests.yaml deploy/helm/horde/files/crd-hordetests.yaml
echo "operator-gen: controller-gen $version wrote internal/operator/api/v1alpha1/zz_generated.deepcopy.go, deploy/operator/crd/ and the chart's copy"
