package script

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/horde-load/horde/internal/scenario"
)

// assignPos finds the last top-level `name = ...` of the main file, so that
// errors about users and options point at it.
func assignPos(f *syntax.File, name string) syntax.Position {
	var pos syntax.Position
	for _, s := range f.Stmts {
		if a, ok := s.(*syntax.AssignStmt); ok {
			if id, ok := a.LHS.(*syntax.Ident); ok && id.Name == name {
				pos, _ = a.Span()
			}
		}
	}
	return pos
}

// loadedName finds a load() statement of the main file that binds name.
func loadedName(f *syntax.File, name string) syntax.Position {
	for _, s := range f.Stmts {
		if ls, ok := s.(*syntax.LoadStmt); ok {
			for _, id := range ls.To {
				if id.Name == name {
					return ls.Load
				}
			}
		}
	}
	return syntax.Position{}
}

// extractUsers reads the `users` global: a list of user(...) or one.
func (l *loader) extractUsers(mainKey string, f *syntax.File, g starlark.StringDict) ([]*scenario.UserClass, error) {
	file := l.display(mainKey)
	v, ok := g["users"]
	if !ok {
		if pos := loadedName(f, "users"); pos.IsValid() {
			return nil, loadErrorAt(pos, `a loaded "users" is local to this file: load it under another name and assign it, e.g. load("lib.star", lib_users="users") then users = lib_users`, nil)
		}
		return nil, &LoadError{File: file, Msg: noUsersHint(g)}
	}
	pos := assignPos(f, "users")
	fail := func(p syntax.Position, format string, args ...any) error {
		le := loadErrorAt(p, fmt.Sprintf(format, args...), nil)
		if le.File == "" {
			le.File = file
		}
		return le
	}
	var list []starlark.Value
	switch v := v.(type) {
	case *userValue:
		list = []starlark.Value{v}
	case *starlark.List, starlark.Tuple:
		it := v.(starlark.Indexable)
		for i := 0; i < it.Len(); i++ {
			list = append(list, it.Index(i))
		}
	default:
		return nil, fail(pos, "users must be a list of user(...), got %s", v.Type())
	}
	if len(list) == 0 {
		return nil, fail(pos, "users is empty: add at least one user(...)")
	}
	seen := map[string]bool{}
	out := make([]*scenario.UserClass, 0, len(list))
	for i, e := range list {
		uv, ok := e.(*userValue)
		if !ok {
			return nil, fail(pos, "users[%d] must be a user(...), got %s", i, e.Type())
		}
		if seen[uv.uc.Name] {
			return nil, fail(uv.pos, "two users are named %q; user names must be unique", uv.uc.Name)
		}
		seen[uv.uc.Name] = true
		uv.Freeze()
		out = append(out, uv.uc)
	}
	return out, nil
}

// noUsersHint explains a script without `users`.
func noUsersHint(g starlark.StringDict) string {
	var fns []string
	for _, name := range g.Keys() {
		if _, ok := g[name].(*starlark.Function); ok {
			fns = append(fns, name)
		}
	}
	if len(fns) == 0 {
		return `the script defines no users: add users = [user(name="Web", tasks=[...])]`
	}
	return fmt.Sprintf("the script defines functions (%s) but no users: add users = [user(name=%q, tasks=[%s])]",
		strings.Join(fns, ", "), "Web", fns[0])
}

// optionKind says how an option value becomes a flag string.
type optionKind int

const (
	optInt      optionKind = iota // a count
	optNumber                     // a rate
	optDuration                   // "1m30s", or a number of seconds
	optString
	optList  // a string or a list of strings, comma-joined
	optHTTP2 // True, False or "strict"
)

// optionFlag maps an options key (underscores or dashes) to its flag.
func optionFlag(key string) (flag string, kind optionKind, ok bool) {
	switch strings.ReplaceAll(key, "-", "_") {
	case "users":
		return "users", optInt, true
	case "spawn_rate":
		return "spawn-rate", optNumber, true
	case "run_time":
		return "run-time", optDuration, true
	case "host":
		return "host", optString, true
	case "rate":
		return "rate", optNumber, true
	case "stop_timeout":
		return "stop-timeout", optDuration, true
	case "tags":
		return "tags", optList, true
	case "exclude_tags":
		return "exclude-tags", optList, true
	case "http2":
		return "http2", optHTTP2, true
	}
	return "", 0, false
}

const knownOptions = "users, spawn_rate, run_time, host, rate, stop_timeout, tags, exclude_tags, http2"

// extractOptions reads the optional `options` dict.
func (l *loader) extractOptions(th *starlark.Thread, mainKey string, f *syntax.File, g starlark.StringDict) (map[string]string, error) {
	out := map[string]string{}
	v, ok := g["options"]
	if !ok || v == starlark.None {
		return out, nil
	}
	pos := assignPos(f, "options")
	fail := func(err error) error {
		le := loadErrorAt(pos, err.Error(), err)
		if le.File == "" {
			le.File = l.display(mainKey)
		}
		return le
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fail(fmt.Errorf("options must be a dict, got %s", v.Type()))
	}
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, fail(fmt.Errorf("options keys must be strings, got %s", kv[0].Type()))
		}
		flag, kind, ok := optionFlag(k)
		if k == "stages" || k == "thresholds" {
			return nil, fail(fmt.Errorf("%q is not an option: write %s = [...] at the top level of the script", k, k))
		}
		if !ok {
			return nil, fail(fmt.Errorf("unknown option %q; known options are %s", k, knownOptions))
		}
		if _, dup := out[flag]; dup {
			return nil, fail(fmt.Errorf("option %q is given twice", flag))
		}
		if kv[1] == starlark.None {
			continue
		}
		s, err := l.optionValue(th, kind, kv[1])
		if err != nil {
			return nil, fail(fmt.Errorf("options[%q]: %w", k, err))
		}
		out[flag] = s
	}
	return out, nil
}
