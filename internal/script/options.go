package script

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// optionValue renders one options value as the string its flag would take.
func (l *loader) optionValue(th *starlark.Thread, kind optionKind, v starlark.Value) (string, error) {
	switch kind {
	case optInt:
		var n int
		if err := starlark.AsInt(v, &n); err != nil || n < 0 {
			return "", fmt.Errorf("want an int >= 0, got %s", v)
		}
		return strconv.Itoa(n), nil
	case optNumber:
		f, ok := starlark.AsFloat(v)
		if !ok || !(f >= 0) || math.IsInf(f, 0) {
			return "", fmt.Errorf("want a number >= 0, got %s", v)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case optDuration:
		if s, ok := starlark.AsString(v); ok {
			return s, nil
		}
		f, ok := starlark.AsFloat(v)
		if !ok || !(f >= 0) || math.IsInf(f, 0) {
			return "", fmt.Errorf(`want a duration such as "1m30s" or a number of seconds, got %s`, v)
		}
		return strconv.FormatFloat(f, 'g', -1, 64) + "s", nil
	case optString:
		s, ok := starlark.AsString(v)
		if !ok {
			return "", fmt.Errorf("want a string, got %s", v.Type())
		}
		return s, nil
	case optList:
		list, err := stringList("options", "value", v)
		if err != nil {
			return "", fmt.Errorf("want a string or a list of strings, got %s", v)
		}
		return strings.Join(list, ","), nil
	case optHTTP2:
		m, err := http2Arg("http2", v)
		if err != nil {
			return "", fmt.Errorf(`want True, False or "strict", got %s`, v)
		}
		return m.String(), nil
	default:
		return "", fmt.Errorf("option kind %d is unknown", kind)
	}
}
