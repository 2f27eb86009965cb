package runstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrAmbiguous is returned (inside a *RefError) for an id prefix that
// several runs share.
var ErrAmbiguous = errors.New("runstore: ambiguous run reference")

// MinPrefix is the shortest id prefix a reference may use.
const MinPrefix = 4

// RefKind is the kind of a run reference.
type RefKind int

// The kinds of run reference.
const (
	RefID           RefKind = iota // an id or a unique id prefix
	RefLatest                      // "latest": the newest run
	RefLatestPassed                // "latest-passed": the newest passed run
)

// Ref is a parsed run reference, as --baseline or "horde runs show" take.
type Ref struct {
	Kind RefKind
	// ID is the id or id prefix (RefID), in lower case.
	ID string
}

// ParseRef reads a run reference: "latest", "latest-passed", a run id or
// an id prefix of at least MinPrefix hex digits.
func ParseRef(s string) (Ref, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "latest":
		return Ref{Kind: RefLatest}, nil
	case "latest-passed":
		return Ref{Kind: RefLatestPassed}, nil
	}
	if len(t) < MinPrefix || len(t) > 2*idBytes {
		return Ref{}, fmt.Errorf("runstore: run reference %q: want latest, latest-passed, or a run id (or its first %d+ characters)", s, MinPrefix)
	}
	for _, c := range []byte(t) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return Ref{}, fmt.Errorf("runstore: run reference %q: a run id is hex digits (0-9, a-f)", s)
		}
	}
	return Ref{Kind: RefID, ID: t}, nil
}

// RefError is returned when a reference names no run, or several: it
// lists candidates (the matching runs, or else the newest runs) so that
// the user can pick one. It matches ErrNotFound or ErrAmbiguous with
// errors.Is.
type RefError struct {
	Ref        string
	Ambiguous  bool
	Script     string // the script the reference was limited to, if any
	Candidates []Run
}

func (e *RefError) Error() string {
	var b strings.Builder
	scope := ""
	if e.Script != "" {
		scope = fmt.Sprintf(" of script %q", e.Script)
	}
	if e.Ambiguous {
		fmt.Fprintf(&b, "run reference %q matches %d runs%s; give more of the id:", e.Ref, len(e.Candidates), scope)
	} else {
		fmt.Fprintf(&b, "no run%s matches %q", scope, e.Ref)
		if len(e.Candidates) == 0 {
			b.WriteString("; the store holds none")
			return b.String()
		}
		b.WriteString("; the newest runs are:")
	}
	for _, r := range e.Candidates {
		fmt.Fprintf(&b, "\n  %s  %s  %-7s  %s", r.ID, r.Started.Format("2006-01-02 15:04:05Z"), r.Status, r.Script)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and errors.Is(err, ErrAmbiguous)
// work.
func (e *RefError) Is(target error) bool {
	if e.Ambiguous {
		return target == ErrAmbiguous
	}
	return target == ErrNotFound
}

// candidateCount is how many runs a RefError lists.
const candidateCount = 10

// Resolve returns the run that ref (see ParseRef) names; with script
// set, only runs of that script count. A reference that names no run or
// several returns a *RefError.
func (s *Store) Resolve(ctx context.Context, ref string, script string) (Run, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return Run{}, err
	}
	f := Filter{Script: script, Limit: candidateCount}
	if r.Kind == RefLatestPassed {
		f.Status = []Status{StatusPassed}
	}
	if r.Kind != RefID {
		runs, err := s.List(ctx, f)
		if err != nil {
			return Run{}, err
		}
		if len(runs) > 0 {
			return runs[0], nil
		}
		return Run{}, s.refError(ctx, ref, script)
	}
	runs, err := s.withPrefix(ctx, r.ID, script)
	if err != nil {
		return Run{}, err
	}
	switch {
	case len(runs) == 1:
		return runs[0], nil
	case len(runs) > 1:
		return Run{}, &RefError{Ref: ref, Ambiguous: true, Script: script, Candidates: runs}
	}
	return Run{}, s.refError(ctx, ref, script)
}

// withPrefix returns the runs (of script, if set) whose id starts with
// prefix, newest first, at most candidateCount.
func (s *Store) withPrefix(ctx context.Context, prefix, script string) ([]Run, error) {
	q := "SELECT " + runColumns + " FROM runs WHERE substr(id, 1, ?) = ?"
	args := []any{len(prefix), prefix}
	if script != "" {
		q += " AND script = ?"
		args = append(args, script)
	}
	q += " ORDER BY started_us DESC, id DESC LIMIT ?"
	args = append(args, candidateCount)
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("runstore: resolve %q: %w", prefix, err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("runstore: resolve %q: %w", prefix, err)
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// refError builds the RefError of a reference that matched nothing.
func (s *Store) refError(ctx context.Context, ref, script string) error {
	runs, err := s.List(ctx, Filter{Script: script, Limit: candidateCount})
	if err != nil {
		return err
	}
	return &RefError{Ref: ref, Script: script, Candidates: runs}
}
