# horde — build, test, demo. See README.md.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/horde-load/horde/internal/cli.Version=$(VERSION)
FUZZTIME ?= 10s
DEMO_ADDR ?= 127.0.0.1:8080

.PHONY: all build test vet race fuzz fuzz-long bench demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/horde ./cmd/horde

## test: what CI runs — vet, the race-enabled test suite, every fuzz target briefly, benchmarks once.
test: vet race fuzz bench-smoke

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 -timeout 20m ./...

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## fuzz-long: fuzz every target for 5 minutes (not part of make test).
fuzz-long:
	FUZZTIME=5m scripts/fuzz.sh

bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## demo: the tutorial's scenario against the sample app, with the live view.
demo: build
	@scripts/demo.sh $(DEMO_ADDR)

clean:
	rm -rf bin
