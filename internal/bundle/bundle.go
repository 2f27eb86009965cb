// Package bundle is what a worker needs to run a test: the script and the
// files it loads (or the URL of URL mode), with the settings that go with
// them (host, timeouts, TLS, tags, seed). It builds the bundle from what
// the command line names, hashes it — so that a worker that rejoins knows
// whether it still runs the same test — converts it to and from the wire
// message, and loads it into a scenario through one Loader that the
// command line and the workers share.
//
// It does not ship bundles (package cluster and the master do) or run
// them (package runner does).
package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// Bundle is a test's script and settings, as every worker receives them.
type Bundle struct {
	// Files are the script and everything it loaded, keyed relative to
	// the script's directory; Main is the main script's key. Both are
	// empty in URL mode, where URL is the URL to GET.
	Files map[string][]byte
	Main  string
	URL   string

	Host           string // the default base URL
	StopTimeout    time.Duration
	RequestTimeout time.Duration
	Insecure       bool
	CAPEM          []byte // extra CA certificates to trust, PEM
	Tags           []string
	ExcludeTags    []string
	Seed           uint64
	// Iterations ends each user after this many tasks (0: never).
	Iterations int64
	// HTTP2 is the protocol of requests that choose none (--http2):
	// "" or "false" HTTP/1.1, "true" HTTP/2, "strict" HTTP/2 or a failure.
	HTTP2 string
}

// Hash identifies the bundle's content and settings: equal bundles need
// no reload.
func (b *Bundle) Hash() string {
	h := sha256.New()
	b.writeContent(h)
	fmt.Fprintf(h, "%q %d %d %v %x %q %q %d %d", b.Host, b.StopTimeout.Milliseconds(), b.RequestTimeout.Milliseconds(),
		b.Insecure, b.CAPEM, b.Tags, b.ExcludeTags, b.Seed, b.Iterations)
	if b.HTTP2 != "" {
		fmt.Fprintf(h, " http2=%q", b.HTTP2) // bundles without it keep their hash
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// ContentHash identifies the script itself — its files, or the URL —
// whatever the settings: runs of the same script have the same one.
func (b *Bundle) ContentHash() string { return b.contentKey()[:24] }

// contentKey identifies what loading depends on: the files and the URL.
func (b *Bundle) contentKey() string {
	h := sha256.New()
	b.writeContent(h)
	return hex.EncodeToString(h.Sum(nil))
}

func (b *Bundle) writeContent(h hash.Hash) {
	names := make([]string, 0, len(b.Files))
	for n := range b.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "%q %d\n", n, len(b.Files[n]))
		h.Write(b.Files[n])
	}
	fmt.Fprintf(h, "%q %q ", b.Main, b.URL)
}

// PB is the bundle as the master sends it, with its hash.
func (b *Bundle) PB() *pb.Bundle {
	return &pb.Bundle{
		Files: b.Files, Main: b.Main, Url: b.URL, Host: b.Host,
		StopTimeoutMs: b.StopTimeout.Milliseconds(), RequestTimeoutMs: b.RequestTimeout.Milliseconds(),
		Insecure: b.Insecure, CaPem: b.CAPEM, Tags: b.Tags, ExcludeTags: b.ExcludeTags, Seed: b.Seed,
		Iterations: b.Iterations, Http2: b.HTTP2, Hash: b.Hash(),
	}
}

// FromPB is the bundle a worker received.
func FromPB(p *pb.Bundle) *Bundle {
	return &Bundle{
		Files: p.GetFiles(), Main: p.GetMain(), URL: p.GetUrl(), Host: p.GetHost(),
		StopTimeout:    time.Duration(p.GetStopTimeoutMs()) * time.Millisecond,
		RequestTimeout: time.Duration(p.GetRequestTimeoutMs()) * time.Millisecond,
		Insecure:       p.GetInsecure(), CAPEM: p.GetCaPem(), Tags: p.GetTags(), ExcludeTags: p.GetExcludeTags(), Seed: p.GetSeed(),
		Iterations: p.GetIterations(), HTTP2: p.GetHttp2(),
	}
}

// Name is how runs of the bundle's script are named in the run history:
// the main script's file name, or the URL.
func (b *Bundle) Name() string {
	if b.Main == "" {
		return b.URL
	}
	return b.Main
}
