package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// parseConfig reads a config file in the style of locust.conf: one
// "key = value" per line, keys being long flag names ("spawn-rate", or
// "spawn_rate"), "#" or ";" starting a comment line, an optional [section]
// header ignored, values optionally quoted. A key given twice keeps both
// values in order (for repeatable flags such as threshold).
func parseConfig(r io.Reader, name string) (map[string][]string, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == ';' || (s[0] == '[' && s[len(s)-1] == ']') {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"key = value\", got %q", name, line, s)
		}
		k = normalizeKey(k)
		if k == "" {
			return nil, fmt.Errorf("%s:%d: missing key before \"=\"", name, line)
		}
		out[k] = append(out[k], unquote(strings.TrimSpace(v)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func normalizeKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	k = strings.TrimLeft(k, "-")
	return strings.ReplaceAll(k, "_", "-")
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// envName is the environment variable for a flag: HORDE_SPAWN_RATE for
// --spawn-rate.
func envName(flag string) string {
	return "HORDE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
