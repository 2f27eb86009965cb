package script

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/horde-load/horde/internal/scenario"
)

// localShape marks the thread of a shape(t) call: it runs on the master
// after the load, so load-time builtins such as csv() refuse to run there.
const localShape = "horde.shape"

// DefaultMaxShapeSteps bounds one call of a script's shape(t): about a
// tenth of a second of pure Starlark work, ample for arithmetic on t, and
// an endless loop fails the call instead of freezing the master.
const DefaultMaxShapeSteps = 10_000_000

// shapeFunc is a scenario.Shape that asks the script's shape(t). The
// master calls it once a second; the mutex keeps calls one at a time
// anyway, since a Starlark thread and the random source are not shared.
type shapeFunc struct {
	fn       *starlark.Function
	withCtx  bool // def shape(t, s): s is the shape's context (shapeCtx)
	maxSteps uint64
	eng      *engine
	classes  []string // the script's user classes, by name

	mu     sync.Mutex
	rand   *rand.Rand
	last   string         // Describe's words for the last call
	state  *starlark.Dict // s.state: kept from one call to the next
	offset time.Duration  // s.reset_time() makes t start again from here
}

var _ scenario.Shape = (*shapeFunc)(nil)

// extractShape reads the optional `shape` function, and `stages`; a script
// may set one of them.
func (l *loader) extractShape(mainKey string, f *syntax.File, g starlark.StringDict, users []*scenario.UserClass) (scenario.Shape, error) {
	stages, err := l.extractStages(mainKey, f, g)
	if err != nil {
		return nil, err
	}
	v, ok := g["shape"]
	if !ok || v == starlark.None {
		if err := l.loadedHere(f, "shape"); err != nil {
			return nil, err
		}
		return stages, nil
	}
	fn, ok := v.(*starlark.Function)
	pos := assignPos(f, "shape")
	if ok {
		pos = fn.Position()
	}
	switch {
	case !ok:
		return nil, l.failAt(mainKey, pos, fmt.Errorf("shape must be a function def shape(t), got %s", v.Type()))
	case !takesOneArg(fn) && !takesTwoArgs(fn):
		return nil, l.failAt(mainKey, pos, fmt.Errorf("shape must take the seconds since the test started, and optionally its context: def shape(t) or def shape(t, s)"))
	case stages != nil:
		return nil, l.failAt(mainKey, pos, fmt.Errorf("the script sets both stages and shape(t): keep one of them"))
	}
	maxSteps := l.maxShapeSteps
	if maxSteps == 0 {
		maxSteps = DefaultMaxShapeSteps
	}
	sf := &shapeFunc{fn: fn, withCtx: !takesOneArg(fn), maxSteps: maxSteps, eng: l.eng, rand: rand.New(rand.NewPCG(3, 4)),
		last: "shape(t)", state: new(starlark.Dict)}
	for _, c := range users {
		sf.classes = append(sf.classes, c.Name)
	}
	return sf, nil
}

