package script

import (
	"fmt"
	"math"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/timespan"
)

// stageValue is what stage(...) returns: one step of a staged test. It
// is immutable.
type stageValue struct {
	st   scenario.Stage
	desc string
}

func (s *stageValue) String() string        { return s.desc }
func (s *stageValue) Type() string          { return "stage" }
func (s *stageValue) Truth() starlark.Bool  { return true }
func (s *stageValue) Freeze()               {}
func (s *stageValue) Hash() (uint32, error) { return starlark.String(s.desc).Hash() }

// stage implements stage(duration, users=None, rate=None).
func stage(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dur starlark.Value
	var users, rate starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs("stage", args, kwargs, "duration", &dur, "users?", &users, "rate?", &rate); err != nil {
		return nil, err
	}
	d, err := durationArg("stage", "duration", dur)
	if err != nil {
		return nil, err
	}
	if d <= 0 {
		return nil, fmt.Errorf("stage: duration must be > 0, got %s", dur)
	}
	st := scenario.Stage{Duration: d, Users: -1, Rate: -1}
	if !isNone(users) {
		if err := starlark.AsInt(users, &st.Users); err != nil || st.Users < 0 {
			return nil, fmt.Errorf("stage: users must be an int >= 0, got %s", users)
		}
	}
	if !isNone(rate) {
		f, ok := starlark.AsFloat(rate)
		if !ok || !(f >= 0) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("stage: rate must be a number of arrivals per second >= 0, got %s", rate)
		}
		st.Rate = f
	}
	if st.Users < 0 && st.Rate < 0 {
		return nil, fmt.Errorf("stage: give users= (closed model) or rate= (open model)")
	}
	desc := fmt.Sprintf("stage(%q", d.String())
	if st.Users >= 0 {
		desc += fmt.Sprintf(", users=%d", st.Users)
	}
	if st.Rate >= 0 {
		desc += fmt.Sprintf(", rate=%g", st.Rate)
	}
	return &stageValue{st: st, desc: desc + ")"}, nil
}

// durationArg reads a duration string ("1m30s", as the command line takes
// it) or a number of seconds >= 0.
func durationArg(fn, arg string, v starlark.Value) (time.Duration, error) {
	if s, ok := starlark.AsString(v); ok {
		d, err := timespan.Parse(s)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", fn, arg, err)
		}
		return d, nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok || !(f >= 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf(`%s: %s must be a duration such as "1m30s" or a number of seconds >= 0, got %s`, fn, arg, v)
	}
	return number(f).duration(), nil
}

// extractStages reads the optional `stages` global: a list of stage(...).
func (l *loader) extractStages(mainKey string, f *syntax.File, g starlark.StringDict) (scenario.Shape, error) {
	v, ok := g["stages"]
	if !ok || v == starlark.None {
		return nil, l.loadedHere(f, "stages")
	}
	pos := assignPos(f, "stages")
	var list []starlark.Value
	switch v := v.(type) {
	case *starlark.List, starlark.Tuple:
		it := v.(starlark.Indexable)
		for i := 0; i < it.Len(); i++ {
			list = append(list, it.Index(i))
		}
	default:
		return nil, l.failAt(mainKey, pos, fmt.Errorf("stages must be a list of stage(...), got %s", v.Type()))
	}
	if len(list) == 0 {
		return nil, l.failAt(mainKey, pos, fmt.Errorf("stages is empty: add at least one stage(...)"))
	}
	out := make([]scenario.Stage, 0, len(list))
	var total time.Duration
	for i, e := range list {
		sv, ok := e.(*stageValue)
		if !ok {
			return nil, l.failAt(mainKey, pos, fmt.Errorf("stages[%d] must be a stage(...), got %s", i, e.Type()))
		}
		if total+sv.st.Duration < total {
			return nil, l.failAt(mainKey, pos, fmt.Errorf("stages: the stages last too long (over %v)", time.Duration(math.MaxInt64)))
		}
		total += sv.st.Duration
		out = append(out, sv.st)
	}
	st, err := scenario.NewStages(out)
	if err != nil {
		return nil, l.failAt(mainKey, pos, err)
	}
	return st, nil
}

// failAt makes a LoadError at pos in the main file (the file alone when
// pos is unknown).
func (l *loader) failAt(mainKey string, pos syntax.Position, err error) *LoadError {
	le := loadErrorAt(pos, err.Error(), err)
	if le.File == "" {
		le.File = l.display(mainKey)
	}
	return le
}

// loadedHere explains a global that the main file only load()ed: loaded
// names are local to the file, so horde would silently not see it.
func (l *loader) loadedHere(f *syntax.File, name string) error {
	if pos := loadedName(f, name); pos.IsValid() {
		return loadErrorAt(pos, fmt.Sprintf(`a loaded %q is local to this file: load it under another name and assign it, e.g. load("lib.star", lib_%s=%q) then %s = lib_%s`,
			name, name, name, name, name), nil)
	}
	return nil
}
