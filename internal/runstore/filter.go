package runstore

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
)

// SortKey is what List sorts by.
type SortKey string

// The keys List sorts by.
const (
	SortStarted  SortKey = "started" // the default
	SortRequests SortKey = "requests"
	SortFailures SortKey = "failures"
	SortRPS      SortKey = "rps"
	SortP95      SortKey = "p95_ms"
	SortDuration SortKey = "duration"
)

var sortColumns = map[SortKey]string{
	SortStarted: "started_us", SortRequests: "requests", SortFailures: "failures",
	SortRPS: "rps", SortP95: "p95_ms", SortDuration: "duration_s",
}

// ParseSortKey reads a sort key as a user types it ("" is SortStarted).
func ParseSortKey(s string) (SortKey, error) {
	k := SortKey(strings.ToLower(strings.TrimSpace(s)))
	if k == "" {
		return SortStarted, nil
	}
	if k == "p95" {
		return SortP95, nil
	}
	if _, ok := sortColumns[k]; !ok {
		keys := make([]string, 0, len(sortColumns))
		for k := range sortColumns {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		return "", fmt.Errorf("runstore: unknown sort key %q (want one of %s)", s, strings.Join(keys, ", "))
	}
	return k, nil
}

// Filter selects and orders runs for List and Count. The zero value lists
// every run, newest first.
type Filter struct {
	// Script keeps the runs of this script name.
	Script string
	// Labels keeps the runs that have every one of these key=value labels.
	Labels map[string]string
	// Status keeps the runs with one of these statuses.
	Status []Status
	// Since and Until keep the runs started in [Since, Until); a zero
	// time leaves that side open.
	Since, Until time.Time
	// Sort is the order (SortStarted when empty), newest or largest first
	// unless Ascending. Ties are broken by start, then id.
	Sort      SortKey
	Ascending bool
	// Limit caps the number of runs (0: no cap) after skipping Offset.
	Limit, Offset int
}

// where returns the WHERE clause of f, with ? placeholders, and its args.
func (f Filter) where() (string, []any, error) {
	var conds []string
	var args []any
	if f.Script != "" {
		conds = append(conds, "script = ?")
		args = append(args, f.Script)
	}
	keys := make([]string, 0, len(f.Labels))
	for k := range f.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		conds = append(conds, "EXISTS (SELECT 1 FROM run_labels l WHERE l.run_id = runs.id AND l.key = ? AND l.value = ?)")
		args = append(args, k, f.Labels[k])
	}
	if len(f.Status) > 0 {
		for _, st := range f.Status {
			if !st.Valid() {
				return "", nil, fmt.Errorf("runstore: unknown status %q (want running, passed, failed or aborted)", st)
			}
			args = append(args, string(st))
		}
		conds = append(conds, "status IN (?"+strings.Repeat(", ?", len(f.Status)-1)+")")
	}
	if !f.Since.IsZero() {
		conds = append(conds, "started_us >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		conds = append(conds, "started_us < ?")
		args = append(args, f.Until.UnixMicro())
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func (f Filter) orderBy() (string, error) {
	k, err := ParseSortKey(string(f.Sort))
	if err != nil {
		return "", err
	}
	dir := " DESC"
	if f.Ascending {
		dir = " ASC"
	}
	return " ORDER BY " + sortColumns[k] + dir + ", started_us" + dir + ", id" + dir, nil
}

// ParseLabel reads a --tag label, "key=value". The key is not empty and
// has no space or '='; the value may be empty and hold anything but a
// NUL byte.
func ParseLabel(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("runstore: label %q: want key=value", s)
	}
	if err := checkLabelKey(key); err != nil {
		return "", "", err
	}
	if strings.ContainsRune(value, 0) {
		return "", "", fmt.Errorf("runstore: label %q: the value holds a NUL byte", s)
	}
	return key, value, nil
}

// checkLabelKey checks a label key (see ParseLabel).
func checkLabelKey(k string) error {
	if k == "" {
		return fmt.Errorf("runstore: a label needs a key (key=value)")
	}
	for _, r := range k {
		if r == '=' || r == 0 || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("runstore: label key %q: no spaces, '=' or control characters", k)
		}
	}
	return nil
}
