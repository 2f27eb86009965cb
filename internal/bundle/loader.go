package bundle

import (
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/script"
)

// Loader turns bundles into scenarios. It keeps the last scenario it
// loaded, so that a standalone run — the command line and its in-process
// worker share one Loader — runs the script's top level once, as a
// locustfile is imported once per process. A scenario is immutable once
// loaded, so sharing it is safe.
type Loader struct {
	// Env looks up the variables a script's env() sees; nil: none.
	Env func(string) (string, bool)
	// Stdout receives the script's print() output; nil discards it.
	Stdout io.Writer

	mu   sync.Mutex
	last struct {
		key   string
		share script.Share
		sc    *scenario.Scenario
	}
}

// IsURL reports whether arg names a URL to GET rather than a script.
func IsURL(arg string) bool {
	return strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://")
}

// Open builds the bundle of a script file, or of a URL (see IsURL), and
// loads its scenario, taking every row of split data files. Script
// errors are *script.LoadError values with file:line:col.
func (l *Loader) Open(arg string) (*Bundle, *scenario.Scenario, error) {
	if IsURL(arg) {
		b := &Bundle{URL: arg}
		sc, err := scenario.URL(arg)
		return b, sc, err
	}
	sc, err := script.Load(arg, l.options(script.Share{}))
	if err != nil {
		return nil, nil, err
	}
	b := &Bundle{Files: sc.Files, Main: filepath.Base(arg)}
	l.keep(b.contentKey(), script.Share{}, sc)
	return b, sc, nil
}

// Load returns the scenario of b with share's rows of split data files:
// the one loaded last when b's files and the share are the same.
func (l *Loader) Load(b *Bundle, share script.Share) (*scenario.Scenario, error) {
	if b.Main == "" {
		return scenario.URL(b.URL)
	}
	key := b.contentKey()
	share = normal(share)
	l.mu.Lock()
	if l.last.sc != nil && l.last.key == key && l.last.share == share {
		sc := l.last.sc
		l.mu.Unlock()
		return sc, nil
	}
	l.mu.Unlock()
	sc, err := script.LoadFiles(b.Files, b.Main, l.options(share))
	if err != nil {
		return nil, err
	}
	l.keep(key, share, sc)
	return sc, nil
}

func (l *Loader) keep(key string, share script.Share, sc *scenario.Scenario) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last.key, l.last.share, l.last.sc = key, normal(share), sc
}

func (l *Loader) options(share script.Share) script.Options {
	out := l.Stdout
	if out == nil {
		out = io.Discard
	}
	return script.Options{Env: l.Env, Stdout: out, Share: share}
}

// normal makes the shares that take every row equal.
func normal(s script.Share) script.Share {
	if s.Count <= 1 {
		return script.Share{Index: 0, Count: 1}
	}
	return s
}
