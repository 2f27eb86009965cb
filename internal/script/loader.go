package script

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/starlib"
)

// fileOptions is the Starlark dialect of scripts: close to Python, so
// while loops, top-level if/for and re-assigned globals are allowed.
// Recursion is not: Starlark allows 100,000 frames (over 100 MB of stack),
// and a runaway recursion in every user would exhaust memory.
func fileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{
		Set:             true,
		While:           true,
		TopLevelControl: true,
		GlobalReassign:  true,
	}
}

// module is one loaded file: its frozen globals, or the error it failed with.
type module struct {
	globals starlark.StringDict
	err     error
	loading bool
}

// loader runs a script's top level once. It is used by one goroutine and
// dropped after Load; what users need at run time lives in the engine.
type loader struct {
	eng      *engine
	maxSteps uint64
	read     func(key string) ([]byte, error)
	display  func(key string) string
	files    map[string][]byte  // key → content: the bundle
	modules  map[string]*module // key → result
	keys     map[string]string  // display name → key
	stack    []string           // keys being loaded, for cycle errors
	predecl  starlark.StringDict
	opts     *syntax.FileOptions
	seq      uint32 // identity for task() values
	share    Share

	maxShapeSteps uint64 // bounds each call of shape(t); 0 means the default
}

func newLoader(o Options, read func(string) ([]byte, error), display func(string) string) *loader {
	l := &loader{
		eng:      newEngine(o),
		maxSteps: o.MaxLoadSteps,
		share:    o.Share,
		read:     read,
		display:  display,
		files:    map[string][]byte{},
		modules:  map[string]*module{},
		keys:     map[string]string{},
		opts:     fileOptions(),

		maxShapeSteps: o.MaxShapeSteps,
	}
	l.predecl = starlark.StringDict{
		"user":                starlark.NewBuiltin("user", l.user),
		"task":                starlark.NewBuiltin("task", l.task),
		"sequence":            starlark.NewBuiltin("sequence", l.sequence),
		"taskset":             starlark.NewBuiltin("taskset", l.taskset),
		"markov":              starlark.NewBuiltin("markov", l.markov),
		"between":             starlark.NewBuiltin("between", between),
		"constant":            starlark.NewBuiltin("constant", constant),
		"constant_pacing":     starlark.NewBuiltin("constant_pacing", constantPacing),
		"constant_throughput": starlark.NewBuiltin("constant_throughput", constantThroughput),
		"csv":                 starlark.NewBuiltin("csv", l.csv),
		"env":                 starlark.NewBuiltin("env", l.eng.env),
		"record":              starlark.NewBuiltin("record", record),
		"stop_user":           starlark.NewBuiltin("stop_user", stopUser),
		"stage":               starlark.NewBuiltin("stage", stage),
		"threshold":           starlark.NewBuiltin("threshold", threshold),
		"json":                json.Module,
		"time":                newTimeModule(),
		"math":                math.Module,
		"random":              newRandomModule(),
		"re":                  starlib.NewRe(),
		"uuid":                starlib.NewUUID(),
		"base64":              starlib.NewBase64(),
		"hashlib":             starlib.NewHashlib(),
		"hmac":                starlib.NewHmac(),
		"grpc":                l.grpcModule(),
	}
	return l
}

// run executes the main script and builds the scenario from its globals.
func (l *loader) run(mainKey string) (*scenario.Scenario, error) {
	th := &starlark.Thread{Name: "load", Load: l.load, Print: l.eng.printLoad}
	if l.maxSteps == 0 {
		l.maxSteps = DefaultMaxLoadSteps
	}
	th.SetMaxExecutionSteps(l.maxSteps)
	th.OnMaxSteps = func(th *starlark.Thread) {
		th.Cancel(fmt.Sprintf("the top level ran more than %d steps (an endless loop?)", l.maxSteps))
	}
	// A fixed seed keeps load-time random choices reproducible.
	th.SetLocal(localRand, rand.New(rand.NewPCG(1, 2)))
	l.modules[mainKey] = &module{loading: true}
	l.stack = append(l.stack, mainKey)
	f, g, err := l.exec(th, mainKey)
	if err != nil {
		return nil, toLoadError(l.display(mainKey), err)
	}
	if err := l.checkGRPC(f); err != nil {
		return nil, err
	}
	users, err := l.extractUsers(mainKey, f, g)
	if err != nil {
		return nil, err
	}
	opts, err := l.extractOptions(th, mainKey, f, g)
	if err != nil {
		return nil, err
	}
	shape, err := l.extractShape(mainKey, f, g, users)
	if err != nil {
		return nil, err
	}
	ths, err := l.extractThresholds(mainKey, f, g)
	if err != nil {
		return nil, err
	}
	return &scenario.Scenario{Users: users, Options: opts, Files: l.files, Shape: shape, Thresholds: ths}, nil
}

// exec compiles and runs one file and freezes its globals.
func (l *loader) exec(th *starlark.Thread, key string) (*syntax.File, starlark.StringDict, error) {
	src, err := l.readFile(key)
	if err != nil {
		return nil, nil, err
	}
	name := l.display(key)
	l.keys[name] = key
	f, prog, err := starlark.SourceProgramOptions(l.opts, name, src, l.predecl.Has)
	if err != nil {
		return nil, nil, pythonHint(toLoadError(name, err), name, src)
	}
	g, err := prog.Init(th, l.predecl)
	g.Freeze()
	if err != nil {
		return nil, nil, pythonHint(toLoadError(name, err), name, src)
	}
	return f, g, nil
}

// readFile returns a file of the bundle, reading it once.
func (l *loader) readFile(key string) ([]byte, error) {
	if b, ok := l.files[key]; ok {
		return b, nil
	}
	b, err := l.read(key)
	if err != nil {
		return nil, err
	}
	l.files[key] = b
	return b, nil
}

// load implements starlark.Thread.Load: modules resolve against the
// directory of the file that loads them; each runs once; cycles fail.
func (l *loader) load(th *starlark.Thread, name string) (starlark.StringDict, error) {
	key, err := l.resolve(th, name)
	if err != nil {
		return nil, err
	}
	if m, ok := l.modules[key]; ok {
		if m.loading {
			return nil, fmt.Errorf("load cycle: %s -> %s", strings.Join(l.stack, " -> "), key)
		}
		return m.globals, m.err
	}
	m := &module{loading: true}
	l.modules[key] = m
	l.stack = append(l.stack, key)
	_, m.globals, m.err = l.exec(th, key)
	l.stack = l.stack[:len(l.stack)-1]
	m.loading = false
	return m.globals, m.err
}

// resolve turns a path given to load() or csv() into a bundle key,
// relative to the file whose code is running.
func (l *loader) resolve(th *starlark.Thread, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty path")
	}
	if path.IsAbs(name) || strings.Contains(name, `\`) || (len(name) > 1 && name[1] == ':') {
		return "", fmt.Errorf("%q: use a path relative to the script, with / separators", name)
	}
	from := l.callerKey(th)
	return path.Clean(path.Join(path.Dir(from), name)), nil
}

// callerKey is the bundle key of the innermost script frame of th.
func (l *loader) callerKey(th *starlark.Thread) string {
	for i := 0; i < th.CallStackDepth(); i++ {
		if k, ok := l.keys[th.CallFrame(i).Pos.Filename()]; ok {
			return k
		}
	}
	return l.stack[0]
}
