// The pause program of the test cluster's pod sandboxes
// (scripts/kube-images.sh): its own module, with no dependencies.
module github.com/horde-load/horde/tools/pause

go 1.24.0