// At implements scenario.Shape: it calls shape(t) on a thread of its own
// with t in seconds.
func (s *shapeFunc) At(t time.Duration, users int) (scenario.LoadTarget, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secs := max(t-s.offset, 0).Seconds()
	th := &starlark.Thread{Name: "shape", Print: s.print}
	th.SetLocal(localShape, true)
	th.SetLocal(localRand, s.rand)
	th.SetMaxExecutionSteps(s.maxSteps)
	th.OnMaxSteps = func(th *starlark.Thread) {
		th.Cancel(fmt.Sprintf("shape(t) ran more than %d steps (an endless loop?)", s.maxSteps))
	}
	args := starlark.Tuple{starlark.Float(secs)}
	var ctx *shapeCtx
	if s.withCtx {
		ctx = &shapeCtx{users: users, state: s.state, t: t, classes: s.classes}
		args = append(args, ctx)
	}
	v, err := starlark.Call(th, s.fn, args, nil)
	if ctx != nil && ctx.reset {
		s.offset = t
	}
	if err != nil {
		s.last = "shape(t): failed"
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			msg := fmt.Sprintf("%s: shape(t) failed at t=%s: %s", posString(scriptPos(ee.CallStack), s.fn.Position()), fmtSecs(secs), ee.Msg)
			return scenario.LoadTarget{}, false, &RuntimeError{Msg: msg, Trace: ee.Backtrace(), err: ee}
		}
		return scenario.LoadTarget{}, false, fmt.Errorf("%s: shape(t) failed at t=%s: %w", s.fn.Position(), fmtSecs(secs), err)
	}
	if v == starlark.None {
		s.last = "shape(t): over"
		return scenario.LoadTarget{}, false, nil
	}
	lt, err := loadTarget(v, s.classes)
	if err != nil {
		s.last = "shape(t): failed"
		return scenario.LoadTarget{}, false, fmt.Errorf("%s: shape(t) returned %s at t=%s: %w", s.fn.Position(), brief(v), fmtSecs(secs), err)
	}
	s.last = "shape(t): " + strconv.Itoa(lt.Users) + " users"
	if lt.Rate > 0 {
		s.last = fmt.Sprintf("shape(t): %g/s", lt.Rate)
	}
	if lt.Classes != nil {
		s.last += " of " + strings.Join(lt.Classes, ", ")
	}
	return lt, true, nil
}

// Describe implements scenario.Shape: the last target shape(t) returned.
func (s *shapeFunc) Describe(time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *shapeFunc) print(_ *starlark.Thread, msg string) {
	if s.eng.out != nil {
		s.eng.out.println("[shape] ", msg)
	}
}

// posString is p, or def when p is unknown.
func posString(p, def syntax.Position) string {
	if p.IsValid() {
		return p.String()
	}
	return def.String()
}

// brief is v as the script would print it, cut short for a log line.
func brief(v starlark.Value) string {
	const limit = 80
	s := v.String()
	if len(s) <= limit {
		return s
	}
	cut := 0
	for i := range s { // at a character boundary
		if i > limit {
			break
		}
		cut = i
	}
	return s[:cut] + "..."
}

func fmtSecs(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) + "s" }

// errShapeValue lists what shape(t) may return.
var errShapeValue = errors.New(`want None, users (an int), a tuple (users, spawn_rate) or (users, spawn_rate, user classes), ` +
	`or a dict with keys among "users", "spawn_rate", "rate", "ramp", "classes"`)

// loadTarget reads what shape(t) returned, other than None; known are the
// script's user classes.
func loadTarget(v starlark.Value, known []string) (scenario.LoadTarget, error) {
	var lt scenario.LoadTarget
	switch v := v.(type) {
	case starlark.Int, starlark.Float:
		return lt, shapeUsers(v, &lt.Users)
	case starlark.Tuple:
		if len(v) != 2 && len(v) != 3 {
			return lt, errShapeValue
		}
		if err := shapeUsers(v[0], &lt.Users); err != nil {
			return lt, err
		}
		if err := shapeRate("spawn_rate", v[1], &lt.SpawnRate); err != nil {
			return lt, err
		}
		if len(v) == 3 {
			var err error
			lt.Classes, err = shapeClasses(v[2], known)
			return lt, err
		}
		return lt, nil
	case *starlark.Dict:
		return dictTarget(v, known)
	}
	return lt, errShapeValue
}

