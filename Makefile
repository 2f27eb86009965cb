# horde — build, test, demo. See README.md.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/horde-load/horde/internal/cli.Version=$(VERSION)
FUZZTIME ?= 10s
DEMO_PORT ?= 8089

.PHONY: all help build test lint vet race fuzz fuzz-long bench demo clean ui ui-test image deploy-test kube-bins kube-e2e kube-cluster-up kube-cluster-down bench-compare bench-go bench-smoke bench-scale

all: build

## help: this list of the documented targets.
help:
	@awk '/^## [a-z0-9-]+:/ { sub(/^## /, ""); split($$0, a, ":"); sub(/^[^:]*: */, ""); printf "  %-14s %s\n", a[1], $$0; next } \
	     /^## / { sub(/^## /, ""); printf "  %-14s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## ui: build the web UI into internal/webui/dist (embedded by build; needs Node.js and npm).
ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

## ui-test: the UI's unit tests (vitest).
ui-test:
	cd ui && npm ci --no-audit --no-fund && npm test

## build: bin/horde, the web UI embedded.
build: ui
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/horde ./cmd/horde

## test: what CI runs — lint, the race-enabled test suite, every fuzz target briefly, benchmarks once,
## the UI's tests, the deploy files' tests, docs/kubernetes.md run on a real cluster.
test: lint race fuzz bench-smoke ui-test deploy-test kube-e2e

KUBE_BIN ?= $(CURDIR)/.cache/kube/bin

## deploy-test: render and check deploy/ (kustomize, Helm chart) — its own module in deploy/test; the
## manifests are applied to a real kube-apiserver when $(KUBE_BIN) holds one (make kube-bins).
deploy-test:
	cd deploy/test && $(GO) vet ./... && \
	  $(if $(wildcard $(KUBE_BIN)/kube-apiserver),KUBEBUILDER_ASSETS=$(KUBE_BIN)) $(GO) test -race -count=1 ./...

## kube-bins: build etcd and kube-apiserver for the Kubernetes API tests (about 6 min on a cold Go cache, then instant).
kube-bins:
	GO=$(GO) scripts/kube-bins.sh $(KUBE_BIN)

## kube-e2e: every command of docs/kubernetes.md on a real one-node cluster that scripts/kube-cluster.sh
## starts on this machine as root (containerd, kubelet...), taken down afterwards; skipped, saying why,
## where it cannot run. The first run builds the Kubernetes commands and images (~17 min), later runs reuse them.
kube-e2e:
	GO=$(GO) KUBE_BIN=$(KUBE_BIN) scripts/kube-e2e.sh

## kube-cluster-up: start the one-node test cluster (the last line is the KUBECONFIG to export).
kube-cluster-up:
	GO=$(GO) KUBE_BIN=$(KUBE_BIN) scripts/kube-cluster.sh up

## kube-cluster-down: remove it (processes, mounts, iptables chains, bridge, state).
kube-cluster-down:
	KUBE_BIN=$(KUBE_BIN) scripts/kube-cluster.sh down

## lint: gofmt, go vet, staticcheck and deadcode (test-only code in the program is an error).
lint:
	GO=$(GO) scripts/lint.sh

## vet: gofmt and go vet only (quick).
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## race: the Go test suite with the race detector (builds the UI first: the browser tests need it).
race: ui
	$(GO) test -race -count=1 -timeout 20m ./...

## fuzz: every fuzz target for $(FUZZTIME).
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## fuzz-long: fuzz every target for 5 minutes (not part of make test).
fuzz-long:
	FUZZTIME=5m scripts/fuzz.sh

## bench-smoke: every Go benchmark once (-benchtime=1x), as CI runs them in make test.
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=1 ./...

## bench-go: every Go benchmark (hot paths: recording a sample, a task call through Starlark,
## a request through the client, merging a worker delta) with allocations (-benchmem).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

BENCH_ARGS ?=
IDLE_ARGS ?=
PROTO_ARGS ?=

## bench: the performance benchmark in one command (bench/README.md): installs what is missing
## (nginx, wrk, python3-locust with apt; hey, vegeta with go install; k6 is measured only if on
## PATH), runs horde side by side with each peer against nginx pinned to CPU 1, generators on
## CPU 0 (bench/run.sh $(BENCH_ARGS), e.g. BENCH_ARGS='-d 5 -r 1'), then resident memory per mostly
## idle user at 100 and 10,000 users, horde and Locust (bench/idle.sh $(IDLE_ARGS)), then gRPC calls and
## WebSocket round trips against horde target beside ghz and plain client loops (bench/protocols.sh
## $(PROTO_ARGS)). About 5 min.
bench: build
	bench/install.sh
	bench/run.sh $(BENCH_ARGS)
	bench/idle.sh $(IDLE_ARGS)
	bench/protocols.sh $(PROTO_ARGS)

SCALE_ARGS ?=

## bench-scale: one master holding 1,000, 5,000 and 10,000 simulated workers (horde sim-workers, real
## connections on 127.0.0.1) × 100 endpoints reporting every second: the master's CPU and memory, how
## long a new target takes to reach every worker and the users to move after 10 % hang or die, the
## exactness of the split, the API's and the live stream's latency (bench/scale $(SCALE_ARGS), e.g.
## SCALE_ARGS='-workers 1000 -steady 10s'). About 12 min; figures in docs/performance.md.
bench-scale: build
	$(GO) run ./bench/scale -horde bin/horde $(SCALE_ARGS)

## bench-compare: alias of bench.
bench-compare: bench

## demo: the sample app, a master, two worker processes and the web UI running the tutorial's scenario.
demo: build
	bin/horde demo --web-port $(DEMO_PORT)

## image: the container image horde:$(VERSION) and horde:latest, with docker or podman; nothing is pulled (docs/docker.md).
image: build
	VERSION=$(VERSION) scripts/image.sh -b bin/horde

## clean: remove what build made: bin/ and the UI bundle (internal/webui/dist, its placeholder kept).
clean:
	rm -rf bin
	find internal/webui/dist -mindepth 1 ! -name .gitkeep -delete
