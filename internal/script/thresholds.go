package script

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/horde-load/horde/internal/scenario"
)

// thresholdValue is what threshold(...) returns. It is immutable. The
// expression is checked by whoever evaluates it (package threshold), not
// here: the script only carries it.
type thresholdValue struct {
	spec scenario.ThresholdSpec
}

func (t *thresholdValue) String() string {
	return fmt.Sprintf("threshold(%q, abort_on_fail=%s)", t.spec.Expr, starlark.Bool(t.spec.AbortOnFail))
}
func (t *thresholdValue) Type() string          { return "threshold" }
func (t *thresholdValue) Truth() starlark.Bool  { return true }
func (t *thresholdValue) Freeze()               {}
func (t *thresholdValue) Hash() (uint32, error) { return starlark.String(t.String()).Hash() }

// threshold implements threshold(expr, abort_on_fail=False).
func threshold(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var expr string
	var abort bool
	if err := starlark.UnpackArgs("threshold", args, kwargs, "expr", &expr, "abort_on_fail?", &abort); err != nil {
		return nil, err
	}
	if strings.TrimSpace(expr) == "" {
		return nil, fmt.Errorf(`threshold: expr must not be empty, e.g. "p95<300ms"`)
	}
	return &thresholdValue{spec: scenario.ThresholdSpec{Expr: expr, AbortOnFail: abort}}, nil
}

// extractThresholds reads the optional `thresholds` global: a list of
// expressions and threshold(...) values.
func (l *loader) extractThresholds(mainKey string, f *syntax.File, g starlark.StringDict) ([]scenario.ThresholdSpec, error) {
	v, ok := g["thresholds"]
	if !ok || v == starlark.None {
		return nil, l.loadedHere(f, "thresholds")
	}
	pos := assignPos(f, "thresholds")
	var it starlark.Indexable
	switch v := v.(type) {
	case *starlark.List:
		it = v
	case starlark.Tuple:
		it = v
	default:
		return nil, l.failAt(mainKey, pos, fmt.Errorf(`thresholds must be a list of expressions ("p95<300ms") or threshold(...), got %s`, v.Type()))
	}
	out := make([]scenario.ThresholdSpec, 0, it.Len())
	for i := 0; i < it.Len(); i++ {
		switch e := it.Index(i).(type) {
		case *thresholdValue:
			out = append(out, e.spec)
		case starlark.String:
			if strings.TrimSpace(string(e)) == "" {
				return nil, l.failAt(mainKey, pos, fmt.Errorf("thresholds[%d] is an empty expression", i))
			}
			out = append(out, scenario.ThresholdSpec{Expr: string(e)})
		default:
			return nil, l.failAt(mainKey, pos, fmt.Errorf(`thresholds[%d] must be an expression ("p95<300ms") or threshold(...), got %s`, i, e.Type()))
		}
	}
	return out, nil
}