// shapeClasses reads the user classes a shape names: a list of user()
// values or of their names, each a class of the script.
func shapeClasses(v starlark.Value, known []string) ([]string, error) {
	l, ok := v.(starlark.Indexable)
	if !ok || v.Type() == "string" {
		return nil, fmt.Errorf("user classes must be a list of user() values or names, got %s", v.Type())
	}
	names := make([]string, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		var name string
		switch c := l.Index(i).(type) {
		case *userValue:
			name = c.uc.Name
		case starlark.String:
			name = string(c)
		default:
			return nil, fmt.Errorf("user classes must be user() values or names, got %s", c.Type())
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("no user class %q in the script (it has: %s)", name, strings.Join(known, ", "))
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, errors.New("the list of user classes is empty: return 0 users instead")
	}
	return names, nil
}

// dictTarget reads {"users": n, "spawn_rate": r, "classes": [...]} (closed
// model) or {"rate": r, "ramp": d, "users": pool} (open model).
func dictTarget(d *starlark.Dict, known []string) (scenario.LoadTarget, error) {
	var lt scenario.LoadTarget
	has := map[string]bool{}
	for _, kv := range d.Items() {
		k, _ := starlark.AsString(kv[0])
		var err error
		switch k {
		case "users":
			err = shapeUsers(kv[1], &lt.Users)
		case "spawn_rate":
			err = shapeRate(k, kv[1], &lt.SpawnRate)
		case "rate":
			err = shapeRate(k, kv[1], &lt.Rate)
		case "ramp":
			lt.Ramp, err = durationArg("shape(t)", "ramp", kv[1])
		case "classes":
			lt.Classes, err = shapeClasses(kv[1], known)
		default:
			return lt, fmt.Errorf("unknown key %s: %w", kv[0], errShapeValue)
		}
		if err != nil {
			return lt, err
		}
		has[k] = true
	}
	switch {
	case !has["users"] && !has["rate"]:
		return lt, errors.New(`the dict sets neither "users" nor "rate"`)
	case has["ramp"] && !has["rate"]:
		return lt, errors.New(`"ramp" goes with "rate" (the open model); the closed model ramps with "spawn_rate"`)
	case has["spawn_rate"] && has["rate"]:
		return lt, errors.New(`"spawn_rate" goes with "users" alone (the closed model); the open model ramps with "ramp"`)
	}
	return lt, nil
}

func shapeUsers(v starlark.Value, n *int) error {
	if _, ok := v.(starlark.Int); !ok || starlark.AsInt(v, n) != nil || *n < 0 {
		return fmt.Errorf("users must be an int >= 0 (use int(...) on a float), got %s", v)
	}
	return nil
}

func shapeRate(name string, v starlark.Value, f *float64) error {
	x, ok := starlark.AsFloat(v)
	if !ok || !(x >= 0) || math.IsInf(x, 0) {
		return fmt.Errorf("%s must be a number >= 0, got %s", name, v)
	}
	*f = x
	return nil
}

// shapeCtx is the second argument of def shape(t, s), as Locust's
// LoadTestShape gives its tick(): s.users is the users running now
// (get_current_user_count()), s.state a dict kept from one call to the
// next, s.classes the script's user classes by name, s.reset_time()
// makes t start from 0 again at the next call.
type shapeCtx struct {
	users   int
	state   *starlark.Dict
	t       time.Duration
	classes []string
	reset   bool
}

var _ starlark.HasAttrs = (*shapeCtx)(nil)

func (c *shapeCtx) String() string        { return "<shape context>" }
func (c *shapeCtx) Type() string          { return "shape_context" }
func (c *shapeCtx) Freeze()               {}
func (c *shapeCtx) Truth() starlark.Bool  { return true }
func (c *shapeCtx) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: shape_context") }
func (c *shapeCtx) AttrNames() []string {
	return []string{"classes", "reset_time", "state", "users"}
}

func (c *shapeCtx) Attr(name string) (starlark.Value, error) {
	switch name {
	case "users":
		return starlark.MakeInt(c.users), nil
	case "state":
		return c.state, nil
	case "classes":
		l := make([]starlark.Value, len(c.classes))
		for i, n := range c.classes {
			l[i] = starlark.String(n)
		}
		return starlark.NewList(l), nil
	case "reset_time":
		return starlark.NewBuiltin("reset_time", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			c.reset = true
			return starlark.None, nil
		}), nil
	}
	return nil, nil
}

// takesTwoArgs reports whether fn can be called with two positional
// arguments.
func takesTwoArgs(fn *starlark.Function) bool {
	n := fn.NumParams() - fn.NumKwonlyParams()
	if fn.HasVarargs() {
		n--
	}
	if fn.HasKwargs() {
		n--
	}
	required := 0
	for i := 0; i < n; i++ {
		if fn.ParamDefault(i) == nil {
			required++
		}
	}
	return n >= 2 && required <= 2 || fn.HasVarargs() && required <= 2
}
