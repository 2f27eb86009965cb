package master

import (
	"slices"
	"strings"
)

// roster is the master's index of its workers, kept so that nothing done
// per request, per heartbeat or per dispatch step sorts or scans ten
// thousand workers more than once: the workers sorted by id and the live
// ones' ids are rebuilt only when a worker comes, goes, or goes missing;
// worker indexes are handed out from a free list.
type roster struct {
	byID    []*workerConn // every worker, sorted by id; nil: rebuild
	live    []string      // live workers' ids, sorted; valid when liveOK
	liveOK  bool
	used    []bool // worker indexes in use
	lowFree int    // no index below it is free
}

// changed forgets the sorted lists: a worker joined, left, or its
// liveness changed.
func (r *roster) changed() {
	r.byID, r.live, r.liveOK = nil, nil, false
}

// sorted returns every worker, sorted by id. The slice is shared: do not
// change it.
func (r *roster) sorted(workers map[string]*workerConn) []*workerConn {
	if r.byID == nil {
		r.byID = make([]*workerConn, 0, len(workers))
		for _, w := range workers {
			r.byID = append(r.byID, w)
		}
		slices.SortFunc(r.byID, func(a, b *workerConn) int { return strings.Compare(a.id, b.id) })
	}
	return r.byID
}

// liveIDs returns the ids of the connected, non-missing workers, sorted.
// The slice is shared: do not change it.
func (r *roster) liveIDs(workers map[string]*workerConn) []string {
	if !r.liveOK {
		r.live = r.live[:0]
		for _, w := range r.sorted(workers) {
			if w.box != nil && !w.missing {
				r.live = append(r.live, w.id)
			}
		}
		r.liveOK = true
	}
	return r.live
}

// takeIndex returns the smallest worker index not in use and marks it used.
func (r *roster) takeIndex() int {
	i := r.lowFree
	for i < len(r.used) && r.used[i] {
		i++
	}
	if i == len(r.used) {
		r.used = append(r.used, false)
	}
	r.used[i] = true
	r.lowFree = i + 1
	return i
}

// freeIndex gives an index back.
func (r *roster) freeIndex(i int) {
	if i >= 0 && i < len(r.used) {
		r.used[i] = false
		r.lowFree = min(r.lowFree, i)
	}
}
