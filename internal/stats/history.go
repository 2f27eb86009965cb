package stats

// histPoint is a HistoryPoint with its sequence number (the order it was
// appended in) and its wall-clock second.
type histPoint struct {
	HistoryPoint
	seq, sec int64
}

// history keeps one point per second at most, in bounded memory, covering
// the whole test: the newest points at full resolution in a ring, and the
// points that leave the ring in an archive that thins itself uniformly.
// The archive holds exactly the evicted points whose sequence number is a
// multiple of stride; when it overflows, stride doubles and every other
// point goes. Point 0, the start of the test, is always kept.
type history struct {
	ring       []histPoint // newest points; oldest at head once full
	head       int
	ringCap    int
	archive    []histPoint
	archiveCap int
	stride     int64
	seq        int64
}

func newHistory(ringCap, archiveCap int) history {
	return history{ringCap: max(ringCap, 1), archiveCap: max(archiveCap, 2), stride: 1}
}

// last returns the newest point, or nil.
func (h *history) last() *histPoint {
	if len(h.ring) == 0 {
		return nil
	}
	i := len(h.ring) - 1
	if len(h.ring) == h.ringCap {
		i = (h.head + h.ringCap - 1) % h.ringCap
	}
	return &h.ring[i]
}

// add appends p for wall-clock second sec; a second point in the same
// second replaces the first.
func (h *history) add(sec int64, p HistoryPoint) {
	if l := h.last(); l != nil && l.sec == sec {
		l.HistoryPoint = p
		return
	}
	hp := histPoint{HistoryPoint: p, seq: h.seq, sec: sec}
	h.seq++
	if len(h.ring) < h.ringCap {
		h.ring = append(h.ring, hp)
		return
	}
	old := h.ring[h.head]
	h.ring[h.head] = hp
	h.head = (h.head + 1) % h.ringCap
	h.toArchive(old)
}

func (h *history) toArchive(p histPoint) {
	if p.seq%h.stride != 0 {
		return
	}
	h.archive = append(h.archive, p)
	if len(h.archive) <= h.archiveCap {
		return
	}
	h.stride *= 2
	kept := h.archive[:0]
	for _, q := range h.archive {
		if q.seq%h.stride == 0 {
			kept = append(kept, q)
		}
	}
	clear(h.archive[len(kept):])
	h.archive = kept
}

// len returns the number of points held.
func (h *history) len() int { return len(h.archive) + len(h.ring) }

// points returns a copy of all points, oldest first.
func (h *history) points() []HistoryPoint {
	out := make([]HistoryPoint, 0, h.len())
	for _, p := range h.archive {
		out = append(out, p.HistoryPoint)
	}
	for i := range h.ring {
		out = append(out, h.ring[(h.head+i)%len(h.ring)].HistoryPoint)
	}
	return out
}
