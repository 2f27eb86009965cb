package script

import (
	"fmt"
	"math"
	"math/rand/v2"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// env implements env(name, default=None).
func (e *engine) env(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs("env", args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	if e.getenv != nil {
		if v, ok := e.getenv(name); ok {
			return starlark.String(v), nil
		}
	}
	return def, nil
}

// record implements record(name, ms, method="CUSTOM", error=None, bytes=0):
// a timing measured by the script itself, like Locust's request event.
func record(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var ms number
	method := "CUSTOM"
	var errV starlark.Value = starlark.None
	var size int64
	if err := starlark.UnpackArgs("record", args, kwargs, "name", &name, "ms", &ms,
		"method?", &method, "error?", &errV, "bytes?", &size); err != nil {
		return nil, err
	}
	st := current(th)
	if st == nil {
		return nil, fmt.Errorf("record: only a task or hook can record a timing")
	}
	if name == "" || method == "" {
		return nil, fmt.Errorf("record: name and method must not be empty")
	}
	if !(ms >= 0) || math.IsInf(float64(ms), 0) {
		return nil, fmt.Errorf("record: ms must be a number of milliseconds >= 0, got %v", float64(ms))
	}
	if size < 0 {
		return nil, fmt.Errorf("record: bytes must be >= 0, got %d", size)
	}
	s := stats.Sample{Key: stats.Key{Method: method, Name: name}, Latency: (ms / 1000).duration(), Bytes: size}
	if !isNone(errV) {
		s.Err = str(errV)
		if s.Err == "" {
			return nil, fmt.Errorf("record: error must be None or a non-empty reason")
		}
	}
	if st.vu.Rec != nil {
		st.vu.Rec.Record(s)
	}
	return starlark.None, nil
}

// stopUser implements stop_user(): the runner ends this user.
func stopUser(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs("stop_user", args, kwargs); err != nil {
		return nil, err
	}
	if current(th) == nil {
		return nil, fmt.Errorf("stop_user: only a task or hook can stop its user")
	}
	return nil, scenario.ErrStopUser
}

// newRandomModule is the `random` module. Its functions draw from the
// thread's source: the VU's generator inside a user, a seeded one at load.
func newRandomModule() *starlarkstruct.Module {
	b := func(name string, fn func(*rand.Rand, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin("random."+name, func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			r, _ := th.Local(localRand).(*rand.Rand)
			if r == nil {
				return nil, fmt.Errorf("random.%s: no random source in this thread", name)
			}
			return fn(r, args, kwargs)
		})
	}
	return &starlarkstruct.Module{Name: "random", Members: starlark.StringDict{
		"random":  b("random", randRandom),
		"randint": b("randint", randInt),
		"uniform": b("uniform", randUniform),
		"choice":  b("choice", randChoice),
		"shuffle": b("shuffle", randShuffle),

		"choices":       b("choices", randChoices),
		"sample":        b("sample", randSample),
		"expovariate":   b("expovariate", randExpovariate),
		"gauss":         b("gauss", randNormal("gauss")),
		"normalvariate": b("normalvariate", randNormal("normalvariate")),
		"triangular":    b("triangular", randTriangular),
		"randrange":     b("randrange", randRange),
		"getrandbits":   b("getrandbits", randGetrandbits),
	}}
}

func randRandom(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs("random.random", args, kwargs); err != nil {
		return nil, err
	}
	return starlark.Float(r.Float64()), nil
}

func randInt(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, b int64
	if err := starlark.UnpackArgs("random.randint", args, kwargs, "a", &a, "b", &b); err != nil {
		return nil, err
	}
	if b < a {
		return nil, fmt.Errorf("random.randint: empty range [%d, %d]", a, b)
	}
	span := uint64(b - a)
	if span == ^uint64(0) {
		return starlark.MakeInt64(int64(r.Uint64())), nil
	}
	return starlark.MakeInt64(a + int64(r.Uint64N(span+1))), nil
}

func randUniform(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, b number
	if err := starlark.UnpackArgs("random.uniform", args, kwargs, "a", &a, "b", &b); err != nil {
		return nil, err
	}
	return starlark.Float(float64(a) + float64(b-a)*r.Float64()), nil
}

func randChoice(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Indexable
	if err := starlark.UnpackArgs("random.choice", args, kwargs, "seq", &seq); err != nil {
		return nil, err
	}
	if seq.Len() == 0 {
		return nil, fmt.Errorf("random.choice: empty sequence")
	}
	return seq.Index(r.IntN(seq.Len())), nil
}

func randShuffle(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var l *starlark.List
	if err := starlark.UnpackArgs("random.shuffle", args, kwargs, "list", &l); err != nil {
		return nil, err
	}
	for i := l.Len() - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		a, b := l.Index(i), l.Index(j)
		if err := l.SetIndex(i, b); err != nil {
			return nil, fmt.Errorf("random.shuffle: %w", err)
		}
		if err := l.SetIndex(j, a); err != nil {
			return nil, fmt.Errorf("random.shuffle: %w", err)
		}
	}
	return starlark.None, nil
}
