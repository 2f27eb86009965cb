// Package script turns a Starlark load-test script (*.star) into a
// scenario.Scenario: it resolves load() and csv() relative to the script,
// runs the top level once, freezes the module globals so that every virtual
// user shares them without copying, and wraps the script's task and hook
// functions as scenario.Funcs. At run time each virtual user gets its own
// Starlark thread and user object (u) whose HTTP calls are recorded as
// stats samples.
//
// It does not schedule users, wait between tasks or filter tags: the runner
// does that with the scenario this package builds.
package script

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
)

// Options are what a script may reach outside itself. Nothing here is read
// from the process directly: a caller decides what the script sees.
type Options struct {
	// Env looks up an environment variable for env(); nil means none are set.
	Env func(string) (string, bool)
	// Stdout receives print() output; nil discards it.
	Stdout io.Writer
	// HTTP makes the HTTP client of a user whose VU has none. May be nil
	// when the runner always sets VU.HTTP.
	HTTP *httpx.Factory
	// MaxLoadSteps bounds the Starlark steps the top level of the script
	// and its modules may take, so that a loop at the top level fails the
	// load instead of hanging it; 0 means DefaultMaxLoadSteps.
	MaxLoadSteps uint64
	// MaxShapeSteps bounds the Starlark steps of each call of the script's
	// shape(t), so that an endless loop there is an error the master
	// reports instead of a hang; 0 means DefaultMaxShapeSteps.
	MaxShapeSteps uint64
	// Share is this process's share of the rows of csv(path, split=True):
	// every Count-th row from Index. The zero value takes every row (the
	// master, or a standalone run).
	Share Share
}

// Share selects rows of a split data file: those whose index i has
// i % Count == Index. Each worker of a distributed test gets its own, so
// that no two workers use the same row (unique accounts, Locust #1506).
type Share struct{ Index, Count int }

// keep reports whether row i belongs to the share.
func (s Share) keep(i int) bool {
	if s.Count <= 1 {
		return true
	}
	return i%s.Count == s.Index%s.Count
}

// DefaultMaxLoadSteps is ample for building data at load time (about ten
// seconds of pure Starlark work) yet ends a runaway top-level loop.
const DefaultMaxLoadSteps = 1_000_000_000

// Load reads the script at path, with the modules it load()s and the data
// files it csv()s from the same directory, and compiles it into a
// scenario. The scenario's Files are keyed relative to the script's
// directory, the main script by its base name, ready for LoadFiles on a
// worker. Any failure is a *LoadError.
func Load(p string, o Options) (*scenario.Scenario, error) {
	dir, base := filepath.Split(p)
	src, err := os.ReadFile(p)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &LoadError{File: p, Msg: "cannot read script: " + msg, Err: err}
	}
	read := func(key string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
	}
	display := func(key string) string { return filepath.Join(dir, filepath.FromSlash(key)) }
	l := newLoader(o, read, display)
	l.files[base] = src
	return l.run(base)
}

// LoadFiles compiles a script from a bundle of files (path → content, as
// in Scenario.Files); main is the key of the script to run. Paths in
// load() and csv() resolve against the directory of the file that uses
// them. Any failure is a *LoadError.
func LoadFiles(files map[string][]byte, main string, o Options) (*scenario.Scenario, error) {
	bundle := make(map[string][]byte, len(files))
	for k, v := range files {
		bundle[path.Clean(k)] = v
	}
	main = path.Clean(main)
	if _, ok := bundle[main]; !ok {
		return nil, &LoadError{File: main, Msg: "cannot read script: no such file in the bundle"}
	}
	read := func(key string) ([]byte, error) {
		b, ok := bundle[key]
		if !ok {
			return nil, errors.New("no such file in the bundle")
		}
		return b, nil
	}
	l := newLoader(o, read, func(key string) string { return key })
	l.files[main] = bundle[main]
	return l.run(main)
}
