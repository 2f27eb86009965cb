package cluster

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/horde-load/horde/internal/stats"
)

// needsFit reports whether d holds anything DeltaFromPB would refuse or
// protobuf could not marshal: the common case is no, checked without
// allocating.
func needsFit(d *stats.Delta) bool {
	if len(d.Endpoints) > MaxEndpoints || len(d.Errors) > MaxErrorGroups || len(d.Exceptions) > MaxExceptionGroups {
		return true
	}
	for k := range d.Endpoints {
		if !fitsKey(k) {
			return true
		}
	}
	for k := range d.Errors {
		if !fitsKey(k.Key) || !fits(k.Error, MaxErrorBytes) {
			return true
		}
	}
	for msg, g := range d.Exceptions {
		if !fits(msg, MaxErrorBytes) || !fits(g.Traceback, MaxTracebackBytes) {
			return true
		}
	}
	return false
}

func fits(s string, n int) bool { return len(s) <= n && utf8.ValidString(s) }

func fitsKey(k stats.Key) bool { return fits(k.Method, MaxNameBytes) && fits(k.Name, MaxNameBytes) }

// fitDelta returns a copy of d with its strings repaired and cut to the
// limits, rows that become equal merged, and rows beyond the limits
// counted in the overflow rows that package stats uses on the master.
// Counts are kept exactly.
func fitDelta(d *stats.Delta) *stats.Delta {
	out := stats.NewDelta()
	keys := make([]stats.Key, 0, len(d.Endpoints))
	for k := range d.Endpoints {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		c := fitKey(k)
		if _, ok := out.Endpoints[c]; !ok && len(out.Endpoints) >= MaxEndpoints-1 {
			c = stats.Key{Name: stats.OverflowName}
		}
		if e := out.Endpoints[c]; e != nil {
			e.Merge(d.Endpoints[k])
		} else {
			out.Endpoints[c] = d.Endpoints[k].Clone()
		}
	}
	for k, n := range d.Errors {
		c := stats.ErrorKey{Key: fitKey(k.Key), Error: truncate(k.Error, MaxErrorBytes)}
		if _, ok := out.Errors[c]; !ok && len(out.Errors) >= MaxErrorGroups-1 {
			c = stats.ErrorKey{Key: stats.Key{Name: stats.OverflowName}, Error: stats.OverflowError}
		}
		out.Errors[c] += n
	}
	for msg, g := range d.Exceptions {
		c := truncate(msg, MaxErrorBytes)
		tb := truncate(g.Traceback, MaxTracebackBytes)
		if _, ok := out.Exceptions[c]; !ok && len(out.Exceptions) >= MaxExceptionGroups-1 {
			c, tb = stats.OverflowException, ""
		}
		cur, ok := out.Exceptions[c]
		if !ok {
			cur.Traceback = tb
		}
		cur.Count += g.Count
		out.Exceptions[c] = cur
	}
	return out
}

func fitKey(k stats.Key) stats.Key {
	return stats.Key{Method: truncate(k.Method, MaxNameBytes), Name: truncate(k.Name, MaxNameBytes)}
}

// truncate makes s valid UTF-8 and at most n bytes, marking a cut with an
// ellipsis.
func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
