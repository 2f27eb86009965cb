package script

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"go.starlark.net/starlark"
)

// csv implements csv(path, header=True, split=False): a data file next to
// the script, read at load time and shipped with it. With a header row it
// is a list of dicts keyed by the header; without, a list of lists. Values
// are strings. With split=True, each worker of a distributed test gets its
// own share of the data rows (see Share), so no row is used twice.
func (l *loader) csv(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	header, split := true, false
	if err := starlark.UnpackArgs("csv", args, kwargs, "path", &p, "header?", &header, "split?", &split); err != nil {
		return nil, err
	}
	if current(th) != nil || th.Local(localShape) != nil {
		return nil, fmt.Errorf("csv: data files are read at load time; call csv() at the top level of the script")
	}
	key, err := l.resolve(th, p)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	src, err := l.readFile(key)
	if err != nil {
		return nil, fmt.Errorf("csv: cannot read %s: %w", p, err)
	}
	rows, err := parseCSV(l.display(key), src)
	if err != nil {
		return nil, err
	}
	if split {
		rows = l.shareOf(rows, header)
	}
	if !header {
		out := make([]starlark.Value, len(rows))
		for i, r := range rows {
			out[i] = stringsList(r)
		}
		return starlark.NewList(out), nil
	}
	return csvDicts(l.display(key), rows)
}

// parseCSV reads every record; a malformed file is a LoadError at the
// file's own line and column.
func parseCSV(name string, src []byte) ([][]string, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) // a UTF-8 BOM from spreadsheet exports
	r := csv.NewReader(bytes.NewReader(src))
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &LoadError{File: name, Line: pe.Line, Col: max(pe.Column, 1), Msg: pe.Err.Error(), Err: err}
			}
			return nil, &LoadError{File: name, Msg: err.Error(), Err: err}
		}
		rows = append(rows, rec)
	}
}

// csvDicts turns rows under a header row into dicts.
func csvDicts(name string, rows [][]string) (starlark.Value, error) {
	if len(rows) == 0 {
		return nil, &LoadError{File: name, Msg: "empty file: want a header row (or csv(path, header=False))"}
	}
	head := rows[0]
	seen := make(map[string]bool, len(head))
	for i, h := range head {
		if h == "" || seen[h] {
			return nil, &LoadError{File: name, Line: 1, Col: i + 1, Msg: fmt.Sprintf("header %q is empty or repeated", h)}
		}
		seen[h] = true
	}
	out := make([]starlark.Value, 0, len(rows)-1)
	for _, r := range rows[1:] {
		d := starlark.NewDict(len(head))
		for i, h := range head {
			_ = d.SetKey(starlark.String(h), starlark.String(r[i])) // a fresh dict cannot fail
		}
		out = append(out, d)
	}
	return starlark.NewList(out), nil
}

func stringsList(r []string) *starlark.List {
	vs := make([]starlark.Value, len(r))
	for i, s := range r {
		vs[i] = starlark.String(s)
	}
	return starlark.NewList(vs)
}

// shareOf keeps the data rows of this process's share (and the header).
func (l *loader) shareOf(rows [][]string, header bool) [][]string {
	var out [][]string
	data := rows
	if header && len(rows) > 0 {
		out, data = append(out, rows[0]), rows[1:]
	}
	for i, r := range data {
		if l.share.keep(i) {
			out = append(out, r)
		}
	}
	return out
}
